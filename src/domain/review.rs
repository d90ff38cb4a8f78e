//! The post-mortem's own progress, as the seeds' template tracks it: a draft, then in review,
//! then final; set with `/incident postmortem status …`.

/// Where the post-mortem document stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReviewStatus {
    #[default]
    Draft,
    InReview,
    Final,
}

impl ReviewStatus {
    /// How it is stored and typed: `draft`, `in-review`, `final`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Draft => "draft",
            ReviewStatus::InReview => "in-review",
            ReviewStatus::Final => "final",
        }
    }

    /// How people read it: "Draft", "In review", "Final".
    pub fn label(self) -> &'static str {
        match self {
            ReviewStatus::Draft => "Draft",
            ReviewStatus::InReview => "In review",
            ReviewStatus::Final => "Final",
        }
    }

    /// `draft`, `in-review` (`review`, `in_review`, `reviewing`), `final` (`done`, `published`).
    pub fn parse(raw: &str) -> Option<ReviewStatus> {
        match raw
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '_'], "-")
            .as_str()
        {
            "draft" => Some(ReviewStatus::Draft),
            "in-review" | "review" | "reviewing" => Some(ReviewStatus::InReview),
            "final" | "done" | "published" => Some(ReviewStatus::Final),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_statuses_parse_from_what_people_type_and_read_back() {
        assert_eq!(
            ReviewStatus::parse("In-Review"),
            Some(ReviewStatus::InReview)
        );
        assert_eq!(
            ReviewStatus::parse("in review"),
            Some(ReviewStatus::InReview)
        );
        assert_eq!(ReviewStatus::parse("final"), Some(ReviewStatus::Final));
        assert_eq!(ReviewStatus::parse("draft"), Some(ReviewStatus::Draft));
        assert_eq!(ReviewStatus::parse("shipped"), None);
        for s in [
            ReviewStatus::Draft,
            ReviewStatus::InReview,
            ReviewStatus::Final,
        ] {
            assert_eq!(ReviewStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ReviewStatus::InReview.label(), "In review");
    }
}

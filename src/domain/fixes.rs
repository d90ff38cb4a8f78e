//! Attempted fixes: what was tried and whether it worked.

/// How a fix attempt turned out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Unknown,
    Worked,
    Failed,
    Partial,
}

impl Outcome {
    pub const SETTABLE: [Outcome; 3] = [Outcome::Worked, Outcome::Failed, Outcome::Partial];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Unknown => "unknown",
            Outcome::Worked => "worked",
            Outcome::Failed => "failed",
            Outcome::Partial => "partial",
        }
    }

    /// `worked`, `failed`, `partial`, `unknown`, with a few everyday synonyms.
    pub fn parse(raw: &str) -> Option<Outcome> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "worked" | "works" | "fixed" | "success" | "yes" | "ok" => Some(Outcome::Worked),
            "failed" | "fail" | "no" | "didnt" | "didn't" | "nope" => Some(Outcome::Failed),
            "partial" | "partly" | "partially" | "some" => Some(Outcome::Partial),
            "unknown" | "?" => Some(Outcome::Unknown),
            _ => None,
        }
    }

    pub fn emoji(self) -> &'static str {
        match self {
            Outcome::Unknown => ":grey_question:",
            Outcome::Worked => ":white_check_mark:",
            Outcome::Failed => ":x:",
            Outcome::Partial => ":large_yellow_circle:",
        }
    }
}

/// `<what was tried> [-> outcome]`: the text and the outcome, if one was given. An arrow
/// followed by something that is not an outcome is part of the description.
pub fn split_outcome(text: &str) -> (String, Option<Outcome>) {
    for arrow in ["->", "→", "=>"] {
        if let Some((what, outcome)) = text.rsplit_once(arrow) {
            if let Some(o) = Outcome::parse(outcome) {
                return (what.trim().to_string(), Some(o));
            }
        }
    }
    (text.trim().to_string(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_arrow_and_an_outcome_end_the_description() {
        assert_eq!(
            split_outcome("restart the pods -> failed"),
            ("restart the pods".into(), Some(Outcome::Failed))
        );
        assert_eq!(
            split_outcome("roll back v42 → Worked"),
            ("roll back v42".into(), Some(Outcome::Worked))
        );
        assert_eq!(
            split_outcome("scale up => partial"),
            ("scale up".into(), Some(Outcome::Partial))
        );
    }

    #[test]
    fn without_an_outcome_the_whole_text_is_the_description() {
        assert_eq!(
            split_outcome("flip flag a -> b"),
            ("flip flag a -> b".into(), None)
        );
        assert_eq!(
            split_outcome("clear the cache"),
            ("clear the cache".into(), None)
        );
    }
}

//! The executive summary's first paragraph, prefilled from the record for the commander to
//! edit: only what the record holds, never a guess. Every piece arrives as safe Markdown.

/// What the record says, each piece already written as Markdown.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub number: i64,
    pub title: Option<String>,
    pub declared_by: String,
    pub declared_at: String,
    pub severity: Option<String>,
    /// From the start to the first fix marked as working ("25 min").
    pub mitigated_after: Option<String>,
    /// That fix: its number, what was tried, by whom.
    pub worked: Option<(i64, String, String)>,
    /// From the start to resolution.
    pub resolved_after: Option<String>,
    pub people: usize,
    pub open_actions: usize,
}

/// The paragraph: what was declared, when and by whom, how severe, how long until mitigation
/// and resolution, what worked, how many people took part, and what is still open.
pub fn paragraph(f: &Facts) -> String {
    let mut s = format!("Incident #{}", f.number);
    if let Some(title) = &f.title {
        s.push_str(&format!(", \"{title}\","));
    }
    s.push_str(&format!(
        " was declared by {} on {}",
        f.declared_by, f.declared_at
    ));
    if let Some(sev) = &f.severity {
        s.push_str(&format!(" at severity {sev}"));
    }
    s.push('.');
    match (&f.mitigated_after, &f.worked) {
        (Some(after), Some((number, what, who))) => s.push_str(&format!(
            " The impact was mitigated after {after}, when fix #{number} by {who} worked: {what}."
        )),
        _ => s.push_str(" No fix attempt is marked as having worked."),
    }
    match &f.resolved_after {
        Some(after) => s.push_str(&format!(" It was resolved after {after}.")),
        None => s.push_str(" It is not resolved yet."),
    }
    s.push_str(&format!(
        " {} took part",
        crate::domain::words::counted(f.people, "person", "people")
    ));
    s.push_str(&match f.open_actions {
        0 => "; no action item is open.".to_string(),
        1 => "; 1 action item is open.".to_string(),
        n => format!("; {n} action items are open."),
    });
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_tells_what_the_record_holds() {
        let facts = Facts {
            number: 7,
            title: Some("Checkout payments failing".into()),
            declared_by: "alice".into(),
            declared_at: "2026-11-21 14:00 UTC".into(),
            severity: Some("SEV2".into()),
            mitigated_after: Some("25 min".into()),
            worked: Some((2, "roll back v42".into(), "bob".into())),
            resolved_after: Some("1 h 2 min".into()),
            people: 3,
            open_actions: 2,
        };
        assert_eq!(
            paragraph(&facts),
            "Incident #7, \"Checkout payments failing\", was declared by alice on 2026-11-21 14:00 UTC at severity SEV2. The impact was mitigated after 25 min, when fix #2 by bob worked: roll back v42. It was resolved after 1 h 2 min. 3 people took part; 2 action items are open."
        );
    }

    #[test]
    fn the_summary_claims_nothing_the_record_does_not_hold() {
        let facts = Facts {
            number: 8,
            declared_by: "bob".into(),
            declared_at: "2026-11-21 14:00 UTC".into(),
            people: 1,
            ..Facts::default()
        };
        assert_eq!(
            paragraph(&facts),
            "Incident #8 was declared by bob on 2026-11-21 14:00 UTC. No fix attempt is marked as having worked. It is not resolved yet. 1 person took part; no action item is open."
        );
    }
}

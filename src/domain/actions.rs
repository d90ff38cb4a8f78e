//! Action items: what the team will change so that this does not happen again, with an owner
//! and a due date — and a check that flags items too vague to get done.

use chrono::NaiveDate;

use super::UserId;

/// Where an action item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionStatus {
    Open,
    Done,
    WontFix,
}

impl ActionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::Done => "done",
            ActionStatus::WontFix => "won't fix",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::Done => "done",
            ActionStatus::WontFix => "wontfix",
        }
    }

    pub fn from_key(key: &str) -> ActionStatus {
        match key {
            "done" => ActionStatus::Done,
            "wontfix" => ActionStatus::WontFix,
            _ => ActionStatus::Open,
        }
    }

    pub fn is_open(self) -> bool {
        self == ActionStatus::Open
    }
}

/// A new action item as typed: `<text> [<@owner>] [due YYYY-MM-DD]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAction {
    pub text: String,
    pub owner: Option<UserId>,
    pub due: Option<NaiveDate>,
}

/// Parses the text after `/incident action`: `<text> [@owner] [due YYYY-MM-DD]`. The owner and
/// the due date (after `due` or `by`) are read from the end only, in either order, so that a
/// mention or a date within the text stays part of it ("Pair @alice with the DBA @bob": bob
/// owns it).
pub fn parse_new(raw: &str) -> Result<NewAction, String> {
    let mut tokens: Vec<&str> = raw.split_whitespace().collect();
    let (mut owner, mut due) = (None, None);
    loop {
        match tokens.as_slice() {
            [.., word, date]
                if due.is_none()
                    && (word.eq_ignore_ascii_case("due") || word.eq_ignore_ascii_case("by")) =>
            {
                match NaiveDate::parse_from_str(date, "%Y-%m-%d") {
                    Ok(d) => due = Some(d),
                    // "by Friday" may be the item's own words; "due Friday" is a date to fix.
                    Err(_) if word.eq_ignore_ascii_case("due") => {
                        return Err(format!(
                            "`{}` is not a date: write the due date as YYYY-MM-DD, for example `due 2026-12-15`.",
                            super::mrkdwn::safe(date)
                        ))
                    }
                    Err(_) => break,
                }
                tokens.truncate(tokens.len() - 2);
            }
            [.., last] if owner.is_none() && mentioned(last).is_some() => {
                owner = mentioned(last);
                tokens.pop();
            }
            _ => break,
        }
    }
    let text = super::trigger::unescape_mrkdwn(&tokens.join(" "));
    if text.trim().is_empty() {
        return Err("`/incident action` needs what will be done: `/incident action <text> [@owner] [due YYYY-MM-DD]`.".into());
    }
    Ok(NewAction { text, owner, due })
}

/// The person a `<@U123>` or `<@U123|name>` token mentions.
fn mentioned(token: &str) -> Option<UserId> {
    super::mrkdwn::mention(token).map(UserId::new)
}

/// Phrases that mark an action item as too vague to be done, with what to say instead.
const VAGUE: &[(&str, &str)] = &[
    (
        "improve documentation",
        "name the document and what it will say",
    ),
    (
        "update documentation",
        "name the document and what it will say",
    ),
    (
        "better documentation",
        "name the document and what it will say",
    ),
    ("more training", "name who learns what, and how"),
    ("better training", "name who learns what, and how"),
    (
        "be more careful",
        "change the system or process, not people's care",
    ),
    (
        "be careful",
        "change the system or process, not people's care",
    ),
    (
        "pay more attention",
        "change the system or process, not people's attention",
    ),
    (
        "improve monitoring",
        "name the alert or dashboard and its threshold",
    ),
    (
        "better monitoring",
        "name the alert or dashboard and its threshold",
    ),
    (
        "more monitoring",
        "name the alert or dashboard and its threshold",
    ),
    (
        "improve testing",
        "name the test that would have caught this",
    ),
    ("more tests", "name the test that would have caught this"),
    (
        "better testing",
        "name the test that would have caught this",
    ),
    ("communicate better", "name who tells whom what, and when"),
    (
        "improve communication",
        "name who tells whom what, and when",
    ),
    ("look into", "say what will change once it is looked into"),
    (
        "investigate",
        "say what will change once it is investigated",
    ),
    ("think about", "say what will be decided, by when"),
    ("make sure", "say what will enforce it"),
    ("raise awareness", "name the concrete change"),
];

/// Why an action item is weak, if it is: vague wording, no owner, no due date.
pub fn flags(
    text: &str,
    owner: Option<&UserId>,
    due: Option<NaiveDate>,
    today: NaiveDate,
) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut out = Vec::new();
    if let Some((phrase, advice)) = VAGUE.iter().find(|(p, _)| lower.contains(p)) {
        out.push(format!("vague (\"{phrase}\"): {advice}"));
    } else if lower.split_whitespace().count() < 3 {
        out.push("vague: say what will change, in a few more words".into());
    }
    if owner.is_none() {
        out.push("no owner".into());
    }
    match due {
        None => out.push("no due date".into()),
        Some(d) if d < today => out.push(format!("due {d}, which has passed")),
        Some(d) if (d - today).num_days() > 90 => {
            out.push("due in more than 90 days: split it into a short-term step".into())
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn owner_and_due_date_are_read_from_the_text() {
        let a =
            parse_new("Add an alert on checkout 5xx above 2% <@U123|bob> due 2026-12-01").unwrap();
        assert_eq!(a.text, "Add an alert on checkout 5xx above 2%");
        assert_eq!(a.owner, Some(UserId::new("U123")));
        assert_eq!(a.due, Some(day("2026-12-01")));
    }

    #[test]
    fn only_a_trailing_mention_and_date_are_the_owner_and_due_date() {
        let a = parse_new("Pair <@U1|alice> with the DBA <@U2|bob> due 2026-12-01").unwrap();
        assert_eq!(a.text, "Pair <@U1|alice> with the DBA");
        assert_eq!(a.owner, Some(UserId::new("U2")));
        assert_eq!(a.due, Some(day("2026-12-01")));
        let a = parse_new("Alert when certs are due for renewal due 2026-12-01 <@U1>").unwrap();
        assert_eq!(a.text, "Alert when certs are due for renewal");
        assert_eq!(
            (a.owner, a.due),
            (Some(UserId::new("U1")), Some(day("2026-12-01")))
        );
        let a = parse_new("Email customers hit by 2026-11-20 outage").unwrap();
        assert_eq!(a.text, "Email customers hit by 2026-11-20 outage");
        assert_eq!(a.due, None);
        let a = parse_new("Ship the fix by Friday").unwrap();
        assert_eq!((a.text.as_str(), a.due), ("Ship the fix by Friday", None));
    }

    #[test]
    fn a_bad_date_is_quoted_back_without_pinging_anyone() {
        let e = parse_new("fix it due <!here>").unwrap_err();
        assert!(!e.contains("<!"), "{e}");
    }

    #[test]
    fn a_due_date_that_has_passed_is_flagged() {
        let f = flags(
            "Email the customers hit by the outage",
            Some(&UserId::new("U1")),
            Some(day("2026-11-20")),
            day("2026-11-21"),
        );
        assert_eq!(f, ["due 2026-11-20, which has passed"]);
    }

    #[test]
    fn owner_and_date_are_optional() {
        let a = parse_new("Rotate the payment provider cert before expiry").unwrap();
        assert_eq!((a.owner, a.due), (None, None));
    }

    #[test]
    fn a_bad_date_or_no_text_is_explained() {
        assert!(parse_new("Fix it due tomorrow")
            .unwrap_err()
            .contains("YYYY-MM-DD"));
        assert!(parse_new("<@U1> due 2026-12-01")
            .unwrap_err()
            .contains("needs what will be done"));
    }

    #[test]
    fn vague_items_are_flagged_with_advice() {
        let today = day("2026-11-21");
        let f = flags(
            "Improve documentation",
            Some(&UserId::new("U1")),
            Some(day("2026-12-01")),
            today,
        );
        assert_eq!(
            f,
            vec![
                "vague (\"improve documentation\"): name the document and what it will say"
                    .to_string()
            ]
        );
        let f = flags(
            "Everyone should be more careful with deploys",
            None,
            None,
            today,
        );
        assert_eq!(f.len(), 3, "{f:?}");
    }

    #[test]
    fn specific_owned_and_dated_items_are_not_flagged() {
        let today = day("2026-11-21");
        let f = flags(
            "Alert when checkout 5xx exceeds 2% for 5 minutes",
            Some(&UserId::new("U1")),
            Some(day("2026-12-05")),
            today,
        );
        assert!(f.is_empty(), "{f:?}");
        let far = flags(
            "Alert when checkout 5xx exceeds 2% for 5 minutes",
            Some(&UserId::new("U1")),
            Some(day("2027-06-01")),
            today,
        );
        assert_eq!(far.len(), 1);
    }
}

//! Attempted fixes: what was tried and whether it worked, and the phrases in chat that
//! suggest someone tried something.

use chrono::{DateTime, Utc};

use super::UserId;

/// How a fix attempt turned out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Unknown,
    Worked,
    Failed,
    Partial,
}

/// What a timeline line says of a fix's outcome as it was tried: " (failed)", or nothing while
/// it is not known (a later line says how it went, if anyone said).
pub fn tried_outcome(outcome: Outcome) -> String {
    match outcome {
        Outcome::Unknown => String::new(),
        known => format!(" ({})", known.as_str()),
    }
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

/// The reactions that record fixes without a command: one marks a message as a fix attempt,
/// two set its outcome. Names as Slack sends them, without colons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixReactions {
    pub tried: String,
    pub worked: String,
    pub failed: String,
}

impl Default for FixReactions {
    fn default() -> Self {
        FixReactions {
            tried: "wrench".into(),
            worked: "white_check_mark".into(),
            failed: "x".into(),
        }
    }
}

/// What a fix reaction asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixReaction {
    /// Record the message as a fix attempt.
    Tried,
    /// Set (or, removed, unset) the outcome of the fix attempt recorded from the message.
    Outcome(Outcome),
}

impl FixReactions {
    /// What a reaction means, if it is one of these (a skin tone changes nothing).
    pub fn meaning(&self, reaction: &str) -> Option<FixReaction> {
        let name = reaction.split("::").next().unwrap_or(reaction);
        if name == self.tried {
            Some(FixReaction::Tried)
        } else if name == self.worked {
            Some(FixReaction::Outcome(Outcome::Worked))
        } else if name == self.failed {
            Some(FixReaction::Outcome(Outcome::Failed))
        } else {
            None
        }
    }
}

/// Phrases people use when they try a fix or report how one went. Matched as whole words,
/// ignoring case; a message with one is a *possible* fix attempt for people to confirm.
/// Phrases about how a fix went come first: they say more.
pub const FIX_PHRASES: [&str; 24] = [
    "that fixed it",
    "this fixed it",
    "that did the trick",
    "didn't help",
    "did not help",
    "didn't work",
    "did not work",
    "rolling back",
    "rolled back",
    "roll back",
    "rollback",
    "reverting",
    "reverted",
    "restarting",
    "restarted",
    "failing over",
    "failed over",
    "redeploying",
    "redeployed",
    "hotfix",
    "scaling up",
    "scaled up",
    "flushing the cache",
    "cleared the cache",
];

/// The first fix phrase in a message, if any.
pub fn mentioned_fix(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase().replace('’', "'");
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    FIX_PHRASES.into_iter().find(|phrase| {
        lower.match_indices(phrase).any(|(i, p)| {
            !word(lower[..i].chars().next_back()) && !word(lower[i + p.len()..].chars().next())
        })
    })
}

/// A fix someone tried during an incident, and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixAttempt {
    pub number: i64,
    pub description: String,
    pub outcome: Outcome,
    pub tried_by: UserId,
    pub tried_at: DateTime<Utc>,
    pub outcome_at: Option<DateTime<Utc>>,
    /// The message it was recorded from by a reaction.
    pub message_ts: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fix_reactions_mean_tried_worked_and_failed_and_nothing_else() {
        let r = FixReactions::default();
        assert_eq!(r.meaning("wrench"), Some(FixReaction::Tried));
        assert_eq!(
            r.meaning("white_check_mark"),
            Some(FixReaction::Outcome(Outcome::Worked))
        );
        assert_eq!(
            r.meaning("x::skin-tone-2"),
            Some(FixReaction::Outcome(Outcome::Failed))
        );
        assert_eq!(r.meaning("eyes"), None);
    }

    #[test]
    fn chat_that_mentions_trying_a_fix_is_recognised() {
        for (text, phrase) in [
            ("Rolling back to 4511 now", "rolling back"),
            ("ok, reverted the config", "reverted"),
            ("restarting the gateway pods", "restarting"),
            ("Failing over to eu-west", "failing over"),
            ("that fixed it!", "that fixed it"),
            ("restart didn’t help", "didn't help"),
        ] {
            assert_eq!(mentioned_fix(text), Some(phrase), "{text}");
        }
    }

    #[test]
    fn chat_without_a_fix_phrase_or_with_one_inside_a_word_is_not_a_fix() {
        for text in [
            "checking the dashboards",
            "the hotfixes page",
            "unrestarted",
            "",
        ] {
            assert_eq!(mentioned_fix(text), None, "{text}");
        }
    }

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

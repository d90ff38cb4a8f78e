//! The timeline skeleton: the moments that matter stay whole, and the conversation between
//! them is condensed into activity lines ("14:02–14:10 · 37 messages in 3 threads · alice, bob
//! · "first line…""), so that even a 50,000-message incident reads in a few hundred lines.
//! The whole conversation stays in the channel log.

use std::ops::Range;

use chrono::{DateTime, Duration, Utc};

use crate::domain::words::plural;

/// The most activity lines a timeline gets: pauses are lengthened until the conversation fits.
pub const MAX_ACTIVITY_LINES: usize = 150;

/// A pause at least this long starts a new activity line.
const PAUSE_MINUTES: i64 = 20;

/// How many people an activity line names before it counts the rest.
const NAMED_PEOPLE: usize = 4;

/// Splits messages (`times`, in order) into stretches of conversation. A stretch never spans a
/// moment (`moments`, in order; a moment comes before messages of the same instant) and ends
/// at a pause; pauses are lengthened until at most `max` stretches remain or only moments
/// divide them. Linear in the messages for each try, and the tries are few (doubling).
pub fn stretches(
    times: &[DateTime<Utc>],
    moments: &[DateTime<Utc>],
    max: usize,
) -> Vec<Range<usize>> {
    let mut pause = Duration::minutes(PAUSE_MINUTES);
    loop {
        let split = split(times, moments, pause);
        // Beyond ~ a year no pause splits anything any more.
        if split.len() <= max || pause > Duration::days(400) {
            return split;
        }
        pause = pause * 2;
    }
}

fn split(times: &[DateTime<Utc>], moments: &[DateTime<Utc>], pause: Duration) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut next_moment = 0;
    for (i, t) in times.iter().enumerate() {
        let mut moment_between = false;
        while moments.get(next_moment).is_some_and(|m| m <= t) {
            next_moment += 1;
            moment_between = true;
        }
        let paused = i > 0 && *t - times[i - 1] >= pause;
        if i > start && (moment_between || paused) {
            out.push(start..i);
            start = i;
        }
    }
    if start < times.len() {
        out.push(start..times.len());
    }
    out
}

/// One stretch of conversation, its pieces already written as safe Markdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// "14:02", and the end ("14:10", or "Nov 22 09:10" on another day).
    pub from: String,
    pub to: String,
    pub messages: usize,
    /// Threads the stretch's messages belong to.
    pub threads: usize,
    /// Files shared in it.
    pub files: usize,
    /// Who wrote, in order of their first message.
    pub people: Vec<String>,
    /// The first line of its first message from a person, with its context.
    pub quote: Option<String>,
}

impl Activity {
    /// `14:02–14:10 · 37 messages in 3 threads · alice, bob, carol · "first line…"`.
    pub fn line(&self) -> String {
        let mut parts = vec![if self.from == self.to {
            self.from.clone()
        } else {
            format!("{}–{}", self.from, self.to)
        }];
        let messages = plural(self.messages, "message");
        parts.push(match self.threads {
            0 => messages,
            n => format!("{messages} in {}", plural(n, "thread")),
        });
        if self.files > 0 {
            parts.push(format!("{} shared", plural(self.files, "file")));
        }
        if !self.people.is_empty() {
            let named = self.people.len().min(NAMED_PEOPLE);
            let mut who = self.people[..named].join(", ");
            let more = self.people.len() - named;
            if more > 0 {
                who.push_str(&format!(" and {} more", more));
            }
            parts.push(who);
        }
        if let Some(q) = &self.quote {
            parts.push(format!("\"{q}\""));
        }
        parts.join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn t(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 14, 0, 0).unwrap() + Duration::minutes(minute)
    }

    #[test]
    fn a_moment_ends_the_stretch_of_conversation_before_it() {
        let times = [t(0), t(1), t(2), t(3), t(4)];
        assert_eq!(stretches(&times, &[t(2)], 10), vec![0..2, 2..5]);
        assert_eq!(stretches(&times, &[t(-5), t(9)], 10), vec![0..5]);
    }

    #[test]
    fn a_long_pause_starts_a_new_stretch() {
        let times = [t(0), t(5), t(60), t(61)];
        assert_eq!(stretches(&times, &[], 10), vec![0..2, 2..4]);
    }

    #[test]
    fn fifty_thousand_messages_over_two_days_condense_to_a_bounded_timeline() {
        // A message every 3.5 s for two days, with quiet hours and bursts.
        let times: Vec<DateTime<Utc>> = (0..50_000i64)
            .map(|i| t(0) + Duration::milliseconds(i * 3_500) + Duration::hours(i / 2_000))
            .collect();
        let moments: Vec<DateTime<Utc>> = (0..40).map(|i| t(i * 90)).collect();
        let s = stretches(&times, &moments, MAX_ACTIVITY_LINES);
        assert!(s.len() <= MAX_ACTIVITY_LINES + moments.len(), "{}", s.len());
        assert!(s.len() >= moments.len() / 2, "{}", s.len());
        assert_eq!(s.iter().map(|r| r.len()).sum::<usize>(), times.len());
    }

    #[test]
    fn an_activity_line_says_when_how_much_who_and_what() {
        let a = Activity {
            from: "14:02".into(),
            to: "14:10".into(),
            messages: 37,
            threads: 3,
            files: 0,
            people: ["alice", "bob", "carol", "dave", "erin", "frank"]
                .map(String::from)
                .to_vec(),
            quote: Some("deploy 4512 touched the gateway client timeouts".into()),
        };
        assert_eq!(
            a.line(),
            "14:02–14:10 · 37 messages in 3 threads · alice, bob, carol, dave and 2 more · \"deploy 4512 touched the gateway client timeouts\""
        );
        let one = Activity {
            from: "14:02".into(),
            to: "14:02".into(),
            messages: 1,
            threads: 0,
            files: 2,
            people: vec!["alice".into()],
            quote: None,
        };
        assert_eq!(one.line(), "14:02 · 1 message · 2 files shared · alice");
    }
}

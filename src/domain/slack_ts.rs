//! Slack's message timestamps (`"1610261539.000900"`): a message's ID within its channel and
//! the time it was posted, in seconds and microseconds since the epoch.

use chrono::{DateTime, Utc};

/// A well-formed Slack `ts`, kept as Slack wrote it (it is an ID: never reformatted).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlackTs(String);

impl SlackTs {
    /// Accepts digits, optionally followed by a dot and up to six digits of microseconds.
    pub fn parse(ts: &str) -> Option<SlackTs> {
        to_time(ts).map(|_| SlackTs(ts.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// When the message was posted.
    pub fn time(&self) -> DateTime<Utc> {
        to_time(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Display for SlackTs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Slack `ts` as a time, if it is one.
pub fn to_time(ts: &str) -> Option<DateTime<Utc>> {
    let (secs, frac) = ts.split_once('.').unwrap_or((ts, "0"));
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = secs.parse().ok()?;
    let micros: u32 = format!("{frac:0<6}").parse().ok()?;
    DateTime::from_timestamp(secs, micros * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_timestamps_become_times() {
        let t = to_time("1610261539.000900").unwrap();
        assert_eq!(t.timestamp(), 1_610_261_539);
        assert_eq!(t.timestamp_subsec_micros(), 900);
        assert_eq!(to_time("1610261539").unwrap().timestamp(), 1_610_261_539);
    }

    #[test]
    fn text_that_is_not_a_timestamp_is_refused() {
        for bad in ["nonsense", "", ".5", "12.3456789", "-1.000001", "1.2e3"] {
            assert!(SlackTs::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(
            SlackTs::parse("1610261539.000900").unwrap().as_str(),
            "1610261539.000900"
        );
    }
}

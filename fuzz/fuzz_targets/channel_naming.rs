//! Fuzz target: incident channel names (`ChannelName::for_incident`, `slugify`), asserting what
//! `src/domain/channel_name.rs` promises: at most 80 bytes, only `a-z0-9-_`, no `--`, no
//! trailing `-`, and the collision suffix kept.
//!
//! Input layout: 3 bytes day (from 0001-01-01, wrapped to years 1..=9999, as a clock gives),
//! 1 byte attempt selector, 2 bytes incident number, 1 byte prefix selector, then the title as
//! UTF-8 (lossy). Titles are what people type, so they may be anything.
#![no_main]

use chrono::NaiveDate;
use hereby::domain::channel_name::{slugify, ChannelName, ChannelPrefix, MAX_CHANNEL_NAME_LEN};
use libfuzzer_sys::fuzz_target;

fn slack_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 7 {
        return;
    }
    let first = NaiveDate::from_ymd_opt(1, 1, 1).unwrap();
    let last = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();
    let span = (last - first).num_days() as u32 + 1;
    let day = u32::from_le_bytes([data[0], data[1], data[2], 0]) % span;
    let date = first + chrono::Days::new(day as u64);
    // Mostly small attempts (the caller counts up from 1), sometimes huge ones.
    let attempt = match data[3] {
        b @ 0..=239 => u32::from(b),
        b => u32::MAX - u32::from(b - 240),
    };
    // Incident numbers start at 1 and only grow.
    let number = i64::from(u16::from_le_bytes([data[4], data[5]])) + 1;
    let prefix = match data[6] % 4 {
        0 | 1 => ChannelPrefix::default(),
        2 => ChannelPrefix::parse("inc").unwrap(),
        _ => ChannelPrefix::parse("sec_ops-incident-response-team-emea_2026").unwrap(),
    };
    let title = String::from_utf8_lossy(&data[7..]);

    let slug = slugify(&title);
    assert!(
        slug.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
        "slug {slug:?}"
    );
    assert!(!slug.contains("--"), "slug {slug:?}");
    assert!(
        !slug.starts_with('-') && !slug.ends_with('-'),
        "slug {slug:?}"
    );

    for title in [Some(title.as_ref()), None] {
        let name = ChannelName::for_incident(&prefix, date, title, number, attempt);
        let n = name.as_str();
        assert!(n.len() <= MAX_CHANNEL_NAME_LEN, "{n} is {} bytes", n.len());
        assert!(n.chars().all(slack_char), "{n}");
        assert!(!n.contains("--"), "{n}");
        assert!(!n.ends_with('-'), "{n}");
        let head = format!("{}-{}", prefix.as_str(), date.format("%Y-%m-%d"));
        assert!(n.starts_with(&head), "{n} does not start with {head}");
        if attempt > 1 {
            assert!(
                n.ends_with(&format!("-{attempt}")),
                "{n} lost attempt {attempt}"
            );
        }
    }
});

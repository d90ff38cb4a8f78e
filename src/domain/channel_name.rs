//! Incident channel names: `<prefix>-YYYY-MM-DD-<slug>`, as Slack accepts them.
//!
//! Slack channel names are lowercase, use only `a-z`, `0-9`, `-` and `_`, and are at most
//! 80 characters. The slug is the title transliterated to ASCII (`Café` → `cafe`), with emoji
//! dropped and every run of other characters folded into one dash, cut at a word boundary so
//! that the whole name (with any collision suffix) still fits.

use chrono::NaiveDate;

/// Slack's limit on a channel name, in characters.
pub const MAX_CHANNEL_NAME_LEN: usize = 80;

/// A channel name that Slack will accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelName(String);

impl ChannelName {
    /// The name for an incident channel.
    ///
    /// `attempt` is 1 for the first try; Slack answers `name_taken` when the name exists, and the
    /// caller tries again with 2, 3, … which appends `-2`, `-3`, … (still within 80 characters).
    /// An incident without a title is named after its number (`incident-2026-11-21-no-12`).
    pub fn for_incident(
        prefix: &ChannelPrefix,
        date: NaiveDate,
        title: Option<&str>,
        number: i64,
        attempt: u32,
    ) -> ChannelName {
        let base = format!("{}-{}", prefix.as_str(), date.format("%Y-%m-%d"));
        let suffix = if attempt > 1 {
            format!("-{attempt}")
        } else {
            String::new()
        };
        let fallback = format!("no-{number}");
        let slug = title.map(slugify).filter(|s| !s.is_empty());
        let slug = slug.as_deref().unwrap_or(&fallback);
        let room = MAX_CHANNEL_NAME_LEN.saturating_sub(base.len() + 1 + suffix.len());
        let slug = cut_at_word_boundary(slug, room);
        let name = if slug.is_empty() {
            format!("{base}{suffix}")
        } else {
            format!("{base}-{slug}{suffix}")
        };
        ChannelName(name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ChannelName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The configured first part of every incident channel name (`incident` by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelPrefix(String);

impl ChannelPrefix {
    /// Accepts what Slack accepts at the start of a channel name, leaving room for the date and a
    /// meaningful slug (at most 40 characters).
    pub fn parse(raw: &str) -> Result<ChannelPrefix, String> {
        let valid = !raw.is_empty()
            && raw.len() <= 40
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            && !raw.starts_with('-')
            && !raw.ends_with('-')
            && !raw.contains("--");
        if valid {
            Ok(ChannelPrefix(raw.to_string()))
        } else {
            Err(format!(
                "'{raw}' cannot start a Slack channel name: use 1 to 40 characters from a-z, 0-9, '-' and '_', not starting or ending with '-' and without '--' (for example 'incident' or 'inc')"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for ChannelPrefix {
    fn default() -> Self {
        ChannelPrefix("incident".to_string())
    }
}

/// Lowercase ASCII `a-z0-9` words joined by single dashes.
pub fn slugify(title: &str) -> String {
    let mut slug = String::with_capacity(title.len());
    let mut pending_dash = false;
    for c in title.chars() {
        // Emoji and other pictographs transliterate to words (":coffee:" → "coffee"), which
        // would put noise in a channel name, so they are dropped before transliteration.
        if is_pictograph(c) {
            pending_dash = true;
            continue;
        }
        let ascii = if c.is_ascii() {
            c.to_string()
        } else {
            deunicode::deunicode_char(c).unwrap_or("").to_string()
        };
        for a in ascii.chars() {
            if a.is_ascii_alphanumeric() {
                if pending_dash && !slug.is_empty() {
                    slug.push('-');
                }
                pending_dash = false;
                slug.push(a.to_ascii_lowercase());
            } else if a == '\'' {
                // "Can't" reads better as "cant" than "can-t".
            } else {
                pending_dash = true;
            }
        }
    }
    slug
}

fn is_pictograph(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF   // emoji, symbols and pictographs, flags
        | 0x2600..=0x27BF   // miscellaneous symbols, dingbats
        | 0x2B00..=0x2BFF   // arrows and stars used as emoji
        | 0xFE00..=0xFE0F   // variation selectors
        | 0x200D            // zero-width joiner
        | 0xE0000..=0xE007F // tags
    )
}

/// The longest prefix of `slug` of at most `max` bytes that ends at a word (dash) boundary. A
/// single word longer than `max` is cut hard rather than dropped.
fn cut_at_word_boundary(slug: &str, max: usize) -> &str {
    if slug.len() <= max {
        return slug;
    }
    let head = &slug[..max];
    if slug.as_bytes()[max] == b'-' {
        return head;
    }
    match head.rfind('-') {
        Some(0) | None => head.trim_end_matches('-'),
        Some(i) => &head[..i],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    fn name(title: &str, attempt: u32) -> String {
        ChannelName::for_incident(&ChannelPrefix::default(), date(), Some(title), 7, attempt)
            .as_str()
            .to_string()
    }

    #[test]
    fn a_title_becomes_a_dated_slug() {
        assert_eq!(
            name("Checkout payments failing", 1),
            "incident-2026-11-21-checkout-payments-failing"
        );
    }

    #[test]
    fn accents_are_transliterated_and_emoji_dropped() {
        assert_eq!(name("Café down ☕🔥", 1), "incident-2026-11-21-cafe-down");
        assert_eq!(
            name("🔥🔥 Straße — Zürich!!", 1),
            "incident-2026-11-21-strasse-zurich"
        );
    }

    #[test]
    fn punctuation_collapses_to_single_dashes() {
        assert_eq!(
            name("  API: 5xx -- on /v2/orders?? ", 1),
            "incident-2026-11-21-api-5xx-on-v2-orders"
        );
        assert_eq!(name("Can't log in", 1), "incident-2026-11-21-cant-log-in");
    }

    #[test]
    fn non_latin_scripts_are_transliterated() {
        assert_eq!(
            name("Москва недоступна", 1),
            "incident-2026-11-21-moskva-nedostupna"
        );
    }

    #[test]
    fn long_titles_are_cut_at_a_word_boundary_within_80_characters() {
        let title = "the payment service returns errors for every customer in europe and asia since the deploy of version forty two";
        let n = name(title, 1);
        assert!(n.len() <= MAX_CHANNEL_NAME_LEN, "{n} is {} long", n.len());
        assert!(n.starts_with("incident-2026-11-21-the-payment-service"));
        assert!(!n.ends_with('-'));
        let slug = n.trim_start_matches("incident-2026-11-21-");
        assert!(
            slugify(title).starts_with(&format!("{slug}-")),
            "{slug} is not cut at a word"
        );
    }

    #[test]
    fn a_200_character_title_with_collision_suffix_still_fits() {
        let title = "x".repeat(5) + " " + &"word ".repeat(40);
        for attempt in [1, 2, 10, 100] {
            let n = name(&title, attempt);
            assert!(n.len() <= MAX_CHANNEL_NAME_LEN, "{n}");
            if attempt > 1 {
                assert!(n.ends_with(&format!("-{attempt}")), "{n}");
            }
        }
    }

    #[test]
    fn a_single_huge_word_is_cut_hard() {
        let n = name(&"a".repeat(200), 1);
        assert_eq!(n.len(), MAX_CHANNEL_NAME_LEN);
    }

    #[test]
    fn collisions_get_numbered_suffixes() {
        assert_eq!(name("db down", 2), "incident-2026-11-21-db-down-2");
        assert_eq!(name("db down", 3), "incident-2026-11-21-db-down-3");
    }

    #[test]
    fn a_missing_or_unsluggable_title_uses_the_incident_number() {
        let p = ChannelPrefix::default();
        assert_eq!(
            ChannelName::for_incident(&p, date(), None, 12, 1).as_str(),
            "incident-2026-11-21-no-12"
        );
        assert_eq!(
            ChannelName::for_incident(&p, date(), Some("🔥🔥🔥"), 12, 1).as_str(),
            "incident-2026-11-21-no-12"
        );
    }

    #[test]
    fn every_name_uses_only_slack_characters() {
        for title in [
            "ÅÄÖ",
            "日本語のタイトル",
            "a_b",
            "tab\there",
            "\u{0}\u{7}ctl",
            "👩‍👩‍👧 family",
        ] {
            let n = name(title, 1);
            assert!(
                n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'),
                "{n}"
            );
            assert!(!n.contains("--"), "{n}");
        }
    }

    #[test]
    fn prefixes_are_validated() {
        assert!(ChannelPrefix::parse("inc").is_ok());
        assert!(ChannelPrefix::parse("Incident").is_err());
        assert!(ChannelPrefix::parse("").is_err());
        assert!(ChannelPrefix::parse("has space").is_err());
        assert!(
            ChannelPrefix::parse("a--b").is_err(),
            "a double dash would be in every name"
        );
    }
}

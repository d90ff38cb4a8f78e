//! Slack's emoji shortcodes (`:tada:`, `:man-shrugging:`) as the emoji they stand for, from the
//! `emojis` crate's table (GitHub's gemoji names, which Slack's standard set follows). Custom
//! emoji have no standard picture and stay `:name:`.

/// Replaces every standard shortcode in `text` with its emoji; a skin tone written after one
/// (`:wave::skin-tone-3:`) is applied when the emoji has tones, else dropped.
pub fn shortcodes(text: &str) -> String {
    if !text.contains(':') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut last: Option<&'static emojis::Emoji> = None;
    while let Some(start) = rest.find(':') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let name = after
            .find(':')
            .map(|end| &after[..end])
            .filter(|n| is_name(n));
        match name.and_then(|n| lookup(n, last)) {
            Some(Found::Emoji(e)) => {
                out.push_str(e.as_str());
                last = Some(e);
            }
            Some(Found::Tone(toned)) => {
                if let Some(prev) = last {
                    out.truncate(out.len() - prev.as_str().len());
                }
                out.push_str(toned.as_str());
                last = None;
            }
            None => {
                out.push(':');
                rest = after;
                last = None;
                continue;
            }
        }
        rest = &after[name.map_or(0, str::len) + 1..];
    }
    out.push_str(rest);
    out
}

enum Found {
    Emoji(&'static emojis::Emoji),
    /// A skin tone for the emoji just written: that emoji toned (or as it was, if it has none).
    Tone(&'static emojis::Emoji),
}

fn lookup(name: &str, last: Option<&'static emojis::Emoji>) -> Option<Found> {
    if let Some(n) = name.strip_prefix("skin-tone-") {
        let prev = last?;
        let tone = match n {
            "2" => emojis::SkinTone::Light,
            "3" => emojis::SkinTone::MediumLight,
            "4" => emojis::SkinTone::Medium,
            "5" => emojis::SkinTone::MediumDark,
            "6" => emojis::SkinTone::Dark,
            _ => return None,
        };
        return Some(Found::Tone(prev.with_skin_tone(tone).unwrap_or(prev)));
    }
    emojis::get_by_shortcode(name)
        .or_else(|| emojis::get_by_shortcode(&name.replace('-', "_")))
        .map(Found::Emoji)
}

/// Shortcodes are short runs of lowercase letters, digits, `_`, `-`, `+` and `'`.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-+'".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_shortcodes_become_emoji() {
        assert_eq!(shortcodes(":tada: shipped :+1:"), "🎉 shipped 👍");
        assert_eq!(shortcodes(":man-shrugging:"), "🤷\u{200d}♂\u{fe0f}");
    }

    #[test]
    fn custom_emoji_and_times_stay_as_typed() {
        assert_eq!(
            shortcodes(":partyparrot: at 14:02:05 on a:b"),
            ":partyparrot: at 14:02:05 on a:b"
        );
        assert_eq!(shortcodes("::: :"), "::: :");
    }

    #[test]
    fn a_skin_tone_after_an_emoji_tones_it() {
        assert_eq!(shortcodes(":wave::skin-tone-3:"), "👋🏼");
        assert_eq!(shortcodes(":skin-tone-3:"), ":skin-tone-3:");
    }
}

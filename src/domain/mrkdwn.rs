//! Slack mrkdwn both ways: what people typed made safe for hereby to post ([`safe`], [`plain`],
//! [`cut`]), and mrkdwn turned into Markdown for text that leaves Slack (the post-mortem draft):
//! mentions become names, `<url|label>` becomes `[label](url)`, and Slack's escapes are undone.

use std::collections::HashMap;

/// Converts mrkdwn to safe Markdown (see [`super::markdown`]); `names` maps user IDs to the
/// names to show.
pub fn to_markdown(text: &str, names: &HashMap<String, String>) -> String {
    use super::markdown::{inline, lines, link};
    let plain = |s: &str| inline(&super::trigger::unescape_mrkdwn(s));
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&plain(&rest[..start]));
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else {
            out.push_str(&plain(&rest[start..]));
            return lines(&out);
        };
        let inner = &after[..end];
        let (target, label) = match inner.split_once('|') {
            Some((t, l)) => (t, Some(l)),
            None => (inner, None),
        };
        let label = label.map(super::trigger::unescape_mrkdwn);
        if let Some(user) = target.strip_prefix('@') {
            out.push('@');
            out.push_str(&inline(&name(user, label.as_deref(), names)));
        } else if let Some(channel) = target.strip_prefix('#') {
            out.push('#');
            out.push_str(&inline(label.as_deref().unwrap_or(channel)));
        } else if let Some(special) = target.strip_prefix('!') {
            out.push('@');
            out.push_str(&inline(special.split('^').next().unwrap_or(special)));
        } else {
            let url = super::trigger::unescape_mrkdwn(target);
            // A label that reads as another address shows the real one instead.
            let shown = label.as_deref().filter(|l| !disguises(l, target));
            out.push_str(&link(shown.unwrap_or(&url), &url));
        }
        rest = &after[end + 1..];
    }
    out.push_str(&plain(rest));
    lines(&out)
}

/// The name to show for a user: their cached name, the label Slack sent, or the ID.
pub fn name(user: &str, label: Option<&str>, names: &HashMap<String, String>) -> String {
    names
        .get(user)
        .cloned()
        .or_else(|| label.map(str::to_string))
        .unwrap_or_else(|| user.to_string())
}

/// Text people typed, as Slack sends it (mrkdwn: `&lt;` for `<`, `<@U1>` for a mention), made
/// safe for hereby to post as its own: special mentions (`<!channel>`, `<!here>`,
/// `<!everyone>`, `<!subteam^…>`) become plain words that ping nobody, user and channel
/// mentions stay, a link whose label is another address shows its real target, stray `<`, `>`
/// and `&` are escaped, and bidi controls and zero-width characters are shown, not obeyed.
pub fn safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(['<', '>', '&']) {
        push_text(&mut out, &rest[..start]);
        let tail = &rest[start..];
        if let Some(after) = tail.strip_prefix('<') {
            match after.find(['>', '<']) {
                Some(end) if after.as_bytes()[end] == b'>' => {
                    safe_token(&mut out, &after[..end]);
                    rest = &after[end + 1..];
                }
                _ => {
                    out.push_str("&lt;");
                    rest = after;
                }
            }
        } else if let Some(after) = tail.strip_prefix('>') {
            out.push_str("&gt;");
            rest = after;
        } else {
            let len = entity_len(tail).unwrap_or(0);
            out.push_str(if len > 0 { &tail[..len] } else { "&amp;" });
            rest = &tail[len.max(1)..];
        }
    }
    push_text(&mut out, rest);
    out
}

/// Plain text people typed (a title, an update), escaped and made safe as [`safe`] does.
pub fn plain(text: &str) -> String {
    safe(
        &text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;"),
    )
}

/// The length of the entity `&amp;`, `&lt;` or `&gt;` that `text` starts with.
fn entity_len(text: &str) -> Option<usize> {
    ["&amp;", "&lt;", "&gt;"]
        .iter()
        .find(|e| text.starts_with(**e))
        .map(|e| e.len())
}

fn push_text(out: &mut String, text: &str) {
    out.push_str(&shown(text));
}

/// Writes one `<…>` sequence (its inside given) the safe way.
fn safe_token(out: &mut String, inner: &str) {
    let (target, label) = match inner.split_once('|') {
        Some((t, l)) => (t, Some(l)),
        None => (inner, None),
    };
    let label_text = |out: &mut String, l: &str| push_text(out, &l.replace('<', "&lt;"));
    if let Some(id) = target.strip_prefix('@').filter(|id| is_id(id)) {
        out.push_str(&format!("<@{id}>"));
    } else if let Some(id) = target.strip_prefix('#').filter(|id| is_id(id)) {
        out.push_str(&format!("<#{id}>"));
    } else if let Some(special) = target.strip_prefix('!') {
        // `<!date^…|fallback>` and `<!subteam^S1|@team>` show their label; the rest a word.
        match label.filter(|l| !l.trim().is_empty()) {
            Some(l) if special.starts_with("subteam") && !l.starts_with('@') => {
                out.push('@');
                label_text(out, l);
            }
            Some(l) => label_text(out, l),
            None => {
                out.push('@');
                label_text(out, special.split('^').next().unwrap_or(special));
            }
        }
    } else if is_url(target) {
        match label {
            Some(l) if !l.is_empty() && !disguises(l, target) => {
                out.push('<');
                out.push_str(target);
                out.push('|');
                label_text(out, l);
                out.push('>');
            }
            _ => {
                out.push('<');
                out.push_str(target);
                out.push('>');
            }
        }
    } else {
        out.push_str("&lt;");
        label_text(out, inner);
        out.push_str("&gt;");
    }
}

/// Slack's IDs: letters and digits.
fn is_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric())
}

/// A link target Slack would follow: a scheme, then no spaces or invisible characters.
fn is_url(s: &str) -> bool {
    let scheme = s.split(':').next().unwrap_or("");
    s.len() > scheme.len() + 1
        && !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        && !s.chars().any(|c| c.is_whitespace() || invisible(c))
}

/// Does a link's label read as an address other than the one it opens?
fn disguises(label: &str, target: &str) -> bool {
    let norm = |s: &str| {
        let s = s.trim().to_lowercase();
        let s = ["https://", "http://", "mailto:"]
            .iter()
            .fold(s, |s, p| s.strip_prefix(p).map(str::to_string).unwrap_or(s));
        let s = s.strip_prefix("www.").map(str::to_string).unwrap_or(s);
        s.trim_end_matches('/').to_string()
    };
    looks_like_address(label) && norm(label) != norm(&super::trigger::unescape_mrkdwn(target))
}

/// "https://bank.example", "bank.example/login", "www.x.com": something a reader takes for an
/// address. "v1.2" and "see the graph" are not.
fn looks_like_address(label: &str) -> bool {
    let l = label.trim().to_lowercase();
    if l.contains("://") || l.starts_with("mailto:") || l.starts_with("www.") {
        return true;
    }
    if l.chars().any(char::is_whitespace) {
        return false;
    }
    let host = l.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or(host);
    let labels: Vec<&str> = host.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == ':')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(char::is_alphabetic))
}

/// Characters that reorder or hide text: bidi controls and zero-width characters.
pub fn invisible(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{180E}' | '\u{00AD}' | '\u{034F}')
}

/// Bidi controls and zero-width characters written out as `[U+202E]`, so that they are shown
/// instead of obeyed. A zero-width joiner between two emoji (👩‍💻) is kept: it is how
/// such emoji are written.
pub fn shown(text: &str) -> String {
    if !text.chars().any(invisible) {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let emoji = |c: Option<&char>| {
        c.is_some_and(|c| *c as u32 >= 0x1F000 || ('\u{2600}'..='\u{27BF}').contains(c))
    };
    let mut out = String::with_capacity(text.len() + 8);
    for (i, c) in chars.iter().enumerate() {
        let joins_emoji =
            *c == '\u{200D}' && i > 0 && emoji(chars.get(i - 1)) && emoji(chars.get(i + 1));
        if invisible(*c) && !joins_emoji {
            out.push_str(&format!("[U+{:04X}]", *c as u32));
        } else {
            out.push(*c);
        }
    }
    out
}

/// Cuts mrkdwn to at most `max` characters (an ellipsis included) between tokens: never inside
/// a `<…>` mention or link, nor an `&amp;`-style entity.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let budget = max.saturating_sub(1);
    let mut used = 0;
    let mut end = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let len = token_len(rest);
        let chars = rest[..len].chars().count();
        if used + chars > budget {
            break;
        }
        used += chars;
        end += len;
        rest = &rest[len..];
    }
    format!("{}…", &text[..end])
}

/// The byte length of the token `text` starts with: a whole `<…>`, an entity, or one character.
fn token_len(text: &str) -> usize {
    if text.starts_with('<') {
        if let Some(end) = text.find('>') {
            if !text[1..end].contains('<') {
                return end + 1;
            }
        }
    }
    if let Some(len) = entity_len(text) {
        return len;
    }
    text.chars().next().map_or(0, char::len_utf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_links_and_escapes_become_markdown() {
        let names: HashMap<String, String> = [("U1".to_string(), "alice".to_string())].into();
        assert_eq!(
            to_markdown("<@U1> see <https://x.example.com/?a=1&amp;b=2|the graph> in <#C9|ops> &lt;3 <!here> <@U2|bob> <https://y.example.com> <javascript:alert(1)|x>", &names),
            "@alice see [the graph](https://x.example.com/?a=1&b=2) in #ops &lt;3 @here @bob [https://y.example.com](https://y.example.com) x (javascript:alert(1))"
        );
    }

    #[test]
    fn an_unclosed_bracket_is_kept_as_text() {
        assert_eq!(to_markdown("a <b", &HashMap::new()), "a &lt;b");
    }

    #[test]
    fn special_mentions_ping_nobody_when_hereby_repeats_them() {
        let out = safe(
            "<!channel> <!here> <!everyone> <!here|here> <!subteam^S1|@oncall> <!subteam^S2> hi",
        );
        assert!(!out.contains("<!"), "{out}");
        assert_eq!(out, "@channel @here @everyone here @oncall @subteam hi");
    }

    #[test]
    fn user_and_channel_mentions_stay_mentions() {
        assert_eq!(
            safe("ask <@U123|alice> in <#C9|ops>"),
            "ask <@U123> in <#C9>"
        );
    }

    #[test]
    fn a_link_labelled_with_another_address_shows_its_real_target() {
        assert_eq!(
            safe("pay at <https://evil.example|https://bank.example>"),
            "pay at <https://evil.example>"
        );
        assert_eq!(
            safe("<https://evil.example/login|bank.example>"),
            "<https://evil.example/login>"
        );
        assert_eq!(
            safe("<https://grafana.example/d/1|the graph> <https://x.example/|x.example> <mailto:a@b.example|a@b.example>"),
            "<https://grafana.example/d/1|the graph> <https://x.example/|x.example> <mailto:a@b.example|a@b.example>"
        );
    }

    #[test]
    fn stray_brackets_and_ampersands_are_escaped_and_entities_kept() {
        assert_eq!(safe("a > b & c &lt;3 <b"), "a &gt; b &amp; c &lt;3 &lt;b");
        assert_eq!(safe("<not a link>"), "&lt;not a link&gt;");
        assert_eq!(plain("<!channel> & co"), "&lt;!channel&gt; &amp; co");
    }

    #[test]
    fn bidi_controls_and_zero_width_characters_are_shown_not_obeyed() {
        assert_eq!(
            safe("evil\u{202E}txt.exe\u{200B}"),
            "evil[U+202E]txt.exe[U+200B]"
        );
        assert_eq!(plain("\u{2066}x"), "[U+2066]x");
        assert_eq!(shown("👩\u{200D}💻"), "👩\u{200D}💻");
    }

    #[test]
    fn a_cut_never_splits_a_mention_a_link_or_an_entity() {
        let text = "ab <@U12345> &amp; <https://x.example|graph>";
        for max in 1..text.chars().count() {
            let out = cut(text, max);
            assert!(out.chars().count() <= max, "{max}: {out}");
            let kept = out.trim_end_matches('…');
            assert!(text.starts_with(kept), "{max}: {out}");
            assert_eq!(
                kept.matches('<').count(),
                kept.matches('>').count(),
                "{max}: {out}"
            );
            assert!(
                !kept.ends_with('&') && !kept.ends_with("&am"),
                "{max}: {out}"
            );
            for partial in ["&a", "&am", "&amp"] {
                assert!(!kept.ends_with(partial), "{max}: {out}");
            }
        }
        assert_eq!(cut("short", 250), "short");
    }
}

//! Slack mrkdwn both ways: what people typed made safe for hereby to post ([`safe`], [`plain`],
//! [`cut`]), and mrkdwn turned into Markdown for text that leaves Slack (the post-mortem draft):
//! mentions become names, `<url|label>` becomes `[label](url)`, and Slack's escapes are undone.

pub use super::invisible::{invisible, shown};
use std::collections::HashMap;

/// Undoes the three escapes Slack applies to message text.
pub fn unescape_mrkdwn(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Whether `id` has the shape of a Slack user ID (`U…` or `W…`, capitals and digits).
pub fn is_user_id(id: &str) -> bool {
    id.len() >= 2
        && (id.starts_with('U') || id.starts_with('W'))
        && id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// The user a token is a mention of (`<@U1>`, `<@U1|ann>`), if it is one.
pub fn mention(token: &str) -> Option<&str> {
    let inner = token.strip_prefix("<@")?.strip_suffix('>')?;
    let id = inner.split('|').next().unwrap_or(inner);
    is_user_id(id).then_some(id)
}

/// The users a text mentions (`<@U1>`, `<@U1|ann>`), each once, in order.
pub fn mentioned_users(text: &str) -> Vec<&str> {
    let mut users: Vec<&str> = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("<@") {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        if let Some(user) = mention(&rest[open..open + close + 1]) {
            if !users.contains(&user) {
                users.push(user);
            }
        }
        rest = &rest[open + close + 1..];
    }
    users
}

/// Slack's message markup as plain text: `<@U1|ann>` → `@ann`, `<#C1|ops>` → `#ops`,
/// `<https://x|label>` → `label`, `<https://x>` → `https://x`, and `&lt;` `&gt;` `&amp;` decoded.
pub fn to_plain(text: &str, names: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let inner = &rest[open + 1..open + close];
        let (target, label) = match inner.split_once('|') {
            Some((t, l)) => (t, Some(l)),
            None => (inner, None),
        };
        if let Some(user) = target.strip_prefix('@') {
            out.push('@');
            out.push_str(&name(user, label, names));
        } else if let Some(channel) = target.strip_prefix('#') {
            out.push('#');
            out.push_str(label.unwrap_or(channel));
        } else if let Some(special) = target.strip_prefix('!') {
            out.push('@');
            out.push_str(label.unwrap_or(special));
        } else {
            out.push_str(label.unwrap_or(target));
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    unescape_mrkdwn(&out)
}

/// Converts mrkdwn to safe Markdown (see [`super::markdown`]); `names` maps user IDs to the
/// names to show. Standard emoji shortcodes become emoji; Slack code (```` ```…``` ```` and
/// `` `…` ``) becomes Markdown code spans, one per line, whose text is left as typed: no
/// links, no emoji.
pub fn to_markdown(text: &str, names: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    for (is_code, piece) in code_pieces(text) {
        if is_code {
            out.push_str(&code_markdown(piece, names));
        } else {
            out.push_str(&prose_markdown(piece, names));
        }
    }
    super::markdown::lines(&out)
}

/// Splits mrkdwn into prose and code: ```` ```…``` ```` (over lines) and `` `…` `` (within one
/// line). A fence without its closing one is prose.
pub(crate) fn code_pieces(text: &str) -> Vec<(bool, &str)> {
    let mut out = Vec::new();
    let mut prose_from = 0;
    let mut at = 0;
    while let Some(found) = text[at..].find('`') {
        let start = at + found;
        let fence = if text[start..].starts_with("```") {
            3
        } else {
            1
        };
        let body_from = start + fence;
        let close = if fence == 3 {
            text[body_from..].find("```")
        } else {
            text[body_from..]
                .find(['`', '\n'])
                .filter(|&e| e > 0 && text[body_from + e..].starts_with('`'))
        };
        match close {
            Some(len) => {
                out.push((false, &text[prose_from..start]));
                out.push((true, &text[body_from..body_from + len]));
                at = body_from + len + fence;
                prose_from = at;
            }
            None => at = body_from,
        }
    }
    out.push((false, &text[prose_from..]));
    out
}

/// Code as typed: mentions as names, links as the text Slack showed, entities undone; each
/// line a code span, or escaped text when a span could not hold it safely.
fn code_markdown(code: &str, names: &HashMap<String, String>) -> String {
    let mut plain = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(start) = rest.find('<') {
        plain.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('>').filter(|&e| !after[..e].contains('<')) else {
            plain.push('<');
            rest = after;
            continue;
        };
        let inner = &after[..end];
        let (target, label) = inner.split_once('|').unwrap_or((inner, ""));
        if let Some(user) = target.strip_prefix('@') {
            plain.push('@');
            plain.push_str(&name(user, Some(label).filter(|l| !l.is_empty()), names));
        } else if let Some(channel) = target.strip_prefix('#') {
            plain.push('#');
            plain.push_str(if label.is_empty() { channel } else { label });
        } else {
            plain.push_str(if label.is_empty() { target } else { label });
        }
        rest = &after[end + 1..];
    }
    plain.push_str(rest);
    let plain = unescape_mrkdwn(&plain);
    plain
        .split('\n')
        .filter(|l| !l.trim().is_empty())
        .map(code_span)
        .collect::<Vec<_>>()
        .join("\n")
}

/// One line of code as a code span. Text a span cannot hold exactly (a run of backticks, a
/// `|` that a table would split on, invisible or control characters) is escaped instead.
fn code_span(line: &str) -> String {
    let unsafe_in_span = line.contains("``")
        || line.contains('|')
        || line.chars().any(|c| invisible(c) || c.is_control());
    if unsafe_in_span {
        super::markdown::inline(line)
    } else if line.contains('`') {
        format!("`` {line} ``")
    } else {
        format!("` {line} `")
    }
}

/// Prose: mentions, channels and links resolved, the rest escaped, shortcodes as emoji.
fn prose_markdown(text: &str, names: &HashMap<String, String>) -> String {
    use super::markdown::{inline, link};
    let plain = |s: &str| inline(&super::emoji::shortcodes(&unescape_mrkdwn(s)));
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&plain(&rest[..start]));
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else {
            out.push_str(&plain(&rest[start..]));
            return out;
        };
        let inner = &after[..end];
        let (target, label) = match inner.split_once('|') {
            Some((t, l)) => (t, Some(l)),
            None => (inner, None),
        };
        let label = label.map(unescape_mrkdwn);
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
            let url = unescape_mrkdwn(target);
            // A label that reads as another address shows the real one instead.
            let shown = label.as_deref().filter(|l| !disguises(l, target));
            out.push_str(&link(shown.unwrap_or(&url), &url));
        }
        rest = &after[end + 1..];
    }
    out.push_str(&plain(rest));
    out
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

/// Text a command took (Slack's `&lt;`, `&gt;` and `&amp;` undone, as
/// [`unescape_mrkdwn`] does), made safe to post as [`safe`] does: the mentions and links
/// Slack sent in it stay mentions and links, and every other `<`, `>` and `&` shows as typed.
pub fn typed(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(['<', '>', '&']) {
        escaped.push_str(&rest[..start]);
        let tail = &rest[start..];
        let token = tail.strip_prefix('<').and_then(|after| {
            let end = after.find(['<', '>'])?;
            (after.as_bytes()[end] == b'>' && is_token(&after[..end])).then_some(end + 2)
        });
        let len = match token {
            Some(len) => {
                escaped.push_str(&tail[..len]);
                len
            }
            None => {
                escaped.push_str(match tail.as_bytes()[0] {
                    b'<' => "&lt;",
                    b'>' => "&gt;",
                    _ => "&amp;",
                });
                1
            }
        };
        rest = &tail[len..];
    }
    escaped.push_str(rest);
    safe(&escaped)
}

/// The inside of a `<…>` as Slack sends it for a mention, a special mention or a link.
fn is_token(inner: &str) -> bool {
    let target = inner.split('|').next().unwrap_or(inner);
    target.strip_prefix('@').is_some_and(is_id)
        || target.strip_prefix('#').is_some_and(is_id)
        || target.strip_prefix('!').is_some_and(|s| !s.is_empty())
        || is_url(target)
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
    looks_like_address(label) && norm(label) != norm(&unescape_mrkdwn(target))
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

/// The first line of a message that says something, cut near `max` characters where the
/// thought ends: at a sentence's end if one is near, else between words, never inside a
/// `<…>` token. An ellipsis says that more follows (a longer line, or more lines).
pub fn first_line(text: &str, max: usize) -> String {
    let mut said = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.trim_matches('`').is_empty());
    let line = said.next().unwrap_or("");
    let more = said.next().is_some();
    // A code block that goes on past the cut is closed where the cut is, to stay code.
    let closed = |kept: &str| {
        if kept.matches("```").count() % 2 == 1 {
            format!("{kept}```")
        } else {
            kept.to_string()
        }
    };
    if line.chars().count() <= max {
        return if more {
            format!("{} …", closed(line))
        } else {
            line.to_string()
        };
    }
    let budget = max.saturating_sub(1);
    let (mut used, mut end, mut word, mut sentence) = (0, 0, 0, 0);
    let mut rest = line;
    while !rest.is_empty() {
        let len = token_len(rest);
        let chars = rest[..len].chars().count();
        if used + chars > budget {
            break;
        }
        if rest[..len].chars().all(char::is_whitespace) {
            word = end;
            if line[..end].ends_with(['.', '!', '?', ';']) {
                sentence = end;
            }
        }
        used += chars;
        end += len;
        rest = &rest[len..];
    }
    // A boundary in the last third keeps most of the line; an earlier one would lose too much.
    let near = |at: usize| at > 0 && at * 3 >= end * 2;
    let cut = if near(sentence) {
        sentence
    } else if near(word) {
        word
    } else {
        end
    };
    format!("{} …", closed(line[..cut].trim_end()))
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
    fn slack_markup_reads_as_plain_text() {
        let names = [("U1".to_string(), "ann".to_string())].into();
        assert_eq!(
            to_plain("<@U1> see <https://g.example/d|the dashboard> in <#C9|ops> &lt;3 <https://x.example>", &names),
            "@ann see the dashboard in #ops <3 https://x.example"
        );
        assert_eq!(to_plain("a < b", &names), "a < b");
    }

    #[test]
    fn typed_text_keeps_its_mentions_and_links_and_shows_everything_else_as_typed() {
        assert_eq!(
            typed("rolled back <@U024BE7LH|bob>, see <https://status.example.com|status page> in <#C9|ops>"),
            "rolled back <@U024BE7LH>, see <https://status.example.com|status page> in <#C9>"
        );
        assert_eq!(
            typed("latency <5ms for >90% & <b>bold</b>"),
            "latency &lt;5ms for &gt;90% &amp; &lt;b&gt;bold&lt;/b&gt;"
        );
        assert!(
            !typed("<!here> look").contains("<!"),
            "{}",
            typed("<!here> look")
        );
        assert!(!typed("<!subteam^S1|@oncall> look").contains("<!"));
    }

    #[test]
    fn the_users_a_text_mentions_are_listed_once_each() {
        assert_eq!(
            mentioned_users("<@U1> and <@U2|bob> paged <@U1|ann>, not <#C1|ops> or <!here>"),
            vec!["U1", "U2"]
        );
        assert!(mentioned_users("a <@ that never closes").is_empty());
    }

    #[test]
    fn mentions_links_and_escapes_become_markdown() {
        let names: HashMap<String, String> = [("U1".to_string(), "alice".to_string())].into();
        assert_eq!(
            to_markdown("<@U1> see <https://x.example.com/?a=1&amp;b=2|the graph> in <#C9|ops> &lt;3 <!here> <@U2|bob> <https://y.example.com> <javascript:alert(1)|x>", &names),
            "@alice see [the graph](https://x.example.com/?a=1&b=2) in #ops &lt;3 @here @bob [https://y.example.com](https://y.example.com) x (javascript:alert(1))"
        );
    }

    #[test]
    fn code_with_text_on_the_fence_lines_keeps_every_line_and_its_links_as_typed() {
        let names = HashMap::new();
        // As Slack sends it: text right after the opening fence, a URL wrapped as a link.
        assert_eq!(
            to_markdown("try ```rm -rf ~/.julia``` then", &names),
            "try ` rm -rf ~/.julia ` then"
        );
        assert_eq!(
            to_markdown(
                "```curl <https://x.example/a?b=1&amp;c=2>\n  grep -c &lt;5xx&gt;```",
                &names
            ),
            "` curl https://x.example/a?b=1&c=2 `\n`   grep -c <5xx> `"
        );
        assert_eq!(
            to_markdown("set `a|b` and `x` :tada: `:tada:`", &names),
            "set a\\|b and ` x ` 🎉 ` :tada: `"
        );
    }

    #[test]
    fn an_unclosed_fence_is_shown_as_typed() {
        assert_eq!(
            to_markdown("```\n## not a heading", &HashMap::new()),
            "\\`\\`\\`\n\\## not a heading"
        );
    }

    #[test]
    fn a_first_line_is_cut_where_the_thought_ends() {
        let long = format!("{}. {}", "a".repeat(150), "b ".repeat(60));
        assert_eq!(first_line(&long, 200), format!("{}. …", "a".repeat(150)));
        let words = "word ".repeat(60);
        let cut = first_line(&words, 200);
        assert!(
            cut.ends_with("word …") && cut.chars().count() <= 200,
            "{cut}"
        );
        assert_eq!(first_line("\n\nshort\nmore", 200), "short …");
        assert_eq!(first_line("only", 200), "only");
        assert_eq!(
            first_line("try ```rm -rf\nls```", 200),
            "try ```rm -rf``` …"
        );
        let link = format!(
            "{} <https://x.example|the graph of errors>",
            "z".repeat(180)
        );
        assert_eq!(first_line(&link, 200), format!("{} …", "z".repeat(180)));
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

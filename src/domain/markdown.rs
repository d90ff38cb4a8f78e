//! Text people typed, made safe to put into the Markdown post-mortem draft, wherever it is
//! rendered (a wiki, a Git host, a web view): raw HTML is escaped, links go only to `http(s)`
//! and `mailto` targets, no line of user text can start a heading, a table row, a list, a
//! quote or a code fence, and bidi controls and zero-width characters are shown, not obeyed.

/// Plain text (a title, a name, a description) as Markdown that shows exactly that text.
pub fn text(s: &str) -> String {
    lines(&inline(s))
}

/// Plain text on one line (a name, a label, a table cell): as [`text`], newlines as spaces.
pub fn line(s: &str) -> String {
    text(s).replace('\n', " ")
}

/// Escapes what Markdown would read as HTML, a link, a table cell boundary or an escape, and
/// writes out invisible characters. Emphasis (`*`, `_`, `~`) is left alone: it cannot change
/// a document's structure.
pub fn inline(s: &str) -> String {
    let shown = super::invisible::shown(s);
    let mut out = String::with_capacity(shown.len() + 8);
    for c in shown.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '[' | ']' | '|' | '`' => {
                out.push('\\');
                out.push(c);
            }
            '\r' => {}
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Makes every line of already-inline-escaped text start as plain paragraph text: leading
/// indentation (a code block) is dropped and a first character that would open a heading,
/// list, quote, fence, table row or thematic break is escaped. A line may open with a code
/// span of one or two backticks: that cannot open a fence.
pub fn lines(s: &str) -> String {
    s.split('\n')
        .map(|line| {
            let line = line.trim_start_matches([' ', '\t']);
            let first = line.chars().next();
            let numbered = line
                .char_indices()
                .find(|(_, c)| !c.is_ascii_digit())
                .is_some_and(|(i, c)| i > 0 && (c == '.' || c == ')'));
            match first {
                Some('#' | '-' | '+' | '*' | '=' | '_' | '~' | ':' | '>' | '|') => {
                    format!("\\{line}")
                }
                // Escaped text has no bare backtick; a code span of one or two (from
                // `mrkdwn::to_markdown`) cannot open a fence, three or more could.
                Some('`') if line.starts_with("```") => format!("\\{line}"),
                Some(_) if numbered => {
                    let digits = line.chars().take_while(char::is_ascii_digit).count();
                    format!("{}\\{}", &line[..digits], &line[digits..])
                }
                _ => line.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Is this a target a draft may link to?
pub fn allowed_target(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|scheme| lower.starts_with(scheme) && lower.len() > scheme.len())
        && !url
            .chars()
            .any(|c| c.is_control() || super::invisible::invisible(c))
}

/// A link destination as Markdown reads it whole: characters that would end or break it are
/// percent-encoded.
fn destination(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.trim().chars() {
        match c {
            ' ' => out.push_str("%20"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '\\' => out.push_str("%5C"),
            '`' => out.push_str("%60"),
            '"' => out.push_str("%22"),
            '[' => out.push_str("%5B"),
            ']' => out.push_str("%5D"),
            c => out.push(c),
        }
    }
    out
}

/// `[label](url)` for an allowed target; otherwise the label and the address as plain text.
pub fn link(label: &str, url: &str) -> String {
    let flat = |s: &str| inline(s).replace('\n', " ");
    if allowed_target(url) {
        format!("[{}]({})", flat(label), destination(url))
    } else if label == url {
        flat(url)
    } else {
        format!("{} ({})", flat(label), flat(url))
    }
}

/// A link target for a template that builds `[label](url)` itself: `#` when not allowed.
pub fn target(url: &str) -> String {
    if allowed_target(url) {
        destination(url)
    } else {
        "#".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_is_shown_as_text() {
        assert_eq!(
            text("<script>alert(1)</script> <img onerror=x> </details> & co"),
            "&lt;script&gt;alert(1)&lt;/script&gt; &lt;img onerror=x&gt; &lt;/details&gt; &amp; co"
        );
    }

    #[test]
    fn user_text_cannot_start_a_heading_a_table_row_a_list_or_a_fence() {
        assert_eq!(
            text("ok\n## Forged section\n| a | b |\n```\n   - item\n1. one\n===\n> quote"),
            "ok\n\\## Forged section\n\\| a \\| b \\|\n\\`\\`\\`\n\\- item\n1\\. one\n\\===\n&gt; quote"
        );
    }

    #[test]
    fn only_web_and_mail_links_are_links() {
        assert_eq!(
            link("docs", "https://x.example/a b(c)"),
            "[docs](https://x.example/a%20b%28c%29)"
        );
        assert_eq!(
            link("mail", "mailto:a@b.example"),
            "[mail](mailto:a@b.example)"
        );
        assert_eq!(
            link("click", "javascript:alert(1)"),
            "click (javascript:alert(1))"
        );
        assert_eq!(target("data:text/html,x"), "#");
        assert_eq!(
            text("[x](javascript:alert(1))"),
            "\\[x\\](javascript:alert(1))"
        );
    }

    #[test]
    fn bidi_controls_and_zero_width_characters_are_written_out() {
        assert_eq!(text("a\u{202E}b\u{200B}"), "a\\[U+202E\\]b\\[U+200B\\]");
    }
}

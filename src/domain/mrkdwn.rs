//! Slack mrkdwn to Markdown, for text that leaves Slack (the post-mortem draft): mentions become
//! names, `<url|label>` becomes `[label](url)`, and Slack's escapes are undone.

use std::collections::HashMap;

/// Converts mrkdwn; `names` maps user IDs to the names to show.
pub fn to_markdown(text: &str, names: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&super::trigger::unescape_mrkdwn(&rest[..start]));
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else {
            out.push_str(&super::trigger::unescape_mrkdwn(&rest[start..]));
            return out;
        };
        let inner = &after[..end];
        let (target, label) = match inner.split_once('|') {
            Some((t, l)) => (t, Some(l)),
            None => (inner, None),
        };
        let label = label.map(super::trigger::unescape_mrkdwn);
        if let Some(user) = target.strip_prefix('@') {
            out.push('@');
            out.push_str(&name(user, label.as_deref(), names));
        } else if let Some(channel) = target.strip_prefix('#') {
            out.push('#');
            out.push_str(label.as_deref().unwrap_or(channel));
        } else if let Some(special) = target.strip_prefix('!') {
            out.push('@');
            out.push_str(special.split('^').next().unwrap_or(special));
        } else {
            let url = super::trigger::unescape_mrkdwn(target);
            match label {
                Some(l) if l != url => out.push_str(&format!("[{l}]({url})")),
                _ => out.push_str(&format!("<{url}>")),
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(&super::trigger::unescape_mrkdwn(rest));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_links_and_escapes_become_markdown() {
        let names: HashMap<String, String> = [("U1".to_string(), "alice".to_string())].into();
        assert_eq!(
            to_markdown("<@U1> see <https://x.example.com/?a=1&amp;b=2|the graph> in <#C9|ops> &lt;3 <!here> <@U2|bob> <https://y.example.com>", &names),
            "@alice see [the graph](https://x.example.com/?a=1&b=2) in #ops <3 @here @bob <https://y.example.com>"
        );
    }

    #[test]
    fn an_unclosed_bracket_is_kept_as_text() {
        assert_eq!(to_markdown("a <b", &HashMap::new()), "a <b");
    }
}

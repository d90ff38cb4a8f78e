//! Recognising "I hereby declare this an incident" in a message, and the title after it.
//!
//! The phrase counts anywhere in a message, in any case and with any spacing (Slack clients
//! wrap and people bold things), optionally followed by `:`, `-` or `—` and a title. The title is
//! the rest of that line, without trailing punctuation; Slack's `&amp;`-style escapes are undone.
//! The phrase is not said when it is cited: in code (someone showing how to declare), in a
//! quote, struck through, or asked ("Should I hereby declare this an incident?").

use std::collections::HashMap;

use super::incident::Title;

const PHRASE: [&str; 6] = ["i", "hereby", "declare", "this", "an", "incident"];

/// A declaration found in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// The title that followed the phrase, if any.
    pub title: Option<Title>,
}

/// Looks for the declaration phrase in a message's mrkdwn text. A mention in the title reads as
/// the label Slack sent, or else as the user's ID: see [`find_declaration_named`].
pub fn find_declaration(text: &str) -> Option<Declaration> {
    find_declaration_named(text, &HashMap::new())
}

/// [`find_declaration`], with a mention in the title read as the user's name in `names` (user
/// ID → name) where it is there: message events carry `<@U1>` without a name.
pub fn find_declaration_named(text: &str, names: &HashMap<String, String>) -> Option<Declaration> {
    // Words are looked for in the text with what is cited blanked out; offsets stay the same.
    let said = uncited(text);
    let words: Vec<(usize, &str)> = words_with_offsets(&said).collect();
    for start in 0..words.len() {
        if start + PHRASE.len() > words.len() {
            break;
        }
        let window = &words[start..start + PHRASE.len()];
        let matches = window
            .iter()
            .zip(PHRASE)
            .enumerate()
            .all(|(i, ((_, w), p))| {
                let core = word_core(w, i == 0, i == PHRASE.len() - 1);
                core.eq_ignore_ascii_case(p)
            });
        if matches {
            let (offset, last) = window[PHRASE.len() - 1];
            // The rest starts right after the letters of "incident" in the last word.
            let lead = last.len() - last.trim_start_matches(is_decoration).len();
            let rest = &text[offset + lead + "incident".len()..];
            let asked = rest
                .trim_start_matches(|c: char| is_decoration(c) || c == ' ')
                .starts_with('?');
            if asked {
                continue;
            }
            return Some(Declaration {
                title: title_from(rest, names),
            });
        }
    }
    None
}

/// `text` with what is cited replaced by spaces, byte for byte: code (`` `…` `` and
/// ```` ```…``` ````), quoted lines (`&gt; …`), and words struck through (`~…~`).
fn uncited(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let mut blank = |from: usize, to: usize| {
        for b in &mut bytes[from..to] {
            *b = b' ';
        }
    };
    let at = |piece: &str| piece.as_ptr() as usize - text.as_ptr() as usize;
    for (is_code, piece) in super::mrkdwn::code_pieces(text) {
        if is_code {
            blank(at(piece), at(piece) + piece.len());
        }
    }
    let mut line_start = 0;
    for line in text.split('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with("&gt;") || trimmed.starts_with('>') {
            blank(line_start, line_start + line.len());
        }
        // `~…~` from the start of a word to the end of one, within the line.
        let mut from = None;
        for (i, c) in line.char_indices() {
            if c != '~' {
                continue;
            }
            let before = line[..i].chars().next_back();
            let after = line[i + 1..].chars().next();
            match from {
                None if before.is_none_or(char::is_whitespace)
                    && after.is_some_and(|a| !a.is_whitespace()) =>
                {
                    from = Some(i)
                }
                Some(start)
                    if before.is_some_and(|b| !b.is_whitespace())
                        && after.is_none_or(|a| !a.is_alphanumeric()) =>
                {
                    blank(line_start + start, line_start + i + 1);
                    from = None;
                }
                _ => {}
            }
        }
        line_start += line.len() + 1;
    }
    // Every range blanked starts and ends between characters, so this is UTF-8 of the same
    // length; were it not, nothing is taken for cited.
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_string())
}

fn words_with_offsets(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_whitespace()
        .map(move |w| (w.as_ptr() as usize - text.as_ptr() as usize, w))
}

/// Formatting characters people wrap words in: `*bold*`, `_italic_`, `~strike~`, quotes.
fn is_decoration(c: char) -> bool {
    matches!(
        c,
        '*' | '_' | '~' | '"' | '\'' | '“' | '”' | '‘' | '’' | '(' | '`' | '>'
    )
}

/// The letters of a word without surrounding formatting; the last word of the phrase may be
/// followed by anything ("incident:", "incident—", "incident*.").
fn word_core(word: &str, _first: bool, last: bool) -> &str {
    let w = word.trim_start_matches(is_decoration);
    if last {
        let end = w
            .char_indices()
            .find(|(_, c)| !c.is_alphabetic())
            .map_or(w.len(), |(i, _)| i);
        &w[..end]
    } else {
        w.trim_end_matches(|c: char| is_decoration(c) || matches!(c, ',' | ')'))
    }
}

fn title_from(rest: &str, names: &HashMap<String, String>) -> Option<Title> {
    // The rest of the phrase's line, as people read it; then the separator after the phrase
    // and trailing punctuation go. Code in a title (`db-01`) keeps its backticks.
    let line = named_title_text(rest.lines().next().unwrap_or(""), names);
    let trimmed = line
        .trim_start_matches(|c: char| {
            c.is_whitespace()
                || (is_decoration(c) && c != '`')
                || matches!(c, ':' | '-' | '—' | '–' | ',' | '.' | '!')
        })
        .trim_end_matches(|c: char| {
            c.is_whitespace()
                || (is_decoration(c) && c != '`')
                || matches!(c, '.' | '!' | '?' | ',' | ';' | ':' | '…' | ')' | '-' | '—')
        });
    Title::parse(trimmed).ok()
}

pub use super::mrkdwn::unescape_mrkdwn;

/// A title as people read it, from the mrkdwn it was typed in: mentions and links become their
/// names and labels (`<@U1|bob>` → `@bob`), emoji shortcodes become emoji (which a channel
/// name then leaves out), and Slack's escapes are undone.
pub fn title_text(mrkdwn: &str) -> String {
    named_title_text(mrkdwn, &HashMap::new())
}

/// [`title_text`], with mentions read as the names in `names` (user ID → name) where there.
fn named_title_text(mrkdwn: &str, names: &HashMap<String, String>) -> String {
    super::emoji::shortcodes(&super::mrkdwn::to_plain(mrkdwn, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn title(text: &str) -> Option<String> {
        find_declaration(text)
            .expect("the phrase should be recognised")
            .title
            .map(|t| t.as_str().to_string())
    }

    #[test]
    fn a_mention_in_the_title_reads_as_the_name_given_else_as_sent() {
        let names = HashMap::from([("U1".to_string(), "bob".to_string())]);
        let named = |text| {
            find_declaration_named(text, &names)
                .and_then(|d| d.title)
                .map(|t| t.as_str().to_string())
        };
        assert_eq!(
            named("I hereby declare this an incident: <@U1> cannot reach the VPN"),
            Some("@bob cannot reach the VPN".into())
        );
        assert_eq!(
            named("I hereby declare this an incident: <@U2> cannot reach the VPN"),
            Some("@U2 cannot reach the VPN".into())
        );
    }

    #[test]
    fn the_plain_phrase_with_a_colon_and_title_is_recognised() {
        assert_eq!(
            title("I hereby declare this an incident: Checkout payments failing"),
            Some("Checkout payments failing".into())
        );
    }

    #[test]
    fn case_and_spacing_do_not_matter() {
        assert_eq!(
            title("i   HEREBY\ndeclare  This\tan INCIDENT - db down"),
            Some("db down".into())
        );
    }

    #[test]
    fn dashes_and_em_dashes_separate_the_title() {
        assert_eq!(
            title("I hereby declare this an incident — API 5xx"),
            Some("API 5xx".into())
        );
        assert_eq!(
            title("I hereby declare this an incident—API 5xx"),
            Some("API 5xx".into())
        );
        assert_eq!(
            title("I hereby declare this an incident -- API 5xx"),
            Some("API 5xx".into())
        );
    }

    #[test]
    fn the_phrase_counts_anywhere_in_the_message() {
        assert_eq!(
            title("ok folks, I hereby declare this an incident: login broken"),
            Some("login broken".into())
        );
    }

    #[test]
    fn trailing_punctuation_is_not_part_of_the_title() {
        assert_eq!(
            title("I hereby declare this an incident: payments down!!!"),
            Some("payments down".into())
        );
        assert_eq!(
            title("I hereby declare this an incident: why?..."),
            Some("why".into())
        );
    }

    #[test]
    fn bold_phrases_are_recognised() {
        assert_eq!(
            title("*I hereby declare this an incident*: search is slow"),
            Some("search is slow".into())
        );
    }

    #[test]
    fn only_the_first_line_is_the_title() {
        assert_eq!(
            title("I hereby declare this an incident: queue backlog\nit started at 9:00"),
            Some("queue backlog".into())
        );
    }

    #[test]
    fn slack_escapes_are_undone_in_the_title() {
        assert_eq!(
            title("I hereby declare this an incident: R&amp;D &lt;wiki&gt; down"),
            Some("R&D <wiki> down".into())
        );
    }

    #[test]
    fn a_declaration_without_a_title_has_none() {
        assert_eq!(title("I hereby declare this an incident"), None);
        assert_eq!(title("I hereby declare this an incident."), None);
        assert_eq!(title("I hereby declare this an incident:   "), None);
        assert_eq!(title("I hereby declare this an incident!\nmore text"), None);
    }

    #[test]
    fn near_misses_are_not_declarations() {
        for text in [
            "I hereby declare this a incident",
            "I declare this an incident",
            "hereby declare this an incident",
            "I hereby declare this an incidental finding",
            "I hereby declare this an",
            "",
        ] {
            assert_eq!(find_declaration(text), None, "{text:?}");
        }
    }

    #[test]
    fn the_phrase_cited_rather_than_said_declares_nothing() {
        for cited in [
            "To open one, write `I hereby declare this an incident: <title>`",
            "```\nI hereby declare this an incident: db down\n```",
            "&gt; I hereby declare this an incident: checkout failing\nsame as yesterday?",
            "~I hereby declare this an incident~ never mind, it recovered",
            "Should I hereby declare this an incident?",
            "I hereby declare this an incident? Not yet.",
        ] {
            assert_eq!(find_declaration(cited), None, "{cited}");
        }
    }

    #[test]
    fn a_tilde_for_about_strikes_nothing_through() {
        assert_eq!(
            title("~5 min after deploy, I hereby declare this an incident: p99 ~ 3s"),
            Some("p99 ~ 3s".into())
        );
    }

    #[test]
    fn the_phrase_said_beside_something_cited_still_declares() {
        assert_eq!(
            title("&gt; is the cache warm?\nI hereby declare this an incident: cache cold"),
            Some("cache cold".into())
        );
        assert_eq!(
            title("I hereby declare this an incident: `db-01` is down"),
            Some("`db-01` is down".into())
        );
        assert_eq!(
            title("~oops~ I hereby declare this an incident: café down"),
            Some("café down".into())
        );
    }

    #[test]
    fn a_title_reads_as_people_see_it_not_as_slack_markup() {
        assert_eq!(
            title("I hereby declare this an incident: <@U024BE7LH|bob> locked out of <https://status.aws.amazon.com|AWS status>"),
            Some("@bob locked out of AWS status".into())
        );
        assert_eq!(
            title("I hereby declare this an incident: :fire: checkout :fire:"),
            Some("🔥 checkout 🔥".into())
        );
    }

    #[test]
    fn ten_thousand_character_titles_are_shortened() {
        let text = format!(
            "I hereby declare this an incident: {}",
            "word ".repeat(2000)
        );
        let t = title(&text).unwrap();
        assert!(t.chars().count() <= Title::MAX_CHARS, "{}", t.len());
    }
}

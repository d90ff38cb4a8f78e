//! Property tests: whatever people type, the rendered draft keeps its structure (the same
//! headings, so the same sections), holds no raw HTML, and links only to web or mail
//! addresses. The draft is parsed as a Markdown renderer would parse it.

use proptest::prelude::*;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde_json::json;

use super::tests::realistic;
use super::*;
use crate::domain::incident::{Severity, Status, Title};
use crate::domain::roles::Role;
use crate::domain::ChannelId;

/// Pieces that have broken Markdown documents before, mixed with arbitrary text.
const HOSTILE: &[&str] = &[
    "\n",
    "\n\n",
    "## Forged",
    "# ",
    "| a | b |",
    "|---|---|",
    "```",
    "~~~",
    "<script>alert(1)</script>",
    "</details>",
    "<details>",
    "<img src=x onerror=alert(1)>",
    "<!--",
    "-->",
    "[x](javascript:alert(1))",
    "<javascript:alert(1)|click>",
    "<https://evil.example|https://bank.example>",
    "<data:text/html,x>",
    "\u{202E}",
    "\u{2066}",
    "\u{200B}",
    "\u{200D}",
    "\u{FEFF}",
    "===",
    "---",
    "***",
    "- ",
    "* ",
    "+ ",
    "1. ",
    "2) ",
    "> ",
    "    ",
    "\t",
    "\\",
    "&lt;",
    "&gt;",
    "&amp;",
    "&#60;",
    "<!here>",
    "<!channel>",
    "<@U1>",
    "<#C1|ops>",
    "[a]: https://x.example",
    "![i](https://t.example/p.png)",
    "[^1]",
    "*",
    "_",
    "`",
    "<",
    ">",
    "&",
    "|",
    "#",
    "\r",
    "\r\n",
    "<https://x.example/a b(c)>",
    "www.x.example",
    "<b>",
    "</table>",
    "{{ title }}",
    "{% if x %}",
    "Setext\n===",
    "word",
];

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(HOSTILE), 0..10).prop_map(|v| v.concat()),
        any::<String>(),
        (any::<String>(), prop::sample::select(HOSTILE)).prop_map(|(a, b)| format!("{b}{a}\n{b}")),
    ]
}

/// Every place the record carries something a person typed or named, filled with `t`.
fn hostile_record(t: &[String]) -> Record {
    let pick = |i: usize| t[i % t.len()].clone();
    let mut r = realistic();
    r.incident.title = Some(pick(0));
    r.incident.description = Some(pick(1));
    r.incident.severity = Some(pick(2));
    r.incident.channel_name = Some(pick(3));
    for (n, m) in r.messages.iter_mut().enumerate() {
        m.text = Some(pick(4 + n));
        m.author_name = Some(pick(5 + n));
        m.files = Some(json!([{"title": pick(6 + n), "permalink": pick(7 + n)}]));
    }
    for (n, l) in r.links.iter_mut().enumerate() {
        l.url = pick(8 + n);
        l.label = Some(pick(9 + n));
    }
    for (n, f) in r.fixes.iter_mut().enumerate() {
        f.what = pick(10 + n);
    }
    for (n, a) in r.actions.iter_mut().enumerate() {
        a.text = pick(11 + n);
    }
    for (n, s) in r.roles.iter_mut().enumerate() {
        s.role = pick(12 + n);
    }
    let at = r.incident.declared_at;
    r.entries = hostile_entries(&|i| pick(13 + i))
        .into_iter()
        .map(|what| Entry {
            at,
            actor: Some(UserId::new(pick(22))),
            what,
        })
        .collect();
    for v in r.names.values_mut() {
        *v = pick(21);
    }
    r
}

/// One entry of every kind, whatever people typed or named in each of its fields.
fn hostile_entries(pick: &dyn Fn(usize) -> String) -> Vec<TimelineEntry> {
    let title = |i: usize| Title::parse(&pick(i)).ok();
    let user = |i: usize| UserId::new(pick(i));
    let role = |i: usize| Role::Custom(pick(i));
    vec![
        TimelineEntry::Declared {
            title: title(0),
            origin_channel: ChannelId::new(pick(1)),
        },
        TimelineEntry::Described { text: pick(2) },
        TimelineEntry::ChannelCreated {
            channel: ChannelId::new(pick(3)),
            name: pick(4),
        },
        TimelineEntry::ChannelRenamed {
            channel: ChannelId::new(pick(5)),
            name: pick(6),
        },
        TimelineEntry::RoleAssigned {
            role: role(7),
            user: user(8),
            previous: Some(user(9)),
        },
        TimelineEntry::RoleUnassigned {
            role: role(10),
            previous: user(11),
        },
        TimelineEntry::SeverityChanged {
            from: None,
            to: Severity::Sev1,
        },
        TimelineEntry::StatusChanged {
            from: Status::Investigating,
            to: Status::Identified,
        },
        TimelineEntry::Resolved {
            from: Status::Identified,
        },
        TimelineEntry::Reopened {
            to: Status::Monitoring,
        },
        TimelineEntry::UpdatePosted { text: pick(12) },
        TimelineEntry::Renamed {
            from: title(13),
            to: title(14).unwrap_or_else(|| Title::parse("x").unwrap_or_else(|_| unreachable!())),
        },
        TimelineEntry::FixTried {
            number: 1,
            what: pick(15),
            outcome: Outcome::Failed,
            message_ts: Some(pick(16)),
        },
        TimelineEntry::FixOutcome {
            number: 1,
            what: pick(17),
            outcome: Outcome::Worked,
        },
        TimelineEntry::Note { text: pick(18) },
        TimelineEntry::Docs { text: pick(19) },
        TimelineEntry::ActionAdded {
            number: 1,
            text: pick(20),
            owner: Some(user(21)),
            due: None,
        },
        TimelineEntry::ActionClosed {
            number: 1,
            status: crate::domain::actions::ActionStatus::WontFix,
            text: Some(pick(22)),
        },
        TimelineEntry::PostmortemStatus {
            to: ReviewStatus::Final,
        },
        TimelineEntry::PostmortemOwner { user: user(23) },
    ]
}

/// What a renderer makes of a document: its headings (level and text), raw HTML, and link or
/// image targets.
struct Parsed {
    headings: Vec<(u8, String)>,
    html: Vec<String>,
    targets: Vec<String>,
    images: usize,
}

fn parse(md: &str) -> Parsed {
    let mut p = Parsed {
        headings: vec![],
        html: vec![],
        targets: vec![],
        images: 0,
    };
    let mut heading: Option<(u8, String)> = None;
    for event in Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                heading = Some((level as u8, String::new()))
            }
            Event::End(TagEnd::Heading(_)) => p.headings.extend(heading.take()),
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, h)) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::Html(h) | Event::InlineHtml(h) => p.html.push(h.to_string()),
            Event::Start(Tag::Link { dest_url, .. }) => p.targets.push(dest_url.to_string()),
            Event::Start(Tag::Image { .. }) => p.images += 1,
            _ => {}
        }
    }
    p
}

fn render_record(r: &Record) -> String {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap_or_default();
    render(&build(r, chrono_tz::UTC, today), DEFAULT_TEMPLATE).unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    #[test]
    fn no_user_text_changes_the_drafts_headings_or_adds_html_or_unsafe_links(
        texts in prop::collection::vec(hostile(), 1..24)
    ) {
        let expected = parse(&render_record(&realistic()));
        let md = render_record(&hostile_record(&texts));
        let got = parse(&md);

        prop_assert_eq!(got.headings.len(), expected.headings.len(), "{}", md);
        let none = (0, String::new());
        let (h1, rest) = got.headings.split_first().unwrap_or((&none, &[]));
        prop_assert_eq!(h1.0, 1);
        prop_assert!(h1.1.starts_with("Post-mortem: ") && h1.1.ends_with("(incident #7)"), "{}", h1.1);
        prop_assert_eq!(rest, &expected.headings[1..]);
        prop_assert!(got.html.is_empty(), "raw HTML {:?} in\n{}", got.html, md);
        prop_assert_eq!(got.images, 0);
        for t in &got.targets {
            prop_assert!(
                t == "#" || t.starts_with("https://") || t.starts_with("http://") || t.starts_with("mailto:"),
                "link to {:?}", t
            );
        }
        for c in ['\u{202E}', '\u{2066}', '\u{200B}', '\u{FEFF}'] {
            prop_assert!(!md.contains(c), "{:?} obeyed in the draft", c);
        }
    }
}

#[test]
fn a_forged_heading_in_a_message_stays_a_line_of_the_message() {
    let mut r = realistic();
    if let Some(m) = r.messages.first_mut() {
        m.text = Some("fine\n## Root cause: it was Bob\n<script>x</script>".into());
    }
    let md = render_record(&r);
    let parsed = parse(&md);
    assert!(
        !parsed.headings.iter().any(|(_, h)| h.contains("Bob")),
        "{md}"
    );
    assert!(parsed.html.is_empty());
    assert!(md.contains("\\## Root cause: it was Bob"), "{md}");
}

//! The draft of a realistic incident, checked piece by piece and against a golden file.

use chrono::{NaiveDate, TimeZone};
use serde_json::json;

use super::*;
use crate::domain::actions::ActionStatus;
use crate::domain::incident::{Severity, Status, Title};
use crate::domain::roles::Role;
use crate::domain::ChannelId;

pub fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, h, m, 0).unwrap()
}

pub fn u(id: &str) -> UserId {
    UserId::new(id)
}

pub fn entry(at: DateTime<Utc>, actor: &str, what: TimelineEntry) -> Entry {
    Entry {
        at,
        actor: Some(u(actor)),
        what,
    }
}

pub fn msg(
    ts: &str,
    thread: Option<&str>,
    t: DateTime<Utc>,
    user: &str,
    text: Option<&str>,
) -> LoggedMessage {
    LoggedMessage {
        ts: ts.into(),
        thread_ts: thread.map(str::to_string),
        at: t,
        user: Some(u(user)),
        author_name: None,
        from_app: false,
        text: text.map(str::to_string),
        files: None,
        edited: false,
        highlighted: false,
    }
}

/// Checkout payments failing: an alert, a declaration, a failed and a working fix, an edit, a
/// deletion, a thread, a file, links, a note, confusing docs and action items.
pub fn realistic() -> Record {
    let names: HashMap<String, String> =
        [("UALICE", "alice"), ("UBOB", "bob"), ("UCAROL", "carol")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    let mut alert = msg(
        "1.0",
        None,
        at(13, 58),
        "UALERT",
        Some("[FIRING] checkout 5xx > 5%"),
    );
    alert.from_app = true;
    alert.user = None;
    alert.author_name = Some("Alertmanager".into());
    let mut edited = msg(
        "2.0",
        None,
        at(14, 5),
        "UBOB",
        Some("DB connections are maxed out <https://grafana.example.com/d/db|db dashboard>"),
    );
    edited.edited = true;
    let mut pinned = msg(
        "4.0",
        None,
        at(14, 20),
        "UCAROL",
        Some("Root cause: the pool size was lowered in yesterday's config change"),
    );
    pinned.highlighted = true;
    let mut file = msg("5.0", None, at(14, 22), "UBOB", Some(""));
    file.files = Some(
        json!([{"name": "pool.png", "title": "pool size graph", "permalink": "https://files.example.com/pool.png"}]),
    );
    Record {
        incident: IncidentFacts {
            number: 7,
            title: Some("Checkout payments failing".into()),
            severity: Some("sev1".into()),
            declared_at: at(14, 0),
            declared_by: u("UALICE"),
            resolved_at: Some(at(15, 10)),
            description: Some("Card payments fail at checkout with 502".into()),
            channel_name: Some("incident-2026-11-21-checkout-payments-failing".into()),
            postmortem_status: Default::default(),
            postmortem_owner: None,
        },
        roles: vec![
            RoleSpan {
                role: "incident commander".into(),
                user: u("UALICE"),
                by: u("UALICE"),
                from: at(14, 0),
                until: None,
            },
            RoleSpan {
                role: "operations lead".into(),
                user: u("UBOB"),
                by: u("UALICE"),
                from: at(14, 3),
                until: None,
            },
        ],
        entries: vec![
            entry(
                at(14, 0),
                "UALICE",
                TimelineEntry::Declared {
                    title: Title::parse("Checkout payments failing").ok(),
                    origin_channel: ChannelId::new("CGENERAL"),
                },
            ),
            entry(
                at(14, 3),
                "UALICE",
                TimelineEntry::RoleAssigned {
                    role: Role::Ops,
                    user: u("UBOB"),
                    previous: None,
                },
            ),
            entry(
                at(14, 4),
                "UALICE",
                TimelineEntry::SeverityChanged {
                    from: None,
                    to: Severity::Sev1,
                },
            ),
            entry(
                at(14, 10),
                "UBOB",
                TimelineEntry::FixTried {
                    number: 1,
                    what: "restart checkout pods".into(),
                    outcome: Outcome::Failed,
                    message_ts: None,
                },
            ),
            entry(
                at(14, 15),
                "UCAROL",
                TimelineEntry::Note {
                    text: "Call with the payment provider: their side is healthy".into(),
                },
            ),
            entry(
                at(14, 25),
                "UBOB",
                TimelineEntry::FixTried {
                    number: 2,
                    what: "revert the pool size change".into(),
                    outcome: Outcome::Unknown,
                    message_ts: None,
                },
            ),
            entry(
                at(14, 40),
                "UBOB",
                TimelineEntry::FixOutcome {
                    number: 2,
                    what: "revert the pool size change".into(),
                    outcome: Outcome::Worked,
                },
            ),
            entry(
                at(14, 45),
                "UCAROL",
                TimelineEntry::Docs {
                    text: "<https://wiki.example.com/pool|pool runbook> names the old config file"
                        .into(),
                },
            ),
            entry(
                at(14, 50),
                "UALICE",
                TimelineEntry::UpdatePosted {
                    text: "Payments recovered; monitoring".into(),
                },
            ),
            entry(
                at(15, 10),
                "UALICE",
                TimelineEntry::Resolved {
                    from: Status::Monitoring,
                },
            ),
        ],
        messages: vec![
            alert,
            edited,
            msg(
                "3.0",
                Some("2.0"),
                at(14, 6),
                "UCAROL",
                Some("since 13:55 | line one\nline two"),
            ),
            msg("3.5", None, at(14, 7), "UBOB", None),
            msg(
                "3.7",
                None,
                at(14, 12),
                "UCAROL",
                Some("Restarting didn't help, still 5xx :x:"),
            ),
            pinned,
            file,
        ],
        links: vec![LinkRow {
            url: "https://grafana.example.com/d/db".into(),
            label: Some("db dashboard".into()),
            by: Some(u("UBOB")),
            at: at(14, 5),
            mentions: 2,
        }],
        fixes: vec![
            FixRow {
                number: 1,
                what: "restart checkout pods".into(),
                by: u("UBOB"),
                at: at(14, 10),
                outcome: Outcome::Failed,
                outcome_at: Some(at(14, 10)),
                message_ts: None,
            },
            FixRow {
                number: 2,
                what: "revert the pool size change".into(),
                by: u("UBOB"),
                at: at(14, 25),
                outcome: Outcome::Worked,
                outcome_at: Some(at(14, 40)),
                message_ts: None,
            },
        ],
        actions: vec![
            ActionRow {
                number: 1,
                text: "Alert when the DB pool is above 90% for 5 minutes".into(),
                owner: Some(u("UBOB")),
                due: NaiveDate::from_ymd_opt(2026, 12, 5),
                status: ActionStatus::Open,
            },
            ActionRow {
                number: 2,
                text: "Improve documentation".into(),
                owner: None,
                due: None,
                status: ActionStatus::Open,
            },
        ],
        participants: vec![
            (u("UALICE"), at(14, 0)),
            (u("UBOB"), at(14, 2)),
            (u("UCAROL"), at(14, 6)),
        ],
        names,
    }
}

pub fn draft() -> Draft {
    draft_of(&realistic())
}

/// The draft of `record` in Berlin's time, on the incident's day.
pub fn draft_of(record: &Record) -> Draft {
    build(
        record,
        chrono_tz::Europe::Berlin,
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
    )
}

#[test]
fn key_times_are_in_the_configured_zone_with_the_offset() {
    let d = draft();
    assert_eq!(
        d.times.started, "2026-11-21 14:58:00 CET (UTC+01:00)",
        "the alert came first"
    );
    assert_eq!(d.times.declared, "2026-11-21 15:00:00 CET (UTC+01:00)");
    assert_eq!(
        d.times.mitigated.as_deref(),
        Some("2026-11-21 15:40:00 CET (UTC+01:00)")
    );
    assert_eq!(d.times.duration.as_deref(), Some("1 h 12 min"));
}

#[test]
fn the_owner_is_the_commander_and_roles_are_listed() {
    let d = draft();
    assert_eq!(d.owner, "alice");
    assert_eq!(d.participants[1].name, "bob");
    assert_eq!(d.participants[1].roles, vec!["operations lead"]);
}

#[test]
fn the_timeline_keeps_the_moments_and_condenses_the_conversation_between_them() {
    let d = draft();
    let kinds: Vec<&str> = d.timeline.iter().map(|t| t.kind).collect();
    assert_eq!(kinds[..4], ["activity", "declaration", "role", "severity"]);
    let texts: Vec<&str> = d.timeline.iter().map(|t| t.text.as_str()).collect();
    assert!(
        texts.contains(
            &"14:58 · 1 message · Alertmanager (app) · \"\\[FIRING\\] checkout 5xx &gt; 5%\""
        ),
        "{texts:#?}"
    );
    assert!(texts.contains(&"15:05–15:06 · 2 messages in 1 thread · bob, carol · \"DB connections are maxed out [db dashboard](https://grafana.example.com/d/db)\""), "{texts:#?}");
    assert!(
        texts.contains(&"15:22 · 1 message · 1 file shared · bob"),
        "{texts:#?}"
    );
    assert!(
        texts.contains(&"15:12 · 1 message · carol · \"Restarting didn't help, still 5xx ❌\""),
        "{texts:#?}"
    );
    assert!(d
        .timeline
        .iter()
        .any(|t| t.kind == "highlight" && t.text.starts_with("★ **carol**: Root cause")));
    assert!(!d.timeline.iter().any(|t| t.text.starts_with("Link:")));
    let times: Vec<&String> = d.timeline.iter().map(|t| &t.at).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
}

#[test]
fn deletions_are_left_out_and_replies_sit_under_their_parent() {
    let d = draft();
    assert_eq!(d.counts.deleted, 1);
    assert_eq!(d.log.len(), 5);
    assert_eq!(d.log[1].replies.len(), 1);
    assert!(d.log[1].edited);
    assert!(!d
        .log
        .iter()
        .any(|m| m.author == "bob" && m.text.is_empty() && m.files.is_empty()));
}

#[test]
fn weak_action_items_are_flagged() {
    let d = draft();
    assert!(d.actions[0].flags.is_empty(), "{:?}", d.actions[0].flags);
    assert_eq!(d.actions[1].flags.len(), 3);
}

#[test]
fn table_cells_escape_pipes() {
    assert_eq!(cell(&markdown::inline("a | b\nc")), "a \\| b c");
}

#[test]
fn the_default_template_renders_every_section() {
    let md = render(&draft(), DEFAULT_TEMPLATE).unwrap();
    for heading in [
        "# Post-mortem: Checkout payments failing (incident #7)",
        "## Executive summary",
        "## Impact",
        "## People and roles",
        "## Timeline",
        "## Attempted fixes",
        "## Contributing factors",
        "## Mitigating factors",
        "## Documentation that was confusing or missing",
        "## Action items",
        "## Lessons learned",
        "## A blameless reminder",
        "## Appendix A: Links",
        "## Appendix B: Channel log",
    ] {
        assert!(md.contains(heading), "missing {heading}");
    }
    assert!(md.contains(
        "| 2 | revert the pool size change | bob | 2026-11-21 15:25:00 CET (UTC+01:00) | worked |"
    ));
    assert!(md.contains("- #2: vague (\"improve documentation\"): name the document and what it will say; no owner; no due date"));
    assert!(md.contains("[pool runbook](https://wiki.example.com/pool) names the old config file"));
}

#[test]
fn the_draft_matches_the_golden_file() {
    let md = render(&draft(), DEFAULT_TEMPLATE).unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/postmortem.md");
    if std::env::var_os("HEREBY_BLESS").is_some() {
        std::fs::write(path, &md).unwrap();
    }
    let golden = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        md == golden,
        "the draft differs from {path}; review it and run with HEREBY_BLESS=1 to accept:\n{md}"
    );
}

#[test]
fn a_broken_template_is_an_error_not_a_panic() {
    assert!(render(&draft(), "{% for x in %}").is_err());
}

#[test]
fn templates_count_things_in_words_with_the_plural_filter() {
    let md = render(
        &draft(),
        r#"{{ 1|plural("link") }}; {{ 0|plural("link") }}; {{ 3|plural("person", "people") }}; {{ 1|plural("person", "people") }}"#,
    )
    .unwrap();
    assert_eq!(md, "1 link; 0 links; 3 people; 1 person");
}

#[test]
fn the_drafts_counts_read_as_english() {
    let md = render(&draft(), DEFAULT_TEMPLATE).unwrap();
    assert!(
        md.contains("6 messages, 3 people, 1 link, 2 fix attempts."),
        "{md}"
    );
    assert!(md.contains("1 deleted message left out."), "{md}");
    assert!(!md.contains("(s)"), "{md}");
}

#[test]
fn a_huddle_with_no_end_recorded_is_told_by_its_start_and_one_that_ended_by_its_end_alone() {
    let mut record = realistic();
    let started = |room: &str| {
        let room = room.to_string();
        entry(at(14, 10), "UBOB", TimelineEntry::HuddleStarted { room })
    };
    record.entries.push(started("R1"));
    record.entries.push(started("R2"));
    let ended = TimelineEntry::Huddle {
        room: "R1".into(),
        ended: at(14, 27),
        participants: vec!["UBOB".into(), "UCAROL".into()],
    };
    record.entries.push(entry(at(14, 10), "UBOB", ended));
    let d = draft_of(&record);
    let calls: Vec<&str> = d
        .timeline
        .iter()
        .filter(|t| t.kind == "call")
        .map(|t| t.text.as_str())
        .collect();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(
        calls.contains(&"Huddle in the channel, started by bob with bob, carol, until 2026-11-21 15:27:00 CET (UTC+01:00) (17 min)"),
        "{calls:?}"
    );
    assert!(
        calls.contains(&"Huddle in the channel, started by bob, with no end recorded yet"),
        "{calls:?}"
    );
}

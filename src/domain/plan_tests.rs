//! The plan on plain values: what each fact writes, records, says and asks Slack to show.

use chrono::TimeZone;

use super::*;
use crate::domain::transitions::{decide, Change, IncidentState, Policy};

fn u(id: &str) -> UserId {
    UserId::new(id)
}

fn at(min: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 14, 0, 0)
        .single()
        .unwrap_or_default()
        + Duration::minutes(min)
}

fn incident() -> Context {
    Context {
        number: 7,
        title: Title::parse("db down").ok(),
        channel: Some(ChannelId::new("CINC")),
        declared_at: at(0),
        open_actions: 0,
        followup_interval: Duration::days(7),
        announced: true,
    }
}

fn one(fact: Fact, actor: &str, now: DateTime<Utc>) -> Plan {
    plan(&incident(), &[fact], &u(actor), now)
}

#[test]
fn every_fact_becomes_one_timeline_entry_in_order() {
    let facts = [
        Fact::SeverityChanged {
            from: None,
            to: Severity::Sev2,
        },
        Fact::UpdatePosted {
            text: "looking".into(),
        },
        Fact::StatusChanged {
            from: Status::Investigating,
            to: Status::Identified,
        },
    ];
    let p = plan(&incident(), &facts, &u("UALICE"), at(5));
    assert_eq!(
        p.entries,
        vec![
            TimelineEntry::SeverityChanged {
                from: None,
                to: Severity::Sev2
            },
            TimelineEntry::UpdatePosted {
                text: "looking".into()
            },
            TimelineEntry::StatusChanged {
                from: Status::Investigating,
                to: Status::Identified
            },
        ]
    );
    assert_eq!(p.notices.len(), 3);
    assert_eq!(p.confirmation, "Status: identified.");
}

#[test]
fn a_handover_names_the_previous_holder_and_invites_the_new_one() {
    let p = one(
        Fact::RoleAssigned {
            role: Role::Commander,
            user: u("UBOB"),
            previous: Some(u("UALICE")),
        },
        "UALICE",
        at(3),
    );
    assert_eq!(
        p.notices,
        ["<@UALICE> made <@UBOB> incident commander, taking over from <@UALICE>."]
    );
    assert_eq!(
        p.writes,
        vec![
            Write::AssignRole(RoleAssignment {
                role: Role::Commander,
                user: u("UBOB"),
                assigned_by: u("UALICE"),
                at: at(3),
            }),
            Write::Participant(u("UBOB")),
        ]
    );
    assert_eq!(
        p.intents,
        vec![
            Intent::RefreshSummary,
            Intent::SetTopic,
            Intent::Invite(u("UBOB"))
        ]
    );
    assert_eq!(p.confirmation, "<@UBOB> is now the incident commander.");
    assert!(p.announcements.is_empty(), "roles are not announced");
}

#[test]
fn taking_a_role_yourself_reads_as_taking_it() {
    let p = one(
        Fact::RoleAssigned {
            role: Role::Scribe,
            user: u("UCAROL"),
            previous: None,
        },
        "UCAROL",
        at(3),
    );
    assert_eq!(p.notices, ["<@UCAROL> took the scribe role."]);
}

#[test]
fn leaving_a_role_unfilled_says_who_held_it() {
    let p = one(
        Fact::RoleUnassigned {
            role: Role::Ops,
            previous: u("UOPS"),
        },
        "UALICE",
        at(3),
    );
    assert_eq!(
        p.notices,
        ["<@UOPS> is no longer the operations lead (<@UALICE> unassigned it)."]
    );
    assert_eq!(p.writes, vec![Write::UnassignRole(Role::Ops)]);
    assert_eq!(p.confirmation, "The operations lead role is unfilled now.");
}

#[test]
fn a_severity_change_is_announced_with_what_it_was() {
    let p = one(
        Fact::SeverityChanged {
            from: Some(Severity::Sev3),
            to: Severity::Sev1,
        },
        "UALICE",
        at(3),
    );
    assert_eq!(
        p.notices,
        ["<@UALICE> set the severity to *SEV1* (was SEV3)."]
    );
    assert_eq!(
        p.announcements,
        [":rotating_light: Incident #7: db down (<#CINC>) is now *SEV1* (was SEV3)."]
    );
    assert_eq!(p.writes, vec![Write::Severity(Severity::Sev1)]);
}

#[test]
fn a_resolution_says_how_long_it_took_and_exports_the_draft() {
    let p = one(
        Fact::StatusChanged {
            from: Status::Monitoring,
            to: Status::Resolved,
        },
        "UALICE",
        at(125),
    );
    assert_eq!(
        p.entries,
        vec![TimelineEntry::Resolved {
            from: Status::Monitoring
        }]
    );
    assert_eq!(
        p.notices,
        [":white_check_mark: <@UALICE> resolved the incident after 2 h 5 min."]
    );
    assert_eq!(
        p.announcements,
        [":white_check_mark: Incident #7: db down (<#CINC>) is resolved."]
    );
    assert!(p.intents.contains(&Intent::ExportDraft));
    assert_eq!(
        p.writes,
        vec![Write::Status(Status::Resolved)],
        "no open action items: no follow-up"
    );
}

#[test]
fn a_resolution_with_open_action_items_schedules_follow_up_reviews() {
    let mut i = incident();
    i.open_actions = 2;
    let p = plan(
        &i,
        &[Fact::StatusChanged {
            from: Status::Identified,
            to: Status::Resolved,
        }],
        &u("UALICE"),
        at(60),
    );
    assert_eq!(
        p.writes,
        vec![
            Write::Status(Status::Resolved),
            Write::ScheduleFollowup(at(60) + Duration::days(7)),
        ]
    );
}

#[test]
fn reopening_is_recorded_as_reopened_and_announced() {
    let mut state = IncidentState {
        title: incident().title,
        status: Status::Resolved,
        severity: None,
        roles: vec![(Role::Commander, u("UALICE"))],
    };
    let facts = decide(&state, Change::Reopen, &u("UALICE"), Policy::default()).unwrap_or_default();
    let p = plan(&incident(), &facts, &u("UALICE"), at(90));
    assert_eq!(
        p.entries,
        vec![TimelineEntry::Reopened {
            to: Status::Investigating
        }]
    );
    assert_eq!(p.notices, [":warning: <@UALICE> reopened the incident."]);
    assert_eq!(
        p.announcements,
        [":warning: Incident #7: db down (<#CINC>) was reopened."]
    );
    assert!(!p.intents.contains(&Intent::ExportDraft));
    state.status = Status::Investigating;
    let p = plan(
        &incident(),
        &decide(
            &state,
            Change::Status(Status::Monitoring),
            &u("UALICE"),
            Policy::default(),
        )
        .unwrap_or_default(),
        &u("UALICE"),
        at(95),
    );
    assert_eq!(
        p.notices,
        ["<@UALICE> changed the status to *monitoring* (was investigating)."]
    );
    assert_eq!(
        p.announcements,
        ["Incident #7: db down (<#CINC>): status *monitoring*."]
    );
}

#[test]
fn updates_keep_mentions_and_links_ping_nobody_and_titles_are_escaped_as_slack_text() {
    let p = one(
        Fact::UpdatePosted {
            text:
                "<!channel> a & b < c, ask <@UCAROL|carol>, see <https://status.example.com|status>"
                    .into(),
        },
        "UBOB",
        at(10),
    );
    let shown = "@channel a &amp; b &lt; c, ask <@UCAROL>, see <https://status.example.com|status>";
    assert_eq!(
        p.notices,
        [format!(":mega: *Update* from <@UBOB>: {shown}")]
    );
    assert_eq!(
        p.announcements,
        [format!(
            ":mega: Incident #7: db down (<#CINC>) update: {shown}"
        )]
    );
    assert_eq!(
        p.confirmation,
        "Update posted here and to the announcement channel."
    );
    let to = Title::parse("<b> & co").unwrap_or_else(|_| unreachable!());
    let p = one(
        Fact::Renamed {
            from: incident().title,
            to: to.clone(),
        },
        "UALICE",
        at(10),
    );
    assert_eq!(
        p.notices,
        ["<@UALICE> renamed the incident to *&lt;b&gt; &amp; co*."]
    );
    assert_eq!(p.writes, vec![Write::Title(to)]);
    assert!(p.intents.contains(&Intent::RenameChannel));
}

#[test]
fn an_untitled_incident_without_a_channel_is_announced_by_number() {
    let mut i = incident();
    i.title = None;
    i.channel = None;
    let p = plan(
        &i,
        &[Fact::SeverityChanged {
            from: None,
            to: Severity::Sev2,
        }],
        &u("UALICE"),
        at(1),
    );
    assert_eq!(
        p.announcements,
        [":rotating_light: Incident #7 (untitled) is now *SEV2*."]
    );
}

#[test]
fn durations_read_in_the_largest_units_that_matter() {
    assert_eq!(human_duration(Duration::seconds(42)), "42 s");
    assert_eq!(human_duration(Duration::minutes(3)), "3 min");
    assert_eq!(human_duration(Duration::minutes(125)), "2 h 5 min");
    assert_eq!(human_duration(Duration::minutes(60 * 28 + 5)), "1 d 4 h");
    assert_eq!(human_duration(Duration::seconds(-5)), "0 s");
}

#[test]
fn an_update_that_no_announcement_channel_gets_says_it_was_posted_here_only() {
    let quiet = Context {
        announced: false,
        ..incident()
    };
    let p = plan(
        &quiet,
        &[Fact::UpdatePosted {
            text: "rolled back".into(),
        }],
        &u("UBOB"),
        at(10),
    );
    assert_eq!(p.confirmation, "Update posted here.");
}

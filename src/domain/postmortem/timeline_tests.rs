//! The skeleton and readability on real-data shapes: replies in context, deleted thread
//! parents, app posts without a name, code, emoji, possible fixes, the summary, and a
//! 50,000-message incident.

use chrono::Duration;

use super::tests::{at, draft, msg, realistic};
use super::*;

fn build_utc(r: &Record) -> Draft {
    build(
        r,
        chrono_tz::UTC,
        chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap_or_default(),
    )
}

#[test]
fn a_reply_quoted_in_the_timeline_says_what_it_replies_to() {
    let mut r = realistic();
    let mut reply = msg(
        "6.0",
        Some("2.0"),
        at(14, 30),
        "UCAROL",
        Some("it is the pool size"),
    );
    reply.highlighted = true;
    r.messages.push(reply);
    let d = build_utc(&r);
    assert!(d.timeline.iter().any(|t| t.text
        == "★ **carol** (in reply to bob: \"DB connections are maxed out [db dashboard](https://grafana.example.com/d/db)\"): it is the pool size"),
        "{:#?}", d.timeline);
}

#[test]
fn replies_to_a_deleted_thread_parent_stay_in_time_order() {
    let mut r = realistic();
    // Slack's tombstone left the parent without text.
    r.messages = vec![
        msg("10.0", Some("10.0"), at(14, 0), "UBOB", None),
        msg(
            "11.0",
            Some("10.0"),
            at(14, 6),
            "UCAROL",
            Some("first reply"),
        ),
        msg("12.0", None, at(14, 20), "UALICE", Some("top level")),
        msg(
            "13.0",
            Some("10.0"),
            at(14, 30),
            "UBOB",
            Some("second reply"),
        ),
    ];
    let d = build_utc(&r);
    let log: Vec<(&str, &str)> = d
        .log
        .iter()
        .map(|m| (m.author.as_str(), m.text.as_str()))
        .collect();
    assert_eq!(
        log,
        [
            ("carol", "_(in reply to a deleted message)_ first reply"),
            ("alice", "top level"),
            ("bob", "_(in reply to a deleted message)_ second reply"),
        ]
    );
}

#[test]
fn a_reply_to_one_of_herebys_own_posts_is_not_said_to_answer_a_deleted_message() {
    let mut r = realistic();
    // "9.0" is hereby's welcome: its own posts are not recorded.
    let mut reply = msg(
        "11.0",
        Some("9.0"),
        at(14, 6),
        "UCAROL",
        Some("taking comms"),
    );
    reply.highlighted = true;
    r.messages = vec![reply];
    let d = build_utc(&r);
    assert_eq!(
        d.log[0].text,
        "_(in reply to a message not in the record, such as one of hereby's)_ taking comms"
    );
    assert!(
        d.timeline.iter().any(|t| t.text.contains(
            "(in reply to a message not in the record, such as one of hereby's): taking comms"
        )),
        "{:#?}",
        d.timeline
    );
}

#[test]
fn an_app_post_with_only_a_bot_id_is_marked_as_from_an_app() {
    let mut r = realistic();
    let mut alert = msg("20.0", None, at(14, 1), "U", Some("CPU > 90%"));
    alert.user = None;
    alert.from_app = true;
    r.messages = vec![alert];
    let d = build_utc(&r);
    assert_eq!(d.log[0].author, "an app (app)");
    assert!(d.log[0].from_app);
}

#[test]
fn code_and_emoji_read_as_people_wrote_them() {
    let mut r = realistic();
    r.messages = vec![
        msg(
            "30.0",
            None,
            at(14, 1),
            "UBOB",
            Some("```rm -rf ~/.julia``` then <https://x.example/a|x>"),
        ),
        msg(
            "31.0",
            None,
            at(14, 2),
            "UBOB",
            Some(":man-shrugging: no idea :partyparrot:"),
        ),
    ];
    let d = build_utc(&r);
    assert_eq!(
        d.log[0].text,
        "` rm -rf ~/.julia ` then [x](https://x.example/a)"
    );
    assert_eq!(d.log[1].text, "🤷\u{200d}♂\u{fe0f} no idea :partyparrot:");
}

#[test]
fn chat_that_sounds_like_a_fix_is_listed_as_a_candidate_not_counted_as_a_fix() {
    let mut r = realistic();
    r.messages.push(msg(
        "40.0",
        None,
        at(14, 24),
        "UBOB",
        Some("Rolling back the pool change now"),
    ));
    r.messages.push(msg(
        "41.0",
        None,
        at(14, 26),
        "UCAROL",
        Some("restarting didn't help"),
    ));
    r.fixes[1].message_ts = Some("41.0".into());
    let d = build_utc(&r);
    let found: Vec<(&str, &str)> = d
        .possible_fixes
        .iter()
        .map(|p| (p.who.as_str(), p.phrase))
        .collect();
    assert_eq!(found, [("carol", "didn't help"), ("bob", "rolling back")]);
    assert_eq!(d.counts.fixes, 2);
    assert_eq!(d.possible_fixes[1].text, "Rolling back the pool change now");
}

#[test]
fn the_summary_paragraph_comes_from_the_record() {
    let d = draft();
    assert_eq!(
        d.summary,
        "Incident #7, \"Checkout payments failing\", was declared by alice on 2026-11-21 15:00:00 CET (UTC+01:00) at severity SEV1. The impact was mitigated after 42 min, when fix #2 by bob worked: revert the pool size change. It was resolved after 1 h 12 min. 3 people took part; 2 action items are open."
    );
}

/// A big incident: 50,000 messages from a dozen people over two days, threads, bursts.
pub fn big(messages: usize) -> Record {
    let mut r = realistic();
    let people = [
        "UALICE", "UBOB", "UCAROL", "UD", "UE", "UF", "UG", "UH", "UI", "UJ", "UK", "UL",
    ];
    r.messages = (0..messages)
        .map(|i| {
            let t = at(14, 0) + Duration::seconds((i as i64) * 172_800 / messages.max(1) as i64);
            let ts = format!("{}.{i:06}", t.timestamp());
            let thread = (i % 7 == 3).then(|| format!("{}.{:06}", t.timestamp(), i - 3));
            let mut m = msg(&ts, None, t, people[i % people.len()], Some("checking the gateway timeouts again :eyes: <https://grafana.example.com/d/gw|gw>"));
            m.thread_ts = thread;
            m.highlighted = i % 5_000 == 0;
            m
        })
        .collect();
    r
}

#[test]
fn a_fifty_thousand_message_incident_gets_a_timeline_of_a_few_hundred_lines() {
    let d = build_utc(&big(50_000));
    assert!(d.timeline.len() <= 300, "{} lines", d.timeline.len());
    assert_eq!(d.counts.messages, 50_000);
    assert!(d.timeline.iter().filter(|t| t.kind == "highlight").count() == 10);
}

fn timeline_texts(r: &Record) -> Vec<String> {
    build_utc(r).timeline.into_iter().map(|t| t.text).collect()
}

#[test]
fn a_closed_action_item_reaches_the_draft() {
    use crate::domain::actions::ActionStatus;
    use crate::domain::timeline::TimelineEntry;

    let mut r = realistic();
    r.entries.push(super::tests::entry(
        at(14, 20),
        "UBOB",
        TimelineEntry::ActionAdded {
            number: 1,
            text: "Alert on the pool size".into(),
            owner: None,
            due: None,
        },
    ));
    r.entries.push(super::tests::entry(
        at(14, 55),
        "UALICE",
        TimelineEntry::ActionClosed {
            number: 1,
            status: ActionStatus::Done,
            text: Some("Alert on the pool size".into()),
        },
    ));
    let d = build_utc(&r);
    let closed = d
        .timeline
        .iter()
        .find(|t| t.text == "Action item #1 closed as done by alice: Alert on the pool size")
        .unwrap_or_else(|| panic!("{:#?}", d.timeline));
    assert_eq!(closed.kind, "action");
    assert_eq!(closed.at, "2026-11-21 14:55:00 UTC (UTC+00:00)");
}

#[test]
fn an_action_item_closed_before_its_text_was_recorded_still_reaches_the_draft() {
    use crate::domain::timeline::TimelineEntry;

    let mut r = realistic();
    r.entries.push(super::tests::entry(
        at(14, 55),
        "UALICE",
        TimelineEntry::from_stored(
            "action_closed",
            serde_json::json!({"number": 3, "status": "wontfix"}),
        ),
    ));
    assert!(timeline_texts(&r).contains(&"Action item #3 closed as won't fix by alice".into()));
}

#[test]
fn the_post_mortem_s_own_status_and_owner_reach_the_draft() {
    use crate::domain::timeline::TimelineEntry;

    let mut r = realistic();
    r.entries.push(super::tests::entry(
        at(15, 20),
        "UALICE",
        TimelineEntry::PostmortemOwner {
            user: super::tests::u("UCAROL"),
        },
    ));
    r.entries.push(super::tests::entry(
        at(15, 30),
        "UCAROL",
        TimelineEntry::PostmortemStatus {
            to: ReviewStatus::InReview,
        },
    ));
    let texts = timeline_texts(&r);
    assert!(
        texts.contains(&"alice made carol the post-mortem's owner".into()),
        "{texts:#?}"
    );
    assert!(texts.contains(&"carol set the post-mortem's status to In review".into()));
}

#[test]
fn an_entry_this_version_cannot_read_is_left_out_of_the_draft() {
    use crate::domain::timeline::TimelineEntry;

    let mut r = realistic();
    let before = build_utc(&r).timeline.len();
    r.entries.push(super::tests::entry(
        at(14, 30),
        "UALICE",
        TimelineEntry::from_stored("paged", serde_json::json!({"service": "checkout"})),
    ));
    assert_eq!(build_utc(&r).timeline.len(), before);
}

//! At resolve: the post-mortem draft, built from the record and shared in the channel; the
//! command line's copy; action items and the follow-up reviews that chase them.

use serde_json::{json, Value};

use crate::helpers::*;

fn position(md: &str, needle: &str) -> usize {
    md.find(needle)
        .unwrap_or_else(|| panic!("the draft lacks {needle:?}:\n{md}"))
}

#[tokio::test]
async fn resolving_a_full_incident_shares_a_draft_with_everything_the_record_knows_in_order() {
    let app = spawn_app().await;
    let c = app.declared("Checkout payments failing").await;
    app.command(&c, "W111", "role comms <@W222|bob>").await;
    app.command(&c, "W111", "severity sev1").await;
    let (m1, m2, m3, m4, m5) = (ts_now(), ts_now(), ts_now(), ts_now(), ts_now());
    deliver(
        &app,
        "EvPm1",
        say(
            &c,
            "W333",
            &m1,
            "DB pool exhausted, see <https://grafana.example.com/d/db|db dashboard>",
        ),
    )
    .await;
    deliver(
        &app,
        "EvPm2",
        say(&c, "W222", &m2, "this message will be deleted: secret-ish"),
    )
    .await;
    let mut reply = say(&c, "W444", &m3, "replying in the thread");
    reply["thread_ts"] = json!(m1);
    deliver(&app, "EvPm3", reply).await;
    deliver(&app, "EvPm4", say(&c, "W333", &m4, "typo in this mesage")).await;
    let mut file = say(&c, "W333", &m5, "graph attached");
    file["subtype"] = json!("file_share");
    file["files"] = json!([{"id": "F9", "name": "pool.png", "title": "pool graph", "filetype": "png", "permalink": "https://test.slack.com/files/W333/F9/pool.png"}]);
    deliver(&app, "EvPm5", file).await;
    app.wait_for_rows("messages", 5).await;
    deliver(&app, "EvPm6", json!({"type": "message", "subtype": "message_changed", "channel": c,
        "message": {"type": "message", "user": "W333", "text": "typo in this message", "ts": m4, "edited": {"user": "W333", "ts": ts(1006)}},
        "event_ts": ts(1006), "ts": ts(1006)})).await;
    deliver(&app, "EvPm7", json!({"type": "message", "subtype": "message_deleted", "channel": c, "deleted_ts": m2, "event_ts": ts(1007), "ts": ts(1007)})).await;
    app.command(&c, "W333", "tried restart the checkout pods -> failed")
        .await;
    app.command(&c, "W333", "tried revert the pool size change -> worked")
        .await;
    app.command(
        &c,
        "W111",
        "note Call with the payment provider: healthy on their side",
    )
    .await;
    app.command(
        &c,
        "W444",
        "docs <https://wiki.example.com/pool|pool runbook> names the old config",
    )
    .await;
    let reply = app
        .command(
            &c,
            "W111",
            "action Alert when the DB pool is above 90% <@W333|carol> due 2026-12-15",
        )
        .await;
    assert_eq!(reply["text"], "Added action item #1.");
    let reply = app
        .command(&c, "W111", "action Improve documentation")
        .await;
    assert!(
        reply["text"]
            .as_str()
            .unwrap()
            .contains("vague (\"improve documentation\")"),
        "{reply}"
    );
    app.command(&c, "W111", "resolve").await;

    app.eventually("the draft is shared in the channel", |s| {
        !s.shared_files().is_empty()
    })
    .await;
    let shared = app.slack.shared_files().remove(0);
    assert_eq!(shared.channel, c);
    assert_eq!(
        shared.title,
        "Post-mortem draft v1: Checkout payments failing"
    );
    assert!(
        shared.comment.contains("Post-mortem draft v1") && shared.comment.contains("Left for you"),
        "{}",
        shared.comment
    );
    assert_eq!(app.slack.calls_to("files.getUploadURLExternal").len(), 1);
    let store = app.store().await;
    let file_id: String = sqlx::Row::get(
        &sqlx::query("SELECT file_id FROM postmortems WHERE version = 1")
            .fetch_one(store.pool())
            .await
            .unwrap(),
        "file_id",
    );
    assert_eq!(
        file_id, shared.id,
        "the stored draft knows the file it was shared as"
    );
    let md = shared.content;

    // Title, owner, severity, key times with the zone, and the sections people must write.
    assert!(
        md.starts_with("# Post-mortem: Checkout payments failing (incident #1)"),
        "{md}"
    );
    assert!(md.contains("| **Owner** | disp-w111 |"), "{md}");
    assert!(md.contains("| **Severity** | SEV1 |"));
    assert!(md.contains("UTC (UTC+00:00)"));
    assert!(
        !md.contains("_not recorded — when did the impact stop?_"),
        "the working fix marks mitigation"
    );
    for section in [
        "## Executive summary",
        "## Impact",
        "## Contributing factors",
        "## Mitigating factors",
        "## Lessons learned",
        "## A blameless reminder",
    ] {
        assert!(md.contains(section), "missing {section}");
    }
    // The timeline skeleton, in order.
    let order = [
        "Incident declared by disp-w111",
        "disp-w111 made disp-w222 communications lead",
        "disp-w111 set severity to SEV1",
        "disp-w333, disp-w444 · \"DB pool exhausted, see [db dashboard](https://grafana.example.com/d/db)\"",
        "Fix #1 tried by disp-w333: restart the checkout pods (failed)",
        "Fix #2 tried by disp-w333: revert the pool size change (worked)",
        "Note by disp-w111 (outside the chat)",
        "Documentation trouble noted by disp-w444: [pool runbook](https://wiki.example.com/pool)",
        "Action item #1 added by disp-w111",
        "disp-w111 resolved the incident",
    ];
    let positions: Vec<usize> = order.iter().map(|n| position(&md, n)).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "timeline out of order: {positions:?}\n{md}"
    );
    // Fixes, actions with flags, links, and the log with edits marked, deletions left out and
    // replies under their parent.
    assert!(md.contains("| 2 | revert the pool size change | disp-w333 |"));
    assert!(
        md.contains("| 1 | Alert when the DB pool is above 90% | disp-w333 | 2026-12-15 | open |")
    );
    assert!(md.contains("- #2: vague (\"improve documentation\")"));
    assert!(md.contains("| [db dashboard](https://grafana.example.com/d/db) | disp-w333 |"));
    assert!(md.contains("disp-w333 _(edited)_: typo in this message"));
    assert!(
        !md.contains("secret-ish"),
        "a deleted message's text never reaches the draft"
    );
    assert!(md.contains("1 deleted message left out."));
    let parent = position(&md, "disp-w333: DB pool exhausted");
    let child = position(&md, "  - **");
    assert!(child > parent && md[child..].contains("replying in the thread"));
    assert!(md.contains("[pool graph](https://test.slack.com/files/W333/F9/pool.png)"));
}

#[tokio::test]
async fn resolving_again_after_reopening_shares_a_new_version() {
    let app = spawn_app().await;
    let c = app.declared("flapping").await;
    app.command(&c, "W111", "resolve").await;
    app.eventually("v1 is shared", |s| s.shared_files().len() == 1)
        .await;
    app.command(&c, "W111", "reopen").await;
    app.command(&c, "W111", "resolve").await;
    app.eventually("v2 is shared", |s| s.shared_files().len() == 2)
        .await;
    assert_eq!(
        app.slack.shared_files()[1].title,
        "Post-mortem draft v2: flapping"
    );
    assert_eq!(app.count("postmortems").await, 2);
}

#[tokio::test]
async fn the_command_line_prints_the_current_draft_of_an_open_incident() {
    let app = spawn_app().await;
    let c = app.declared("cli draft").await;
    app.command(&c, "W111", "note checked the load balancer")
        .await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hereby"))
        .args(["postmortem", "1"])
        .env_clear()
        .env("DATABASE_URL", &app.db_url)
        .env("HEREBY_TIMEZONE", "Europe/Berlin")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("# Post-mortem: cli draft (incident #1)"),
        "{stdout}"
    );
    assert!(stdout.contains("checked the load balancer"));
    assert!(stdout.contains("| **Resolved** | _not resolved yet_ |"));
    let missing = std::process::Command::new(env!("CARGO_BIN_EXE_hereby"))
        .args(["postmortem", "99"])
        .env_clear()
        .env("DATABASE_URL", &app.db_url)
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no incident 99"));
}

/// An app whose follow-up reviews come every second, with an incident resolved with one
/// action item (`action`, as typed after `/incident action`); its channel.
async fn resolved_with_an_action_item(title: &str, action: &str) -> (TestApp, String) {
    let app = spawn_app_with(Options {
        env: vec![("HEREBY_FOLLOWUP_INTERVAL", "1s".into())],
        ..Options::default()
    })
    .await;
    let c = app.declared(title).await;
    app.command(&c, "W111", &format!("action {action}")).await;
    app.command(&c, "W111", "resolve").await;
    (app, c)
}

#[tokio::test]
async fn open_action_items_are_followed_up_until_every_one_is_closed() {
    let (app, c) = resolved_with_an_action_item(
        "follow me up",
        "Alert on pool usage above 90% <@W555|dana> due 2026-12-15",
    )
    .await;
    app.eventually("a follow-up review is posted in the channel", |s| {
        s.messages_in(&c).iter().any(|m| {
            m.text.contains("Follow-up review") && m.text.contains(": 1 action item still open.")
        })
    })
    .await;
    app.eventually("the owner is reminded directly", |s| {
        s.messages_in("W555").iter().any(|m| {
            m.text.contains("you own 1 open action item.")
                && m.text.contains("#1 Alert on pool usage above 90%")
        })
    })
    .await;

    let reply = app.command(&c, "W555", "action done 1").await;
    assert!(
        reply["text"]
            .as_str()
            .unwrap()
            .contains("no more follow-up reminders"),
        "{reply}"
    );
    app.settle().await;
    let reviews = |app: &TestApp| {
        app.slack
            .messages_in(&c)
            .iter()
            .filter(|m| m.text.contains("Follow-up review"))
            .count()
    };
    let before = reviews(&app);
    // Nothing is scheduled any more, so no later review can come; the workers, stepped until
    // idle, post none either.
    assert_eq!(app.count("followups").await, 0);
    app.settle().await;
    assert_eq!(
        reviews(&app),
        before,
        "no reminders once every item is closed"
    );
}

/// The first button of a reminder's blocks that closes action item `number` as `status`,
/// pressed by `user` in conversation `channel`.
fn close_press(blocks: &Value, number: i64, status: &str, user: &str, channel: &str) -> Value {
    let action_id = format!("close_action:{number}:{status}");
    let button = blocks
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["elements"].as_array())
        .flatten()
        .find(|e| e["action_id"] == action_id.as_str())
        .unwrap_or_else(|| panic!("no {action_id} button in {blocks}"))
        .clone();
    json!({"type": "block_actions", "team": {"id": TEAM}, "user": {"id": user},
           "channel": {"id": channel}, "container": {"type": "message", "channel_id": channel},
           "trigger_id": "1.2.3", "actions": [button]})
}

#[tokio::test]
async fn an_owner_closes_an_action_item_from_the_reminder_in_their_direct_messages() {
    let (app, c) = resolved_with_an_action_item(
        "close from the reminder",
        "Rotate the leaked key <@W555|dana> due 2026-12-15",
    )
    .await;
    let reminder = app
        .eventually_some("the owner is reminded with buttons", |s| {
            s.messages_in("W555").into_iter().find_map(|m| {
                m.blocks
                    .filter(|_| m.text.contains("you own 1 open action item"))
            })
        })
        .await;

    // The owner's direct conversation with hereby, where no command works.
    let mut press = close_press(&reminder, 1, "done", "W555", "D0555");
    // Slack sends the message pressed on back, with where to redraw it.
    press["response_url"] = json!(app.slack.response_url());
    press["message"] = json!({"type": "message", "text": "A reminder", "blocks": reminder});
    assert_eq!(app.interaction(&press).await.status(), 200);
    app.eventually(
        "the presser hears it is closed, and that the reminders end",
        |s| {
            s.ephemerals().iter().any(|(channel, user, text)| {
                channel == "D0555"
                    && user == "W555"
                    && text.contains("Action item #1 is done. Every action item is closed")
            })
        },
    )
    .await;
    let redrawn = app
        .eventually_some("the reminder is redrawn without the item's buttons", |s| {
            s.responses()
                .into_iter()
                .map(|(_, body)| body)
                .find(|body| body["replace_original"] == true)
        })
        .await;
    let blocks = redrawn["blocks"].to_string();
    assert!(
        !blocks.contains("close_action:1:done") && blocks.contains("Action item #1 is done"),
        "{redrawn}"
    );
    assert_eq!(redrawn["text"], "A reminder");
    app.eventually("the channel hears who closed it", |s| {
        s.messages_in(&c)
            .iter()
            .any(|m| m.text.contains("<@W555> closed action item #1 as done"))
    })
    .await;
    assert_eq!(app.count("followups").await, 0, "no more follow-ups");

    // A second press (an old reminder, say) changes nothing and says so.
    assert_eq!(app.interaction(&press).await.status(), 200);
    app.eventually(
        "the second press is told the item was closed already",
        |s| {
            s.ephemerals()
                .iter()
                .any(|(_, user, text)| user == "W555" && text == "Action item #1 is already done.")
        },
    )
    .await;
    app.settle().await;
    let closings = app
        .slack
        .messages_in(&c)
        .iter()
        .filter(|m| m.text.contains("closed action item #1"))
        .count();
    assert_eq!(closings, 1, "closed once, said once");
}

#[tokio::test]
async fn the_follow_up_review_of_an_archived_channel_goes_to_the_commander_directly() {
    let (app, c) = resolved_with_an_action_item(
        "archived after the review",
        "Write the capacity runbook due 2026-12-15",
    )
    .await;
    app.eventually("the draft is shared", |s| !s.shared_files().is_empty())
        .await;
    // The team archives the channel once the incident is over, as many do.
    app.slack.archive(&c);

    let review = app
        .eventually_some("the commander gets the review directly", |s| {
            s.messages_in("W111").into_iter().find_map(|m| {
                m.blocks
                    .filter(|_| m.text.contains("Follow-up review") && m.text.contains("archived"))
            })
        })
        .await;
    let press = close_press(&review, 1, "wontfix", "W111", "D0111");
    assert_eq!(app.interaction(&press).await.status(), 200);
    app.eventually("the item is closed from the direct message", |s| {
        s.ephemerals().iter().any(|(_, user, text)| {
            user == "W111" && text.starts_with("Action item #1 is won't fix.")
        })
    })
    .await;
    app.settle().await;
    // Saying so in the archived channel is refused; for an incident that is over that is the
    // team's choice, not something to report.
    let reports: Vec<String> = app
        .slack
        .messages_in("W111")
        .into_iter()
        .map(|m| m.text)
        .filter(|t| t.contains("Unarchive"))
        .collect();
    assert!(reports.is_empty(), "{reports:?}");
    assert_eq!(app.count("followups").await, 0);
}

#[tokio::test]
async fn an_owner_is_reminded_directly_once_when_their_action_item_comes_due() {
    use chrono::TimeZone;
    use hereby::jobs::{followups::FollowUpWorker, Outcome};
    let berlin = chrono_tz::Europe::Berlin;
    let app = spawn_app_with(Options {
        env: vec![("HEREBY_TIMEZONE", "Europe/Berlin".into())],
        ..Options::default()
    })
    .await;
    let c = app.declared("due dates").await;
    let due = (chrono::Utc::now() + chrono::Duration::days(3))
        .with_timezone(&berlin)
        .date_naive();
    app.command(
        &c,
        "W111",
        &format!("action Renew the certificate <@W555|dana> due {due}"),
    )
    .await;
    // A date already past is pointed out when the item is added; no reminder follows it.
    app.command(
        &c,
        "W111",
        "action Backfill the audit log <@W555|dana> due 2020-01-01",
    )
    .await;
    app.settle().await;
    let at = |day: chrono::NaiveDate, hour: u32, minute: u32| {
        berlin
            .from_local_datetime(&day.and_hms_opt(hour, minute, 0).unwrap())
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let worker = FollowUpWorker::new(app.app.clone());
    let day_before = due.pred_opt().unwrap();
    assert_eq!(
        worker.run_once_at(at(day_before, 20, 0)).await.unwrap(),
        Outcome::Idle,
        "not the evening before"
    );
    assert_eq!(
        worker.run_once_at(at(due, 8, 0)).await.unwrap(),
        Outcome::Idle,
        "not before nine in the team's time zone"
    );
    assert_eq!(
        worker.run_once_at(at(due, 9, 30)).await.unwrap(),
        Outcome::Worked
    );
    let reminder = app
        .eventually_some("the owner is reminded directly, with buttons", |s| {
            s.messages_in("W555").into_iter().find_map(|m| {
                m.blocks.filter(|_| {
                    m.text
                        .contains(&format!("Your action item #1 is due today ({due})"))
                        && m.text.contains("#1 Renew the certificate")
                })
            })
        })
        .await;
    assert!(reminder.to_string().contains("close_action:1:done"));
    assert_eq!(
        worker
            .run_once_at(at(due.succ_opt().unwrap(), 10, 0))
            .await
            .unwrap(),
        Outcome::Idle,
        "once"
    );
    app.settle().await;
    let reminders: Vec<String> = app
        .slack
        .messages_in("W555")
        .into_iter()
        .map(|m| m.text)
        .filter(|t| t.contains(":alarm_clock:"))
        .collect();
    assert_eq!(reminders.len(), 1, "{reminders:?}");
}

#[tokio::test]
async fn an_owner_lists_their_open_items_from_every_incident_anywhere_and_closes_one() {
    let app = spawn_app().await;
    let first = app.declared("first outage").await;
    let second = app.declared("second outage").await;
    for (channel, item) in [
        (&first, "Add a canary for the pool <@W555|dana>"),
        (&first, "Not dana's <@W666|erin>"),
        (&second, "Page on queue depth <@W555|dana> due 2026-12-01"),
        (&second, "Already done <@W555|dana>"),
    ] {
        app.command(channel, "W111", &format!("action {item}"))
            .await;
    }
    app.command(&second, "W555", "action done 2").await;

    // Typed outside any incident channel.
    let reply = app.command("C111", "W555", "actions mine").await;
    let text = reply["text"].as_str().unwrap();
    assert!(
        text.contains("2 items from 2 incidents")
            && text.contains("Add a canary for the pool")
            && text.contains("Page on queue depth")
            && !text.contains("Not dana's")
            && !text.contains("Already done"),
        "{text}"
    );
    let blocks = &reply["blocks"];
    assert!(
        blocks.to_string().contains(&format!("<#{second}>")),
        "{blocks}"
    );

    // Pressed where hereby is not (a channel it was never invited to): told directly.
    let press = close_press(blocks, 1, "done", "W555", "C999");
    assert_eq!(app.interaction(&press).await.status(), 200);
    app.eventually("the presser hears it directly", |s| {
        s.messages_in("W555")
            .iter()
            .any(|m| m.text.starts_with("Action item #1 is done."))
    })
    .await;
    let reply = app.command("C111", "W555", "actions mine").await;
    let text = reply["text"].as_str().unwrap();
    assert!(text.contains("1 item from 1 incident"), "{text}");

    let other = app.command("C111", "W777", "actions mine").await;
    assert_eq!(other["text"], "You own no open action items. :tada:");
}

#[tokio::test]
async fn an_open_item_is_given_to_someone_else_and_moved_and_its_new_owner_is_reminded_then() {
    use hereby::jobs::{followups::FollowUpWorker, Outcome};
    let app = spawn_app().await;
    let c = app.declared("changing hands").await;
    let first = (chrono::Utc::now() + chrono::Duration::days(3)).date_naive();
    let later = first + chrono::Duration::days(7);
    app.command(
        &c,
        "W111",
        &format!("action Rotate the signing key <@W555|dana> due {first}"),
    )
    .await;

    let reply = app.command(&c, "W111", "action owner 1 <@W666|erin>").await;
    assert_eq!(
        reply["text"],
        format!("Action item #1 is now <@W666>'s; they are reminded on {first}.")
    );
    let reply = app
        .command(&c, "W111", &format!("action due #1 {later}"))
        .await;
    assert_eq!(reply["text"], format!("Action item #1 is now due {later}."));
    app.eventually("the channel hears both changes", |s| {
        let said: Vec<String> = s.messages_in(&c).into_iter().map(|m| m.text).collect();
        said.iter()
            .any(|t| t.contains("<@W111> gave action item #1 to <@W666>: Rotate the signing key"))
            && said
                .iter()
                .any(|t| t.contains(&format!("<@W111> moved action item #1 to {later}")))
    })
    .await;
    let mine = app.command("C111", "W666", "actions mine").await;
    assert!(mine["text"]
        .as_str()
        .unwrap()
        .contains("Rotate the signing key"));

    // The reminder comes on the new date, to the new owner.
    let worker = FollowUpWorker::new(app.app.clone());
    let noon = |day: chrono::NaiveDate| day.and_hms_opt(12, 0, 0).unwrap().and_utc();
    assert_eq!(
        worker.run_once_at(noon(first)).await.unwrap(),
        Outcome::Idle
    );
    assert_eq!(
        worker.run_once_at(noon(later)).await.unwrap(),
        Outcome::Worked
    );
    app.eventually("the new owner is reminded", |s| {
        s.messages_in("W666").iter().any(|m| {
            m.text
                .contains(&format!("Your action item #1 is due today ({later})"))
        })
    })
    .await;
    assert!(
        app.slack.messages_in("W555").is_empty(),
        "not the old owner"
    );

    app.command(&c, "W666", "action done 1").await;
    let reply = app.command(&c, "W111", "action owner 1 me").await;
    assert_eq!(
        reply["text"],
        "Action item #1 is already done; only an open item changes."
    );
    app.command(&c, "W111", "resolve").await;
    app.eventually("the draft is shared", |s| !s.shared_files().is_empty())
        .await;
    let md = app.slack.shared_files().remove(0).content;
    assert!(
        md.contains("Action item #1 (Rotate the signing key) given to")
            && md.contains(&format!(
                "Action item #1 (Rotate the signing key) now due {later}"
            )),
        "{md}"
    );
}

#[tokio::test]
async fn an_item_due_on_the_teams_today_is_not_past_while_utc_is_already_tomorrow() {
    use hereby::domain::actions::NewAction;
    use hereby::domain::{TeamId, UserId};
    let app = spawn_app().await;
    app.declared("late in the day").await;
    let store = app.store().await;
    let mut conn = store.conn().await.unwrap();
    let incident = hereby::store::incidents::get(&mut conn, &TeamId::new(TEAM), 1)
        .await
        .unwrap();
    // Evening in San Francisco: the team's date is a day behind UTC's.
    let now = chrono::Utc::now();
    let teams_today = now.date_naive().pred_opt().unwrap();
    let new = NewAction {
        text: "Renew the certificate".into(),
        owner: Some(UserId::new("W555")),
        due: Some(teams_today),
    };
    let reply = hereby::app::actions::add_action(
        &mut conn,
        &incident,
        &new,
        &UserId::new("W111"),
        now,
        teams_today,
        chrono::Duration::days(30),
    )
    .await
    .unwrap();
    assert_eq!(reply, "Added action item #1.", "due today, not past");
    assert!(
        hereby::store::postmortems::next_due_reminder(&mut conn, teams_today)
            .await
            .unwrap()
            .is_some(),
        "its owner is still to be reminded today"
    );
}

#[tokio::test]
async fn action_items_can_be_listed_and_added_after_resolution() {
    let app = spawn_app().await;
    let c = app.declared("late actions").await;
    app.command(&c, "W111", "resolve").await;
    let reply = app
        .command(
            &c,
            "W111",
            "action Add a load test for checkout <@W555> due 2026-12-20",
        )
        .await;
    assert_eq!(reply["text"], "Added action item #1.");
    let list = app.command(&c, "W222", "actions").await;
    assert!(
        list["text"]
            .as_str()
            .unwrap()
            .contains("*#1* Add a load test for checkout — <@W555>, due 2026-12-20, *open*"),
        "{list}"
    );
    assert_eq!(
        app.count("followups").await,
        1,
        "added after resolution, it is followed up too"
    );
    let reply = app.command(&c, "W111", "action done 7").await;
    assert_eq!(
        reply["text"],
        "There is no action item #7; `/incident actions` lists them."
    );
}

#[tokio::test]
async fn with_canvases_enabled_the_draft_also_becomes_a_canvas_in_the_channel() {
    let app = spawn_app_with(Options {
        env: vec![("HEREBY_POSTMORTEM_CANVAS", "true".into())],
        ..Options::default()
    })
    .await;
    let c = app.declared("canvas please").await;
    app.command(&c, "W111", "resolve").await;
    // Two separate steps, in either order.
    app.eventually("the canvas exists and the file is shared as well", |s| {
        !s.canvases().is_empty() && !s.shared_files().is_empty()
    })
    .await;
    app.settle().await;
    let (channel, title, markdown) = app.slack.canvases().remove(0);
    assert_eq!(channel, c);
    assert_eq!(title, "Post-mortem draft v1: incident #1");
    assert!(markdown.starts_with("# Post-mortem: canvas please (incident #1)"));
    assert_eq!(app.slack.canvases().len(), 1, "one canvas");
    assert_eq!(app.slack.shared_files().len(), 1, "one file");
}

#[tokio::test]
async fn an_export_interrupted_after_storing_the_draft_is_not_shared_twice() {
    let app = spawn_app().await;
    let c = app.declared("flaky upload").await;
    app.slack.fail_next(
        "files.completeUploadExternal",
        [crate::fake_slack::Failure::Status(503)],
    );
    app.command(&c, "W111", "resolve").await;
    app.eventually("the draft is shared after the retry", |s| {
        s.shared_files().len() == 1
    })
    .await;
    app.settle().await;
    assert_eq!(app.slack.shared_files().len(), 1);
    assert_eq!(
        app.count("postmortems").await,
        1,
        "the retry reuses version 1"
    );
}

#[tokio::test]
async fn an_action_item_closed_during_the_incident_is_in_the_shared_draft() {
    let app = spawn_app().await;
    let c = app.declared("closing actions").await;
    app.command(
        &c,
        "W111",
        "action Alert on pool usage above 90% <@W555|dana> due 2026-12-15",
    )
    .await;
    let reply = app.command(&c, "W111", "action done 1").await;
    assert!(
        reply["text"]
            .as_str()
            .unwrap()
            .starts_with("Action item #1 is done."),
        "{reply}"
    );
    app.command(&c, "W111", "resolve").await;
    app.eventually("the draft is shared", |s| !s.shared_files().is_empty())
        .await;
    let md = app.slack.shared_files().remove(0).content;
    let added = position(&md, "Action item #1 added by disp-w111");
    let closed = position(
        &md,
        "Action item #1 closed as done by disp-w111: Alert on pool usage above 90%",
    );
    let resolved = position(&md, "disp-w111 resolved the incident");
    assert!(added < closed && closed < resolved, "{md}");
    assert!(app.timeline().await.contains(&"action_closed".to_string()));
}

#[tokio::test]
async fn a_timeline_entry_from_a_newer_version_leaves_the_draft_readable() {
    let app = spawn_app().await;
    let c = app.declared("newer rows").await;
    app.command(&c, "W111", "note checked the load balancer")
        .await;
    let store = app.store().await;
    sqlx::query(
        "INSERT INTO timeline_entries (team_id, incident_id, kind, actor, occurred_at, detail)
         VALUES ($1, 1, 'paged', NULL, 0, '{\"service\": \"checkout\"}')",
    )
    .bind(TEAM)
    .execute(store.pool())
    .await
    .unwrap();
    let md = app.cli(&["postmortem", "1"]);
    assert!(md.contains("checked the load balancer"), "{md}");
    assert!(!md.contains("checkout"), "{md}");
    app.command(&c, "W111", "resolve").await;
    app.eventually("the draft is shared", |s| !s.shared_files().is_empty())
        .await;
}

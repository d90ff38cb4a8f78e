//! `/incident` in an incident channel: roles, severity, status, updates, the live summary,
//! permissions, and an answer for every mistake.

use serde_json::json;

use crate::helpers::*;

fn text(reply: &serde_json::Value) -> String {
    assert_eq!(reply["response_type"], "ephemeral", "{reply}");
    reply["text"].as_str().unwrap().to_string()
}

fn channel_says(app: &TestApp, channel: &str, needle: &str) -> bool {
    app.slack
        .messages_in(channel)
        .iter()
        .any(|m| m.text.contains(needle))
}

#[tokio::test]
async fn the_commander_hands_out_a_role_and_the_channel_summary_and_history_show_it() {
    let app = spawn_app().await;
    let c = app.declared("payments down").await;

    let reply = app.command(&c, "W111", "role comms <@W222|bob>").await;
    assert_eq!(text(&reply), "<@W222> is now the communications lead.");

    app.eventually("the channel is told", |_| {
        channel_says(&app, &c, "<@W111> made <@W222> communications lead.")
    })
    .await;
    app.eventually("bob is invited", |s| {
        s.channels()
            .iter()
            .any(|ch| ch.id == c && ch.members.contains(&"W222".to_string()))
    })
    .await;
    app.eventually("the pinned summary shows bob", |s| {
        s.messages_in(&c).iter().any(|m| {
            m.blocks
                .as_ref()
                .is_some_and(|b| b.to_string().contains("*Communications lead*: <@W222>"))
        })
    })
    .await;
    assert!(!app.slack.calls_to("chat.update").is_empty());
    app.settle().await;
    assert_eq!(
        app.count_where("outbox", "step = 'refresh_summary' AND attempts > 1")
            .await,
        0,
        "hereby understood Slack's answer to chat.update the first time"
    );

    // Handing the commander role on keeps the history and changes the topic.
    app.command(&c, "W111", "role ic <@W333>").await;
    app.eventually("the topic names the new commander", |s| {
        s.channels()
            .iter()
            .any(|ch| ch.id == c && ch.topic.contains("Commander: <@W333>"))
    })
    .await;
    app.eventually("the hand-over is announced", |_| {
        channel_says(&app, &c, "taking over from <@W111>")
    })
    .await;
    let kinds = app.timeline().await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "role_assigned").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        app.count("role_assignments").await,
        3,
        "the commander's history is kept"
    );
}

#[tokio::test]
async fn anyone_may_take_an_unfilled_role_but_only_leads_hand_roles_out() {
    let app = spawn_app().await;
    let c = app.declared("search slow").await;
    assert_eq!(
        text(&app.command(&c, "W444", "role scribe me").await),
        "<@W444> is now the scribe."
    );
    let refused = text(&app.command(&c, "W444", "role ops <@W555>").await);
    assert!(
        refused.starts_with(
            "Only the incident commander (<@W111>) or the deputy (nobody yet) can hand out roles."
        ),
        "{refused}"
    );
    let taken = text(&app.command(&c, "W555", "role scribe me").await);
    assert!(taken.contains("That role is taken"), "{taken}");
    // The deputy may hand out roles too.
    app.command(&c, "W111", "role deputy <@W666>").await;
    assert_eq!(
        text(&app.command(&c, "W666", "role ops <@W555>").await),
        "<@W555> is now the operations lead."
    );
}

#[tokio::test]
async fn severity_and_status_changes_reach_the_topic_the_channel_and_the_announcement_channel() {
    let app = spawn_app().await;
    let c = app.declared("queue backlog").await;
    assert_eq!(
        text(&app.command(&c, "W111", "severity SEV1").await),
        "Severity set to SEV1."
    );
    assert_eq!(
        text(&app.command(&c, "W111", "status identified").await),
        "Status: identified."
    );
    app.eventually("the topic follows", |s| {
        s.channels().iter().any(|ch| {
            ch.id == c
                && ch.topic.contains("Severity: SEV1")
                && ch.topic.contains("Status: identified")
        })
    })
    .await;
    app.eventually("the announcement channel hears both", |_| {
        channel_says(&app, "CANNOUNCE", "is now *SEV1*")
            && channel_says(&app, "CANNOUNCE", "status *identified*")
    })
    .await;
    app.eventually("the channel hears both", |_| {
        channel_says(&app, &c, "set the severity to *SEV1*")
            && channel_says(
                &app,
                &c,
                "changed the status to *identified* (was investigating)",
            )
    })
    .await;
    let kinds = app.timeline().await;
    assert!(
        kinds.contains(&"severity_changed".to_string())
            && kinds.contains(&"status_changed".to_string()),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn only_the_leads_change_severity_and_resolve_and_the_refusal_says_who_can() {
    let app = spawn_app().await;
    let c = app.declared("dns").await;
    let refused = text(&app.command(&c, "W999", "severity sev2").await);
    assert_eq!(
        refused,
        "Only the incident commander (<@W111>) or the deputy (nobody yet) can change the severity."
    );
    let refused = text(&app.command(&c, "W999", "resolve").await);
    assert!(refused.contains("can resolve the incident"), "{refused}");
    assert!(!app
        .timeline()
        .await
        .contains(&"severity_changed".to_string()));
}

#[tokio::test]
async fn open_commands_let_anyone_run_the_incident() {
    let app = spawn_app_with(Options {
        env: vec![("HEREBY_OPEN_COMMANDS", "true".into())],
        ..Options::default()
    })
    .await;
    let c = app.declared("small team").await;
    assert_eq!(
        text(&app.command(&c, "W999", "severity sev2").await),
        "Severity set to SEV2."
    );
    assert_eq!(
        text(&app.command(&c, "W999", "role ops <@W555>").await),
        "<@W555> is now the operations lead."
    );
}

#[tokio::test]
async fn the_people_and_links_an_update_names_stay_mentions_and_links_where_it_is_posted() {
    let app = spawn_app().await;
    let c = app.declared("api errors").await;
    app.command(
        &c,
        "W777",
        "update <@W333|carol> rolled back, see <https://status.example.com|the status page> &lt;3",
    )
    .await;
    app.eventually("the channel has the update with its mention and link", |_| {
        channel_says(
            &app,
            &c,
            ":mega: *Update* from <@W777>: <@W333> rolled back, see <https://status.example.com|the status page> &lt;3",
        )
    })
    .await;
    app.eventually("the announcement channel has them too", |_| {
        channel_says(
            &app,
            "CANNOUNCE",
            "update: <@W333> rolled back, see <https://status.example.com|the status page>",
        )
    })
    .await;
}

#[tokio::test]
async fn an_update_is_posted_in_the_channel_the_announcement_channel_and_the_summary() {
    let app = spawn_app().await;
    let c = app.declared("api errors").await;
    let reply = app
        .command(
            &c,
            "W777",
            "update Rolled back to v41 &amp; error rate is falling",
        )
        .await;
    assert_eq!(
        text(&reply),
        "Update posted here and to the announcement channel."
    );
    app.eventually("the channel has the update", |_| {
        channel_says(
            &app,
            &c,
            ":mega: *Update* from <@W777>: Rolled back to v41 &amp; error rate is falling",
        )
    })
    .await;
    app.eventually("the announcement channel has it", |_| {
        channel_says(&app, "CANNOUNCE", "update: Rolled back to v41")
    })
    .await;
    app.eventually("the summary shows it", |s| {
        s.messages_in(&c).iter().any(|m| {
            m.blocks
                .as_ref()
                .is_some_and(|b| b.to_string().contains("Latest update"))
        })
    })
    .await;
    let summary = text(&app.command(&c, "W888", "summary").await);
    assert!(
        summary.contains("*Latest update*\nRolled back to v41 &amp; error rate is falling"),
        "{summary}"
    );
}

#[tokio::test]
async fn resolve_then_reopen_is_recorded_and_said() {
    let app = spawn_app().await;
    let c = app.declared("disk full").await;
    assert_eq!(
        text(&app.command(&c, "W111", "resolve").await),
        "Status: resolved."
    );
    app.eventually("the channel hears it", |_| {
        channel_says(&app, &c, "resolved the incident after")
    })
    .await;
    let again = text(&app.command(&c, "W111", "status resolved").await);
    assert_eq!(again, "The status already is resolved.");
    assert_eq!(
        text(&app.command(&c, "W111", "reopen").await),
        "Status: investigating."
    );
    app.eventually("the reopening is announced", |_| {
        channel_says(&app, "CANNOUNCE", "was reopened")
    })
    .await;
    let kinds = app.timeline().await;
    let tail: Vec<&str> = kinds
        .iter()
        .map(String::as_str)
        .filter(|k| *k == "resolved" || *k == "reopened")
        .collect();
    assert_eq!(tail, vec!["resolved", "reopened"]);
}

#[tokio::test]
async fn roles_and_summary_answer_only_the_asker() {
    let app = spawn_app().await;
    let c = app.declared("cache stampede").await;
    let roles = text(&app.command(&c, "W222", "roles").await);
    assert!(roles.contains("*Incident commander*: <@W111>"), "{roles}");
    assert!(
        roles.contains("*Scribe*: _unfilled_ — `/incident role scribe me` to take it"),
        "{roles}"
    );
    let summary = text(&app.command(&c, "W222", "summary").await);
    assert!(summary.contains("Incident #1: cache stampede"), "{summary}");
    assert!(summary.contains("Status: *investigating*"), "{summary}");
}

#[tokio::test]
async fn every_mistake_gets_an_answer_that_names_what_is_valid() {
    let app = spawn_app().await;
    let c = app.declared("typos").await;
    let cases = [
        ("rol comms me", "`rol` is not an /incident command."),
        ("role janitor me", "`janitor` is not a role. Roles: `commander`, `deputy`, `comms`, `scribe`, `ops`."),
        ("role comms", "`/incident role` needs a person: `/incident role <role> <@user|me>`."),
        ("role comms bob", "`bob` is not a person. Mention them (`@name`) or write `me`."),
        ("severity critical", "`critical` is not a severity. Use sev1, sev2, sev3 or sev4 (sev1 is the worst)."),
        ("status fixed", "`fixed` is not a status. Use investigating, identified, monitoring or resolved."),
        ("update", "`/incident update` needs the update's text: `/incident update <text>`."),
        ("unassign", "`/incident unassign` needs a role: `/incident unassign <role>`."),
        ("unassign commander", "An incident always has a commander: hand the role on with `/incident role commander @someone`."),
        ("unassign scribe", "Nobody is the scribe right now."),
        ("reopen", "The incident is not resolved; there is nothing to reopen."),
    ];
    for (input, expected) in cases {
        let answer = text(&app.command(&c, "W111", input).await);
        assert!(
            answer.starts_with(expected),
            "{input:?} answered {answer:?}"
        );
    }
    let help = text(&app.command(&c, "W111", "rol comms me").await);
    assert!(help.contains("/incident role <role> <@user|me>"), "{help}");
}

#[tokio::test]
async fn commands_that_need_an_incident_say_how_to_declare_one() {
    let app = spawn_app().await;
    for cmd in ["roles", "severity sev1", "resolve", "update all fine"] {
        let answer = text(&app.command("CGENERAL", "W111", cmd).await);
        assert!(
            answer.contains("this is not one") && answer.contains("/incident declare <title>"),
            "{cmd}: {answer}"
        );
    }
}

#[tokio::test]
async fn the_take_role_button_gives_the_presser_an_unfilled_role() {
    let app = spawn_app().await;
    let c = app.declared("button").await;
    let press = |user: &str| {
        json!({"type": "block_actions", "team": {"id": TEAM}, "user": {"id": user}, "channel": {"id": c},
               "container": {"type": "message", "channel_id": c}, "trigger_id": "1.2.3",
               "actions": [{"action_id": "take_role:scribe", "value": "scribe", "type": "button"}]})
    };
    assert_eq!(app.interaction(&press("W321")).await.status(), 200);
    app.eventually("the channel hears it", |_| {
        channel_says(&app, &c, "<@W321> took the scribe role.")
    })
    .await;
    // A second press by someone else is refused privately.
    assert_eq!(app.interaction(&press("W654")).await.status(), 200);
    app.eventually("the late presser is told", |s| {
        s.ephemerals()
            .iter()
            .any(|(_, u, t)| u == "W654" && t.contains("That role is taken"))
    })
    .await;
}

#[tokio::test]
async fn a_form_declaring_a_message_already_declared_stays_open_and_says_which_incident() {
    let app = spawn_app().await;
    let shortcut = || {
        json!({"type": "message_action", "callback_id": "declare_from_message", "trigger_id": app.slack.trigger_id(),
        "team": {"id": TEAM}, "user": {"id": "W111"}, "channel": {"id": "C111"},
        "message": {"type": "message", "user": "W222", "ts": "1790000000.000300", "text": "Search is down"}})
    };
    let submit = |metadata: String| {
        json!({"type": "view_submission", "team": {"id": TEAM}, "user": {"id": "W111"},
        "view": {"callback_id": "declare_incident", "private_metadata": metadata, "state": {"values": {
            "title": {"title": {"type": "plain_text_input", "value": "Search is down"}},
            "severity": {"severity": {"type": "static_select", "selected_option": {"value": "sev2"}}},
            "description": {"description": {"type": "plain_text_input", "value": "from the shortcut"}}}}}})
    };
    for _ in 0..2 {
        assert_eq!(app.interaction(&shortcut()).await.status(), 200);
    }
    let views = app.slack.views();
    let metadata = |i: usize| views[i]["private_metadata"].as_str().unwrap().to_string();
    assert_eq!(app.interaction(&submit(metadata(0))).await.status(), 200);
    assert_eq!(app.count("incidents").await, 1);
    let again: serde_json::Value = app
        .interaction(&submit(metadata(1)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["response_action"], "errors", "{again}");
    assert!(
        again["errors"]["title"]
            .as_str()
            .unwrap()
            .contains("already declared incident #1"),
        "{again}"
    );
    assert_eq!(app.count("incidents").await, 1);
}

#[tokio::test]
async fn declare_without_a_title_opens_a_form_whose_submission_declares() {
    let app = spawn_app().await;
    let r = app.command_raw("C222", "W111", "declare").await;
    assert_eq!(r.status(), 200);
    let views = app.slack.views();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0]["callback_id"], "declare_incident");
    let metadata = views[0]["private_metadata"].as_str().unwrap().to_string();

    // An empty title is refused on the form itself.
    let mut submission = json!({"type": "view_submission", "team": {"id": TEAM}, "user": {"id": "W111"},
        "view": {"callback_id": "declare_incident", "private_metadata": metadata, "state": {"values": {
            "title": {"title": {"type": "plain_text_input", "value": " "}},
            "severity": {"severity": {"type": "static_select", "selected_option": {"value": "sev2"}}},
            "description": {"description": {"type": "plain_text_input", "value": "Card payments fail at checkout"}}}}}});
    let errors: serde_json::Value = app.interaction(&submission).await.json().await.unwrap();
    assert_eq!(errors["response_action"], "errors");
    assert_eq!(app.count("incidents").await, 0);

    submission["view"]["state"]["values"]["title"]["title"]["value"] =
        json!("Card payments failing");
    assert_eq!(app.interaction(&submission).await.status(), 200);
    let name = format!("incident-{}-card-payments-failing", today());
    app.eventually("the channel and pointer exist", |s| {
        s.channel_named(&name).is_some() && !s.messages_in("C222").is_empty()
    })
    .await;
    let channel = app.slack.channel_named(&name).unwrap();
    app.eventually(
        "the topic shows the severity and the welcome is posted",
        |s| {
            s.channel_named(&name).is_some_and(|ch| {
                ch.topic.contains("Severity: SEV2") && !s.messages_in(&ch.id).is_empty()
            })
        },
    )
    .await;
    let welcome = app.slack.messages_in(&channel.id)[0]
        .blocks
        .clone()
        .unwrap()
        .to_string();
    assert!(
        welcome.contains("Card payments fail at checkout"),
        "{welcome}"
    );
}

#[tokio::test]
async fn the_message_shortcut_carries_text_and_link_and_replies_in_the_thread() {
    let app = spawn_app().await;
    let shortcut = json!({"type": "message_action", "callback_id": "declare_from_message", "trigger_id": app.slack.trigger_id(),
        "team": {"id": TEAM}, "user": {"id": "W111"}, "channel": {"id": "C111"},
        "message": {"type": "message", "user": "W222", "ts": "1790000000.000200", "text": "Checkout returns 502 for everyone\nsince 10:02"}});
    assert_eq!(app.interaction(&shortcut).await.status(), 200);
    let view = app.slack.views().pop().expect("the form opened");
    let blocks = view["blocks"].to_string();
    assert!(
        blocks.contains("Checkout returns 502 for everyone"),
        "{blocks}"
    );
    assert!(
        blocks.contains("https://test.slack.com/archives/C111/p1790000000000200"),
        "{blocks}"
    );

    let submission = json!({"type": "view_submission", "team": {"id": TEAM}, "user": {"id": "W111"},
        "view": {"callback_id": "declare_incident", "private_metadata": view["private_metadata"], "state": {"values": {
            "title": {"title": {"value": "Checkout returns 502"}}, "severity": {"severity": {"selected_option": null}},
            "description": {"description": {"value": null}}}}}});
    assert_eq!(app.interaction(&submission).await.status(), 200);
    app.eventually("the pointer is in the message's thread", |s| {
        s.messages_in("C111")
            .iter()
            .any(|m| m.thread_ts.as_deref() == Some("1790000000.000200"))
    })
    .await;
}

#[tokio::test]
async fn renaming_keeps_the_channel_name_unless_channel_renaming_is_enabled() {
    let app = spawn_app().await;
    let c = app.declared("first title").await;
    app.command(&c, "W111", "rename Second title").await;
    app.eventually("the topic follows", |s| {
        s.channels()
            .iter()
            .any(|ch| ch.topic.contains("Second title"))
    })
    .await;
    app.settle().await;
    assert_eq!(
        app.slack.channels()[0].name,
        format!("incident-{}-first-title", today())
    );

    let app = spawn_app_with(Options {
        env: vec![("HEREBY_RENAME_CHANNELS", "true".into())],
        ..Options::default()
    })
    .await;
    let c = app.declared("first title").await;
    app.slack
        .add_channel(&format!("incident-{}-second-title", today()), "USOMEONE");
    app.command(&c, "W111", "rename Second title").await;
    let renamed = format!("incident-{}-second-title-2", today());
    app.eventually("the channel is renamed, past a taken name", |s| {
        s.channels()
            .iter()
            .any(|ch| ch.id == c && ch.name == renamed)
    })
    .await;
    let mut recorded = false;
    for _ in 0..100 {
        recorded = app
            .timeline()
            .await
            .contains(&"channel_renamed".to_string());
        if recorded {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(recorded, "the rename is in the timeline");
}

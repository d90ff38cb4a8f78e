//! Fuzz target: `slack::events::decode` on well-formed `event_callback` envelopes whose event
//! fields are fuzzed (known values, arbitrary strings, or values of the wrong JSON type), so
//! that the message, edit, deletion, join, reaction and pin paths are all reached; checks that
//! what is decoded matches what was sent.
#![no_main]

use arbitrary::Arbitrary;
use hereby::slack::events::{decode, is_spoken, Event};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};

const TYPES: &[&str] = &[
    "message",
    "app_mention",
    "member_joined_channel",
    "reaction_added",
    "reaction_removed",
    "pin_added",
    "pin_removed",
    "channel_created",
];
const SUBTYPES: &[&str] = &[
    "message_changed",
    "message_deleted",
    "channel_join",
    "thread_broadcast",
    "file_share",
    "me_message",
    "bot_message",
    "tombstone",
    "channel_topic",
];
const IDS: &[&str] = &[
    "C111",
    "G222",
    "U111",
    "UB111",
    "W222",
    "B999",
    "T111",
    "USLACKBOT",
];
const TS: &[&str] = &["1610261539.000900", "1626774922.004400", "1.2", ""];
const TEXTS: &[&str] = &[
    "I hereby declare this an incident: db down",
    "<https://status.example.com|status> &amp; <@U111>",
    "hi",
];

/// One field of the event: absent, a realistic value, anything, or the wrong type.
#[derive(Arbitrary, Debug)]
enum Field {
    Absent,
    Known(u8),
    Text(String),
    Null,
    Number(i64),
    Bool(bool),
    List(Vec<String>),
    Object(Vec<(String, String)>),
}

impl Field {
    fn value(&self, pool: &[&str]) -> Option<Value> {
        Some(match self {
            Field::Absent => return None,
            Field::Known(i) => json!(pool[*i as usize % pool.len()]),
            Field::Text(s) => json!(s),
            Field::Null => Value::Null,
            Field::Number(n) => json!(n),
            Field::Bool(b) => json!(b),
            Field::List(items) => json!(items),
            Field::Object(pairs) => Value::Object(
                pairs
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(v)))
                    .collect::<Map<_, _>>(),
            ),
        })
    }
}

#[derive(Arbitrary, Debug)]
struct Message {
    kind: Field,
    subtype: Field,
    user: Field,
    text: Field,
    ts: Field,
    thread_ts: Field,
    bot_id: Field,
    edited_ts: Field,
    blocks: Option<Vec<(Field, Field, Field)>>,
    attachments: Option<Vec<(Field, Field)>>,
    files: Option<Vec<(Field, Field)>>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    team_id: Option<String>,
    authorizations: Vec<(Option<String>, bool)>,
    event: Message,
    team: Field,
    channel: Field,
    channel_id: Field,
    event_ts: Field,
    deleted_ts: Field,
    reaction: Field,
    bot_profile_name: Field,
    username: Field,
    item_channel: Field,
    item_ts: Field,
    item_message: Option<Message>,
    inner: Option<Message>,
    pretty: bool,
}

fn insert(o: &mut Map<String, Value>, key: &str, field: &Field, pool: &[&str]) {
    if let Some(v) = field.value(pool) {
        o.insert(key.to_string(), v);
    }
}

fn message_json(m: &Message) -> Map<String, Value> {
    let mut o = Map::new();
    insert(&mut o, "type", &m.kind, TYPES);
    insert(&mut o, "subtype", &m.subtype, SUBTYPES);
    insert(&mut o, "user", &m.user, IDS);
    insert(&mut o, "text", &m.text, TEXTS);
    insert(&mut o, "ts", &m.ts, TS);
    insert(&mut o, "thread_ts", &m.thread_ts, TS);
    insert(&mut o, "bot_id", &m.bot_id, IDS);
    if let Some(v) = m.edited_ts.value(TS) {
        o.insert("edited".into(), json!({ "user": "U111", "ts": v }));
    }
    if let Some(blocks) = &m.blocks {
        let elements: Vec<Value> = blocks
            .iter()
            .map(|(kind, url, text)| {
                let mut e = Map::new();
                insert(&mut e, "type", kind, &["link", "text", "user"]);
                insert(&mut e, "url", url, &["https://wiki.example.com/runbook"]);
                insert(&mut e, "text", text, TEXTS);
                Value::Object(e)
            })
            .collect();
        o.insert(
            "blocks".into(),
            json!([{ "type": "rich_text", "elements": [{ "type": "rich_text_section", "elements": elements }] }]),
        );
    }
    if let Some(attachments) = &m.attachments {
        let list: Vec<Value> = attachments
            .iter()
            .map(|(title, link)| {
                let mut a = Map::new();
                insert(&mut a, "title", title, TEXTS);
                insert(
                    &mut a,
                    "title_link",
                    link,
                    &["https://git.example.com/pr/42"],
                );
                Value::Object(a)
            })
            .collect();
        o.insert("attachments".into(), Value::Array(list));
    }
    if let Some(files) = &m.files {
        let list: Vec<Value> = files
            .iter()
            .map(|(name, permalink)| {
                let mut f = Map::new();
                insert(&mut f, "name", name, &["graph.png"]);
                insert(
                    &mut f,
                    "permalink",
                    permalink,
                    &["https://x.slack.com/files/U1/F1/graph.png"],
                );
                f.insert(
                    "url_private".into(),
                    json!("https://files.slack.com/secret"),
                );
                Value::Object(f)
            })
            .collect();
        o.insert("files".into(), Value::Array(list));
    }
    o
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fuzz_target!(|input: Input| {
    let mut event = message_json(&input.event);
    insert(&mut event, "team", &input.team, IDS);
    insert(&mut event, "channel", &input.channel, IDS);
    insert(&mut event, "channel_id", &input.channel_id, IDS);
    insert(&mut event, "event_ts", &input.event_ts, TS);
    insert(&mut event, "deleted_ts", &input.deleted_ts, TS);
    insert(
        &mut event,
        "reaction",
        &input.reaction,
        &["pushpin", "eyes"],
    );
    if let Some(name) = input.bot_profile_name.value(&["Grafana"]) {
        event.insert("bot_profile".into(), json!({ "name": name }));
    }
    insert(&mut event, "username", &input.username, &["deploy-bot"]);
    let mut item = Map::new();
    insert(&mut item, "channel", &input.item_channel, IDS);
    insert(&mut item, "ts", &input.item_ts, TS);
    if let Some(m) = &input.item_message {
        item.insert("message".into(), Value::Object(message_json(m)));
    }
    if !item.is_empty() {
        event.insert("item".into(), Value::Object(item));
    }
    if let Some(m) = &input.inner {
        event.insert("message".into(), Value::Object(message_json(m)));
    }
    let event = Value::Object(event);
    let authorizations: Vec<Value> = input
        .authorizations
        .iter()
        .map(|(user_id, is_bot)| json!({ "user_id": user_id, "is_bot": is_bot }))
        .collect();
    let envelope = json!({
        "type": "event_callback",
        "team_id": input.team_id,
        "event_id": "Ev1",
        "event": event,
        "authorizations": authorizations,
    });
    let payload = if input.pretty {
        serde_json::to_string_pretty(&envelope).unwrap()
    } else {
        serde_json::to_string(&envelope).unwrap()
    };

    let decoded = decode(&payload).expect("a well-formed envelope must decode");
    let again = decode(&envelope.to_string()).expect("a well-formed envelope must decode");
    assert_eq!(decoded, again, "layout changed the result");

    let kind = str_at(&event, "type").unwrap_or_default();
    let subtype = str_at(&event, "subtype");
    let channel = str_at(&event, "channel");
    let ts = str_at(&event, "ts");
    let posted = (kind == "message" || kind == "app_mention") && is_spoken(subtype);
    match &decoded {
        Event::MessagePosted(m) => {
            assert!(posted, "{kind}/{subtype:?} decoded as a posted message");
            assert_eq!(Some(m.channel.as_str()), channel);
            assert_eq!(Some(m.ts.as_str()), ts);
            assert_eq!(m.text, str_at(&event, "text").unwrap_or_default());
            assert!(
                !m.from_self || m.from_bot,
                "hereby's own message not marked as bot"
            );
            if let Some(files) = &m.files {
                let files = files.as_array().expect("files are a list");
                assert!(!files.is_empty());
                assert!(
                    files.iter().all(|f| f.get("url_private").is_none()),
                    "a private download URL was kept"
                );
            }
        }
        _ if posted && channel.is_some() && ts.is_some() => {
            panic!("a spoken message was not decoded as one: {decoded:?}")
        }
        Event::MessageChanged(c) => {
            assert_eq!((kind, subtype), ("message", Some("message_changed")));
            assert_eq!(Some(c.channel.as_str()), channel);
        }
        Event::MessageDeleted { ts, .. } => {
            assert_eq!(subtype, Some("message_deleted"));
            assert_eq!(Some(ts.as_str()), str_at(&event, "deleted_ts"));
        }
        Event::Reaction { added, .. } => {
            assert_eq!(*added, kind == "reaction_added");
            assert!(kind.starts_with("reaction_"));
        }
        Event::Pin { added, .. } => {
            assert_eq!(*added, kind == "pin_added");
            assert!(kind.starts_with("pin_"));
        }
        Event::MemberJoined { .. } => {
            assert!(kind == "member_joined_channel" || subtype == Some("channel_join"));
        }
        Event::Other(_) => {}
    }
});

//! A small stateful stand-in for Slack's Web API, served over loopback, answering with the
//! shapes of Slack's documentation, recording every call and failing on request.
//!
//! It is as strict as Slack where hereby could get it wrong: it grants exactly the bot scopes
//! listed in `manifest.yml` (`missing_scope` otherwise), enforces channel membership
//! (`not_in_channel`; `channel_not_found` for a private channel hereby is not in; posting to a
//! public channel hereby is not in needs `chat:write.public`), limits each method to its rate
//! tier per window with HTTP 429 and `Retry-After` (the window compressed to [`RATE_WINDOW`]),
//! lets a `trigger_id` open one view within 3 s, and shows message metadata only to
//! `include_all_metadata`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

pub const BOT_USER: &str = "UHEREBY";
pub const BOT_ID: &str = "BHEREBY";
pub const BOT_TOKEN: &str = "xoxb-test-token";
pub const APP_TOKEN: &str = "xapp-1-test-token";

/// Slack counts its rate tiers per minute; the fake counts them per this window.
pub const RATE_WINDOW: Duration = Duration::from_millis(1000);

/// How long a `trigger_id` may open a view, as on Slack.
const TRIGGER_LIFETIME: Duration = Duration::from_secs(3);

/// The bot scopes `manifest.yml` asks for: all the fake grants.
pub fn manifest_bot_scopes() -> HashSet<String> {
    let manifest: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(include_str!("../../manifest.yml")).expect("manifest.yml is YAML");
    manifest["oauth_config"]["scopes"]["bot"]
        .as_sequence()
        .expect("manifest.yml lists bot scopes")
        .iter()
        .filter_map(|s| s.as_str().map(String::from))
        .collect()
}

/// Calls per window of a method's rate tier (Slack's published tiers).
fn tier_limit(method: &str) -> Option<usize> {
    Some(match method {
        "apps.connections.open" => 1,
        "conversations.create"
        | "conversations.list"
        | "conversations.rename"
        | "conversations.setTopic"
        | "canvases.create" => 20,
        "conversations.history"
        | "conversations.replies"
        | "conversations.invite"
        | "conversations.info"
        | "conversations.join"
        | "chat.update"
        | "pins.add"
        | "bots.info"
        | "files.info"
        | "files.list" => 50,
        "users.info"
        | "chat.postEphemeral"
        | "views.open"
        | "views.update"
        | "files.getUploadURLExternal"
        | "files.completeUploadExternal"
        | "chat.getPermalink" => 100,
        _ => return None,
    })
}

/// One Web API call as the fake received it.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub params: Value,
}

/// How the fake fails the next call of a method.
#[derive(Debug, Clone)]
pub enum Failure {
    /// HTTP status with an empty body (500, 503, …).
    Status(u16),
    /// HTTP 429 with `Retry-After: secs`.
    RateLimited { retry_after_secs: u64 },
    /// Does the work, then answers only after this long (the caller times out).
    Hang(Duration),
    /// `ok: false` with this error code.
    Error(&'static str),
    /// Answers normally (to fail a later call, not this one).
    Pass,
}

#[derive(Debug, Clone)]
pub struct Channel {
    pub id: String,
    pub name: String,
    pub creator: String,
    pub topic: String,
    pub members: Vec<String>,
    pub pins: Vec<String>,
    pub private: bool,
    /// Seconds since the epoch.
    pub created: i64,
}

/// What hereby may do in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// A member (or a direct conversation).
    Member,
    /// A public channel hereby is not in.
    Outsider,
    /// A private channel hereby is not in, or none at all: Slack says `channel_not_found`.
    Hidden,
}

#[derive(Debug, Clone)]
pub struct Message {
    pub channel: String,
    pub ts: String,
    pub thread_ts: Option<String>,
    pub text: String,
    pub user: String,
    pub metadata: Option<Value>,
    pub blocks: Option<Value>,
}

/// A file shared with the v2 upload flow.
#[derive(Debug, Clone)]
pub struct SharedFile {
    pub id: String,
    pub title: String,
    pub channel: String,
    pub comment: String,
    pub content: String,
}

#[derive(Default)]
struct FakeState {
    calls: Vec<Call>,
    channels: Vec<Channel>,
    messages: Vec<Message>,
    failures: HashMap<String, VecDeque<Failure>>,
    next_ts: u64,
    ephemerals: Vec<(String, String, String)>,
    views: Vec<Value>,
    page_size: usize,
    base: String,
    uploads: HashMap<String, Vec<u8>>,
    shared: Vec<SharedFile>,
    canvases: Vec<(String, String, String)>,
    socket_url: String,
    /// Bot scopes the workspace granted.
    scopes: HashSet<String>,
    /// Recent calls of each method, for its rate tier.
    recent: HashMap<String, VecDeque<Instant>>,
    /// Trigger IDs handed out, with when, and whether one was used.
    triggers: HashMap<String, (Instant, bool)>,
    /// Messages sent to a `response_url`: (path, body).
    responses: Vec<(String, Value)>,
    next_view: u64,
    /// Calls refused for going over their tier.
    over_tier: usize,
    /// Channels that existed before the test (not in `channels`) where hereby is a member.
    joined: HashSet<String>,
    /// The window rate tiers are counted in.
    window: Duration,
}

/// The fake, running on its own port.
#[derive(Clone)]
pub struct FakeSlack {
    state: Arc<Mutex<FakeState>>,
    pub url: String,
}

impl FakeSlack {
    pub async fn start() -> FakeSlack {
        let state = Arc::new(Mutex::new(FakeState {
            next_ts: 1_790_000_000_000_100,
            page_size: 3,
            scopes: manifest_bot_scopes(),
            // Where the suite's declarations are written: hereby hears messages there, so it
            // is a member. Every other `C…` is a public channel it was not invited to.
            joined: ["C111".to_string()].into_iter().collect(),
            window: RATE_WINDOW,
            ..FakeState::default()
        }));
        let app = Router::new()
            .route("/api/{method}", any(handle))
            .route("/upload/{file}", axum::routing::post(upload))
            .route("/respond/{*path}", axum::routing::post(respond))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        state.lock().unwrap().base = format!("http://{addr}");
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeSlack {
            state,
            url: format!("http://{addr}/api"),
        }
    }

    /// Fails the next calls of `method`, in order.
    pub fn fail_next(&self, method: &str, failures: impl IntoIterator<Item = Failure>) {
        let mut s = self.state.lock().unwrap();
        s.failures
            .entry(method.to_string())
            .or_default()
            .extend(failures);
    }

    /// A channel that exists before the test (for name collisions).
    pub fn add_channel(&self, name: &str, creator: &str) -> String {
        let mut s = self.state.lock().unwrap();
        let id = format!("C{:08}", s.channels.len() + 1);
        s.channels.push(Channel {
            id: id.clone(),
            name: name.into(),
            creator: creator.into(),
            topic: String::new(),
            members: vec![],
            pins: vec![],
            private: false,
            created: chrono::Utc::now().timestamp(),
        });
        id
    }

    /// A private channel (`G…`) whose only members are `members` (hereby not among them unless
    /// listed).
    pub fn add_private_channel(&self, name: &str, members: &[&str]) -> String {
        let mut s = self.state.lock().unwrap();
        let id = format!("G{:08}", s.channels.len() + 1);
        s.channels.push(Channel {
            id: id.clone(),
            name: name.into(),
            creator: members.first().copied().unwrap_or("W111").into(),
            topic: String::new(),
            members: members.iter().map(|m| m.to_string()).collect(),
            pins: vec![],
            private: true,
            created: chrono::Utc::now().timestamp(),
        });
        id
    }

    /// The workspace did not grant this scope (an install from an older manifest).
    pub fn revoke_scope(&self, scope: &str) {
        self.state.lock().unwrap().scopes.remove(scope);
    }

    /// Hands out a `trigger_id`, as Slack does with a click; it opens one view within 3 s.
    pub fn trigger_id(&self) -> String {
        let mut s = self.state.lock().unwrap();
        let id = format!("{}.{}.trigger", s.triggers.len() + 1, rand::random::<u32>());
        s.triggers.insert(id.clone(), (Instant::now(), false));
        id
    }

    /// A `response_url` that has expired.
    pub fn expired_response_url(&self) -> String {
        self.response_url().replace("/commands/", "/expired/")
    }

    /// A `response_url` that leads to this fake.
    pub fn response_url(&self) -> String {
        let base = self.state.lock().unwrap().base.clone();
        format!("{base}/respond/commands/T111/{}", rand::random::<u32>())
    }

    /// Messages sent to response URLs: (path, body).
    pub fn responses(&self) -> Vec<(String, Value)> {
        self.state.lock().unwrap().responses.clone()
    }

    /// Page size of history and replies (Slack's is up to 999; small pages test paging).
    pub fn set_page_size(&self, n: usize) {
        self.state.lock().unwrap().page_size = n;
    }

    /// Counts rate tiers per `window` instead of [`RATE_WINDOW`] (a minute, as Slack).
    pub fn set_rate_window(&self, window: Duration) {
        self.state.lock().unwrap().window = window;
    }

    /// Calls refused with HTTP 429 because they went over their method's tier.
    pub fn rate_limited_calls(&self) -> usize {
        self.state.lock().unwrap().over_tier
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().unwrap().calls.clone()
    }

    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method)
            .collect()
    }

    pub fn channels(&self) -> Vec<Channel> {
        self.state.lock().unwrap().channels.clone()
    }

    pub fn channel_named(&self, name: &str) -> Option<Channel> {
        self.channels().into_iter().find(|c| c.name == name)
    }

    /// Ephemeral messages: (channel, user, text).
    pub fn ephemerals(&self) -> Vec<(String, String, String)> {
        self.state.lock().unwrap().ephemerals.clone()
    }

    /// Modals opened with `views.open`.
    pub fn views(&self) -> Vec<Value> {
        self.state.lock().unwrap().views.clone()
    }

    /// A message someone wrote that Slack has, whether or not it was delivered to hereby.
    pub fn add_user_message(
        &self,
        channel: &str,
        ts: &str,
        thread_ts: Option<&str>,
        user: &str,
        text: &str,
    ) {
        let mut s = self.state.lock().unwrap();
        s.messages.push(Message {
            channel: channel.into(),
            ts: ts.into(),
            thread_ts: thread_ts.map(String::from),
            text: text.into(),
            user: user.into(),
            metadata: None,
            blocks: None,
        });
    }

    /// Where `apps.connections.open` sends Socket Mode clients.
    pub fn set_socket_url(&self, url: &str) {
        self.state.lock().unwrap().socket_url = url.to_string();
    }

    /// Canvases created: (channel, title, markdown).
    pub fn canvases(&self) -> Vec<(String, String, String)> {
        self.state.lock().unwrap().canvases.clone()
    }

    /// Files shared with the upload flow, in order.
    pub fn shared_files(&self) -> Vec<SharedFile> {
        self.state.lock().unwrap().shared.clone()
    }

    /// Every message that was posted (failed calls post nothing).
    pub fn messages(&self) -> Vec<Message> {
        self.state.lock().unwrap().messages.clone()
    }

    pub fn messages_in(&self, channel: &str) -> Vec<Message> {
        self.state
            .lock()
            .unwrap()
            .messages
            .iter()
            .filter(|m| m.channel == channel)
            .cloned()
            .collect()
    }
}

async fn respond(
    State(state): State<Arc<Mutex<FakeState>>>,
    Path(path): Path<String>,
    body: Bytes,
) -> Response {
    // A response URL lives 30 minutes and answers five times; an `expired` one stands for that.
    if path.contains("expired") {
        return (StatusCode::NOT_FOUND, "expired_url").into_response();
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state.lock().unwrap().responses.push((path, body));
    (StatusCode::OK, "ok").into_response()
}

async fn upload(
    State(state): State<Arc<Mutex<FakeState>>>,
    Path(file): Path<String>,
    body: Bytes,
) -> Response {
    let mut s = state.lock().unwrap();
    s.calls.push(Call {
        method: "upload".into(),
        params: json!({"file": file, "bytes": body.len()}),
    });
    s.uploads.insert(file, body.to_vec());
    (StatusCode::OK, "OK - 18").into_response()
}

fn params(query: Option<String>, headers: &HeaderMap, body: &Bytes) -> Value {
    let mut map = Map::new();
    if let Some(q) = query {
        for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
            map.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    }
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.starts_with("application/json") {
        if let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(body) {
            map.extend(o);
        }
    } else if !body.is_empty() {
        for (k, v) in url::form_urlencoded::parse(body) {
            map.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    }
    Value::Object(map)
}

fn channel_json(c: &Channel) -> Value {
    json!({
        "id": c.id, "name": c.name, "is_channel": !c.private, "is_group": c.private, "is_im": false,
        "created": c.created, "is_archived": false, "is_general": false, "unlinked": 0,
        "name_normalized": c.name, "is_shared": false, "creator": c.creator,
        "is_ext_shared": false, "is_org_shared": false, "is_member": c.members.iter().any(|m| m == BOT_USER),
        "is_private": c.private,
        "is_mpim": false, "topic": {"value": c.topic, "creator": "", "last_set": 0},
        "purpose": {"value": "", "creator": "", "last_set": 0}, "previous_names": [],
    })
}

/// A message as history shows it; `replies` are the ts of its thread's replies, in order;
/// metadata only when asked for with `include_all_metadata`.
fn message_json(m: &Message, replies: &[&str], with_metadata: bool) -> Value {
    let mut v = json!({"type": "message", "user": m.user, "text": m.text, "ts": m.ts});
    if m.user == BOT_USER {
        v["bot_id"] = json!(BOT_ID);
    }
    if let Some(latest) = replies.last() {
        v["reply_count"] = json!(replies.len());
        v["latest_reply"] = json!(latest);
        v["thread_ts"] = json!(m.ts);
    }
    if let Some(t) = &m.thread_ts {
        v["thread_ts"] = json!(t);
    }
    if let (Some(md), true) = (&m.metadata, with_metadata) {
        v["metadata"] = md.clone();
    }
    v
}

/// The scopes a bot-token method needs (any one of them), given its parameters.
fn needed_scopes(s: &FakeState, method: &str, p: &Value) -> &'static [&'static str] {
    let private = |key: &str| {
        let id = str_param(p, key);
        id.starts_with('G') || s.channels.iter().any(|c| c.id == id && c.private)
    };
    match method {
        "conversations.create" if is_true(p, "is_private") => &["groups:write"],
        "conversations.join" => &["channels:join"],
        "conversations.create"
        | "conversations.invite"
        | "conversations.setTopic"
        | "conversations.rename" => {
            if private("channel") {
                &["groups:write"]
            } else {
                &["channels:manage"]
            }
        }
        "conversations.history" | "conversations.replies" => {
            if private("channel") {
                &["groups:history"]
            } else {
                &["channels:history"]
            }
        }
        "conversations.list" => {
            if str_param(p, "types").contains("private_channel") {
                &["groups:read"]
            } else {
                &["channels:read"]
            }
        }
        "chat.postMessage" | "chat.update" | "chat.postEphemeral" => &["chat:write"],
        "pins.add" => &["pins:write"],
        "users.info" | "bots.info" => &["users:read"],
        "files.getUploadURLExternal" | "files.completeUploadExternal" => &["files:write"],
        "files.info" | "files.list" => &["files:read"],
        "canvases.create" => &["canvases:write"],
        _ => &[],
    }
}

/// Whether hereby is in conversation `id`: a user ID or a `D…` is a direct conversation; an
/// unknown `C…` is a public channel it was not invited to.
fn access(s: &FakeState, id: &str) -> Access {
    if s.joined.contains(id) {
        return Access::Member;
    }
    if let Some(c) = s.channels.iter().find(|c| c.id == id) {
        return match (c.members.iter().any(|m| m == BOT_USER), c.private) {
            (true, _) => Access::Member,
            (false, false) => Access::Outsider,
            (false, true) => Access::Hidden,
        };
    }
    match id.chars().next() {
        Some('D' | 'U' | 'W') => Access::Member,
        Some('C') => Access::Outsider,
        _ => Access::Hidden,
    }
}

/// Slack's refusal for a conversation hereby cannot act in, if any; `public_ok` when the
/// method works in public channels without membership given `chat:write.public`.
fn membership_refusal(s: &FakeState, id: &str, public_ok: bool) -> Option<Value> {
    match access(s, id) {
        Access::Member => None,
        Access::Outsider if public_ok && s.scopes.contains("chat:write.public") => None,
        Access::Outsider => Some(json!({"ok": false, "error": "not_in_channel"})),
        Access::Hidden => Some(json!({"ok": false, "error": "channel_not_found"})),
    }
}

/// Counts a call against its method's tier; the seconds to wait if it is one too many.
fn over_limit(s: &mut FakeState, method: &str) -> Option<u64> {
    let limit = tier_limit(method)?;
    let now = Instant::now();
    let window = s.window;
    let calls = s.recent.entry(method.to_string()).or_default();
    while calls
        .front()
        .is_some_and(|t| now.duration_since(*t) >= window)
    {
        calls.pop_front();
    }
    if calls.len() >= limit {
        let oldest = calls.front().copied().unwrap_or(now);
        let wait = window.saturating_sub(now.duration_since(oldest));
        return Some(wait.as_secs().max(1));
    }
    calls.push_back(now);
    None
}

/// A true/false parameter, sent as JSON or as a form value.
fn is_true(p: &Value, k: &str) -> bool {
    p.get(k) == Some(&Value::Bool(true)) || str_param(p, k) == "true"
}

fn str_param<'a>(p: &'a Value, k: &str) -> &'a str {
    p.get(k).and_then(Value::as_str).unwrap_or("")
}

async fn handle(
    State(state): State<Arc<Mutex<FakeState>>>,
    Path(method): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = params(query, &headers, &body);
    // apps.connections.open takes the app-level token; everything else the bot token.
    let token = if method == "apps.connections.open" {
        APP_TOKEN
    } else {
        BOT_TOKEN
    };
    let auth_ok = headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {token}"));
    let (failure, result) = {
        let mut s = state.lock().unwrap();
        s.calls.push(Call {
            method: method.clone(),
            params: p.clone(),
        });
        let failure = s.failures.get_mut(&method).and_then(VecDeque::pop_front);
        match failure {
            Some(Failure::Status(code)) => {
                return StatusCode::from_u16(code).unwrap().into_response()
            }
            Some(Failure::RateLimited { retry_after_secs }) => {
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", retry_after_secs.to_string())],
                    Json(json!({"ok": false, "error": "ratelimited"})),
                )
                    .into_response()
            }
            Some(Failure::Error(code)) => {
                return Json(json!({"ok": false, "error": code})).into_response()
            }
            _ => {}
        }
        if !auth_ok {
            return Json(json!({"ok": false, "error": "invalid_auth"})).into_response();
        }
        if let Some(retry_after) = over_limit(&mut s, &method) {
            s.over_tier += 1;
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", retry_after.to_string())],
                Json(json!({"ok": false, "error": "ratelimited"})),
            )
                .into_response();
        }
        let needed = needed_scopes(&s, &method, &p);
        let result = if !needed.is_empty() && !needed.iter().any(|n| s.scopes.contains(*n)) {
            let mut provided: Vec<&String> = s.scopes.iter().collect();
            provided.sort();
            json!({"ok": false, "error": "missing_scope", "needed": needed.join(","),
                   "provided": provided.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")})
        } else {
            apply(&mut s, &method, &p)
        };
        (failure, result)
    };
    if let Some(Failure::Hang(d)) = failure {
        tokio::time::sleep(d).await;
    }
    Json(result).into_response()
}

fn apply(s: &mut FakeState, method: &str, p: &Value) -> Value {
    let channel_param = match method {
        "files.completeUploadExternal" | "canvases.create" => str_param(p, "channel_id"),
        _ => str_param(p, "channel"),
    }
    .to_string();
    // Where hereby must be a member (or, for posting, have chat:write.public).
    let refusal = match method {
        "chat.postMessage" => membership_refusal(s, &channel_param, true),
        "conversations.invite"
        | "conversations.setTopic"
        | "conversations.rename"
        | "conversations.history"
        | "conversations.replies"
        | "chat.update"
        | "chat.postEphemeral"
        | "pins.add" => membership_refusal(s, &channel_param, false),
        "files.completeUploadExternal" | "canvases.create" if !channel_param.is_empty() => {
            membership_refusal(s, &channel_param, false)
        }
        _ => None,
    };
    if let Some(refusal) = refusal {
        return refusal;
    }
    match method {
        "auth.test" => {
            json!({"ok": true, "url": "https://test.slack.com/", "team": "Test", "user": "hereby", "team_id": "T111", "user_id": BOT_USER, "bot_id": BOT_ID})
        }
        "conversations.create" => {
            let name = str_param(p, "name").to_string();
            if s.channels.iter().any(|c| c.name == name) {
                return json!({"ok": false, "error": "name_taken"});
            }
            let private = is_true(p, "is_private");
            let id = format!(
                "{}{:08}",
                if private { 'G' } else { 'C' },
                s.channels.len() + 1
            );
            let c = Channel {
                id,
                name,
                creator: BOT_USER.into(),
                topic: String::new(),
                members: vec![BOT_USER.into()],
                pins: vec![],
                private,
                created: chrono::Utc::now().timestamp(),
            };
            let out = json!({"ok": true, "channel": channel_json(&c)});
            s.channels.push(c);
            out
        }
        "conversations.invite" => {
            let id = str_param(p, "channel");
            let users: Vec<String> = match p.get("users") {
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(|u| u.as_str().map(String::from))
                    .collect(),
                Some(Value::String(s)) => s.split(',').map(String::from).collect(),
                _ => vec![],
            };
            let Some(c) = s.channels.iter_mut().find(|c| c.id == id) else {
                return json!({"ok": false, "error": "channel_not_found"});
            };
            if users.iter().all(|u| c.members.contains(u)) {
                return json!({"ok": false, "error": "already_in_channel"});
            }
            c.members.extend(users);
            json!({"ok": true, "channel": channel_json(c)})
        }
        "conversations.join" => {
            let id = str_param(p, "channel").to_string();
            match access(s, &id) {
                Access::Hidden => return json!({"ok": false, "error": "channel_not_found"}),
                Access::Member => {}
                Access::Outsider => match s.channels.iter_mut().find(|c| c.id == id) {
                    Some(c) => c.members.push(BOT_USER.into()),
                    None => {
                        s.joined.insert(id.clone());
                    }
                },
            }
            let c = s.channels.iter().find(|c| c.id == id).cloned();
            json!({"ok": true, "channel": c.as_ref().map(channel_json).unwrap_or(json!({"id": id}))})
        }
        "conversations.rename" => {
            let (id, name) = (
                str_param(p, "channel").to_string(),
                str_param(p, "name").to_string(),
            );
            if s.channels.iter().any(|c| c.name == name && c.id != id) {
                return json!({"ok": false, "error": "name_taken"});
            }
            match s.channels.iter_mut().find(|c| c.id == id) {
                Some(c) => {
                    c.name = name;
                    json!({"ok": true, "channel": channel_json(c)})
                }
                None => json!({"ok": false, "error": "channel_not_found"}),
            }
        }
        "conversations.setTopic" => {
            let id = str_param(p, "channel");
            let topic = str_param(p, "topic").to_string();
            if topic.chars().count() > 250 {
                return json!({"ok": false, "error": "too_long"});
            }
            match s.channels.iter_mut().find(|c| c.id == id) {
                Some(c) => {
                    c.topic = topic.clone();
                    json!({"ok": true, "topic": topic})
                }
                None => json!({"ok": false, "error": "channel_not_found"}),
            }
        }
        "chat.postMessage" => {
            // Like Slack's: the time of posting in microseconds, always increasing.
            let now = chrono::Utc::now();
            let now_micros =
                now.timestamp() as u64 * 1_000_000 + u64::from(now.timestamp_subsec_micros());
            s.next_ts = (s.next_ts + 100).max(now_micros);
            let ts = format!("{}.{:06}", s.next_ts / 1_000_000, s.next_ts % 1_000_000);
            let m = Message {
                channel: channel_param.clone(),
                ts: ts.clone(),
                thread_ts: p.get("thread_ts").and_then(Value::as_str).map(String::from),
                text: str_param(p, "text").into(),
                user: BOT_USER.into(),
                metadata: p.get("metadata").cloned(),
                blocks: p.get("blocks").cloned(),
            };
            let out = json!({"ok": true, "channel": m.channel, "ts": ts, "message": message_json(&m, &[], true)});
            s.messages.push(m);
            out
        }
        "chat.update" => {
            let (channel, ts) = (
                str_param(p, "channel").to_string(),
                str_param(p, "ts").to_string(),
            );
            match s
                .messages
                .iter_mut()
                .find(|m| m.channel == channel && m.ts == ts)
            {
                Some(m) => {
                    m.text = str_param(p, "text").into();
                    m.blocks = p.get("blocks").cloned();
                    json!({"ok": true, "channel": channel, "ts": ts, "text": m.text})
                }
                None => json!({"ok": false, "error": "message_not_found"}),
            }
        }
        "chat.postEphemeral" => {
            s.ephemerals.push((
                str_param(p, "channel").into(),
                str_param(p, "user").into(),
                str_param(p, "text").into(),
            ));
            json!({"ok": true, "message_ts": "1790000000.000001"})
        }
        "chat.getPermalink" => {
            let (channel, ts) = (str_param(p, "channel"), str_param(p, "message_ts"));
            json!({"ok": true, "channel": channel, "permalink": format!("https://test.slack.com/archives/{channel}/p{}", ts.replace('.', ""))})
        }
        "views.open" => {
            match s.triggers.get_mut(str_param(p, "trigger_id")) {
                None => return json!({"ok": false, "error": "invalid_trigger_id"}),
                Some((_, true)) => return json!({"ok": false, "error": "exchanged_trigger_id"}),
                Some((at, _)) if at.elapsed() > TRIGGER_LIFETIME => {
                    return json!({"ok": false, "error": "expired_trigger_id"})
                }
                Some((_, used)) => *used = true,
            }
            let mut view = p.get("view").cloned().unwrap_or(json!({}));
            if let Value::String(raw) = &view {
                view = serde_json::from_str(raw).unwrap_or(json!({}));
            }
            s.next_view += 1;
            view["id"] = json!(format!("V{:04}", s.next_view));
            view["team_id"] = json!("T111");
            view["app_installed_team_id"] = json!("T111");
            view["bot_id"] = json!(BOT_ID);
            view["hash"] = json!("1790000000.abcd");
            view["state"] = json!({"values": {}});
            s.views.push(view.clone());
            json!({"ok": true, "view": view})
        }
        "views.update" => {
            let id = str_param(p, "view_id").to_string();
            let mut view = p.get("view").cloned().unwrap_or(json!({}));
            if let Value::String(raw) = &view {
                view = serde_json::from_str(raw).unwrap_or(json!({}));
            }
            let Some(slot) = s.views.iter_mut().find(|v| v["id"] == json!(id)) else {
                return json!({"ok": false, "error": "not_found"});
            };
            view["id"] = json!(id);
            view["team_id"] = json!("T111");
            view["app_installed_team_id"] = json!("T111");
            view["bot_id"] = json!(BOT_ID);
            view["hash"] = json!("1790000001.abcd");
            view["state"] = json!({"values": {}});
            *slot = view.clone();
            json!({"ok": true, "view": view})
        }
        "pins.add" => {
            let id = str_param(p, "channel");
            let ts = str_param(p, "timestamp").to_string();
            match s.channels.iter_mut().find(|c| c.id == id) {
                Some(c) if c.pins.contains(&ts) => json!({"ok": false, "error": "already_pinned"}),
                Some(c) => {
                    c.pins.push(ts);
                    json!({"ok": true})
                }
                None => json!({"ok": false, "error": "channel_not_found"}),
            }
        }
        "conversations.list" => {
            // Public channels, and private ones hereby is in; paged like Slack.
            let types = str_param(p, "types");
            let private_too = types.contains("private_channel");
            let visible: Vec<Value> = s
                .channels
                .iter()
                .filter(|c| !c.private || (private_too && c.members.iter().any(|m| m == BOT_USER)))
                .map(channel_json)
                .collect();
            let limit: usize = str_param(p, "limit")
                .parse()
                .unwrap_or(100)
                .clamp(1, 1000)
                .min(s.page_size);
            let offset: usize = str_param(p, "cursor").parse().unwrap_or(0);
            let page: Vec<Value> = visible.iter().skip(offset).take(limit).cloned().collect();
            let next = if offset + limit < visible.len() {
                (offset + limit).to_string()
            } else {
                String::new()
            };
            json!({"ok": true, "channels": page, "response_metadata": {"next_cursor": next}})
        }
        "conversations.history" | "conversations.replies" => {
            // History: top-level messages newest first, newer than `oldest`. Replies: the
            // thread's parent and its replies newer than `oldest`, oldest first. Both paginate
            // with `limit`/`cursor`; metadata only with `include_all_metadata`.
            let channel = str_param(p, "channel");
            let thread = p.get("ts").and_then(Value::as_str);
            let oldest: f64 = str_param(p, "oldest").parse().unwrap_or(0.0);
            let with_metadata = str_param(p, "include_all_metadata") == "true";
            let limit: usize = str_param(p, "limit")
                .parse()
                .unwrap_or(100)
                .min(s.page_size);
            let offset: usize = str_param(p, "cursor").parse().unwrap_or(0);
            // Each thread's replies, in order, in one pass over the channel.
            let mut threads: HashMap<&str, Vec<&str>> = HashMap::new();
            for r in s.messages.iter().filter(|r| r.channel == channel) {
                if let Some(t) = r.thread_ts.as_deref().filter(|t| *t != r.ts) {
                    threads.entry(t).or_default().push(r.ts.as_str());
                }
            }
            for replies in threads.values_mut() {
                replies.sort();
            }
            let replies = |ts: &str| -> Vec<&str> { threads.get(ts).cloned().unwrap_or_default() };
            let after = |m: &Message| m.ts.parse::<f64>().unwrap_or(0.0) > oldest;
            let mut msgs: Vec<&Message> = s
                .messages
                .iter()
                .filter(|m| m.channel == channel)
                .filter(|m| match thread {
                    Some(t) => m.ts == t || (m.thread_ts.as_deref() == Some(t) && after(m)),
                    None => {
                        (m.thread_ts.is_none() || m.thread_ts.as_deref() == Some(m.ts.as_str()))
                            && after(m)
                    }
                })
                .collect();
            msgs.sort_by(|a, b| a.ts.cmp(&b.ts));
            if thread.is_none() {
                msgs.reverse();
            }
            let page: Vec<Value> = msgs
                .iter()
                .skip(offset)
                .take(limit)
                .map(|m| message_json(m, &replies(&m.ts), with_metadata))
                .collect();
            let next = if offset + limit < msgs.len() {
                (offset + limit).to_string()
            } else {
                String::new()
            };
            json!({"ok": true, "messages": page, "has_more": !next.is_empty(), "response_metadata": {"next_cursor": next}})
        }
        "files.getUploadURLExternal" => {
            let id = format!("F{:08}", s.uploads.len() + s.shared.len() + 1);
            s.uploads.insert(id.clone(), vec![]);
            json!({"ok": true, "file_id": id, "upload_url": format!("{}/upload/{id}", s.base)})
        }
        "files.completeUploadExternal" => {
            let files: Value = match p.get("files") {
                Some(Value::String(raw)) => serde_json::from_str(raw).unwrap_or(json!([])),
                Some(v) => v.clone(),
                None => json!([]),
            };
            let mut out = vec![];
            for f in files.as_array().cloned().unwrap_or_default() {
                let id = f["id"].as_str().unwrap_or("").to_string();
                let Some(bytes) = s.uploads.get(&id).cloned() else {
                    return json!({"ok": false, "error": "file_not_found"});
                };
                let content = String::from_utf8(bytes).unwrap_or_default();
                let title = f["title"].as_str().unwrap_or("").to_string();
                s.shared.push(SharedFile {
                    id: id.clone(),
                    title: title.clone(),
                    channel: channel_param.clone(),
                    comment: str_param(p, "initial_comment").into(),
                    content,
                });
                out.push(json!({"id": id, "name": title, "title": title, "permalink": format!("https://test.slack.com/files/{BOT_USER}/{id}")}));
            }
            json!({"ok": true, "files": out})
        }
        "files.info" => {
            let id = str_param(p, "file");
            let shared_in: Vec<&str> = s
                .shared
                .iter()
                .filter(|f| f.id == id)
                .map(|f| f.channel.as_str())
                .collect();
            if shared_in.is_empty() && !s.uploads.contains_key(id) {
                return json!({"ok": false, "error": "file_not_found"});
            }
            let (private, public): (Vec<&str>, Vec<&str>) =
                shared_in.iter().partition(|c| c.starts_with('G'));
            json!({"ok": true, "file": {"id": id, "name": "postmortem.md", "filetype": "markdown",
                   "channels": public, "groups": private, "ims": []}})
        }
        "files.list" => {
            let channel = str_param(p, "channel");
            let files: Vec<Value> = s
                .canvases
                .iter()
                .enumerate()
                .filter(|(_, (c, _, _))| channel.is_empty() || c == channel)
                .map(|(n, (_, title, _))| json!({"id": format!("F0CANVAS{}", n + 1), "title": title, "filetype": "quip", "pretty_type": "Canvas"}))
                .collect();
            json!({"ok": true, "files": files, "paging": {"count": 100, "total": files.len(), "page": 1, "pages": 1}})
        }
        "apps.connections.open" => json!({"ok": true, "url": s.socket_url}),
        "canvases.create" => {
            let markdown = p["document_content"]["markdown"]
                .as_str()
                .unwrap_or("")
                .to_string();
            s.canvases.push((
                str_param(p, "channel_id").into(),
                str_param(p, "title").into(),
                markdown,
            ));
            json!({"ok": true, "canvas_id": format!("F0CANVAS{}", s.canvases.len())})
        }
        "bots.info" => {
            // As Slack documents it: the app's name, its app ID and icons.
            let bot = str_param(p, "bot");
            json!({"ok": true, "bot": {"id": bot, "deleted": false, "name": format!("app-{}", bot.to_lowercase()),
                   "updated": 1449272004, "app_id": "A161CLERW", "user_id": "U012ABCDEF",
                   "icons": {"image_36": "https://a.slack-edge.com/80588/img/plugins/app/bot_36.png",
                             "image_48": "https://a.slack-edge.com/80588/img/plugins/app/bot_48.png",
                             "image_72": "https://a.slack-edge.com/80588/img/plugins/app/service_72.png"}}})
        }
        "users.info" => {
            let user = str_param(p, "user");
            json!({"ok": true, "user": {"id": user, "team_id": "T111", "name": user.to_lowercase(), "real_name": format!("Real {user}"),
                   "profile": {"display_name": format!("disp-{}", user.to_lowercase()), "real_name": format!("Real {user}")}}})
        }
        _ => json!({"ok": false, "error": "unknown_method"}),
    }
}

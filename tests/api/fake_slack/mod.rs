//! A small stateful stand-in for Slack's Web API, served over loopback, answering with the
//! shapes of Slack's documentation, recording every call and failing on request.
//!
//! It is as strict as Slack where hereby could get it wrong: it grants exactly the bot scopes
//! listed in `manifest.yml` (`missing_scope` otherwise), enforces channel membership
//! (`not_in_channel`; `channel_not_found` for a private channel hereby is not in; posting to a
//! public channel hereby is not in needs `chat:write.public`), limits each method to its rate
//! tier per window with HTTP 429 and `Retry-After` (the window compressed to [`RATE_WINDOW`]),
//! lets a `trigger_id` open one view within 3 s, refuses to write to an archived channel
//! (`is_archived`, `is_inactive` for `chat.update`), and shows message metadata only to
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
        serde_yaml_ng::from_str(include_str!("../../../manifest.yml"))
            .expect("manifest.yml is YAML");
    manifest["oauth_config"]["scopes"]["bot"]
        .as_sequence()
        .expect("manifest.yml lists bot scopes")
        .iter()
        .filter_map(|s| s.as_str().map(String::from))
        .collect()
}

/// One Web API call as the fake received it.
mod methods;
mod rules;
use methods::apply;
use rules::{membership_refusal, needed_scopes, over_limit};

#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub params: Value,
    /// When the fake received it.
    pub at: std::time::Instant,
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
    /// Archived by someone in Slack: it can be read, not written to.
    pub archived: bool,
    /// Seconds since the epoch.
    pub created: i64,
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
    /// Further fields of a message Slack itself posts (a huddle's `subtype` and `room`).
    pub extra: Option<Value>,
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
    /// Who Slack's sign-in page signs in next: (user, team).
    sign_in_as: Option<(String, String)>,
    /// OpenID Connect codes and user tokens handed out: what each stands for.
    oidc_grants: HashMap<String, Value>,
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
            // Slack takes files up to 1 GB; drafts of long incidents are several MB.
            .route(
                "/upload/{file}",
                axum::routing::post(upload).layer(axum::extract::DefaultBodyLimit::max(256 << 20)),
            )
            .route("/respond/{*path}", axum::routing::post(respond))
            .route("/openid/connect/authorize", axum::routing::get(authorize))
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
            archived: false,
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
            archived: false,
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

    /// Changes channel `id` as someone in Slack would.
    fn change_channel(&self, id: &str, change: impl FnOnce(&mut Channel)) {
        let mut s = self.state.lock().unwrap();
        let c = s.channels.iter_mut().find(|c| c.id == id);
        change(c.unwrap_or_else(|| panic!("no channel {id}")));
    }

    /// Someone archives a channel, as teams do once an incident is over.
    pub fn archive(&self, channel: &str) {
        self.change_channel(channel, |c| c.archived = true);
    }

    /// Someone removes `user` from a channel (`/remove @hereby`, say).
    pub fn remove_member(&self, channel: &str, user: &str) {
        self.change_channel(channel, |c| c.members.retain(|m| m != user));
    }

    /// Someone invites `user` into a channel from Slack.
    pub fn add_member(&self, channel: &str, user: &str) {
        self.change_channel(channel, |c| {
            if !c.members.iter().any(|m| m == user) {
                c.members.push(user.to_string());
            }
        });
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
            extra: None,
        });
    }

    /// A message Slack itself posted in `channel` (as `USLACKBOT`), with `fields` beside the
    /// usual ones: a huddle's `subtype` and `room`, say.
    pub fn add_slack_message(&self, channel: &str, ts: &str, fields: Value) {
        let mut s = self.state.lock().unwrap();
        s.messages.push(Message {
            channel: channel.into(),
            ts: ts.into(),
            thread_ts: None,
            text: String::new(),
            user: "USLACKBOT".into(),
            metadata: None,
            blocks: None,
            extra: Some(fields),
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

    /// Slack's web address (for `SLACK_URL`), where its sign-in page is.
    pub fn web_url(&self) -> String {
        self.state.lock().unwrap().base.clone()
    }

    /// The person Slack's sign-in page signs in from now on, as if they had chosen to.
    pub fn sign_in_as(&self, user: &str, team: &str) {
        self.state.lock().unwrap().sign_in_as = Some((user.into(), team.into()));
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
        at: std::time::Instant::now(),
    });
    s.uploads.insert(file, body.to_vec());
    (StatusCode::OK, "OK - 18").into_response()
}

/// Slack's OpenID Connect client credentials in tests.
pub const CLIENT_ID: &str = "1111.2222";
pub const CLIENT_SECRET: &str = "test-client-secret";

/// Slack's sign-in page: the person chosen with `sign_in_as` approves at once, and the browser
/// goes back to `redirect_uri` with a code and the state.
async fn authorize(
    State(state): State<Arc<Mutex<FakeState>>>,
    RawQuery(query): RawQuery,
) -> Response {
    let p = params(query, &HeaderMap::new(), &Bytes::new());
    let mut s = state.lock().unwrap();
    s.calls.push(Call {
        method: "openid.connect.authorize".into(),
        params: p.clone(),
        at: std::time::Instant::now(),
    });
    let Some((user, team)) = s.sign_in_as.clone() else {
        return (StatusCode::BAD_REQUEST, "nobody to sign in").into_response();
    };
    if str_param(&p, "client_id") != CLIENT_ID {
        return (StatusCode::BAD_REQUEST, "invalid_client_id").into_response();
    }
    let code = format!("code-{}", s.oidc_grants.len() + 1);
    s.oidc_grants.insert(
        code.clone(),
        json!({"user": user, "team": team, "nonce": str_param(&p, "nonce"), "redirect_uri": str_param(&p, "redirect_uri")}),
    );
    let mut back = url::Url::parse(str_param(&p, "redirect_uri")).unwrap();
    back.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", str_param(&p, "state"));
    (StatusCode::FOUND, [("location", back.to_string())]).into_response()
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
        "created": c.created, "is_archived": c.archived, "is_general": false, "unlinked": 0,
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
    if let Some(Value::Object(extra)) = &m.extra {
        for (k, field) in extra {
            v[k] = field.clone();
        }
    }
    v
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
    // Sign in with Slack authenticates with the client's credentials or the user's token.
    let auth_ok = method.starts_with("openid.connect.")
        || headers.get("authorization").and_then(|v| v.to_str().ok())
            == Some(&format!("Bearer {token}"));
    let (failure, result) = {
        let mut s = state.lock().unwrap();
        s.calls.push(Call {
            method: method.clone(),
            params: p.clone(),
            at: std::time::Instant::now(),
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

//! A small stateful stand-in for Slack's Web API, served over loopback, answering with the
//! shapes of Slack's documentation, recording every call and failing on request.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
            ..FakeState::default()
        }));
        let app = Router::new()
            .route("/api/{method}", any(handle))
            .route("/upload/{file}", axum::routing::post(upload))
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
        });
        id
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
        "id": c.id, "name": c.name, "is_channel": true, "is_group": false, "is_im": false,
        "created": 1790000000, "is_archived": false, "is_general": false, "unlinked": 0,
        "name_normalized": c.name, "is_shared": false, "creator": c.creator,
        "is_ext_shared": false, "is_org_shared": false, "is_member": true, "is_private": false,
        "is_mpim": false, "topic": {"value": c.topic, "creator": "", "last_set": 0},
        "purpose": {"value": "", "creator": "", "last_set": 0}, "previous_names": [],
    })
}

fn message_json(m: &Message, reply_count: usize) -> Value {
    let mut v = json!({"type": "message", "user": m.user, "text": m.text, "ts": m.ts});
    if m.user == BOT_USER {
        v["bot_id"] = json!(BOT_ID);
    }
    if reply_count > 0 {
        v["reply_count"] = json!(reply_count);
    }
    if let Some(t) = &m.thread_ts {
        v["thread_ts"] = json!(t);
    }
    if let Some(md) = &m.metadata {
        v["metadata"] = md.clone();
    }
    v
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
        let result = if auth_ok {
            apply(&mut s, &method, &p)
        } else {
            json!({"ok": false, "error": "invalid_auth"})
        };
        (failure, result)
    };
    if let Some(Failure::Hang(d)) = failure {
        tokio::time::sleep(d).await;
    }
    Json(result).into_response()
}

fn apply(s: &mut FakeState, method: &str, p: &Value) -> Value {
    match method {
        "auth.test" => {
            json!({"ok": true, "url": "https://test.slack.com/", "team": "Test", "user": "hereby", "team_id": "T111", "user_id": BOT_USER, "bot_id": BOT_ID})
        }
        "conversations.create" => {
            let name = str_param(p, "name").to_string();
            if s.channels.iter().any(|c| c.name == name) {
                return json!({"ok": false, "error": "name_taken"});
            }
            let id = format!("C{:08}", s.channels.len() + 1);
            let c = Channel {
                id,
                name,
                creator: BOT_USER.into(),
                topic: String::new(),
                members: vec![BOT_USER.into()],
                pins: vec![],
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
                channel: str_param(p, "channel").into(),
                ts: ts.clone(),
                thread_ts: p.get("thread_ts").and_then(Value::as_str).map(String::from),
                text: str_param(p, "text").into(),
                user: BOT_USER.into(),
                metadata: p.get("metadata").cloned(),
                blocks: p.get("blocks").cloned(),
            };
            let out =
                json!({"ok": true, "channel": m.channel, "ts": ts, "message": message_json(&m, 0)});
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
            let mut view = p.get("view").cloned().unwrap_or(json!({}));
            if let Value::String(raw) = &view {
                view = serde_json::from_str(raw).unwrap_or(json!({}));
            }
            view["id"] = json!("V0001");
            s.views.push(view.clone());
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
                None => json!({"ok": true}),
            }
        }
        "conversations.list" => {
            let channels: Vec<Value> = s.channels.iter().map(channel_json).collect();
            json!({"ok": true, "channels": channels, "response_metadata": {"next_cursor": ""}})
        }
        "conversations.history" | "conversations.replies" => {
            // History: top-level messages newest first, newer than `oldest`. Replies: the
            // thread's parent and replies, oldest first. Both paginate with `limit`/`cursor`.
            let channel = str_param(p, "channel");
            let thread = p.get("ts").and_then(Value::as_str);
            let oldest: f64 = str_param(p, "oldest").parse().unwrap_or(0.0);
            let limit: usize = str_param(p, "limit")
                .parse()
                .unwrap_or(100)
                .min(s.page_size);
            let offset: usize = str_param(p, "cursor").parse().unwrap_or(0);
            let replies = |ts: &str| {
                s.messages
                    .iter()
                    .filter(|r| {
                        r.channel == channel && r.thread_ts.as_deref() == Some(ts) && r.ts != ts
                    })
                    .count()
            };
            let mut msgs: Vec<&Message> = s
                .messages
                .iter()
                .filter(|m| m.channel == channel)
                .filter(|m| match thread {
                    Some(t) => m.ts == t || m.thread_ts.as_deref() == Some(t),
                    None => {
                        (m.thread_ts.is_none() || m.thread_ts.as_deref() == Some(m.ts.as_str()))
                            && m.ts.parse::<f64>().unwrap_or(0.0) > oldest
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
                .map(|m| message_json(m, replies(&m.ts)))
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
                let content = String::from_utf8(s.uploads.get(&id).cloned().unwrap_or_default())
                    .unwrap_or_default();
                let title = f["title"].as_str().unwrap_or("").to_string();
                s.shared.push(SharedFile {
                    id: id.clone(),
                    title: title.clone(),
                    channel: str_param(p, "channel_id").into(),
                    comment: str_param(p, "initial_comment").into(),
                    content,
                });
                out.push(json!({"id": id, "name": title, "title": title, "permalink": format!("https://test.slack.com/files/{BOT_USER}/{id}")}));
            }
            json!({"ok": true, "files": out})
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
        "users.info" => {
            let user = str_param(p, "user");
            json!({"ok": true, "user": {"id": user, "team_id": "T111", "name": user.to_lowercase(), "real_name": format!("Real {user}"),
                   "profile": {"display_name": format!("disp-{}", user.to_lowercase()), "real_name": format!("Real {user}")}}})
        }
        "openid.connect.token" => {
            if str_param(p, "client_id") != CLIENT_ID
                || str_param(p, "client_secret") != CLIENT_SECRET
            {
                return json!({"ok": false, "error": "invalid_client_id"});
            }
            let Some(grant) = s.oidc_grants.remove(str_param(p, "code")) else {
                return json!({"ok": false, "error": "invalid_code"});
            };
            if grant["redirect_uri"] != p["redirect_uri"] {
                return json!({"ok": false, "error": "bad_redirect_uri"});
            }
            let token = format!("xoxp-oidc-{}", s.oidc_grants.len() + 100);
            s.oidc_grants.insert(token.clone(), grant.clone());
            let claims = json!({"iss": "https://slack.com", "sub": grant["user"], "aud": CLIENT_ID,
                "nonce": grant["nonce"], "https://slack.com/team_id": grant["team"],
                "https://slack.com/user_id": grant["user"], "exp": 4_000_000_000u64});
            let b64 = |v: &[u8]| {
                use base64::Engine;
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v)
            };
            let id_token = format!(
                "{}.{}.fake-signature",
                b64(br#"{"alg":"RS256","typ":"JWT"}"#),
                b64(claims.to_string().as_bytes())
            );
            json!({"ok": true, "access_token": token, "token_type": "Bearer", "id_token": id_token})
        }
        "openid.connect.userInfo" => match s.oidc_grants.get(str_param(p, "token")) {
            Some(grant) => {
                json!({"ok": true, "sub": grant["user"], "https://slack.com/user_id": grant["user"],
                "https://slack.com/team_id": grant["team"], "name": format!("Real {}", grant["user"].as_str().unwrap_or("")),
                "email": "someone@example.com"})
            }
            None => json!({"ok": false, "error": "invalid_auth"}),
        },
        _ => json!({"ok": false, "error": "unknown_method"}),
    }
}

//! What each Web API method does in the fake: Slack's answer, in the shapes of Slack's
//! documentation, after the scope, membership and rate checks of `mod.rs`.

use serde_json::{json, Value};

use super::rules::{access, Access};
use super::*;

pub(super) fn apply(s: &mut FakeState, method: &str, p: &Value) -> Value {
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
    // An archived channel can be read, and refuses what would write to it.
    if s.channels
        .iter()
        .any(|c| c.id == channel_param && c.archived)
    {
        match method {
            "chat.postMessage"
            | "chat.postEphemeral"
            | "conversations.invite"
            | "conversations.setTopic"
            | "conversations.rename"
            | "pins.add" => return json!({"ok": false, "error": "is_archived"}),
            "chat.update" => return json!({"ok": false, "error": "is_inactive"}),
            _ => {}
        }
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
                archived: false,
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
                extra: None,
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
                    json!({"ok": true, "channel": channel, "ts": ts, "text": m.text,
                           "message": {"text": m.text, "user": BOT_USER, "bot_id": BOT_ID}})
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
        "conversations.members" => {
            let id = str_param(p, "channel");
            match s.channels.iter().find(|c| c.id == id) {
                Some(c) if c.private && !c.members.iter().any(|m| m == BOT_USER) => {
                    json!({"ok": false, "error": "channel_not_found"})
                }
                Some(c) => {
                    json!({"ok": true, "members": c.members, "response_metadata": {"next_cursor": ""}})
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

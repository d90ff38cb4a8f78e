//! Where the fake is as strict as Slack: the scopes a method needs, whether hereby may act in a
//! conversation, and each method's rate tier.

use std::time::Instant;

use serde_json::{json, Value};

use super::*;

/// Calls per window of a method's rate tier (Slack's published tiers).
pub(super) fn tier_limit(method: &str) -> Option<usize> {
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
        | "conversations.members"
        | "chat.postEphemeral"
        | "views.open"
        | "views.update"
        | "files.getUploadURLExternal"
        | "files.completeUploadExternal"
        | "chat.getPermalink" => 100,
        _ => return None,
    })
}

/// What hereby may do in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    /// A member (or a direct conversation).
    Member,
    /// A public channel hereby is not in.
    Outsider,
    /// A private channel hereby is not in, or none at all: Slack says `channel_not_found`.
    Hidden,
}

/// The scopes a bot-token method needs (any one of them), given its parameters.
pub(super) fn needed_scopes(s: &FakeState, method: &str, p: &Value) -> &'static [&'static str] {
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
        "conversations.members" => {
            if private("channel") {
                &["groups:read"]
            } else {
                &["channels:read"]
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
pub(super) fn access(s: &FakeState, id: &str) -> Access {
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
pub(super) fn membership_refusal(s: &FakeState, id: &str, public_ok: bool) -> Option<Value> {
    match access(s, id) {
        Access::Member => None,
        Access::Outsider if public_ok && s.scopes.contains("chat:write.public") => None,
        Access::Outsider => Some(json!({"ok": false, "error": "not_in_channel"})),
        Access::Hidden => Some(json!({"ok": false, "error": "channel_not_found"})),
    }
}

/// Counts a call against its method's tier; the seconds to wait if it is one too many.
pub(super) fn over_limit(s: &mut FakeState, method: &str) -> Option<u64> {
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

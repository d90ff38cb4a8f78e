//! Pacing Web API calls by Slack's rate-limit tiers, so that long walks (a channel's history,
//! its threads, the channel list) stay within what Slack allows instead of running into 429s.
//!
//! Slack limits each method per workspace: Tier 1 about 1 call a minute, Tier 2 20, Tier 3 50,
//! Tier 4 100 (`conversations.history` and `conversations.replies` are Tier 3). The pacer keeps,
//! per method, the times of its recent calls and waits before a call that would make more than
//! the tier allows in any window. The window is a minute, as Slack's; it can be shortened for a
//! local stand-in of Slack that uses a compressed window. A 429 that comes anyway (another app
//! on the same token, a limit Slack lowered) is still honoured by the caller with `Retry-After`.
//!
//! The tiers are Slack's published ones for the methods hereby calls (from Slack's method
//! documentation, as also listed by Slack's Java SDK; MIT).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Calls a method may make per window, by Slack's tier for it; `None` for methods Slack
/// limits otherwise (per channel, per message) or not at all.
pub fn calls_per_window(method: &str) -> Option<usize> {
    let tier = match method {
        "apps.connections.open" => 1,
        "conversations.create"
        | "conversations.list"
        | "conversations.rename"
        | "conversations.setTopic"
        | "canvases.create" => 2,
        "conversations.history"
        | "conversations.replies"
        | "conversations.invite"
        | "conversations.info"
        | "conversations.join"
        | "chat.update"
        | "pins.add"
        | "bots.info"
        | "files.info" => 3,
        "users.info"
        | "chat.postEphemeral"
        | "views.open"
        | "files.getUploadURLExternal"
        | "files.completeUploadExternal"
        | "chat.getPermalink" => 4,
        _ => return None,
    };
    Some(match tier {
        1 => 1,
        2 => 20,
        3 => 50,
        _ => 100,
    })
}

/// Waits before calls that would go over a method's tier.
#[derive(Debug)]
pub struct Pacer {
    window: Duration,
    recent: Mutex<HashMap<&'static str, VecDeque<Instant>>>,
}

impl Pacer {
    /// A pacer whose tiers count calls per `window` (a minute against Slack).
    pub fn new(window: Duration) -> Self {
        Pacer {
            window,
            recent: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until `method` may be called, and counts the call.
    pub async fn ready(&self, method: &'static str) {
        let Some(limit) = calls_per_window(method) else {
            return;
        };
        // A little margin: calls are counted when sent, Slack counts them when they arrive.
        let window = self.window + self.window / 20;
        loop {
            let wait = {
                let mut recent = match self.recent.lock() {
                    Ok(r) => r,
                    Err(poisoned) => poisoned.into_inner(),
                };
                let calls = recent.entry(method).or_default();
                let now = Instant::now();
                while calls
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= window)
                {
                    calls.pop_front();
                }
                if calls.len() < limit {
                    calls.push_back(now);
                    return;
                }
                calls
                    .front()
                    .map(|oldest| window.saturating_sub(now.duration_since(*oldest)))
                    .unwrap_or_default()
            };
            tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_tier_3_method_makes_at_most_fifty_calls_a_minute() {
        let pacer = Pacer::new(Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..50 {
            pacer.ready("conversations.replies").await;
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "a burst of 50 is allowed"
        );
        pacer.ready("conversations.replies").await;
        assert!(
            start.elapsed() >= Duration::from_secs(60),
            "the 51st call waits for the window"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn methods_are_paced_separately_and_unlisted_ones_not_at_all() {
        let pacer = Pacer::new(Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..20 {
            pacer.ready("conversations.create").await;
            pacer.ready("conversations.history").await;
        }
        for _ in 0..500 {
            pacer.ready("chat.postMessage").await;
        }
        assert!(start.elapsed() < Duration::from_secs(1));
    }
}

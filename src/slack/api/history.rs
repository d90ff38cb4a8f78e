//! The gateway's history calls: pages of a channel's history and of a thread's replies.

use slack_morphism::prelude::*;

use super::*;

/// A page of messages as Slack sent them.
#[derive(serde::Deserialize)]
struct RawPage {
    #[serde(default)]
    messages: Vec<serde_json::Value>,
    response_metadata: Option<SlackResponseMetadata>,
}

impl SlackGateway {
    /// One page of `conversations.history` newer than `oldest`, as JSON messages exactly as
    /// Slack sent them; the cursor of the next page, if any. Read untyped: slack-morphism's
    /// history message drops the fields it does not model, such as a huddle's `room`.
    #[tracing::instrument(name = "Reading channel history", skip(self))]
    pub async fn history_page(
        &self,
        channel: &ChannelId,
        oldest: Option<&str>,
        cursor: Option<String>,
    ) -> Result<(Vec<serde_json::Value>, Option<String>), CallError> {
        let limit = PAGE_LIMIT.to_string();
        let params = vec![
            ("channel", Some(channel.as_str())),
            ("limit", Some(limit.as_str())),
            ("oldest", oldest),
            ("cursor", cursor.as_deref()),
        ];
        let session = self.client.open_session(&self.token);
        let r = self
            .call(
                "conversations.history",
                session.http_session_api.http_get::<RawPage, _, &str>(
                    "conversations.history",
                    &params,
                    None,
                ),
            )
            .await?;
        let next = r
            .response_metadata
            .and_then(|m| m.next_cursor)
            .map(|c| c.0)
            .filter(|c| !c.is_empty());
        Ok((r.messages, next))
    }
    /// One page of `conversations.replies` of a thread after `oldest`, as JSON messages (the
    /// parent included).
    #[tracing::instrument(name = "Reading a thread", skip(self))]
    pub async fn replies_page(
        &self,
        channel: &ChannelId,
        thread_ts: &str,
        oldest: Option<&str>,
        cursor: Option<String>,
    ) -> Result<(Vec<serde_json::Value>, Option<String>), CallError> {
        let r = self.replies(channel, thread_ts, oldest, cursor).await?;
        Ok(page(r.messages, r.response_metadata))
    }
    /// `conversations.replies` with `include_all_metadata` (slack-morphism's request type has
    /// no such field, and without it Slack leaves out the metadata hereby's messages carry).
    pub(super) async fn replies(
        &self,
        channel: &ChannelId,
        thread_ts: &str,
        oldest: Option<&str>,
        cursor: Option<String>,
    ) -> Result<SlackApiConversationsRepliesResponse, CallError> {
        let limit = PAGE_LIMIT.to_string();
        let params = vec![
            ("channel", Some(channel.as_str())),
            ("ts", Some(thread_ts)),
            ("limit", Some(limit.as_str())),
            ("include_all_metadata", Some("true")),
            ("oldest", oldest),
            ("cursor", cursor.as_deref()),
        ];
        let session = self.client.open_session(&self.token);
        self.call(
            "conversations.replies",
            session
                .http_session_api
                .http_get::<SlackApiConversationsRepliesResponse, _, &str>(
                    "conversations.replies",
                    &params,
                    None,
                ),
        )
        .await
    }
}

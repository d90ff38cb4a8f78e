//! The gateway's history calls: pages of a channel's history and of a thread's replies.

use slack_morphism::prelude::*;

use super::*;

impl SlackGateway {
    /// One page of `conversations.history` newer than `oldest`, as JSON messages; the cursor
    /// of the next page, if any.
    #[tracing::instrument(name = "Reading channel history", skip(self))]
    pub async fn history_page(
        &self,
        channel: &ChannelId,
        oldest: Option<&str>,
        cursor: Option<String>,
    ) -> Result<(Vec<serde_json::Value>, Option<String>), CallError> {
        let req = SlackApiConversationsHistoryRequest::new()
            .with_channel(SlackChannelId::new(channel.to_string()))
            .with_limit(PAGE_LIMIT)
            .opt_oldest(oldest.map(|o| SlackTs::new(o.to_string())))
            .opt_cursor(cursor.map(SlackCursorId::new));
        let session = self.client.open_session(&self.token);
        let r = self
            .call("conversations.history", session.conversations_history(&req))
            .await?;
        Ok(page(r.messages, r.response_metadata))
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

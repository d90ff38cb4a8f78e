//! The gateway's message calls: posting (and finding a post whose answer was lost), updating,
//! ephemeral messages, permalinks, modals and people's names.

use slack_morphism::prelude::*;

use super::*;

impl SlackGateway {
    /// `chat.postMessage`; returns the message's `ts`.
    #[tracing::instrument(name = "Posting a Slack message", skip(self, message), fields(key = %message.key))]
    pub async fn post_message(
        &self,
        channel: &ChannelId,
        message: &OutgoingMessage,
    ) -> Result<String, CallError> {
        let blocks = match &message.blocks {
            Some(b) => Some(
                serde_json::from_value::<Vec<SlackBlock>>(b.clone()).map_err(|e| {
                    CallError::Refused {
                        code: format!("invalid_blocks: {e}"),
                    }
                })?,
            ),
            None => None,
        };
        let metadata = SlackMessageMetadata::new(METADATA_EVENT_TYPE.to_string())
            .with_event_payload(
                [("key".to_string(), message.key.clone())]
                    .into_iter()
                    .collect(),
            );
        let content = SlackMessageContent::new()
            .with_text(message.text.clone())
            .opt_blocks(blocks)
            .with_metadata(metadata);
        let req =
            SlackApiChatPostMessageRequest::new(SlackChannelId::new(channel.to_string()), content)
                .opt_thread_ts(message.thread_ts.clone().map(SlackTs::new))
                .with_unfurl_links(false);
        let session = self.client.open_session(&self.token);
        let r = self
            .call("chat.postMessage", session.chat_post_message(&req))
            .await?;
        Ok(r.ts.0)
    }
    /// Looks for a message this bot already posted for `key` (after an attempt whose outcome
    /// is unknown), among recent messages of the channel or thread.
    #[tracing::instrument(name = "Looking for a message already posted", skip(self))]
    pub async fn find_posted(
        &self,
        channel: &ChannelId,
        thread_ts: Option<&str>,
        key: &str,
        text: &str,
        since: Option<&str>,
    ) -> Result<Option<String>, CallError> {
        let bot = self.bot_user().await?;
        let session = self.client.open_session(&self.token);
        let oldest = since.map(|s| SlackTs::new(s.to_string()));
        let mut cursor: Option<SlackCursorId> = None;
        // Only messages since the first attempt are candidates; a few pages cover them.
        for _ in 0..10 {
            let (messages, next) = match thread_ts {
                Some(ts) => {
                    let r = self
                        .replies(channel, ts, since, cursor.clone().map(|c| c.0))
                        .await?;
                    (r.messages, r.response_metadata)
                }
                None => {
                    let req = SlackApiConversationsHistoryRequest::new()
                        .with_channel(SlackChannelId::new(channel.to_string()))
                        .with_limit(PAGE_LIMIT)
                        .with_include_all_metadata(true)
                        .opt_oldest(oldest.clone())
                        .opt_cursor(cursor.clone());
                    let r = self
                        .call("conversations.history", session.conversations_history(&req))
                        .await?;
                    (r.messages, r.response_metadata)
                }
            };
            let found = messages.into_iter().find(|m| {
                let by_key = m.content.metadata.as_ref().is_some_and(|md| {
                    md.event_type == METADATA_EVENT_TYPE
                        && md
                            .event_payload
                            .as_ref()
                            .and_then(|p| p.get("key"))
                            .map(String::as_str)
                            == Some(key)
                });
                let by_text = m.sender.user.as_ref().map(|u| u.0.as_str()) == Some(bot.as_str())
                    && m.content.text.as_deref() == Some(text);
                by_key || by_text
            });
            if let Some(m) = found {
                return Ok(Some(m.origin.ts.0));
            }
            cursor = next.and_then(|m| m.next_cursor).filter(|c| !c.0.is_empty());
            if cursor.is_none() {
                break;
            }
        }
        Ok(None)
    }
    /// `chat.update`: redraws a message hereby posted.
    #[tracing::instrument(name = "Updating a Slack message", skip(self, text, blocks))]
    pub async fn update_message(
        &self,
        channel: &ChannelId,
        ts: &str,
        text: &str,
        blocks: &serde_json::Value,
    ) -> Result<(), CallError> {
        let blocks = serde_json::from_value::<Vec<SlackBlock>>(blocks.clone()).map_err(|e| {
            CallError::Refused {
                code: format!("invalid_blocks: {e}"),
            }
        })?;
        let content = SlackMessageContent::new()
            .with_text(text.to_string())
            .with_blocks(blocks);
        let req = SlackApiChatUpdateRequest::new(
            SlackChannelId::new(channel.to_string()),
            content,
            SlackTs::new(ts.to_string()),
        );
        let session = self.client.open_session(&self.token);
        self.call("chat.update", session.chat_update(&req))
            .await
            .map(|_| ())
    }
    /// `chat.postEphemeral`: a message only `user` sees.
    #[tracing::instrument(name = "Posting an ephemeral Slack message", skip(self, text))]
    pub async fn post_ephemeral(
        &self,
        channel: &ChannelId,
        user: &UserId,
        text: &str,
    ) -> Result<(), CallError> {
        let req = SlackApiChatPostEphemeralRequest::new(
            SlackChannelId::new(channel.to_string()),
            SlackUserId::new(user.to_string()),
            SlackMessageContent::new().with_text(text.to_string()),
        );
        let session = self.client.open_session(&self.token);
        self.call("chat.postEphemeral", session.chat_post_ephemeral(&req))
            .await
            .map(|_| ())
    }
    /// `chat.getPermalink`.
    #[tracing::instrument(name = "Asking Slack for a permalink", skip(self))]
    pub async fn permalink(&self, channel: &ChannelId, ts: &str) -> Result<String, CallError> {
        let req = SlackApiChatGetPermalinkRequest::new(
            SlackChannelId::new(channel.to_string()),
            SlackTs::new(ts.to_string()),
        );
        let session = self.client.open_session(&self.token);
        let r = self
            .call("chat.getPermalink", session.chat_get_permalink(&req))
            .await?;
        Ok(r.permalink.to_string())
    }
    /// `views.open`: a modal, which Slack only accepts within 3 s of the `trigger_id`;
    /// returns the view's ID.
    #[tracing::instrument(name = "Opening a Slack modal", skip(self, view))]
    pub async fn open_view(
        &self,
        trigger_id: &str,
        view: &serde_json::Value,
    ) -> Result<String, CallError> {
        let view =
            serde_json::from_value::<SlackView>(view.clone()).map_err(|e| CallError::Refused {
                code: format!("invalid_view: {e}"),
            })?;
        let req = SlackApiViewsOpenRequest::new(SlackTriggerId::new(trigger_id.to_string()), view);
        let session = self.client.open_session(&self.token);
        let r = self.call("views.open", session.views_open(&req)).await?;
        Ok(r.view.state_params.id.0)
    }
    /// `views.update`: redraws an open modal.
    #[tracing::instrument(name = "Updating a Slack modal", skip(self, view))]
    pub async fn update_view(
        &self,
        view_id: &str,
        view: &serde_json::Value,
    ) -> Result<(), CallError> {
        let view =
            serde_json::from_value::<SlackView>(view.clone()).map_err(|e| CallError::Refused {
                code: format!("invalid_view: {e}"),
            })?;
        let req = SlackApiViewsUpdateRequest::new(view)
            .with_view_id(SlackViewId::new(view_id.to_string()));
        let session = self.client.open_session(&self.token);
        self.call("views.update", session.views_update(&req))
            .await
            .map(|_| ())
    }
    /// `users.info`: a user's display and real names.
    #[tracing::instrument(name = "Asking Slack for a user's name", skip(self))]
    pub async fn user_names(
        &self,
        user: &UserId,
    ) -> Result<(Option<String>, Option<String>), CallError> {
        let req = SlackApiUsersInfoRequest::new(SlackUserId::new(user.to_string()));
        let session = self.client.open_session(&self.token);
        let r = self.call("users.info", session.users_info(&req)).await?;
        let profile = r.user.profile.as_ref();
        let display = profile
            .and_then(|p| p.display_name.clone())
            .filter(|n| !n.is_empty());
        let real = r
            .user
            .real_name
            .clone()
            .or_else(|| profile.and_then(|p| p.real_name.clone()))
            .filter(|n| !n.is_empty());
        Ok((display, real))
    }

    /// `bots.info`: the name of an app that posts as a bot.
    #[tracing::instrument(name = "Asking Slack for an app's name", skip(self))]
    pub async fn bot_name(&self, bot: &str) -> Result<String, CallError> {
        let req = SlackApiBotsInfoRequest::new().with_bot(bot.to_string());
        let session = self.client.open_session(&self.token);
        let r = self.call("bots.info", session.bots_info(&req)).await?;
        Ok(r.bot.name)
    }
}

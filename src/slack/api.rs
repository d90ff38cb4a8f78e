//! The Web API gateway: the few Slack calls hereby makes, through slack-morphism, with errors
//! sorted into what to do next (wait, retry, or give up) and a time limit on every call.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;
use tokio::sync::OnceCell;

use super::pacing::Pacer;
use crate::config::Secret;
use crate::domain::{ChannelId, UserId};

type Connector = SlackClientHyperConnector<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
>;

/// Why a Slack call did not succeed, sorted by what the caller should do.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Slack asked us to slow down (HTTP 429); try again after `retry_after`.
    #[error("rate limited by Slack; retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
    /// Slack or the network failed (5xx, timeout, connection); the call may or may not have
    /// taken effect, and should be retried.
    #[error("Slack is unavailable: {0}")]
    Unavailable(String),
    /// Slack answered `ok: false` with this error code; retrying the same call will not help.
    #[error("Slack refused the call: {code}")]
    Refused { code: String },
}

impl CallError {
    /// The `error` code Slack answered with, if it answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            CallError::Refused { code } => Some(code),
            _ => None,
        }
    }

    fn from_client(err: SlackClientError) -> CallError {
        match err {
            SlackClientError::RateLimitError(e) => CallError::RateLimited {
                retry_after: e.retry_after.unwrap_or(Duration::from_secs(1)),
            },
            SlackClientError::ApiError(e) => match e.code.as_str() {
                // Codes Slack documents as passing trouble on its side.
                // `rate_limited` is how `chat.postMessage` says "too many messages for now".
                "ratelimited" | "rate_limited" => CallError::RateLimited {
                    retry_after: Duration::from_secs(1),
                },
                "internal_error"
                | "fatal_error"
                | "service_unavailable"
                | "request_timeout"
                | "team_added_to_org" => CallError::Unavailable(e.code),
                _ => CallError::Refused { code: e.code },
            },
            other => CallError::Unavailable(other.to_string()),
        }
    }
}

fn page(
    messages: Vec<SlackHistoryMessage>,
    meta: Option<SlackResponseMetadata>,
) -> (Vec<serde_json::Value>, Option<String>) {
    let values = messages
        .iter()
        .filter_map(|m| serde_json::to_value(m).ok())
        .collect();
    let next = meta
        .and_then(|m| m.next_cursor)
        .map(|c| c.0)
        .filter(|c| !c.is_empty());
    (values, next)
}

/// A channel as `conversations.list` shows it.
#[derive(Debug, Clone)]
pub struct ChannelSummary {
    pub id: ChannelId,
    pub name: String,
    /// Who created it.
    pub creator: Option<UserId>,
    /// When, in seconds since the epoch.
    pub created: Option<i64>,
}

/// A message hereby posts.
#[derive(Debug, Clone, Default)]
pub struct OutgoingMessage {
    /// Plain text: the notification and the fallback for clients without blocks.
    pub text: String,
    /// Block Kit blocks as JSON, if any.
    pub blocks: Option<serde_json::Value>,
    /// Reply in this thread.
    pub thread_ts: Option<String>,
    /// Names the effect this message is; stored as message metadata so that a retry after an
    /// uncertain outcome can find the message instead of posting it twice.
    pub key: String,
}

impl OutgoingMessage {
    /// A plain-text message (no blocks, not in a thread) for the effect named `key`.
    pub fn plain(text: String, key: &str) -> Self {
        OutgoingMessage {
            text,
            blocks: None,
            thread_ts: None,
            key: key.to_string(),
        }
    }
}

/// The Slack Web API, as hereby uses it.
#[derive(Clone)]
pub struct SlackGateway {
    client: Arc<SlackClient<Connector>>,
    token: SlackApiToken,
    timeout: Duration,
    bot_user: Arc<OnceCell<UserId>>,
    pacer: Arc<Pacer>,
}

/// The largest page `conversations.history` and `conversations.replies` give.
const PAGE_LIMIT: u16 = 999;

/// The metadata event type on every message hereby posts.
pub const METADATA_EVENT_TYPE: &str = "hereby_effect";

impl SlackGateway {
    /// A gateway to the Web API at `api_url` (which may be plain http, for a local fake or a
    /// proxy), authenticated with the bot token; each call may take `timeout`, and methods are
    /// paced by their rate-limit tier counted over `rate_window` (a minute against Slack).
    pub fn new(
        api_url: &url::Url,
        bot_token: &Secret,
        timeout: Duration,
        rate_window: Duration,
    ) -> anyhow::Result<Self> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .context("Failed to load the system's TLS root certificates")?
            .https_or_http()
            .enable_http1()
            .build();
        let base = api_url.as_str().trim_end_matches('/').to_string();
        let connector = SlackClientHyperConnector::with_connector(https).with_slack_api_url(&base);
        Ok(SlackGateway {
            client: Arc::new(SlackClient::new(connector)),
            token: SlackApiToken::new(SlackApiTokenValue::new(bot_token.expose().to_string())),
            timeout,
            bot_user: Arc::new(OnceCell::new()),
            pacer: Arc::new(Pacer::new(rate_window)),
        })
    }

    async fn call<T, F>(&self, method: &'static str, fut: F) -> Result<T, CallError>
    where
        F: std::future::Future<Output = ClientResult<T>>,
    {
        // Waiting for the tier is not part of the call's time limit.
        self.pacer.ready(method).await;
        metrics::counter!("hereby_slack_api_calls_total", "method" => method).increment(1);
        let result = match tokio::time::timeout(self.timeout, fut).await {
            Err(_) => Err(CallError::Unavailable(format!("{method} timed out"))),
            Ok(Err(e)) => Err(CallError::from_client(e)),
            Ok(Ok(v)) => Ok(v),
        };
        if let Err(e) = &result {
            let kind = match e {
                CallError::RateLimited { .. } => "rate_limited",
                CallError::Unavailable(_) => "unavailable",
                CallError::Refused { .. } => "refused",
            };
            metrics::counter!("hereby_slack_api_errors_total", "method" => method, "kind" => kind)
                .increment(1);
            tracing::warn!(method, error = %e, "Slack call failed");
        }
        result
    }

    /// The bot's own user ID (`auth.test`), asked once.
    #[tracing::instrument(name = "Asking Slack who the bot is", skip(self))]
    pub async fn bot_user(&self) -> Result<UserId, CallError> {
        self.bot_user
            .get_or_try_init(|| async {
                let session = self.client.open_session(&self.token);
                let r = self.call("auth.test", session.auth_test()).await?;
                Ok(UserId::new(r.user_id.0))
            })
            .await
            .cloned()
    }

    /// `apps.connections.open` with the app-level token: a Socket Mode WebSocket URL.
    #[tracing::instrument(name = "Opening a Socket Mode connection", skip_all)]
    pub async fn socket_mode_url(&self, app_token: &Secret) -> Result<String, CallError> {
        let token = SlackApiToken::new(SlackApiTokenValue::new(app_token.expose().to_string()));
        let session = self.client.open_session(&token);
        let r = self
            .call(
                "apps.connections.open",
                session.apps_connections_open(&SlackApiAppsConnectionOpenRequest::new()),
            )
            .await?;
        Ok(r.url.0.to_string())
    }

    /// `conversations.create` for a public channel.
    #[tracing::instrument(name = "Creating a Slack channel", skip(self))]
    pub async fn create_channel(&self, name: &str) -> Result<ChannelId, CallError> {
        let session = self.client.open_session(&self.token);
        let req = SlackApiConversationsCreateRequest::new(name.to_string()).with_is_private(false);
        let r = self
            .call("conversations.create", session.conversations_create(&req))
            .await?;
        Ok(ChannelId::new(r.channel.id.0))
    }

    /// One page of `conversations.list` (public and private channels the bot can see,
    /// archived too), as large as Slack gives; the cursor of the next page, if any.
    #[tracing::instrument(name = "Listing Slack channels", skip(self))]
    pub async fn channels_page(
        &self,
        cursor: Option<String>,
    ) -> Result<(Vec<ChannelSummary>, Option<String>), CallError> {
        let session = self.client.open_session(&self.token);
        let req = SlackApiConversationsListRequest::new()
            .with_limit(1000)
            .with_exclude_archived(false)
            .with_types(vec![
                SlackConversationType::Public,
                SlackConversationType::Private,
            ])
            .opt_cursor(cursor.map(SlackCursorId::new));
        let r = self
            .call("conversations.list", session.conversations_list(&req))
            .await?;
        let channels = r
            .channels
            .iter()
            .map(|c| ChannelSummary {
                id: ChannelId::new(c.id.0.clone()),
                name: c.name.clone().unwrap_or_default(),
                creator: c.creator.as_ref().map(|u| UserId::new(u.0.clone())),
                created: Some(c.created.0.as_second()),
            })
            .collect();
        let next = r
            .response_metadata
            .and_then(|m| m.next_cursor)
            .map(|c| c.0)
            .filter(|c| !c.is_empty());
        Ok((channels, next))
    }

    /// `conversations.rename`.
    #[tracing::instrument(name = "Renaming a Slack channel", skip(self))]
    pub async fn rename_channel(&self, channel: &ChannelId, name: &str) -> Result<(), CallError> {
        let session = self.client.open_session(&self.token);
        let req = SlackApiConversationsRenameRequest::new(
            SlackChannelId::new(channel.to_string()),
            name.to_string(),
        );
        self.call("conversations.rename", session.conversations_rename(&req))
            .await
            .map(|_| ())
    }

    /// `conversations.invite`; someone already in the channel counts as invited.
    #[tracing::instrument(name = "Inviting to a Slack channel", skip(self))]
    pub async fn invite(&self, channel: &ChannelId, users: &[UserId]) -> Result<(), CallError> {
        let session = self.client.open_session(&self.token);
        let req = SlackApiConversationsInviteRequest::new(
            SlackChannelId::new(channel.to_string()),
            users
                .iter()
                .map(|u| SlackUserId::new(u.to_string()))
                .collect(),
        );
        match self
            .call("conversations.invite", session.conversations_invite(&req))
            .await
        {
            Err(CallError::Refused { code })
                if code == "already_in_channel" || code == "cant_invite_self" =>
            {
                Ok(())
            }
            other => other.map(|_| ()),
        }
    }

    /// `conversations.join`: hereby joins a public channel (to read back what it posted there).
    #[tracing::instrument(name = "Joining a Slack channel", skip(self))]
    pub async fn join(&self, channel: &ChannelId) -> Result<(), CallError> {
        let session = self.client.open_session(&self.token);
        let req = SlackApiConversationsJoinRequest::new(SlackChannelId::new(channel.to_string()));
        self.call("conversations.join", session.conversations_join(&req))
            .await
            .map(|_| ())
    }

    /// `conversations.setTopic`.
    #[tracing::instrument(name = "Setting a Slack channel topic", skip(self))]
    pub async fn set_topic(&self, channel: &ChannelId, topic: &str) -> Result<(), CallError> {
        let session = self.client.open_session(&self.token);
        let req = SlackApiConversationsSetTopicRequest::new(
            SlackChannelId::new(channel.to_string()),
            topic.to_string(),
        );
        self.call(
            "conversations.setTopic",
            session.conversations_set_topic(&req),
        )
        .await
        .map(|_| ())
    }

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
    async fn replies(
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

    /// Starts Slack's upload flow (`files.getUploadURLExternal`): the new file's ID and the
    /// URL its bytes go to.
    #[tracing::instrument(name = "Asking Slack where to upload a file", skip(self))]
    pub async fn upload_url(
        &self,
        filename: &str,
        length: usize,
    ) -> Result<(String, String), CallError> {
        let session = self.client.open_session(&self.token);
        let req = SlackApiFilesGetUploadUrlExternalRequest::new(filename.to_string(), length);
        let target = self
            .call(
                "files.getUploadURLExternal",
                session.get_upload_url_external(&req),
            )
            .await?;
        Ok((target.file_id.0, target.upload_url.0.to_string()))
    }

    /// Sends a file's bytes to the URL `upload_url` gave.
    #[tracing::instrument(name = "Uploading a file's bytes", skip(self, content))]
    pub async fn upload_bytes(&self, url: &str, content: &[u8]) -> Result<(), CallError> {
        let url = url::Url::parse(url).map_err(|e| CallError::Refused {
            code: format!("invalid upload URL: {e}"),
        })?;
        let session = self.client.open_session(&self.token);
        let upload = SlackApiFilesUploadViaUrlRequest::new(
            SlackFileUploadUrl::new(url),
            content.to_vec(),
            "text/markdown".to_string(),
        );
        self.call("upload", session.files_upload_via_url(&upload))
            .await
            .map(|_| ())
    }

    /// Ends the upload flow (`files.completeUploadExternal`): shares the uploaded file in
    /// `channel` with `comment`.
    #[tracing::instrument(name = "Sharing an uploaded file", skip(self, comment))]
    pub async fn complete_upload(
        &self,
        file_id: &str,
        title: &str,
        channel: &ChannelId,
        comment: &str,
    ) -> Result<(), CallError> {
        let session = self.client.open_session(&self.token);
        let complete =
            SlackApiFilesCompleteUploadExternalRequest::new(vec![SlackApiFilesComplete::new(
                SlackFileId::new(file_id.to_string()),
            )
            .with_title(title.to_string())])
            .with_channel_id(SlackChannelId::new(channel.to_string()))
            .with_initial_comment(comment.to_string());
        self.call(
            "files.completeUploadExternal",
            session.files_complete_upload_external(&complete),
        )
        .await
        .map(|_| ())
    }

    /// Whether a file is already shared in `channel` (`files.info`), after an attempt to share
    /// it whose answer was lost. A file Slack does not know is not shared.
    #[tracing::instrument(name = "Asking Slack where a file is shared", skip(self))]
    pub async fn file_shared_in(
        &self,
        file_id: &str,
        channel: &ChannelId,
    ) -> Result<bool, CallError> {
        let session = self.client.open_session(&self.token);
        let params = vec![("file", Some(file_id))];
        let r = self
            .call(
                "files.info",
                session
                    .http_session_api
                    .http_get::<serde_json::Value, _, &str>("files.info", &params, None),
            )
            .await;
        let info = match r {
            Err(CallError::Refused { code }) if code == "file_not_found" => return Ok(false),
            other => other?,
        };
        let file = &info["file"];
        let listed = ["channels", "groups", "ims"].iter().any(|k| {
            file[*k]
                .as_array()
                .is_some_and(|a| a.iter().any(|c| c.as_str() == Some(channel.as_str())))
        });
        let in_shares = ["public", "private"]
            .iter()
            .any(|k| file["shares"][*k].get(channel.as_str()).is_some());
        Ok(listed || in_shares)
    }

    /// `canvases.create`, tabbed in a channel; returns the canvas ID.
    #[tracing::instrument(name = "Creating a Slack canvas", skip(self, markdown))]
    pub async fn create_canvas(
        &self,
        channel: &ChannelId,
        title: &str,
        markdown: &str,
    ) -> Result<String, CallError> {
        let req = SlackApiCanvasesCreateRequest::new()
            .with_title(title.to_string())
            .with_document_content(SlackCanvasDocumentContent::new(markdown.to_string()))
            .with_channel_id(SlackChannelId::new(channel.to_string()));
        let session = self.client.open_session(&self.token);
        let r = self
            .call("canvases.create", session.canvases_create(&req))
            .await?;
        Ok(r.canvas_id.0)
    }

    /// The ID of a canvas titled `title` in `channel`, if there is one (`files.list`).
    #[tracing::instrument(name = "Looking for a canvas", skip(self))]
    pub async fn find_canvas(
        &self,
        channel: &ChannelId,
        title: &str,
    ) -> Result<Option<String>, CallError> {
        let session = self.client.open_session(&self.token);
        let params = vec![
            ("channel", Some(channel.as_str())),
            ("types", Some("canvas")),
            ("count", Some("100")),
        ];
        let r = self
            .call(
                "files.list",
                session
                    .http_session_api
                    .http_get::<serde_json::Value, _, &str>("files.list", &params, None),
            )
            .await?;
        Ok(r["files"].as_array().and_then(|files| {
            files
                .iter()
                .find(|f| f["title"].as_str() == Some(title))
                .and_then(|f| f["id"].as_str().map(str::to_string))
        }))
    }

    /// `pins.add`; an already pinned message counts as pinned.
    #[tracing::instrument(name = "Pinning a Slack message", skip(self))]
    pub async fn pin(&self, channel: &ChannelId, ts: &str) -> Result<(), CallError> {
        let session = self.client.open_session(&self.token);
        let req = SlackApiPinsAddRequest::new(
            SlackChannelId::new(channel.to_string()),
            SlackTs::new(ts.to_string()),
        );
        match self.call("pins.add", session.pins_add(&req)).await {
            Err(CallError::Refused { code }) if code == "already_pinned" => Ok(()),
            other => other.map(|_| ()),
        }
    }
}

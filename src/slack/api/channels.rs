//! The gateway's channel calls: creating, finding, renaming, joining and inviting into channels,
//! their topic and pins, and who is in them.

use slack_morphism::prelude::*;

use super::*;

impl SlackGateway {
    /// `conversations.create`, for a public or a private channel.
    #[tracing::instrument(name = "Creating a Slack channel", skip(self))]
    pub async fn create_channel(&self, name: &str, private: bool) -> Result<ChannelId, CallError> {
        let session = self.client.open_session(&self.token);
        let req =
            SlackApiConversationsCreateRequest::new(name.to_string()).with_is_private(private);
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
    #[tracing::instrument(name = "Setting a Slack channel topic", skip(self, topic))]
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
    /// Whether `user` is a member of `channel` (`conversations.members`, page by page).
    #[tracing::instrument(name = "Asking Slack who is in a channel", skip(self))]
    pub async fn is_member(&self, channel: &ChannelId, user: &UserId) -> Result<bool, CallError> {
        let session = self.client.open_session(&self.token);
        let mut cursor = None;
        loop {
            let req = SlackApiConversationsMembersRequest::new()
                .with_channel(SlackChannelId::new(channel.to_string()))
                .with_limit(1000)
                .opt_cursor(cursor);
            let r = self
                .call("conversations.members", session.conversations_members(&req))
                .await?;
            if r.members.iter().any(|m| m.0 == user.as_str()) {
                return Ok(true);
            }
            cursor = r
                .response_metadata
                .and_then(|m| m.next_cursor)
                .filter(|c| !c.0.is_empty());
            if cursor.is_none() {
                return Ok(false);
            }
        }
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

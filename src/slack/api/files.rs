//! The gateway's file calls: Slack's three-step upload, checking where a file is shared, and
//! canvases.

use slack_morphism::prelude::*;

use super::*;

impl SlackGateway {
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
}

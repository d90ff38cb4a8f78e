//! Answers through a `response_url`: a slash command's late answer, when hereby could not
//! answer within Slack's 3 s (its database was slow), and a pressed button's message redrawn.

use std::time::Duration;

use anyhow::Context;
use http_body_util::Full;
use hyper::body::Bytes;
use serde_json::json;

/// Only Slack's own hooks (or the configured API origin, for a proxy or a local fake) receive
/// answers: a signed request's `response_url` is Slack's, but hereby does not post elsewhere.
pub fn allowed(response_url: &url::Url, api_origin: &url::Url) -> bool {
    let slack_hooks =
        response_url.scheme() == "https" && response_url.host_str() == Some("hooks.slack.com");
    let same_origin = response_url.scheme() == api_origin.scheme()
        && response_url.host_str() == api_origin.host_str()
        && response_url.port_or_known_default() == api_origin.port_or_known_default();
    slack_hooks || same_origin
}

/// Posts `text` as an ephemeral answer to `response_url`.
pub async fn respond(
    response_url: &str,
    api_origin: &url::Url,
    text: &str,
    timeout: Duration,
) -> anyhow::Result<()> {
    respond_with(response_url, api_origin, text, None, timeout).await
}

/// Posts `text`, and `blocks` if any, as an ephemeral answer to `response_url`.
pub async fn respond_with(
    response_url: &str,
    api_origin: &url::Url,
    text: &str,
    blocks: Option<&serde_json::Value>,
    timeout: Duration,
) -> anyhow::Result<()> {
    let mut body = json!({ "response_type": "ephemeral", "text": text });
    if let Some(blocks) = blocks {
        body["blocks"] = blocks.clone();
    }
    post(response_url, api_origin, &body, timeout).await
}

/// Replaces the message a button was pressed on (through the press's `response_url`) with
/// `text` and `blocks`: the message then shows what the press did.
pub async fn replace(
    response_url: &str,
    api_origin: &url::Url,
    text: &str,
    blocks: &serde_json::Value,
    timeout: Duration,
) -> anyhow::Result<()> {
    let body = json!({ "replace_original": true, "text": text, "blocks": blocks });
    post(response_url, api_origin, &body, timeout).await
}

#[tracing::instrument(name = "Answering through a response_url", skip_all)]
async fn post(
    response_url: &str,
    api_origin: &url::Url,
    body: &serde_json::Value,
    timeout: Duration,
) -> anyhow::Result<()> {
    let url = url::Url::parse(response_url).context("The response_url is not a URL")?;
    anyhow::ensure!(
        allowed(&url, api_origin),
        "The response_url is not Slack's ({})",
        url.host_str().unwrap_or("")
    );
    let https = crate::slack::api::https_connector()?;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, Full<Bytes>>(https);
    let request = hyper::Request::post(url.as_str())
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .context("Failed to build the response_url request")?;
    let response = tokio::time::timeout(timeout, client.request(request))
        .await
        .context("Slack did not take the answer in time")?
        .context("Failed to post to the response_url")?;
    anyhow::ensure!(
        response.status().is_success(),
        "Slack refused the answer: HTTP {}",
        response.status()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_go_only_to_slack_or_the_configured_api_origin() {
        let origin = url::Url::parse("http://127.0.0.1:4000/api").unwrap();
        let ok = |u: &str| allowed(&url::Url::parse(u).unwrap(), &origin);
        assert!(ok("https://hooks.slack.com/commands/T1/2/x"));
        assert!(ok("http://127.0.0.1:4000/respond/1"));
        assert!(!ok("http://hooks.slack.com/commands/T1/2/x"));
        assert!(!ok("https://hooks.slack.com.evil.example/x"));
        assert!(!ok("http://127.0.0.1:4001/respond/1"));
        assert!(!ok("http://169.254.169.254/latest/meta-data"));
    }
}

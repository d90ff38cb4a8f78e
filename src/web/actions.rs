//! Closing an action item from the incident page: the one thing the web view changes in an
//! incident, through the same use case as `/incident action done <n>` and the reminders' buttons.

use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::sessions::Viewer;
use super::{auth, pages, PageError, Web};
use crate::domain::actions::ActionStatus;

/// The form a button on the incident page sends.
#[derive(Debug, Deserialize)]
pub struct Close {
    /// `done` or `wontfix`.
    status: String,
}

/// `POST /incidents/<number>/actions/<item>`: closes the item as the signed-in member, then
/// shows the incident page again at its action items.
#[tracing::instrument(name = "Closing an action item from the web view", skip_all, fields(team = %viewer.team))]
pub async fn close(
    State(web): State<Web>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((number, item)): Path<(String, i64)>,
    Form(form): Form<Close>,
) -> Result<Response, PageError> {
    auth::from_this_site(&web, &headers)?;
    let status = match form.status.as_str() {
        "done" => ActionStatus::Done,
        "wontfix" => ActionStatus::WontFix,
        _ => return Err(PageError::NotFound),
    };
    let incident = pages::find(&web, &viewer, &number).await?;
    let mut tx = web.app.store.begin_write().await?;
    let said = crate::app::actions::close_action(
        &mut tx,
        &incident,
        item,
        status,
        &viewer.user,
        Utc::now(),
    )
    .await?;
    tx.commit().await.map_err(anyhow::Error::from)?;
    web.app.effects_waiting.notify_one();
    tracing::info!(item, %said, "Closed from the web view");
    Ok(Redirect::to(&format!("/incidents/{}#actions", incident.number)).into_response())
}

//! `/incident postmortem`: the post-mortem's own status (draft → in review → final) and owner,
//! shown in the draft and in the live summary.

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::effect::{queue_for_change, Effect};
use crate::domain::review::ReviewStatus;
use crate::domain::timeline::TimelineEntry;
use crate::domain::UserId;
use crate::slack::views;
use crate::store::incidents::{self, Incident};
use crate::store::review;

/// Sets what was given (nothing: only says where the post-mortem stands) and redraws the live
/// summary. The reply is for the person who asked.
pub async fn apply(
    conn: &mut AnyConnection,
    incident: &Incident,
    status: Option<ReviewStatus>,
    owner: Option<UserId>,
    by: &UserId,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    if status.is_none() && owner.is_none() {
        return Ok(views::review_text(
            incident.postmortem_status,
            incident.postmortem_owner.as_ref(),
        ));
    }
    if let Some(s) = status {
        review::set_status(conn, &incident.team, incident.id, s).await?;
        let entry = TimelineEntry::PostmortemStatus { to: s };
        incidents::add_timeline(conn, &incident.team, incident.id, &entry, Some(by), now).await?;
    }
    if let Some(o) = &owner {
        review::set_owner(conn, &incident.team, incident.id, o).await?;
        let entry = TimelineEntry::PostmortemOwner { user: o.clone() };
        incidents::add_timeline(conn, &incident.team, incident.id, &entry, Some(by), now).await?;
    }
    queue_for_change(conn, incident, &[Effect::RefreshSummary], now).await?;
    Ok(views::review_text(
        status.unwrap_or(incident.postmortem_status),
        owner.as_ref().or(incident.postmortem_owner.as_ref()),
    ))
}

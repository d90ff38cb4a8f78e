//! Declaring an incident: store it with its commander and first timeline entry, and queue the
//! Slack effects that open its channel.

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::effect::{self, Effect};
use crate::domain::incident::DeclareIncident;
use crate::domain::timeline::TimelineEntry;
use crate::store::incidents::{self, Incident};

/// What a declaration led to.
#[derive(Debug)]
pub enum Declared {
    /// A new incident; its channel is on the way.
    New(Box<Incident>),
    /// The same message was already turned into this incident (delivered twice).
    Already(i64),
}

/// Opens an incident inside the caller's transaction; `reply_to` is the `response_url` of the
/// command that declared it, if any.
#[tracing::instrument(name = "Declaring an incident", skip_all, fields(team = %d.team, declarer = %d.declarer))]
pub async fn declare(
    conn: &mut AnyConnection,
    d: &DeclareIncident,
    reply_to: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<Declared> {
    if let Some(id) = incidents::find_by_origin(conn, &d.team, &d.origin).await? {
        return Ok(Declared::Already(id));
    }
    let incident = incidents::insert(conn, d, now).await?;
    for assignment in d.initial_roles() {
        incidents::assign_role(conn, &d.team, incident.id, &assignment).await?;
    }
    let declared = TimelineEntry::Declared {
        title: d.title.clone(),
        origin_channel: d.origin.channel().clone(),
    };
    incidents::add_timeline(
        conn,
        &d.team,
        incident.id,
        &declared,
        Some(&d.declarer),
        d.at,
    )
    .await?;
    super::record::participant(conn, &incident, &d.declarer, d.at, now).await?;
    let create = Effect::CreateChannel {
        reply_to: reply_to.map(str::to_string),
    };
    effect::queue(conn, &incident, &[create], now).await?;
    tracing::info!(number = incident.number, "Incident declared");
    Ok(Declared::New(Box::new(incident)))
}

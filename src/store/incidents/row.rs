//! The stored `incidents` row and how it becomes an [`Incident`].

use anyhow::Context;

use super::{Incident, IncidentChannel};
use crate::domain::incident::{Origin, Severity, Status, Title};
use crate::domain::review::ReviewStatus;
use crate::domain::{ChannelId, TeamId, UserId};
use crate::store::from_millis;

/// An `incidents` row as stored ([`super::COLUMNS`]), before its text becomes domain values.
#[derive(sqlx::FromRow)]
pub(super) struct IncidentRow {
    id: i64,
    team_id: String,
    number: i64,
    title: Option<String>,
    status: String,
    severity: Option<String>,
    declared_by: String,
    declared_at: i64,
    origin_channel: String,
    origin_ts: Option<String>,
    origin_thread: Option<String>,
    channel_id: Option<String>,
    channel_name: Option<String>,
    welcome_ts: Option<String>,
    private: i64,
    latest_update: Option<String>,
    resolved_at: Option<i64>,
    description: Option<String>,
    postmortem_status: Option<String>,
    postmortem_owner: Option<String>,
}

impl TryFrom<IncidentRow> for Incident {
    type Error = anyhow::Error;

    fn try_from(r: IncidentRow) -> anyhow::Result<Incident> {
        let origin_channel = ChannelId::new(r.origin_channel);
        let origin = match r.origin_ts {
            Some(ts) => Origin::Message {
                channel: origin_channel,
                ts,
                thread_ts: r.origin_thread,
            },
            None => Origin::Command {
                channel: origin_channel,
            },
        };
        let channel = match (r.channel_id, r.channel_name) {
            (Some(id), Some(name)) => Some(IncidentChannel {
                id: ChannelId::new(id),
                name,
            }),
            _ => None,
        };
        Ok(Incident {
            id: r.id,
            team: TeamId::new(r.team_id),
            number: r.number,
            title: r.title.and_then(|t| Title::parse(&t).ok()),
            status: Status::parse(&r.status)
                .with_context(|| format!("Unknown stored status {}", r.status))?,
            severity: r.severity.and_then(|s| Severity::parse(&s)),
            declared_by: UserId::new(r.declared_by),
            declared_at: from_millis(r.declared_at),
            origin,
            channel,
            private: r.private != 0,
            welcome_ts: r.welcome_ts,
            latest_update: r.latest_update,
            resolved_at: r.resolved_at.map(from_millis),
            description: r.description,
            postmortem_status: r
                .postmortem_status
                .and_then(|s| ReviewStatus::parse(&s))
                .unwrap_or_default(),
            postmortem_owner: r.postmortem_owner.map(UserId::new),
        })
    }
}

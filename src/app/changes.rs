//! Applying decided changes to a running incident: each fact becomes a timeline entry and a
//! stored change, and queues what Slack should show (the live summary, the topic, a notice in
//! the channel, an announcement).

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::effects::{queue_for_change, Effect};
use crate::domain::incident::Status;
use crate::domain::roles::{Role, RoleAssignment};
use crate::domain::timeline::TimelineEntry;
use crate::domain::transitions::{Fact, IncidentState};
use crate::domain::UserId;
use crate::slack::views;
use crate::store::incidents::{self, IncidentRecord};
use crate::store::postmortems;

/// The state that [`crate::domain::transitions::decide`] needs.
pub async fn load_state(
    conn: &mut AnyConnection,
    incident: &IncidentRecord,
    custom_roles: &[String],
) -> anyhow::Result<IncidentState> {
    Ok(IncidentState {
        title: incident.title.clone(),
        status: incident.status,
        severity: incident.severity,
        roles: incidents::current_roles(conn, &incident.team, incident.id, custom_roles).await?,
    })
}

/// Records `facts` by `actor` and queues their Slack effects; returns a confirmation for the
/// actor.
pub async fn apply(
    conn: &mut AnyConnection,
    incident: &IncidentRecord,
    facts: &[Fact],
    actor: &UserId,
    now: DateTime<Utc>,
    followup_interval: chrono::Duration,
) -> anyhow::Result<String> {
    let team = &incident.team;
    let label = views::escape(&views::incident_label(incident));
    let channel = incident
        .channel
        .as_ref()
        .map(|c| format!(" (<#{}>)", c.id))
        .unwrap_or_default();
    let mut notices = Vec::new();
    let mut announcements = Vec::new();
    let mut effects = vec![Effect::RefreshSummary, Effect::SetTopic];
    let mut confirmation = String::new();
    for fact in facts {
        match fact {
            Fact::RoleAssigned {
                role,
                user,
                previous,
            } => {
                incidents::assign_role(
                    conn,
                    team,
                    incident.id,
                    &RoleAssignment {
                        role: role.clone(),
                        user: user.clone(),
                        assigned_by: actor.clone(),
                        at: now,
                    },
                )
                .await?;
                let entry = TimelineEntry::RoleAssigned {
                    role: role.clone(),
                    user: user.clone(),
                    previous: previous.clone(),
                };
                incidents::add_timeline(conn, team, incident.id, &entry, Some(actor), now).await?;
                let who = if user == actor {
                    format!("<@{user}> took the {} role", role.display_name())
                } else {
                    format!("<@{actor}> made <@{user}> {}", role.display_name())
                };
                let handover = previous
                    .as_ref()
                    .map(|p| format!(", taking over from <@{p}>"))
                    .unwrap_or_default();
                notices.push(format!("{who}{handover}."));
                super::record::participant(conn, incident, user, now, now).await?;
                effects.push(Effect::Invite {
                    user: user.to_string(),
                });
                confirmation = format!("<@{user}> is now the {}.", role.display_name());
            }
            Fact::RoleUnassigned { role, previous } => {
                incidents::unassign_role(conn, team, incident.id, role, now).await?;
                let entry = TimelineEntry::RoleUnassigned {
                    role: role.clone(),
                    previous: previous.clone(),
                };
                incidents::add_timeline(conn, team, incident.id, &entry, Some(actor), now).await?;
                notices.push(format!(
                    "<@{previous}> is no longer the {} (<@{actor}> unassigned it).",
                    role.display_name()
                ));
                confirmation = format!("The {} role is unfilled now.", role.display_name());
            }
            Fact::SeverityChanged { from, to } => {
                incidents::set_severity(conn, team, incident.id, *to).await?;
                let entry = TimelineEntry::SeverityChanged {
                    from: *from,
                    to: *to,
                };
                incidents::add_timeline(conn, team, incident.id, &entry, Some(actor), now).await?;
                let was = from
                    .map(|s| format!(" (was {})", s.as_str().to_uppercase()))
                    .unwrap_or_default();
                notices.push(format!(
                    "<@{actor}> set the severity to *{}*{was}.",
                    to.as_str().to_uppercase()
                ));
                announcements.push(format!(
                    ":rotating_light: {label}{channel} is now *{}*{was}.",
                    to.as_str().to_uppercase()
                ));
                confirmation = format!("Severity set to {}.", to.as_str().to_uppercase());
            }
            Fact::StatusChanged { from, to } => {
                incidents::set_status(conn, team, incident.id, *to, now).await?;
                let entry = match (*from, *to) {
                    (from, Status::Resolved) => TimelineEntry::Resolved { from },
                    (Status::Resolved, to) => TimelineEntry::Reopened { to },
                    (from, to) => TimelineEntry::StatusChanged { from, to },
                };
                incidents::add_timeline(conn, team, incident.id, &entry, Some(actor), now).await?;
                let (notice, announcement) = match entry {
                    TimelineEntry::Resolved { .. } => (
                        format!(
                            ":white_check_mark: <@{actor}> resolved the incident after {}.",
                            views::human_duration(now - incident.declared_at)
                        ),
                        format!(":white_check_mark: {label}{channel} is resolved."),
                    ),
                    TimelineEntry::Reopened { .. } => (
                        format!(":warning: <@{actor}> reopened the incident."),
                        format!(":warning: {label}{channel} was reopened."),
                    ),
                    _ => (
                        format!(
                            "<@{actor}> changed the status to *{}* (was {}).",
                            to.as_str(),
                            from.as_str()
                        ),
                        format!("{label}{channel}: status *{}*.", to.as_str()),
                    ),
                };
                notices.push(notice);
                announcements.push(announcement);
                if *to == Status::Resolved {
                    // The export catches up first: the draft covers what deliveries missed.
                    effects.push(Effect::ExportDraft);
                    let open = postmortems::actions(conn, team, incident.id)
                        .await?
                        .iter()
                        .filter(|a| a.status.is_open())
                        .count();
                    if open > 0 {
                        postmortems::schedule_followup(
                            conn,
                            team,
                            incident.id,
                            now + followup_interval,
                        )
                        .await?;
                    }
                }
                confirmation = format!("Status: {}.", to.as_str());
            }
            Fact::UpdatePosted { text } => {
                incidents::set_latest_update(conn, team, incident.id, text).await?;
                let entry = TimelineEntry::UpdatePosted { text: text.clone() };
                incidents::add_timeline(conn, team, incident.id, &entry, Some(actor), now).await?;
                notices.push(format!(
                    ":mega: *Update* from <@{actor}>: {}",
                    views::escape(text)
                ));
                announcements.push(format!(
                    ":mega: {label}{channel} update: {}",
                    views::escape(text)
                ));
                confirmation = "Update posted here and to the announcement channel.".into();
            }
            Fact::Renamed { from, to } => {
                incidents::set_title(conn, team, incident.id, to).await?;
                let entry = TimelineEntry::Renamed {
                    from: from.clone(),
                    to: to.clone(),
                };
                incidents::add_timeline(conn, team, incident.id, &entry, Some(actor), now).await?;
                effects.push(Effect::RenameChannel);
                notices.push(format!(
                    "<@{actor}> renamed the incident to *{}*.",
                    views::escape(to.as_str())
                ));
                confirmation = format!("Renamed to {}.", views::escape(to.as_str()));
            }
        }
    }
    if !notices.is_empty() {
        effects.push(Effect::Notice {
            text: notices.join("\n"),
        });
    }
    if !announcements.is_empty() {
        effects.push(Effect::AnnounceChange {
            text: announcements.join("\n"),
        });
    }
    queue_for_change(conn, incident, &effects, now).await?;
    Ok(confirmation)
}

/// The role a "Take <role>" button names.
pub fn role_from_button(value: &str, custom_roles: &[String]) -> Option<Role> {
    Role::parse(value, custom_roles)
}

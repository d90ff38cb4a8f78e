//! Applying decided changes to a running incident: load what the plan needs, plan (see
//! [`crate::domain::plan`]), persist the plan's changes and timeline entries, and queue what
//! Slack should show (the live summary, the topic, a notice in the channel, an announcement).

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::effect::{queue_for_change, Effect};
use crate::domain::plan::{self, Intent, Plan, Write};
use crate::domain::roles::Role;
use crate::domain::transitions::{Fact, IncidentState};
use crate::domain::UserId;
use crate::store::incidents::{self, Incident};
use crate::store::postmortems;

/// The state that [`crate::domain::transitions::decide`] needs.
pub async fn load_state(
    conn: &mut AnyConnection,
    incident: &Incident,
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
    incident: &Incident,
    facts: &[Fact],
    actor: &UserId,
    now: DateTime<Utc>,
    settings: &super::Settings,
) -> anyhow::Result<String> {
    let open_actions = postmortems::actions(conn, &incident.team, incident.id)
        .await?
        .iter()
        .filter(|a| a.status.is_open())
        .count();
    let situation = plan::Context {
        number: incident.number,
        title: incident.title.clone(),
        channel: incident.channel.as_ref().map(|c| c.id.clone()),
        declared_at: incident.declared_at,
        open_actions,
        followup_interval: settings.followup_interval,
        // What happens in a private incident stays in its channel.
        announced: settings.announce_channel.is_some() && !incident.private,
    };
    let plan = plan::plan(&situation, facts, actor, now);
    persist(conn, incident, &plan, actor, now).await?;
    queue_for_change(conn, incident, &effects(&plan), now).await?;
    Ok(plan.confirmation)
}

/// Writes a plan's changes and timeline entries.
async fn persist(
    conn: &mut AnyConnection,
    incident: &Incident,
    plan: &Plan,
    actor: &UserId,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let (team, id) = (&incident.team, incident.id);
    for write in &plan.writes {
        match write {
            Write::AssignRole(assignment) => {
                incidents::assign_role(conn, team, id, assignment).await?
            }
            Write::UnassignRole(role) => {
                incidents::unassign_role(conn, team, id, role, now).await?
            }
            Write::Severity(s) => incidents::set_severity(conn, team, id, *s).await?,
            Write::Status(s) => incidents::set_status(conn, team, id, *s, now).await?,
            Write::LatestUpdate(text) => incidents::set_latest_update(conn, team, id, text).await?,
            Write::Title(title) => incidents::set_title(conn, team, id, title).await?,
            Write::Participant(user) => {
                super::record::participant(conn, incident, user, now, now).await?
            }
            Write::ScheduleFollowup(at) => {
                postmortems::schedule_followup(conn, team, id, *at).await?
            }
        }
    }
    for entry in &plan.entries {
        incidents::add_timeline(conn, team, id, entry, Some(actor), now).await?;
    }
    Ok(())
}

/// The Slack effects a plan calls for: its intents, then one notice and one announcement.
fn effects(plan: &Plan) -> Vec<Effect> {
    let mut effects: Vec<Effect> = plan
        .intents
        .iter()
        .map(|intent| match intent {
            Intent::RefreshSummary => Effect::RefreshSummary,
            Intent::SetTopic => Effect::SetTopic,
            Intent::Invite(user) => Effect::Invite {
                user: user.to_string(),
            },
            Intent::ExportDraft => Effect::ExportDraft,
            Intent::RenameChannel => Effect::RenameChannel,
        })
        .collect();
    if !plan.notices.is_empty() {
        effects.push(Effect::Notice {
            text: plan.notices.join("\n"),
        });
    }
    if !plan.announcements.is_empty() {
        effects.push(Effect::AnnounceChange {
            text: plan.announcements.join("\n"),
        });
    }
    effects
}

/// The role a "Take `<role>`" button names.
pub fn role_from_button(value: &str, custom_roles: &[String]) -> Option<Role> {
    Role::parse(value, custom_roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_and_announcements_come_after_the_intents_as_one_message_each() {
        let p = Plan {
            intents: vec![Intent::RefreshSummary, Intent::ExportDraft],
            notices: vec!["a".into(), "b".into()],
            announcements: vec!["c".into()],
            ..Plan::default()
        };
        let effects = effects(&p);
        assert!(
            matches!(
                effects.as_slice(),
                [
                    Effect::RefreshSummary,
                    Effect::ExportDraft,
                    Effect::Notice { text },
                    Effect::AnnounceChange { text: announced },
                ] if text == "a\nb" && announced == "c"
            ),
            "{effects:?}"
        );
    }
}

//! What recording decided changes means, worked out before anything is written: the stored
//! state to change, the timeline entries, the notices and announcements, and what Slack should
//! show. Pure: the caller loads the incident, passes the actor and the time, and persists the
//! plan in one transaction.

use chrono::{DateTime, Duration, Utc};

use super::incident::{Severity, Status, Title};
use super::mrkdwn::{plain, typed};
use super::roles::{Role, RoleAssignment};
use super::timeline::TimelineEntry;
use super::transitions::Fact;
use super::{ChannelId, UserId};

/// What a plan needs to know about the incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub number: i64,
    pub title: Option<Title>,
    pub channel: Option<ChannelId>,
    pub declared_at: DateTime<Utc>,
    /// Open action items: a resolution with some open schedules follow-up reviews.
    pub open_actions: usize,
    /// How long after a resolution the first follow-up review comes.
    pub followup_interval: Duration,
    /// Whether changes are also told in an announcement channel (one is set, and the incident
    /// is not private).
    pub announced: bool,
}

/// A change to the incident's stored state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    AssignRole(RoleAssignment),
    UnassignRole(Role),
    Severity(Severity),
    Status(Status),
    LatestUpdate(String),
    Title(Title),
    /// Someone took part from now on (a role brings them in).
    Participant(UserId),
    /// Follow-up reviews of the open action items, the first at this time.
    ScheduleFollowup(DateTime<Utc>),
}

/// Something Slack should show, beside the notice and the announcement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// Redraw the pinned live summary.
    RefreshSummary,
    /// Rewrite the channel topic.
    SetTopic,
    /// Bring someone into the incident channel.
    Invite(UserId),
    /// Catch up, render the post-mortem draft and share it.
    ExportDraft,
    /// Rename the channel after the new title.
    RenameChannel,
}

/// Everything recording the facts does, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub writes: Vec<Write>,
    /// Each by the actor, at the time of the plan.
    pub entries: Vec<TimelineEntry>,
    /// Lines for one notice in the incident channel.
    pub notices: Vec<String>,
    /// Lines for one message in the announcement channel.
    pub announcements: Vec<String>,
    pub intents: Vec<Intent>,
    /// The reply to the actor (about the last fact).
    pub confirmation: String,
}

/// Plans recording `facts` by `actor` at `now`.
pub fn plan(incident: &Context, facts: &[Fact], actor: &UserId, now: DateTime<Utc>) -> Plan {
    let label = plain(&match &incident.title {
        Some(t) => format!("Incident #{}: {t}", incident.number),
        None => format!("Incident #{} (untitled)", incident.number),
    });
    let channel = incident
        .channel
        .as_ref()
        .map(|c| format!(" (<#{c}>)"))
        .unwrap_or_default();
    let mut p = Plan {
        intents: vec![Intent::RefreshSummary, Intent::SetTopic],
        ..Plan::default()
    };
    for fact in facts {
        match fact {
            Fact::RoleAssigned {
                role,
                user,
                previous,
            } => {
                p.writes.push(Write::AssignRole(RoleAssignment {
                    role: role.clone(),
                    user: user.clone(),
                    assigned_by: actor.clone(),
                    at: now,
                }));
                p.writes.push(Write::Participant(user.clone()));
                p.entries.push(TimelineEntry::RoleAssigned {
                    role: role.clone(),
                    user: user.clone(),
                    previous: previous.clone(),
                });
                let who = if user == actor {
                    format!("<@{user}> took the {} role", role.display_name())
                } else {
                    format!("<@{actor}> made <@{user}> {}", role.display_name())
                };
                let handover = previous
                    .as_ref()
                    .map(|p| format!(", taking over from <@{p}>"))
                    .unwrap_or_default();
                p.notices.push(format!("{who}{handover}."));
                p.intents.push(Intent::Invite(user.clone()));
                p.confirmation = format!("<@{user}> is now the {}.", role.display_name());
            }
            Fact::RoleUnassigned { role, previous } => {
                p.writes.push(Write::UnassignRole(role.clone()));
                p.entries.push(TimelineEntry::RoleUnassigned {
                    role: role.clone(),
                    previous: previous.clone(),
                });
                p.notices.push(format!(
                    "<@{previous}> is no longer the {} (<@{actor}> unassigned it).",
                    role.display_name()
                ));
                p.confirmation = format!("The {} role is unfilled now.", role.display_name());
            }
            Fact::SeverityChanged { from, to } => {
                p.writes.push(Write::Severity(*to));
                p.entries.push(TimelineEntry::SeverityChanged {
                    from: *from,
                    to: *to,
                });
                let was = from
                    .map(|s| format!(" (was {})", s.as_str().to_uppercase()))
                    .unwrap_or_default();
                let to = to.as_str().to_uppercase();
                p.notices
                    .push(format!("<@{actor}> set the severity to *{to}*{was}."));
                p.announcements.push(format!(
                    ":rotating_light: {label}{channel} is now *{to}*{was}."
                ));
                p.confirmation = format!("Severity set to {to}.");
            }
            Fact::StatusChanged { from, to } => {
                p.writes.push(Write::Status(*to));
                let (entry, notice, announcement) = match (*from, *to) {
                    (from, Status::Resolved) => (
                        TimelineEntry::Resolved { from },
                        format!(
                            ":white_check_mark: <@{actor}> resolved the incident after {}.",
                            human_duration(now - incident.declared_at)
                        ),
                        format!(":white_check_mark: {label}{channel} is resolved."),
                    ),
                    (Status::Resolved, to) => (
                        TimelineEntry::Reopened { to },
                        format!(":warning: <@{actor}> reopened the incident."),
                        format!(":warning: {label}{channel} was reopened."),
                    ),
                    (from, to) => (
                        TimelineEntry::StatusChanged { from, to },
                        format!(
                            "<@{actor}> changed the status to *{}* (was {}).",
                            to.as_str(),
                            from.as_str()
                        ),
                        format!("{label}{channel}: status *{}*.", to.as_str()),
                    ),
                };
                p.entries.push(entry);
                p.notices.push(notice);
                p.announcements.push(announcement);
                if *to == Status::Resolved {
                    // The export catches up first: the draft covers what deliveries missed.
                    p.intents.push(Intent::ExportDraft);
                    if incident.open_actions > 0 {
                        p.writes
                            .push(Write::ScheduleFollowup(now + incident.followup_interval));
                    }
                }
                p.confirmation = format!("Status: {}.", to.as_str());
            }
            Fact::UpdatePosted { text } => {
                p.writes.push(Write::LatestUpdate(text.clone()));
                p.entries
                    .push(TimelineEntry::UpdatePosted { text: text.clone() });
                p.notices
                    .push(format!(":mega: *Update* from <@{actor}>: {}", typed(text)));
                p.announcements
                    .push(format!(":mega: {label}{channel} update: {}", typed(text)));
                p.confirmation = if incident.announced {
                    "Update posted here and to the announcement channel.".into()
                } else {
                    "Update posted here.".into()
                };
            }
            Fact::Renamed { from, to } => {
                p.writes.push(Write::Title(to.clone()));
                p.entries.push(TimelineEntry::Renamed {
                    from: from.clone(),
                    to: to.clone(),
                });
                p.intents.push(Intent::RenameChannel);
                p.notices.push(format!(
                    "<@{actor}> renamed the incident to *{}*.",
                    plain(to.as_str())
                ));
                p.confirmation = format!("Renamed to {}.", plain(to.as_str()));
            }
        }
    }
    p
}

/// "3 min", "2 h 5 min", "1 d 4 h": how long an incident ran, as said in Slack (the same
/// wording as the live summary's).
pub fn human_duration(d: Duration) -> String {
    let secs = d.num_seconds().max(0);
    let (days, hours, mins) = (secs / 86_400, (secs % 86_400) / 3600, (secs % 3600) / 60);
    match (days, hours, mins) {
        (0, 0, 0) => format!("{secs} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;

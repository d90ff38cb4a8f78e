//! Incident roles and the names people type for them.

use chrono::{DateTime, Utc};

use super::UserId;

/// A responsibility during an incident.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Role {
    /// Incident commander: runs the response and decides.
    Commander,
    /// Stands in for the commander and takes over hand-offs.
    Deputy,
    /// Communications lead: keeps stakeholders informed.
    Comms,
    /// Keeps notes and the timeline.
    Scribe,
    /// Operations / technical lead: directs the hands-on work.
    Ops,
    /// A role the team configured (lowercase key).
    Custom(String),
}

impl Role {
    pub const BUILT_IN: [Role; 5] = [
        Role::Commander,
        Role::Deputy,
        Role::Comms,
        Role::Scribe,
        Role::Ops,
    ];

    /// The key stored in the database and typed in commands.
    pub fn key(&self) -> &str {
        match self {
            Role::Commander => "commander",
            Role::Deputy => "deputy",
            Role::Comms => "comms",
            Role::Scribe => "scribe",
            Role::Ops => "ops",
            Role::Custom(key) => key,
        }
    }

    /// What people call it in a sentence.
    pub fn display_name(&self) -> String {
        match self {
            Role::Commander => "incident commander".into(),
            Role::Deputy => "deputy commander".into(),
            Role::Comms => "communications lead".into(),
            Role::Scribe => "scribe".into(),
            Role::Ops => "operations lead".into(),
            Role::Custom(key) => key.replace(['-', '_'], " "),
        }
    }

    fn aliases(&self) -> &'static [&'static str] {
        match self {
            Role::Commander => &["ic", "incident-commander", "lead", "incident-lead"],
            Role::Deputy => &["deputy-commander", "backup", "second"],
            Role::Comms => &[
                "communications",
                "communication",
                "comms-lead",
                "communications-lead",
                "cl",
            ],
            Role::Scribe => &["notes", "note-taker", "notetaker", "recorder"],
            Role::Ops => &[
                "operations",
                "tech",
                "tech-lead",
                "technical-lead",
                "ops-lead",
                "operations-lead",
                "sme",
            ],
            Role::Custom(_) => &[],
        }
    }

    /// A role from what someone typed: a key or an alias, any case; `custom` are extra roles
    /// the team configured.
    pub fn parse(raw: &str, custom: &[String]) -> Option<Role> {
        let raw = raw.trim().to_ascii_lowercase().replace(' ', "-");
        Role::BUILT_IN
            .into_iter()
            .find(|r| r.key() == raw || r.aliases().contains(&raw.as_str()))
            .or_else(|| {
                custom
                    .iter()
                    .find(|c| **c == raw)
                    .map(|c| Role::Custom(c.clone()))
            })
    }

    /// Every role a team has, built-in first.
    pub fn all(custom: &[String]) -> Vec<Role> {
        Role::BUILT_IN
            .into_iter()
            .chain(custom.iter().map(|c| Role::Custom(c.clone())))
            .collect()
    }
}

/// Someone holds a role from a moment on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAssignment {
    pub role: Role,
    pub user: UserId,
    pub assigned_by: UserId,
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_from_keys_and_aliases_in_any_case() {
        assert_eq!(Role::parse("IC", &[]), Some(Role::Commander));
        assert_eq!(Role::parse("Communications", &[]), Some(Role::Comms));
        assert_eq!(Role::parse("tech lead", &[]), Some(Role::Ops));
        assert_eq!(Role::parse("scribe", &[]), Some(Role::Scribe));
        assert_eq!(Role::parse("janitor", &[]), None);
    }

    #[test]
    fn configured_roles_are_roles_too() {
        let custom = vec!["customer-liaison".to_string()];
        assert_eq!(
            Role::parse("Customer-Liaison", &custom),
            Some(Role::Custom("customer-liaison".into()))
        );
        assert_eq!(Role::all(&custom).len(), 6);
    }
}

//! What a change to a running incident means: who may make it, and the facts it produces.
//! Pure: the caller loads the state, passes the actor, and persists the facts.

use super::incident::{Severity, Status, Title};
use super::roles::Role;
use super::UserId;

/// The parts of an incident that changes depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentState {
    pub title: Option<Title>,
    pub status: Status,
    pub severity: Option<Severity>,
    /// Current holders, one per role.
    pub roles: Vec<(Role, UserId)>,
}

impl IncidentState {
    pub fn holder(&self, role: &Role) -> Option<&UserId> {
        self.roles.iter().find(|(r, _)| r == role).map(|(_, u)| u)
    }

    fn holds(&self, user: &UserId, role: &Role) -> bool {
        self.holder(role) == Some(user)
    }

    fn leads(&self, user: &UserId) -> bool {
        self.holds(user, &Role::Commander) || self.holds(user, &Role::Deputy)
    }
}

/// A change someone asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Assign { role: Role, to: UserId },
    Unassign { role: Role },
    Severity(Severity),
    Status(Status),
    Update(String),
    Rename(Title),
    Reopen,
}

/// Something that happened to an incident; each becomes a timeline entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    RoleAssigned {
        role: Role,
        user: UserId,
        previous: Option<UserId>,
    },
    RoleUnassigned {
        role: Role,
        previous: UserId,
    },
    SeverityChanged {
        from: Option<Severity>,
        to: Severity,
    },
    StatusChanged {
        from: Status,
        to: Status,
    },
    UpdatePosted {
        text: String,
    },
    Renamed {
        from: Option<Title>,
        to: Title,
    },
}

/// Who may do what.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// `HEREBY_OPEN_COMMANDS=true`: anyone may do anything (small teams).
    pub open: bool,
}

/// Why a change was not made; the text is the ephemeral reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("Only {who} can {action}.{hint}")]
    NotAllowed {
        action: &'static str,
        who: String,
        hint: &'static str,
    },
    #[error("{0}")]
    Pointless(String),
}

fn mention(u: Option<&UserId>) -> String {
    u.map_or("nobody yet".to_string(), |u| format!("<@{u}>"))
}

fn leaders(state: &IncidentState) -> String {
    format!(
        "the incident commander ({}) or the deputy ({})",
        mention(state.holder(&Role::Commander)),
        mention(state.holder(&Role::Deputy))
    )
}

/// Decides a change by `actor`; `Ok` holds the facts to record, in order.
pub fn decide(
    state: &IncidentState,
    change: Change,
    actor: &UserId,
    policy: Policy,
) -> Result<Vec<Fact>, Refusal> {
    let may_lead = policy.open || state.leads(actor);
    let refuse = |action: &'static str, hint: &'static str| Refusal::NotAllowed {
        action,
        who: leaders(state),
        hint,
    };
    match change {
        Change::Assign { role, to } => {
            let current = state.holder(&role).cloned();
            if current.as_ref() == Some(&to) {
                return Err(Refusal::Pointless(format!(
                    "<@{to}> already is the {}.",
                    role.display_name()
                )));
            }
            let taking_unfilled = &to == actor && current.is_none();
            if !(may_lead || taking_unfilled) {
                let hint = if &to == actor {
                    " That role is taken; ask them to hand it to you."
                } else {
                    " You can take an unfilled role yourself with `/incident role <role> me`."
                };
                return Err(refuse("hand out roles", hint));
            }
            Ok(vec![Fact::RoleAssigned {
                role,
                user: to,
                previous: current,
            }])
        }
        Change::Unassign { role } => {
            let Some(previous) = state.holder(&role).cloned() else {
                return Err(Refusal::Pointless(format!(
                    "Nobody is the {} right now.",
                    role.display_name()
                )));
            };
            if role == Role::Commander {
                return Err(Refusal::Pointless(
                    "An incident always has a commander: hand the role on with `/incident role commander @someone`.".into(),
                ));
            }
            if !(may_lead || previous == *actor) {
                return Err(refuse(
                    "unassign roles",
                    " You can leave a role you hold yourself.",
                ));
            }
            Ok(vec![Fact::RoleUnassigned { role, previous }])
        }
        Change::Severity(to) => {
            if state.severity == Some(to) {
                return Err(Refusal::Pointless(format!(
                    "The severity already is {}.",
                    to.as_str().to_uppercase()
                )));
            }
            if !may_lead {
                return Err(refuse("change the severity", ""));
            }
            Ok(vec![Fact::SeverityChanged {
                from: state.severity,
                to,
            }])
        }
        Change::Status(to) => {
            if state.status == to {
                return Err(Refusal::Pointless(format!(
                    "The status already is {}.",
                    to.as_str()
                )));
            }
            let may = may_lead
                || (to != Status::Resolved
                    && state.status != Status::Resolved
                    && state.holds(actor, &Role::Ops));
            if !may {
                let action = match (state.status, to) {
                    (_, Status::Resolved) => "resolve the incident",
                    (Status::Resolved, _) => "reopen the incident",
                    _ => "change the status (the operations lead can too)",
                };
                return Err(refuse(action, ""));
            }
            Ok(vec![Fact::StatusChanged {
                from: state.status,
                to,
            }])
        }
        Change::Reopen => {
            if state.status != Status::Resolved {
                return Err(Refusal::Pointless(
                    "The incident is not resolved; there is nothing to reopen.".into(),
                ));
            }
            if !may_lead {
                return Err(refuse("reopen the incident", ""));
            }
            Ok(vec![Fact::StatusChanged {
                from: Status::Resolved,
                to: Status::Investigating,
            }])
        }
        Change::Update(text) => Ok(vec![Fact::UpdatePosted { text }]),
        Change::Rename(to) => {
            if state.title.as_ref() == Some(&to) {
                return Err(Refusal::Pointless("That already is the title.".into()));
            }
            if !may_lead {
                return Err(refuse("rename the incident", ""));
            }
            Ok(vec![Fact::Renamed {
                from: state.title.clone(),
                to,
            }])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(id: &str) -> UserId {
        UserId::new(id)
    }

    fn state() -> IncidentState {
        IncidentState {
            title: Title::parse("db down").ok(),
            status: Status::Investigating,
            severity: None,
            roles: vec![(Role::Commander, u("UALICE")), (Role::Ops, u("UOPS"))],
        }
    }

    const CLOSED: Policy = Policy { open: false };

    #[test]
    fn the_commander_hands_out_roles_and_the_history_keeps_the_previous_holder() {
        let facts = decide(
            &state(),
            Change::Assign {
                role: Role::Commander,
                to: u("UBOB"),
            },
            &u("UALICE"),
            CLOSED,
        )
        .unwrap();
        assert_eq!(
            facts,
            vec![Fact::RoleAssigned {
                role: Role::Commander,
                user: u("UBOB"),
                previous: Some(u("UALICE"))
            }]
        );
    }

    #[test]
    fn anyone_may_take_an_unfilled_role_for_themselves() {
        let facts = decide(
            &state(),
            Change::Assign {
                role: Role::Scribe,
                to: u("UCAROL"),
            },
            &u("UCAROL"),
            CLOSED,
        )
        .unwrap();
        assert_eq!(facts.len(), 1);
    }

    #[test]
    fn nobody_else_may_hand_out_roles_and_the_refusal_names_who_can() {
        let err = decide(
            &state(),
            Change::Assign {
                role: Role::Scribe,
                to: u("UDAN"),
            },
            &u("UCAROL"),
            CLOSED,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("Only the incident commander (<@UALICE>) or the deputy (nobody yet) can hand out roles."), "{text}");
        assert!(text.contains("/incident role <role> me"), "{text}");
        let taken = decide(
            &state(),
            Change::Assign {
                role: Role::Ops,
                to: u("UCAROL"),
            },
            &u("UCAROL"),
            CLOSED,
        )
        .unwrap_err();
        assert!(taken.to_string().contains("That role is taken"), "{taken}");
    }

    #[test]
    fn open_commands_let_anyone_do_anything() {
        let open = Policy { open: true };
        assert!(decide(&state(), Change::Severity(Severity::Sev1), &u("UANY"), open).is_ok());
        assert!(decide(&state(), Change::Status(Status::Resolved), &u("UANY"), open).is_ok());
    }

    #[test]
    fn severity_and_resolution_belong_to_the_leads() {
        let err = decide(
            &state(),
            Change::Severity(Severity::Sev1),
            &u("UOPS"),
            CLOSED,
        )
        .unwrap_err();
        assert!(err.to_string().contains("can change the severity"), "{err}");
        let err = decide(
            &state(),
            Change::Status(Status::Resolved),
            &u("UOPS"),
            CLOSED,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("can resolve the incident"),
            "{err}"
        );
        assert!(decide(
            &state(),
            Change::Status(Status::Resolved),
            &u("UALICE"),
            CLOSED
        )
        .is_ok());
    }

    #[test]
    fn the_operations_lead_may_move_the_status_short_of_resolved() {
        let facts = decide(
            &state(),
            Change::Status(Status::Identified),
            &u("UOPS"),
            CLOSED,
        )
        .unwrap();
        assert_eq!(
            facts,
            vec![Fact::StatusChanged {
                from: Status::Investigating,
                to: Status::Identified
            }]
        );
    }

    #[test]
    fn changes_that_change_nothing_say_so() {
        let mut s = state();
        s.severity = Some(Severity::Sev2);
        let err = decide(&s, Change::Severity(Severity::Sev2), &u("UALICE"), CLOSED).unwrap_err();
        assert_eq!(err.to_string(), "The severity already is SEV2.");
        let err = decide(&s, Change::Reopen, &u("UALICE"), CLOSED).unwrap_err();
        assert!(err.to_string().contains("not resolved"));
    }

    #[test]
    fn the_commander_role_cannot_be_left_empty() {
        let err = decide(
            &state(),
            Change::Unassign {
                role: Role::Commander,
            },
            &u("UALICE"),
            CLOSED,
        )
        .unwrap_err();
        assert!(err.to_string().contains("always has a commander"));
    }

    #[test]
    fn holders_may_leave_their_own_role() {
        assert!(decide(
            &state(),
            Change::Unassign { role: Role::Ops },
            &u("UOPS"),
            CLOSED
        )
        .is_ok());
        assert!(decide(
            &state(),
            Change::Unassign { role: Role::Ops },
            &u("UCAROL"),
            CLOSED
        )
        .is_err());
    }

    #[test]
    fn reopening_returns_to_investigating() {
        let mut s = state();
        s.status = Status::Resolved;
        let facts = decide(&s, Change::Reopen, &u("UALICE"), CLOSED).unwrap();
        assert_eq!(
            facts,
            vec![Fact::StatusChanged {
                from: Status::Resolved,
                to: Status::Investigating
            }]
        );
    }

    #[test]
    fn anyone_may_post_an_update() {
        assert!(decide(
            &state(),
            Change::Update("all good".into()),
            &u("URANDOM"),
            CLOSED
        )
        .is_ok());
    }
}

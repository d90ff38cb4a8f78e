//! The `/incident` grammar: what people type after the slash command, parsed into a
//! [`Command`], and the help text generated from the same table so the two cannot drift.

use super::actions::{parse_new, ActionStatus, NewAction};
use super::fixes::{split_outcome, Outcome};
use super::incident::{Severity, Status, Title};
use super::review::ReviewStatus;
use super::roles::Role;
use super::UserId;

mod specs;
pub use specs::{help_text, Spec, SPECS};

/// Who a role goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignee {
    /// The person typing.
    Me,
    User(UserId),
}

/// What changes about an open action item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionChange {
    Owner(Assignee),
    Due(chrono::NaiveDate),
}

/// A parsed `/incident` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `declare [--private] [title]`: open an incident (in a private channel, not announced by
    /// title, with `--private`); without a title, a form asks for one.
    Declare { title: Option<Title>, private: bool },
    /// `role <role> <@user|me>`.
    Role { role: Role, to: Assignee },
    /// `roles`.
    Roles,
    /// `unassign <role>`.
    Unassign { role: Role },
    /// `severity <sev>`.
    Severity(Severity),
    /// `status <status>`.
    Status(Status),
    /// `update <text>`.
    Update { text: String },
    /// `rename <title>`.
    Rename { title: Title },
    /// `tried <what> [-> outcome]`: record a fix attempt.
    Tried {
        what: String,
        outcome: Option<Outcome>,
    },
    /// `tried` alone: list the fix attempts.
    Fixes,
    /// `action <text> [@owner] [due YYYY-MM-DD]`.
    Action(NewAction),
    /// `action done <n>` or `action wontfix <n>`.
    CloseAction { number: i64, status: ActionStatus },
    /// `action owner <n> <@user|me>` or `action due <n> <YYYY-MM-DD>`: an open item given to
    /// someone else, or moved to another date.
    ChangeAction { number: i64, change: ActionChange },
    /// `actions`.
    Actions,
    /// `actions mine`: the typer's open action items from every incident, from anywhere.
    MyActions,
    /// `note <text>`.
    Note { text: String },
    /// `docs <link or text>`.
    Docs { text: String },
    /// `summary`.
    Summary,
    /// `postmortem [status <s>] [owner <@user|me>]`: see or set the post-mortem's own status
    /// and owner.
    Postmortem {
        status: Option<ReviewStatus>,
        owner: Option<Assignee>,
    },
    /// `resolve`.
    Resolve,
    /// `reopen`.
    Reopen,
    /// `help`, or nothing at all.
    Help,
}

impl Command {
    /// Whether the command acts on the incident of the channel it is typed in.
    pub fn needs_incident(&self) -> bool {
        !matches!(
            self,
            Command::Declare { .. } | Command::Help | Command::MyActions
        )
    }
}

/// What was wrong with a command, said so the person can fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The first word is not a subcommand; the reply shows the help.
    #[error("`{0}` is not an /incident command.")]
    UnknownSubcommand(String),
    /// A subcommand is missing something it needs; the reply shows its usage.
    #[error("`/incident {name}` needs {what}: `/incident {name} {usage}`.")]
    Missing {
        name: &'static str,
        what: &'static str,
        usage: &'static str,
    },
    /// Not a role; the reply lists the roles.
    #[error("`{given}` is not a role. Roles: {valid}.")]
    UnknownRole { given: String, valid: String },
    /// Not a severity.
    #[error("`{0}` is not a severity. Use sev1, sev2, sev3 or sev4 (sev1 is the worst).")]
    UnknownSeverity(String),
    /// Not a status.
    #[error("`{0}` is not a status. Use investigating, identified, monitoring or resolved.")]
    UnknownStatus(String),
    /// Something else, already worded for the person.
    #[error("{0}")]
    Other(String),
    /// Not a person.
    #[error("`{0}` is not a person. Mention them (`@name`) or write `me`.")]
    NotAPerson(String),
}

impl ParseError {
    /// The whole ephemeral reply: what was wrong, then what is valid.
    pub fn reply(&self) -> String {
        let shown = self.defused();
        match &shown {
            ParseError::UnknownSubcommand(_) => format!("{shown}\n\n{}", help_text()),
            _ => shown.to_string(),
        }
    }

    /// The same error with what the person typed made safe to repeat back (no pings).
    fn defused(&self) -> ParseError {
        use super::mrkdwn::safe;
        match self.clone() {
            ParseError::UnknownSubcommand(s) => ParseError::UnknownSubcommand(safe(&s)),
            ParseError::UnknownRole { given, valid } => ParseError::UnknownRole {
                given: safe(&given),
                valid,
            },
            ParseError::UnknownSeverity(s) => ParseError::UnknownSeverity(safe(&s)),
            ParseError::UnknownStatus(s) => ParseError::UnknownStatus(safe(&s)),
            ParseError::NotAPerson(s) => ParseError::NotAPerson(safe(&s)),
            other => other,
        }
    }
}

fn spec(name: &str) -> &'static Spec {
    SPECS
        .iter()
        .find(|s| s.name == name)
        .unwrap_or(&SPECS[SPECS.len() - 1])
}

fn missing(name: &'static str, what: &'static str) -> ParseError {
    ParseError::Missing {
        name,
        what,
        usage: spec(name).usage,
    }
}

fn role_arg(raw: &str, custom: &[String]) -> Result<Role, ParseError> {
    Role::parse(raw, custom).ok_or_else(|| ParseError::UnknownRole {
        given: raw.to_string(),
        valid: Role::all(custom)
            .iter()
            .map(|r| format!("`{}`", r.key()))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// A person as typed: `me`, `<@U123>`, `<@U123|name>` (Slack's escaped mention), or a bare ID.
pub fn parse_assignee(raw: &str) -> Result<Assignee, ParseError> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("me") || raw.eq_ignore_ascii_case("myself") {
        return Ok(Assignee::Me);
    }
    // A mention, or a bare user ID (copied from a profile).
    match super::mrkdwn::mention(raw).or(super::mrkdwn::is_user_id(raw).then_some(raw)) {
        Some(id) => Ok(Assignee::User(UserId::new(id))),
        None => Err(ParseError::NotAPerson(raw.to_string())),
    }
}

/// Parses the text Slack sends after `/incident`; `custom_roles` are the team's extra roles.
pub fn parse(text: &str, custom_roles: &[String]) -> Result<Command, ParseError> {
    let text = text.trim();
    let (word, rest) = match text.split_once(char::is_whitespace) {
        Some((w, r)) => (w, r.trim()),
        None => (text, ""),
    };
    if word.is_empty() {
        return Ok(Command::Help);
    }
    let lower = word.to_lowercase();
    let spec = SPECS
        .iter()
        .find(|s| s.name == lower || s.aliases.contains(&lower.as_str()))
        .ok_or_else(|| ParseError::UnknownSubcommand(word.to_string()))?;
    let unescaped = super::trigger::unescape_mrkdwn(rest);
    let args: Vec<&str> = rest.split_whitespace().collect();
    Ok(match spec.name {
        "declare" => {
            let titled = super::trigger::title_text(rest);
            let trimmed = titled.trim_start();
            let (private, title) = match trimmed.split_once(char::is_whitespace) {
                Some((flag, rest)) if flag.eq_ignore_ascii_case("--private") => (true, rest),
                _ if trimmed.eq_ignore_ascii_case("--private") => (true, ""),
                _ => (false, trimmed),
            };
            Command::Declare {
                title: Title::parse(title).ok(),
                private,
            }
        }
        "role" => {
            // Role names may be two words ("tech lead"): the person is the last argument.
            let (role_words, person) = match args.len() {
                0 => return Err(missing("role", "a role and a person")),
                1 => return Err(missing("role", "a person")),
                n => (args[..n - 1].join(" "), args[n - 1]),
            };
            Command::Role {
                role: role_arg(&role_words, custom_roles)?,
                to: parse_assignee(person)?,
            }
        }
        "roles" => Command::Roles,
        "unassign" => {
            if args.is_empty() {
                return Err(missing("unassign", "a role"));
            }
            Command::Unassign {
                role: role_arg(&args.join(" "), custom_roles)?,
            }
        }
        "severity" => {
            let raw = args
                .first()
                .ok_or_else(|| missing("severity", "a severity"))?;
            Command::Severity(
                Severity::parse(raw).ok_or_else(|| ParseError::UnknownSeverity(raw.to_string()))?,
            )
        }
        "status" => {
            let raw = args.first().ok_or_else(|| missing("status", "a status"))?;
            Command::Status(
                Status::parse(raw).ok_or_else(|| ParseError::UnknownStatus(raw.to_string()))?,
            )
        }
        "update" => {
            if unescaped.trim().is_empty() {
                return Err(missing("update", "the update's text"));
            }
            Command::Update {
                text: unescaped.trim().to_string(),
            }
        }
        "tried" => {
            let (what, outcome) = split_outcome(unescaped.trim());
            if what.is_empty() {
                match outcome {
                    None => Command::Fixes,
                    Some(_) => return Err(missing("tried", "what was tried")),
                }
            } else {
                Command::Tried { what, outcome }
            }
        }
        "action" => {
            let first = args.first().map(|a| a.to_ascii_lowercase());
            let numbered = args
                .get(1)
                .and_then(|n| n.trim_start_matches('#').parse::<i64>().ok());
            // "Owner onboarding doc" and "Due diligence on vendors" are items to add; a number
            // after the word makes it a change to an item.
            if let (Some(word @ ("owner" | "due")), Some(number)) = (first.as_deref(), numbered) {
                let usage = "`/incident action owner <n> <@user|me>` or `/incident action due <n> YYYY-MM-DD`";
                let [_, _, value] = args.as_slice() else {
                    return Err(ParseError::Other(format!(
                        "Change one thing at a time: {usage}."
                    )));
                };
                let change = if word == "owner" {
                    ActionChange::Owner(parse_assignee(value)?)
                } else {
                    ActionChange::Due(
                        chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
                            ParseError::Other(format!(
                                "`{}` is not a date: write the due date as YYYY-MM-DD, for example `/incident action due {number} 2026-12-15`.",
                                super::mrkdwn::safe(value)
                            ))
                        })?,
                    )
                };
                return Ok(Command::ChangeAction { number, change });
            }
            let close = match first.as_deref() {
                Some("done") | Some("close") | Some("closed") => Some(ActionStatus::Done),
                Some("wontfix") | Some("won't-fix") | Some("wont-fix") | Some("drop") => {
                    Some(ActionStatus::WontFix)
                }
                _ => None,
            };
            match (close, args.get(1).map(|n| n.trim_start_matches('#').parse::<i64>())) {
                (Some(status), Some(Ok(number))) if args.len() == 2 => Command::CloseAction { number, status },
                // "Close the public bucket" is an item to add, not one to close; "done 3 4" is
                // a close to say again, one number at a time.
                (Some(_), Some(_)) if args.get(1).is_some_and(|n| !n.trim_start_matches('#').starts_with(|c: char| c.is_ascii_digit())) => {
                    Command::Action(parse_new(rest).map_err(ParseError::Other)?)
                }
                (Some(_), _) => {
                    return Err(ParseError::Other(format!(
                        "Say which action item by its number, one at a time: `/incident action {} <n>` (see `/incident actions`).",
                        first.unwrap_or_default()
                    )))
                }
                (None, _) => Command::Action(parse_new(rest).map_err(ParseError::Other)?),
            }
        }
        "actions" => match args.first().map(|a| a.to_ascii_lowercase()).as_deref() {
            None => Command::Actions,
            Some("mine" | "me" | "my") if args.len() == 1 => Command::MyActions,
            Some(_) => {
                return Err(ParseError::Other(
                    "`/incident actions` lists this incident's action items; `/incident actions mine` lists your open ones from every incident.".into(),
                ))
            }
        },
        "note" => {
            if unescaped.trim().is_empty() {
                return Err(missing("note", "the note's text"));
            }
            Command::Note {
                text: unescaped.trim().to_string(),
            }
        }
        "docs" => {
            if rest.trim().is_empty() {
                return Err(missing("docs", "a link or what was confusing"));
            }
            // Links stay in Slack's `<url|label>` form so they can be extracted.
            Command::Docs {
                text: rest.trim().to_string(),
            }
        }
        "rename" => Command::Rename {
            title: Title::parse(&super::trigger::title_text(rest))
                .map_err(|_| missing("rename", "a title"))?,
        },
        "summary" => Command::Summary,
        "postmortem" => postmortem_args(&args)?,
        "resolve" | "reopen" if !args.is_empty() => {
            return Err(ParseError::Other(format!(
                "`/incident {lower}` takes nothing after it: alone, it {} the whole incident. To close an action item, use `/incident action done <n>`.",
                if spec.name == "resolve" { "resolves" } else { "reopens" }
            )))
        }
        "resolve" => Command::Resolve,
        "reopen" => Command::Reopen,
        _ => Command::Help,
    })
}

/// `postmortem [status <s>] [owner <@user|me>]`, in either order.
fn postmortem_args(args: &[&str]) -> Result<Command, ParseError> {
    let usage = || {
        ParseError::Other(
            "Try `/incident postmortem status in-review` (draft, in-review, final) or `/incident postmortem owner @someone`.".into(),
        )
    };
    let (mut status, mut owner) = (None, None);
    let mut rest = args.iter();
    while let Some(word) = rest.next() {
        let value = rest.next().ok_or_else(usage)?;
        match word.to_ascii_lowercase().as_str() {
            "status" => status = Some(ReviewStatus::parse(value).ok_or_else(usage)?),
            "owner" => owner = Some(parse_assignee(value)?),
            _ => return Err(usage()),
        }
    }
    Ok(Command::Postmortem { status, owner })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Command, ParseError> {
        parse(text, &[])
    }

    #[test]
    fn postmortem_sets_its_status_and_owner_or_shows_them() {
        assert_eq!(
            p("postmortem status in-review"),
            Ok(Command::Postmortem {
                status: Some(ReviewStatus::InReview),
                owner: None
            })
        );
        assert_eq!(
            p("pm owner <@U123|alice> status final"),
            Ok(Command::Postmortem {
                status: Some(ReviewStatus::Final),
                owner: Some(Assignee::User(UserId::new("U123")))
            })
        );
        assert_eq!(
            p("postmortem"),
            Ok(Command::Postmortem {
                status: None,
                owner: None
            })
        );
        assert!(p("postmortem status shipped").is_err());
        assert!(p("postmortem owner").is_err());
    }

    #[test]
    fn declare_takes_the_rest_as_title() {
        assert_eq!(
            p("declare  Checkout payments failing ").unwrap(),
            Command::Declare {
                title: Some(Title::parse("Checkout payments failing").unwrap()),
                private: false
            }
        );
        assert_eq!(
            p("declare").unwrap(),
            Command::Declare {
                title: None,
                private: false
            }
        );
        assert_eq!(
            p("declare --private Payroll data exposed").unwrap(),
            Command::Declare {
                title: Title::parse("Payroll data exposed").ok(),
                private: true
            }
        );
        assert_eq!(
            p("declare --PRIVATE").unwrap(),
            Command::Declare {
                title: None,
                private: true
            }
        );
    }

    #[test]
    fn subcommands_are_case_insensitive_and_have_aliases() {
        assert!(matches!(p("DECLARE x").unwrap(), Command::Declare { .. }));
        assert!(matches!(p("new x").unwrap(), Command::Declare { .. }));
        assert_eq!(p("Sev 2").unwrap(), Command::Severity(Severity::Sev2));
        assert_eq!(p("close").unwrap(), Command::Resolve);
    }

    #[test]
    fn role_takes_a_role_and_an_escaped_mention() {
        assert_eq!(
            p("role comms <@U123ABC|bob>").unwrap(),
            Command::Role {
                role: Role::Comms,
                to: Assignee::User(UserId::new("U123ABC"))
            }
        );
        assert_eq!(
            p("role IC <@W42>").unwrap(),
            Command::Role {
                role: Role::Commander,
                to: Assignee::User(UserId::new("W42"))
            }
        );
        assert_eq!(
            p("role scribe me").unwrap(),
            Command::Role {
                role: Role::Scribe,
                to: Assignee::Me
            }
        );
        assert_eq!(
            p("role tech lead ME").unwrap(),
            Command::Role {
                role: Role::Ops,
                to: Assignee::Me
            }
        );
    }

    #[test]
    fn an_unknown_role_lists_the_roles() {
        let e = p("role janitor me").unwrap_err();
        assert_eq!(
            e.reply(),
            "`janitor` is not a role. Roles: `commander`, `deputy`, `comms`, `scribe`, `ops`."
        );
        let custom = vec!["liaison".to_string()];
        assert!(parse("role janitor me", &custom)
            .unwrap_err()
            .reply()
            .contains("`liaison`"));
        assert_eq!(
            parse("role liaison me", &custom).unwrap(),
            Command::Role {
                role: Role::Custom("liaison".into()),
                to: Assignee::Me
            }
        );
    }

    #[test]
    fn role_without_a_person_shows_the_usage() {
        assert_eq!(
            p("role comms").unwrap_err().reply(),
            "`/incident role` needs a person: `/incident role <role> <@user|me>`."
        );
        assert_eq!(
            p("role").unwrap_err().reply(),
            "`/incident role` needs a role and a person: `/incident role <role> <@user|me>`."
        );
        assert_eq!(
            p("role comms bob").unwrap_err().reply(),
            "`bob` is not a person. Mention them (`@name`) or write `me`."
        );
    }

    #[test]
    fn severities_and_statuses_name_what_is_valid() {
        assert_eq!(
            p("severity SEV1").unwrap(),
            Command::Severity(Severity::Sev1)
        );
        assert!(p("severity critical")
            .unwrap_err()
            .reply()
            .contains("sev1, sev2, sev3 or sev4"));
        assert!(p("severity")
            .unwrap_err()
            .reply()
            .contains("/incident severity <sev1|sev2|sev3|sev4>"));
        assert_eq!(
            p("status Monitoring").unwrap(),
            Command::Status(Status::Monitoring)
        );
        assert!(p("status fixed")
            .unwrap_err()
            .reply()
            .contains("investigating, identified, monitoring or resolved"));
    }

    #[test]
    fn unassign_update_rename_need_their_argument() {
        assert_eq!(
            p("unassign communications").unwrap(),
            Command::Unassign { role: Role::Comms }
        );
        assert!(p("unassign").unwrap_err().reply().contains("needs a role"));
        assert_eq!(
            p("update Rolled back &amp; watching").unwrap(),
            Command::Update {
                text: "Rolled back & watching".into()
            }
        );
        assert!(p("update   ")
            .unwrap_err()
            .reply()
            .contains("needs the update's text"));
        assert!(p("rename").unwrap_err().reply().contains("needs a title"));
    }

    #[test]
    fn tried_records_a_fix_or_lists_them() {
        assert_eq!(
            p("tried restart pods -> failed").unwrap(),
            Command::Tried {
                what: "restart pods".into(),
                outcome: Some(Outcome::Failed)
            }
        );
        assert_eq!(
            p("fix roll back").unwrap(),
            Command::Tried {
                what: "roll back".into(),
                outcome: None
            }
        );
        assert_eq!(p("tried").unwrap(), Command::Fixes);
        assert!(p("tried -> worked")
            .unwrap_err()
            .reply()
            .contains("needs what was tried"));
    }

    #[test]
    fn action_items_are_added_and_closed_by_number() {
        let Command::Action(a) = p("action Alert on pool usage <@U9|bob> due 2026-12-01").unwrap()
        else {
            panic!("expected an action")
        };
        assert_eq!(a.owner, Some(UserId::new("U9")));
        assert_eq!(
            p("action done 2").unwrap(),
            Command::CloseAction {
                number: 2,
                status: ActionStatus::Done
            }
        );
        assert_eq!(
            p("action wontfix #3").unwrap(),
            Command::CloseAction {
                number: 3,
                status: ActionStatus::WontFix
            }
        );
        assert!(p("action done")
            .unwrap_err()
            .reply()
            .contains("by its number"));
        assert!(p("action fix it due soon")
            .unwrap_err()
            .reply()
            .contains("YYYY-MM-DD"));
        assert_eq!(p("actions").unwrap(), Command::Actions);
        assert_eq!(p("actions Mine").unwrap(), Command::MyActions);
        assert_eq!(
            p("action owner #3 <@U9|bob>").unwrap(),
            Command::ChangeAction {
                number: 3,
                change: ActionChange::Owner(Assignee::User(UserId::new("U9")))
            }
        );
        assert_eq!(
            p("action due 3 2026-12-10").unwrap(),
            Command::ChangeAction {
                number: 3,
                change: ActionChange::Due(chrono::NaiveDate::from_ymd_opt(2026, 12, 10).unwrap())
            }
        );
        assert!(p("action due 3 friday")
            .unwrap_err()
            .reply()
            .contains("YYYY-MM-DD"));
        assert!(matches!(
            p("action Owner onboarding doc for new hires").unwrap(),
            Command::Action(_)
        ));
        assert!(!Command::MyActions.needs_incident());
        assert!(p("actions everything")
            .unwrap_err()
            .reply()
            .contains("`/incident actions mine`"));
    }

    #[test]
    fn an_item_that_starts_with_a_closing_word_is_added_not_taken_for_a_close() {
        let Command::Action(a) = p("action Close the public S3 bucket <@U9|bob>").unwrap() else {
            panic!("expected an action to add")
        };
        assert_eq!(a.text, "Close the public S3 bucket");
        assert!(matches!(
            p("action Drop the legacy queue").unwrap(),
            Command::Action(_)
        ));
        for typed in [
            "action done 3 4",
            "action done 3, 4",
            "action wontfix 2 duplicate",
        ] {
            assert!(
                p(typed).unwrap_err().reply().contains("one at a time"),
                "{typed}"
            );
        }
    }

    #[test]
    fn resolve_with_anything_after_it_is_refused_and_points_at_closing_an_action_item() {
        for typed in ["close 3", "done 2", "resolve #1", "reopen now"] {
            let reply = p(typed).unwrap_err().reply();
            assert!(reply.contains("takes nothing after it"), "{typed}: {reply}");
            assert!(
                reply.contains("/incident action done <n>"),
                "{typed}: {reply}"
            );
        }
        assert_eq!(p("done").unwrap(), Command::Resolve);
        assert_eq!(p("reopen").unwrap(), Command::Reopen);
    }

    #[test]
    fn notes_and_docs_need_text() {
        assert_eq!(
            p("note call with AWS: quota raised").unwrap(),
            Command::Note {
                text: "call with AWS: quota raised".into()
            }
        );
        assert!(p("note")
            .unwrap_err()
            .reply()
            .contains("needs the note's text"));
        assert_eq!(
            p("docs <https://wiki/x|runbook> is outdated").unwrap(),
            Command::Docs {
                text: "<https://wiki/x|runbook> is outdated".into()
            }
        );
        assert!(p("docs")
            .unwrap_err()
            .reply()
            .contains("needs a link or what was confusing"));
    }

    #[test]
    fn nothing_or_help_shows_help() {
        assert_eq!(p("").unwrap(), Command::Help);
        assert_eq!(p("  help ").unwrap(), Command::Help);
        assert_eq!(p("summary").unwrap(), Command::Summary);
        assert_eq!(p("roles").unwrap(), Command::Roles);
        assert_eq!(p("reopen").unwrap(), Command::Reopen);
    }

    #[test]
    fn an_unknown_subcommand_quotes_it_and_shows_the_help() {
        let err = p("delcare db down").unwrap_err();
        assert_eq!(err, ParseError::UnknownSubcommand("delcare".into()));
        let reply = err.reply();
        assert!(reply.starts_with("`delcare` is not an /incident command."));
        assert!(reply.contains("/incident declare [--private] [title]"));
    }

    #[test]
    fn help_lists_every_subcommand() {
        let help = help_text();
        for spec in SPECS {
            assert!(
                help.contains(&format!("/incident {}", spec.name)),
                "{}",
                spec.name
            );
        }
    }

    #[test]
    fn only_declare_and_help_work_outside_an_incident() {
        assert!(!p("declare x").unwrap().needs_incident());
        assert!(p("roles").unwrap().needs_incident());
    }
}

//! The `/incident` grammar: what people type after the slash command, parsed into a
//! [`Command`], and the help text generated from the same table so the two cannot drift.

use super::incident::Title;

/// One `/incident` subcommand, as the help lists it and the parser knows it.
pub struct Spec {
    /// The word typed after `/incident`.
    pub name: &'static str,
    /// Other words that mean the same.
    pub aliases: &'static [&'static str],
    /// Arguments, as shown in help.
    pub usage: &'static str,
    /// One line saying what it does.
    pub summary: &'static str,
}

/// Every subcommand, in the order help lists them.
pub const SPECS: &[Spec] = &[
    Spec {
        name: "declare",
        aliases: &["new", "start", "open"],
        usage: "<title>",
        summary: "open a new incident with its own channel (anywhere)",
    },
    Spec {
        name: "rename",
        aliases: &["title"],
        usage: "<title>",
        summary: "give the incident a new title (in its channel)",
    },
    Spec {
        name: "help",
        aliases: &["?", "commands"],
        usage: "",
        summary: "show this list",
    },
];

/// A parsed `/incident` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `/incident declare <title>`: open an incident; the title may be missing.
    Declare { title: Option<Title> },
    /// `/incident rename <title>`: retitle the incident of this channel.
    Rename { title: Title },
    /// `/incident help` or `/incident` alone.
    Help,
}

/// What was wrong with a command, said so the person can fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The first word is not a subcommand; the reply shows the help.
    #[error("`{0}` is not an /incident command.")]
    UnknownSubcommand(String),
    /// A subcommand is missing an argument it needs; the reply shows its usage.
    #[error("`/incident {name}` needs {what}: `/incident {name} {usage}`.")]
    MissingArgument {
        name: &'static str,
        what: &'static str,
        usage: &'static str,
    },
}

impl ParseError {
    /// The whole ephemeral reply: what was wrong, then what is valid.
    pub fn reply(&self) -> String {
        match self {
            ParseError::UnknownSubcommand(_) => format!("{self}\n\n{}", help_text()),
            ParseError::MissingArgument { .. } => self.to_string(),
        }
    }
}

/// Parses the text Slack sends after `/incident`.
pub fn parse(text: &str) -> Result<Command, ParseError> {
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
    Ok(match spec.name {
        "declare" => Command::Declare {
            title: Title::parse(&super::trigger::unescape_mrkdwn(rest)).ok(),
        },
        "rename" => Command::Rename {
            title: Title::parse(&super::trigger::unescape_mrkdwn(rest)).map_err(|_| {
                ParseError::MissingArgument {
                    name: "rename",
                    what: "a title",
                    usage: spec.usage,
                }
            })?,
        },
        _ => Command::Help,
    })
}

/// The help text: every subcommand with its usage and one line.
pub fn help_text() -> String {
    let mut out = String::from("*/incident* commands:\n");
    for spec in SPECS {
        let usage = if spec.usage.is_empty() {
            String::new()
        } else {
            format!(" {}", spec.usage)
        };
        out.push_str(&format!(
            "• `/incident {}{}` — {}\n",
            spec.name, usage, spec.summary
        ));
    }
    out.push_str(
        "Or write \"I hereby declare this an incident: <title>\" in any channel hereby is in.",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declare_takes_the_rest_as_title() {
        assert_eq!(
            parse("declare  Checkout payments failing ").unwrap(),
            Command::Declare {
                title: Some(Title::parse("Checkout payments failing").unwrap())
            }
        );
    }

    #[test]
    fn declare_without_a_title_is_allowed() {
        assert_eq!(parse("declare").unwrap(), Command::Declare { title: None });
    }

    #[test]
    fn subcommands_are_case_insensitive_and_have_aliases() {
        assert!(matches!(
            parse("DECLARE x").unwrap(),
            Command::Declare { .. }
        ));
        assert!(matches!(parse("new x").unwrap(), Command::Declare { .. }));
    }

    #[test]
    fn rename_needs_a_title_and_says_so() {
        assert_eq!(
            parse("rename DB failover").unwrap(),
            Command::Rename {
                title: Title::parse("DB failover").unwrap()
            }
        );
        let err = parse("rename  ").unwrap_err();
        assert_eq!(
            err.reply(),
            "`/incident rename` needs a title: `/incident rename <title>`."
        );
    }

    #[test]
    fn nothing_or_help_shows_help() {
        assert_eq!(parse("").unwrap(), Command::Help);
        assert_eq!(parse("  help ").unwrap(), Command::Help);
    }

    #[test]
    fn an_unknown_subcommand_quotes_it_and_shows_the_help() {
        let err = parse("delcare db down").unwrap_err();
        assert_eq!(err, ParseError::UnknownSubcommand("delcare".into()));
        let reply = err.reply();
        assert!(reply.starts_with("`delcare` is not an /incident command."));
        assert!(reply.contains("/incident declare <title>"));
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
}

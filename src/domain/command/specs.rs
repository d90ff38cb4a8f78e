//! The table of `/incident` subcommands — names, aliases, usage and a line each — from which
//! both the parser's error messages and the help text are made, so the two cannot drift.

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
        usage: "[--private] [title]",
        summary:
            "open a new incident with its own channel (anywhere; without a title, a form opens; --private: a private channel, not announced by title)",
    },
    Spec {
        name: "role",
        aliases: &["assign"],
        usage: "<role> <@user|me>",
        summary: "give a role to someone (or take it yourself)",
    },
    Spec {
        name: "roles",
        aliases: &["who"],
        usage: "",
        summary: "who holds which role, and what is unfilled",
    },
    Spec {
        name: "unassign",
        aliases: &["unrole"],
        usage: "<role>",
        summary: "leave a role unfilled",
    },
    Spec {
        name: "severity",
        aliases: &["sev"],
        usage: "<sev1|sev2|sev3|sev4>",
        summary: "set how bad it is (sev1 is the worst)",
    },
    Spec {
        name: "status",
        aliases: &["state"],
        usage: "<investigating|identified|monitoring|resolved>",
        summary: "say where the response stands",
    },
    Spec {
        name: "update",
        aliases: &["post"],
        usage: "<text>",
        summary: "post a stakeholder update here and in the announcement channel",
    },
    Spec {
        name: "tried",
        aliases: &["fix", "attempt"],
        usage: "[what was tried] [-> worked|failed|partial]",
        summary: "record a fix attempt and its outcome; alone, list them",
    },
    Spec {
        name: "note",
        aliases: &["call", "meeting"],
        usage: "<text>",
        summary: "record something said or decided outside the chat (a call, a meeting)",
    },
    Spec {
        name: "docs",
        aliases: &["doc", "documentation"],
        usage: "<link or text>",
        summary: "record documentation that was confusing, wrong or missing",
    },
    Spec {
        name: "action",
        aliases: &["todo", "followup"],
        usage: "<text> [@owner] [due YYYY-MM-DD] | done <n> | wontfix <n> | owner <n> <@user|me> | due <n> YYYY-MM-DD",
        summary: "add a post-mortem action item, close one, or give it to someone else or another date (also after resolution)",
    },
    Spec {
        name: "actions",
        aliases: &["todos"],
        usage: "[mine]",
        summary: "list the action items and their status; `mine`: your open ones from every incident, with buttons to close them (works anywhere)",
    },
    Spec {
        name: "postmortem",
        aliases: &["pm", "review"],
        usage: "[status draft|in-review|final] [owner <@user|me>]",
        summary: "the post-mortem's status and owner; alone, show them",
    },
    Spec {
        name: "rename",
        aliases: &["title"],
        usage: "<title>",
        summary: "give the incident a new title",
    },
    Spec {
        name: "summary",
        aliases: &["info", "show"],
        usage: "",
        summary: "the incident at a glance (only you see it)",
    },
    Spec {
        name: "resolve",
        aliases: &["close", "done"],
        usage: "",
        summary: "mark the incident resolved",
    },
    Spec {
        name: "reopen",
        aliases: &[],
        usage: "",
        summary: "reopen a resolved incident",
    },
    Spec {
        name: "help",
        aliases: &["?", "commands"],
        usage: "",
        summary: "show this list",
    },
];

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

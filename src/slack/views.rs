//! What hereby says in Slack: message texts and Block Kit layouts, built from stored state.

use serde_json::{json, Value};

use super::api::OutgoingMessage;
use crate::domain::command::SPECS;
use crate::domain::incident::Incident;
use crate::domain::mrkdwn;
use crate::domain::review::ReviewStatus;
use crate::domain::roles::Role;
use crate::domain::words::plural;
use crate::domain::UserId;

/// "Incident #12: Checkout payments failing" (or "Incident #12 (untitled)").
pub fn incident_label(i: &Incident) -> String {
    match &i.title {
        Some(t) => format!("Incident #{}: {}", i.number, t),
        None => format!("Incident #{} (untitled)", i.number),
    }
}

/// Plain text people typed, ready to post as mrkdwn: escaped, and with nothing in it that pings
/// a channel or reorders text (see [`mrkdwn::safe`]).
pub fn escape(text: &str) -> String {
    mrkdwn::plain(text)
}

fn holder(roles: &[(Role, UserId)], role: &Role) -> Option<UserId> {
    roles
        .iter()
        .find(|(r, _)| r == role)
        .map(|(_, u)| u.clone())
}

/// Slack's limits: a channel topic, a section's text, blocks in one message.
pub const TOPIC_MAX: usize = 250;
pub const SECTION_MAX: usize = 3000;
pub const BLOCKS_MAX: usize = 50;
/// At most this many section blocks list the roles (so many custom roles cannot push the
/// welcome past [`BLOCKS_MAX`]); the rest are counted, and `/incident roles` lists them all.
const ROLE_SECTIONS_MAX: usize = 8;

/// The channel topic: title, status, severity and commander, within Slack's 250 characters.
pub fn topic(i: &Incident, roles: &[(Role, UserId)]) -> String {
    let mut parts = vec![
        escape(&incident_label(i)),
        format!("Status: {}", i.status.as_str()),
    ];
    if let Some(s) = i.severity {
        parts.push(format!("Severity: {}", s.as_str().to_uppercase()));
    }
    if let Some(c) = holder(roles, &Role::Commander) {
        parts.push(format!("Commander: <@{c}>"));
    }
    mrkdwn::cut(&parts.join(" | "), TOPIC_MAX)
}

/// The welcome message's notification text.
pub fn welcome_text(i: &Incident, roles: &[(Role, UserId)]) -> String {
    let commander = holder(roles, &Role::Commander)
        .map(|c| format!(" <@{c}> is incident commander."))
        .unwrap_or_default();
    format!(
        "{} declared by <@{}>.{commander}",
        escape(&incident_label(i)),
        i.declared_by
    )
}

/// The pinned welcome message: what the incident is, who holds which role, how to use hereby.
pub fn welcome_blocks(
    i: &Incident,
    roles: &[(Role, UserId)],
    custom_roles: &[String],
    web_base: Option<&str>,
) -> Value {
    let role_lines: Vec<String> = Role::all(custom_roles)
        .iter()
        .map(|r| match holder(roles, r) {
            Some(u) => format!("• *{}*: <@{u}>", capitalise(&r.display_name())),
            None => format!(
                "• *{}*: _unfilled_ (`/incident role {} me`)",
                capitalise(&r.display_name()),
                r.key()
            ),
        })
        .collect();
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": truncate(&mrkdwn::shown(&format!(":rotating_light: {}", incident_label(i))), 150), "emoji": true}}),
        json!({"type": "section", "fields": [
            {"type": "mrkdwn", "text": format!("*Status*\n{}", i.status.as_str())},
            {"type": "mrkdwn", "text": format!("*Severity*\n{}", i.severity.map_or("not set".to_string(), |s| s.as_str().to_uppercase()))},
            {"type": "mrkdwn", "text": format!("*Declared by*\n<@{}>", i.declared_by)},
            {"type": "mrkdwn", "text": format!("*Declared*\n<!date^{ts}^{{date_short_pretty}} at {{time}} ({{ago}})|{}>", i.declared_at.format("%Y-%m-%d %H:%M UTC"), ts = i.declared_at.timestamp())},
            {"type": "mrkdwn", "text": postmortem_line(i).replacen(": ", "\n", 1)},
        ]}),
    ];
    blocks.extend(sections("*Roles*", &role_lines, ROLE_SECTIONS_MAX));
    if let Some(update) = &i.latest_update {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn::cut(&format!("*Latest update*\n{}", mrkdwn::typed(update)), SECTION_MAX)}}));
    }
    if let Some(d) = &i.description {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn::cut(&format!("*Description*\n{}", escape(d)), SECTION_MAX)}}));
    }
    let unfilled: Vec<Value> = Role::all(custom_roles)
        .iter()
        .filter(|r| holder(roles, r).is_none())
        .take(5)
        .map(|r| json!({"type": "button", "action_id": format!("{TAKE_ROLE_ACTION}:{}", r.key()), "value": r.key(), "text": {"type": "plain_text", "text": truncate(&format!("Take {}", r.display_name()), 75)}}))
        .collect();
    if !unfilled.is_empty() && i.status.is_open() {
        blocks.push(json!({"type": "actions", "block_id": "take_roles", "elements": unfilled}));
    }
    if i.title.is_none() {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": ":pencil2: This incident has no title yet. Give it one with `/incident rename <title>`."}}));
    }
    if let Some(base) = web_base {
        let page = format!("{}/incidents/{}", base.trim_end_matches('/'), i.number);
        blocks.push(
            json!({"type": "section", "text": {"type": "mrkdwn", "text": format!(
                ":bar_chart: <{page}|Timeline, record and post-mortem drafts in the web view>"
            )}}),
        );
    }
    let commands: Vec<String> = SPECS
        .iter()
        .map(|s| format!("`/incident {}`", s.name))
        .collect();
    blocks.push(json!({"type": "divider"}));
    blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!(
        "Everything said in this channel is recorded for the post-mortem. Commands: {}. `/incident help` explains each.",
        commands.join(", ")
    )}]}));
    Value::Array(blocks)
}

/// Section blocks under `heading`, the lines packed into as few as fit Slack's 3,000
/// characters each, at most `max_blocks` of them; lines that do not fit are counted in a
/// last "…and N more" line.
fn sections(heading: &str, lines: &[String], max_blocks: usize) -> Vec<Value> {
    let more = |n: usize| format!("…and {n} more: `/incident roles` lists them all.");
    let reserve = more(lines.len()).chars().count() + 1;
    let mut texts: Vec<String> = vec![heading.to_string()];
    let mut left = lines.len();
    for line in lines {
        let line = mrkdwn::cut(line, SECTION_MAX - reserve - heading.len() - 1);
        let current = texts.last_mut().map(|t| t.chars().count()).unwrap_or(0);
        let last_block = texts.len() == max_blocks;
        let room = SECTION_MAX - if last_block { reserve } else { 0 };
        if current + 1 + line.chars().count() <= room {
            if let Some(t) = texts.last_mut() {
                t.push('\n');
                t.push_str(&line);
            }
        } else if !last_block {
            texts.push(line);
        } else {
            break;
        }
        left -= 1;
    }
    if left > 0 {
        if let Some(t) = texts.last_mut() {
            t.push('\n');
            t.push_str(&more(left));
        }
    }
    texts
        .into_iter()
        .map(|t| json!({"type": "section", "text": {"type": "mrkdwn", "text": t}}))
        .collect()
}

/// The `action_id` prefix of the summary's "Take `<role>`" buttons.
pub const TAKE_ROLE_ACTION: &str = "take_role";

/// Who holds which role, and what is unfilled.
pub fn roles_text(roles: &[(Role, UserId)], custom_roles: &[String]) -> String {
    let lines: Vec<String> = Role::all(custom_roles)
        .iter()
        .map(|r| match holder(roles, r) {
            Some(u) => format!("• *{}*: <@{u}>", capitalise(&r.display_name())),
            None => format!(
                "• *{}*: _unfilled_ — `/incident role {} me` to take it",
                capitalise(&r.display_name()),
                r.key()
            ),
        })
        .collect();
    format!("*Roles*\n{}", lines.join("\n"))
}

/// `/incident summary`: the incident at a glance, for one person.
pub fn summary_text(
    i: &Incident,
    roles: &[(Role, UserId)],
    custom_roles: &[String],
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let mut out = format!(
        "*{}*\nStatus: *{}* · Severity: *{}* · declared {} ago by <@{}>",
        escape(&incident_label(i)),
        i.status.as_str(),
        i.severity
            .map_or("not set".to_string(), |s| s.as_str().to_uppercase()),
        human_duration(now - i.declared_at),
        i.declared_by
    );
    if let Some(r) = i.resolved_at {
        out.push_str(&format!(
            " · resolved after {}",
            human_duration(r - i.declared_at)
        ));
    }
    out.push_str("\n\n");
    out.push_str(&roles_text(roles, custom_roles));
    if let Some(u) = &i.latest_update {
        out.push_str(&format!("\n\n*Latest update*\n{}", mrkdwn::typed(u)));
    }
    out.push_str(&format!("\n\n{}", postmortem_line(i)));
    out
}

/// "*Post-mortem*: Draft, owned by the incident commander".
fn postmortem_line(i: &Incident) -> String {
    format!(
        "*Post-mortem*: {}, owned by {}",
        i.postmortem_status.label(),
        i.postmortem_owner
            .as_ref()
            .map_or("the incident commander".to_string(), |u| format!("<@{u}>"))
    )
}

/// Where the post-mortem stands and who owns it.
pub fn review_text(status: ReviewStatus, owner: Option<&UserId>) -> String {
    format!(
        "Post-mortem: *{}*, owned by {}. Change it with `/incident postmortem status draft|in-review|final` or `/incident postmortem owner @someone`.",
        status.label(),
        owner.map_or("the incident commander".to_string(), |u| format!("<@{u}>"))
    )
}

pub use crate::domain::plan::human_duration;

/// The `action_id` prefix of a fix attempt's outcome buttons.
pub const FIX_OUTCOME_ACTION: &str = "fix_outcome";

/// A fix attempt, as said in the channel.
pub fn fix_text(f: &crate::domain::fixes::FixAttempt) -> String {
    format!(
        ":hammer_and_wrench: *Fix #{}* tried by <@{}>: {} — outcome: {} {}",
        f.number,
        f.tried_by,
        mrkdwn::typed(&f.description),
        f.outcome.emoji(),
        f.outcome.as_str()
    )
}

/// A fix attempt with buttons to set or change its outcome.
pub fn fix_blocks(f: &crate::domain::fixes::FixAttempt) -> Value {
    let buttons: Vec<Value> = crate::domain::fixes::Outcome::SETTABLE
        .iter()
        .map(|o| json!({"type": "button", "action_id": format!("{FIX_OUTCOME_ACTION}:{}:{}", f.number, o.as_str()),
                        "value": format!("{}:{}", f.number, o.as_str()),
                        "text": {"type": "plain_text", "text": format!("{} {}", o.emoji(), capitalise(o.as_str())), "emoji": true}}))
        .collect();
    json!([
        {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn::cut(&fix_text(f), SECTION_MAX)}},
        {"type": "actions", "block_id": format!("fix_{}", f.number), "elements": buttons},
    ])
}

/// `/incident tried` alone: every attempt with its outcome.
pub fn fixes_text(fixes: &[crate::domain::fixes::FixAttempt]) -> String {
    if fixes.is_empty() {
        return "No fix attempts recorded yet. Record one with `/incident tried <what was tried> [-> worked|failed|partial]`.".into();
    }
    let lines: Vec<String> = fixes
        .iter()
        .map(|f| {
            format!(
                "{} *#{}* {} — <@{}>, {}",
                f.outcome.emoji(),
                f.number,
                mrkdwn::typed(&f.description),
                f.tried_by,
                f.outcome.as_str()
            )
        })
        .collect();
    format!("*Fix attempts*\n{}", lines.join("\n"))
}

/// `/incident actions`: every action item with owner, due date, status and what to sharpen.
pub fn actions_text(
    actions: &[crate::domain::postmortem::ActionRow],
    today: chrono::NaiveDate,
) -> String {
    if actions.is_empty() {
        return "No action items yet. Add one with `/incident action <text> @owner due YYYY-MM-DD`.".into();
    }
    let lines: Vec<String> = actions.iter().map(|a| action_line(a, today)).collect();
    format!("*Action items*\n{}", lines.join("\n"))
}

/// One action item as listed: number, text, owner, due date, status, and what would make it
/// count if it is still open.
fn action_line(a: &crate::domain::postmortem::ActionRow, today: chrono::NaiveDate) -> String {
    let owner = a
        .owner
        .as_ref()
        .map(|o| format!("<@{o}>"))
        .unwrap_or_else(|| "no owner".into());
    let due = a
        .due
        .map(|d| format!("due {d}"))
        .unwrap_or_else(|| "no due date".into());
    let flags = if a.status.is_open() {
        crate::domain::actions::flags(&a.text, a.owner.as_ref(), a.due, today)
    } else {
        vec![]
    };
    let warn = if flags.is_empty() {
        String::new()
    } else {
        format!("\n    :warning: {}", flags.join("; "))
    };
    format!(
        "*#{}* {} — {owner}, {due}, *{}*{warn}",
        a.number,
        mrkdwn::typed(&a.text),
        a.status.as_str()
    )
}

/// The `action_id` prefix of the buttons that close an action item from a reminder.
pub const CLOSE_ACTION_ACTION: &str = "close_action";

/// The most blocks Slack takes in one message.
const MAX_BLOCKS: usize = 50;

/// How many items of a reminder get buttons of their own: two blocks each, within Slack's 50
/// blocks a message.
const ITEMS_WITH_BUTTONS: usize = 20;

/// A section of mrkdwn, cut to Slack's limit.
fn section(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn::cut(text, SECTION_MAX)}})
}

/// An open item as listed, and its buttons to close it as done or won't fix.
fn closable_item(
    incident_id: i64,
    a: &crate::domain::postmortem::ActionRow,
    today: chrono::NaiveDate,
) -> [Value; 2] {
    use crate::domain::actions::ActionStatus;
    let button = |status: ActionStatus, label: &str| {
        let mut b = json!({"type": "button",
            "action_id": format!("{CLOSE_ACTION_ACTION}:{}:{}", a.number, status.key()),
            "value": format!("{incident_id}:{}:{}", a.number, status.key()),
            "text": {"type": "plain_text", "text": label, "emoji": true}});
        if status == ActionStatus::Done {
            b["style"] = json!("primary");
        }
        b
    };
    [
        section(&action_line(a, today)),
        json!({"type": "actions", "block_id": format!("close_action_{incident_id}_{}", a.number),
            "elements": [button(ActionStatus::Done, "✅ Done"), button(ActionStatus::WontFix, "Won't do")]}),
    ]
}

/// The line under a list cut short: how many more, and where to see them.
fn more_items(more: usize) -> Value {
    json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!(
        "…and {}: close them with `/incident action done <n>` in the incident channel.",
        plural(more, "more item")
    )}]})
}

/// A message's `blocks` with the buttons of one item (`close_action_<incident>_<number>`)
/// replaced by `note`, once a press has closed it; `None` if the item has no buttons there.
pub fn closed_in_place(blocks: &Value, incident_id: i64, number: i64, note: &str) -> Option<Value> {
    let id = format!("close_action_{incident_id}_{number}");
    let mut blocks = blocks.as_array()?.clone();
    let at = blocks.iter().position(|b| b["block_id"] == id.as_str())?;
    blocks[at] = json!({"type": "context", "block_id": id, "elements": [{"type": "mrkdwn", "text": mrkdwn::cut(note, SECTION_MAX)}]});
    Some(Value::Array(blocks))
}

/// A reminder as blocks: `intro`, then each open item with buttons that close it as done or
/// won't fix, wherever the reminder is read (a direct message too, where no command works).
pub fn reminder_blocks(
    intro: &str,
    incident_id: i64,
    open: &[crate::domain::postmortem::ActionRow],
    today: chrono::NaiveDate,
) -> Value {
    let mut blocks = vec![section(intro)];
    for a in open.iter().take(ITEMS_WITH_BUTTONS) {
        blocks.extend(closable_item(incident_id, a, today));
    }
    if open.len() > ITEMS_WITH_BUTTONS {
        blocks.push(more_items(open.len() - ITEMS_WITH_BUTTONS));
    }
    Value::Array(blocks)
}

/// `/incident actions mine`: a person's open action items from every incident, each incident
/// named (and its channel, if any), each item with buttons to close it; as text and blocks.
pub fn my_actions(
    mine: &[(Incident, Vec<crate::domain::postmortem::ActionRow>)],
    today: chrono::NaiveDate,
) -> (String, Value) {
    let count: usize = mine.iter().map(|(_, items)| items.len()).sum();
    if count == 0 {
        let none = "You own no open action items. :tada:".to_string();
        return (none.clone(), json!([section(&none)]));
    }
    let intro = format!(
        "*Your open action items*: {} from {}. Close each with its buttons when it is done.",
        plural(count, "item"),
        plural(mine.len(), "incident"),
    );
    let mut text = vec![intro.clone()];
    let mut blocks = vec![section(&intro)];
    let mut shown = 0;
    for (incident, items) in mine {
        let channel = incident
            .channel
            .as_ref()
            .map(|c| format!(" in <#{}>", c.id))
            .unwrap_or_default();
        let heading = format!("*{}*{channel}", escape(&incident_label(incident)));
        text.push(heading.clone());
        for a in items {
            text.push(action_line(a, today));
        }
        let mut headed = false;
        for a in items {
            // The heading comes with the incident's first item shown; one block stays free for
            // the line that says how many more there are.
            let needed = if headed { 2 } else { 3 };
            if blocks.len() + needed >= MAX_BLOCKS {
                break;
            }
            if !headed {
                blocks.push(section(&heading));
                headed = true;
            }
            blocks.extend(closable_item(incident.id, a, today));
            shown += 1;
        }
    }
    if count > shown {
        blocks.push(more_items(count - shown));
    }
    // The text is the notification and the fallback; the blocks carry the list.
    (
        mrkdwn::cut(&text.join("\n"), SECTION_MAX),
        Value::Array(blocks),
    )
}

/// A follow-up review in the incident channel: its first line, above the items.
pub fn followup_intro(i: &Incident, open: usize) -> String {
    format!(
        ":calendar: *Follow-up review* of {}: {} still open. Close each with its buttons (or `/incident action done <n>` in the incident channel); hereby will ask again until they are.",
        escape(&incident_label(i)),
        plural(open, "action item"),
    )
}

/// A follow-up review in the incident channel, as text: the intro and the items.
pub fn followup_text(
    i: &Incident,
    open: &[crate::domain::postmortem::ActionRow],
    today: chrono::NaiveDate,
) -> String {
    format!(
        "{}\n{}",
        followup_intro(i, open.len()),
        actions_text(open, today).trim_start_matches("*Action items*\n")
    )
}

/// A follow-up review sent to one person because hereby can no longer post in the incident
/// channel (archived, or hereby removed from it): the same review, saying why it came to them.
pub fn review_in_private(mut review: OutgoingMessage) -> OutgoingMessage {
    let why = "The incident channel is archived (or hereby is no longer in it), so this follow-up review comes to you directly.";
    review.text = format!("{why}\n{}", review.text);
    if let Some(Value::Array(blocks)) = &mut review.blocks {
        blocks.insert(
            0,
            json!({"type": "context", "elements": [{"type": "mrkdwn", "text": why}]}),
        );
    }
    review
}

/// An owner's reminder that an action item's due date has come: its first line.
pub fn due_reminder_intro(
    i: &Incident,
    item: &crate::domain::postmortem::ActionRow,
    today: chrono::NaiveDate,
) -> String {
    let when = match item.due {
        Some(due) if due < today => format!("was due {due}"),
        Some(due) => format!("is due today ({due})"),
        None => "has no due date".into(),
    };
    format!(
        ":alarm_clock: Your action item #{} {when}, from {}. Close it with its buttons when it is done.",
        item.number,
        escape(&incident_label(i)),
    )
}

/// An owner's reminder that an action item's due date has come, as text.
pub fn due_reminder_text(
    i: &Incident,
    item: &crate::domain::postmortem::ActionRow,
    today: chrono::NaiveDate,
) -> String {
    format!(
        "{}\n• #{} {}",
        due_reminder_intro(i, item, today),
        item.number,
        mrkdwn::typed(&item.text)
    )
}

/// A direct reminder to an owner of their open items: its first line, above the items.
pub fn owner_reminder_intro(i: &Incident, theirs: usize) -> String {
    let channel = i
        .channel
        .as_ref()
        .map(|c| format!(" in <#{}>", c.id))
        .unwrap_or_default();
    format!(
        ":wave: A reminder from the follow-up review of {}{channel}: you own {}. Close each with its buttons when it is done.",
        escape(&incident_label(i)),
        plural(theirs, "open action item"),
    )
}

/// A direct reminder to an owner of their open items, as text.
pub fn owner_reminder_text(
    i: &Incident,
    theirs: &[crate::domain::postmortem::ActionRow],
) -> String {
    let items: Vec<String> = theirs
        .iter()
        .map(|a| {
            format!(
                "• #{} {}{}",
                a.number,
                mrkdwn::typed(&a.text),
                a.due.map(|d| format!(" (due {d})")).unwrap_or_default()
            )
        })
        .collect();
    format!(
        "{}\n{}",
        owner_reminder_intro(i, theirs.len()),
        items.join("\n")
    )
}

/// The threaded reply under the declaring message (or the message in the channel where
/// `/incident declare` was typed).
pub fn pointer_text(i: &Incident) -> String {
    let channel = i
        .channel
        .as_ref()
        .map(|c| format!("<#{}>", c.id))
        .unwrap_or_else(|| "its own channel".into());
    let mut text = format!(
        ":rotating_light: {} is declared. Follow and help in {channel}; <@{}> is incident commander.",
        escape(&incident_label(i)),
        i.declared_by
    );
    if i.title.is_none() {
        text.push_str(
            " It has no title yet: `/incident rename <title>` in that channel gives it one.",
        );
    }
    text
}

/// The announcement channel's message about a new incident.
pub fn announcement_text(i: &Incident) -> String {
    if i.private {
        // Not by title, and no link to a channel only its members can open.
        return format!(
            ":lock: A private incident (#{}) was declared. Its commander is <@{}>; ask them if you need to be in it.",
            i.number, i.declared_by
        );
    }
    let channel = i
        .channel
        .as_ref()
        .map(|c| format!(" in <#{}>", c.id))
        .unwrap_or_default();
    format!(
        ":rotating_light: New incident declared{channel}: *{}*. Commander: <@{}>.",
        escape(&incident_label(i)),
        i.declared_by
    )
}

pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        s.chars().take(max - 1).collect::<String>() + "…"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::incident::{Origin, Status, Title};
    use crate::domain::{ChannelId, TeamId};

    fn incident(title: &str) -> Incident {
        Incident {
            private: false,
            id: 1,
            team: TeamId::new("T1"),
            number: 7,
            title: Title::parse(title).ok(),
            status: Status::Investigating,
            severity: None,
            declared_by: UserId::new("U1"),
            declared_at: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default(),
            origin: Origin::Command {
                channel: ChannelId::new("C1"),
            },
            channel: None,
            welcome_ts: None,
            latest_update: None,
            resolved_at: None,
            description: None,
            postmortem_status: Default::default(),
            postmortem_owner: None,
        }
    }

    /// `n` open items with no owner or date, and the day they are listed on.
    fn open_items(n: i64) -> (Vec<crate::domain::postmortem::ActionRow>, chrono::NaiveDate) {
        let open = (1..=n)
            .map(|number| crate::domain::postmortem::ActionRow {
                number,
                text: format!("Item {number}"),
                owner: None,
                due: None,
                status: crate::domain::actions::ActionStatus::Open,
            })
            .collect();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default();
        (open, today)
    }

    #[test]
    fn a_long_reminder_gives_buttons_to_twenty_items_and_stays_within_slacks_fifty_blocks() {
        let (open, today) = open_items(30);
        let blocks = reminder_blocks("Review", 42, &open, today);
        let blocks = blocks.as_array().cloned().unwrap_or_default();
        assert!(blocks.len() <= 50, "{}", blocks.len());
        let buttons: Vec<&Value> = blocks
            .iter()
            .filter_map(|b| b["elements"].as_array())
            .flatten()
            .filter(|e| e["type"] == "button")
            .collect();
        assert_eq!(buttons.len(), 40, "done and won't do for twenty items");
        assert_eq!(buttons[0]["value"], "42:1:done");
        assert_eq!(buttons[1]["value"], "42:1:wontfix");
        let last = blocks.last().map(|b| b.to_string()).unwrap_or_default();
        assert!(last.contains("and 10 more items"), "{last}");
    }

    #[test]
    fn a_closed_item_loses_its_buttons_in_the_message_and_the_others_keep_theirs() {
        let (open, today) = open_items(2);
        let blocks = reminder_blocks("Review", 42, &open, today);
        let redrawn = closed_in_place(&blocks, 42, 1, "closed by <@U1>").unwrap_or_default();
        let text = redrawn.to_string();
        assert!(
            !text.contains("42:1:done") && text.contains("closed by <@U1>"),
            "{text}"
        );
        assert!(text.contains("42:2:done"), "{text}");
        assert!(
            closed_in_place(&blocks, 42, 3, "x").is_none(),
            "no such item's buttons"
        );
        assert!(
            closed_in_place(&blocks, 7, 1, "x").is_none(),
            "another incident's item 1"
        );
    }

    fn texts(blocks: &Value) -> Vec<String> {
        blocks
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|b| b.pointer("/text/text").and_then(Value::as_str))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn a_topic_is_within_slacks_limit_and_never_cuts_an_entity_or_a_mention() {
        for n in 0..130 {
            let title = format!("{}{}", "x".repeat(n), "&<>".repeat(40));
            let roles = [(Role::Commander, UserId::new("U0123456789"))];
            let topic = topic(&incident(&title), &roles);
            assert!(topic.chars().count() <= TOPIC_MAX, "{topic}");
            let kept = topic.trim_end_matches('…');
            let tail = &kept[kept.rfind('&').unwrap_or(kept.len())..];
            assert!(
                ["", "&amp;", "&lt;", "&gt;"].contains(&tail) || tail.len() > 5,
                "cut inside an entity: {topic}"
            );
            assert_eq!(
                kept.matches("<@").count(),
                kept.matches('>').count(),
                "{topic}"
            );
        }
    }

    #[test]
    fn a_title_that_pings_the_channel_is_carried_into_the_topic_as_words() {
        let t = topic(&incident("<!channel> down \u{202E}gnp.exe"), &[]);
        assert!(!t.contains("<!channel>") && !t.contains('\u{202E}'), "{t}");
        assert!(
            t.contains("&lt;!channel&gt;") && t.contains("[U+202E]"),
            "{t}"
        );
    }

    #[test]
    fn many_custom_roles_still_make_a_welcome_slack_accepts() {
        let custom: Vec<String> = (0..400)
            .map(|n| format!("custom-role-with-a-long-name-number-{n}"))
            .collect();
        let blocks = welcome_blocks(&incident("Checkout down"), &[], &custom, None);
        let count = blocks.as_array().map_or(0, Vec::len);
        assert!(count <= BLOCKS_MAX, "{count} blocks");
        let texts = texts(&blocks);
        for t in &texts {
            assert!(
                t.chars().count() <= SECTION_MAX,
                "{} chars",
                t.chars().count()
            );
        }
        let all = texts.join("\n");
        assert!(all.contains("*Incident commander*"), "{all}");
        assert!(all.contains("more: `/incident roles`"), "{all}");
    }

    #[test]
    fn every_layout_hereby_posts_is_within_slacks_limits_for_extreme_input() {
        use crate::domain::fixes::{FixAttempt, Outcome};
        use crate::slack::limits::{problems, Surface};
        let long = format!("{}<!channel>&amp;\u{202E}", "é".repeat(3100));
        let mut i = incident(&"T".repeat(200));
        i.latest_update = Some(long.clone());
        i.description = Some(long.clone());
        i.severity = Some(crate::domain::incident::Severity::Sev1);
        let custom: Vec<String> = (0..60)
            .map(|n| format!("role-{n}-{}", "r".repeat(60)))
            .collect();
        let roles: Vec<(Role, UserId)> = custom
            .iter()
            .map(|r| (Role::Custom(r.clone()), UserId::new(format!("U{r}"))))
            .chain([(Role::Commander, UserId::new("U1"))])
            .collect();
        let welcome = welcome_blocks(&i, &roles, &custom, Some("https://hereby.example.com/"));
        assert_eq!(problems(&welcome, Surface::Message), Vec::<String>::new());
        let fix = FixAttempt {
            number: 12,
            description: long,
            outcome: Outcome::Unknown,
            tried_by: UserId::new("U1"),
            tried_at: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default(),
            outcome_at: None,
            message_ts: None,
        };
        assert_eq!(
            problems(&fix_blocks(&fix), Surface::Message),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_few_roles_are_listed_in_one_section_without_a_count() {
        let blocks = welcome_blocks(&incident("Checkout down"), &[], &["comms".into()], None);
        let roles: Vec<String> = texts(&blocks)
            .into_iter()
            .filter(|t| t.starts_with("*Roles*"))
            .collect();
        assert_eq!(roles.len(), 1);
        assert!(
            roles[0].contains("*Comms*") && !roles[0].contains("more"),
            "{}",
            roles[0]
        );
    }

    #[test]
    fn a_long_update_is_cut_within_a_section_between_entities() {
        let mut i = incident("Checkout down");
        i.latest_update = Some("<&>".repeat(600));
        let blocks = welcome_blocks(&i, &[], &[], None);
        let update = texts(&blocks)
            .into_iter()
            .find(|t| t.starts_with("*Latest update*"))
            .unwrap_or_default();
        assert!(update.chars().count() <= SECTION_MAX);
        assert!(
            update.ends_with("&lt;…") || update.ends_with("&amp;…") || update.ends_with("&gt;…"),
            "{}",
            &update[update.len() - 20..]
        );
    }
}

//! What hereby says about action items: lists, the reminders and reviews that chase them, and
//! the buttons that close an item wherever it is read.

use chrono::NaiveDate;
use serde_json::{json, Value};

use super::{escape, in_channel, incident_label, BLOCKS_MAX, SECTION_MAX};
use crate::domain::incident::Incident;
use crate::domain::mrkdwn;
use crate::domain::postmortem::ActionRow;
use crate::domain::words::plural;
use crate::slack::api::OutgoingMessage;

/// `/incident actions`: every action item with owner, due date, status and what to sharpen.
pub fn actions_text(actions: &[ActionRow], today: NaiveDate) -> String {
    if actions.is_empty() {
        return "No action items yet. Add one with `/incident action <text> @owner due YYYY-MM-DD`.".into();
    }
    let lines: Vec<String> = actions.iter().map(|a| action_line(a, today)).collect();
    format!("*Action items*\n{}", lines.join("\n"))
}

/// One action item as listed: number, text, owner, due date, status, and what would make it
/// count if it is still open.
fn action_line(a: &ActionRow, today: NaiveDate) -> String {
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

/// How many items of a reminder get buttons of their own: two blocks each, within Slack's 50
/// blocks a message.
const ITEMS_WITH_BUTTONS: usize = 20;

/// A section of mrkdwn, cut to Slack's limit.
fn section(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn::cut(text, SECTION_MAX)}})
}

/// An open item as listed, and its buttons to close it as done or won't fix.
fn closable_item(incident_id: i64, a: &ActionRow, today: NaiveDate) -> [Value; 2] {
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
    open: &[ActionRow],
    today: NaiveDate,
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
pub fn my_actions(mine: &[(Incident, Vec<ActionRow>)], today: NaiveDate) -> (String, Value) {
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
        let heading = format!(
            "*{}*{}",
            escape(&incident_label(incident)),
            in_channel(incident)
        );
        text.push(heading.clone());
        for a in items {
            text.push(action_line(a, today));
        }
        let mut headed = false;
        for a in items {
            // The heading comes with the incident's first item shown; one block stays free for
            // the line that says how many more there are.
            let needed = if headed { 2 } else { 3 };
            if blocks.len() + needed >= BLOCKS_MAX {
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
pub fn followup_text(i: &Incident, open: &[ActionRow], today: NaiveDate) -> String {
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
pub fn due_reminder_intro(i: &Incident, item: &ActionRow, today: NaiveDate) -> String {
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
pub fn due_reminder_text(i: &Incident, item: &ActionRow, today: NaiveDate) -> String {
    format!(
        "{}\n• #{} {}",
        due_reminder_intro(i, item, today),
        item.number,
        mrkdwn::typed(&item.text)
    )
}

/// A direct reminder to an owner of their open items: its first line, above the items.
pub fn owner_reminder_intro(i: &Incident, theirs: usize) -> String {
    format!(
        ":wave: A reminder from the follow-up review of {}{}: you own {}. Close each with its buttons when it is done.",
        escape(&incident_label(i)),
        in_channel(i),
        plural(theirs, "open action item"),
    )
}

/// A direct reminder to an owner of their open items, as text.
pub fn owner_reminder_text(i: &Incident, theirs: &[ActionRow]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` open items with no owner or date, and the day they are listed on.
    fn open_items(n: i64) -> (Vec<ActionRow>, NaiveDate) {
        let open = (1..=n)
            .map(|number| ActionRow {
                number,
                text: format!("Item {number}"),
                owner: None,
                due: None,
                status: crate::domain::actions::ActionStatus::Open,
            })
            .collect();
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default();
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
}

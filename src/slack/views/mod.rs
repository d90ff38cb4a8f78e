//! What hereby says in Slack: message texts and Block Kit layouts, built from stored state.
//! This file has what is said about the incident itself; `actions.rs` what chases its action
//! items.

use serde_json::{json, Value};

use crate::domain::command::SPECS;
use crate::domain::incident::Incident;
use crate::domain::mrkdwn;
use crate::domain::review::ReviewStatus;
use crate::domain::roles::Role;
use crate::domain::UserId;

mod actions;
pub use actions::*;

/// "Incident #12: Checkout payments failing" (or "Incident #12 (untitled)").
pub fn incident_label(i: &Incident) -> String {
    match &i.title {
        Some(t) => format!("Incident #{}: {}", i.number, t),
        None => format!("Incident #{} (untitled)", i.number),
    }
}

/// " in #channel" naming the incident's channel as a link, or nothing before it has one.
pub fn in_channel(i: &Incident) -> String {
    i.channel
        .as_ref()
        .map(|c| format!(" in <#{}>", c.id))
        .unwrap_or_default()
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

/// Told to the commander directly when hereby is removed from the incident channel.
pub fn removed_text(i: &Incident, by: Option<&str>) -> String {
    let channel = i
        .channel
        .as_ref()
        .map(|c| format!("<#{}>", c.id))
        .unwrap_or_else(|| "the incident channel".into());
    let by = by.map(|u| format!(" by <@{u}>")).unwrap_or_default();
    format!(
        ":warning: hereby was removed from {channel}{by}, the channel of {}. Until someone invites it back (`/invite @hereby` in the channel), nothing said there is recorded and hereby cannot post there. Once it is back, it reads what was said meanwhile from the channel's history.",
        escape(&incident_label(i)),
    )
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
    format!(
        ":rotating_light: New incident declared{}: *{}*. Commander: <@{}>.",
        in_channel(i),
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

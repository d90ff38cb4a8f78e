//! Slack's refusals in plain words, with what a person can change: hereby tells the declarer
//! or the commander when Slack will not do something for an incident, instead of only logging
//! Slack's error code.

/// What a step of an incident was, in words ("create the incident channel").
pub fn step_in_words(step: &str) -> &'static str {
    match step {
        "create_channel" => "create the incident channel",
        "invite_declarer" | "invite" => "invite someone into the incident channel",
        "set_topic" => "set the channel topic",
        "post_welcome" => "post the welcome message",
        "pin_welcome" => "pin the welcome message",
        "point_origin" => "point the original conversation at the incident channel",
        "announce" | "announce_change" => "post in the announcement channel",
        "refresh_summary" => "update the pinned summary",
        "notice" | "post_fix" | "follow_up" => "post in the incident channel",
        "look_up_user" => "look up a participant's name",
        "catch_up" => "read the channel's history",
        "export_draft" => "share the post-mortem draft",
        "draft_canvas" => "put the draft in a canvas",
        "rename_channel" => "rename the channel",
        "remind_owner" => "remind an action item's owner",
        "tell_removed" => "tell the commander that hereby was removed from the channel",
        _ => "do a step of this incident",
    }
}

/// What Slack's error `code` means and what to change, for a person.
pub fn advice(code: &str) -> &'static str {
    // The code may carry detail after it ("name_taken (50 names tried)").
    let code = code.split([' ', ':']).next().unwrap_or(code);
    match code {
        "restricted_action" | "restricted_action_read_only_channel" => {
            "The workspace lets only some people do this (for example, only admins may create channels). A workspace admin can allow it under Settings & Permissions, or create the channel by hand."
        }
        "missing_scope" | "not_allowed_token_type" | "no_permission" => {
            "hereby's Slack app lacks a permission it needs. An admin should update the app from hereby's manifest.yml and reinstall it (OAuth & Permissions → Reinstall)."
        }
        "not_in_channel" | "channel_not_found" => {
            "hereby is not a member of that channel. Invite it there with `/invite @hereby` (a private channel also needs the app reinstalled with the groups scopes)."
        }
        "is_archived" => "The channel is archived. Unarchive it, or point hereby at another channel.",
        "name_taken" => {
            "Every channel name hereby tried is taken. Archive or rename old incident channels, or set HEREBY_CHANNEL_PREFIX."
        }
        "invalid_name" | "invalid_name_specials" | "invalid_name_maxlength" => {
            "Slack does not accept the channel name. Rename the incident with `/incident rename <title>`, or change HEREBY_CHANNEL_PREFIX."
        }
        "user_is_restricted" | "user_is_ultra_restricted" | "cant_invite" => {
            "Guests cannot be invited into this channel. A workspace admin can change guest access."
        }
        "account_inactive" | "invalid_auth" | "token_revoked" | "not_authed" => {
            "hereby's bot token no longer works. Reinstall the app and update SLACK_BOT_TOKEN."
        }
        "invalid_blocks" | "msg_too_long" | "invalid_arguments" => {
            "Slack refused the message's layout. This is a bug in hereby; please report it with the log line."
        }
        c if c.starts_with("http_4") => {
            "Slack's address answered with an HTTP error. Check SLACK_API_URL and any proxy between hereby and Slack; an admin can then retry with `hereby outbox retry`."
        }
        _ => "Slack refused it. The log has the details; an admin can retry with `hereby outbox retry`.",
    }
}

/// How the outbox words work it gave up on after `attempts` failures (its error, as stored and
/// as told with [`refusal_text`]).
pub fn gave_up(attempts: i64, last_error: &str) -> String {
    format!("gave up after {attempts} attempts: {last_error}")
}

/// The message that tells a person what Slack refused for an incident, or what kept failing
/// (`code` is then [`gave_up`]'s).
pub fn refusal_text(incident_number: i64, step: &str, code: &str) -> String {
    let what = step_in_words(step);
    if let Some((attempts, error)) = code
        .strip_prefix("gave up after ")
        .and_then(|rest| rest.split_once(": "))
    {
        let then = if error.contains("(a bug in hereby)") {
            "This is a bug in hereby; please report it with the log line. An admin can retry it with `hereby outbox retry`."
        } else {
            "The log has the details; once the cause is fixed, an admin can retry it with `hereby outbox retry`."
        };
        return format!(
            ":warning: hereby could not {what} for incident #{incident_number}: it gave up after {attempts}, the last failing with `{}`. {then}",
            error.replace('`', "'"),
        );
    }
    format!(
        ":warning: hereby could not {what} for incident #{incident_number}: Slack answered `{}`. {}",
        code.replace('`', "'"),
        advice(code)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_channel_creation_says_what_an_admin_can_change() {
        let text = refusal_text(7, "create_channel", "restricted_action");
        assert!(text.contains("could not create the incident channel for incident #7"));
        assert!(text.contains("`restricted_action`"));
        assert!(text.contains("admin"));
    }

    #[test]
    fn work_that_kept_failing_is_told_as_such_and_a_bug_as_a_bug() {
        let text = refusal_text(3, "set_topic", &gave_up(5, "Slack answered HTTP 500"));
        assert!(text.contains("could not set the channel topic for incident #3"));
        assert!(text
            .contains("gave up after 5 attempts, the last failing with `Slack answered HTTP 500`"));
        assert!(!text.contains("Slack answered `gave up"), "{text}");
        assert!(text.contains("hereby outbox retry"));
        let bug = refusal_text(
            3,
            "set_topic",
            &gave_up(
                5,
                "carrying out the effect panicked (a bug in hereby): oops",
            ),
        );
        assert!(bug.contains("This is a bug in hereby"), "{bug}");
    }

    #[test]
    fn codes_with_detail_are_explained_by_their_first_word() {
        assert_eq!(advice("name_taken (50 names tried)"), advice("name_taken"));
        assert!(advice("missing_scope").contains("manifest.yml"));
    }
}

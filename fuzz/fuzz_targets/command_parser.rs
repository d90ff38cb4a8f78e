//! Fuzz target: the `/incident` grammar (`command::parse`, `parse_assignee`, `ParseError::reply`)
//! and the argument parsers it leans on (`actions::parse_new`, `fixes::split_outcome`).
//!
//! Input: UTF-8 text. If it holds a NUL byte, what comes before it is the team's custom roles
//! (comma-separated) and what comes after is the command text.
#![no_main]

use hereby::domain::actions::parse_new;
use hereby::domain::command::{parse, parse_assignee, Command};
use hereby::domain::fixes::split_outcome;
use hereby::domain::incident::Title;
use libfuzzer_sys::fuzz_target;

fn check_title(title: &Title) {
    let t = title.as_str();
    assert!(!t.is_empty(), "an empty title was accepted");
    assert!(
        t.chars().count() <= Title::MAX_CHARS,
        "title of {} chars: {t:?}",
        t.chars().count()
    );
    assert!(
        !t.chars().any(char::is_control),
        "control character in {t:?}"
    );
    assert_eq!(t, t.trim(), "title not trimmed: {t:?}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let (roles, text) = match input.split_once('\0') {
        Some((roles, text)) => (
            roles.split(',').map(str::to_string).collect::<Vec<_>>(),
            text,
        ),
        None => (vec!["liaison".to_string()], input),
    };

    match parse(text, &roles) {
        Ok(command) => {
            let _ = command.needs_incident();
            match &command {
                Command::Declare { title: Some(title) } | Command::Rename { title } => {
                    check_title(title)
                }
                Command::Update { text } | Command::Note { text } | Command::Docs { text } => {
                    assert!(!text.trim().is_empty(), "empty text accepted: {command:?}")
                }
                Command::Tried { what, .. } => assert!(!what.is_empty()),
                Command::Action(action) => assert!(!action.text.trim().is_empty()),
                _ => {}
            }
        }
        Err(error) => {
            let reply = error.reply();
            assert!(!reply.is_empty());
        }
    }

    for word in text.split_whitespace().take(8) {
        let _ = parse_assignee(word);
    }
    let _ = parse_assignee(text);

    if let Ok(action) = parse_new(text) {
        assert!(!action.text.trim().is_empty());
    }

    let (what, _outcome) = split_outcome(text);
    assert_eq!(what, what.trim(), "untrimmed description");

    if let Ok(title) = Title::parse(text) {
        check_title(&title);
    }
});

//! Fuzz target: recognising "I hereby declare this an incident" and its title in any message
//! text (`trigger::find_declaration`), plus the mrkdwn unescaping it relies on.
#![no_main]

use hereby::domain::incident::Title;
use hereby::domain::trigger::{find_declaration, unescape_mrkdwn};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(declaration) = find_declaration(&text) {
        if let Some(title) = declaration.title {
            let t = title.as_str();
            assert!(!t.is_empty());
            assert!(t.chars().count() <= Title::MAX_CHARS, "{t:?}");
            assert!(!t.contains('\n'), "a title spans lines: {t:?}");
        }
    }
    let _ = unescape_mrkdwn(&text);
});

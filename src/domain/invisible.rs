//! Characters that change how text reads without being seen — bidi controls and zero-width
//! characters — and text with them written out, shared by the Slack and Markdown renderings.

/// Characters that reorder or hide text: bidi controls and zero-width characters.
pub fn invisible(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{180E}' | '\u{00AD}' | '\u{034F}')
}

/// Bidi controls and zero-width characters written out as `[U+202E]`, so that they are shown
/// instead of obeyed. A zero-width joiner between two emoji (👩‍💻) is kept: it is how
/// such emoji are written.
pub fn shown(text: &str) -> String {
    if !text.chars().any(invisible) {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let emoji = |c: Option<&char>| {
        c.is_some_and(|c| *c as u32 >= 0x1F000 || ('\u{2600}'..='\u{27BF}').contains(c))
    };
    let mut out = String::with_capacity(text.len() + 8);
    for (i, c) in chars.iter().enumerate() {
        let joins_emoji =
            *c == '\u{200D}' && i > 0 && emoji(chars.get(i - 1)) && emoji(chars.get(i + 1));
        if invisible(*c) && !joins_emoji {
            out.push_str(&format!("[U+{:04X}]", *c as u32));
        } else {
            out.push(*c);
        }
    }
    out
}

//! Counting in words, for what people read: "1 link", "3 links", "3 people".

use std::fmt::Display;

/// "1 message", "37 messages".
pub fn plural<N: Display + PartialEq + From<u8>>(n: N, word: &str) -> String {
    counted(n, word, &format!("{word}s"))
}

/// "1 person", "3 people": for words whose plural is not theirs with an "s".
pub fn counted<N: Display + PartialEq + From<u8>>(n: N, one: &str, many: &str) -> String {
    if n == N::from(1) {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_thing_is_singular_and_none_or_many_are_plural() {
        assert_eq!(plural(1usize, "link"), "1 link");
        assert_eq!(plural(0i64, "link"), "0 links");
        assert_eq!(plural(12u64, "effect"), "12 effects");
        assert_eq!(counted(1usize, "person", "people"), "1 person");
        assert_eq!(counted(3usize, "entry", "entries"), "3 entries");
    }
}

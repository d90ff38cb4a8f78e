//! Fuzz target: decoding stored Events API payloads (`slack::events::decode`) from arbitrary
//! text. It must return an error or an event, never panic.
#![no_main]

use hereby::slack::events::{decode, Envelope};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = std::str::from_utf8(data) else {
        return;
    };
    let _ = decode(payload);
    if let Ok(envelope) = serde_json::from_str::<Envelope>(payload) {
        let _ = envelope.event_type();
    }
});

//! Request authenticity, as Slack specifies it: `v0=` HMAC-SHA256 of `v0:timestamp:body` with
//! the signing secret, compared in constant time (slack-morphism's verifier), and a timestamp
//! no more than five minutes from now, so a captured request cannot be replayed later.

use slack_morphism::prelude::SlackSigningSecret;
use slack_morphism::signature_verifier::SlackEventSignatureVerifier;

use crate::secret::Secret;

/// How far a request's timestamp may be from our clock.
pub const MAX_SKEW_SECS: i64 = 300;

/// Why a request is not accepted as Slack's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing X-Slack-Request-Timestamp or X-Slack-Signature")]
    Missing,
    #[error("timestamp is not a number")]
    BadTimestamp,
    #[error("timestamp is {0} s away from now (more than 300 s): stale or replayed")]
    Stale(u64),
    #[error("signature does not match")]
    Mismatch,
}

/// Checks one request; `now` is the current Unix time in seconds.
pub fn verify_request(
    secret: &Secret,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), VerifyError> {
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err(VerifyError::Missing);
    };
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::BadTimestamp)?;
    // Checked: a timestamp near i64::MIN must not overflow into a small skew.
    let skew = now.checked_sub(ts).map_or(u64::MAX, i64::unsigned_abs);
    if skew > MAX_SKEW_SECS.unsigned_abs() {
        return Err(VerifyError::Stale(skew));
    }
    // The signature covers the exact bytes; a body that is not UTF-8 cannot be Slack's.
    let body = std::str::from_utf8(body).map_err(|_| VerifyError::Mismatch)?;
    SlackEventSignatureVerifier::new(&SlackSigningSecret::new(secret.expose().to_string()))
        .verify(signature, body, timestamp)
        .map_err(|_| VerifyError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Slack's documented example ("Verifying requests from Slack").
    const DOC_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const DOC_TS: &str = "1531420618";
    const DOC_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const DOC_SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    #[test]
    fn slacks_documented_request_is_refused_as_stale_today() {
        let now = 1_790_000_000;
        let r = verify_request(
            &Secret::new(DOC_SECRET),
            Some(DOC_TS),
            Some(DOC_SIG),
            DOC_BODY.as_bytes(),
            now,
        );
        assert!(matches!(r, Err(VerifyError::Stale(_))), "{r:?}");
    }

    #[test]
    fn a_timestamp_at_the_far_end_of_time_is_refused_as_stale_not_wrapped_into_the_window() {
        let now = 1_790_000_000_i64;
        for ts in [
            now.wrapping_sub(1 << 62).wrapping_sub(1 << 62),
            i64::MIN,
            i64::MAX,
            now - 301,
            now + 301,
        ] {
            let r = verify_request(
                &Secret::new(DOC_SECRET),
                Some(&ts.to_string()),
                Some(DOC_SIG),
                DOC_BODY.as_bytes(),
                now,
            );
            assert!(matches!(r, Err(VerifyError::Stale(_))), "{ts}: {r:?}");
        }
    }

    #[test]
    fn missing_headers_are_refused() {
        let r = verify_request(&Secret::new(DOC_SECRET), None, Some(DOC_SIG), b"", 0);
        assert_eq!(r, Err(VerifyError::Missing));
    }

    #[test]
    fn a_timestamp_that_is_not_a_number_is_refused() {
        let r = verify_request(
            &Secret::new(DOC_SECRET),
            Some("soon"),
            Some(DOC_SIG),
            b"",
            0,
        );
        assert_eq!(r, Err(VerifyError::BadTimestamp));
    }
}

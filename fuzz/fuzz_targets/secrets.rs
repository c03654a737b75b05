//! `State::new`, `Nonce::new` and `PkceVerifier::new` on arbitrary strings.
//!
//! Accepted: `secret()` is the input exactly; a verifier's challenge is BASE64URL(SHA-256(verifier)),
//! 43 characters. Refused: the error never echoes the secret.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};
use workos_connect::{Error, Nonce, PkceVerifier, State};

fn is_base64url(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The input with every ASCII letter and digit replaced by the next one of its kind (`a`->`b`,
/// `z`->`a`, `9`->`0`): the same length, the same byte positions and the same character classes for
/// every rule the crate applies (VSCHAR, unreserved, control), but other characters.
fn rotate(input: &str) -> String {
    input
        .chars()
        .map(|c| match c {
            'a'..='y' | 'A'..='Y' | '0'..='8' => char::from(c as u8 + 1),
            'z' => 'a',
            'Z' => 'A',
            '9' => '0',
            other => other,
        })
        .collect()
}

/// An error about secret `input` must not show it. Its text may contain the input only by
/// coincidence with the fixed wording (e.g. `PkceVerifier::new("characters")` is refused as
/// "code_verifier is 10 characters long; ..."), which is told apart by refusing the same-shaped input
/// `rotate(input)`: the message must come out identical, i.e. not depend on the secret's characters.
fn check_refusal<T>(
    name: &str,
    input: &str,
    error: &Error,
    new: impl Fn(&str) -> Result<T, Error>,
) {
    let shown = format!("{error}");
    let debugged = format!("{error:?}");
    let rotated = rotate(input);
    match new(&rotated) {
        Ok(_) => panic!("{name}: {input:?} refused ({shown}) but same-shaped {rotated:?} accepted"),
        Err(other) => {
            assert_eq!(
                format!("{other}"),
                shown,
                "{name}: message depends on the secret {input:?}"
            );
            assert_eq!(
                format!("{other:?}"),
                debugged,
                "{name}: Debug depends on the secret {input:?}"
            );
        }
    }
    if !input.is_empty() && input.chars().count() >= 8 {
        let coincidence = rotated != input;
        assert!(
            coincidence || !shown.contains(input),
            "{name}: error message echoes the secret {input:?}: {shown}"
        );
        assert!(
            coincidence || !debugged.contains(input),
            "{name}: error Debug echoes the secret {input:?}: {debugged}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };

    match State::new(input) {
        Ok(state) => {
            assert_eq!(state.secret(), input);
            assert!(state.matches(input));
            assert_eq!(format!("{state:?}"), "State(..)");
        }
        Err(error) => check_refusal("State", input, &error, |s: &str| State::new(s)),
    }

    match Nonce::new(input) {
        Ok(nonce) => {
            assert_eq!(nonce.secret(), input);
            assert!(nonce.matches(input));
            assert_eq!(format!("{nonce:?}"), "Nonce(..)");
        }
        Err(error) => check_refusal("Nonce", input, &error, |s: &str| Nonce::new(s)),
    }

    match PkceVerifier::new(input) {
        Ok(verifier) => {
            assert_eq!(verifier.secret(), input);
            assert_eq!(format!("{verifier:?}"), "PkceVerifier(..)");
            let challenge = verifier.challenge();
            let challenge = challenge.as_str();
            assert_eq!(challenge.len(), 43, "{challenge:?}");
            assert!(is_base64url(challenge), "{challenge:?}");
            assert_eq!(
                challenge,
                URL_SAFE_NO_PAD.encode(Sha256::digest(input.as_bytes()))
            );
        }
        Err(error) => check_refusal("PkceVerifier", input, &error, |s: &str| {
            PkceVerifier::new(s)
        }),
    }
});

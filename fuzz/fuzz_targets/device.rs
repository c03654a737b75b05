//! The device login's and userinfo's parsers, fed what a hostile server could send: device
//! authorization answers, poll answers with any status, userinfo answers with any challenge. Never
//! a panic, never a control, bidirectional or invisible formatting character in what is printed to
//! a terminal or in a message, and never the device code in `Debug`.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use workos_connect::device::{DeviceClient, Poll};
use workos_connect::authkit::Userinfo;

/// What a terminal acts on rather than shows: control characters, bidirectional controls
/// (CVE-2021-42574), line and paragraph separators, zero-width characters and the byte order mark.
fn is_unsafe_to_show(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{061c}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{200b}'..='\u{200d}'
                | '\u{2060}'
                | '\u{feff}'
        )
}

fn one_line(shown: &str) {
    assert!(!shown.chars().any(is_unsafe_to_show), "{shown:?}");
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Some((status, body)) = rest.split_first_chunk::<2>() else {
        return;
    };
    let status = u16::from_be_bytes(*status) % 600;
    let client = DeviceClient::new(
        &"https://example.authkit.app".parse().unwrap(),
        "client_01".parse().unwrap(),
    );
    // A fixed moment, so that a crash replays exactly.
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    match selector % 3 {
        0 => match client.read_authorization(status, body, now) {
            Ok(login) => {
                one_line(&login.user_code().to_string());
                one_line(login.verification_uri().as_str());
                if let Some(complete) = login.verification_uri_complete() {
                    one_line(complete.as_str());
                }
                assert!(login.expires_at() > now);
                assert!(login.next_poll_at() > now);
                let secret = login.device_code().secret();
                if secret.len() >= 12 {
                    assert!(!format!("{login:?}").contains(secret));
                }
            }
            Err(error) => one_line(&error.to_string()),
        },
        1 => {
            let answer = br#"{"device_code":"dc-fuzz-secret","user_code":"ABCD-EFGH",
                "verification_uri":"https://example.authkit.app/device","expires_in":300}"#;
            let mut login = client.read_authorization(200, answer, now).unwrap();
            let later = now + Duration::from_secs(5);
            match login.read_poll(status, body, later) {
                Ok(Poll::Pending { next_poll_at }) => {
                    // Never sooner than the interval, never at or past expiry.
                    assert!(next_poll_at >= later + login.interval());
                    assert!(next_poll_at < login.expires_at());
                }
                Ok(Poll::Done(tokens)) => assert!(!tokens.access_token.secret().is_empty()),
                Err(error) => {
                    one_line(&error.to_string());
                    if error.is_transient() {
                        let before = login.interval();
                        if let Ok(next) = login.back_off(later) {
                            assert!(login.interval() >= before && next > later);
                        }
                    }
                }
            }
        }
        _ => {
            let text = String::from_utf8_lossy(body);
            let (header, body) = text.split_once('\n').unwrap_or((&text, ""));
            match Userinfo::parse(status, Some(header), body.as_bytes()) {
                // The claims shown to people are as clean as the messages.
                Ok(user) => {
                    let shown = [
                        Some(&user.sub),
                        user.email.as_ref(),
                        user.name.as_ref(),
                        user.given_name.as_ref(),
                        user.family_name.as_ref(),
                        user.picture.as_ref(),
                    ];
                    for claim in shown.into_iter().flatten() {
                        one_line(claim);
                    }
                }
                Err(error) => one_line(&error.to_string()),
            }
        }
    }
});

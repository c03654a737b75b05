//! The device login's and userinfo's parsers, fed what a hostile server could send: device
//! authorization answers, poll answers with any status, userinfo answers with any challenge. Never
//! a panic, never a control character in what is printed to a terminal or in a message, and never
//! the device code in `Debug`.
#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use workos_connect::device::{DeviceClient, Poll};
use workos_connect::Userinfo;

fn one_line(shown: String) {
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
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
    let now = Instant::now();
    match selector % 3 {
        0 => match client.read_authorization(status, body, now) {
            Ok(login) => {
                one_line(login.user_code().to_string());
                one_line(login.verification_uri().to_string());
                assert!(login.expires_at() > now);
                assert!(login.next_poll_at() > now);
                let secret = login.device_code().secret();
                if secret.len() >= 12 {
                    assert!(!format!("{login:?}").contains(secret));
                }
            }
            Err(error) => one_line(error.to_string()),
        },
        1 => {
            let answer = br#"{"device_code":"dc-fuzz-secret","user_code":"ABCD-EFGH",
                "verification_uri":"https://example.authkit.app/device","expires_in":300}"#;
            let mut login = client.read_authorization(200, answer, now).unwrap();
            let later = now + std::time::Duration::from_secs(5);
            match login.read_poll(status, body, later) {
                Ok(Poll::Pending { next_poll_at }) => {
                    // Never sooner than the interval, never at or past expiry.
                    assert!(next_poll_at >= later + login.interval());
                    assert!(next_poll_at < login.expires_at());
                }
                Ok(Poll::Done(tokens)) => assert!(!tokens.access_token.secret().is_empty()),
                Err(error) => {
                    one_line(error.to_string());
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
            if let Err(error) = Userinfo::parse(status, Some(header), body.as_bytes()) {
                one_line(error.to_string());
            }
        }
    }
});

//! Callback checks: any query string, never a panic, and a code only for the login's own state.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workos_connect::{ConnectClient, State};

const STATE: &str = "st&te=1 +%";

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let client = ConnectClient::new(
        "https://example.authkit.app".parse().unwrap(),
        "client_1".parse().unwrap(),
        "https://app.example/cb".parse().unwrap(),
    );
    let (_, pending) = client
        .authorize()
        .state(State::new(STATE).unwrap())
        .build()
        .unwrap();
    match pending.callback().check(query) {
        Ok(code) => {
            let pairs: Vec<(String, String)> =
                url::form_urlencoded::parse(query.strip_prefix('?').unwrap_or(query).as_bytes())
                    .into_owned()
                    .collect();
            let values = |wanted: &str| -> Vec<&str> {
                pairs
                    .iter()
                    .filter(|(name, _)| name == wanted)
                    .map(|(_, value)| value.as_str())
                    .collect()
            };
            assert_eq!(values("state"), [STATE], "{query:?}");
            assert_eq!(values("code"), [code.secret()], "{query:?}");
            assert!(!code.secret().is_empty());
            assert!(code.secret().len() <= 4096);
            assert!(code.secret().bytes().all(|b| (0x20..=0x7e).contains(&b)));
            assert!(values("error").is_empty());
        }
        Err(error) => {
            // Whatever the query held, the message is one line a log can take as it is.
            let shown = format!("{error} {error:?}");
            assert!(!shown.chars().any(char::is_control), "{shown:?}");
        }
    }
});

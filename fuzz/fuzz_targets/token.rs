//! Token responses: any status and body, never a panic, and no error message that quotes the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workos_connect::{TokenError, TokenResponse};

fuzz_target!(|data: &[u8]| {
    let Some((&status_byte, body)) = data.split_first() else {
        return;
    };
    // 200 and 400 most of the time, any status now and then.
    let status = match status_byte % 4 {
        0 | 1 => 200,
        2 => 400,
        _ => 100 + u16::from(status_byte) * 2,
    };
    match TokenResponse::parse(status, body) {
        Ok(response) => {
            assert!((200..300).contains(&status));
            assert!(response.token_type.eq_ignore_ascii_case("bearer"));
            assert!(!response.access_token.secret().is_empty());
            let _ = format!("{response:?}");
        }
        Err(TokenError::MalformedResponse { reason }) if reason == "access_token is empty" => {}
        Err(TokenError::MalformedResponse { reason }) => {
            // Only a category and a position, never text from the body, which holds tokens.
            let words: Vec<&str> = reason.split(' ').collect();
            assert!(
                matches!(
                    words.as_slice(),
                    [category, "error", "at", "line", line, "column", column]
                        if ["Io", "Syntax", "Data", "Eof"].contains(category)
                            && line.bytes().all(|b| b.is_ascii_digit())
                            && column.bytes().all(|b| b.is_ascii_digit())
                ),
                "{reason}"
            );
        }
        Err(error) => {
            // Whatever the body held, the message is one line a log can take as it is.
            let shown = format!("{error} {error:?}");
            assert!(!shown.chars().any(char::is_control), "{shown:?}");
        }
    }
});

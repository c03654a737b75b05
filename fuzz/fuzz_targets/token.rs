//! Token responses: any status and body, never a panic, and no error message that quotes the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workos_connect::{TokenError, TokenResponse, oauth::AccessTokenType};

/// The fixed reasons for a token outside its grammar: the field and a position, never its text.
fn is_token_fault(reason: &str) -> bool {
    let fields = ["access_token", "refresh_token", "id_token"];
    if let Some(field) = reason.strip_suffix(" is empty") {
        return fields.contains(&field);
    }
    if reason == "scope holds a character outside RFC 6749's scope-token (Appendix A.4)" {
        return true;
    }
    let Some((field, rest)) = reason.split_once(" has a character outside printable ASCII at byte ") else {
        return false;
    };
    let Some(index) = rest.strip_suffix(" (RFC 6749 Appendix A: 1*VSCHAR)") else {
        return false;
    };
    fields.contains(&field) && !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit())
}

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
    // After a DPoP proof, only a DPoP token is taken, never a bearer one (RFC 9449 §5): an answer
    // `parse` takes, `parse_dpop` refuses as a downgrade.
    let after_proof = TokenResponse::parse_dpop(status, body);
    if let Ok(response) = &after_proof {
        assert_eq!(response.token_type, AccessTokenType::Dpop);
    }
    if TokenResponse::parse(status, body).is_ok() {
        assert_eq!(after_proof.unwrap_err(), TokenError::DpopDowngraded);
    }
    // RFC 6749 §5.1 and §5.2: a token response and an error response are JSON objects; an array
    // is not read as the members in order, nor a string as an error code.
    let not_an_object = body.trim_ascii_start().first().is_some_and(|b| *b != b'{');
    let result = TokenResponse::parse(status, body);
    if not_an_object {
        assert!(
            matches!(
                result,
                Err(TokenError::UnexpectedStatus { .. } | TokenError::MalformedResponse { .. })
            ),
            "{result:?}"
        );
    }
    match result {
        Ok(response) => {
            assert!((200..300).contains(&status));
            // A DPoP token only for a request that sent a proof, which `parse` is not for.
            assert_eq!(response.token_type, AccessTokenType::Bearer);
            // Every token can go into a header as it is: 1*VSCHAR (RFC 6749 Appendix A).
            let vschar = |text: &str| !text.is_empty() && text.bytes().all(|b| (0x20..=0x7e).contains(&b));
            assert!(vschar(response.access_token.secret()));
            assert!(response.refresh_token.as_ref().is_none_or(|t| vschar(t.secret())));
            assert!(response.id_token.as_ref().is_none_or(|t| vschar(t.secret())));
            assert!(response
                .scope
                .as_deref()
                .is_none_or(|scope| scope.bytes().all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\')));
            let _ = format!("{response:?}");
        }
        Err(TokenError::MalformedResponse { reason }) if is_token_fault(&reason) => {}
        Err(TokenError::MalformedResponse { reason }) if reason == "the JSON is not an object" => {
            assert!(not_an_object);
        }
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

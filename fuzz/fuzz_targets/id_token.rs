//! ID token validation: any token and JWKS, never a panic, and never accepted unsigned.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workos_connect::{ConnectClient, Nonce, jose::KeySet, oauth::IdToken};

fuzz_target!(|data: &[u8]| {
    // The token, then 0xFF (never in UTF-8), then the JWKS.
    let mut parts = data.splitn(2, |&b| b == 0xFF);
    let (Some(token), Some(jwks)) = (parts.next(), parts.next()) else {
        return;
    };
    let Ok(token) = std::str::from_utf8(token) else {
        return;
    };
    let client = ConnectClient::new(
        "https://example.authkit.app".parse().unwrap(),
        "client_1".parse().unwrap(),
        "https://app.example/cb".parse().unwrap(),
    );
    let (_, pending) = client
        .authorize()
        .nonce(Nonce::new("fuzz-nonce").unwrap())
        .build()
        .unwrap();
    // Any JWKS either parses into a set or is refused; neither may panic.
    let keys = match KeySet::parse(jwks) {
        Ok(keys) => keys,
        Err(error) => {
            let _ = format!("{error} {error:?}");
            return;
        }
    };
    // A token outside RFC 6749's VSCHAR is refused when made, before any validation.
    let Ok(id_token) = IdToken::new(token) else {
        assert!(token.is_empty() || token.bytes().any(|b| !(0x20..=0x7e).contains(&b)));
        return;
    };
    match pending.id_token().validate(&id_token, &keys) {
        Ok(claims) => {
            // Only a signed token can pass, and only with this login's claims.
            assert_eq!(claims.nonce.as_deref(), Some("fuzz-nonce"));
            assert_eq!(claims.iss, "https://example.authkit.app");
            assert_eq!(claims.aud, ["client_1"]);
            assert_eq!(token.split('.').count(), 3);
        }
        Err(error) => {
            let _ = format!("{error} {error:?}");
        }
    }
});

//! `Scopes` parsing: never panics, and every accepted set prints a wire form that reads back to it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workos_connect::{Scope, Scopes};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    match input.parse::<Scopes>() {
        Ok(scopes) => {
            let printed = scopes.to_string();
            let back: Scopes = printed.parse().unwrap_or_else(|e| {
                panic!("{printed:?} (from {input:?}) does not parse back: {e}")
            });
            assert_eq!(back, scopes, "{input:?} -> {printed:?}");
            // Strict parsing: one name per space-separated token, each listed once.
            let tokens = if input.is_empty() {
                0
            } else {
                input.split(' ').count()
            };
            assert_eq!(scopes.len(), tokens, "{input:?}");
            assert_eq!(scopes.iter().count(), scopes.len());
            for token in input.split(' ').filter(|t| !t.is_empty()) {
                let scope: Scope = token.parse().unwrap_or_else(|e| {
                    panic!("accepted {input:?} but not its token {token:?}: {e}")
                });
                assert!(scopes.contains(scope), "{input:?} lost {token:?}");
            }
            let _ = format!("{scopes:?}");
        }
        Err(error) => {
            let _ = format!("{error} {error:?}");
        }
    }
});

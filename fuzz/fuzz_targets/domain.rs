//! `AuthKitDomain::parse` on arbitrary strings: accepted domains give a bare http(s) origin as issuer,
//! which parses back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workos_connect::AuthKitDomain;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    match AuthKitDomain::parse(input) {
        Ok(domain) => {
            let issuer = domain.issuer();
            assert!(
                issuer.starts_with("https://") || issuer.starts_with("http://"),
                "{input:?} -> {issuer:?}"
            );
            for forbidden in ['?', '#', '@'] {
                assert!(!issuer.contains(forbidden), "{input:?} -> {issuer:?}");
            }
            let again = AuthKitDomain::parse(issuer).unwrap_or_else(|e| {
                panic!("issuer {issuer:?} (from {input:?}) does not parse: {e}")
            });
            assert_eq!(again.issuer(), issuer, "{input:?}");
            assert_eq!(again, domain, "{input:?}");
            assert_eq!(domain.to_string(), issuer);
            assert_eq!(
                domain.authorize_endpoint().as_str(),
                format!("{issuer}/oauth2/authorize"),
                "{input:?}"
            );
        }
        Err(error) => {
            let _ = format!("{error} {error:?}");
        }
    }
});

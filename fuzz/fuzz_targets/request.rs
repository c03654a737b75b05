//! A whole authorize request from fuzzed settings and secrets.
//!
//! Input: `client_id`, `redirect_uri`, `state`, `nonce` and `scope` (and optionally a PKCE verifier),
//! separated by the byte 0xFF, which never occurs in UTF-8, so each part may be any string. With a
//! sixth part, an empty one means `with_pkce()` and any other is given to `pkce(..)`.
//!
//! When every constructor and `build` accept, the URL must parse as the authorize endpoint of the fixed
//! domain, with exactly the documented parameters in the documented order, each value reading back as
//! the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use url::Url;
use workos_connect::{
    AuthKitDomain, ClientId, ConnectClient, Nonce, PkceVerifier, RedirectUri, Scopes, State,
};

const DOMAIN: &str = "https://example.authkit.app";
const SEPARATOR: u8 = 0xff;

fuzz_target!(|data: &[u8]| {
    let mut parts = Vec::with_capacity(6);
    for part in data.splitn(6, |b| *b == SEPARATOR) {
        let Ok(part) = std::str::from_utf8(part) else {
            return;
        };
        parts.push(part);
    }
    let [client_id, redirect_uri, state, nonce, scope, rest @ ..] = parts.as_slice() else {
        return;
    };
    let pkce = rest.first().copied();

    let Ok(client_id_value) = ClientId::new(client_id) else {
        return;
    };
    let Ok(redirect_uri_value) = RedirectUri::new(redirect_uri) else {
        return;
    };
    let Ok(state_value) = State::new(*state) else {
        return;
    };
    let Ok(nonce_value) = Nonce::new(*nonce) else {
        return;
    };
    let Ok(scopes) = scope.parse::<Scopes>() else {
        return;
    };
    let verifier = match pkce {
        None | Some("") => None,
        Some(text) => match PkceVerifier::new(text) {
            Ok(verifier) => Some(verifier),
            Err(_) => return,
        },
    };

    let domain = AuthKitDomain::parse(DOMAIN).expect("the fixed domain is valid");
    let client = ConnectClient::new(domain, client_id_value, redirect_uri_value);
    let mut request = client
        .authorize()
        .scopes(scopes)
        .state(state_value)
        .nonce(nonce_value);
    request = match (pkce, verifier) {
        (Some(""), _) => request.with_pkce(),
        (_, Some(verifier)) => request.pkce(verifier),
        _ => request,
    };
    let Ok((redirect, pending)) = request.build() else {
        return;
    };

    let text = redirect.as_str();
    let url = Url::parse(text).unwrap_or_else(|e| panic!("built URL {text:?} does not parse: {e}"));
    assert_eq!(url.scheme(), "https", "{text}");
    assert_eq!(url.host_str(), Some("example.authkit.app"), "{text}");
    assert_eq!(url.port(), None, "{text}");
    assert_eq!(url.username(), "", "{text}");
    assert_eq!(url.password(), None, "{text}");
    assert_eq!(url.path(), "/oauth2/authorize", "{text}");
    assert_eq!(url.fragment(), None, "{text}");
    // Already in the form the URL parser writes: nothing for a browser to re-encode.
    assert_eq!(url.as_str(), text);

    let scope_text = scopes.to_string();
    let mut expected: Vec<(&str, String)> = vec![
        ("response_type", "code".to_owned()),
        ("client_id", (*client_id).to_owned()),
        ("redirect_uri", (*redirect_uri).to_owned()),
        ("scope", scope_text),
        ("state", (*state).to_owned()),
        ("nonce", (*nonce).to_owned()),
    ];
    if pkce.is_some() {
        let verifier = pending
            .code_verifier()
            .unwrap_or_else(|| panic!("PKCE requested but no verifier kept: {text}"));
        if let Some(given) = pkce.filter(|given| !given.is_empty()) {
            assert_eq!(verifier.secret(), given);
        }
        expected.push(("code_challenge", verifier.challenge().as_str().to_owned()));
        expected.push(("code_challenge_method", "S256".to_owned()));
    } else {
        assert!(pending.code_verifier().is_none());
    }
    let actual: Vec<(String, String)> = url
        .query_pairs()
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let names: Vec<&str> = actual.iter().map(|(name, _)| name.as_str()).collect();
    let expected_names: Vec<&str> = expected.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, expected_names, "{text}");
    for ((name, value), (_, want)) in actual.iter().zip(&expected) {
        assert_eq!(value, want, "parameter {name} of {text}");
    }

    assert_eq!(pending.client_id().as_str(), *client_id);
    assert_eq!(pending.redirect_uri().as_str(), *redirect_uri);
    assert_eq!(pending.state().map(State::secret), Some(*state));
    assert_eq!(pending.nonce().secret(), *nonce);
});

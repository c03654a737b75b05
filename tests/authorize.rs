//! The authorize URL through the public API: every parameter reads back exactly through `url::Url`, in
//! the documented order, once each, and nothing else is added.

use std::collections::HashSet;

use url::Url;
use workos_connect::{
    AuthKitDomain, ClientId, ConnectClient, Nonce, PkceVerifier, RedirectUri, Scope, Scopes, State,
};

const ORDER: [&str; 8] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
];

fn client(domain: &str, client_id: &str, redirect_uri: &str) -> ConnectClient {
    ConnectClient::new(
        AuthKitDomain::parse(domain).unwrap(),
        ClientId::new(client_id).unwrap(),
        RedirectUri::new(redirect_uri).unwrap(),
    )
}

fn pairs(url: &Url) -> Vec<(String, String)> {
    url.query_pairs().into_owned().collect()
}

#[test]
fn awkward_values_read_back_exactly() {
    let client_id = "client &=+%#?/ ~x";
    let redirect_uri = "https://app.example.com/cb?next=%2Fhome&a=b+c;d";
    let state = "a b&c=d+e%f#g?h/~'\"<>\\^`{|}";
    let nonce = "n+%20=&";
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let client = client("https://acme.authkit.app", client_id, redirect_uri);
    let (redirect, pending) = client
        .authorize()
        .scopes(Scopes::ALL)
        .state(State::new(state).unwrap())
        .nonce(Nonce::new(nonce).unwrap())
        .pkce(PkceVerifier::new(verifier).unwrap())
        .build()
        .unwrap();
    let url = redirect.to_url().unwrap();
    assert_eq!(url.scheme(), "https");
    assert_eq!(url.host_str(), Some("acme.authkit.app"));
    assert_eq!(url.path(), "/oauth2/authorize");
    assert_eq!(url.fragment(), None);
    let expected: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", "openid profile email offline_access"),
        ("state", state),
        ("nonce", nonce),
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    assert_eq!(pairs(&url), expected);
    assert!(redirect
        .as_str()
        .contains("scope=openid%20profile%20email%20offline_access&"));
    assert!(
        !redirect.as_str().contains('+'),
        "spaces must be %20 and `+` encoded"
    );

    assert_eq!(pending.client_id().as_str(), client_id);
    assert_eq!(pending.redirect_uri().as_str(), redirect_uri);
    assert_eq!(pending.state().unwrap().secret(), state);
    assert_eq!(pending.nonce().secret(), nonce);
    assert_eq!(pending.code_verifier().unwrap().secret(), verifier);
}

#[test]
fn defaults_are_openid_fresh_state_fresh_nonce_no_pkce() {
    let client = client(
        "https://acme.authkit.app/oauth2/authorize",
        "client_1",
        "http://127.0.0.1:3000/cb",
    );
    let (redirect, pending) = client.authorize().build().unwrap();
    let url = redirect.to_url().unwrap();
    let pairs = pairs(&url);
    let names: Vec<&str> = pairs.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ORDER[..6]);
    assert_eq!(pairs[3].1, "openid");
    assert_eq!(pairs[4].1, pending.state().unwrap().secret());
    assert_eq!(pairs[5].1, pending.nonce().secret());
    assert_eq!(pairs[4].1.len(), 43);
    assert_eq!(pairs[5].1.len(), 43);
    assert_ne!(pairs[4].1, pairs[5].1);
    assert!(pending.code_verifier().is_none());
}

#[test]
fn every_option_combination_keeps_order_and_uniqueness() {
    let client = client(
        "https://acme.authkit.app",
        "client_1",
        "https://app.example.com/cb",
    );
    for bits in 0..8u8 {
        let mut request = client.authorize().scopes(Scope::OpenId | Scope::Email);
        if bits & 1 != 0 {
            request = request.without_state();
        }
        if bits & 2 != 0 {
            request = request.with_pkce();
        }
        if bits & 4 != 0 {
            request = request.nonce(Nonce::new("given").unwrap());
        }
        let (redirect, pending) = request.build().unwrap();
        let url = redirect.to_url().unwrap();
        let names: Vec<String> = pairs(&url).into_iter().map(|(name, _)| name).collect();
        let positions: Vec<usize> = names
            .iter()
            .map(|name| {
                ORDER
                    .iter()
                    .position(|known| known == name)
                    .expect("known parameter")
            })
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "order/duplicates: {names:?}"
        );
        assert_eq!(names.iter().collect::<HashSet<_>>().len(), names.len());
        assert_eq!(names.contains(&"state".to_owned()), bits & 1 == 0);
        assert_eq!(pending.state().is_some(), bits & 1 == 0);
        assert_eq!(names.contains(&"code_challenge".to_owned()), bits & 2 != 0);
        assert_eq!(
            names.contains(&"code_challenge_method".to_owned()),
            bits & 2 != 0
        );
        assert!(names.contains(&"nonce".to_owned()), "nonce is always sent");
    }
}

#[test]
fn challenge_in_the_url_is_the_kept_verifiers() {
    let client = client(
        "https://acme.authkit.app",
        "client_1",
        "com.example.app:/callback",
    );
    let (redirect, pending) = client.authorize().with_pkce().build().unwrap();
    let url = redirect.to_url().unwrap();
    let challenge = pairs(&url)
        .into_iter()
        .find(|(name, _)| name == "code_challenge")
        .unwrap()
        .1;
    assert_eq!(
        pending.code_verifier().unwrap().challenge().as_str(),
        challenge
    );
}

#[test]
fn response_serializes_as_the_endpoint_documents() {
    let client = client(
        "https://acme.authkit.app",
        "client_1",
        "https://app.example.com/cb",
    );
    let (redirect, _) = client.authorize().build().unwrap();
    let json: serde_json::Value = serde_json::to_value(&redirect).unwrap();
    let object = json.as_object().unwrap();
    assert_eq!(object.len(), 1);
    assert_eq!(object["url"], redirect.as_str());
}

#[test]
fn pending_authorization_serde_round_trip_with_standard_names() {
    let client = client(
        "https://acme.authkit.app",
        "client_1",
        "https://app.example.com/cb",
    );
    let (_, pending) = client.authorize().with_pkce().build().unwrap();
    let json: serde_json::Value = serde_json::to_value(&pending).unwrap();
    let mut keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "client_id",
            "code_verifier",
            "created_at",
            "issuer",
            "nonce",
            "redirect_uri",
            "scope",
            "state"
        ]
    );
    let back: workos_connect::PendingAuthorization = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), json);

    // What is read back is checked like any other input.
    let mut tampered = json;
    tampered["code_verifier"] = "short".into();
    assert!(serde_json::from_value::<workos_connect::PendingAuthorization>(tampered).is_err());
}

#[test]
fn debug_never_shows_a_secret() {
    let client = client(
        "https://acme.authkit.app",
        "client_1",
        "https://app.example.com/cb",
    );
    let (redirect, pending) = client.authorize().with_pkce().build().unwrap();
    let secrets = [
        pending.state().unwrap().secret().to_owned(),
        pending.nonce().secret().to_owned(),
        pending.code_verifier().unwrap().secret().to_owned(),
    ];
    let shown = [
        format!("{redirect:?}"),
        format!("{pending:?}"),
        format!("{:?}", pending.state().unwrap()),
        format!("{:?}", pending.nonce()),
        format!("{:?}", pending.code_verifier().unwrap()),
        format!("{:#?}", pending),
    ];
    for text in &shown {
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "{text}");
        }
    }
    assert!(format!("{redirect:?}").contains("client_id=client_1"));
    assert!(format!("{redirect:?}").contains("state=.."));
}

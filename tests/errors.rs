//! A table of bad inputs, each mapped to the error variant it must give, and messages that say what to fix.

use workos_connect::{
    oauth::{Field, LoginHint, Prompts},
    AuthKitDomain, ClientId, ConnectClient, Error, Nonce, PkceVerifier, RedirectUri, Scope, Scopes,
    State,
};

/// Which constructor an input goes through.
#[derive(Debug, Clone, Copy)]
enum Input {
    Domain,
    ClientId,
    RedirectUri,
    Scopes,
    State,
    Nonce,
    Verifier,
}

fn check(input: Input, value: &str) -> Result<(), Error> {
    match input {
        Input::Domain => AuthKitDomain::parse(value).map(drop),
        Input::ClientId => ClientId::new(value).map(drop),
        Input::RedirectUri => RedirectUri::new(value).map(drop),
        Input::Scopes => value.parse::<Scopes>().map(drop),
        Input::State => State::new(value).map(drop),
        Input::Nonce => Nonce::new(value).map(drop),
        Input::Verifier => PkceVerifier::new(value).map(drop),
    }
}

#[test]
fn each_bad_input_gives_its_variant() {
    let long_state = "s".repeat(513);
    let table: Vec<(Input, &str, Error)> = vec![
        (
            Input::Domain,
            "acme.authkit.app",
            Error::DomainMissingScheme {
                input: "acme.authkit.app".into(),
            },
        ),
        (
            Input::Domain,
            "localhost:3000",
            Error::DomainMissingScheme {
                input: "localhost:3000".into(),
            },
        ),
        (
            Input::Domain,
            "https://",
            Error::DomainNotUrl {
                input: "https://".into(),
                reason: url::ParseError::EmptyHost,
            },
        ),
        (
            Input::Domain,
            "wss://acme.authkit.app",
            Error::DomainScheme {
                scheme: "wss".into(),
            },
        ),
        (
            Input::Domain,
            "http://acme.authkit.app",
            Error::DomainInsecureHttp {
                host: "acme.authkit.app".into(),
            },
        ),
        (
            Input::Domain,
            "https://user@acme.authkit.app",
            Error::DomainUserinfo,
        ),
        (
            Input::Domain,
            "https://acme.authkit.app?x=1",
            Error::DomainQuery {
                query: "x=1".into(),
            },
        ),
        (
            Input::Domain,
            "https://acme.authkit.app#top",
            Error::DomainFragment {
                fragment: "top".into(),
            },
        ),
        (
            Input::Domain,
            "https://acme.authkit.app/login",
            Error::DomainPath {
                path: "/login".into(),
            },
        ),
        (
            Input::Domain,
            "https://acme.authkit.app\n",
            Error::ControlCharacter {
                field: Field::Domain,
                index: 24,
            },
        ),
        (
            Input::Domain,
            " https://acme.authkit.app",
            Error::InvalidCharacter {
                field: Field::Domain,
                index: 0,
            },
        ),
        (Input::ClientId, "", Error::EmptyClientId),
        (
            Input::ClientId,
            "client\u{0}1",
            Error::ControlCharacter {
                field: Field::ClientId,
                index: 6,
            },
        ),
        (
            Input::ClientId,
            "client_é",
            Error::InvalidCharacter {
                field: Field::ClientId,
                index: 7,
            },
        ),
        (
            Input::RedirectUri,
            "callback",
            Error::RedirectUriNotAbsolute {
                input: "callback".into(),
                reason: url::ParseError::RelativeUrlWithoutBase,
            },
        ),
        (
            Input::RedirectUri,
            "",
            Error::RedirectUriNotAbsolute {
                input: "".into(),
                reason: url::ParseError::RelativeUrlWithoutBase,
            },
        ),
        (
            Input::RedirectUri,
            "https://app.example/cb#frag",
            Error::RedirectUriFragment {
                input: "https://app.example/cb#frag".into(),
            },
        ),
        (
            Input::RedirectUri,
            "https://app.example/cb#",
            Error::RedirectUriFragment {
                input: "https://app.example/cb#".into(),
            },
        ),
        (
            Input::RedirectUri,
            "http://app.example/cb",
            Error::RedirectUriInsecureHttp {
                host: "app.example".into(),
            },
        ),
        (
            Input::RedirectUri,
            "http://192.168.1.2/cb",
            Error::RedirectUriInsecureHttp {
                host: "192.168.1.2".into(),
            },
        ),
        (
            Input::RedirectUri,
            "javascript:alert(1)",
            Error::RedirectUriScheme {
                scheme: "javascript".into(),
            },
        ),
        (
            Input::RedirectUri,
            "data:text/html,x",
            Error::RedirectUriScheme {
                scheme: "data".into(),
            },
        ),
        (
            Input::RedirectUri,
            "https://app.example/c b",
            Error::InvalidCharacter {
                field: Field::RedirectUri,
                index: 21,
            },
        ),
        (
            Input::RedirectUri,
            "https://app.example/\r\ncb",
            Error::ControlCharacter {
                field: Field::RedirectUri,
                index: 20,
            },
        ),
        (Input::Scopes, " ", Error::ScopeSeparator { index: 0 }),
        (
            Input::Scopes,
            "openid admin",
            Error::UnknownScope {
                token: "admin".into(),
            },
        ),
        (
            Input::Scopes,
            "OPENID",
            Error::UnknownScope {
                token: "OPENID".into(),
            },
        ),
        (
            Input::Scopes,
            "email email",
            Error::DuplicateScope {
                scope: Scope::Email,
            },
        ),
        (
            Input::Scopes,
            "openid,email",
            Error::UnknownScope {
                token: "openid,email".into(),
            },
        ),
        (
            Input::Scopes,
            "openid  email",
            Error::ScopeSeparator { index: 7 },
        ),
        (
            Input::Scopes,
            "openid\nemail",
            Error::ControlCharacter {
                field: Field::Scope,
                index: 6,
            },
        ),
        (
            Input::State,
            "",
            Error::Length {
                field: Field::State,
                len: 0,
                min: 1,
                max: 512,
            },
        ),
        (
            Input::State,
            &long_state,
            Error::Length {
                field: Field::State,
                len: 513,
                min: 1,
                max: 512,
            },
        ),
        (
            Input::State,
            "ab\u{7f}",
            Error::ControlCharacter {
                field: Field::State,
                index: 2,
            },
        ),
        (
            Input::State,
            "\u{202e}abc",
            Error::InvalidCharacter {
                field: Field::State,
                index: 0,
            },
        ),
        (
            Input::Nonce,
            "",
            Error::Length {
                field: Field::Nonce,
                len: 0,
                min: 1,
                max: 512,
            },
        ),
        (
            Input::Nonce,
            "n\u{1f600}",
            Error::InvalidCharacter {
                field: Field::Nonce,
                index: 1,
            },
        ),
        (
            Input::Verifier,
            "short",
            Error::Length {
                field: Field::CodeVerifier,
                len: 5,
                min: 43,
                max: 128,
            },
        ),
        (
            Input::Verifier,
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX=",
            Error::InvalidCharacter {
                field: Field::CodeVerifier,
                index: 42,
            },
        ),
        (
            Input::Verifier,
            "dBjftJeZ4CVP mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            Error::InvalidCharacter {
                field: Field::CodeVerifier,
                index: 12,
            },
        ),
    ];
    for (input, value, expected) in table {
        assert_eq!(check(input, value), Err(expected), "{input:?} {value:?}");
    }
}

#[test]
fn scope_rules_are_checked_when_the_request_is_built() {
    let client = ConnectClient::new(
        "https://acme.authkit.app".parse().unwrap(),
        "client_1".parse().unwrap(),
        "https://app.example/cb".parse().unwrap(),
    );
    for (scopes, expected) in [
        (
            Scopes::from(Scope::Profile),
            Error::ScopeRequiresOpenId {
                scope: Scope::Profile,
            },
        ),
        (
            Scope::Email | Scope::OfflineAccess,
            Error::ScopeRequiresOpenId {
                scope: Scope::Email,
            },
        ),
        (Scopes::EMPTY, Error::EmptyScope),
        ("".parse().unwrap(), Error::EmptyScope),
    ] {
        assert_eq!(
            client.authorize().scopes(scopes).build().unwrap_err(),
            expected
        );
    }
}

#[test]
fn messages_name_the_value_or_rule_and_the_fix() {
    let cases: Vec<(Error, &[&str])> = vec![
        (
            AuthKitDomain::parse("acme.authkit.app").unwrap_err(),
            &["https://acme.authkit.app"],
        ),
        (
            RedirectUri::new("http://app.example/cb").unwrap_err(),
            &["app.example", "https", "loopback"],
        ),
        (
            "openid admin".parse::<Scopes>().unwrap_err(),
            &["\"admin\"", "openid", "offline_access"],
        ),
        (
            PkceVerifier::new("short").unwrap_err(),
            &["code_verifier", "5", "43 to 128"],
        ),
        (
            State::new("\u{202e}").unwrap_err(),
            &["state", "byte 0", "%x20-7E"],
        ),
        (ClientId::new("").unwrap_err(), &["client_id", "empty"]),
        // Look-alike characters are escaped, so that the message cannot show a valid-looking name.
        (
            "openid\u{a0}email".parse::<Scopes>().unwrap_err(),
            &["\"openid\\u{a0}email\""],
        ),
        (
            "none login".parse::<Prompts>().unwrap_err(),
            &["`none`", "`login`", "send one or the other"],
        ),
        (
            "login Consent".parse::<Prompts>().unwrap_err(),
            &["\"Consent\"", "`consent`", "`select_account`"],
        ),
        (
            LoginHint::new("").unwrap_err(),
            &["login_hint", "0 characters", "1 to 256"],
        ),
    ];
    for (error, fragments) in cases {
        let message = error.to_string();
        for fragment in fragments {
            assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
        }
    }
}

#[test]
fn errors_about_secrets_never_quote_them() {
    let secret = "super-secret-value-\u{202e}";
    for error in [
        State::new(secret).unwrap_err(),
        Nonce::new(secret).unwrap_err(),
        PkceVerifier::new(secret).unwrap_err(),
    ] {
        assert!(!error.to_string().contains("super-secret"), "{error}");
        assert!(!format!("{error:?}").contains("super-secret"), "{error:?}");
    }
}

#[test]
fn errors_about_login_hints_never_quote_them() {
    for hint in [
        "ada@example.com\n".to_owned(),
        "ada@example.com\u{202e}".to_owned(),
        format!("ada@example.com{}", "x".repeat(300)),
    ] {
        let error = LoginHint::new(&hint).unwrap_err();
        assert!(!error.to_string().contains("ada"), "{error}");
        assert!(!format!("{error:?}").contains("ada"), "{error:?}");
        assert!(error.to_string().contains("login_hint"), "{error}");
    }
}

//! Property tests: every constructor either accepts its input or refuses it with a documented error,
//! accepted inputs come back exactly from the authorize URL, scopes print and parse back, secrets accept
//! exactly their alphabet, domains yield clean issuers, a callback yields a code only for the
//! login's own state, a device login's user code is taken only when a terminal can show it, and a
//! login hint is taken whole or refused at a position.
//!
//! Each property runs at least 10,000 cases; `PROPTEST_CASES` raises that, never lowers it.

use std::collections::HashSet;
use std::net::Ipv6Addr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{TestCaseError, TestRunner};
use sha2::{Digest, Sha256};
use url::{Host, Url};
use workos_connect::{
    oauth::Field, AuthKitDomain, ClientId, ConnectClient, Error, Nonce, PkceVerifier, RedirectUri,
    Scope, Scopes, State,
};

/// At least 10,000 cases, or more when `PROPTEST_CASES` asks for more. No failure files are written:
/// a failure prints its shrunk input instead.
fn config() -> ProptestConfig {
    let from_env = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.trim().parse::<u32>().ok())
        .unwrap_or(0);
    ProptestConfig {
        cases: from_env.max(10_000),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------------

/// Characters that break naive encoders, parsers or displays.
const TRICKY: &[char] = &[
    '&', '=', '#', '+', '%', '?', '/', ':', '@', '[', ']', ' ', '\r', '\n', '\0', '\t', '\\', '"',
    '\u{7f}', '\u{85}', '\u{202E}', '\u{200F}', '\u{FEFF}', '😀', '🦀', 'é', 'ß', 'a', 'Z', '0',
    '9', '-', '.', '_', '~',
];

fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::sample::select(TRICKY),
        4 => proptest::char::ranges(vec!['a'..='z', 'A'..='Z', '0'..='9'].into()),
        1 => any::<char>(),
    ]
}

/// Up to `max` characters, mostly from [`TRICKY`] and ASCII letters and digits.
fn tricky_string(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(tricky_char(), 0..=max).prop_map(|chars| chars.into_iter().collect())
}

/// Long text, up to about 10 kB: arbitrary characters, or a short tricky piece repeated.
fn long_text() -> BoxedStrategy<String> {
    prop_oneof![
        ".{0,2500}",
        (tricky_string(8), 1..1300usize).prop_map(|(piece, times)| piece.repeat(times)),
        ("[ -~]{1,4}", 100..2500usize).prop_map(|(piece, times)| piece.repeat(times)),
    ]
    .boxed()
}

/// Text for `client_id`, `state` and `nonce`: mostly printable ASCII (which they accept), with
/// arbitrary, tricky, long and around-the-limit strings mixed in.
fn text() -> BoxedStrategy<String> {
    prop_oneof![
        14 => "[ -~]{1,40}",
        1 => "[ -~]{505,520}",
        2 => tricky_string(24),
        1 => any::<String>(),
        1 => long_text(),
    ]
    .boxed()
}

/// The text after a redirect URI's scheme and host: mostly URI characters and `%HH` escapes.
fn uri_tail() -> BoxedStrategy<String> {
    prop_oneof![
        12 => "([A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2}){0,40}",
        1 => "[ -~]{0,20}",
        1 => tricky_string(16),
    ]
    .boxed()
}

/// Redirect URIs, mostly valid ones of each accepted kind.
fn redirect_uri() -> BoxedStrategy<String> {
    let loopback = proptest::sample::select(vec!["127.0.0.1", "localhost", "[::1]", "LOCALHOST"]);
    prop_oneof![
        6 => uri_tail().prop_map(|tail| format!("https://app.example.com/{tail}")),
        3 => (loopback, any::<u16>(), uri_tail())
            .prop_map(|(host, port, tail)| format!("http://{host}:{port}/{tail}")),
        3 => uri_tail().prop_map(|tail| format!("com.example.app:/{tail}")),
        1 => "[a-zA-Z][a-zA-Z0-9+.-]{0,10}:[ -~]{0,30}",
        1 => "(https?|com\\.example\\.app):(//)?[ -~]{0,30}",
        1 => text(),
    ]
    .boxed()
}

// ---------------------------------------------------------------------------------------------------
// Shared checks
// ---------------------------------------------------------------------------------------------------

/// The character starting at byte `index` of `input`, if `index` is a character boundary within it.
fn char_at(input: &str, index: usize) -> Option<char> {
    input.get(index..).and_then(|rest| rest.chars().next())
}

fn is_vschar(c: char) -> bool {
    (' '..='~').contains(&c)
}

fn is_unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
}

/// Checks the position-carrying errors shared by several inputs: the position must point at a character
/// of the kind the error names.
fn check_position(
    error: &Error,
    input: &str,
    allowed: impl Fn(char) -> bool,
) -> Result<(), TestCaseError> {
    match error {
        Error::ControlCharacter { index, .. } => {
            let c = char_at(input, *index);
            prop_assert!(
                c.is_some_and(char::is_control),
                "{error:?}: byte {index} is {c:?}"
            );
            prop_assert!(
                input
                    .get(..*index)
                    .is_some_and(|before| !before.chars().any(char::is_control)),
                "{error:?}: not the first control character"
            );
        }
        Error::InvalidCharacter { index, .. } => {
            let c = char_at(input, *index);
            prop_assert!(
                c.is_some_and(|c| !allowed(c) && !c.is_control()),
                "{error:?}: byte {index} is {c:?}"
            );
        }
        _ => {}
    }
    prop_assert!(
        !error.to_string().is_empty(),
        "{error:?} has an empty message"
    );
    Ok(())
}

fn check_client_id_error(error: &Error, input: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        matches!(
            error,
            Error::EmptyClientId
                | Error::ControlCharacter {
                    field: Field::ClientId,
                    ..
                }
                | Error::InvalidCharacter {
                    field: Field::ClientId,
                    ..
                }
        ),
        "undocumented client_id error for {input:?}: {error:?}"
    );
    check_position(error, input, is_vschar)
}

fn check_redirect_uri_error(error: &Error, input: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        matches!(
            error,
            Error::ControlCharacter {
                field: Field::RedirectUri,
                ..
            } | Error::InvalidCharacter {
                field: Field::RedirectUri,
                ..
            } | Error::RedirectUriPercentEncoding { .. }
                | Error::RedirectUriNotAbsolute { .. }
                | Error::RedirectUriFragment { .. }
                | Error::RedirectUriUserinfo
                | Error::RedirectUriMissingAuthority { .. }
                | Error::RedirectUriHostNotCanonical { .. }
                | Error::RedirectUriInsecureHttp { .. }
                | Error::RedirectUriScheme { .. }
                | Error::RedirectUriResponseParameter { .. }
        ),
        "undocumented redirect_uri error for {input:?}: {error:?}"
    );
    if let Error::RedirectUriPercentEncoding { index } = error {
        prop_assert_eq!(char_at(input, *index), Some('%'), "{:?}", error);
    }
    let uri_char = |c: char| {
        c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c) && c.is_ascii()
    };
    check_position(error, input, uri_char)
}

/// Checks a refused `state`, `nonce` or `code_verifier`: one of the three documented variants, about
/// `field`, and a message that does not show the secret.
fn check_secret_error(
    error: &Error,
    input: &str,
    field: Field,
    allowed: impl Fn(char) -> bool,
    min: usize,
    max: usize,
) -> Result<(), TestCaseError> {
    match error {
        Error::ControlCharacter { field: f, .. } | Error::InvalidCharacter { field: f, .. } => {
            prop_assert_eq!(*f, field, "{:?}", error);
        }
        Error::Length {
            field: f,
            len,
            min: error_min,
            max: error_max,
        } => {
            prop_assert_eq!(*f, field, "{:?}", error);
            prop_assert_eq!(*len, input.chars().count(), "{:?}", error);
            prop_assert_eq!((*error_min, *error_max), (min, max), "{:?}", error);
            prop_assert!(!(min..=max).contains(len), "{:?}", error);
        }
        other => prop_assert!(false, "undocumented {field} error: {other:?}"),
    }
    check_position(error, input, allowed)?;
    if input.chars().count() >= 4 {
        let shown = error.to_string();
        let debug = format!("{error:?}");
        prop_assert!(
            !shown.contains(input),
            "{field} error shows the secret: {shown}"
        );
        prop_assert!(
            !debug.contains(input),
            "{field} error shows the secret: {debug}"
        );
    }
    Ok(())
}

fn check_state_error(error: &Error, input: &str, field: Field) -> Result<(), TestCaseError> {
    check_secret_error(error, input, field, is_vschar, 1, 512)
}

fn check_verifier_error(error: &Error, input: &str) -> Result<(), TestCaseError> {
    check_secret_error(error, input, Field::CodeVerifier, is_unreserved, 43, 128)
}

/// The `S256` challenge of `verifier`, computed independently of the crate.
fn reference_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

// ---------------------------------------------------------------------------------------------------
// Property 1: build round trips or fails with a documented error
// ---------------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct BuildCase {
    client_id: String,
    redirect_uri: String,
    state: String,
    nonce: String,
    pkce: bool,
}

fn build_case() -> impl Strategy<Value = BuildCase> {
    (text(), redirect_uri(), text(), text(), any::<bool>()).prop_map(
        |(client_id, redirect_uri, state, nonce, pkce)| BuildCase {
            client_id,
            redirect_uri,
            state,
            nonce,
            pkce,
        },
    )
}

/// How far a case got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Built,
    RefusedClientId,
    RefusedRedirectUri,
    RefusedState,
    RefusedNonce,
}

/// Characters a query written by `build` may hold: unreserved ones, escapes and the separators.
fn is_strict_query_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'%' | b'&' | b'=')
}

fn check_build(case: &BuildCase) -> Result<Outcome, TestCaseError> {
    let client_id = match ClientId::new(&case.client_id) {
        Ok(client_id) => client_id,
        Err(error) => {
            check_client_id_error(&error, &case.client_id)?;
            return Ok(Outcome::RefusedClientId);
        }
    };
    let redirect_uri = match RedirectUri::new(&case.redirect_uri) {
        Ok(redirect_uri) => redirect_uri,
        Err(error) => {
            check_redirect_uri_error(&error, &case.redirect_uri)?;
            return Ok(Outcome::RefusedRedirectUri);
        }
    };
    let state = match State::new(case.state.as_str()) {
        Ok(state) => state,
        Err(error) => {
            check_state_error(&error, &case.state, Field::State)?;
            return Ok(Outcome::RefusedState);
        }
    };
    let nonce = match Nonce::new(case.nonce.as_str()) {
        Ok(nonce) => nonce,
        Err(error) => {
            check_state_error(&error, &case.nonce, Field::Nonce)?;
            return Ok(Outcome::RefusedNonce);
        }
    };

    let domain = AuthKitDomain::parse("https://example.authkit.app")
        .map_err(|error| TestCaseError::fail(format!("fixed domain refused: {error}")))?;
    let client = ConnectClient::new(domain, client_id, redirect_uri);
    let mut request = client
        .authorize()
        .scopes(Scopes::ALL)
        .state(state)
        .nonce(nonce);
    if case.pkce {
        request = request.with_pkce();
    }
    let (response, pending) = match request.build() {
        Ok(built) => built,
        Err(error) => {
            return Err(TestCaseError::fail(format!(
                "build refused valid inputs with {error:?}"
            )))
        }
    };

    let url = Url::parse(response.as_str())
        .map_err(|error| TestCaseError::fail(format!("{error}: {}", response.as_str())))?;
    prop_assert_eq!(url.scheme(), "https");
    prop_assert_eq!(url.host_str(), Some("example.authkit.app"));
    prop_assert_eq!(url.port(), None);
    prop_assert_eq!(url.path(), "/oauth2/authorize");
    prop_assert_eq!(url.fragment(), None);
    prop_assert_eq!(response.to_url().ok(), Some(url.clone()));
    let query = url.query().unwrap_or_default();
    prop_assert!(
        query.bytes().all(is_strict_query_byte),
        "query is not strictly percent-encoded: {}",
        query
    );

    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let names: Vec<&str> = pairs.iter().map(|(name, _)| name.as_str()).collect();
    let mut expected_names = vec![
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
    ];
    if case.pkce {
        expected_names.extend(["code_challenge", "code_challenge_method"]);
    }
    prop_assert_eq!(&names, &expected_names);
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    prop_assert_eq!(value("response_type"), Some("code"));
    prop_assert_eq!(value("client_id"), Some(case.client_id.as_str()));
    prop_assert_eq!(value("redirect_uri"), Some(case.redirect_uri.as_str()));
    prop_assert_eq!(value("scope"), Some("openid profile email offline_access"));
    prop_assert_eq!(value("state"), Some(case.state.as_str()));
    prop_assert_eq!(value("nonce"), Some(case.nonce.as_str()));

    prop_assert_eq!(pending.client_id().as_str(), case.client_id.as_str());
    prop_assert_eq!(pending.redirect_uri().as_str(), case.redirect_uri.as_str());
    prop_assert_eq!(
        pending.state().map(State::secret),
        Some(case.state.as_str())
    );
    prop_assert_eq!(pending.nonce().secret(), case.nonce.as_str());
    match pending.code_verifier() {
        Some(verifier) => {
            prop_assert!(case.pkce, "a verifier without PKCE");
            let secret = verifier.secret();
            prop_assert_eq!(secret.len(), 43);
            prop_assert!(secret.chars().all(is_unreserved), "verifier {}", secret);
            let challenge = reference_challenge(secret);
            prop_assert_eq!(value("code_challenge"), Some(challenge.as_str()));
            prop_assert_eq!(verifier.challenge().to_string(), challenge.as_str());
            prop_assert_eq!(value("code_challenge_method"), Some("S256"));
        }
        None => prop_assert!(!case.pkce, "PKCE requested but no verifier kept"),
    }
    Ok(Outcome::Built)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn build_round_trips_or_fails_with_a_documented_error(case in build_case()) {
        check_build(&case)?;
    }
}

/// The strategies of the property above must reach `build` often, and be refused often too; this
/// samples them with a fixed seed and prints the shares (`--nocapture` to see them).
#[test]
fn build_property_exercises_successes_and_failures() {
    const SAMPLES: usize = 10_000;
    let mut runner = TestRunner::deterministic();
    let strategy = build_case();
    let mut counts = [0usize; 5];
    for _ in 0..SAMPLES {
        let case = strategy
            .new_tree(&mut runner)
            .map(|tree| tree.current())
            .unwrap_or_else(|reason| panic!("cannot draw a case: {reason}"));
        let outcome = check_build(&case).unwrap_or_else(|error| panic!("{error}: {case:?}"));
        counts[outcome as usize] += 1;
    }
    let share = |count: usize| count as f64 / SAMPLES as f64;
    println!(
        "built {:.1}%, refused: client_id {:.1}%, redirect_uri {:.1}%, state {:.1}%, nonce {:.1}%",
        100.0 * share(counts[0]),
        100.0 * share(counts[1]),
        100.0 * share(counts[2]),
        100.0 * share(counts[3]),
        100.0 * share(counts[4]),
    );
    assert!(share(counts[0]) >= 0.25, "too few cases built: {counts:?}");
    assert!(
        share(counts[0]) <= 0.75,
        "too few cases refused: {counts:?}"
    );
    assert!(
        counts[1..].iter().all(|&count| count >= SAMPLES / 100),
        "some constructor is rarely refused: {counts:?}"
    );
}

// ---------------------------------------------------------------------------------------------------
// Property 2: scopes print and parse back
// ---------------------------------------------------------------------------------------------------

/// The wire names in canonical order, written out independently of the crate.
const WIRE_NAMES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// The set's canonical wire form: its names in canonical order, separated by single spaces.
fn canonical(scopes: Scopes) -> String {
    Scope::ALL
        .iter()
        .zip(WIRE_NAMES)
        .filter(|(scope, _)| scopes.contains(**scope))
        .map(|(_, name)| name)
        .collect::<Vec<_>>()
        .join(" ")
}

fn scopes_from_mask(mask: u8) -> Scopes {
    Scope::ALL
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, scope)| *scope)
        .collect()
}

/// Strings that look like scope lists: names (some wrong), joined by good and bad separators.
fn scope_string() -> BoxedStrategy<String> {
    let token = proptest::sample::select(vec![
        "openid",
        "profile",
        "email",
        "offline_access",
        "OpenID",
        "openid\u{0}",
        "emai",
        "",
        "x",
    ]);
    let separator = proptest::sample::select(vec![" ", " ", " ", "  ", "\t", ",", "+", "\u{a0}"]);
    prop_oneof![
        4 => proptest::collection::vec((token, separator), 0..6).prop_map(|parts| {
            let mut out = String::new();
            for (i, (token, separator)) in parts.iter().enumerate() {
                if i > 0 {
                    out.push_str(separator);
                }
                out.push_str(token);
            }
            out
        }),
        2 => proptest::sample::subsequence(WIRE_NAMES.to_vec(), 0..=4).prop_map(|names| names.join(" ")),
        2 => any::<String>(),
        1 => tricky_string(30),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn scope_print_parse_is_identity(
        mask in 0u8..16,
        picks in proptest::collection::vec(proptest::sample::select(Scope::ALL.to_vec()), 0..8),
        input in scope_string(),
    ) {
        // Any subset, from a mask.
        let from_mask = scopes_from_mask(mask);
        prop_assert_eq!(from_mask.len(), mask.count_ones() as usize);
        let printed = from_mask.to_string();
        prop_assert_eq!(&printed, &canonical(from_mask));
        prop_assert_eq!(printed.parse::<Scopes>(), Ok(from_mask));
        prop_assert!(from_mask.iter().eq(Scope::ALL.into_iter().filter(|s| from_mask.contains(*s))));

        // Any subset, from a sample with repeats, in any order.
        let from_picks: Scopes = picks.iter().copied().collect();
        let distinct: HashSet<Scope> = picks.iter().copied().collect();
        prop_assert_eq!(from_picks.len(), distinct.len());
        prop_assert!(picks.iter().all(|scope| from_picks.contains(*scope)));
        prop_assert_eq!(from_picks.to_string().parse::<Scopes>(), Ok(from_picks));

        // Any string: an error, or a set whose canonical form reads back.
        match input.parse::<Scopes>() {
            Ok(scopes) => {
                let printed = scopes.to_string();
                prop_assert_eq!(&printed, &canonical(scopes));
                prop_assert_eq!(printed.parse::<Scopes>(), Ok(scopes));
                let mut tokens: Vec<&str> =
                    if input.is_empty() { Vec::new() } else { input.split(' ').collect() };
                tokens.sort_unstable();
                let mut names: Vec<&str> = scopes.iter().map(Scope::as_str).collect();
                names.sort_unstable();
                prop_assert_eq!(tokens, names, "{:?} parsed as {}", input, printed);
            }
            Err(error) => {
                prop_assert!(
                    matches!(
                        error,
                        Error::ControlCharacter { field: Field::Scope, .. }
                            | Error::UnknownScope { .. }
                            | Error::DuplicateScope { .. }
                            | Error::ScopeSeparator { .. }
                    ),
                    "undocumented scope error for {:?}: {:?}", input, error
                );
                prop_assert!(!error.to_string().is_empty());
            }
        }
        if let Some(mask) = (0u8..16).find(|&mask| canonical(scopes_from_mask(mask)) == input) {
            let scopes = input.parse::<Scopes>();
            prop_assert_eq!(scopes, Ok(scopes_from_mask(mask)));
            prop_assert_eq!(scopes_from_mask(mask).to_string(), input);
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Property 3: secrets accept exactly their alphabet
// ---------------------------------------------------------------------------------------------------

/// Strings around both secrets' alphabets and length limits.
fn secret_input() -> BoxedStrategy<String> {
    prop_oneof![
        2 => any::<String>(),
        2 => "[ -~]{0,40}",
        2 => "[ -~]{505,520}",
        2 => "[A-Za-z0-9._~-]{38,48}",
        2 => "[A-Za-z0-9._~-]{123,133}",
        1 => "[A-Za-z0-9._~-]{0,140}",
        2 => ("[A-Za-z0-9._~-]{20,140}", any::<prop::sample::Index>(), tricky_char()).prop_map(
            |(mut base, at, c)| {
                base.insert(at.index(base.len() + 1), c);
                base
            }
        ),
        2 => tricky_string(140),
        1 => long_text(),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn secrets_accept_exactly_their_alphabet(input in secret_input()) {
        let chars = input.chars().count();
        let vschar_ok = (1..=512).contains(&chars) && input.chars().all(is_vschar);
        let verifier_ok = (43..=128).contains(&chars) && input.chars().all(is_unreserved);

        match State::new(input.as_str()) {
            Ok(state) => {
                prop_assert!(vschar_ok, "state {:?} accepted", input);
                prop_assert_eq!(state.secret(), input.as_str());
                prop_assert!(state.matches(&input));
            }
            Err(error) => {
                prop_assert!(!vschar_ok, "state {:?} refused: {}", input, error);
                check_state_error(&error, &input, Field::State)?;
            }
        }
        prop_assert_eq!(input.parse::<State>().is_ok(), vschar_ok);

        match Nonce::new(input.clone()) {
            Ok(nonce) => {
                prop_assert!(vschar_ok, "nonce {:?} accepted", input);
                prop_assert_eq!(nonce.secret(), input.as_str());
            }
            Err(error) => {
                prop_assert!(!vschar_ok, "nonce {:?} refused: {}", input, error);
                check_state_error(&error, &input, Field::Nonce)?;
            }
        }

        match PkceVerifier::new(input.as_str()) {
            Ok(verifier) => {
                prop_assert!(verifier_ok, "verifier {:?} accepted", input);
                prop_assert_eq!(verifier.secret(), input.as_str());
                prop_assert_eq!(verifier.challenge().to_string(), reference_challenge(&input));
            }
            Err(error) => {
                prop_assert!(!verifier_ok, "verifier {:?} refused: {}", input, error);
                check_verifier_error(&error, &input)?;
            }
        }
        prop_assert_eq!(input.parse::<PkceVerifier>().is_ok(), verifier_ok);
    }
}

// ---------------------------------------------------------------------------------------------------
// Property 4: domains parse without panicking and yield clean issuers
// ---------------------------------------------------------------------------------------------------

fn host() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "[a-z0-9]{1,12}\\.authkit\\.app",
        2 => "[a-zA-Z0-9.-]{1,30}",
        3 => proptest::sample::select(vec![
            "localhost", "LocalHost", "localhost.", "127.0.0.1", "127.1", "127.255.255.254",
            "0x7f.1", "2130706433", "0177.0.0.1", "[::1]", "[0:0:0:0:0:0:0:1]", "[::2]",
            "[::ffff:127.0.0.1]", "10.0.0.1", "example.authkit.app.", "xn--nxasmq6b.example",
            "xn--a.example", "%65xample.com", "exa%mple.com", "", "[", "[::1", "a..b",
        ])
        .prop_map(str::to_owned),
        1 => "[ -~]{0,20}",
        1 => tricky_string(10),
    ]
    .boxed()
}

fn domain_input() -> BoxedStrategy<String> {
    let scheme = proptest::sample::select(vec![
        "https://", "https://", "http://", "HTTPS://", "Http://", "ftp://", "https:", "https:/", "",
    ]);
    let port = proptest::option::of(any::<u16>());
    let suffix = proptest::sample::select(vec![
        "",
        "",
        "/",
        "/oauth2/authorize",
        "?x",
        "#y",
        "@",
        "/x",
        "/oauth2/authorize/",
        "/oauth2/authorize?x",
        "/./",
        "/oauth2/../oauth2/authorize",
        "\\",
        "\\x",
        "/%2e/",
        ":",
        "?",
        "#",
    ]);
    let userinfo = proptest::sample::select(vec!["", "", "", "", "user@", "user:pass@", "@"]);
    prop_oneof![
        6 => (scheme, userinfo, host(), port, suffix).prop_map(|(scheme, userinfo, host, port, suffix)| {
            let port = port.map(|port| format!(":{port}")).unwrap_or_default();
            format!("{scheme}{userinfo}{host}{port}{suffix}")
        }),
        1 => ("https://", "[ -~]{0,40}").prop_map(|(scheme, rest)| format!("{scheme}{rest}")),
        1 => "[ -~]{0,40}",
        1 => any::<String>(),
    ]
    .boxed()
}

fn is_loopback(host: Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name == "localhost",
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip == Ipv6Addr::LOCALHOST,
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn domain_parse_never_panics_and_yields_clean_issuers(input in domain_input()) {
        match AuthKitDomain::parse(&input) {
            Ok(domain) => {
                let issuer = domain.issuer();
                prop_assert!(
                    issuer.starts_with("https://") || issuer.starts_with("http://"),
                    "{:?} gave issuer {:?}", input, issuer
                );
                prop_assert!(
                    !issuer.contains(['?', '#', '@']) && !issuer.ends_with('/'),
                    "{:?} gave issuer {:?}", input, issuer
                );
                prop_assert_eq!(domain.to_string(), issuer);
                let again = AuthKitDomain::parse(issuer);
                prop_assert_eq!(
                    again.as_ref().map(AuthKitDomain::issuer),
                    Ok(issuer),
                    "{:?} gave issuer {:?}", input, issuer
                );
                prop_assert_eq!(
                    domain.authorize_endpoint().to_string(),
                    format!("{issuer}/oauth2/authorize")
                );

                let parsed = Url::parse(issuer)
                    .map_err(|error| TestCaseError::fail(format!("issuer {issuer:?}: {error}")))?;
                let host = parsed.host().ok_or_else(|| TestCaseError::fail("issuer without host"))?;
                if parsed.scheme() == "http" {
                    prop_assert!(is_loopback(host), "http accepted for {:?} ({:?})", input, issuer);
                }
                // A DNS name, and a port something can listen on.
                if let Some(Host::Domain(name)) = parsed.host() {
                    prop_assert!(
                        name.split('.').all(|label| !label.is_empty()
                            && label.len() <= 63
                            && !label.starts_with('-')
                            && !label.ends_with('-')),
                        "{:?} accepted with host {:?}", input, name
                    );
                }
                prop_assert_ne!(parsed.port(), Some(0), "{:?} accepted with port 0", input);
                // The input's own path, as a URL parser (and a browser) reads it: only the bare origin
                // or the authorize endpoint are accepted.
                let path = Url::parse(&input).map(|url| url.path().to_owned());
                prop_assert!(
                    matches!(path.as_deref(), Ok("/" | "/oauth2/authorize")),
                    "{:?} accepted with path {:?}", input, path
                );
            }
            Err(error) => {
                prop_assert!(
                    matches!(
                        error,
                        Error::ControlCharacter { field: Field::Domain, .. }
                            | Error::InvalidCharacter { field: Field::Domain, .. }
                            | Error::DomainMissingScheme { .. }
                            | Error::DomainNotUrl { .. }
                            | Error::DomainScheme { .. }
                            | Error::DomainInsecureHttp { .. }
                            | Error::DomainUserinfo
                            | Error::DomainQuery { .. }
                            | Error::DomainFragment { .. }
                            | Error::DomainTrailingDot { .. }
                            | Error::DomainHost { .. }
                            | Error::DomainEmptyLabel { .. }
                            | Error::DomainLabelHyphen { .. }
                            | Error::DomainLabelLength { .. }
                            | Error::DomainPort
                            | Error::DomainPath { .. }
                    ),
                    "undocumented domain error for {:?}: {:?}", input, error
                );
                prop_assert!(!error.to_string().is_empty());
                // A refused domain with user information must not echo it: it may hold a password.
                if input.contains('@') && input.chars().count() >= 4 {
                    prop_assert!(!error.to_string().contains(&input), "{}", error);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Property 5: generated secrets are distinct and well formed
// ---------------------------------------------------------------------------------------------------

#[test]
fn generated_secrets_are_distinct_and_well_formed() {
    const DRAWS: usize = 100_000;
    let mut seen = HashSet::with_capacity(DRAWS);
    for _ in 0..DRAWS {
        let state = State::generate();
        let secret = state.secret();
        assert_eq!(secret.len(), 43, "{secret}");
        assert!(
            secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{secret}"
        );
        // Canonical unpadded base64url of 32 bytes: the decoder refuses stray trailing bits.
        let decoded = URL_SAFE_NO_PAD.decode(secret);
        assert_eq!(decoded.map(|bytes| bytes.len()), Ok(32), "{secret}");
        assert!(seen.insert(secret.to_owned()), "duplicate state {secret}");
    }
}

// ---------------------------------------------------------------------------------------------------
// Callback checks
// ---------------------------------------------------------------------------------------------------

const PENDING_STATE: &str = "st&te=1 +%";

/// A login whose `state` needs escaping, for the callback properties.
fn callback_pending() -> workos_connect::PendingAuthorization {
    let client = ConnectClient::new(
        "https://example.authkit.app".parse().unwrap(),
        "client_1".parse().unwrap(),
        "https://app.example/cb".parse().unwrap(),
    );
    let (_, pending) = client
        .authorize()
        .state(State::new(PENDING_STATE).unwrap())
        .build()
        .unwrap();
    pending
}

/// Query strings: arbitrary text, or `name=value` pairs over the names the check reads, whose values are
/// sometimes the pending login's state (raw or encoded) and sometimes near misses.
fn callback_query() -> BoxedStrategy<String> {
    let name = prop_oneof![
        Just("code"),
        Just("state"),
        Just("iss"),
        Just("error"),
        Just("error_description"),
        Just("other"),
        Just("st%61te"),
    ];
    let value = prop_oneof![
        text(),
        Just("st%26te%3D1%20%2B%25".to_owned()),
        Just("st%26te%3D1+%2B%25".to_owned()),
        Just("st&te=1 +%".to_owned()),
        Just("st%26te%3D1%20%2B".to_owned()),
        Just("https%3A%2F%2Fexample.authkit.app".to_owned()),
        Just(String::new()),
    ];
    let pairs = prop::collection::vec((name, value), 0..6).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("&")
    });
    // A genuine callback with arbitrary parameters around it, so that many cases come close to valid.
    let near_valid = ("[a-zA-Z0-9%+._~-]{0,12}", pairs.clone(), pairs.clone()).prop_map(
        |(code, before, after)| format!("{before}&code={code}&state=st%26te%3D1%20%2B%25&{after}"),
    );
    prop_oneof![text(), pairs, near_valid].boxed()
}

proptest! {
    #![proptest_config(config())]

    /// Whatever the query, the check never panics, and it yields a code only when the query holds
    /// exactly one `state` equal to the login's and exactly one `code` of 1 to 4096 VSCHAR.
    #[test]
    fn callback_yields_a_code_only_for_the_matching_state(query in callback_query()) {
        let pending = callback_pending();
        if let Ok(code) = pending.callback().check(&query) {
            let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
            let values = |wanted: &str| -> Vec<String> {
                pairs
                    .iter()
                    .filter(|(name, _)| name == wanted)
                    .map(|(_, value)| value.clone())
                    .collect()
            };
            prop_assert_eq!(values("state"), vec![PENDING_STATE.to_owned()]);
            prop_assert_eq!(values("code"), vec![code.secret().to_owned()]);
            prop_assert!(!code.secret().is_empty());
            prop_assert!(code.secret().len() <= 4096);
            prop_assert!(code.secret().chars().all(is_vschar), "code {:?}", code.secret());
            prop_assert!(values("error").is_empty());
        }
    }
}

/// The callback property above is only worth its cases if some of them do yield a code.
#[test]
fn callback_property_exercises_accepted_callbacks() {
    const SAMPLES: usize = 10_000;
    let pending = callback_pending();
    let mut runner = TestRunner::deterministic();
    let strategy = callback_query();
    let accepted = (0..SAMPLES)
        .filter(|_| {
            let query = strategy
                .new_tree(&mut runner)
                .map(|tree| tree.current())
                .unwrap_or_else(|reason| panic!("cannot draw a case: {reason}"));
            pending.callback().check(&query).is_ok()
        })
        .count();
    println!("callbacks accepted: {accepted} of {SAMPLES}");
    assert!(accepted >= SAMPLES / 200, "only {accepted} accepted");
    assert!(accepted <= SAMPLES / 2, "{accepted} accepted");
}

// ---------------------------------------------------------------------------------------------------
// Device login: the user code printed to a terminal
// ---------------------------------------------------------------------------------------------------

/// The format characters a terminal acts on rather than shows, besides the control characters: the
/// bidirectional controls (CVE-2021-42574), the line and paragraph separators, the zero-width
/// characters, the word joiner and the byte order mark.
const FORMAT_CHARACTERS: &[char] = &[
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}', '\u{2028}', '\u{2029}', '\u{200B}', '\u{200C}',
    '\u{200D}', '\u{2060}', '\u{FEFF}',
];

fn unsafe_to_show() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => proptest::sample::select(FORMAT_CHARACTERS),
        1 => proptest::char::ranges(vec!['\0'..='\u{1f}', '\u{7f}'..='\u{9f}'].into()),
    ]
}

/// A device authorization answer with this user code, as read now.
fn read_user_code(
    user_code: &str,
) -> Result<workos_connect::device::DeviceLogin, workos_connect::device::DeviceError> {
    let client = workos_connect::device::DeviceClient::new(
        &"https://example.authkit.app".parse().unwrap(),
        "client_01".parse().unwrap(),
    );
    let answer = serde_json::json!({
        "device_code": "dc",
        "user_code": user_code,
        "verification_uri": "https://example.authkit.app/device",
        "expires_in": 300,
    });
    client.read_authorization(
        200,
        &serde_json::to_vec(&answer).unwrap(),
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000),
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_user_code_holding_a_character_unsafe_to_show_is_refused(
        before in "[ -~]{0,40}",
        c in unsafe_to_show(),
        after in "[ -~]{0,40}",
    ) {
        let code = format!("{before}{c}{after}");
        prop_assert_eq!(
            read_user_code(&code).err(),
            Some(workos_connect::device::DeviceError::ControlCharacter { field: "user_code" }),
            "{:?}",
            code
        );
    }

    #[test]
    fn a_printable_ascii_user_code_is_taken_as_sent(code in "[ -~]{1,64}") {
        prop_assume!(!code.trim().is_empty());
        let login = read_user_code(&code);
        prop_assert!(login.is_ok(), "{:?}: {:?}", code, login);
        if let Ok(login) = login {
            prop_assert_eq!(login.user_code().as_str(), code.trim());
            prop_assert_eq!(login.user_code().to_string(), code.trim());
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Property: issuers and resources are kept only in the text a URL parser writes
// ---------------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// An accepted identifier is exactly what a parser writes for it (but the `/` of a bare
    /// origin), so comparing parsed URLs and comparing texts agree, and the text sent as
    /// `resource` or compared as `iss` is never one the parser would rewrite.
    #[test]
    fn identifiers_are_kept_only_in_canonical_form(input in domain_input()) {
        use workos_connect::oauth::{Issuer, Resource};
        match Resource::new(&input) {
            Ok(resource) => {
                prop_assert_eq!(resource.as_str(), &input);
                let written = Url::parse(&input).unwrap().to_string();
                prop_assert!(
                    written == input || written == format!("{input}/"),
                    "{:?} is written {:?}", input, written
                );
                prop_assert!(input.bytes().all(|b| b.is_ascii_graphic()));
                prop_assert_eq!(Resource::new(&written).unwrap(), resource);
            }
            Err(error) => {
                prop_assert!(!error.to_string().chars().any(char::is_control), "{}", error);
            }
        }
        if let Ok(issuer) = Issuer::new(&input) {
            prop_assert!(Resource::new(issuer.as_str()).is_ok());
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Property: a DPoP proof's `jti` is taken exactly when it is 1 to 256 bytes
// ---------------------------------------------------------------------------------------------------

/// A `jti` of any length around the bound, from any characters, or none at all.
#[cfg(feature = "dpop")]
fn jti() -> BoxedStrategy<String> {
    prop_oneof![
        Just(String::new()),
        "\\PC{0,80}",
        "[!-~]{250,262}",
        "[a-zé]{120,140}",
        tricky_string(300),
    ]
    .boxed()
}

#[cfg(feature = "dpop")]
proptest! {
    #![proptest_config(config())]

    /// A signed proof is refused as malformed for an empty or overlong `jti` (RFC 9449 §4.2, a
    /// unique identifier), and otherwise taken, whatever its characters.
    #[test]
    fn a_proof_jti_is_taken_exactly_when_one_to_256_bytes(jti in jti()) {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};
        use workos_connect::dpop::{DpopProofCheck, DpopProofError, MAX_PROOF_JTI_LEN};

        thread_local! {
            static KEY: EcdsaKeyPair = {
                let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new()).unwrap();
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap()
            };
        }
        let url: Url = "https://mcp.example.com/mcp".parse().unwrap();
        let proof = KEY.with(|key| {
            let point = key.public_key().as_ref();
            let header = serde_json::json!({
                "typ": "dpop+jwt",
                "alg": "ES256",
                "jwk": {
                    "kty": "EC",
                    "crv": "P-256",
                    "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                    "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
                },
            });
            let claims = serde_json::json!({"jti": jti, "htm": "POST", "htu": url.as_str(), "iat": 1_700_000_000});
            let mut jwt = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap());
            jwt.push('.');
            jwt.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap()));
            let signature = key.sign(&SystemRandom::new(), jwt.as_bytes()).unwrap();
            jwt.push('.');
            jwt.push_str(&URL_SAFE_NO_PAD.encode(signature.as_ref()));
            jwt
        });
        let checked = DpopProofCheck::new()
            .clock(workos_connect::oauth::FixedClock(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000)))
            .check_proof([proof.as_bytes()], "POST", &url);
        if (1..=MAX_PROOF_JTI_LEN).contains(&jti.len()) {
            prop_assert_eq!(checked.map(|proof| proof.jti().to_owned()), Ok(jti));
        } else {
            prop_assert_eq!(
                checked,
                Err(DpopProofError::Malformed {
                    reason: "the DPoP proof's `jti` is empty or longer than 256 bytes"
                }),
                "{} bytes", jti.len()
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Where client credentials and an MCP login's assertions may go
// ---------------------------------------------------------------------------------------------------

/// A path after `/t1`: segments of letters, dots and percent-encodings, some of them separators.
fn path_tail() -> BoxedStrategy<String> {
    let piece = prop_oneof![
        4 => "[a-z0-9]{0,6}".boxed(),
        1 => proptest::sample::select(vec![
            "..", ".", "%2F", "%2f", "%5C", "%5c", "%2E", "%2e", "%20", "%41", "0", "-",
        ])
        .prop_map(str::to_owned)
        .boxed(),
    ];
    proptest::collection::vec(piece, 0..6)
        .prop_map(|pieces| pieces.join("/"))
        .boxed()
}

proptest! {
    #![proptest_config(config())]

    /// A token exchange's credentials bound to `https://idp.example.com/t1` go to an endpoint
    /// exactly when it is on that origin and under that path with no encoded `/`, `\` or `.` after
    /// it; refused otherwise, with an error that quotes neither token nor secret.
    #[test]
    fn exchange_credentials_go_only_under_their_issuer(
        host in proptest::sample::select(vec!["idp.example.com", "idp.example.com:8443", "evil.example"]),
        base in proptest::sample::select(vec!["/t1", "/t10", "/t", "", "/T1"]),
        tail in path_tail(),
    ) {
        use workos_connect::registration::{ClientCredentials, TokenEndpointAuth};
        use workos_connect::{oauth::{ClientSecret, SecurityToken, TokenType}, token_exchange::TokenExchange};

        let Ok(endpoint) = Url::parse(&format!("https://{host}{base}/{tail}")) else {
            return Ok(());
        };
        let credentials = ClientCredentials::pre_registered(
            "https://idp.example.com/t1".parse().unwrap(),
            "idp-client".parse().unwrap(),
            Some(ClientSecret::new("idp_secret").unwrap()),
            TokenEndpointAuth::ClientSecretPost,
        )
        .unwrap();
        let sent = TokenExchange::new(SecurityToken::new("subject_tok").unwrap(), TokenType::IdToken)
            .request(endpoint.clone(), &credentials);
        let path = endpoint.path();
        let rest = path.strip_prefix("/t1");
        let ours = endpoint.host_str() == Some("idp.example.com")
            && endpoint.port().is_none()
            && rest.is_some_and(|rest| {
                (rest.is_empty() || rest.starts_with('/'))
                    && !["%2f", "%5c", "%2e"].iter().any(|bad| rest.to_ascii_lowercase().contains(bad))
            });
        match sent {
            Ok(request) => {
                prop_assert!(ours, "sent to {endpoint}");
                prop_assert_eq!(request.url(), &endpoint);
            }
            Err(error) => {
                prop_assert!(!ours, "refused {endpoint}: {error}");
                let message = error.to_string();
                prop_assert!(!message.contains("idp_secret") && !message.contains("subject_tok"));
            }
        }
    }

    /// A workload's assertion is sent to the bound server exactly when its `aud` names the
    /// issuer or the token endpoint, or cannot be read; otherwise the login stops before it
    /// registers, with `AssertionAudience`.
    #[test]
    fn a_workloads_assertion_goes_only_where_its_audience_says(
        aud in prop_oneof![
            Just(serde_json::json!("https://fearless-network-26.authkit.app")),
            Just(serde_json::json!("https://fearless-network-26.authkit.app/oauth2/token")),
            Just(serde_json::json!("https://fearless-network-26.authkit.app/")),
            Just(serde_json::json!("https://evil.example")),
            Just(serde_json::json!(null)),
            Just(serde_json::json!(7)),
            tricky_string(24).prop_map(serde_json::Value::String),
            proptest::collection::vec(tricky_string(12), 0..3).prop_map(|many| serde_json::json!(many)),
        ],
        with_aud in any::<bool>(),
        as_array in any::<bool>(),
    ) {
        use workos_connect::mcp::{McpClientSettings, McpLogin, McpLoginError, McpLoginStep};
        use workos_connect::oauth::SecurityToken;

        const ISSUER: &str = "https://fearless-network-26.authkit.app";
        let claims = match (with_aud, as_array) {
            (true, false) => serde_json::json!({"sub": "workload", "aud": aud}),
            (false, false) => serde_json::json!({"sub": "workload"}),
            // A claims set that is an array is no claims set: nothing to read.
            (_, true) => serde_json::json!([aud]),
        };
        let assertion = format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let settings = McpClientSettings::new("agent", "http://127.0.0.1:9/cb".parse().unwrap())
            .jwt_bearer(ISSUER.parse().unwrap(), SecurityToken::new(assertion).unwrap());
        let server: Url = "https://mcp.example.com/mcp".parse().unwrap();
        let mut login = McpLogin::unauthorized(&settings, &server, &[]).unwrap();
        let metadata = serde_json::json!({"resource": server.as_str(), "authorization_servers": [ISSUER]});
        login.answer(200, metadata.to_string().as_bytes()).unwrap();
        let answer = login.answer(200, include_bytes!("data/authkit/oauth-authorization-server.json"));
        let named = |value: &serde_json::Value| {
            value.as_str().is_some_and(|value| value == ISSUER || value == "https://fearless-network-26.authkit.app/oauth2/token")
        };
        // `null` is no audience: an `aud` that names no server.
        let readable = with_aud && !as_array;
        let names = match &aud {
            serde_json::Value::Array(many) => many.iter().any(named),
            one => named(one),
        };
        if readable && !names {
            prop_assert!(matches!(answer, Err(McpLoginError::AssertionAudience { .. })), "{:?}", answer);
            prop_assert!(matches!(login.step(), McpLoginStep::Failed));
        } else {
            prop_assert!(answer.is_ok(), "{:?}", answer);
            // Registration comes next, at the bound server alone.
            let McpLoginStep::Send(request) = login.step() else {
                return Err(TestCaseError::fail("no request after the metadata"));
            };
            prop_assert!(request.url().as_str().starts_with(ISSUER));
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Answers that are not JSON objects
// ---------------------------------------------------------------------------------------------------

/// A JSON value other than an object, with nested arrays and objects whose strings could be tokens:
/// RFC 6749 §5.1 and §5.2, RFC 8693 §2.2, RFC 7591 §3.2, RFC 7662 §2.2, RFC 8628 §3.2, OpenID
/// Connect Core §5.3.2, RFC 8414 §3.2, RFC 9728 §3.2 and RFC 7517 §5 all answer with an object.
fn non_object_json() -> BoxedStrategy<serde_json::Value> {
    use serde_json::Value;
    let token = "tok_[A-Za-z0-9]{6,16}".prop_map(Value::String);
    let leaf = prop_oneof![
        token,
        Just(Value::String("Bearer".to_owned())),
        Just(Value::String("invalid_grant".to_owned())),
        Just(Value::String("https://auth.example.com".to_owned())),
        any::<i64>().prop_map(Value::from),
        (0u64..100_000).prop_map(Value::from),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ];
    let names = prop::sample::select(vec![
        "access_token",
        "token_type",
        "issued_token_type",
        "error",
        "keys",
        "issuer",
        "active",
        "sub",
    ]);
    let nested = leaf.clone().prop_recursive(3, 24, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((names.clone(), inner), 0..4).prop_map(|members| {
                Value::Object(
                    members
                        .into_iter()
                        .map(|(name, value)| (name.to_owned(), value))
                        .collect(),
                )
            }),
        ]
    });
    prop_oneof![
        leaf,
        prop::collection::vec(nested, 0..6).prop_map(Value::Array),
    ]
    .boxed()
}

/// Every string in `value`, at any depth.
fn strings_in(value: &serde_json::Value, found: &mut Vec<String>) {
    match value {
        serde_json::Value::String(text) => found.push(text.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|item| strings_in(item, found)),
        serde_json::Value::Object(members) => members.values().for_each(|v| strings_in(v, found)),
        _ => {}
    }
}

/// The error is shown without any token of the body, in `Display` and in `Debug`.
fn quotes_no_token(
    parser: &str,
    error: &dyn std::fmt::Debug,
    shown: String,
    tokens: &[String],
) -> Result<(), TestCaseError> {
    let debug = format!("{error:?}");
    for token in tokens.iter().filter(|token| token.starts_with("tok_")) {
        prop_assert!(
            !shown.contains(token.as_str()) && !debug.contains(token.as_str()),
            "{} quotes {:?}: {} / {}",
            parser,
            token,
            shown,
            debug
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Every reader of a server's JSON answer refuses an array, a string, a number, a boolean or
    /// `null`, whatever the status, with an error that quotes nothing of the body: serde's derived
    /// readers would otherwise take an array as the members in order (`["AT","Bearer",3600]` as a
    /// token response) and a string as the body of an error message.
    #[test]
    fn every_response_reader_refuses_a_body_that_is_not_an_object(
        value in non_object_json(),
        space in prop::sample::select(vec!["", " ", "\n\t "]),
        status in prop::sample::select(vec![200u16, 201, 400, 401]),
    ) {
        use workos_connect::device::DeviceClient;
        use workos_connect::dpop::nonce_demanded_by_token_endpoint;
        use workos_connect::{discovery::{AuthorizationServerMetadata, ProtectedResourceMetadata}, registration::{RegistrationResponse, TokenEndpointAuth}};
        use workos_connect::resource_server::Introspection;
        use workos_connect::{TokenResponse, authkit::Userinfo, jose::KeySet, oauth::TokenType, token_exchange::TokenExchangeResponse};

        let body = format!("{space}{value}");
        let body = body.as_bytes();
        let mut tokens = Vec::new();
        strings_in(&value, &mut tokens);
        let issuer: workos_connect::oauth::Issuer = "https://auth.example.com".parse().unwrap();
        let resource: Url = "https://mcp.example.com/mcp".parse().unwrap();

        macro_rules! refused {
            ($name:expr, $result:expr) => {
                match $result {
                    Ok(_) => prop_assert!(false, "{} took {}", $name, value),
                    Err(error) => quotes_no_token($name, &error, error.to_string(), &tokens)?,
                }
            };
        }
        refused!("TokenResponse::parse", TokenResponse::parse(status, body));
        refused!("TokenResponse::parse_dpop", TokenResponse::parse_dpop(status, body));
        refused!(
            "TokenExchangeResponse::parse",
            TokenExchangeResponse::parse(status, body, None)
        );
        refused!(
            "TokenExchangeResponse::parse",
            TokenExchangeResponse::parse(status, body, Some(&TokenType::IdJag))
        );
        refused!(
            "RegistrationResponse::parse",
            RegistrationResponse::parse(status, body, &issuer, TokenEndpointAuth::None)
        );
        refused!("Introspection::parse", Introspection::parse(status, body));
        refused!("Userinfo::parse", Userinfo::parse(status, None, body));
        refused!(
            "AuthorizationServerMetadata::parse",
            AuthorizationServerMetadata::parse(body, &issuer)
        );
        refused!(
            "AuthorizationServerMetadata::parse_legacy",
            AuthorizationServerMetadata::parse_legacy(body, &issuer)
        );
        refused!(
            "ProtectedResourceMetadata::parse",
            ProtectedResourceMetadata::parse(body, &resource)
        );
        refused!("KeySet::parse", KeySet::parse(body));
        let device = DeviceClient::new(
            &"https://example.authkit.app".parse().unwrap(),
            "client_01".parse().unwrap(),
        );
        refused!(
            "DeviceClient::read_authorization",
            device.read_authorization(status, body, std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000))
        );
        prop_assert!(nonce_demanded_by_token_endpoint(status, body, [&b"n-1"[..]]).is_none());
    }
}

proptest! {
    #![proptest_config(config())]

    /// A token type identifier is taken only as a URN or an `http(s)` URL with a host, exactly as
    /// given (RFC 8693 §3): `javascript:`, `data:`, `file:` and the like name no kind of token. It
    /// is at most 256 bytes; a URN's NSS holds only RFC 8141's characters; an URL has no user
    /// information; and a registered URN is recognised whatever the case of `urn` and its NID.
    #[test]
    fn a_token_type_is_a_urn_or_an_http_url(
        scheme in prop::sample::select(vec![
            "urn", "URN", "Urn", "https", "http", "HTTPS", "javascript", "JavaScript", "data",
            "file", "vbscript", "blob", "ftp", "mailto", "x",
        ]),
        rest in prop_oneof![
            4 => tricky_string(40),
            // A registered URN's NID and NSS, the NID in any case.
            1 => (
                prop::sample::select(vec!["ietf", "IETF", "iEtF"]),
                prop::sample::select(vec!["id-jag", "access_token", "jwt", "ID-JAG", "id_jag"]),
            )
                .prop_map(|(nid, kind)| format!("{nid}:params:oauth:token-type:{kind}")),
            // User information, or something like it, before a host.
            1 => ("[a-z@:%]{0,8}", "[a-z.]{1,12}", "[/?#@a-z]{0,8}")
                .prop_map(|(user, host, path)| format!("//{user}@{host}{path}")),
            // Around the length limit.
            1 => (240..270usize).prop_map(|len| format!("example:{}", "a".repeat(len))),
        ],
    ) {
        use workos_connect::{oauth::TokenType, token_exchange::TokenExchangeResponse};
        let uri = format!("{scheme}:{rest}");
        match uri.parse::<TokenType>() {
            Ok(TokenType::Other(other)) => {
                prop_assert_eq!(other.as_str(), uri.as_str());
                prop_assert!(uri.len() <= TokenType::MAX_LEN, "{:?} taken", uri);
                prop_assert!(uri.bytes().all(|b| b.is_ascii_graphic()));
                let scheme = scheme.to_ascii_lowercase();
                if scheme == "urn" {
                    let (_, nss) = rest.split_once(':').unwrap_or_default();
                    prop_assert!(
                        !nss.starts_with('/')
                            && nss.bytes().all(|b| b.is_ascii_alphanumeric()
                                || b"-._~!$&'()*+,;=:@/%".contains(&b)),
                        "{:?} taken", uri
                    );
                    let (nid, nss) = rest.split_once(':').unwrap_or_default();
                    prop_assert!(
                        !(nid.eq_ignore_ascii_case("ietf")
                            && nss == "params:oauth:token-type:id-jag"),
                        "{:?} is the id-jag type", uri
                    );
                } else {
                    prop_assert!(
                        (scheme == "https" || scheme == "http") && rest.starts_with("//"),
                        "{:?} taken", uri
                    );
                    let authority = rest[2..].split(['/', '?', '#']).next().unwrap_or_default();
                    prop_assert!(!authority.contains('@'), "{:?} has user information", uri);
                }
            }
            Ok(kind) => {
                prop_assert!(kind.as_str().eq_ignore_ascii_case(&uri), "{:?} read as {}", uri, kind);
                prop_assert_eq!(&kind.as_str()[9..], &uri[9..]);
            }
            Err(error) => {
                prop_assert!(!error.to_string().chars().any(char::is_control), "{}", error);
                prop_assert!(error.to_string().len() < 400, "{}", error);
            }
        }
        let body = serde_json::json!({
            "access_token": "at",
            "issued_token_type": uri,
            "token_type": "N_A",
        })
        .to_string();
        prop_assert_eq!(
            TokenExchangeResponse::parse(200, body.as_bytes(), None).is_ok(),
            uri.parse::<TokenType>().is_ok()
        );
    }
}

#[test]
fn the_token_type_property_exercises_accepted_uris() {
    let mut runner = TestRunner::deterministic();
    let strategy = (
        prop::sample::select(vec!["urn", "https"]),
        prop_oneof![
            "[a-z]{2,8}:[a-z0-9:._-]{1,20}",
            "//[a-z]{1,10}\\.example/[a-z]{0,8}"
        ],
    );
    let mut taken = 0;
    for _ in 0..200 {
        let (scheme, rest) = strategy.new_tree(&mut runner).unwrap().current();
        if format!("{scheme}:{rest}")
            .parse::<workos_connect::oauth::TokenType>()
            .is_ok()
        {
            taken += 1;
        }
    }
    assert!(taken > 50, "only {taken} of 200 plausible URIs were taken");
}

// ---------------------------------------------------------------------------------------------------
// Property: a login hint is taken or refused at a position, and comes back exactly from the URL
// ---------------------------------------------------------------------------------------------------

/// Hints around the rules: printable text, tricky characters, and lengths about the limit.
fn login_hint_input() -> BoxedStrategy<String> {
    prop_oneof![
        4 => "[a-z0-9.+_-]{1,20}@[a-z0-9-]{1,12}\\.example",
        2 => tricky_string(40),
        1 => "[ -~é]{250,262}",
        1 => any::<String>(),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_login_hint_is_taken_whole_or_refused_at_a_position(input in login_hint_input()) {
        use workos_connect::oauth::LoginHint;
        let client = ConnectClient::new(
            "https://example.authkit.app".parse().unwrap(),
            "client_1".parse().unwrap(),
            "https://app.example/cb".parse().unwrap(),
        );
        match LoginHint::new(&input) {
            Ok(hint) => {
                let chars = input.chars().count();
                prop_assert!((1..=LoginHint::MAX_LEN).contains(&chars), "{} characters", chars);
                prop_assert!(!input.chars().any(char::is_control), "{:?}", input);
                let (redirect, _) = client.authorize().login_hint(hint).build().unwrap();
                let url = Url::parse(redirect.as_str()).unwrap();
                let query = url.query().unwrap_or_default();
                prop_assert!(query.bytes().all(is_strict_query_byte), "{}", query);
                let hints: Vec<String> = url
                    .query_pairs()
                    .filter(|(name, _)| name == "login_hint")
                    .map(|(_, value)| value.into_owned())
                    .collect();
                prop_assert_eq!(hints, vec![input.clone()]);
            }
            Err(error) => {
                // A refused character is neither printable ASCII nor a space.
                check_position(&error, &input, |c| c == ' ' || c.is_ascii_graphic())?;
                let is_login_hint_error = matches!(
                    error,
                    Error::ControlCharacter { field: Field::LoginHint, .. }
                        | Error::InvalidCharacter { field: Field::LoginHint, .. }
                        | Error::Length { field: Field::LoginHint, min: 1, max: 256, .. }
                );
                prop_assert!(is_login_hint_error, "{:?}", error);
            }
        }
    }
}

//! A resource server's whole decision on a request (`RequestCheck`), without I/O: the `Origin`
//! guard, the `Authorization` header, the DPoP proof's URL, keys to fetch first, and the answer
//! of every refusal, as a web framework's driver would send it.
#![cfg(all(feature = "access-token", feature = "dpop"))]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use workos_connect::dpop::{
    DatedNonces, DpopChallenge, DpopErrorCode, DpopKey, DpopNonceSecret, DpopProofCheck,
    DpopProofError,
};
use workos_connect::oauth::AccessToken;
use workos_connect::oauth::{BearerChallenge, BearerError, FixedClock};
use workos_connect::{
    jose::KeySet,
    resource_server::{
        AcceptedRequest, AccessTokenCheck, AccessTokenError, BearerTokenError, OriginPolicy,
        Refusal, RefusalReason, ReplayRecord, RequestCheck, RequestCheckError, RequestDecision,
        ResourceRequest,
    },
};

const KEY: &[u8] = include_bytes!("data/id_token_test_key.pem");
const ISSUER: &str = "https://example.authkit.app";
const RESOURCE: &str = "https://api.example.com/mcp";
const METADATA: &str = "https://api.example.com/.well-known/oauth-protected-resource/mcp";

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Picks the signature backend the library was built with, for the test's own signing: with
/// `rust-crypto`, `jsonwebtoken` has both backends (the dev-dependency brings AWS-LC) and picks
/// neither by itself.
fn install_provider() {
    #[cfg(feature = "aws-lc-rs")]
    let provider = &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
    #[cfg(not(feature = "aws-lc-rs"))]
    let provider = &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
    let _ = provider.install_default();
}

/// The one test key, published under each of `kids`: key IDs stand for distinct keys, as a
/// rotation changes them.
fn keys(kids: &[&str]) -> KeySet {
    install_provider();
    let key = EncodingKey::from_rsa_pem(KEY).unwrap();
    let keys = kids
        .iter()
        .map(|kid| {
            let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
            jwk.common.key_id = Some((*kid).to_owned());
            jwk
        })
        .collect();
    KeySet::parse(&serde_json::to_vec(&JwkSet { keys }).unwrap()).unwrap()
}

/// An access token for the resource signed under `kid`, with `scope` and `extra` claims.
fn token_with(kid: &str, scope: &str, extra: Value) -> String {
    install_provider();
    let now = unix_now();
    let mut claims = json!({
        "iss": ISSUER,
        "aud": RESOURCE,
        "sub": "user_01",
        "org_id": "org_01",
        "scope": scope,
        "iat": now,
        "exp": now + 300,
    });
    if let (Some(claims), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
        claims.extend(extra.clone());
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    header.typ = Some("at+jwt".to_owned());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_pem(KEY).unwrap()).unwrap()
}

fn token(kid: &str) -> String {
    token_with(kid, "mcp:tools", json!({}))
}

/// A token bound to `key` (`cnf.jkt`), signed under `kid`.
fn bound_token(kid: &str, key: &DpopKey) -> String {
    token_with(kid, "mcp:tools", json!({"cnf": {"jkt": key.thumbprint()}}))
}

fn tokens() -> AccessTokenCheck {
    AccessTokenCheck::new(ISSUER.parse().unwrap(), RESOURCE.parse().unwrap())
        .require_scopes("mcp:tools".parse().unwrap())
}

fn bearer_only() -> RequestCheck {
    RequestCheck::api(tokens())
        .unwrap()
        .allowed_origin("https://app.example.com")
        .unwrap()
}

fn dpop_only() -> RequestCheck {
    RequestCheck::api(tokens().require_dpop()).unwrap()
}

fn dpop_or_bearer() -> RequestCheck {
    RequestCheck::api(tokens().dpop(DpopProofCheck::new())).unwrap()
}

/// A `POST` to `target` with these headers.
fn post<'a>(target: &'a str, headers: &'a [(&'a str, String)]) -> ResourceRequest<'a> {
    ResourceRequest::new("POST", target).headers(
        headers
            .iter()
            .map(|(name, value)| (*name, value.as_bytes())),
    )
}

fn bearer(token: &str) -> (&'static str, String) {
    ("authorization", format!("Bearer {token}"))
}

fn decide(
    check: &RequestCheck,
    request: &ResourceRequest<'_>,
    keys: &KeySet,
) -> Result<AcceptedRequest, Refusal> {
    decide_at(check, request, keys, SystemTime::now())
}

fn decide_at(
    check: &RequestCheck,
    request: &ResourceRequest<'_>,
    keys: &KeySet,
    now: SystemTime,
) -> Result<AcceptedRequest, Refusal> {
    match check.check(request, Some(keys), now) {
        RequestDecision::Accept(accepted) => Ok(accepted),
        RequestDecision::Refuse(refusal) => Err(refusal),
        RequestDecision::Preflight => panic!("taken for a preflight: {request:?}"),
        RequestDecision::FetchKeys(awaiting) => panic!("keys asked for: {awaiting:?}"),
        RequestDecision::RecordProof(proof) => panic!("a shared record asked for: {proof:?}"),
    }
}

/// The request taken or refused on resuming, which never asks for keys again.
fn taken(decision: RequestDecision<'_>) -> Result<AcceptedRequest, Refusal> {
    match decision {
        RequestDecision::Accept(accepted) => Ok(accepted),
        RequestDecision::Refuse(refusal) => Err(refusal),
        other => panic!("neither taken nor refused: {other:?}"),
    }
}

fn refused(check: &RequestCheck, request: &ResourceRequest<'_>) -> Refusal {
    decide(check, request, &keys(&["k1"])).expect_err("refused")
}

fn bearer_challenge(refusal: &Refusal) -> BearerChallenge {
    BearerChallenge::parse(refusal.www_authenticate().expect("a challenge")).unwrap()
}

fn dpop_challenge(refusal: &Refusal) -> DpopChallenge {
    DpopChallenge::parse(refusal.www_authenticate().expect("a challenge")).unwrap()
}

fn body(refusal: &Refusal) -> Value {
    serde_json::from_str(&refusal.json_body()).unwrap()
}

/// A proof by `key` for a POST to `url`, carrying `token`'s hash.
fn proof(key: &DpopKey, url: &str, token: &str) -> String {
    key.proof("POST", &url.parse().unwrap())
        .access_token(&AccessToken::new(token).unwrap())
        .sign()
        .unwrap()
        .as_str()
        .to_owned()
}

fn dpop_headers(token: &str, proofs: &[&str]) -> Vec<(&'static str, String)> {
    let mut headers = vec![("authorization", format!("DPoP {token}"))];
    headers.extend(proofs.iter().map(|proof| ("dpop", (*proof).to_owned())));
    headers
}

#[test]
fn a_good_token_passes_with_its_claims() {
    let headers = [bearer(&token("k1"))];
    let accepted = decide(&bearer_only(), &post("/mcp", &headers), &keys(&["k1"])).unwrap();
    assert_eq!(accepted.claims().sub(), "user_01");
    assert_eq!(accepted.dpop_jkt(), None);
}

#[test]
fn the_origin_is_checked_first_and_a_repeated_one_refused() {
    let check = bearer_only();
    let good = bearer(&token("k1"));
    for allowed in ["https://app.example.com", "https://api.example.com"] {
        let headers = [good.clone(), ("origin", allowed.to_owned())];
        assert!(
            decide(&check, &post("/mcp", &headers), &keys(&["k1"])).is_ok(),
            "{allowed}"
        );
    }
    let origin_refusal = |headers: &[(&str, String)]| {
        let refusal = refused(&check, &post("/mcp", headers));
        assert_eq!(refusal.status(), 403);
        assert_eq!(refusal.www_authenticate(), None);
        assert_eq!(refusal.reason(), &RefusalReason::Origin);
        assert_eq!(body(&refusal)["error"], "forbidden");
    };
    // Another origin, before the token is looked at: even no token gets 403.
    origin_refusal(&[good.clone(), ("origin", "https://evil.example".to_owned())]);
    origin_refusal(&[("origin", "https://evil.example".to_owned())]);
    origin_refusal(&[good.clone(), ("origin", "null".to_owned())]);
    // More than one, whichever comes first (a browser sends one).
    for second in ["https://evil.example", "https://app.example.com"] {
        origin_refusal(&[
            good.clone(),
            ("origin", "https://app.example.com".to_owned()),
            ("origin", second.to_owned()),
        ]);
    }
    let not_utf8 = [b"https://app.example.com\xff".as_slice()];
    let request = ResourceRequest::new("POST", "/mcp")
        .header("authorization", good.1.as_bytes())
        .header("origin", not_utf8[0]);
    assert_eq!(refused(&check, &request).status(), 403);
}

/// An API's check (`RequestCheck::api`) and an MCP server's (`RequestCheck::mcp_server`), for the
/// same resource.
fn api_and_mcp_server() -> [RequestCheck; 2] {
    [
        RequestCheck::api(tokens()).unwrap(),
        RequestCheck::mcp_server(tokens()).unwrap(),
    ]
}

/// `method` to `/mcp` with these headers.
fn request<'a>(method: &'a str, headers: &'a [(&'a str, String)]) -> ResourceRequest<'a> {
    ResourceRequest::new(method, "/mcp").headers(
        headers
            .iter()
            .map(|(name, value)| (*name, value.as_bytes())),
    )
}

#[test]
fn an_api_takes_any_origin_and_an_mcp_server_its_own_and_those_allowed() {
    let [api, mcp] = api_and_mcp_server();
    assert!(api.takes_any_origin());
    assert!(!mcp.takes_any_origin());
    // Naming an origin allowed means the others are not; the policy can be set back either way.
    let named = RequestCheck::api(tokens())
        .unwrap()
        .allowed_origin("https://app.example.com")
        .unwrap();
    assert!(!named.takes_any_origin());
    let reopened = named.origin_policy(OriginPolicy::Any);
    assert!(reopened.takes_any_origin());
    assert_eq!(
        reopened.allowed_origins(),
        ["https://api.example.com", "https://app.example.com"]
    );
    assert!(!reopened
        .origin_policy(OriginPolicy::AllowedOnly)
        .takes_any_origin());

    let good = bearer(&token("k1"));
    let foreign = ("origin", "https://app.example.org".to_owned());
    let keys = keys(&["k1"]);
    // An API: a page of any origin with a token is taken, a repeated or opaque Origin too (CORS,
    // not this check, says what the page may read).
    for origins in [
        vec![foreign.clone()],
        vec![("origin", "null".to_owned())],
        vec![
            foreign.clone(),
            ("origin", "https://evil.example".to_owned()),
        ],
    ] {
        let mut headers = vec![good.clone()];
        headers.extend(origins);
        let accepted = decide(&api, &post("/mcp", &headers), &keys).unwrap();
        assert_eq!(accepted.claims().sub(), "user_01");
    }
    // ... and without a token it is asked for one, as any request is.
    let refusal = refused(&api, &post("/mcp", std::slice::from_ref(&foreign)));
    assert_eq!(refusal.status(), 401);
    assert_eq!(bearer_challenge(&refusal).error, None);

    // An MCP server: its own origin is taken, another refused with 403 and a body saying how to
    // allow it, whatever the token.
    let own = ("origin", "https://api.example.com".to_owned());
    assert!(decide(&mcp, &post("/mcp", &[good.clone(), own]), &keys).is_ok());
    for headers in [vec![good.clone(), foreign.clone()], vec![foreign.clone()]] {
        let refusal = refused(&mcp, &post("/mcp", &headers));
        assert_eq!(refusal.status(), 403);
        assert_eq!(refusal.reason(), &RefusalReason::Origin);
        assert_eq!(refusal.www_authenticate(), None);
        let body = body(&refusal);
        assert_eq!(body["error"], "forbidden");
        let description = body["error_description"].as_str().unwrap();
        assert!(
            description.contains("Origin is not allowed"),
            "{description}"
        );
        assert!(
            description.contains("RequestCheck::allowed_origin"),
            "{description}"
        );
        // The log line says the same; neither quotes the token.
        assert_eq!(refusal.to_string(), description);
        assert!(!refusal.json_body().contains(&good.1[7..]));
        assert_eq!(body.as_object().unwrap().len(), 2);
    }
}

#[test]
fn a_cors_preflight_is_passed_on_unchecked_and_a_plain_options_is_checked() {
    let foreign = ("origin", "https://evil.example".to_owned());
    let asks = ("access-control-request-method", "POST".to_owned());
    let asks_headers = ("access-control-request-headers", "authorization".to_owned());
    for check in api_and_mcp_server() {
        // Whatever the origin (none, another, repeated) and whatever it carries (nothing, a
        // malformed or a good token), with or without keys held: a preflight, never refused.
        for headers in [
            vec![asks.clone()],
            vec![foreign.clone(), asks.clone(), asks_headers.clone()],
            vec![foreign.clone(), foreign.clone(), asks.clone()],
            vec![("authorization", "Bearer a b".to_owned()), asks.clone()],
            vec![bearer(&token("k1")), asks.clone()],
        ] {
            let preflight = request("OPTIONS", &headers);
            for keys in [None, Some(&keys(&["k1"]))] {
                assert!(
                    matches!(
                        check.check(&preflight, keys, SystemTime::now()),
                        RequestDecision::Preflight
                    ),
                    "{headers:?}"
                );
            }
        }
        // Only OPTIONS: another method carrying the header is checked as any request.
        let refusal = refused(&check, &request("POST", std::slice::from_ref(&asks)));
        assert_eq!(refusal.status(), 401);
        // A plain OPTIONS, without Access-Control-Request-Method, is checked as before: 401
        // without a token, 403 from another origin where origins are guarded, taken with a token.
        let refusal = refused(&check, &request("OPTIONS", &[]));
        assert_eq!(refusal.status(), 401);
        let refusal = refused(&check, &request("OPTIONS", std::slice::from_ref(&foreign)));
        let guarded = !check.takes_any_origin();
        assert_eq!(refusal.status(), if guarded { 403 } else { 401 });
        let headers = [bearer(&token("k1"))];
        assert!(decide(&check, &request("OPTIONS", &headers), &keys(&["k1"])).is_ok());
    }
}

#[test]
fn an_unreadable_authorization_header_gets_its_status_and_challenge() {
    let check = bearer_only();
    // None, or another scheme: 401 and a bare challenge naming the metadata and the scope.
    for headers in [
        vec![],
        vec![("authorization", "Basic dXNlcjpwYXNz".to_owned())],
    ] {
        let refusal = refused(&check, &post("/mcp", &headers));
        assert_eq!(refusal.status(), 401);
        let challenge = bearer_challenge(&refusal);
        assert_eq!(challenge.error, None);
        assert_eq!(challenge.scope.as_deref(), Some("mcp:tools"));
        assert_eq!(
            challenge.resource_metadata.as_ref().map(|url| url.as_str()),
            Some(METADATA)
        );
        assert_eq!(body(&refusal)["error"], "unauthorized");
    }
    let missing = refused(&check, &post("/mcp", &[]));
    assert_eq!(
        missing.reason(),
        &RefusalReason::Request(BearerTokenError::Missing)
    );
    // Malformed or repeated: 400 invalid_request, saying what to fix, quoting nothing.
    let repeated = [bearer("secret-a"), bearer("secret-b")];
    let malformed = [("authorization", "Bearer secret-a secret-b".to_owned())];
    for headers in [&repeated[..], &malformed[..]] {
        let refusal = refused(&check, &post("/mcp", headers));
        assert_eq!(refusal.status(), 400);
        assert_eq!(
            bearer_challenge(&refusal).error,
            Some(BearerError::InvalidRequest)
        );
        let body = refusal.json_body();
        assert!(body.contains("\"error\":\"invalid_request\""), "{body}");
        let shown = format!(
            "{body} {refusal} {refusal:?} {:?}",
            refusal.www_authenticate()
        );
        assert!(!shown.contains("secret"), "{shown}");
    }
}

#[test]
fn a_refused_token_gets_its_status_challenge_and_body() {
    let check = bearer_only();
    let lacking = [bearer(&token_with("k1", "openid", json!({})))];
    let refusal = refused(&check, &post("/mcp", &lacking));
    assert_eq!(refusal.status(), 403);
    assert_eq!(
        bearer_challenge(&refusal).error,
        Some(BearerError::InsufficientScope)
    );
    assert_eq!(
        body(&refusal),
        json!({
            "error": "insufficient_scope",
            "error_description": "the access token lacks a required scope",
        })
    );
    let secret = "eyJhbGciOiJSUzI1NiJ9.eyJzZWNyZXQiOjF9.c2VjcmV0";
    let garbage = [bearer(secret)];
    let refusal = refused(&check, &post("/mcp", &garbage));
    assert_eq!(refusal.status(), 401);
    assert_eq!(
        bearer_challenge(&refusal).error,
        Some(BearerError::InvalidToken)
    );
    let shown = format!("{} {refusal} {refusal:?}", refusal.json_body());
    assert!(
        !shown.contains(secret) && !shown.contains("c2Vj"),
        "{shown}"
    );
}

#[test]
fn the_time_is_the_callers() {
    let check = bearer_only();
    let headers = [bearer(&token("k1"))];
    let later = SystemTime::now() + Duration::from_secs(3600);
    let RequestDecision::Refuse(refusal) =
        check.check(&post("/mcp", &headers), Some(&keys(&["k1"])), later)
    else {
        panic!("an hour later the token has expired");
    };
    assert_eq!(
        refusal.reason(),
        &RefusalReason::Token(AccessTokenError::Expired)
    );
}

#[test]
fn permissions_and_organization_are_required_of_remembered_tokens_too() {
    let check = RequestCheck::api(
        AccessTokenCheck::new(ISSUER.parse().unwrap(), RESOURCE.parse().unwrap())
            .require_permissions(["posts:write"])
            .require_organization("org_01")
            .remember_verified(100),
    )
    .unwrap();
    let writer = [bearer(&token_with(
        "k1",
        "",
        json!({"permissions": ["posts:read", "posts:write"]}),
    ))];
    let reader = [bearer(&token_with(
        "k1",
        "",
        json!({"permissions": ["posts:read"]}),
    ))];
    let elsewhere = [bearer(&token_with(
        "k1",
        "",
        json!({"permissions": ["posts:write"], "org_id": "org_02"}),
    ))];
    let keys = keys(&["k1"]);
    // Each twice: the second answer comes from the remembered token, with the same checks.
    for _ in 0..2 {
        assert!(decide(&check, &post("/mcp", &writer), &keys).is_ok());
        for headers in [&reader, &elsewhere] {
            let refusal = decide(&check, &post("/mcp", headers), &keys).unwrap_err();
            assert_eq!(refusal.status(), 403);
            assert_eq!(
                bearer_challenge(&refusal).error,
                Some(BearerError::InsufficientScope)
            );
        }
    }
}

#[test]
fn an_unknown_key_asks_for_keys_and_resuming_checks_once() {
    let check = bearer_only();
    let headers = [bearer(&token("k2"))];
    let request = post("/mcp", &headers);
    let RequestDecision::FetchKeys(awaiting) =
        check.check(&request, Some(&keys(&["k1"])), SystemTime::now())
    else {
        panic!("k2 is not in the set");
    };
    assert!(awaiting.had_keys());
    let accepted =
        taken(check.resume(awaiting, Some(&keys(&["k1", "k2"])), SystemTime::now())).unwrap();
    assert_eq!(accepted.claims().sub(), "user_01");

    // No newer set (none fetched, or the fetch failed): refused as the held set refused it.
    let RequestDecision::FetchKeys(awaiting) =
        check.check(&request, Some(&keys(&["k1"])), SystemTime::now())
    else {
        panic!("k2 is not in the set");
    };
    let refusal = taken(check.resume(awaiting, None, SystemTime::now())).unwrap_err();
    assert_eq!(refusal.status(), 401);
    assert!(matches!(
        refusal.reason(),
        RefusalReason::Token(error) if error.names_unknown_key()
    ));
    assert_eq!(
        bearer_challenge(&refusal).error,
        Some(BearerError::InvalidToken)
    );
    // A set that still lacks it: refused, never asked again.
    let RequestDecision::FetchKeys(awaiting) =
        check.check(&request, Some(&keys(&["k1"])), SystemTime::now())
    else {
        panic!("k2 is not in the set");
    };
    let refusal =
        taken(check.resume(awaiting, Some(&keys(&["k3"])), SystemTime::now())).unwrap_err();
    assert_eq!(refusal.status(), 401);
}

#[test]
fn without_keys_the_request_waits_for_the_first_set_and_gets_503_without_one() {
    let check = bearer_only();
    let headers = [bearer(&token("k1"))];
    let request = post("/mcp", &headers);
    let RequestDecision::FetchKeys(awaiting) = check.check(&request, None, SystemTime::now())
    else {
        panic!("no keys yet");
    };
    assert!(!awaiting.had_keys());
    let refusal = taken(check.resume(awaiting, None, SystemTime::now())).unwrap_err();
    assert_eq!(refusal.status(), 503);
    assert_eq!(refusal.www_authenticate(), None);
    assert_eq!(refusal.reason(), &RefusalReason::NoKeys);
    assert_eq!(body(&refusal)["error"], "temporarily_unavailable");

    let RequestDecision::FetchKeys(awaiting) = check.check(&request, None, SystemTime::now())
    else {
        panic!("no keys yet");
    };
    assert!(taken(check.resume(awaiting, Some(&keys(&["k1"])), SystemTime::now())).is_ok());
    // Requests refused without a key are refused without waiting for any.
    assert!(matches!(
        check.check(&post("/mcp", &[]), None, SystemTime::now()),
        RequestDecision::Refuse(_)
    ));
}

#[test]
fn a_dpop_bound_token_passes_with_its_proof_once_and_never_as_bearer() {
    let check = dpop_only();
    let keys = keys(&["k1"]);
    let key = DpopKey::generate();
    let bound = bound_token("k1", &key);
    let first = proof(&key, RESOURCE, &bound);
    let headers = dpop_headers(&bound, &[&first]);

    let accepted = decide(&check, &post("/mcp", &headers), &keys).unwrap();
    assert_eq!(accepted.dpop_jkt(), Some(key.thumbprint()));

    // The same proof again: a replay.
    let refusal = decide(&check, &post("/mcp", &headers), &keys).unwrap_err();
    assert_eq!(refusal.status(), 401);
    assert_eq!(
        refusal.reason(),
        &RefusalReason::Token(AccessTokenError::DpopProof(DpopProofError::Replayed))
    );
    let challenge = dpop_challenge(&refusal);
    assert_eq!(challenge.error, Some(DpopErrorCode::InvalidDpopProof));
    assert_eq!(
        challenge.resource_metadata.as_ref().map(|url| url.as_str()),
        Some(METADATA)
    );
    assert_eq!(challenge.algorithms().collect::<Vec<_>>(), ["ES256"]);
    assert_eq!(body(&refusal)["error"], "invalid_dpop_proof");
    // Only DPoP is taken, so only DPoP is offered.
    assert!(BearerChallenge::parse(refusal.www_authenticate().unwrap()).is_err());

    // No proof at all, or a proof for another URL (the Host header plays no part).
    let none = dpop_headers(&bound, &[]);
    let refusal = decide(&check, &post("/mcp", &none), &keys).unwrap_err();
    assert_eq!(
        dpop_challenge(&refusal).error,
        Some(DpopErrorCode::InvalidDpopProof)
    );
    for elsewhere in ["https://api.example.com/other", "https://evil.example/mcp"] {
        let other = proof(&key, elsewhere, &bound);
        let mut headers = dpop_headers(&bound, &[&other]);
        headers.push(("host", "evil.example".to_owned()));
        let refusal = decide(&check, &post("/mcp", &headers), &keys).unwrap_err();
        assert_eq!(refusal.status(), 401, "{elsewhere}");
    }

    // The bound token as a bearer token, and a plain bearer token: refused here.
    for token in [bound.clone(), token("k1")] {
        let refusal = decide(&check, &post("/mcp", &[bearer(&token)]), &keys).unwrap_err();
        assert_eq!(refusal.status(), 401);
        assert_eq!(
            dpop_challenge(&refusal).error,
            Some(DpopErrorCode::InvalidToken)
        );
    }

    // The metadata says DPoP is required.
    let metadata = serde_json::to_value(check.metadata()).unwrap();
    assert_eq!(
        metadata["dpop_signing_alg_values_supported"],
        json!(["ES256"])
    );
    assert_eq!(metadata["dpop_bound_access_tokens_required"], json!(true));
}

#[test]
fn a_proof_is_recorded_only_on_the_pass_that_checks_the_token() {
    let check = dpop_only();
    let key = DpopKey::generate();
    let bound = bound_token("k2", &key);
    let proof = proof(&key, RESOURCE, &bound);
    let headers = dpop_headers(&bound, &[&proof]);
    let request = post("/mcp", &headers);
    // With a set lacking the key, then with none: each stops before the proof is looked at.
    for held in [Some(keys(&["k1"])), None] {
        let RequestDecision::FetchKeys(awaiting) =
            check.check(&request, held.as_ref(), SystemTime::now())
        else {
            panic!("the key is unknown");
        };
        assert_eq!(awaiting.had_keys(), held.is_some());
        let refusal = taken(check.resume(awaiting, None, SystemTime::now())).unwrap_err();
        assert_ne!(
            refusal.reason(),
            &RefusalReason::Token(AccessTokenError::DpopProof(DpopProofError::Replayed))
        );
    }
    // So the proof still serves once the key is there, and once only.
    let RequestDecision::FetchKeys(awaiting) =
        check.check(&request, Some(&keys(&["k1"])), SystemTime::now())
    else {
        panic!("the key is unknown");
    };
    let accepted =
        taken(check.resume(awaiting, Some(&keys(&["k1", "k2"])), SystemTime::now())).unwrap();
    assert_eq!(accepted.dpop_jkt(), Some(key.thumbprint()));
    let refusal = decide(&check, &request, &keys(&["k2"])).unwrap_err();
    assert_eq!(
        refusal.reason(),
        &RefusalReason::Token(AccessTokenError::DpopProof(DpopProofError::Replayed))
    );
}

#[test]
fn a_proof_names_the_path_as_routed_not_with_its_dot_segments_removed() {
    let check = dpop_only();
    let keys = keys(&["k1"]);
    let key = DpopKey::generate();
    let bound = bound_token("k1", &key);
    // Another route takes its own proofs; a query is no part of the proof's URL.
    let own = proof(&key, "https://api.example.com/admin/tasks", &bound);
    let headers = dpop_headers(&bound, &[&own]);
    assert!(decide(&check, &post("/admin/tasks?page=2", &headers), &keys).is_ok());
    // A proof made for /mcp, sent to paths that name /mcp only once their dot segments go, but
    // that a router sends to /admin: refused, though each proof is fresh, before any key.
    for target in ["/admin/%2e%2e/mcp", "/admin/../mcp", "/admin/./%2E./mcp"] {
        let fresh = proof(&key, RESOURCE, &bound);
        let headers = dpop_headers(&bound, &[&fresh]);
        let RequestDecision::Refuse(refusal) =
            check.check(&post(target, &headers), None, SystemTime::now())
        else {
            panic!("{target} is refused at once");
        };
        assert_eq!(refusal.status(), 401, "{target}");
        assert_eq!(
            dpop_challenge(&refusal).error,
            Some(DpopErrorCode::InvalidDpopProof),
            "{target}"
        );
    }
}

#[test]
fn a_resource_taking_dpop_still_takes_bearer_tokens_and_offers_both() {
    let check = dpop_or_bearer();
    let keys = keys(&["k1"]);
    assert!(decide(&check, &post("/mcp", &[bearer(&token("k1"))]), &keys).is_ok());

    let refusal = decide(&check, &post("/mcp", &[]), &keys).unwrap_err();
    assert_eq!(refusal.status(), 401);
    let header = refusal.www_authenticate().unwrap();
    let bearer_part = BearerChallenge::parse(header).unwrap();
    let dpop_part = DpopChallenge::parse(header).unwrap();
    assert_eq!(bearer_part.resource_metadata, dpop_part.resource_metadata);
    assert_eq!(dpop_part.scope.as_deref(), Some("mcp:tools"));
    let metadata = serde_json::to_value(check.metadata()).unwrap();
    assert_eq!(
        metadata["dpop_signing_alg_values_supported"],
        json!(["ES256"])
    );
    assert_eq!(metadata.get("dpop_bound_access_tokens_required"), None);

    // A token without `cnf` sent as a DPoP token is no DPoP token.
    let key = DpopKey::generate();
    let unbound = token("k1");
    let headers = dpop_headers(&unbound, &[&proof(&key, RESOURCE, &unbound)]);
    let refusal = decide(&check, &post("/mcp", &headers), &keys).unwrap_err();
    assert_eq!(
        dpop_challenge(&refusal).error,
        Some(DpopErrorCode::InvalidToken)
    );
    assert_eq!(body(&refusal)["error"], "invalid_token");
    // A bound token sent as a bearer token would go without its proof.
    let bound = bound_token("k1", &key);
    let refusal = decide(&check, &post("/mcp", &[bearer(&bound)]), &keys).unwrap_err();
    assert_eq!(
        refusal.reason(),
        &RefusalReason::Token(AccessTokenError::BoundToKey)
    );
    assert_eq!(
        bearer_challenge(&refusal).error,
        Some(BearerError::InvalidToken)
    );
}

#[test]
fn a_resource_requiring_a_nonce_sends_it_with_the_refusal_and_the_next_one_in_time() {
    // A step of 15 seconds; a nonce is renewed past 30.
    let nonces = DatedNonces::new(DpopNonceSecret::generate()).lifetime(60);
    let check =
        RequestCheck::api(tokens().dpop(DpopProofCheck::new().require_nonce(nonces.clone())))
            .unwrap();
    let keys = keys(&["k1"]);
    let key = DpopKey::generate();
    let bound = bound_token("k1", &key);
    let now = SystemTime::now();
    let headers = dpop_headers(&bound, &[&proof(&key, RESOURCE, &bound)]);
    let refusal = decide_at(&check, &post("/mcp", &headers), &keys, now).unwrap_err();
    assert_eq!(refusal.status(), 401);
    let nonce = nonces.nonce_at(now);
    assert_eq!(refusal.dpop_nonce(), Some(&nonce));
    assert_eq!(
        dpop_challenge(&refusal).error,
        Some(DpopErrorCode::UseDpopNonce)
    );
    let signed_at = |at: SystemTime| {
        key.proof("POST", &RESOURCE.parse().unwrap())
            .access_token(&AccessToken::new(bound.clone()).unwrap())
            .nonce(&nonce)
            .clock(FixedClock(at))
            .sign()
            .unwrap()
    };
    let headers = dpop_headers(&bound, &[signed_at(now).as_str()]);
    let accepted = decide_at(&check, &post("/mcp", &headers), &keys, now).unwrap();
    assert_eq!(accepted.dpop_nonce(), None);
    // 45 seconds on, the nonce is still taken, and the answer hands out the next one.
    let later = now + Duration::from_secs(45);
    let headers = dpop_headers(&bound, &[signed_at(later).as_str()]);
    let accepted = decide_at(&check, &post("/mcp", &headers), &keys, later).unwrap();
    let next = accepted.dpop_nonce().expect("the next nonce");
    assert_eq!(next, &nonces.nonce_at(later));
    assert_ne!(next, &nonce);
    // A bearer token's acceptance carries none.
    let bearer_headers = [bearer(&token("k1"))];
    let accepted = decide_at(&check, &post("/mcp", &bearer_headers), &keys, later).unwrap();
    assert_eq!(accepted.dpop_nonce(), None);
}

#[test]
fn the_metadata_and_the_settings_are_the_resources() {
    let check = bearer_only();
    let metadata = serde_json::to_value(check.metadata()).unwrap();
    assert_eq!(metadata["resource"], RESOURCE);
    assert_eq!(metadata["authorization_servers"], json!([ISSUER]));
    assert_eq!(metadata["scopes_supported"], json!(["mcp:tools"]));
    assert_eq!(metadata["bearer_methods_supported"], json!(["header"]));
    assert_eq!(metadata.get("dpop_signing_alg_values_supported"), None);
    assert_eq!(check.metadata_url().as_str(), METADATA);
    assert_eq!(
        check.allowed_origins(),
        ["https://api.example.com", "https://app.example.com"]
    );
    let by_audience = AccessTokenCheck::with_audience(ISSUER.parse().unwrap(), "client_01");
    assert_eq!(
        RequestCheck::api(by_audience).unwrap_err(),
        RequestCheckError::NoResource
    );
    assert_eq!(
        bearer_only()
            .allowed_origin("https://app.example.com/path")
            .unwrap_err(),
        RequestCheckError::NotOrigin {
            input: "https://app.example.com/path".to_owned()
        }
    );
}

/// Two instances of one resource, their proofs recorded in one memory they share: a proof taken
/// by one is refused as a replay by the other, a memory that does not answer refuses the request
/// (503), and bearer tokens never reach the memory.
#[test]
fn a_shared_replay_memory_refuses_a_proof_replayed_to_another_instance() {
    let instance = || {
        RequestCheck::api(tokens().dpop(DpopProofCheck::new()))
            .unwrap()
            .shared_replay_memory()
    };
    let (a, b) = (instance(), instance());
    assert!(a.records_proofs_elsewhere() && !bearer_only().records_proofs_elsewhere());
    let keys = keys(&["k1"]);
    let key = DpopKey::generate();
    let bound = bound_token("k1", &key);
    let first = proof(&key, RESOURCE, &bound);
    let headers = dpop_headers(&bound, &[&first]);
    // The memory the instances share: a key set if absent.
    let mut shared = std::collections::HashSet::new();
    let mut record = |check: &RequestCheck| {
        let RequestDecision::RecordProof(proof) =
            check.check(&post("/mcp", &headers), Some(&keys), SystemTime::now())
        else {
            panic!("the proof's record is left to the shared memory");
        };
        assert_eq!(proof.key().len(), 43, "a SHA-256, base64url");
        assert!(!bound.contains(proof.key()) && !first.contains(proof.key()));
        let window = proof.expires_in();
        // The proof's window (two minutes after `iat` with the defaults), its last second in
        // full, and the leeway, by which another instance's clock may run behind.
        assert!(
            window >= Duration::from_secs(180) && window <= Duration::from_secs(181),
            "{window:?}"
        );
        let answer = if shared.insert(proof.key().to_owned()) {
            ReplayRecord::First
        } else {
            ReplayRecord::Again
        };
        check.recorded(proof, answer)
    };

    let accepted = record(&a).expect("A takes the proof's first use");
    assert_eq!(accepted.dpop_jkt(), Some(key.thumbprint()));
    let replayed = record(&b).expect_err("B refuses the proof A took");
    assert_eq!(replayed.status(), 401);
    assert_eq!(
        replayed.reason(),
        &RefusalReason::Token(AccessTokenError::DpopProof(DpopProofError::Replayed))
    );
    assert_eq!(
        dpop_challenge(&replayed).error,
        Some(DpopErrorCode::InvalidDpopProof)
    );
    assert!(record(&a).is_err(), "and A too: the shared memory decides");

    // A memory that does not answer: refused, never taken unchecked.
    let second = proof(&key, RESOURCE, &bound);
    let headers = dpop_headers(&bound, &[&second]);
    let RequestDecision::RecordProof(to_record) =
        b.check(&post("/mcp", &headers), Some(&keys), SystemTime::now())
    else {
        panic!("a record asked for");
    };
    let refusal = b
        .recorded(to_record, ReplayRecord::Unavailable)
        .unwrap_err();
    assert_eq!(refusal.status(), 503);
    assert_eq!(refusal.reason(), &RefusalReason::ReplayMemoryUnavailable);
    assert_eq!(body(&refusal)["error"], "temporarily_unavailable");

    // A refused request asks for no record; a bearer token never does.
    let other_key = DpopKey::generate();
    let stolen = dpop_headers(&bound, &[&proof(&other_key, RESOURCE, &bound)]);
    assert_eq!(
        decide(&b, &post("/mcp", &stolen), &keys)
            .unwrap_err()
            .status(),
        401
    );
    let plain = [bearer(&token("k1"))];
    assert!(decide(&b, &post("/mcp", &plain), &keys).is_ok());
}

/// `new`, deprecated, is still 0.2's check: an MCP server's, refusing pages of other origins, so
/// that a server built with it keeps its guard against DNS rebinding on upgrading.
#[test]
#[allow(deprecated)]
fn the_deprecated_constructor_keeps_the_origin_guard() {
    let check = RequestCheck::new(tokens()).unwrap();
    assert!(!check.takes_any_origin());
    assert!(RequestCheck::api(tokens()).unwrap().takes_any_origin());
    assert!(!RequestCheck::mcp_server(tokens())
        .unwrap()
        .takes_any_origin());
}

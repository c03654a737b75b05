//! A resource server's whole decision on a request (`RequestCheck`), without I/O: the `Origin`
//! guard, the `Authorization` header, the DPoP proof's URL, keys to fetch first, and the answer
//! of every refusal, as a web framework's driver would send it.
#![cfg(all(feature = "access-token", feature = "dpop"))]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use workos_connect::dpop::{
    DpopChallenge, DpopErrorCode, DpopKey, DpopNonce, DpopProofCheck, DpopProofError,
};
use workos_connect::oauth::AccessToken;
use workos_connect::oauth::{BearerChallenge, BearerError};
use workos_connect::{
    jose::KeySet,
    resource_server::{
        AcceptedRequest, AccessTokenCheck, AccessTokenError, BearerTokenError, Refusal,
        RefusalReason, RequestCheck, RequestCheckError, RequestDecision, ResourceRequest,
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
    RequestCheck::new(tokens())
        .unwrap()
        .allowed_origin("https://app.example.com")
        .unwrap()
}

fn dpop_only() -> RequestCheck {
    RequestCheck::new(tokens().require_dpop()).unwrap()
}

fn dpop_or_bearer() -> RequestCheck {
    RequestCheck::new(tokens().dpop(DpopProofCheck::new())).unwrap()
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
    match check.check(request, Some(keys), SystemTime::now()) {
        RequestDecision::Accept(accepted) => Ok(accepted),
        RequestDecision::Refuse(refusal) => Err(refusal),
        RequestDecision::FetchKeys(awaiting) => panic!("keys asked for: {awaiting:?}"),
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
    let check = RequestCheck::new(
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
    let accepted = check
        .resume(awaiting, Some(&keys(&["k1", "k2"])), SystemTime::now())
        .unwrap();
    assert_eq!(accepted.claims().sub(), "user_01");

    // No newer set (none fetched, or the fetch failed): refused as the held set refused it.
    let RequestDecision::FetchKeys(awaiting) =
        check.check(&request, Some(&keys(&["k1"])), SystemTime::now())
    else {
        panic!("k2 is not in the set");
    };
    let refusal = check.resume(awaiting, None, SystemTime::now()).unwrap_err();
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
    let refusal = check
        .resume(awaiting, Some(&keys(&["k3"])), SystemTime::now())
        .unwrap_err();
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
    let refusal = check.resume(awaiting, None, SystemTime::now()).unwrap_err();
    assert_eq!(refusal.status(), 503);
    assert_eq!(refusal.www_authenticate(), None);
    assert_eq!(refusal.reason(), &RefusalReason::NoKeys);
    assert_eq!(body(&refusal)["error"], "temporarily_unavailable");

    let RequestDecision::FetchKeys(awaiting) = check.check(&request, None, SystemTime::now())
    else {
        panic!("no keys yet");
    };
    assert!(check
        .resume(awaiting, Some(&keys(&["k1"])), SystemTime::now())
        .is_ok());
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
        let refusal = check.resume(awaiting, None, SystemTime::now()).unwrap_err();
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
    let accepted = check
        .resume(awaiting, Some(&keys(&["k1", "k2"])), SystemTime::now())
        .unwrap();
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
fn a_resource_requiring_a_nonce_sends_it_with_the_refusal() {
    let nonce = DpopNonce::new("n-1").unwrap();
    let check =
        RequestCheck::new(tokens().dpop(DpopProofCheck::new().require_nonce(nonce.clone())))
            .unwrap();
    let keys = keys(&["k1"]);
    let key = DpopKey::generate();
    let bound = bound_token("k1", &key);
    let headers = dpop_headers(&bound, &[&proof(&key, RESOURCE, &bound)]);
    let refusal = decide(&check, &post("/mcp", &headers), &keys).unwrap_err();
    assert_eq!(refusal.status(), 401);
    assert_eq!(refusal.dpop_nonce(), Some(&nonce));
    assert_eq!(
        dpop_challenge(&refusal).error,
        Some(DpopErrorCode::UseDpopNonce)
    );
    let with_nonce = key
        .proof("POST", &RESOURCE.parse().unwrap())
        .access_token(&AccessToken::new(bound.clone()).unwrap())
        .nonce(&nonce)
        .sign()
        .unwrap();
    let headers = dpop_headers(&bound, &[with_nonce.as_str()]);
    assert!(decide(&check, &post("/mcp", &headers), &keys).is_ok());
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
        RequestCheck::new(by_audience).unwrap_err(),
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

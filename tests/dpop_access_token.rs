//! DPoP-bound access tokens at a resource server (RFC 9449 §7.1): a token bound to a key by its
//! `cnf.jkt`, sent as `Authorization: DPoP` with a proof by that key; every refusal has its status,
//! its challenges and, when a nonce is demanded, the nonce to send.
#![cfg(all(feature = "access-token", feature = "dpop"))]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use url::Url;
use workos_connect::dpop::{
    DatedNonces, DpopChallenge, DpopErrorCode, DpopKey, DpopNonceSecret, DpopProofCheck,
    DpopProofError,
};
use workos_connect::oauth::AccessToken;
use workos_connect::oauth::BearerChallenge;
use workos_connect::{
    jose::KeySet,
    oauth::BearerError,
    resource_server::{
        authorization_token, AccessTokenCheck, AccessTokenError, BearerTokenError, TokenScheme,
    },
};

const KEY: &[u8] = include_bytes!("data/id_token_test_key.pem");
const KID: &str = "test-key-1";
const ISSUER: &str = "https://example.authkit.app";
const RESOURCE: &str = "https://api.example.com/mcp";
const METADATA: &str = "https://api.example.com/.well-known/oauth-protected-resource/mcp";

/// The moment the proofs are signed and every check runs at, by their clocks.
const NOW: u64 = 1_700_000_000;

fn now() -> u64 {
    NOW
}

fn at(unix_seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix_seconds)
}

fn keys() -> KeySet {
    let key = EncodingKey::from_rsa_pem(KEY).unwrap();
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some(KID.to_owned());
    KeySet::parse(&serde_json::to_vec(&JwkSet { keys: vec![jwk] }).unwrap()).unwrap()
}

/// An access token for the resource, bound to `jkt` when given.
fn token(jkt: Option<&str>) -> AccessToken {
    #[cfg(feature = "aws-lc-rs")]
    let provider = &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
    #[cfg(not(feature = "aws-lc-rs"))]
    let provider = &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
    let _ = provider.install_default();
    let mut claims = json!({
        "iss": ISSUER,
        "aud": RESOURCE,
        "sub": "user_01",
        "scope": "mcp:tools",
        "exp": now() + 300,
        "iat": now(),
    });
    if let Some(jkt) = jkt {
        claims["cnf"] = json!({ "jkt": jkt });
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KID.to_owned());
    header.typ = Some("at+jwt".to_owned());
    let key = EncodingKey::from_rsa_pem(KEY).unwrap();
    AccessToken::new(jsonwebtoken::encode(&header, &claims, &key).unwrap()).unwrap()
}

fn resource() -> Url {
    RESOURCE.parse().unwrap()
}

fn bearer_or_dpop() -> AccessTokenCheck {
    AccessTokenCheck::new(ISSUER.parse().unwrap(), RESOURCE.parse().unwrap())
        .clock(workos_connect::oauth::FixedClock(at(NOW)))
        .require_scopes("mcp:tools".parse().unwrap())
        .dpop(DpopProofCheck::new().clock(workos_connect::oauth::FixedClock(at(NOW))))
}

fn dpop_only() -> AccessTokenCheck {
    bearer_or_dpop().require_dpop()
}

/// A proof by `key` for a POST to the resource, carrying the token's hash.
fn proof(key: &DpopKey, token: &AccessToken) -> String {
    key.proof("POST", &resource())
        .access_token(token)
        .clock(workos_connect::oauth::FixedClock(at(NOW)))
        .sign()
        .unwrap()
        .as_str()
        .to_owned()
}

fn validate(
    check: &AccessTokenCheck,
    token: &AccessToken,
    dpop: &[&str],
) -> Result<(), AccessTokenError> {
    check
        .validate_dpop(
            token,
            &keys(),
            dpop.iter().map(|value| value.as_bytes()),
            "POST",
            &resource(),
        )
        .map(|claims| assert_eq!(claims.sub(), "user_01"))
}

fn proof_error(result: Result<(), AccessTokenError>) -> DpopProofError {
    match result {
        Err(AccessTokenError::DpopProof(error)) => error,
        other => panic!("not a proof refusal: {other:?}"),
    }
}

fn metadata() -> Url {
    METADATA.parse().unwrap()
}

#[test]
fn a_bound_token_with_its_proof_passes_once() {
    let key = DpopKey::generate();
    let token = token(Some(key.thumbprint()));
    let check = dpop_only();
    let dpop = proof(&key, &token);
    validate(&check, &token, &[&dpop]).unwrap();
    // Replayed, even to a clone (another worker): refused.
    let replayed = proof_error(validate(&check.clone(), &token, &[&dpop]));
    assert_eq!(replayed, DpopProofError::Replayed);
    // A fresh proof passes again.
    validate(&check, &token, &[&proof(&key, &token)]).unwrap();
    // Through the request's Authorization header.
    let header = format!("DPoP {}", token.secret());
    let sent = authorization_token([header.as_bytes()]).unwrap();
    let fresh = proof(&key, &token);
    let claims = check
        .validate_request(&sent, &keys(), [fresh.as_bytes()], "POST", &resource())
        .unwrap();
    assert_eq!(
        claims.cnf().and_then(|cnf| cnf.jkt()),
        Some(key.thumbprint())
    );
}

#[test]
fn a_proof_by_another_key_is_refused() {
    let key = DpopKey::generate();
    let thief = DpopKey::generate();
    let token = token(Some(key.thumbprint()));
    let refused = validate(&dpop_only(), &token, &[&proof(&thief, &token)]).unwrap_err();
    assert_eq!(
        refused,
        AccessTokenError::DpopProof(DpopProofError::KeyBindingMismatch)
    );
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.dpop_error(), DpopErrorCode::InvalidToken);
}

#[test]
fn a_token_without_cnf_is_no_dpop_token() {
    let key = DpopKey::generate();
    let unbound = token(None);
    let refused = validate(&bearer_or_dpop(), &unbound, &[&proof(&key, &unbound)]).unwrap_err();
    assert_eq!(refused, AccessTokenError::NotDpopBound);
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.dpop_error(), DpopErrorCode::InvalidToken);
    // The same token is still a good bearer token where bearer tokens are taken.
    bearer_or_dpop().validate(&unbound, &keys()).unwrap();
}

#[test]
fn a_bound_token_is_no_bearer_token_and_dpop_can_be_required() {
    let key = DpopKey::generate();
    let bound = token(Some(key.thumbprint()));
    assert_eq!(
        bearer_or_dpop().validate(&bound, &keys()).unwrap_err(),
        AccessTokenError::BoundToKey
    );
    let unbound = token(None);
    let refused = dpop_only().validate(&unbound, &keys()).unwrap_err();
    assert_eq!(refused, AccessTokenError::DpopRequired);
    assert_eq!(refused.status(), 401);
    // A check without DPoP refuses the DPoP scheme rather than skip the proof.
    let bearer_only = AccessTokenCheck::new(ISSUER.parse().unwrap(), RESOURCE.parse().unwrap())
        .clock(workos_connect::oauth::FixedClock(at(NOW)));
    assert_eq!(
        validate(&bearer_only, &bound, &[&proof(&key, &bound)]),
        Err(AccessTokenError::DpopNotAccepted)
    );
}

#[test]
fn the_proof_must_name_this_request_and_be_alone() {
    let key = DpopKey::generate();
    let token = token(Some(key.thumbprint()));
    let check = dpop_only();
    let elsewhere = key
        .proof("POST", &"https://api.example.com/other".parse().unwrap())
        .access_token(&token)
        .clock(workos_connect::oauth::FixedClock(at(NOW)))
        .sign()
        .unwrap();
    assert!(matches!(
        proof_error(validate(&check, &token, &[elsewhere.as_str()])),
        DpopProofError::UrlMismatch { .. }
    ));
    let get = key
        .proof("GET", &resource())
        .access_token(&token)
        .clock(workos_connect::oauth::FixedClock(at(NOW)))
        .sign()
        .unwrap();
    assert!(matches!(
        proof_error(validate(&check, &token, &[get.as_str()])),
        DpopProofError::MethodMismatch { .. }
    ));
    let without_ath = key
        .proof("POST", &resource())
        .clock(workos_connect::oauth::FixedClock(at(NOW)))
        .sign()
        .unwrap();
    assert_eq!(
        proof_error(validate(&check, &token, &[without_ath.as_str()])),
        DpopProofError::AccessTokenHashMismatch
    );
    assert_eq!(
        proof_error(validate(&check, &token, &[])),
        DpopProofError::Missing
    );
    let (one, two) = (proof(&key, &token), proof(&key, &token));
    assert_eq!(
        proof_error(validate(&check, &token, &[&one, &two])),
        DpopProofError::Duplicated { count: 2 }
    );
    // Neither of the refused ones was remembered: the first is still good.
    validate(&check, &token, &[&one]).unwrap();
}

#[test]
fn a_demanded_nonce_is_handed_out_then_taken() {
    let nonces = DatedNonces::new(DpopNonceSecret::generate());
    let nonce = nonces.nonce_at(at(NOW));
    let check = AccessTokenCheck::new(ISSUER.parse().unwrap(), RESOURCE.parse().unwrap())
        .clock(workos_connect::oauth::FixedClock(at(NOW)))
        .dpop(
            DpopProofCheck::new()
                .clock(workos_connect::oauth::FixedClock(at(NOW)))
                .require_nonce(nonces),
        )
        .require_dpop();
    let key = DpopKey::generate();
    let token = token(Some(key.thumbprint()));
    let refused = validate(&check, &token, &[&proof(&key, &token)]).unwrap_err();
    assert_eq!(refused.dpop_nonce(), Some(&nonce));
    assert_eq!(refused.dpop_error(), DpopErrorCode::UseDpopNonce);
    assert_eq!(refused.status(), 401);
    let challenge = check.resource_challenge(Some(&refused), Some(TokenScheme::Dpop), metadata());
    assert_eq!(
        challenge.to_string(),
        r#"DPoP resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp", error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof", algs="ES256""#
    );
    let with_nonce = key
        .proof("POST", &resource())
        .access_token(&token)
        .nonce(&nonce)
        .clock(workos_connect::oauth::FixedClock(at(NOW)))
        .sign()
        .unwrap();
    validate(&check, &token, &[with_nonce.as_str()]).unwrap();
}

#[test]
fn the_challenges_name_each_scheme_taken() {
    // No credential at a resource taking both: RFC 9449 §7.2's pair of bare challenges.
    let both = bearer_or_dpop().resource_challenge(None, None, metadata());
    assert_eq!(
        both.to_string(),
        r#"Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp:tools", DPoP resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp:tools", algs="ES256""#
    );
    let written = both.to_string();
    let bearer = BearerChallenge::parse(&written).unwrap();
    assert_eq!(bearer.error, None);
    assert_eq!(bearer.resource_metadata, Some(metadata()));
    let dpop = DpopChallenge::parse(&written).unwrap();
    assert_eq!(dpop.algorithms().collect::<Vec<_>>(), ["ES256"]);
    assert_eq!(dpop.resource_metadata, Some(metadata()));

    // A bad proof: the error in the DPoP challenge only.
    let replayed = AccessTokenError::DpopProof(DpopProofError::Replayed);
    let written = bearer_or_dpop()
        .resource_challenge(Some(&replayed), Some(TokenScheme::Dpop), metadata())
        .to_string();
    assert_eq!(BearerChallenge::parse(&written).unwrap().error, None);
    let dpop = DpopChallenge::parse(&written).unwrap();
    assert_eq!(dpop.error, Some(DpopErrorCode::InvalidDpopProof));

    // An expired bearer token: the error in the Bearer challenge only.
    let written = bearer_or_dpop()
        .resource_challenge(
            Some(&AccessTokenError::Expired),
            Some(TokenScheme::Bearer),
            metadata(),
        )
        .to_string();
    assert_eq!(
        BearerChallenge::parse(&written).unwrap().error,
        Some(BearerError::InvalidToken)
    );
    assert_eq!(DpopChallenge::parse(&written).unwrap().error, None);

    // DPoP required: no Bearer challenge at all, the refusal of a bearer token in the DPoP one.
    let written = dpop_only()
        .resource_challenge(
            Some(&AccessTokenError::DpopRequired),
            Some(TokenScheme::Bearer),
            metadata(),
        )
        .to_string();
    assert!(written.starts_with("DPoP "), "{written}");
    assert!(!written.contains("Bearer"), "{written}");
    let dpop = DpopChallenge::parse(&written).unwrap();
    assert_eq!(dpop.error, Some(DpopErrorCode::InvalidToken));
    assert_eq!(
        dpop.error_description.as_deref(),
        Some("this resource takes DPoP-bound access tokens only")
    );

    // A malformed header: invalid_request in each.
    let error = authorization_token([b"DPoP a b".as_slice()]).unwrap_err();
    assert_eq!(error.status(), 400);
    let written = bearer_or_dpop()
        .resource_request_challenge(&error, metadata())
        .to_string();
    assert_eq!(
        BearerChallenge::parse(&written).unwrap().error,
        Some(BearerError::InvalidRequest)
    );
    let dpop = DpopChallenge::parse(&written).unwrap();
    assert_eq!(dpop.error, Some(DpopErrorCode::InvalidRequest));
    assert_eq!(
        dpop.error_description.as_deref(),
        Some("more than one token after `DPoP`")
    );
    // No token at all: no error anywhere.
    let written = dpop_only()
        .resource_request_challenge(&BearerTokenError::Missing, metadata())
        .to_string();
    assert_eq!(DpopChallenge::parse(&written).unwrap().error, None);
}

#[test]
fn the_grants_are_still_checked() {
    let key = DpopKey::generate();
    let token = token(Some(key.thumbprint()));
    let check = dpop_only().require_scopes("mcp:admin".parse().unwrap());
    let refused = validate(&check, &token, &[&proof(&key, &token)]).unwrap_err();
    assert!(matches!(
        refused,
        AccessTokenError::InsufficientScope { .. }
    ));
    assert_eq!(refused.status(), 403);
    assert_eq!(refused.dpop_error(), DpopErrorCode::InsufficientScope);
}

#[test]
fn a_proof_is_judged_by_the_checks_clock() {
    // The proof check's own clock is the system's: the token check's fixed moment governs both.
    let check = AccessTokenCheck::new(ISSUER.parse().unwrap(), RESOURCE.parse().unwrap())
        .clock(workos_connect::oauth::FixedClock(at(NOW)))
        .dpop(DpopProofCheck::new());
    let key = DpopKey::generate();
    let token = token(Some(key.thumbprint()));
    assert_eq!(validate(&check, &token, &[&proof(&key, &token)]), Ok(()));
    // A proof made at the system's time is ten minutes or more from the check's moment.
    let now_proof = key
        .proof("POST", &resource())
        .access_token(&token)
        .sign()
        .unwrap();
    assert!(matches!(
        proof_error(validate(&check, &token, &[now_proof.as_str()])),
        DpopProofError::IssuedInFuture { .. }
    ));
}

//! ID token validation against a JWKS, with tokens signed here by a test key.
#![cfg(feature = "id-token")]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use workos_connect::{
    jose::KeySet, oauth::IdToken, ConnectClient, IdTokenClaims, IdTokenError, PendingAuthorization,
};

const KEY: &[u8] = include_bytes!("data/id_token_test_key.pem");
const KID: &str = "test-key-1";

/// The moment every check of this file runs at, through the client's clock.
const NOW: u64 = 1_700_000_000;

fn now() -> u64 {
    NOW
}

fn at(unix_seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix_seconds)
}

fn key() -> EncodingKey {
    use_the_crates_backend();
    EncodingKey::from_rsa_pem(KEY).unwrap()
}

fn jwk(kid: &str) -> Jwk {
    let mut jwk = Jwk::from_encoding_key(&key(), Algorithm::RS256).unwrap();
    jwk.common.key_id = Some(kid.to_owned());
    jwk
}

fn jwks_json() -> Vec<u8> {
    serde_json::to_vec(&JwkSet {
        keys: vec![jwk(KID)],
    })
    .unwrap()
}

fn jwks() -> KeySet {
    KeySet::parse_fetched_at(&jwks_json(), at(NOW)).unwrap()
}

fn client() -> ConnectClient {
    ConnectClient::new(
        "https://example.authkit.app".parse().unwrap(),
        "client_1".parse().unwrap(),
        "https://app.example/cb".parse().unwrap(),
    )
    .clock(workos_connect::oauth::FixedClock(at(NOW)))
}

fn pending() -> PendingAuthorization {
    client().authorize().build().unwrap().1
}

fn claims(pending: &PendingAuthorization) -> Value {
    json!({
        "iss": "https://example.authkit.app",
        "aud": "client_1",
        "sub": "user_01",
        "exp": now() + 300,
        "iat": now(),
        "nonce": pending.nonce().secret(),
        "email": "ada@example.com",
        "email_verified": true,
        "name": "Ada Lovelace",
    })
}

fn sign(claims: &Value) -> IdToken {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KID.to_owned());
    IdToken::new(jsonwebtoken::encode(&header, claims, &key()).unwrap()).unwrap()
}

#[test]
fn a_valid_token_gives_its_claims() {
    let pending = pending();
    let claims = pending
        .id_token()
        .validate(&sign(&claims(&pending)), &jwks())
        .unwrap();
    assert_eq!(claims.sub, "user_01");
    assert_eq!(claims.aud, ["client_1"]);
    assert_eq!(claims.email.as_deref(), Some("ada@example.com"));
    assert_eq!(claims.email_verified, Some(true));
    assert_eq!(claims.nonce.as_deref(), Some(pending.nonce().secret()));
}

#[test]
fn each_fault_is_its_own_error() {
    let pending = pending();
    let base = claims(&pending);
    let with = |key: &str, value: Value| {
        let mut claims = base.clone();
        claims[key] = value;
        claims
    };
    let without = |key: &str| {
        let mut claims = base.clone();
        claims.as_object_mut().unwrap().remove(key);
        claims
    };
    let cases = [
        (with("nonce", json!("another")), IdTokenError::NonceMismatch),
        (without("nonce"), IdTokenError::MissingNonce),
        (with("exp", json!(now() - 3600)), IdTokenError::Expired),
        (
            with("iss", json!("https://evil.example")),
            IdTokenError::WrongIssuer {
                expected: "https://example.authkit.app".into(),
            },
        ),
        (
            with("aud", json!("client_2")),
            IdTokenError::WrongAudience {
                client_id: "client_1".into(),
            },
        ),
        (
            with("aud", json!(["client_1", "client_2"])),
            IdTokenError::UntrustedAudience {
                client_id: "client_1".into(),
            },
        ),
        (
            with("azp", json!("client_2")),
            IdTokenError::WrongAuthorizedParty {
                client_id: "client_1".into(),
            },
        ),
        (with("iat", json!(now() + 3600)), IdTokenError::NotYetValid),
        (
            without("sub"),
            IdTokenError::MissingClaim {
                claim: "sub".into(),
            },
        ),
        (
            without("iat"),
            IdTokenError::MissingClaim {
                claim: "iat".into(),
            },
        ),
    ];
    for (claims, expected) in cases {
        assert_eq!(
            pending.id_token().validate(&sign(&claims), &jwks()),
            Err(expected.clone()),
            "{claims}"
        );
    }
    // Other audiences are not trusted, even when `azp` names this client; `azp` alone is fine.
    let mut shared = with("aud", json!(["client_1", "client_2"]));
    shared["azp"] = json!("client_1");
    assert_eq!(
        pending.id_token().validate(&sign(&shared), &jwks()),
        Err(IdTokenError::UntrustedAudience {
            client_id: "client_1".into()
        })
    );
    let named = with("azp", json!("client_1"));
    assert!(pending.id_token().validate(&sign(&named), &jwks()).is_ok());
}

#[test]
fn tampering_and_wrong_keys_are_caught() {
    let pending = pending();
    let token = sign(&claims(&pending));
    let parts: Vec<&str> = token.secret().split('.').collect();

    // Claims swapped for others, signature kept.
    let mut forged = claims(&pending);
    forged["sub"] = json!("user_02");
    let forged_claims = sign(&forged);
    let forged_part = forged_claims.secret().split('.').nth(1).unwrap();
    let tampered = IdToken::new(format!("{}.{}.{}", parts[0], forged_part, parts[2])).unwrap();
    assert_eq!(
        pending.id_token().validate(&tampered, &jwks()),
        Err(IdTokenError::BadSignature)
    );

    // A key ID the JWKS does not have.
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("rotated-away".into());
    let unknown =
        IdToken::new(jsonwebtoken::encode(&header, &claims(&pending), &key()).unwrap()).unwrap();
    let fresh = jwks();
    assert_eq!(
        pending.id_token().validate(&unknown, &fresh),
        Err(IdTokenError::UnknownKey {
            kid: Some("rotated-away".into()),
            refetch: false,
        })
    );
    // Once the set is older than its refetch interval, the app is told to fetch it again.
    let later = pending.id_token().clock(workos_connect::oauth::FixedClock(
        fresh.fetched_at() + Duration::from_secs(61),
    ));
    let error = later.validate(&unknown, &fresh).unwrap_err();
    assert!(error.should_refetch_keys(), "{error:?}");

    // HMAC with the public key as secret, the classic algorithm confusion, and `none`.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(KID.into());
    let hmac = jsonwebtoken::encode(
        &header,
        &claims(&pending),
        &EncodingKey::from_secret(&jwks_json()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        pending
            .id_token()
            .validate(&IdToken::new(hmac).unwrap(), &jwks()),
        Err(IdTokenError::UnsupportedAlgorithm {
            alg: "HS256".into()
        })
    );
    let none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
    let unsigned = IdToken::new(format!("{none_header}.{}.", parts[1])).unwrap();
    assert!(pending.id_token().validate(&unsigned, &jwks()).is_err());

    // The same RSA key under another algorithm than the one the JWKS names for it.
    let mut header = Header::new(Algorithm::PS256);
    header.kid = Some(KID.into());
    let other_alg =
        IdToken::new(jsonwebtoken::encode(&header, &claims(&pending), &key()).unwrap()).unwrap();
    assert_eq!(
        pending.id_token().validate(&other_alg, &jwks()),
        Err(IdTokenError::KeyMismatch {
            kid: Some(KID.into()),
            alg: "PS256".into()
        })
    );
    // EdDSA is not accepted at all, whatever the JWKS holds.
    let eddsa_header = "eyJhbGciOiJFZERTQSIsImtpZCI6InRlc3Qta2V5LTEifQ";
    let eddsa = IdToken::new(format!("{eddsa_header}.{}.AAAA", parts[1])).unwrap();
    let short_okp = br#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA","kid":"test-key-1"}]}"#;
    assert!(KeySet::parse(short_okp).is_err());
    assert_eq!(
        pending.id_token().validate(&eddsa, &jwks()),
        Err(IdTokenError::UnsupportedAlgorithm {
            alg: "EdDSA".into()
        })
    );

    // Not a JWT, and not a JWKS.
    assert_eq!(
        pending
            .id_token()
            .validate(&IdToken::new("not-a-jwt").unwrap(), &jwks()),
        Err(IdTokenError::Malformed)
    );
}

#[test]
fn leeway_is_configurable() {
    let pending = pending();
    let mut claims = claims(&pending);
    claims["exp"] = json!(now() - 30);
    let token = sign(&claims);
    assert!(pending.id_token().validate(&token, &jwks()).is_ok());
    assert_eq!(
        pending.id_token().leeway(0).validate(&token, &jwks()),
        Err(IdTokenError::Expired)
    );
}

/// A login sent with `max_age`, checked by the client's clock.
fn pending_with_max_age(max_age: Duration) -> PendingAuthorization {
    client().authorize().max_age(max_age).build().unwrap().1
}

#[test]
fn a_login_with_max_age_needs_a_recent_enough_auth_time() {
    let pending = pending_with_max_age(Duration::from_secs(600));
    let with_auth_time = |auth_time: Option<u64>| {
        let mut claims = claims(&pending);
        if let Some(auth_time) = auth_time {
            claims["auth_time"] = json!(auth_time);
        }
        sign(&claims)
    };
    let check = |token: &IdToken| pending.id_token().validate(token, &jwks());

    assert_eq!(
        check(&with_auth_time(None)),
        Err(IdTokenError::MissingAuthTime)
    );
    let recent = check(&with_auth_time(Some(NOW - 30))).unwrap();
    assert_eq!(recent.auth_time, Some(NOW - 30));
    // Past the limit but within the 60-second leeway, then beyond it.
    assert!(check(&with_auth_time(Some(NOW - 600 - 60))).is_ok());
    assert_eq!(
        check(&with_auth_time(Some(NOW - 600 - 61))),
        Err(IdTokenError::AuthenticationTooOld {
            auth_time: NOW - 661,
            max_age: 600
        })
    );
    assert_eq!(
        pending
            .id_token()
            .leeway(0)
            .validate(&with_auth_time(Some(NOW - 601)), &jwks()),
        Err(IdTokenError::AuthenticationTooOld {
            auth_time: NOW - 601,
            max_age: 600
        })
    );
    let message = IdTokenError::AuthenticationTooOld {
        auth_time: NOW - 661,
        max_age: 600,
    }
    .to_string();
    assert!(message.contains("600 s") && message.contains("log the user in again"));
    assert!(IdTokenError::MissingAuthTime
        .to_string()
        .contains("max_age"));

    // A login without `max_age` takes a token without `auth_time`, or with an old one.
    let plain = self::pending();
    assert!(plain
        .id_token()
        .validate(&sign(&claims(&plain)), &jwks())
        .is_ok());
}

#[test]
fn max_age_zero_takes_an_authentication_made_just_now() {
    let pending = pending_with_max_age(Duration::ZERO);
    let signed_at = |auth_time: u64| {
        let mut claims = claims(&pending);
        claims["auth_time"] = json!(auth_time);
        sign(&claims)
    };
    assert!(pending
        .id_token()
        .validate(&signed_at(NOW), &jwks())
        .is_ok());
    assert!(pending
        .id_token()
        .validate(&signed_at(NOW - 45), &jwks())
        .is_ok());
    assert!(matches!(
        pending.id_token().validate(&signed_at(NOW - 3600), &jwks()),
        Err(IdTokenError::AuthenticationTooOld { max_age: 0, .. })
    ));
}

/// As the web login keeps it: serialized into the session, read back at the callback.
#[test]
fn a_pending_read_back_still_enforces_max_age() {
    let (_, pending) = client()
        .authorize()
        .max_age(Duration::from_secs(60))
        .build()
        .unwrap();
    let back: PendingAuthorization =
        serde_json::from_str(&serde_json::to_string(&pending).unwrap()).unwrap();
    let mut old = claims(&back);
    old["auth_time"] = json!(NOW - 3600);
    assert!(matches!(
        back.id_token()
            .clock(workos_connect::oauth::FixedClock(at(NOW)))
            .validate(&sign(&old), &jwks()),
        Err(IdTokenError::AuthenticationTooOld { .. })
    ));
}

#[test]
fn any_check_can_require_a_recent_authentication() {
    // A login made without `max_age`, checked before a sensitive action.
    let pending = pending();
    let mut claims = claims(&pending);
    claims["auth_time"] = json!(NOW - 1_000);
    let token = sign(&claims);
    assert!(pending.id_token().validate(&token, &jwks()).is_ok());
    let recent = |seconds| pending.id_token().max_age(Duration::from_secs(seconds));
    assert!(recent(3_600).validate(&token, &jwks()).is_ok());
    assert_eq!(
        recent(300).validate(&token, &jwks()),
        Err(IdTokenError::AuthenticationTooOld {
            auth_time: NOW - 1_000,
            max_age: 300
        })
    );
    // A device login's check too, which has no pending login.
    let device = workos_connect::device::DeviceClient::new(
        &"https://example.authkit.app".parse().unwrap(),
        "client_1".parse().unwrap(),
    );
    claims.as_object_mut().unwrap().remove("nonce");
    claims.as_object_mut().unwrap().remove("auth_time");
    assert_eq!(
        device
            .id_token()
            .clock(workos_connect::oauth::FixedClock(at(NOW)))
            .max_age(Duration::from_secs(300))
            .validate(&sign(&claims), &jwks()),
        Err(IdTokenError::MissingAuthTime)
    );
}

#[test]
fn a_crit_header_is_refused() {
    let pending = pending();
    let token = sign(&claims(&pending));
    let mut parts = token.secret().split('.');
    let (_, payload, signature) = (parts.next(), parts.next().unwrap(), parts.next().unwrap());
    let header = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"alg":"RS256","kid":"{KID}","crit":["exp"],"exp":1}}"#
    ));
    let with_crit = IdToken::new(format!("{header}.{payload}.{signature}")).unwrap();
    assert_eq!(
        pending.id_token().validate(&with_crit, &jwks()),
        Err(IdTokenError::CriticalHeader)
    );
    // Signed with `crit` too: refused all the same, before the signature is even checked.
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KID.into());
    header.crit = Some(vec!["b64".into()]);
    let signed =
        IdToken::new(jsonwebtoken::encode(&header, &claims(&pending), &key()).unwrap()).unwrap();
    assert_eq!(
        pending.id_token().validate(&signed, &jwks()),
        Err(IdTokenError::CriticalHeader)
    );
}

#[test]
fn a_header_that_is_an_array_is_refused() {
    // RFC 7515 §4: the header is a JSON object. A derived reader would take `["RS256", kid]` as
    // `alg` and `kid`, in declaration order.
    let pending = pending();
    let header = URL_SAFE_NO_PAD.encode(format!(r#"["RS256","{KID}"]"#));
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(&pending)).unwrap());
    let message = format!("{header}.{payload}");
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), &key(), Algorithm::RS256).unwrap();
    let token = IdToken::new(format!("{message}.{signature}")).unwrap();
    assert_eq!(
        pending.id_token().validate(&token, &jwks()),
        Err(IdTokenError::Malformed)
    );
}

#[test]
fn every_key_under_a_kid_is_tried() {
    let pending = pending();
    // Another RSA key first under the same `kid`, then the real one.
    let other = br#"{"kty":"RSA","kid":"test-key-1","e":"AQAB","n":"sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw"}"#;
    let mut keys: Vec<serde_json::Value> = vec![serde_json::from_slice(other).unwrap()];
    keys.push(serde_json::to_value(jwk(KID)).unwrap());
    let set = KeySet::parse(&serde_json::to_vec(&json!({ "keys": keys })).unwrap()).unwrap();
    assert_eq!(set.len(), 2);
    let claims = pending
        .id_token()
        .validate(&sign(&claims(&pending)), &set)
        .unwrap();
    assert_eq!(claims.sub, "user_01");
}

#[test]
fn fractional_dates_and_a_fixed_clock() {
    let pending = pending();
    let mut fractional = claims(&pending);
    fractional["exp"] = json!(1_700_000_300.75);
    fractional["iat"] = json!(1_700_000_000.25);
    fractional["nbf"] = json!(1_699_999_999.5);
    let token = sign(&fractional);
    let claims = pending
        .id_token()
        .clock(workos_connect::oauth::FixedClock(at(1_700_000_100)))
        .validate(&token, &jwks())
        .unwrap();
    assert_eq!((claims.exp, claims.iat), (1_700_000_300, 1_700_000_000));
    assert_eq!(
        pending
            .id_token()
            .clock(workos_connect::oauth::FixedClock(at(1_700_000_400)))
            .validate(&token, &jwks()),
        Err(IdTokenError::Expired)
    );
    assert_eq!(
        pending
            .id_token()
            .clock(workos_connect::oauth::FixedClock(at(1_699_990_000)))
            .validate(&token, &jwks()),
        Err(IdTokenError::NotYetValid)
    );
}

#[test]
fn claims_keep_what_the_crate_does_not_name_and_round_trip() {
    let pending = pending();
    let mut with_org = claims(&pending);
    with_org["org_id"] = json!("org_01");
    with_org["sid"] = json!("session_01");
    let claims = pending
        .id_token()
        .validate(&sign(&with_org), &jwks())
        .unwrap();
    assert_eq!(claims.claim("org_id"), Some(&json!("org_01")));
    assert_eq!(
        claims.claim("sid").and_then(Value::as_str),
        Some("session_01")
    );
    let kept = serde_json::to_string(&claims).unwrap();
    let back: IdTokenClaims = serde_json::from_str(&kept).unwrap();
    assert_eq!(back, claims);
    let built = IdTokenClaims::new("https://example.authkit.app", "user_01", "client_1", 2, 1)
        .with_claim("org_id", "org_01");
    assert_eq!(built.claim("org_id"), Some(&json!("org_01")));
}

#[test]
fn a_refreshed_id_token_must_keep_the_login_claims() {
    let client = client();
    let pending = pending();
    let login = pending
        .id_token()
        .validate(&sign(&claims(&pending)), &jwks())
        .unwrap();
    let mut refreshed = claims(&pending);
    refreshed.as_object_mut().unwrap().remove("nonce");
    refreshed["iat"] = json!(now() + 1);
    let ok = client
        .refreshed_id_token(&login)
        .validate(&sign(&refreshed), &jwks())
        .unwrap();
    assert_eq!(ok.sub, login.sub);
    // The same nonce is allowed too (OpenID Connect Core section 12.2), another one is not.
    assert!(client
        .refreshed_id_token(&login)
        .validate(&sign(&claims(&pending)), &jwks())
        .is_ok());
    for (claim, value) in [("sub", json!("user_02")), ("nonce", json!("other"))] {
        let mut changed = refreshed.clone();
        changed[claim] = value;
        assert_eq!(
            client
                .refreshed_id_token(&login)
                .validate(&sign(&changed), &jwks()),
            Err(IdTokenError::RefreshMismatch { claim }),
            "{claim}"
        );
    }
    // A refresh still checks the signature, issuer and lifetime like any ID token.
    let mut expired = refreshed.clone();
    expired["exp"] = json!(now() - 3600);
    assert_eq!(
        client
            .refreshed_id_token(&login)
            .validate(&sign(&expired), &jwks()),
        Err(IdTokenError::Expired)
    );
}

#[test]
fn a_key_that_cannot_check_does_not_stop_the_next() {
    let pending = pending();
    // Same `kid`, RSA of the right size, but an exponent of 1 that no verifier accepts.
    let mut broken = serde_json::to_value(jwk(KID)).unwrap();
    broken["e"] = json!("AQ");
    let keys = vec![broken, serde_json::to_value(jwk(KID)).unwrap()];
    let set = KeySet::parse(&serde_json::to_vec(&json!({ "keys": keys })).unwrap()).unwrap();
    assert_eq!(set.len(), 2);
    assert!(pending
        .id_token()
        .validate(&sign(&claims(&pending)), &set)
        .is_ok());
}

#[test]
fn another_kind_of_token_is_refused() {
    let pending = pending();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KID.into());
    header.typ = Some("at+jwt".into());
    let access_token =
        IdToken::new(jsonwebtoken::encode(&header, &claims(&pending), &key()).unwrap()).unwrap();
    assert_eq!(
        pending.id_token().validate(&access_token, &jwks()),
        Err(IdTokenError::WrongType {
            typ: "at+jwt".into()
        })
    );
    let mut empty_sub = claims(&pending);
    empty_sub["sub"] = json!("");
    assert_eq!(
        pending.id_token().validate(&sign(&empty_sub), &jwks()),
        Err(IdTokenError::MissingClaim {
            claim: "sub".into()
        })
    );
}

#[test]
fn a_device_logins_id_token_needs_no_nonce() {
    let device = workos_connect::device::DeviceClient::new(
        &"https://example.authkit.app".parse().unwrap(),
        "client_1".parse().unwrap(),
    );
    let mut without_nonce = claims(&pending());
    without_nonce.as_object_mut().unwrap().remove("nonce");
    let checked = device
        .id_token()
        .clock(workos_connect::oauth::FixedClock(at(NOW)))
        .validate(&sign(&without_nonce), &jwks())
        .unwrap();
    assert_eq!(checked.sub, "user_01");
    // The rest is checked as for any login.
    let mut other_client = without_nonce.clone();
    other_client["aud"] = json!("client_2");
    assert!(matches!(
        device
            .id_token()
            .clock(workos_connect::oauth::FixedClock(at(NOW)))
            .validate(&sign(&other_client), &jwks()),
        Err(IdTokenError::WrongAudience { .. })
    ));
    let mut other_issuer = without_nonce;
    other_issuer["iss"] = json!("https://evil.authkit.app");
    assert!(matches!(
        device
            .id_token()
            .clock(workos_connect::oauth::FixedClock(at(NOW)))
            .validate(&sign(&other_issuer), &jwks()),
        Err(IdTokenError::WrongIssuer { .. })
    ));
}

#[test]
fn a_device_login_compares_iss_with_the_issuer_exactly_as_given() {
    let url = |text: &str| text.parse().unwrap();
    let device = |issuer: &str| {
        workos_connect::device::DeviceClient::with_endpoints(
            &issuer.parse().unwrap(),
            url("https://as.example.com/oauth2/device_authorization"),
            url("https://as.example.com/oauth2/token"),
            "client_1".parse().unwrap(),
        )
        .unwrap()
    };
    let issued_by = |iss: &str| {
        let mut claims = claims(&pending());
        claims.as_object_mut().unwrap().remove("nonce");
        claims["iss"] = json!(iss);
        sign(&claims)
    };
    let slash = device("https://as.example.com/");
    assert_eq!(
        slash
            .id_token()
            .clock(workos_connect::oauth::FixedClock(at(NOW)))
            .validate(&issued_by("https://as.example.com/"), &jwks())
            .unwrap()
            .iss,
        "https://as.example.com/"
    );
    assert_eq!(
        slash
            .id_token()
            .clock(workos_connect::oauth::FixedClock(at(NOW)))
            .validate(&issued_by("https://as.example.com"), &jwks()),
        Err(IdTokenError::WrongIssuer {
            expected: "https://as.example.com/".into()
        })
    );
    // And the other way round: no slash is added either.
    let bare = device("https://as.example.com");
    assert!(bare
        .id_token()
        .clock(workos_connect::oauth::FixedClock(at(NOW)))
        .validate(&issued_by("https://as.example.com"), &jwks())
        .is_ok());
    assert_eq!(
        bare.id_token()
            .clock(workos_connect::oauth::FixedClock(at(NOW)))
            .validate(&issued_by("https://as.example.com/"), &jwks()),
        Err(IdTokenError::WrongIssuer {
            expected: "https://as.example.com".into()
        })
    );
}

/// An AuthKit access token for this client, as WorkOS's "Access token claims" lists them: the same
/// issuer, subject and keys as the ID token, `aud` the client ID (no resource indicator), no `nonce`.
fn access_token_claims() -> Value {
    json!({
        "iss": "https://example.authkit.app",
        "aud": "client_1",
        "sub": "user_01",
        "client_id": "client_1",
        "org_id": "org_01",
        "sid": "app_consent_01",
        "scope": "openid profile email offline_access",
        "jti": "01J",
        "exp": now() + 300,
        "iat": now() + 1,
    })
}

/// Signed without `typ`, as a token whose header says nothing of its kind.
fn sign_without_typ(claims: &Value) -> IdToken {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KID.to_owned());
    header.typ = None;
    IdToken::new(jsonwebtoken::encode(&header, claims, &key()).unwrap()).unwrap()
}

#[test]
fn an_access_token_is_not_an_id_token() {
    let client = client();
    let pending = pending();
    let login = pending
        .id_token()
        .validate(&sign(&claims(&pending)), &jwks())
        .unwrap();
    let device = workos_connect::device::DeviceClient::new(
        &"https://example.authkit.app".parse().unwrap(),
        "client_1".parse().unwrap(),
    );
    let refused = |result: Result<IdTokenClaims, IdTokenError>, claim: &'static str| {
        let error = result.unwrap_err();
        assert_eq!(error, IdTokenError::AccessToken { claim });
        assert!(
            error
                .to_string()
                .contains(&format!("`{claim}`, a claim of an access token")),
            "{claim}: {error}"
        );
    };
    // The checks that take no nonce: a refresh's and a device login's.
    for sign in [sign_without_typ, sign] {
        let access_token = sign(&access_token_claims());
        refused(
            client
                .refreshed_id_token(&login)
                .validate(&access_token, &jwks()),
            "client_id",
        );
        refused(
            device
                .id_token()
                .clock(workos_connect::oauth::FixedClock(at(NOW)))
                .validate(&access_token, &jwks()),
            "client_id",
        );
    }
    // Either claim alone gives it away.
    for (kept, dropped) in [("client_id", "scope"), ("scope", "client_id")] {
        let mut claims = access_token_claims();
        claims.as_object_mut().unwrap().remove(dropped);
        let token = sign_without_typ(&claims);
        refused(
            client.refreshed_id_token(&login).validate(&token, &jwks()),
            kept,
        );
        refused(
            device
                .id_token()
                .clock(workos_connect::oauth::FixedClock(at(NOW)))
                .validate(&token, &jwks()),
            kept,
        );
    }
    // A first login's check refuses them too, even with the login's nonce.
    let mut with_scope = claims(&pending);
    with_scope["scope"] = json!("openid");
    refused(
        pending.id_token().validate(&sign(&with_scope), &jwks()),
        "scope",
    );

    // A real ID token passes every check, with `sid`, `jti` and `org_id`, which ID tokens may carry.
    let mut id_token = claims(&pending);
    id_token["sid"] = json!("session_01");
    id_token["jti"] = json!("01J");
    id_token["org_id"] = json!("org_01");
    assert!(pending
        .id_token()
        .validate(&sign(&id_token), &jwks())
        .is_ok());
    id_token.as_object_mut().unwrap().remove("nonce");
    id_token["iat"] = json!(now() + 1);
    let token = sign_without_typ(&id_token);
    assert!(client
        .refreshed_id_token(&login)
        .validate(&token, &jwks())
        .is_ok());
    assert!(device
        .id_token()
        .clock(workos_connect::oauth::FixedClock(at(NOW)))
        .validate(&token, &jwks())
        .is_ok());
}

/// The backend this build verifies with signs the test tokens too: with both enabled, jsonwebtoken
/// cannot choose one by itself.
fn use_the_crates_backend() {
    #[cfg(feature = "aws-lc-rs")]
    let provider = &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
    #[cfg(not(feature = "aws-lc-rs"))]
    let provider = &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
    let _ = provider.install_default();
}

//! Access token checks for a resource server, with tokens signed here by a test key: every failure
//! has its status and its challenge.
#![cfg(feature = "access-token")]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use workos_connect::oauth::AccessToken;
use workos_connect::oauth::BearerChallenge;
use workos_connect::{
    jose::KeySet,
    oauth::BearerError,
    resource_server::{bearer_token, AccessTokenCheck, AccessTokenError},
};

const KEY: &[u8] = include_bytes!("data/id_token_test_key.pem");
const KID: &str = "test-key-1";
const NOW: u64 = 1_800_000_000;
const ISSUER: &str = "https://example.authkit.app";
const RESOURCE: &str = "https://api.example.com/mcp";
const METADATA: &str = "https://api.example.com/.well-known/oauth-protected-resource/mcp";

fn at(unix_seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix_seconds)
}

fn keys() -> KeySet {
    keys_named(KID)
}

/// The test key, published under `kid`.
fn keys_named(kid: &str) -> KeySet {
    use_the_crates_backend();
    let key = EncodingKey::from_rsa_pem(KEY).unwrap();
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some(kid.to_owned());
    KeySet::parse_fetched_at(
        &serde_json::to_vec(&JwkSet { keys: vec![jwk] }).unwrap(),
        at(NOW - 3600),
    )
    .unwrap()
}

/// The claims of an AuthKit access token for the resource, as the API reference lists them.
fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": RESOURCE,
        "sub": "user_01",
        "client_id": "client_01",
        "org_id": "org_01",
        "sid": "session_01",
        "scope": "mcp:tools openid",
        "jti": "01J",
        "exp": NOW + 300,
        "iat": NOW,
        "role": "admin",
        "roles": ["admin", "billing"],
        "permissions": ["posts:read", "posts:write"],
        "entitlements": ["audit-logs"],
        "feature_flags": ["new-editor"],
        "act": {"sub": "support@example.com"},
        "tenant_tier": "gold",
    })
}

fn sign_with(claims: &Value, kid: &str, typ: Option<&str>) -> AccessToken {
    use_the_crates_backend();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    header.typ = typ.map(str::to_owned);
    let key = EncodingKey::from_rsa_pem(KEY).unwrap();
    AccessToken::new(jsonwebtoken::encode(&header, claims, &key).unwrap()).unwrap()
}

fn sign(claims: &Value) -> AccessToken {
    sign_with(claims, KID, Some("at+jwt"))
}

fn check() -> AccessTokenCheck {
    AccessTokenCheck::new(ISSUER.parse().unwrap(), RESOURCE.parse().unwrap())
        .require_scopes("mcp:tools".parse().unwrap())
        .clock(workos_connect::oauth::FixedClock(at(NOW)))
}

fn with(change: impl FnOnce(&mut Value)) -> AccessToken {
    let mut claims = claims();
    change(&mut claims);
    sign(&claims)
}

/// The status and the challenge a refusal is answered with, read back as a client reads them.
fn answer(error: &AccessTokenError) -> (u16, BearerChallenge) {
    let header = check()
        .challenge(Some(error), METADATA.parse().unwrap())
        .to_string();
    (error.status(), BearerChallenge::parse(&header).unwrap())
}

#[test]
fn a_good_token_gives_its_claims() {
    let checked = check().validate(&sign(&claims()), &keys()).unwrap();
    assert_eq!(checked.sub(), "user_01");
    assert_eq!(checked.client_id(), Some("client_01"));
    assert_eq!(checked.org_id(), Some("org_01"));
    assert_eq!(checked.sid(), Some("session_01"));
    assert_eq!(checked.scope().to_string(), "mcp:tools openid");
    assert_eq!(checked.role(), Some("admin"));
    assert_eq!(checked.roles(), ["admin", "billing"]);
    assert_eq!(checked.permissions(), ["posts:read", "posts:write"]);
    assert_eq!(checked.entitlements(), ["audit-logs"]);
    assert_eq!(checked.feature_flags(), ["new-editor"]);
    assert_eq!(checked.jti(), Some("01J"));
    assert_eq!(
        checked.act().and_then(|act| act.sub()),
        Some("support@example.com")
    );
    assert!(checked.has_permission("posts:write") && !checked.has_permission("posts"));
    assert!(checked.has_role("billing") && !checked.has_role("owner"));
    // A claim the crate does not name is kept.
    assert_eq!(checked.claim("tenant_tier").unwrap(), "gold");
    assert_eq!(checked.claim("role"), None);
    // `typ` JWT or none, an audience list holding the resource, and fractional dates are fine too.
    for token in [
        sign_with(&claims(), KID, Some("JWT")),
        sign_with(&claims(), KID, None),
        with(|c| c["aud"] = json!(["https://other.example", RESOURCE])),
        with(|c| c["exp"] = json!((NOW + 300) as f64 + 0.5)),
    ] {
        assert!(check().validate(&token, &keys()).is_ok());
    }
}

/// Whether a refusal is the one a case expects.
type Expected = fn(&AccessTokenError) -> bool;

#[test]
fn each_refusal_has_its_status_and_challenge() {
    let keys = keys();
    let cases: Vec<(&str, AccessToken, Expected)> = vec![
        (
            "another resource",
            with(|c| c["aud"] = json!("https://api.example.com/other")),
            |e| matches!(e, AccessTokenError::WrongAudience { .. }),
        ),
        (
            "another issuer",
            with(|c| c["iss"] = json!("https://evil.authkit.app")),
            |e| matches!(e, AccessTokenError::WrongIssuer { .. }),
        ),
        ("expired", with(|c| c["exp"] = json!(NOW - 61)), |e| {
            *e == AccessTokenError::Expired
        }),
        (
            "from the future",
            with(|c| c["iat"] = json!(NOW + 120)),
            |e| *e == AccessTokenError::NotYetValid,
        ),
        ("not before", with(|c| c["nbf"] = json!(NOW + 120)), |e| {
            *e == AccessTokenError::NotYetValid
        }),
        (
            "unknown key",
            sign_with(&claims(), "rotated-key", Some("at+jwt")),
            |e| matches!(e, AccessTokenError::UnknownKey { refetch: true, .. }),
        ),
        (
            "an ID token's type",
            sign_with(&claims(), KID, Some("id+jwt")),
            |e| matches!(e, AccessTokenError::WrongType { .. }),
        ),
        ("no subject", with(|c| c["sub"] = json!("")), |e| {
            *e == AccessTokenError::MissingClaim { claim: "sub" }
        }),
        (
            "no expiry",
            with(|c| c.as_object_mut().unwrap().retain(|k, _| k != "exp")),
            |e| *e == AccessTokenError::MissingClaim { claim: "exp" },
        ),
        (
            "bound to a DPoP key",
            with(|c| c["cnf"] = json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"})),
            |e| *e == AccessTokenError::BoundToKey,
        ),
        (
            "bound to a certificate",
            with(|c| c["cnf"] = json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"})),
            |e| *e == AccessTokenError::BoundToKey,
        ),
        (
            "not a JWT",
            AccessToken::new("opaque-token").unwrap(),
            |e| *e == AccessTokenError::Malformed,
        ),
    ];
    for (name, token, expected) in cases {
        let error = check().validate(&token, &keys).unwrap_err();
        assert!(expected(&error), "{name}: {error:?}");
        let (status, challenge) = answer(&error);
        assert_eq!(status, 401, "{name}");
        assert_eq!(challenge.error, Some(BearerError::InvalidToken), "{name}");
        assert_eq!(
            challenge.resource_metadata.unwrap().as_str(),
            METADATA,
            "{name}"
        );
        assert_eq!(challenge.scope.as_deref(), Some("mcp:tools"), "{name}");
        assert!(
            !challenge.error_description.unwrap().contains("eyJ"),
            "{name}"
        );
    }
    let tampered = {
        let token = sign(&claims());
        let (body, _) = token.secret().rsplit_once('.').unwrap();
        AccessToken::new(format!("{body}.AAAA")).unwrap()
    };
    assert_eq!(
        check().validate(&tampered, &keys).unwrap_err(),
        AccessTokenError::BadSignature
    );
}

#[test]
fn a_token_without_the_scope_gets_403_insufficient_scope() {
    let error = check()
        .validate(&with(|c| c["scope"] = json!("openid")), &keys())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the access token lacks the scopes `mcp:tools`"
    );
    let (status, challenge) = answer(&error);
    assert_eq!(status, 403);
    assert_eq!(challenge.error, Some(BearerError::InsufficientScope));
    assert_eq!(challenge.scope.as_deref(), Some("mcp:tools"));
}

#[test]
fn no_token_gets_401_and_a_challenge_without_error() {
    let error = bearer_token(std::iter::empty::<&[u8]>()).unwrap_err();
    assert_eq!(error.status(), 401);
    let challenge = check().challenge(None, METADATA.parse().unwrap());
    assert_eq!(
        challenge.to_string(),
        format!(r#"Bearer resource_metadata="{METADATA}", scope="mcp:tools""#)
    );
}

#[test]
fn a_token_from_the_header_is_checked() {
    let token = sign(&claims());
    let header = format!("Bearer {}", token.secret());
    let read = bearer_token([header.as_bytes()]).unwrap();
    assert!(check().validate(&read, &keys()).is_ok());
}

#[test]
fn without_resource_indicators_the_audience_is_the_client_id() {
    let check = AccessTokenCheck::with_audience(ISSUER.parse().unwrap(), "client_01")
        .clock(workos_connect::oauth::FixedClock(at(NOW)));
    assert!(check
        .validate(&with(|c| c["aud"] = json!("client_01")), &keys())
        .is_ok());
    assert!(matches!(
        check.validate(&sign(&claims()), &keys()),
        Err(AccessTokenError::WrongAudience { .. })
    ));
}

#[test]
fn a_hostile_header_does_not_grow_the_answer() {
    use base64::Engine as _;
    let encode = |json: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    let header = format!(
        r#"{{"alg":"RS256","kid":"{KID}","typ":"{}"}}"#,
        "\u{7f}".repeat(4000)
    );
    let token = AccessToken::new(format!("{}.e30.AAAA", encode(&header))).unwrap();
    let error = check().validate(&token, &keys()).unwrap_err();
    let written = check()
        .challenge(Some(&error), METADATA.parse().unwrap())
        .to_string();
    assert!(written.len() < 512, "{} bytes", written.len());
}

#[test]
fn a_malformed_header_gets_400_invalid_request() {
    let error = bearer_token([b"Bearer a b".as_slice()]).unwrap_err();
    let challenge = check().request_challenge(&error, METADATA.parse().unwrap());
    assert_eq!(error.status(), 400);
    let read = BearerChallenge::parse(&challenge.to_string()).unwrap();
    assert_eq!(read.error, Some(BearerError::InvalidRequest));
    assert_eq!(
        read.error_description.as_deref(),
        Some("more than one token after `Bearer`")
    );
    let repeated = bearer_token([b"Bearer a".as_slice(), b"Bearer b"]).unwrap_err();
    let challenge = check().request_challenge(&repeated, METADATA.parse().unwrap());
    assert_eq!(challenge.error, Some(BearerError::InvalidRequest));
    assert_eq!(
        challenge.error_description.as_deref(),
        Some("the request has more than one Authorization header; send exactly one")
    );
    let missing = bearer_token(std::iter::empty::<&[u8]>()).unwrap_err();
    let challenge = check().request_challenge(&missing, METADATA.parse().unwrap());
    assert_eq!(challenge.error, None);
    assert_eq!(challenge.error_description, None);
}

#[test]
fn issuer_and_audience_are_compared_as_strings() {
    // Only a trailing `/` may differ; case, default ports and dot segments may not.
    assert!(check()
        .validate(&with(|c| c["iss"] = json!(format!("{ISSUER}/"))), &keys())
        .is_ok());
    for (claim, value) in [
        ("aud", "https://API.example.com:443/./mcp"),
        ("iss", "https://EXAMPLE.authkit.app:443"),
    ] {
        let token = with(|c| c[claim] = json!(value));
        assert!(
            check().validate(&token, &keys()).is_err(),
            "{claim} {value}"
        );
    }
}

#[test]
fn unsigned_and_hmac_tokens_are_refused() {
    use base64::Engine as _;
    let encode =
        |json: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string());
    let body = encode(&claims());
    for alg in ["none", "HS256"] {
        let header = encode(&json!({"alg": alg, "kid": KID}));
        let token = AccessToken::new(format!("{header}.{body}.AAAA")).unwrap();
        assert!(matches!(
            check().validate(&token, &keys()),
            Err(AccessTokenError::UnsupportedAlgorithm { .. })
        ));
    }
}

#[test]
fn an_introspected_token_is_checked_like_a_jwt() {
    use workos_connect::resource_server::Introspection;
    let active = |answer: Value| match Introspection::parse(200, answer.to_string().as_bytes()) {
        Ok(Introspection::Active(token)) => token,
        other => panic!("not active: {other:?}"),
    };
    let good = json!({"active": true, "iss": ISSUER, "aud": RESOURCE, "sub": "user_01",
        "scope": "mcp:tools", "exp": NOW + 300, "iat": NOW});
    assert_eq!(check().check_introspected(&active(good.clone())), Ok(()));
    // Without `iss` (optional in RFC 7662) the endpoint's own issuer stands; without `exp`, `active`.
    let mut bare = good.clone();
    bare.as_object_mut()
        .unwrap()
        .retain(|name, _| !["iss", "exp", "iat"].contains(&name.as_str()));
    assert_eq!(check().check_introspected(&active(bare)), Ok(()));

    let refused = |change: fn(&mut Value)| {
        let mut answer = good.clone();
        change(&mut answer);
        let error = check().check_introspected(&active(answer)).unwrap_err();
        (error.status(), error.bearer_error(), error)
    };
    let (status, _, error) = refused(|a| a["aud"] = json!("https://other.example.com/mcp"));
    assert_eq!(status, 401);
    assert!(
        matches!(error, AccessTokenError::WrongAudience { .. }),
        "{error:?}"
    );
    let (_, _, error) = refused(|a| {
        a.as_object_mut().unwrap().remove("aud");
    });
    assert!(
        matches!(error, AccessTokenError::WrongAudience { .. }),
        "{error:?}"
    );
    let (_, _, error) = refused(|a| a["iss"] = json!("https://evil.authkit.app"));
    assert!(
        matches!(error, AccessTokenError::WrongIssuer { .. }),
        "{error:?}"
    );
    let (_, _, error) = refused(|a| a["exp"] = json!(NOW - 61));
    assert_eq!(error, AccessTokenError::Expired);
    let (status, bearer, error) = refused(|a| a["scope"] = json!("openid"));
    assert_eq!((status, bearer), (403, BearerError::InsufficientScope));
    assert!(
        matches!(error, AccessTokenError::InsufficientScope { .. }),
        "{error:?}"
    );
    // Bound to a key (RFC 9449 section 6.2): its proof is not seen here, so it is no bearer token,
    // even when the answer calls it an access token, as AuthKit does.
    let (status, _, error) =
        refused(|a| a["cnf"] = json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}));
    assert_eq!((status, error), (401, AccessTokenError::BoundToKey));
    let (_, _, error) = refused(|a| {
        a["cnf"] = json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"});
        a["token_type"] = json!("access_token");
    });
    assert_eq!(error, AccessTokenError::BoundToKey);
}

/// An active introspection answer whose `token_type` (RFC 7662 section 2.2) is not `Bearer`.
#[test]
fn an_introspected_token_that_is_not_a_bearer_access_token_is_refused() {
    use workos_connect::resource_server::Introspection;
    let active = |token_type: Option<&str>| {
        let mut answer = json!({"active": true, "iss": ISSUER, "aud": RESOURCE, "sub": "user_01",
            "scope": "mcp:tools", "exp": NOW + 300, "iat": NOW});
        if let Some(token_type) = token_type {
            answer["token_type"] = json!(token_type);
        }
        match Introspection::parse(200, answer.to_string().as_bytes()) {
            Ok(Introspection::Active(token)) => token,
            other => panic!("not active: {other:?}"),
        }
    };
    // A refresh token (AuthKit's name for one first), and a DPoP-bound token whose proof this
    // check does not see.
    for token_type in ["refresh_token", "Refresh", "DPoP", "N_A"] {
        let error = check()
            .check_introspected(&active(Some(token_type)))
            .unwrap_err();
        assert_eq!(
            error,
            AccessTokenError::NotBearer {
                token_type: token_type.into()
            }
        );
        assert!(
            error.to_string().contains("not a bearer access token"),
            "{token_type}: {error}"
        );
        let (status, challenge) = answer(&error);
        assert_eq!(status, 401, "{token_type}");
        assert_eq!(
            challenge.error,
            Some(BearerError::InvalidToken),
            "{token_type}"
        );
        assert_eq!(
            challenge.scope.as_deref(),
            Some("mcp:tools"),
            "{token_type}"
        );
        assert!(
            !challenge.error_description.unwrap().contains(token_type),
            "{token_type}"
        );
    }
    // Token types are compared case-insensitively (RFC 6749 section 5.1); servers may omit it.
    // AuthKit's introspection answers `access_token` (and `refresh_token` for a refresh token).
    for token_type in [
        Some("Bearer"),
        Some("bearer"),
        Some("BEARER"),
        Some("access_token"),
        None,
    ] {
        assert_eq!(
            check().check_introspected(&active(token_type)),
            Ok(()),
            "{token_type:?}"
        );
    }
    // AuthKit's answer for a user's access token, shaped as its API reference shows one.
    let authkit = json!({"active": true, "client_id": "client_01APP", "iss": ISSUER,
        "aud": "client_01ENV", "sub": "user_01", "org_id": "org_01", "sid": "app_consent_01",
        "jti": "01J", "exp": NOW + 300, "iat": NOW, "token_type": "access_token"});
    let Ok(Introspection::Active(authkit)) =
        Introspection::parse(200, authkit.to_string().as_bytes())
    else {
        panic!("not active")
    };
    let environment = AccessTokenCheck::with_audience(ISSUER.parse().unwrap(), "client_01ENV");
    assert_eq!(
        environment
            .clock(workos_connect::oauth::FixedClock(at(NOW)))
            .check_introspected(&authkit),
        Ok(())
    );
    // The server's text is neither echoed with its control characters nor at any length.
    let hostile = format!("refresh\u{1b}[2J\r\n{}", "x".repeat(4000));
    let error = check()
        .check_introspected(&active(Some(&hostile)))
        .unwrap_err();
    let shown = error.to_string();
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
    assert!(shown.len() < 256, "{} bytes", shown.len());
}

#[test]
fn a_user_token_has_no_list_claims_and_null_is_none() {
    let token = with(|c| {
        let claims = c.as_object_mut().unwrap();
        for name in ["roles", "entitlements", "feature_flags", "act", "role"] {
            claims.remove(name);
        }
        claims.insert("permissions".into(), Value::Null);
    });
    let checked = check().validate(&token, &keys()).unwrap();
    assert!(checked.permissions().is_empty() && checked.roles().is_empty());
    assert_eq!((checked.role(), checked.act()), (None, None));
    // A list claim of another shape would leave a permission check unsure: the token is refused.
    for bad in [json!("posts:read"), json!([1, 2]), json!({"posts": true})] {
        let token = with(|c| c["permissions"] = bad.clone());
        assert_eq!(
            check().validate(&token, &keys()).unwrap_err(),
            AccessTokenError::Malformed,
            "{bad}"
        );
    }
}

#[test]
fn permissions_and_organization_are_required_with_403() {
    let strict = || {
        check()
            .require_permissions(["posts:write", "posts:delete", "users:read"])
            .require_organization("org_01")
    };
    let error = strict().validate(&sign(&claims()), &keys()).unwrap_err();
    assert_eq!(
        error,
        AccessTokenError::MissingPermissions {
            missing: vec!["posts:delete".into(), "users:read".into()]
        }
    );
    let (status, challenge) = answer(&error);
    assert_eq!(status, 403);
    assert_eq!(challenge.error, Some(BearerError::InsufficientScope));
    assert_eq!(
        challenge.error_description.as_deref(),
        Some("the access token lacks a required permission")
    );
    let enough = check()
        .require_permissions(["posts:read", "posts:write"])
        .require_organization("org_01");
    assert!(enough.validate(&sign(&claims()), &keys()).is_ok());

    let for_org = check().require_organization("org_02");
    for token in [
        sign(&claims()),
        with(|c| {
            c.as_object_mut().unwrap().remove("org_id");
        }),
    ] {
        let error = for_org.validate(&token, &keys()).unwrap_err();
        assert_eq!(
            error,
            AccessTokenError::WrongOrganization {
                expected: "org_02".into()
            }
        );
        let (status, challenge) = answer(&error);
        assert_eq!(status, 403);
        assert_eq!(challenge.error, Some(BearerError::InsufficientScope));
        assert_eq!(
            challenge.error_description.as_deref(),
            Some("the access token is not for this organization")
        );
    }
    // Introspection answers are held to the same requirements, from their members.
    use workos_connect::resource_server::Introspection;
    let introspected =
        |answer: Value| match Introspection::parse(200, answer.to_string().as_bytes()) {
            Ok(Introspection::Active(token)) => token,
            other => panic!("not active: {other:?}"),
        };
    let answer = json!({"active": true, "aud": RESOURCE, "scope": "mcp:tools", "org_id": "org_01",
        "permissions": ["posts:read", "posts:write"]});
    assert_eq!(enough.check_introspected(&introspected(answer)), Ok(()));
    let without = json!({"active": true, "aud": RESOURCE, "scope": "mcp:tools"});
    assert!(matches!(
        enough.check_introspected(&introspected(without)),
        Err(AccessTokenError::MissingPermissions { .. })
    ));
}

/// A key set holding another key under the test key's `kid`, or only a key of another `kid`.
fn other_keys(kid: &str) -> KeySet {
    use base64::Engine as _;
    let mut modulus = vec![0xc5u8; 256];
    modulus[0] = 0xd1;
    let n = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(modulus);
    let jwks = json!({"keys": [{"kty": "RSA", "kid": kid, "n": n, "e": "AQAB"}]});
    KeySet::parse_fetched_at(jwks.to_string().as_bytes(), at(NOW - 3600)).unwrap()
}

#[test]
fn a_remembered_token_is_still_checked_for_time_key_and_grants() {
    let remembering = check().remember_verified(100);
    let token = sign(&claims());
    let first = remembering.validate(&token, &keys()).unwrap();
    assert_eq!(remembering.validate(&token, &keys()).unwrap(), first);
    // Clones share what was verified, with their own times and requirements.
    let later = remembering
        .clone()
        .clock(workos_connect::oauth::FixedClock(at(NOW + 300 + 61)));
    assert_eq!(
        later.validate(&token, &keys()).unwrap_err(),
        AccessTokenError::Expired
    );
    let stricter = remembering.clone().require_permissions(["posts:delete"]);
    assert!(matches!(
        stricter.validate(&token, &keys()),
        Err(AccessTokenError::MissingPermissions { .. })
    ));
    assert!(remembering.validate(&token, &keys()).is_ok());
    // A token verified by a key the set no longer holds is verified again, against the new set.
    assert!(matches!(
        remembering.validate(&token, &other_keys("rotated-key")),
        Err(AccessTokenError::UnknownKey { .. })
    ));
    assert!(remembering.validate(&token, &keys()).is_ok());
    assert_eq!(
        remembering.validate(&token, &other_keys(KID)).unwrap_err(),
        AccessTokenError::BadSignature
    );
    // Refused tokens are not remembered: each is refused again.
    let tampered = {
        let (body, _) = token.secret().rsplit_once('.').unwrap();
        AccessToken::new(format!("{body}.AAAA")).unwrap()
    };
    for _ in 0..2 {
        assert_eq!(
            remembering.validate(&tampered, &keys()).unwrap_err(),
            AccessTokenError::BadSignature
        );
    }
    let not_yet = with(|c| c["nbf"] = json!(NOW + 120));
    assert_eq!(
        remembering.validate(&not_yet, &keys()).unwrap_err(),
        AccessTokenError::NotYetValid
    );
    let valid_later = remembering
        .clone()
        .clock(workos_connect::oauth::FixedClock(at(NOW + 120)));
    assert!(valid_later.validate(&not_yet, &keys()).is_ok());
    assert_eq!(
        remembering.validate(&not_yet, &keys()).unwrap_err(),
        AccessTokenError::NotYetValid
    );
    // What is held stays within its bound and is shown by count only.
    let small = check().remember_verified(2);
    for n in 0..20 {
        let token = with(|c| c["jti"] = json!(format!("jti-{n}")));
        assert!(small.validate(&token, &keys()).is_ok());
    }
    let shown = format!("{small:?}");
    assert!(
        !shown.contains("eyJ") && !shown.contains("user_01"),
        "{shown}"
    );
}

#[test]
fn every_accepted_algorithm_verifies_and_a_changed_signature_does_not() {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{
        EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING,
    };
    use_the_crates_backend();
    let rsa = EncodingKey::from_rsa_pem(KEY).unwrap();
    let ec = |signing| {
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(signing, &SystemRandom::new()).unwrap();
        EncodingKey::from_ec_der(pkcs8.as_ref())
    };
    let cases = [
        (Algorithm::RS256, rsa.clone()),
        (Algorithm::RS384, rsa.clone()),
        (Algorithm::RS512, rsa.clone()),
        (Algorithm::PS256, rsa.clone()),
        (Algorithm::PS384, rsa.clone()),
        (Algorithm::PS512, rsa),
        (Algorithm::ES256, ec(&ECDSA_P256_SHA256_FIXED_SIGNING)),
        (Algorithm::ES384, ec(&ECDSA_P384_SHA384_FIXED_SIGNING)),
    ];
    for (algorithm, key) in cases {
        let mut jwk = Jwk::from_encoding_key(&key, algorithm).unwrap();
        jwk.common.key_id = Some(KID.to_owned());
        let keys = KeySet::parse_fetched_at(
            &serde_json::to_vec(&JwkSet { keys: vec![jwk] }).unwrap(),
            at(NOW - 3600),
        )
        .unwrap();
        let mut header = Header::new(algorithm);
        header.kid = Some(KID.to_owned());
        let token = jsonwebtoken::encode(&header, &claims(), &key).unwrap();
        let checked = check().validate(&AccessToken::new(token.clone()).unwrap(), &keys);
        assert_eq!(checked.unwrap().sub(), "user_01", "{algorithm:?}");
        // One bit of the signature changed.
        let (body, signature) = token.rsplit_once('.').unwrap();
        let mut bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(signature)
            .unwrap();
        bytes[5] ^= 1;
        let changed = format!(
            "{body}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        );
        assert_eq!(
            check().validate(&AccessToken::new(changed).unwrap(), &keys),
            Err(AccessTokenError::BadSignature),
            "{algorithm:?}"
        );
        // The key verifies its own algorithm only.
        let mut other = Header::new(if algorithm == Algorithm::RS256 {
            Algorithm::PS256
        } else {
            Algorithm::RS256
        });
        other.kid = Some(KID.to_owned());
        let rsa = EncodingKey::from_rsa_pem(KEY).unwrap();
        let token = jsonwebtoken::encode(&other, &claims(), &rsa).unwrap();
        assert!(
            matches!(
                check().validate(&AccessToken::new(token).unwrap(), &keys),
                Err(AccessTokenError::KeyMismatch { .. })
            ),
            "{algorithm:?}"
        );
    }
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

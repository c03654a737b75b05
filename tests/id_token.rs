//! ID token validation against a JWKS, with tokens signed here by a test key.
#![cfg(feature = "id-token")]

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use workos_connect::{ConnectClient, IdToken, IdTokenError, PendingAuthorization};

const KEY: &[u8] = include_bytes!("data/id_token_test_key.pem");
const KID: &str = "test-key-1";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn key() -> EncodingKey {
    EncodingKey::from_rsa_pem(KEY).unwrap()
}

fn jwks() -> Vec<u8> {
    let mut jwk = Jwk::from_encoding_key(&key(), Algorithm::RS256).unwrap();
    jwk.common.key_id = Some(KID.to_owned());
    serde_json::to_vec(&JwkSet { keys: vec![jwk] }).unwrap()
}

fn pending() -> PendingAuthorization {
    let client = ConnectClient::new(
        "https://example.authkit.app".parse().unwrap(),
        "client_1".parse().unwrap(),
        "https://app.example/cb".parse().unwrap(),
    );
    client.authorize().build().unwrap().1
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
    IdToken::new(jsonwebtoken::encode(&header, claims, &key()).unwrap())
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
    let tampered = IdToken::new(format!("{}.{}.{}", parts[0], forged_part, parts[2]));
    assert_eq!(
        pending.id_token().validate(&tampered, &jwks()),
        Err(IdTokenError::BadSignature)
    );

    // A key ID the JWKS does not have.
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("rotated-away".into());
    let unknown = IdToken::new(jsonwebtoken::encode(&header, &claims(&pending), &key()).unwrap());
    assert_eq!(
        pending.id_token().validate(&unknown, &jwks()),
        Err(IdTokenError::UnknownKey {
            kid: Some("rotated-away".into())
        })
    );

    // HMAC with the public key as secret, the classic algorithm confusion, and `none`.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(KID.into());
    let hmac = jsonwebtoken::encode(
        &header,
        &claims(&pending),
        &EncodingKey::from_secret(&jwks()),
    )
    .unwrap();
    assert_eq!(
        pending.id_token().validate(&IdToken::new(hmac), &jwks()),
        Err(IdTokenError::UnsupportedAlgorithm {
            alg: "HS256".into()
        })
    );
    let none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
    let unsigned = IdToken::new(format!("{none_header}.{}.", parts[1]));
    assert!(pending.id_token().validate(&unsigned, &jwks()).is_err());

    // The same RSA key under another algorithm than the one the JWKS names for it.
    let mut header = Header::new(Algorithm::PS256);
    header.kid = Some(KID.into());
    let other_alg = IdToken::new(jsonwebtoken::encode(&header, &claims(&pending), &key()).unwrap());
    assert_eq!(
        pending.id_token().validate(&other_alg, &jwks()),
        Err(IdTokenError::KeyMismatch {
            kid: Some(KID.into()),
            alg: "PS256".into()
        })
    );
    // EdDSA is not accepted at all, whatever the JWKS holds.
    let eddsa_header = "eyJhbGciOiJFZERTQSIsImtpZCI6InRlc3Qta2V5LTEifQ";
    let eddsa = IdToken::new(format!("{eddsa_header}.{}.AAAA", parts[1]));
    let short_okp = br#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA","kid":"test-key-1"}]}"#;
    assert_eq!(
        pending.id_token().validate(&eddsa, short_okp),
        Err(IdTokenError::UnsupportedAlgorithm {
            alg: "EdDSA".into()
        })
    );

    // Not a JWT, and not a JWKS.
    assert_eq!(
        pending
            .id_token()
            .validate(&IdToken::new("not-a-jwt"), &jwks()),
        Err(IdTokenError::Malformed)
    );
    assert_eq!(
        pending.id_token().validate(&token, b"{\"keys\": 3}"),
        Err(IdTokenError::InvalidJwks)
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

//! An access token check against a key set parsed once, beside the floor: `jsonwebtoken::decode`
//! with a prepared `DecodingKey` and a `Validation` for the same issuer and audience. Both verify
//! the same RS256 signature; the difference is what the crate adds (the `kid` look-up, the claims
//! it types, the scope check).

use criterion::{criterion_group, criterion_main, Criterion};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use workos_connect::resource_server::{AccessTokenCheck, KeySet};
use workos_connect::AccessToken;

const KEY: &[u8] = include_bytes!("../tests/data/id_token_test_key.pem");

fn access_token(c: &mut Criterion) {
    let key = EncodingKey::from_rsa_pem(KEY).expect("the test key");
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).expect("a JWK");
    jwk.common.key_id = Some("current".into());
    let jwks = JwkSet {
        keys: vec![jwk.clone()],
    };
    let keys = KeySet::parse(&serde_json::to_vec(&jwks).expect("a JWKS")).expect("a key set");

    let now = 1_700_000_000u64;
    let claims = serde_json::json!({
        "iss": "https://example.authkit.app", "aud": "https://api.example.com/mcp",
        "sub": "user_01", "client_id": "client_01", "org_id": "org_01", "sid": "session_01",
        "scope": "openid mcp:tools", "jti": "01J", "exp": now + 300, "iat": now,
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("current".into());
    let token = jsonwebtoken::encode(&header, &claims, &key).expect("a token");
    let access_token = AccessToken::new(token.clone());

    let check = AccessTokenCheck::new(
        "https://example.authkit.app".parse().expect("issuer"),
        "https://api.example.com/mcp".parse().expect("resource"),
    )
    .require_scopes("mcp:tools".parse().expect("scope"))
    .at(now);
    assert!(check.validate(&access_token, &keys).is_ok());

    let decoding_key = DecodingKey::from_jwk(&jwk).expect("a decoding key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&["https://example.authkit.app"]);
    validation.set_audience(&["https://api.example.com/mcp"]);
    // The token's `exp` is fixed in the past of the wall clock; the floor must not refuse it.
    validation.validate_exp = false;
    assert!(jsonwebtoken::decode::<serde_json::Value>(&token, &decoding_key, &validation).is_ok());

    let mut group = c.benchmark_group("access_token");
    group.bench_function("workos-connect/validate", |b| {
        b.iter(|| check.validate(std::hint::black_box(&access_token), &keys))
    });
    group.bench_function("jsonwebtoken/decode (floor)", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<serde_json::Value>(
                std::hint::black_box(&token),
                &decoding_key,
                &validation,
            )
        })
    });
    group.finish();
}

criterion_group!(benches, access_token);
criterion_main!(benches);

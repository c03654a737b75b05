//! ID token validation against a key set parsed once, beside parsing the JWKS for every token (what
//! `validate(token, jwks_bytes)` did before `KeySet`). The JWKS is AuthKit's usual shape: two RSA
//! keys during a rotation.

use std::time::{Duration, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, Criterion};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use workos_connect::{jose::KeySet, oauth::IdToken, ConnectClient, Nonce};

const KEY: &[u8] = include_bytes!("../tests/data/id_token_test_key.pem");
/// A second, unrelated 2048-bit RSA key, as a JWKS holds during a key rotation.
const OTHER_KEY: &str = r#"{"kty":"RSA","kid":"previous","e":"AQAB","n":"sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw"}"#;

fn id_token(c: &mut Criterion) {
    let key = EncodingKey::from_rsa_pem(KEY).expect("the test key");
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).expect("a JWK");
    jwk.common.key_id = Some("current".into());
    let other: Jwk = serde_json::from_str(OTHER_KEY).expect("the other key");
    let jwks = serde_json::to_vec(&JwkSet {
        keys: vec![other, jwk],
    })
    .expect("a JWKS");

    let client = ConnectClient::new(
        "https://example.authkit.app".parse().expect("domain"),
        "client_01".parse().expect("client_id"),
        "https://app.example.com/callback"
            .parse()
            .expect("redirect_uri"),
    );
    let (_, pending) = client
        .authorize()
        .nonce(Nonce::new("n-0S6_WzA2Mj").expect("nonce"))
        .build()
        .expect("a login");
    let now = 1_700_000_000u64;
    let claims = serde_json::json!({
        "iss": "https://example.authkit.app", "aud": "client_01", "sub": "user_01",
        "exp": now + 300, "iat": now, "nonce": "n-0S6_WzA2Mj",
        "email": "ada@example.com", "email_verified": true, "org_id": "org_01",
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("current".into());
    let token =
        IdToken::new(jsonwebtoken::encode(&header, &claims, &key).expect("a token")).unwrap();

    let check = pending.id_token().clock(workos_connect::oauth::FixedClock(
        UNIX_EPOCH + Duration::from_secs(now),
    ));
    let parsed = KeySet::parse(&jwks).expect("a key set");
    assert!(check.validate(&token, &parsed).is_ok());

    let mut group = c.benchmark_group("id_token");
    group.bench_function("parsed_key_set", |b| {
        b.iter(|| check.validate(&token, &parsed))
    });
    group.bench_function("jwks_parsed_per_token", |b| {
        b.iter(|| {
            let keys = KeySet::parse(&jwks).expect("a key set");
            check.validate(&token, &keys)
        })
    });
    group.bench_function("key_set_parse_only", |b| b.iter(|| KeySet::parse(&jwks)));
    group.finish();
}

criterion_group!(benches, id_token);
criterion_main!(benches);

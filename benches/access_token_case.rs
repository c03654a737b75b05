//! The access token check and its floor, prepared once for the criterion bench and the instruction
//! counts: an RS256 AuthKit-shaped access token, the key set this crate parses, and
//! `jsonwebtoken::decode`'s prepared `DecodingKey` and `Validation` for the same issuer and audience.

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, TokenData, Validation};
use workos_connect::resource_server::{
    AccessTokenCheck, AccessTokenClaims, AccessTokenError, KeySet,
};
use workos_connect::AccessToken;

const KEY: &[u8] = include_bytes!("../tests/data/id_token_test_key.pem");
const ISSUER: &str = "https://example.authkit.app";
const RESOURCE: &str = "https://api.example.com/mcp";

/// Both sides of the comparison, ready to check the same token.
pub struct AccessTokenCase {
    pub check: AccessTokenCheck,
    pub keys: KeySet,
    pub access_token: AccessToken,
    pub token: String,
    pub decoding_key: DecodingKey,
    pub validation: Validation,
}

impl AccessTokenCase {
    pub fn new() -> AccessTokenCase {
        let key = EncodingKey::from_rsa_pem(KEY).expect("the test key");
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).expect("a JWK");
        jwk.common.key_id = Some("current".into());
        let jwks = JwkSet {
            keys: vec![jwk.clone()],
        };
        let keys = KeySet::parse(&serde_json::to_vec(&jwks).expect("a JWKS")).expect("a key set");

        let now = 1_700_000_000u64;
        let claims = serde_json::json!({
            "iss": ISSUER, "aud": RESOURCE,
            "sub": "user_01", "client_id": "client_01", "org_id": "org_01", "sid": "session_01",
            "scope": "openid mcp:tools", "jti": "01J", "exp": now + 300, "iat": now,
        });
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("current".into());
        let token = jsonwebtoken::encode(&header, &claims, &key).expect("a token");

        let check = AccessTokenCheck::new(
            ISSUER.parse().expect("issuer"),
            RESOURCE.parse().expect("resource"),
        )
        .require_scopes("mcp:tools".parse().expect("scope"))
        .at(now);

        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[RESOURCE]);
        // The token's `exp` is fixed in the past of the wall clock; the floor must not refuse it.
        validation.validate_exp = false;

        let case = AccessTokenCase {
            check,
            keys,
            access_token: AccessToken::new(token.clone()).unwrap(),
            token,
            decoding_key: DecodingKey::from_jwk(&jwk).expect("a decoding key"),
            validation,
        };
        assert!(case.ours().is_ok(), "this crate accepts the token");
        assert!(case.floor().is_ok(), "jsonwebtoken accepts the token");
        case
    }

    /// This crate's check.
    pub fn ours(&self) -> Result<AccessTokenClaims, AccessTokenError> {
        self.check.validate(&self.access_token, &self.keys)
    }

    /// The floor: a bare `jsonwebtoken::decode`.
    pub fn floor(&self) -> jsonwebtoken::errors::Result<TokenData<serde_json::Value>> {
        jsonwebtoken::decode::<serde_json::Value>(&self.token, &self.decoding_key, &self.validation)
    }
}

impl Default for AccessTokenCase {
    fn default() -> Self {
        Self::new()
    }
}

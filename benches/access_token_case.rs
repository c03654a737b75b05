//! The access token check and what it is compared with, prepared once for the criterion bench and
//! the instruction counts: an RS256 access token with AuthKit's claims, the key set this crate
//! parses, `jsonwebtoken::decode`'s prepared `DecodingKey` and `Validation` for the same issuer and
//! audience, and the floor: the token's one RSA signature verified by `aws-lc-rs` with the key
//! parsed once.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::signature::{ParsedPublicKey, RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::jwk::AlgorithmParameters;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, TokenData, Validation};
use workos_connect::oauth::AccessToken;
use workos_connect::{
    jose::KeySet,
    resource_server::{
        AccessTokenCheck, AccessTokenClaims, AccessTokenError, RequestCheck, RequestDecision,
        ResourceRequest,
    },
};

const KEY: &[u8] = include_bytes!("../tests/data/id_token_test_key.pem");
const ISSUER: &str = "https://example.authkit.app";
const RESOURCE: &str = "https://api.example.com/mcp";

/// Both sides of the comparison, ready to check the same token.
pub struct AccessTokenCase {
    pub check: AccessTokenCheck,
    /// The same check, remembering verified tokens; this token is in it already.
    pub remembering: AccessTokenCheck,
    pub keys: KeySet,
    /// A resource server's whole check of a request, over the remembering check.
    pub request_check: RequestCheck,
    /// The request's `Authorization` value: `Bearer` and the token.
    pub authorization: String,
    pub now: SystemTime,
    pub access_token: AccessToken,
    pub token: String,
    pub decoding_key: DecodingKey,
    pub validation: Validation,
    /// The signed part (`header.payload`) and the signature, decoded.
    pub message: Vec<u8>,
    pub signature: Vec<u8>,
    pub parsed_key: ParsedPublicKey,
    pub modulus: Vec<u8>,
    pub exponent: Vec<u8>,
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
            "scope": "openid mcp:tools", "jti": "01JDKQ2V0TQ5C8M4X9Z6W1YB3N", "exp": now + 300, "iat": now,
            "role": "member", "roles": ["member"],
            "permissions": ["posts:read", "posts:write", "projects:read"],
            "entitlements": ["audit-logs"], "feature_flags": ["new-editor", "beta-search"],
        });
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("current".into());
        let token = jsonwebtoken::encode(&header, &claims, &key).expect("a token");

        let check = AccessTokenCheck::new(
            ISSUER.parse().expect("issuer"),
            RESOURCE.parse().expect("resource"),
        )
        .require_scopes("mcp:tools".parse().expect("scope"))
        .clock(workos_connect::oauth::FixedClock(
            UNIX_EPOCH + Duration::from_secs(now),
        ));

        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[RESOURCE]);
        // The token's `exp` is fixed in the past of the wall clock; the floor must not refuse it.
        validation.validate_exp = false;

        let (message, signature) = token.rsplit_once('.').expect("three parts");
        let (message, signature) = (
            message.as_bytes().to_vec(),
            URL_SAFE_NO_PAD.decode(signature).expect("a signature"),
        );
        let AlgorithmParameters::RSA(rsa) = &jwk.algorithm else {
            panic!("an RSA key")
        };
        let modulus = URL_SAFE_NO_PAD.decode(&rsa.n).expect("n");
        let exponent = URL_SAFE_NO_PAD.decode(&rsa.e).expect("e");
        let parsed_key = RsaPublicKeyComponents {
            n: &modulus,
            e: &exponent,
        }
        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
        .expect("a parsed key");
        let remembering = check.clone().remember_verified(1024);
        let case = AccessTokenCase {
            request_check: RequestCheck::api(remembering.clone()).expect("a request check"),
            authorization: format!("Bearer {token}"),
            now: UNIX_EPOCH + Duration::from_secs(now),
            remembering,
            check,
            keys,
            access_token: AccessToken::new(token.clone()).unwrap(),
            token,
            decoding_key: DecodingKey::from_jwk(&jwk).expect("a decoding key"),
            validation,
            message,
            signature,
            parsed_key,
            modulus,
            exponent,
        };
        assert!(case.ours().is_ok(), "this crate accepts the token");
        assert!(case.ours_again().is_ok(), "and remembers it");
        assert!(case.request(), "the request check takes the request");
        assert!(case.decode().is_ok(), "jsonwebtoken accepts the token");
        assert!(case.floor(), "aws-lc-rs verifies the signature");
        assert!(
            case.verify_from_components(),
            "from the key's components too"
        );
        case
    }

    /// This crate's check of a token it has not seen.
    pub fn ours(&self) -> Result<AccessTokenClaims, AccessTokenError> {
        self.check.validate(&self.access_token, &self.keys)
    }

    /// This crate's check of a token it verified before.
    pub fn ours_again(&self) -> Result<AccessTokenClaims, AccessTokenError> {
        self.remembering.validate(&self.access_token, &self.keys)
    }

    /// A resource server's whole decision on a request carrying the token, verified before, as
    /// `Bearer`: its `Authorization` header read, the token looked up and its claims checked.
    pub fn request(&self) -> bool {
        let request = ResourceRequest::new("POST", "/mcp")
            .header("authorization", self.authorization.as_bytes());
        matches!(
            self.request_check
                .check(&request, Some(&self.keys), self.now),
            RequestDecision::Accept(_)
        )
    }

    /// A bare `jsonwebtoken::decode`.
    pub fn decode(&self) -> jsonwebtoken::errors::Result<TokenData<serde_json::Value>> {
        jsonwebtoken::decode::<serde_json::Value>(&self.token, &self.decoding_key, &self.validation)
    }

    /// The floor: the signature alone, by a key parsed once.
    pub fn floor(&self) -> bool {
        self.parsed_key
            .verify_sig(&self.message, &self.signature)
            .is_ok()
    }

    /// The signature alone, with the key built from `n` and `e` for the call, as `jsonwebtoken`
    /// does with a key from a JWKS.
    pub fn verify_from_components(&self) -> bool {
        RsaPublicKeyComponents {
            n: &self.modulus,
            e: &self.exponent,
        }
        .verify(&RSA_PKCS1_2048_8192_SHA256, &self.message, &self.signature)
        .is_ok()
    }
}

impl Default for AccessTokenCase {
    fn default() -> Self {
        Self::new()
    }
}

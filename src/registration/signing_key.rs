//! A client's private signing key, and the client assertion it signs for `private_key_jwt` client
//! authentication (RFC 7523 sections 2.2 and 3, RFC 7521 section 4.2).

use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::crypto::CryptoProvider;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde::Serialize;
use serde_with::{DeserializeFromStr, SerializeDisplay};
use zeroize::{Zeroize, Zeroizing};

use crate::oauth::client_id::ClientId;
use crate::oauth::clock::unix_seconds;
use crate::oauth::encoding::is_vschar;
use crate::oauth::secret::generate_token;

/// `client_assertion_type` of a JWT client assertion (RFC 7523 section 2.2).
pub const CLIENT_ASSERTION_TYPE_JWT_BEARER: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long a client assertion is good for: long enough to cross the network and a skewed clock,
/// short enough that a captured one is soon useless (RFC 7523 section 3 asks for a limited window).
pub const CLIENT_ASSERTION_LIFETIME_SECS: u64 = 60;

/// A JWS algorithm a client may sign its assertions with: RSA or ECDSA, the asymmetric ones a
/// server verifies with the client's published key (`token_endpoint_auth_signing_alg_values_supported`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, SerializeDisplay, DeserializeFromStr)]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// RSASSA-PSS with SHA-256.
    Ps256,
    /// RSASSA-PSS with SHA-384.
    Ps384,
    /// RSASSA-PSS with SHA-512.
    Ps512,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// ECDSA on P-384 with SHA-384.
    Es384,
}

impl SigningAlgorithm {
    /// The algorithm's JWS name (`RS256`, `ES256`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            SigningAlgorithm::Rs256 => "RS256",
            SigningAlgorithm::Rs384 => "RS384",
            SigningAlgorithm::Rs512 => "RS512",
            SigningAlgorithm::Ps256 => "PS256",
            SigningAlgorithm::Ps384 => "PS384",
            SigningAlgorithm::Ps512 => "PS512",
            SigningAlgorithm::Es256 => "ES256",
            SigningAlgorithm::Es384 => "ES384",
        }
    }

    const fn jws(self) -> Algorithm {
        match self {
            SigningAlgorithm::Rs256 => Algorithm::RS256,
            SigningAlgorithm::Rs384 => Algorithm::RS384,
            SigningAlgorithm::Rs512 => Algorithm::RS512,
            SigningAlgorithm::Ps256 => Algorithm::PS256,
            SigningAlgorithm::Ps384 => Algorithm::PS384,
            SigningAlgorithm::Ps512 => Algorithm::PS512,
            SigningAlgorithm::Es256 => Algorithm::ES256,
            SigningAlgorithm::Es384 => Algorithm::ES384,
        }
    }

    const fn is_ecdsa(self) -> bool {
        matches!(self, SigningAlgorithm::Es256 | SigningAlgorithm::Es384)
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SigningAlgorithm {
    type Err = SigningKeyError;

    fn from_str(name: &str) -> Result<Self, SigningKeyError> {
        const ALL: [SigningAlgorithm; 8] = [
            SigningAlgorithm::Rs256,
            SigningAlgorithm::Rs384,
            SigningAlgorithm::Rs512,
            SigningAlgorithm::Ps256,
            SigningAlgorithm::Ps384,
            SigningAlgorithm::Ps512,
            SigningAlgorithm::Es256,
            SigningAlgorithm::Es384,
        ];
        ALL.into_iter()
            .find(|algorithm| algorithm.as_str() == name)
            .ok_or_else(|| SigningKeyError::UnsupportedAlgorithm {
                alg: name.chars().filter(|c| !c.is_control()).take(32).collect(),
            })
    }
}

/// Why a signing key cannot be made, or an assertion cannot be signed. No message quotes the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SigningKeyError {
    /// An algorithm name this crate does not sign with.
    #[error(
        "signing algorithm {alg:?} is not supported; use RS256, RS384, RS512, PS256, PS384, \
         PS512, ES256 or ES384"
    )]
    UnsupportedAlgorithm {
        /// The name given, without control characters.
        alg: String,
    },
    /// Not a PEM private key of the algorithm's kind.
    #[error(
        "the private key is not a PEM {expected} private key; give a PKCS#8 (`BEGIN PRIVATE KEY`) \
         {alternatives}, unencrypted"
    )]
    NotPrivateKey {
        /// The kind of key the algorithm needs: `RSA` or `EC`.
        expected: &'static str,
        /// The PEM forms taken for that kind.
        alternatives: &'static str,
    },
    /// A key of the right kind that cannot sign with the algorithm: an EC key on another curve, an
    /// RSA key too short.
    #[error(
        "the private key cannot sign with {alg}: an ES256 key must be on P-256, an ES384 key on \
         P-384, and an RSA key at least 2048 bits"
    )]
    WrongKey {
        /// The algorithm.
        alg: SigningAlgorithm,
    },
    /// A `kid` that is empty or not printable ASCII.
    #[error("the key ID must be 1 or more printable ASCII characters")]
    InvalidKeyId,
    /// The signature could not be made (the system's random source failed).
    #[error("the client assertion could not be signed with {alg}")]
    Signing {
        /// The algorithm.
        alg: SigningAlgorithm,
    },
}

/// A client's private key for `private_key_jwt` (RFC 7523 section 2.2): it signs a short-lived JWT
/// for each token request, which the authorization server checks against the public key the
/// client registered (its `jwks` or `jwks_uri`).
///
/// Made from an unencrypted PEM private key: PKCS#8 (`BEGIN PRIVATE KEY`) for every algorithm, or
/// PKCS#1 (`BEGIN RSA PRIVATE KEY`) for RSA. The key is checked by signing once when made, so a
/// public key, a key of another kind or curve, or garbage is refused then, not at the first token
/// request. Its `Debug` shows the algorithm and `kid` only; the PEM is wiped when dropped.
///
/// ```
/// use workos_connect::registration::{ClientSigningKey, SigningAlgorithm};
///
/// let pem = b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n";
/// assert!(ClientSigningKey::from_pem(SigningAlgorithm::Es256, pem).is_err());
/// ```
#[derive(Clone)]
pub struct ClientSigningKey {
    algorithm: SigningAlgorithm,
    kid: Option<String>,
    /// Kept to store the credentials again: an `EncodingKey` cannot be written back as PEM.
    pem: Zeroizing<Vec<u8>>,
    key: EncodingKey,
}

/// The claims of a client assertion (RFC 7523 section 3).
#[derive(Serialize)]
struct AssertionClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    jti: &'a str,
    iat: u64,
    exp: u64,
}

#[derive(Serialize)]
struct AssertionHeader<'a> {
    alg: &'static str,
    typ: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
}

impl ClientSigningKey {
    /// The key in `pem`, to sign with `algorithm`.
    pub fn from_pem(algorithm: SigningAlgorithm, pem: &[u8]) -> Result<Self, SigningKeyError> {
        let parsed = if algorithm.is_ecdsa() {
            EncodingKey::from_ec_pem(pem).map_err(|_| SigningKeyError::NotPrivateKey {
                expected: "EC",
                alternatives: "key",
            })?
        } else {
            EncodingKey::from_rsa_pem(pem).map_err(|_| SigningKeyError::NotPrivateKey {
                expected: "RSA",
                alternatives: "or PKCS#1 (`BEGIN RSA PRIVATE KEY`) key",
            })?
        };
        let key = ClientSigningKey {
            algorithm,
            kid: None,
            pem: Zeroizing::new(pem.to_vec()),
            key: parsed,
        };
        // `from_rsa_pem` also takes a public key, and neither parser checks the curve or the size:
        // one signature tells.
        key.sign(b"workos-connect key check")
            .map_err(|_| SigningKeyError::WrongKey { alg: algorithm })?;
        Ok(key)
    }

    /// Names the key in each assertion's `kid` header, for a server that holds several of this
    /// client's keys.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Result<Self, SigningKeyError> {
        let kid = kid.into();
        if kid.is_empty() || !kid.bytes().all(is_vschar) {
            return Err(SigningKeyError::InvalidKeyId);
        }
        self.kid = Some(kid);
        Ok(self)
    }

    /// The algorithm.
    pub fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }

    /// The `kid`, if one was given.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    pub(crate) fn pem(&self) -> &[u8] {
        &self.pem
    }

    /// A client assertion for `client_id` to present to the authorization server `audience` (its
    /// issuer identifier, RFC 7523 section 3), issued at `issued_at` (taken in whole seconds):
    /// `iss` and `sub` the `client_id`, a fresh random `jti` so that the server can refuse a
    /// replay, and `exp` [`CLIENT_ASSERTION_LIFETIME_SECS`] later. A compact JWS, to send as
    /// `client_assertion` with `client_assertion_type` [`CLIENT_ASSERTION_TYPE_JWT_BEARER`]; keep
    /// it out of logs.
    pub fn client_assertion(
        &self,
        client_id: &ClientId,
        audience: &str,
        issued_at: SystemTime,
    ) -> Result<String, SigningKeyError> {
        let issued_at = unix_seconds(issued_at);
        let jti = generate_token();
        let claims = AssertionClaims {
            iss: client_id.as_str(),
            sub: client_id.as_str(),
            aud: audience,
            jti: &jti,
            iat: issued_at,
            exp: issued_at.saturating_add(CLIENT_ASSERTION_LIFETIME_SECS),
        };
        let header = AssertionHeader {
            alg: self.algorithm.as_str(),
            typ: "JWT",
            kid: self.kid.as_deref(),
        };
        let signing = SigningKeyError::Signing {
            alg: self.algorithm,
        };
        let header = serde_json::to_vec(&header).map_err(|_| signing.clone())?;
        let claims = serde_json::to_vec(&claims).map_err(|_| signing.clone())?;
        let mut token = URL_SAFE_NO_PAD.encode(header);
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(claims));
        let mut signature = self.sign(token.as_bytes()).map_err(|_| signing)?;
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(&signature));
        signature.zeroize();
        Ok(token)
    }

    /// Signs with the backend the crate's features chose, without installing a process-wide
    /// `jsonwebtoken` provider (which panics when it cannot choose between two).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, ()> {
        let signer =
            (provider().signer_factory)(&self.algorithm.jws(), &self.key).map_err(|_| ())?;
        signer.try_sign(message).map_err(|_| ())
    }
}

#[cfg(feature = "aws-lc-rs")]
fn provider() -> &'static CryptoProvider {
    &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER
}

#[cfg(all(not(feature = "aws-lc-rs"), feature = "rust-crypto"))]
fn provider() -> &'static CryptoProvider {
    &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER
}

#[cfg(not(any(feature = "aws-lc-rs", feature = "rust-crypto")))]
compile_error!(
    "workos-connect's `private-key-jwt` feature needs a signature backend: enable `aws-lc-rs` \
     (the default) or `rust-crypto`"
);

impl fmt::Debug for ClientSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSigningKey")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::clock::at_unix;
    use jsonwebtoken::{DecodingKey, Validation};
    use serde_json::Value;

    const ES256: &[u8] = include_bytes!("../../tests/data/client-es256.pem");
    const ES256_PUBLIC: &[u8] = include_bytes!("../../tests/data/client-es256.pub.pem");
    const ES384: &[u8] = include_bytes!("../../tests/data/client-es384.pem");
    const RSA_PKCS1: &[u8] = include_bytes!("../../tests/data/client-rs256-pkcs1.pem");
    const RSA_PUBLIC: &[u8] = include_bytes!("../../tests/data/client-rs256.pub.pem");
    const RSA_PKCS8: &[u8] = include_bytes!("../../tests/data/id_token_test_key.pem");

    fn verified(token: &str, algorithm: Algorithm, key: &DecodingKey, audience: &str) -> Value {
        let mut validation = Validation::new(algorithm);
        validation.set_audience(&[audience]);
        validation.set_issuer(&["svc-1"]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "sub", "aud", "jti"]);
        // The assertions are signed at a fixed moment, long past.
        validation.validate_exp = false;
        jsonwebtoken::decode::<Value>(token, key, &validation)
            .unwrap()
            .claims
    }

    #[test]
    fn an_es256_assertion_carries_rfc_7523s_claims_and_verifies() {
        let key = ClientSigningKey::from_pem(SigningAlgorithm::Es256, ES256)
            .unwrap()
            .with_kid("key-1")
            .unwrap();
        let client_id: ClientId = "svc-1".parse().unwrap();
        let now = 1_700_000_000;
        let token = key
            .client_assertion(&client_id, "https://auth.example.com", at_unix(now))
            .unwrap();
        let public = DecodingKey::from_ec_pem(ES256_PUBLIC).unwrap();
        let claims = verified(
            &token,
            Algorithm::ES256,
            &public,
            "https://auth.example.com",
        );
        assert_eq!(claims["iss"], "svc-1");
        assert_eq!(claims["sub"], "svc-1");
        assert_eq!(claims["aud"], "https://auth.example.com");
        assert_eq!(claims["iat"], now);
        assert_eq!(claims["exp"], now + CLIENT_ASSERTION_LIFETIME_SECS);
        assert_eq!(claims["jti"].as_str().unwrap().len(), 43);
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some("key-1"));
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        // A fresh jti each time, so that the server can refuse a replay.
        let again = key
            .client_assertion(&client_id, "https://auth.example.com", at_unix(now))
            .unwrap();
        let jti = |token: &str| {
            verified(token, Algorithm::ES256, &public, "https://auth.example.com")["jti"].clone()
        };
        assert_ne!(jti(&token), jti(&again));
        // Another audience does not verify as this one.
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&["https://other.example.com"]);
        assert!(jsonwebtoken::decode::<Value>(&token, &public, &validation).is_err());
    }

    #[test]
    fn rsa_keys_sign_from_pkcs1_and_pkcs8() {
        let client_id: ClientId = "svc-1".parse().unwrap();
        let now = at_unix(1_700_000_000);
        let pkcs1 = ClientSigningKey::from_pem(SigningAlgorithm::Rs256, RSA_PKCS1).unwrap();
        let token = pkcs1.client_assertion(&client_id, "aud", now).unwrap();
        let public = DecodingKey::from_rsa_pem(RSA_PUBLIC).unwrap();
        assert_eq!(
            verified(&token, Algorithm::RS256, &public, "aud")["sub"],
            "svc-1"
        );
        assert!(jsonwebtoken::decode_header(&token).unwrap().kid.is_none());
        let pkcs8 = ClientSigningKey::from_pem(SigningAlgorithm::Ps256, RSA_PKCS8).unwrap();
        let token = pkcs8.client_assertion(&client_id, "aud", now).unwrap();
        assert_eq!(
            jsonwebtoken::decode_header(&token).unwrap().alg,
            Algorithm::PS256
        );
    }

    #[test]
    fn keys_of_the_wrong_kind_or_no_key_are_refused() {
        let not_ec = SigningKeyError::NotPrivateKey {
            expected: "EC",
            alternatives: "key",
        };
        assert_eq!(
            ClientSigningKey::from_pem(SigningAlgorithm::Es256, b"garbage").unwrap_err(),
            not_ec
        );
        assert_eq!(
            ClientSigningKey::from_pem(SigningAlgorithm::Es256, RSA_PKCS8).unwrap_err(),
            not_ec
        );
        assert_eq!(
            ClientSigningKey::from_pem(SigningAlgorithm::Es256, ES256_PUBLIC).unwrap_err(),
            not_ec
        );
        assert!(matches!(
            ClientSigningKey::from_pem(SigningAlgorithm::Rs256, ES256).unwrap_err(),
            SigningKeyError::NotPrivateKey {
                expected: "RSA",
                ..
            }
        ));
        // A public key parses as RSA but cannot sign; a P-384 key cannot sign ES256.
        assert_eq!(
            ClientSigningKey::from_pem(SigningAlgorithm::Rs256, RSA_PUBLIC).unwrap_err(),
            SigningKeyError::WrongKey {
                alg: SigningAlgorithm::Rs256
            }
        );
        assert_eq!(
            ClientSigningKey::from_pem(SigningAlgorithm::Es256, ES384).unwrap_err(),
            SigningKeyError::WrongKey {
                alg: SigningAlgorithm::Es256
            }
        );
        assert!(ClientSigningKey::from_pem(SigningAlgorithm::Es384, ES384).is_ok());
        let key = ClientSigningKey::from_pem(SigningAlgorithm::Es256, ES256).unwrap();
        assert_eq!(
            key.clone().with_kid("").unwrap_err(),
            SigningKeyError::InvalidKeyId
        );
        assert_eq!(
            key.with_kid("a\nb").unwrap_err(),
            SigningKeyError::InvalidKeyId
        );
    }

    #[test]
    fn debug_and_errors_show_no_key() {
        let key = ClientSigningKey::from_pem(SigningAlgorithm::Es256, ES256).unwrap();
        let shown = format!("{key:?}");
        assert!(
            shown.contains("Es256") && !shown.contains("PRIVATE"),
            "{shown}"
        );
        let error = ClientSigningKey::from_pem(SigningAlgorithm::Rs256, ES256).unwrap_err();
        assert!(!format!("{error} {error:?}").contains("MII"));
    }

    #[test]
    fn algorithm_names_round_trip_and_unknown_ones_are_refused() {
        for name in ["RS256", "PS384", "ES256", "ES384"] {
            assert_eq!(name.parse::<SigningAlgorithm>().unwrap().as_str(), name);
        }
        for name in ["HS256", "none", "es256", "EdDSA"] {
            assert!(matches!(
                name.parse::<SigningAlgorithm>(),
                Err(SigningKeyError::UnsupportedAlgorithm { .. })
            ));
        }
    }
}

//! ID token validation (feature `id-token`): signature against the AuthKit domain's JWKS, issuer,
//! audience, lifetime and nonce, as OpenID Connect Core section 3.1.3.7 requires.

use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::clock::unix_now;
use crate::credential::IdToken;
use crate::pending::PendingAuthorization;

/// The signature algorithms accepted: RSA and ECDSA only, so that a key from the JWKS can never be
/// used as an HMAC secret, and never `none`. (EdDSA is left out: a malformed Ed25519 key in a JWKS
/// makes the verifier panic.)
const ACCEPTED: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// The algorithm a key that names none may be used with: WorkOS signs ID tokens with RS256. Pinning
/// it keeps one RSA key from verifying six algorithms (OpenID Connect Core section 3.1.3.7, step 7).
const DEFAULT_ALGORITHM: Algorithm = Algorithm::RS256;

/// The longest leeway accepted, so that a huge one cannot overflow the time arithmetic.
const MAX_LEEWAY_SECS: u64 = 24 * 60 * 60;

/// Clock skew allowed on `exp` and `iat`, unless the check is told otherwise.
pub const DEFAULT_LEEWAY_SECS: u64 = 60;

/// The claims of a validated ID token that WorkOS Connect issues.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdTokenClaims {
    /// The issuer: the AuthKit domain.
    pub iss: String,
    /// The user's stable identifier.
    pub sub: String,
    /// The audiences; the client ID among them.
    pub aud: Vec<String>,
    /// Expiry, in seconds since the Unix epoch.
    pub exp: u64,
    /// Issue time, in seconds since the Unix epoch.
    pub iat: u64,
    /// The nonce of the login; equal to the pending login's once validated.
    pub nonce: Option<String>,
    /// The authorized party, present when there are several audiences.
    pub azp: Option<String>,
    /// Full name (scope `profile`).
    pub name: Option<String>,
    /// Given name (scope `profile`).
    pub given_name: Option<String>,
    /// Family name (scope `profile`).
    pub family_name: Option<String>,
    /// Email address (scope `email`).
    pub email: Option<String>,
    /// Whether the email address was verified (scope `email`).
    pub email_verified: Option<bool>,
}

/// The claims as they arrive, every one optional, so that a missing one is reported by name.
#[derive(Deserialize)]
struct RawClaims {
    iss: Option<String>,
    sub: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    aud: Vec<String>,
    exp: Option<u64>,
    iat: Option<u64>,
    nonce: Option<String>,
    azp: Option<String>,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    email: Option<String>,
    email_verified: Option<bool>,
}

impl RawClaims {
    fn into_claims(self) -> Result<IdTokenClaims, IdTokenError> {
        let missing = |claim: &str| IdTokenError::MissingClaim {
            claim: claim.to_owned(),
        };
        Ok(IdTokenClaims {
            iss: self.iss.ok_or_else(|| missing("iss"))?,
            sub: self.sub.ok_or_else(|| missing("sub"))?,
            aud: self.aud,
            exp: self.exp.ok_or_else(|| missing("exp"))?,
            iat: self.iat.ok_or_else(|| missing("iat"))?,
            nonce: self.nonce,
            azp: self.azp,
            name: self.name,
            given_name: self.given_name,
            family_name: self.family_name,
            email: self.email,
            email_verified: self.email_verified,
        })
    }
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

/// Why an ID token was refused. Each cause is its own variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdTokenError {
    /// Not a JWT: not three base64url parts, or a header or claims that are not the expected JSON.
    #[error("the ID token is not a well-formed JWT")]
    Malformed,
    /// A signature algorithm this crate does not accept (`none`, HMAC, or unknown).
    #[error(
        "the ID token is signed with {alg}, which is not accepted; only asymmetric algorithms are"
    )]
    UnsupportedAlgorithm {
        /// The algorithm named in the header.
        alg: String,
    },
    /// The JWKS document is not a JSON Web Key Set, or its key cannot be used.
    #[error("the JWKS is not a usable JSON Web Key Set")]
    InvalidJwks,
    /// No key in the JWKS has the token's `kid` (or the token has none and the set has several keys).
    #[error("no key in the JWKS matches the ID token's key ID {kid:?}; fetch the JWKS again")]
    UnknownKey {
        /// The key ID in the token's header.
        kid: Option<String>,
    },
    /// The key named is not for signatures with this algorithm.
    #[error("the JWKS key {kid:?} is not for {alg} signatures")]
    KeyMismatch {
        /// The key ID.
        kid: Option<String>,
        /// The algorithm in the token's header.
        alg: String,
    },
    /// The signature does not verify with the key.
    #[error("the ID token's signature does not verify")]
    BadSignature,
    /// A required claim is missing.
    #[error("the ID token has no `{claim}` claim")]
    MissingClaim {
        /// The claim.
        claim: String,
    },
    /// `iss` is not the AuthKit domain the login went to.
    #[error("the ID token's issuer is not `{expected}`")]
    WrongIssuer {
        /// The issuer expected.
        expected: String,
    },
    /// `aud` does not contain the client ID.
    #[error("the ID token's audience does not include `{client_id}`")]
    WrongAudience {
        /// The client ID expected.
        client_id: String,
    },
    /// `aud` lists audiences besides the client ID, which this client does not trust (OpenID Connect
    /// Core section 3.1.3.7, step 3).
    #[error("the ID token is also meant for other audiences than `{client_id}`")]
    UntrustedAudience {
        /// The client ID expected.
        client_id: String,
    },
    /// `azp` is present and is not the client ID (OpenID Connect Core section 3.1.3.7, step 5).
    #[error("the ID token's `azp` is not `{client_id}`")]
    WrongAuthorizedParty {
        /// The client ID expected.
        client_id: String,
    },
    /// `exp` has passed (beyond the leeway).
    #[error("the ID token has expired")]
    Expired,
    /// `iat` or `nbf` lies in the future (beyond the leeway).
    #[error("the ID token is not valid yet: it was issued in the future")]
    NotYetValid,
    /// No `nonce`, though the login sent one.
    #[error("the ID token has no `nonce`")]
    MissingNonce,
    /// `nonce` is not the login's: a replayed or injected token.
    #[error("the ID token's `nonce` is not this login's")]
    NonceMismatch,
}

/// Validates an ID token for a pending login; made by [`PendingAuthorization::id_token`].
#[derive(Debug, Clone)]
#[must_use = "call `validate`"]
pub struct IdTokenCheck<'p> {
    pending: &'p PendingAuthorization,
    leeway_secs: u64,
}

impl PendingAuthorization {
    /// Starts validating the ID token from this login's token response, with a leeway of 60 seconds
    /// on `exp` and `iat`.
    ///
    /// Validate it before using the access token: for an application without PKCE, the `nonce` in
    /// the ID token is what ties the code to this login. The ID token of a refresh carries no
    /// `nonce` (OpenID Connect Core section 12.2), so this check, which requires one, is for the
    /// login's token response only.
    pub fn id_token(&self) -> IdTokenCheck<'_> {
        IdTokenCheck {
            pending: self,
            leeway_secs: DEFAULT_LEEWAY_SECS,
        }
    }
}

impl IdTokenCheck<'_> {
    /// The clock skew allowed on `exp`, `nbf` and `iat`, at most a day.
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.leeway_secs = seconds.min(MAX_LEEWAY_SECS);
        self
    }

    /// Validates `id_token` against `jwks`, the JSON the app fetched from the AuthKit domain's
    /// `/oauth2/jwks` (see [`AuthKitDomain::jwks_endpoint`](crate::AuthKitDomain::jwks_endpoint)):
    /// the signature with the key its `kid` names, `iss` equal to the login's issuer, `aud` containing
    /// the client ID (and `azp` when there are several), `exp`, `iat` and `nbf` within the leeway, and
    /// `nonce` equal to the login's, compared in constant time.
    pub fn validate(&self, id_token: &IdToken, jwks: &[u8]) -> Result<IdTokenClaims, IdTokenError> {
        let token = id_token.secret();
        let header = jsonwebtoken::decode_header(token).map_err(|_| IdTokenError::Malformed)?;
        if !ACCEPTED.contains(&header.alg) {
            return Err(IdTokenError::UnsupportedAlgorithm {
                alg: format!("{:?}", header.alg),
            });
        }
        let keys: JwkSet = serde_json::from_slice(jwks).map_err(|_| IdTokenError::InvalidJwks)?;
        let jwk = find_key(&keys, header.kid.as_deref())?;
        if !key_fits(jwk, header.alg) {
            return Err(IdTokenError::KeyMismatch {
                kid: header.kid.clone(),
                alg: format!("{:?}", header.alg),
            });
        }
        let key = DecodingKey::from_jwk(jwk).map_err(|_| IdTokenError::InvalidJwks)?;

        let issuer = self.pending.issuer().issuer();
        let client_id = self.pending.client_id().as_str();
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = self.leeway_secs;
        validation.validate_nbf = true;

        install_crypto_provider();
        let claims = jsonwebtoken::decode::<RawClaims>(token, &key, &validation)
            .map_err(|error| map_error(error.kind(), header.alg, issuer, client_id))?
            .claims
            .into_claims()?;

        if claims.aud.len() > 1 {
            return Err(IdTokenError::UntrustedAudience {
                client_id: client_id.to_owned(),
            });
        }
        if claims.azp.as_deref().is_some_and(|azp| azp != client_id) {
            return Err(IdTokenError::WrongAuthorizedParty {
                client_id: client_id.to_owned(),
            });
        }
        if claims.iat > unix_now().saturating_add(self.leeway_secs) {
            return Err(IdTokenError::NotYetValid);
        }
        match claims.nonce.as_deref() {
            None => Err(IdTokenError::MissingNonce),
            Some(nonce) if !self.pending.nonce().matches(nonce) => Err(IdTokenError::NonceMismatch),
            Some(_) => Ok(claims),
        }
    }
}

/// The key the header names, or the only key when the header names none.
fn find_key<'k>(keys: &'k JwkSet, kid: Option<&str>) -> Result<&'k Jwk, IdTokenError> {
    let found = match kid {
        Some(kid) => keys.find(kid),
        None => match keys.keys.as_slice() {
            [only] => Some(only),
            _ => None,
        },
    };
    found.ok_or_else(|| IdTokenError::UnknownKey {
        kid: kid.map(str::to_owned),
    })
}

/// Whether the key may verify signatures made with `alg`: it is for signatures (or says nothing), and
/// `alg` is the algorithm it names, or RS256 when it names none.
fn key_fits(jwk: &Jwk, alg: Algorithm) -> bool {
    let for_signing = matches!(
        jwk.common.public_key_use,
        None | Some(PublicKeyUse::Signature)
    );
    let key_algorithm = jwk
        .common
        .key_algorithm
        .unwrap_or(KeyAlgorithm::from(DEFAULT_ALGORITHM));
    for_signing && key_algorithm == KeyAlgorithm::from(alg)
}

/// Selects the RustCrypto provider unless the application already chose one; needed when another
/// crate in the build also enables `jsonwebtoken`'s other backend.
fn install_crypto_provider() {
    // An error means a provider is installed already, which is as good.
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
}

fn map_error(
    kind: &jsonwebtoken::errors::ErrorKind,
    alg: Algorithm,
    issuer: &str,
    client_id: &str,
) -> IdTokenError {
    use jsonwebtoken::errors::ErrorKind;
    match kind {
        ErrorKind::InvalidSignature => IdTokenError::BadSignature,
        ErrorKind::ExpiredSignature => IdTokenError::Expired,
        ErrorKind::ImmatureSignature => IdTokenError::NotYetValid,
        ErrorKind::InvalidIssuer => IdTokenError::WrongIssuer {
            expected: issuer.to_owned(),
        },
        ErrorKind::InvalidAudience => IdTokenError::WrongAudience {
            client_id: client_id.to_owned(),
        },
        ErrorKind::MissingRequiredClaim(claim) => IdTokenError::MissingClaim {
            claim: claim.clone(),
        },
        ErrorKind::InvalidAlgorithm | ErrorKind::UnsupportedAlgorithm => {
            IdTokenError::UnsupportedAlgorithm {
                alg: format!("{alg:?}"),
            }
        }
        ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidKeyFormat => IdTokenError::InvalidJwks,
        _ => IdTokenError::Malformed,
    }
}

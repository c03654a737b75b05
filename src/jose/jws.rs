//! Compact JWS signatures checked against a [`KeySet`] (RFC 7515, RFC 7519): what ID tokens and
//! access tokens share before their own claims are checked.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::Algorithm;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::jose::key_set::{KeySet, VerifyingKey};

/// Why a JWS was refused before its claims were read. Each token kind turns these into its own
/// error, whose variants carry the same names and meanings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JwsError {
    Malformed,
    UnsupportedAlgorithm { alg: String },
    CriticalHeader,
    UnknownKey { kid: Option<String>, refetch: bool },
    WrongType { typ: String },
    KeyMismatch { kid: Option<String>, alg: String },
    BadSignature,
    Expired,
    NotYetValid,
}

/// Clock skew allowed on `exp`, `nbf` and `iat`, unless a check is told otherwise.
pub const DEFAULT_LEEWAY_SECS: u64 = 60;

/// The longest leeway accepted, so that a huge one cannot overflow the time arithmetic.
pub(crate) const MAX_LEEWAY_SECS: u64 = 24 * 60 * 60;

/// Checks a token's lifetime at `now`, allowing `leeway_secs` of clock skew: `exp` not passed, and
/// neither `iat` nor `nbf` in the future.
pub(crate) fn check_lifetime(
    exp: u64,
    iat: Option<u64>,
    nbf: Option<u64>,
    now: u64,
    leeway_secs: u64,
) -> Result<(), JwsError> {
    if exp.saturating_add(leeway_secs) <= now {
        return Err(JwsError::Expired);
    }
    let latest_start = now.saturating_add(leeway_secs);
    if iat.is_some_and(|iat| iat > latest_start) || nbf.is_some_and(|nbf| nbf > latest_start) {
        return Err(JwsError::NotYetValid);
    }
    Ok(())
}

/// The signature algorithms accepted: RSA and ECDSA only, so that a published key can never be used
/// as an HMAC secret, and never `none`.
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

/// The JWS header's members this crate reads.
#[derive(Deserialize)]
#[serde(remote = "Self")]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    /// Any value at all: its presence alone refuses the token.
    #[serde(default, deserialize_with = "present")]
    crit: bool,
    /// The kind of token; each check says which it takes.
    #[serde(default)]
    typ: Option<String>,
}
crate::oauth::json_object::object_only!(Header);

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// Which key verified a signature: enough to ask a later set whether it still holds that key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SignedBy {
    pub(crate) key_identity: [u8; 32],
}

/// Checks the compact JWS and returns its claims, unchecked but signed by a key of the set, and
/// which key that was: the header read (no `crit`, a `typ` the caller takes, an accepted
/// algorithm), a key its `kid` names (or the only key, when it names none) for that algorithm, and
/// the signature.
pub(crate) fn verify<T: DeserializeOwned>(
    token: &str,
    keys: &KeySet,
    now: u64,
    typ_accepted: fn(&str) -> bool,
) -> Result<(T, SignedBy), JwsError> {
    let mut parts = token.split('.');
    let (Some(header_part), Some(payload_part), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwsError::Malformed);
    };
    let header: Header = decode_json(header_part)?;
    if header.crit {
        return Err(JwsError::CriticalHeader);
    }
    if let Some(typ) = &header.typ {
        if !typ_accepted(typ) {
            return Err(JwsError::WrongType { typ: typ.clone() });
        }
    }
    let algorithm = header
        .alg
        .parse::<Algorithm>()
        .ok()
        .filter(|algorithm| ACCEPTED.contains(algorithm))
        .ok_or_else(|| JwsError::UnsupportedAlgorithm {
            alg: header.alg.clone(),
        })?;
    let named: Vec<&VerifyingKey> = match header.kid.as_deref() {
        Some(kid) => keys
            .keys()
            .iter()
            .filter(|key| key.kid.as_deref() == Some(kid))
            .collect(),
        None => match keys.keys() {
            [only] => vec![only],
            _ => Vec::new(),
        },
    };
    if named.is_empty() {
        return Err(JwsError::UnknownKey {
            kid: header.kid,
            refetch: keys.may_refetch(now),
        });
    }
    // RFC 7517 allows several keys under one `kid` (of different types): try each that fits.
    let fitting = named.iter().filter(|key| key.algorithm == algorithm);
    let message_len = header_part
        .len()
        .saturating_add(1)
        .saturating_add(payload_part.len());
    let message = token.get(..message_len).ok_or(JwsError::Malformed)?;
    let mut failure = JwsError::KeyMismatch {
        kid: header.kid,
        alg: header.alg,
    };
    for key in fitting {
        // A key that cannot check this signature must not keep the next one from trying.
        match verify_signature(signature, message.as_bytes(), key, algorithm) {
            Ok(true) => {
                let signed_by = SignedBy {
                    key_identity: key.identity,
                };
                return decode_json(payload_part).map(|claims| (claims, signed_by));
            }
            Ok(false) => failure = JwsError::BadSignature,
            Err(()) if failure != JwsError::BadSignature => failure = JwsError::Malformed,
            Err(()) => {}
        }
    }
    Err(failure)
}

/// Whether `signature` (base64url) is `key`'s over `message`; an error when it is not base64url
/// or the key cannot be used.
#[cfg(feature = "aws-lc-rs")]
fn verify_signature(
    signature: &str,
    message: &[u8],
    key: &VerifyingKey,
    _algorithm: Algorithm,
) -> Result<bool, ()> {
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| ())?;
    Ok(key.parsed.verify_sig(message, &signature).is_ok())
}

#[cfg(not(feature = "aws-lc-rs"))]
fn verify_signature(
    signature: &str,
    message: &[u8],
    key: &VerifyingKey,
    algorithm: Algorithm,
) -> Result<bool, ()> {
    install_crypto_provider();
    jsonwebtoken::crypto::verify(signature, message, &key.key, algorithm).map_err(|_| ())
}

/// One base64url part of a compact JWS, read as JSON.
fn decode_json<T: DeserializeOwned>(part: &str) -> Result<T, JwsError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwsError::Malformed)?;
    crate::oauth::json_object::from_slice(&bytes).map_err(|_| JwsError::Malformed)
}

/// Selects the RustCrypto provider unless the application already chose one; needed when another
/// crate in the build enables `jsonwebtoken`'s other backend too. (With `aws-lc-rs`, this crate
/// verifies with AWS-LC directly.)
#[cfg(not(feature = "aws-lc-rs"))]
fn install_crypto_provider() {
    // An error means a provider is installed already, which is as good.
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
}

#[cfg(not(any(feature = "aws-lc-rs", feature = "rust-crypto")))]
compile_error!(
    "workos-connect's `id-token` and `access-token` features need a signature backend: enable \
     `aws-lc-rs` (the default) or `rust-crypto`"
);

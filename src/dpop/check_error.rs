//! Why a resource server refused a request's proof, and how to answer it: the status and the
//! `WWW-Authenticate: DPoP` challenge (RFC 9449 §7.1, §9).

use super::challenge::{DpopChallenge, DpopErrorCode};
use super::nonce::DpopNonce;

/// Why a proof was refused. None quotes the proof, the token or a key; the values named (`alg`,
/// the request's method and URL) are the request's own or short header text.
///
/// Each maps to a status and a `WWW-Authenticate` challenge ([`status`](Self::status),
/// [`challenge`](Self::challenge)): `invalid_dpop_proof` for the proof itself, `invalid_token`
/// when the token is bound to another key, `use_dpop_nonce` with the nonce to send in the
/// `DPoP-Nonce` header ([`dpop_nonce`](Self::dpop_nonce)). A token endpoint that uses this check
/// answers 400 with the same `error` in a JSON body instead (RFC 9449 §5).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DpopProofError {
    /// No `DPoP` header.
    #[error("the request has no DPoP header; send a DPoP proof with a DPoP-bound token")]
    Missing,
    /// More than one proof: several `DPoP` headers, or one holding a list (RFC 9449 §4.3, check 1).
    #[error("the request has {count} DPoP proofs; send exactly one DPoP header")]
    Duplicated {
        /// How many.
        count: usize,
    },
    /// Not a compact JWS with the required claims.
    #[error("the DPoP proof is malformed: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// `typ` is not `dpop+jwt`, so the JWT is not a DPoP proof.
    #[error("the DPoP proof's `typ` is not `dpop+jwt`")]
    WrongType,
    /// An algorithm other than ES256: `none`, an HMAC, or one this check does not take.
    #[error("the DPoP proof's `alg` is {alg:?}; this server accepts ES256 only")]
    UnsupportedAlgorithm {
        /// The `alg` received, at most 32 characters of it.
        alg: String,
    },
    /// The `jwk` header is missing or not an EC P-256 public key on the curve.
    #[error("the DPoP proof's `jwk` header is not an EC P-256 public key")]
    UnsupportedKey,
    /// The `jwk` header holds a private key (RFC 9449 §4.3, check 7).
    #[error("the DPoP proof's `jwk` header holds a private key; send the public key only, and replace the exposed key")]
    PrivateKey,
    /// The signature is not the `jwk`'s over the proof.
    #[error("the DPoP proof's signature does not verify with its `jwk`")]
    BadSignature,
    /// `htm` is not the request's method.
    #[error("the DPoP proof's `htm` is not the request's method {method}")]
    MethodMismatch {
        /// The request's method.
        method: String,
    },
    /// `htu` is not the request's URL (compared without query and fragment).
    #[error("the DPoP proof's `htu` is not the request's URL {url}")]
    UrlMismatch {
        /// The request's URL, without query and fragment.
        url: String,
    },
    /// `iat` is older than the check's window: make a fresh proof for every request.
    #[error("the DPoP proof was issued at {iat}, more than {max_age} seconds before now ({now}); make a fresh proof for every request")]
    Stale {
        /// The proof's `iat`.
        iat: u64,
        /// The check's time, in Unix seconds.
        now: u64,
        /// The oldest age taken, leeway included.
        max_age: u64,
    },
    /// `iat` is in the future, beyond the leeway: the client's clock is ahead.
    #[error("the DPoP proof was issued at {iat}, after now ({now}) plus the leeway; check the client's clock")]
    IssuedInFuture {
        /// The proof's `iat`.
        iat: u64,
        /// The check's time, in Unix seconds.
        now: u64,
    },
    /// A proof with this key and `jti` was accepted before.
    #[error(
        "the DPoP proof was used before (same key and `jti`); make a fresh proof for every request"
    )]
    Replayed,
    /// The check remembers as many proofs as it may, all of them still within their window, so it
    /// cannot tell this one from a replay and refuses it (see
    /// [`DpopProofCheck::replay_capacity`](super::DpopProofCheck::replay_capacity)); the request
    /// may be sent again with a fresh proof once older windows close.
    #[error("the DPoP proof cannot be checked for replay: this server remembers as many recent proofs as it may; retry shortly with a fresh proof")]
    ReplayMemoryFull,
    /// The proof's key has as many proofs remembered as one key may, all of them still within
    /// their window (see
    /// [`DpopProofCheck::replay_capacity_per_key`](super::DpopProofCheck::replay_capacity_per_key)):
    /// this client sends proofs faster than the server takes from one key. Other keys' proofs
    /// are still taken; this one may send again once its older windows close.
    #[error("the DPoP proof's key has sent more proofs than this server remembers for one key; slow down and retry shortly with a fresh proof")]
    KeyReplayQuota,
    /// `ath` is missing or not the hash of the access token sent with it.
    #[error("the DPoP proof's `ath` is missing or not the hash of the request's access token")]
    AccessTokenHashMismatch,
    /// The proof's key is not the one the access token is bound to (`cnf.jkt`).
    #[error("the access token is bound to another key than the DPoP proof's (cnf.jkt differs)")]
    KeyBindingMismatch,
    /// The server requires its nonce, and the proof has none, an expired one, or one the server
    /// did not make (another server's, or one made with a secret it no longer accepts): retry
    /// with this one.
    #[error("the server requires its DPoP nonce in the proof; retry with the nonce of the DPoP-Nonce header")]
    UseNonce {
        /// The nonce to send in the `DPoP-Nonce` header.
        nonce: DpopNonce,
    },
}

impl DpopProofError {
    /// The `error` of the challenge.
    pub fn error_code(&self) -> DpopErrorCode {
        match self {
            DpopProofError::KeyBindingMismatch => DpopErrorCode::InvalidToken,
            DpopProofError::UseNonce { .. } => DpopErrorCode::UseDpopNonce,
            _ => DpopErrorCode::InvalidDpopProof,
        }
    }

    /// The HTTP status to answer a resource request with: 401 (RFC 9449 §7.1, §9), except 503 for
    /// [`ReplayMemoryFull`](Self::ReplayMemoryFull), which is the server's state, not the proof's
    /// fault, and 429 for [`KeyReplayQuota`](Self::KeyReplayQuota), which is the client's pace
    /// (RFC 6585 §4): either way the client should wait, not make a new key or log in again.
    pub fn status(&self) -> u16 {
        match self {
            DpopProofError::ReplayMemoryFull => 503,
            DpopProofError::KeyReplayQuota => 429,
            _ => self.error_code().status(),
        }
    }

    /// The nonce to send in the `DPoP-Nonce` response header, for [`UseNonce`](Self::UseNonce).
    pub fn dpop_nonce(&self) -> Option<&DpopNonce> {
        match self {
            DpopProofError::UseNonce { nonce } => Some(nonce),
            _ => None,
        }
    }

    /// The `WWW-Authenticate` challenge: `DPoP` with the `error`, a fixed description of what to
    /// fix, and `algs="ES256"`. Set its `resource_metadata` (RFC 9728) before sending it.
    ///
    /// ```
    /// use workos_connect::dpop::DpopProofError;
    ///
    /// assert_eq!(
    ///     DpopProofError::Replayed.challenge().to_string(),
    ///     r#"DPoP error="invalid_dpop_proof", error_description="the DPoP proof was used before; make a fresh proof for every request", algs="ES256""#
    /// );
    /// ```
    pub fn challenge(&self) -> DpopChallenge {
        DpopChallenge {
            error: Some(self.error_code()),
            error_description: Some(self.description().to_owned()),
            ..DpopChallenge::default()
        }
    }

    /// Fixed text for `error_description`: what to fix, without any value from the request.
    pub fn description(&self) -> &'static str {
        match self {
            DpopProofError::Missing => "the request has no DPoP proof",
            DpopProofError::Duplicated { .. } => "send exactly one DPoP header",
            DpopProofError::Malformed { reason } => reason,
            DpopProofError::WrongType => "the DPoP proof's typ must be dpop+jwt",
            DpopProofError::UnsupportedAlgorithm { .. } => "sign the DPoP proof with ES256",
            DpopProofError::UnsupportedKey => "the DPoP proof's jwk must be an EC P-256 public key",
            DpopProofError::PrivateKey => "the DPoP proof's jwk holds a private key",
            DpopProofError::BadSignature => "the DPoP proof's signature does not verify",
            DpopProofError::MethodMismatch { .. } => {
                "the DPoP proof's htm is not the request's method"
            }
            DpopProofError::UrlMismatch { .. } => "the DPoP proof's htu is not the request's URL",
            DpopProofError::Stale { .. } => "the DPoP proof is too old; make a fresh one",
            DpopProofError::IssuedInFuture { .. } => "the DPoP proof's iat is in the future",
            DpopProofError::Replayed => {
                "the DPoP proof was used before; make a fresh proof for every request"
            }
            DpopProofError::ReplayMemoryFull => {
                "the server cannot check more DPoP proofs for replay now; retry shortly"
            }
            DpopProofError::KeyReplayQuota => {
                "too many DPoP proofs by this key; slow down and retry shortly"
            }
            DpopProofError::AccessTokenHashMismatch => {
                "the DPoP proof's ath is not the access token's hash"
            }
            DpopProofError::KeyBindingMismatch => "Invalid DPoP key binding",
            DpopProofError::UseNonce { .. } => "Resource server requires nonce in DPoP proof",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_has_its_code_status_and_challenge() {
        let nonce = DpopNonce::new("n-1").unwrap();
        let use_nonce = DpopProofError::UseNonce {
            nonce: nonce.clone(),
        };
        assert_eq!(use_nonce.status(), 401);
        assert_eq!(use_nonce.dpop_nonce(), Some(&nonce));
        assert_eq!(
            use_nonce.challenge().to_string(),
            r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof", algs="ES256""#
        );
        assert_eq!(
            DpopProofError::KeyBindingMismatch.challenge().to_string(),
            r#"DPoP error="invalid_token", error_description="Invalid DPoP key binding", algs="ES256""#
        );
        assert_eq!(DpopProofError::BadSignature.status(), 401);
        assert_eq!(
            DpopProofError::BadSignature.error_code(),
            DpopErrorCode::InvalidDpopProof
        );
        assert_eq!(DpopProofError::BadSignature.dpop_nonce(), None);
    }
}

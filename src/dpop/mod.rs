//! DPoP (RFC 9449): access tokens bound to a key the client holds, so that a stolen token is
//! useless without that key. Each request carries a fresh proof, a JWT signed by the key, naming
//! the request's method and URL (and, at a resource, the token's hash).
//!
//! Only ES256 (P-256) proofs are made and accepted: every DPoP server supports it, and one
//! algorithm leaves nothing to negotiate or confuse.
//!
//! | step | type | RFC 9449 |
//! | --- | --- | --- |
//! | the client's key, generated once per login or kept with the tokens | [`DpopKey::generate`], serde as its private JWK | §2, §4.1 |
//! | name the key in the authorization request (`dpop_jkt`), or compare it with a token's `cnf.jkt` | [`DpopKey::thumbprint`] (RFC 7638) | §6.1, §10 |
//! | a proof for the token request (`DPoP` header) | [`DpopKey::proof`], [`DpopProofBuilder::sign`] | §4, §5 |
//! | the authorization server wants a nonce (400 `use_dpop_nonce`) | [`nonce_demanded_by_token_endpoint`], then [`DpopProofBuilder::nonce`] | §8 |
//! | a proof for a resource request, with the token's hash (`ath`) | [`DpopProofBuilder::access_token`], [`dpop_authorization`] for `Authorization: DPoP` | §4.2, §7.1 |
//! | the resource wants a nonce (401 `WWW-Authenticate: DPoP error="use_dpop_nonce"`) | [`nonce_demanded_by_resource`] | §9 |
//! | read a resource's `DPoP` challenge (`algs`, `resource_metadata`) | [`DpopChallenge::parse`] | §7.1 |
//! | resource server: check a request's proof against its token's `cnf.jkt` | [`DpopProofCheck::check_resource_request`] | §4.3, §6.1, §7.1 |
//! | server: require its own nonces, which every instance sharing the secret accepts and which expire by themselves | [`DpopNonceSecret`], [`DatedNonces`], [`DpopProofCheck::require_nonce`] | §8, §9, §11.1 |
//! | resource server: refuse a request | [`DpopProofError::challenge`] as `WWW-Authenticate`, with [`DpopProofError::status`] and [`DpopProofError::dpop_nonce`] | §7.1, §9 |
//! | server: hand out the next nonce on an accepted request, before the client's expires | [`VerifiedDpopProof::dpop_nonce`] as `DPoP-Nonce` | §8.2 |
//!
//! The crate does no HTTP: it makes header values and reads statuses, headers and bodies.
//!
//! ```
//! use workos_connect::dpop::{DpopKey, DpopProofCheck, DPOP_HEADER};
//!
//! let key = DpopKey::generate();
//! let url = "https://auth.example.com/oauth2/token".parse()?;
//! let proof = key.proof("POST", &url).sign()?;
//! // Send `proof.as_str()` as the request's `DPoP` header.
//! assert_eq!(DPOP_HEADER, "dpop");
//!
//! // What a server checks:
//! let verified = DpopProofCheck::new().check_proof([proof.as_str().as_bytes()], "POST", &url)?;
//! assert_eq!(verified.jkt(), key.thumbprint());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![doc = include_str!("../docs/dpop.md")]

mod challenge;
mod check;
mod check_error;
mod dated_nonces;
mod es256;
mod jwk;
mod key;
mod names;
mod nonce;
mod proof;
mod replay;
mod target_uri;

pub use challenge::{DpopChallenge, DpopErrorCode};
pub use check::{
    DpopProofCheck, UnrecordedDpopProof, VerifiedDpopProof, DEFAULT_PROOF_LEEWAY_SECS,
    DEFAULT_PROOF_MAX_AGE_SECS, DEFAULT_REPLAY_CAPACITY, DEFAULT_REPLAY_CAPACITY_PER_KEY,
    MAX_PROOF_JTI_LEN,
};
pub use check_error::DpopProofError;
pub use dated_nonces::{DatedNonces, DpopNonceSecret, DpopNonceSecretError};
pub use jwk::PublicJwk;
pub use key::{DpopKey, DpopKeyError};
pub use names::{DPOP_ALGORITHM, DPOP_HEADER, DPOP_NONCE_HEADER, DPOP_SCHEME, DPOP_TOKEN_TYPE};
pub(crate) use nonce::one_nonce;
pub use nonce::{
    nonce_demanded_by_resource, nonce_demanded_by_token_endpoint, DpopNonce, DpopNonceError,
};
pub use proof::{
    access_token_hash, dpop_authorization, DpopBuildError, DpopProof, DpopProofBuilder,
};

#[cfg(test)]
mod tests;

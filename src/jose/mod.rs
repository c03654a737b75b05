//! JOSE: JWS verification, key sets and the key cache, thumbprints and claim readers. Above the
//! generic OAuth layer, below the AuthKit wing and the jobs.
//!
//! | step | types | RFC |
//! | --- | --- | --- |
//! | parse the issuer's keys once (features `id-token` or `access-token`) | [`KeySet`] | 7517 |
//! | keep them current: when to fetch, one fetch at a time, unknown keys rate-limited | [`KeyCache`], [`KeyFetch`], [`KeyRefetch`] | 7517 |
//! | the clock skew every token check allows | [`DEFAULT_LEEWAY_SECS`] | 7519 §4.1.4 |

pub(crate) mod claim_values;
#[cfg(any(feature = "id-token", feature = "access-token"))]
pub(crate) mod jws;
#[cfg(any(feature = "id-token", feature = "access-token"))]
pub(crate) mod key_cache;
#[cfg(any(feature = "id-token", feature = "access-token"))]
pub(crate) mod key_set;
#[cfg(any(feature = "id-token", feature = "access-token", feature = "dpop"))]
pub(crate) mod thumbprint;

#[cfg(any(feature = "id-token", feature = "access-token"))]
pub use jws::DEFAULT_LEEWAY_SECS;
#[cfg(any(feature = "id-token", feature = "access-token"))]
pub use key_cache::{KeyCache, KeyFetch, KeyFetchError, KeyRefetch};
#[cfg(any(feature = "id-token", feature = "access-token"))]
pub use key_set::{KeySet, KeySetError};

//! JOSE: JWS verification, key sets and the key cache, thumbprints and claim readers. Above the
//! generic OAuth layer, below the AuthKit wing and the jobs.

pub(crate) mod claim_values;
#[cfg(any(feature = "id-token", feature = "access-token"))]
pub(crate) mod jws;
#[cfg(any(feature = "id-token", feature = "access-token"))]
pub(crate) mod key_cache;
#[cfg(any(feature = "id-token", feature = "access-token"))]
pub(crate) mod key_set;
#[cfg(any(feature = "id-token", feature = "access-token", feature = "dpop"))]
pub(crate) mod thumbprint;

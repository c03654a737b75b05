//! The AuthKit wing: the WorkOS Connect client, the AuthKit domain, the pending login, userinfo
//! and ID token checks. Above generic OAuth and JOSE; the jobs may use it.

pub(crate) mod client;
pub(crate) mod domain;
#[cfg(feature = "id-token")]
pub(crate) mod id_token;
pub(crate) mod pending;
pub(crate) mod request;
pub(crate) mod userinfo;

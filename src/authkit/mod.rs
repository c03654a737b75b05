//! The AuthKit wing: the WorkOS Connect client, the AuthKit domain, the pending login, userinfo
//! and ID token checks. Above generic OAuth and JOSE; the jobs may use it.
//!
//! Its login types are also at the crate root, where the browser login's user looks: see the
//! crate docs' step table.

pub(crate) mod client;
pub(crate) mod domain;
#[cfg(feature = "id-token")]
pub(crate) mod id_token;
pub(crate) mod pending;
pub(crate) mod request;
pub(crate) mod userinfo;

pub use client::ConnectClient;
pub use domain::AuthKitDomain;
#[cfg(feature = "id-token")]
pub use id_token::{IdTokenCheck, IdTokenClaims, IdTokenError};
pub use pending::PendingAuthorization;
pub use request::AuthorizeRequest;
pub use userinfo::{Userinfo, UserinfoError, UserinfoRequest};

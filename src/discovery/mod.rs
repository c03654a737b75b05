//! Finding a protected resource's authorization server and that server's endpoints, for any OAuth
//! client (an MCP client is one).
//!
//! | step | types | RFC |
//! | --- | --- | --- |
//! | read a `401`'s `WWW-Authenticate` | [`BearerChallenge`](crate::oauth::BearerChallenge), [`parse_challenges`](crate::oauth::parse_challenges) | 6750 §3, 9728 §5.1 |
//! | find the resource's metadata, which names its authorization servers | [`ProtectedResourceMetadata::locations`], [`ProtectedResourceMetadata::parse`] | 9728 |
//! | find the authorization server's endpoints | [`AuthorizationServerMetadata::well_known_urls`], [`AuthorizationServerMetadata::parse`] | 8414, OpenID Connect Discovery |
//!
//! The identifiers both name, [`Issuer`](crate::oauth::Issuer) and
//! [`Resource`](crate::oauth::Resource), and the challenges are generic OAuth, in [`crate::oauth`],
//! since an API server needs them too. Each document is read only through its
//! `parse`, which checks it: the `issuer` must be the one it was fetched for, the `resource` the
//! one asked about, and every endpoint https (or loopback) without a fragment.

pub(crate) mod resource_metadata;
pub(crate) mod server_metadata;

pub use resource_metadata::{
    ProtectedResourceMetadata, ResourceMetadataError, ResourceMetadataLocation,
};
pub use server_metadata::{AuthorizationServerMetadata, ServerMetadataError};

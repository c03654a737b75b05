//! Getting a `client_id` at an authorization server, and the credentials that come with it, for any
//! OAuth client (an MCP client is one), in the order the MCP specification tries them.
//!
//! | way | types | specification |
//! | --- | --- | --- |
//! | a client registered beforehand | [`ClientCredentials::pre_registered`] | RFC 6749 §2 |
//! | a Client ID Metadata Document: the `client_id` is the URL where the client's metadata is served | [`ClientMetadataDocument`] | OAuth Client ID Metadata Document |
//! | Dynamic Client Registration | [`RegistrationRequest`], [`RegistrationResponse::parse`] | RFC 7591 |
//! | how the client authenticates at the token endpoint | [`TokenEndpointAuth`] | RFC 6749 §2.3, RFC 7591 §2 |
//! | a client's private key and the assertions it signs (`private_key_jwt`, feature `private-key-jwt`) | `ClientSigningKey`, `ClientCredentials::private_key_jwt` | RFC 7523 §2.2, RFC 7521 §4.2 |
//!
//! [`ClientCredentials`] are bound to the issuer they were registered with, and serialize for
//! storage.

pub(crate) mod client_id_url;
pub(crate) mod client_metadata;
pub(crate) mod client_name;
pub(crate) mod credentials;
pub(crate) mod dynamic;
#[cfg(feature = "private-key-jwt")]
pub(crate) mod signing_key;
pub(crate) mod token_auth;

pub use client_metadata::{ClientMetadataDocument, ClientMetadataError};
pub use client_name::ClientNameError;
pub use credentials::{ClientCredentials, CredentialsError};
pub use dynamic::{
    ApplicationType, RegistrationError, RegistrationErrorCode, RegistrationRequest,
    RegistrationResponse,
};
#[cfg(feature = "private-key-jwt")]
pub use signing_key::{
    ClientSigningKey, SigningAlgorithm, SigningKeyError, CLIENT_ASSERTION_LIFETIME_SECS,
    CLIENT_ASSERTION_TYPE_JWT_BEARER,
};
pub use token_auth::{TokenEndpointAuth, UnsupportedAuthMethod};

//! MCP authorization for clients: finding out, from a protected MCP server's answer, where to log in.
//!
//! A request without a valid token gets `401` with a `WWW-Authenticate: Bearer` challenge
//! ([`BearerChallenge`]); its `resource_metadata` (or the well-known URLs of
//! [`ProtectedResourceMetadata::well_known_urls`]) leads to the server's protected resource metadata
//! (RFC 9728), which names the authorization servers, such as an AuthKit domain; their metadata
//! ([`AuthorizationServerMetadata`], RFC 8414) gives the endpoints.
//!
//! A client then needs a `client_id` with that server ([`ClientCredentials`]): one registered
//! ahead of time, the URL of a [`ClientMetadataDocument`] it serves, or one it registers itself
//! with Dynamic Client Registration ([`RegistrationRequest`], [`RegistrationResponse`], RFC 7591).

mod authorization;
mod challenge;
mod client_metadata;
mod credentials;
mod identifier;
mod registration;
mod resource_metadata;
mod scope_choice;
mod server_metadata;
mod token_auth;

pub use authorization::{AuthorizationClient, AuthorizationError, LoginRequest, PendingLogin};
pub use challenge::{parse_challenges, BearerChallenge, BearerError, Challenge, ChallengeError};
pub use client_metadata::{ClientMetadataDocument, ClientMetadataError};
pub use credentials::{ClientCredentials, CredentialsError};
pub use identifier::{IdentifierError, Issuer, Resource};
pub use registration::{
    ApplicationType, RegistrationError, RegistrationErrorCode, RegistrationRequest,
    RegistrationResponse,
};
pub use resource_metadata::{
    ProtectedResourceMetadata, ResourceMetadataError, ResourceMetadataLocation,
};
pub use scope_choice::{
    add_offline_access, select_scopes, StepUp, StepUpError, DEFAULT_MAX_LOGINS,
};
pub use server_metadata::{AuthorizationServerMetadata, ServerMetadataError};
pub use token_auth::{TokenEndpointAuth, UnsupportedAuthMethod};

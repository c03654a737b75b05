//! MCP authorization for clients (MCP specification 2025-11-25 and 2026-07-28): from a protected
//! MCP server's `401` to an access token for it.
//!
//! [`McpLogin`] runs the whole flow as one sans-IO state machine: made from the `401`
//! ([`McpLogin::unauthorized`]) or a `403 insufficient_scope` ([`McpLogin::insufficient_scope`]),
//! its [`step`](McpLogin::step) says what to do next ([`McpLoginStep`]), and it ends with an
//! [`McpAuthorization`], which stores, refreshes and names the registration to reuse. The steps it
//! takes, each usable alone:
//!
//! | step | types | RFC |
//! | --- | --- | --- |
//! | read the `401`'s `WWW-Authenticate` | [`BearerChallenge`](crate::oauth::BearerChallenge) | 6750 §3, 9728 §5.1 |
//! | find the server's metadata, which names its authorization servers | [`ProtectedResourceMetadata::locations`](crate::discovery::ProtectedResourceMetadata::locations), [`ProtectedResourceMetadata::parse`](crate::discovery::ProtectedResourceMetadata::parse) | 9728 |
//! | find the authorization server's endpoints | [`AuthorizationServerMetadata::well_known_urls`](crate::discovery::AuthorizationServerMetadata::well_known_urls), [`AuthorizationServerMetadata::parse`](crate::discovery::AuthorizationServerMetadata::parse) | 8414, OpenID Discovery |
//! | get a `client_id` there | [`ClientCredentials::pre_registered`](crate::registration::ClientCredentials::pre_registered), a [`ClientMetadataDocument`](crate::registration::ClientMetadataDocument), or [`RegistrationRequest`](crate::registration::RegistrationRequest) and [`RegistrationResponse`](crate::registration::RegistrationResponse) | 7591 |
//! | choose scopes | [`select_scopes`], [`add_offline_access`] | MCP scope selection |
//! | log the user in, PKCE and a [`Resource`](crate::oauth::Resource) indicator | [`AuthorizationClient::login`], [`PendingLogin::callback`] | 7636, 8707, 9207 |
//! | redeem the code, refresh, or log in as the client itself | [`AuthorizationClient::token_request`], [`refresh_request`](AuthorizationClient::refresh_request), [`client_credentials_request`](AuthorizationClient::client_credentials_request), then [`TokenResponse::parse`](crate::TokenResponse::parse) | 6749 |
//! | log in with a JWT: a workload's platform token, or an enterprise IdP's ID-JAG | [`McpClientSettings::jwt_bearer`], [`McpClientSettings::enterprise_managed`] with an [`EnterpriseIdp`], [`AuthorizationClient::jwt_bearer_request`], [`TokenExchange`](crate::token_exchange::TokenExchange) | 7523, 8693, SEP-990 |
//! | authenticate with a private key instead of a secret (feature `private-key-jwt`) | `ClientCredentials::private_key_jwt`, `ClientSigningKey` | 7523 §2.2 |
//! | bind the tokens to a key (feature `dpop`, default): proofs on token requests where the authorization server advertises ES256 and the MCP server takes DPoP, the servers' nonces, `Authorization: DPoP` with a proof per request | `McpClientSettings::dpop_key`, `McpLogin::answer_with_dpop_nonce`, `McpAuthorization::resource_headers`, `ResourceHeaders` | 9449 |
//! | a `403 insufficient_scope` | [`StepUp`], at most [`DEFAULT_MAX_LOGINS`] logins | MCP step-up |
//!
//! Credentials are bound to the issuer they were registered with, the metadata's `issuer` must be
//! the one it was fetched for, and the callback's `iss` is checked before the code is taken. Servers
//! of the 2025-03-26 specification, without protected resource metadata, are served by
//! [`AuthorizationServerMetadata::legacy_base`](crate::discovery::AuthorizationServerMetadata::legacy_base) and its neighbours.
//!
//! Discovery and registration serve any OAuth client, so they live in [`discovery`](crate::discovery)
//! and [`registration`](crate::registration), and the identifiers and challenges in
//! [`oauth`](crate::oauth); the table above links each type at its one path.
//!
//! The workspace's `mcp-client` example runs the whole flow and passes the official MCP
//! conformance suite's scored client scenarios of both requirement sets (2025-11-25, 2026-07-28).
#![doc = include_str!("../docs/mcp.md")]

mod assertion_audience;
mod authorization;
#[cfg(feature = "dpop")]
pub(crate) mod dpop_binding;
mod enterprise;
mod grant;
mod login;
mod scope_choice;

pub use authorization::{
    AuthorizationClient, AuthorizationError, LoginRequest, PendingLogin, JWT_BEARER_GRANT_TYPE,
};
#[cfg(feature = "dpop")]
pub use dpop_binding::ResourceHeaders;
pub use enterprise::EnterpriseIdp;
pub use grant::{McpAuthorization, REFRESH_MARGIN_SECS};
pub use login::{McpClientSettings, McpLogin, McpLoginError, McpLoginStep};
pub use scope_choice::{
    add_offline_access, select_scopes, StepUp, StepUpError, DEFAULT_MAX_LOGINS,
};

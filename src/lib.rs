//! Typed, sans-IO [WorkOS Connect](https://workos.com/docs/reference/workos-connect) logins: the OAuth
//! 2.0 and OpenID Connect round trip against an application's AuthKit domain.
//!
//! The crate never does HTTP itself: it builds URLs and requests and reads responses, so it fits any
//! HTTP client and web framework (feature `http` converts to and from the `http` crate's types).
//!
//! # Which part serves which job
//!
//! | job | where |
//! | --- | --- |
//! | log users in to a web backend with WorkOS Connect (OpenID Connect) | the crate root: [`ConnectClient`], below |
//! | validate ID tokens against the AuthKit keys (feature `id-token`) | `KeySet`, `IdTokenCheck` |
//! | keep the keys current: when to fetch, one fetch at a time, unknown keys rate-limited | `KeyCache` (sans-IO; [`workos-connect-axum`](https://docs.rs/workos-connect-axum) drives it on tokio) |
//! | an axum API, MCP server or web login, with the I/O done | the companion crate [`workos-connect-axum`](https://docs.rs/workos-connect-axum) |
//! | an MCP client's whole login with reqwest, the browser's loopback redirect | the companion crate [`workos-connect-reqwest`](https://docs.rs/workos-connect-reqwest) |
//! | an agent, editor or CLI logging in to an MCP server behind AuthKit (or any MCP authorization server) | [`mcp`]: the login with PKCE and resource indicators, client credentials, scope choice and step-up, with the rest of its kit re-exported |
//! | any OAuth client finding an authorization server: a `401`'s challenge, resource and server metadata | [`discovery`] (RFC 9728, RFC 8414) |
//! | any OAuth client getting a `client_id`: pre-registered, a Client ID Metadata Document, or Dynamic Client Registration | [`registration`] (RFC 7591) |
//! | naming an issuer or a protected resource, exactly | [`Issuer`], [`Resource`] |
//! | an API or MCP server that takes AuthKit access tokens: read the bearer token, publish its metadata, answer with challenges | [`resource_server`] and the access token check (feature `access-token`, default) |
//! | sender-constrained tokens (DPoP, RFC 9449, feature `dpop`, default): a client's proof key and proofs, a resource server's proof check | `dpop` |
//! | a command-line tool logging its user in on another device (RFC 8628, AuthKit's CLI Auth) | [`device`]: the codes to show, polling without sleeping |
//! | trade a token for another (RFC 8693 token exchange), or redeem a JWT (RFC 7523 JWT bearer grant) | [`TokenExchange`], [`TokenExchangeResponse`], [`mcp::AuthorizationClient::jwt_bearer_request`] |
//! | scopes beyond `openid profile email offline_access` (`mcp:tools`, ...) | [`ScopeList`], [`ScopeToken`] |
//!
//! # A login, step by step
//!
//! | step | call | gives | refusals |
//! | --- | --- | --- | --- |
//! | settings, once | [`ConnectClient::new`] with [`AuthKitDomain`], [`ClientId`], [`RedirectUri`] | the client | [`Error`] |
//! | redirect | [`ConnectClient::authorize`] then [`AuthorizeRequest::build`] | [`AuthorizeResponse`] and the [`PendingAuthorization`] to keep | [`Error`] |
//! | callback | [`PendingAuthorization::callback`] | the [`AuthorizationCode`] | [`CallbackError`] |
//! | tokens | [`ConnectClient::token_request`], [`TokenResponse::parse`] | [`TokenResponse`] | [`TokenError`] |
//! | ID token (feature `id-token`) | `KeySet::parse`, `PendingAuthorization::id_token` | `IdTokenClaims` | `IdTokenError`, `KeySetError` |
//! | refresh | [`ConnectClient::refresh_request`], `ConnectClient::refreshed_id_token` | new tokens and claims | [`TokenError`], `IdTokenError` |
//!
//! ```
//! use workos_connect::{ConnectClient, Scope};
//!
//! let client = ConnectClient::new(
//!     "https://example.authkit.app".parse()?,
//!     "client_01HXYZ".parse()?,
//!     "https://app.example.com/callback".parse()?,
//! );
//! let (redirect, pending) = client
//!     .authorize()
//!     .scopes(Scope::OpenId | Scope::Profile | Scope::Email)
//!     .build()?;
//! // Redirect the user to `redirect.as_str()`; keep `pending` in the session.
//! assert!(redirect.as_str().starts_with("https://example.authkit.app/oauth2/authorize?"));
//! assert_eq!(pending.client_id().as_str(), "client_01HXYZ");
//! # Ok::<(), workos_connect::Error>(())
//! ```
//!
//! One type per concept, each checked when made: [`Scope`] and [`Scopes`], the secrets [`State`],
//! [`Nonce`] and [`PkceVerifier`] (whose `Debug` never shows them), and [`S256Challenge`], the only
//! PKCE method. Every error says what to fix and never quotes a secret.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod authkit;
pub mod device;
pub mod discovery;
#[cfg(feature = "dpop")]
pub mod dpop;
mod jose;
pub mod mcp;
mod oauth;
pub mod registration;
pub mod resource_server;
mod token_exchange;

pub use authkit::client::ConnectClient;
pub use authkit::domain::AuthKitDomain;
#[cfg(feature = "id-token")]
pub use authkit::id_token::{IdTokenCheck, IdTokenClaims, IdTokenError};
pub use authkit::pending::PendingAuthorization;
pub use authkit::request::AuthorizeRequest;
pub use authkit::userinfo::{Userinfo, UserinfoError, UserinfoRequest};
#[cfg(feature = "id-token")]
pub use jose::jws::DEFAULT_LEEWAY_SECS;
#[cfg(any(feature = "id-token", feature = "access-token"))]
pub use jose::key_cache::{KeyCache, KeyFetch, KeyFetchError, KeyRefetch};
#[cfg(any(feature = "id-token", feature = "access-token"))]
pub use jose::key_set::{KeySet, KeySetError};
pub use oauth::authorize_response::AuthorizeResponse;
pub use oauth::callback::{
    AuthorizationCode, CallbackCheck, CallbackError, ErrorCode, OAuthError, DEFAULT_MAX_AGE,
};
pub use oauth::client_id::ClientId;
pub use oauth::credential::{AccessToken, ClientSecret, IdToken, RefreshToken};
pub use oauth::error::{Error, Field};
pub use oauth::http_request::{HttpMethod, HttpRequest};
pub use oauth::identifier::{IdentifierError, Issuer, Resource};
pub use oauth::pkce::{PkceVerifier, S256Challenge};
pub use oauth::redirect_uri::RedirectUri;
pub use oauth::scope::{Scopes, ScopesIter};
pub use oauth::scope_list::{ScopeList, ScopeToken};
pub use oauth::scope_name::Scope;
pub use oauth::secret::{reseed_after_fork, Nonce, State, GENERATED_LEN};
pub use oauth::security_token::{SecurityToken, SecurityTokenError};
pub use oauth::token::{AccessTokenType, TokenError, TokenResponse};
pub use oauth::token_request::TokenRequest;
pub use oauth::token_type::{OtherTokenType, TokenType, TokenTypeError};
pub use token_exchange::{
    TokenExchange, TokenExchangeError, TokenExchangeResponse, TOKEN_EXCHANGE_GRANT_TYPE,
};

/// The README's examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

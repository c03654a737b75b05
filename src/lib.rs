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
//! | an axum API, MCP server or web login, with the I/O done | the companion crate [`workos-connect-axum`](https://docs.rs/workos-connect-axum) |
//! | an MCP client's whole login with reqwest, the browser's loopback redirect | the companion crate [`workos-connect-reqwest`](https://docs.rs/workos-connect-reqwest) |
//! | an API or MCP server that takes AuthKit access tokens: check each request, publish its metadata, answer with challenges | [`resource_server`] (feature `access-token`, default) |
//! | an agent, editor or CLI logging in to an MCP server behind AuthKit (or any MCP authorization server) | [`mcp`]: the login with PKCE and resource indicators, client credentials, scope choice and step-up |
//! | a command-line tool logging its user in on another device (RFC 8628, AuthKit's CLI Auth) | [`device`]: the codes to show, polling without sleeping |
//! | sender-constrained tokens (DPoP, RFC 9449, feature `dpop`, default): a client's proof key and proofs, a resource server's proof check | `dpop` |
//! | any OAuth client finding an authorization server: resource and server metadata | [`discovery`] (RFC 9728, RFC 8414) |
//! | any OAuth client getting a `client_id`: pre-registered, a Client ID Metadata Document, or Dynamic Client Registration | [`registration`] (RFC 7591) |
//! | trade a token for another (RFC 8693 token exchange) | [`token_exchange`] |
//! | validate ID tokens, keep the issuer's keys current | [`authkit::IdTokenCheck`] (feature `id-token`), [`jose::KeySet`], [`jose::KeyCache`] |
//! | name an issuer or a protected resource exactly; scopes beyond OpenID Connect's four; any token endpoint message | [`oauth`] |
//!
//! # Layers
//!
//! Each module sits in one layer and never imports from a layer above it (a test checks this).
//!
//! | layer | modules | holds |
//! | --- | --- | --- |
//! | jobs | [`resource_server`], [`mcp`], [`device`], `dpop`, [`registration`], [`discovery`], [`token_exchange`] | one job each, as a state machine or a check that says what to send next |
//! | AuthKit | [`authkit`] | the WorkOS Connect client, the AuthKit domain, the pending login, userinfo, ID token checks |
//! | JOSE | [`jose`] | signatures, key sets, the key cache |
//! | generic OAuth 2.0 | [`oauth`] | identifiers, client IDs, scopes, secrets, PKCE, tokens and token endpoint messages, challenges, the request type |
//!
//! Every public type lives at one path, in its layer's module. The browser login's own types are
//! also at the crate root, so that its user finds them in one `use`: [`ConnectClient`],
//! [`AuthKitDomain`], [`AuthorizeRequest`], [`PendingAuthorization`], `IdTokenClaims` and
//! `IdTokenError` (from [`authkit`]); [`ClientId`], [`RedirectUri`], [`Scope`], [`Scopes`],
//! [`State`], [`Nonce`], [`PkceVerifier`], [`S256Challenge`], [`AuthorizeResponse`],
//! [`AuthorizationCode`], [`CallbackError`], [`TokenResponse`], [`TokenError`] and [`Error`] (from
//! [`oauth`]).
//!
//! # A login, step by step
//!
//! | step | call | gives | refusals |
//! | --- | --- | --- | --- |
//! | settings, once | [`ConnectClient::new`] with [`AuthKitDomain`], [`ClientId`], [`RedirectUri`] | the client | [`Error`] |
//! | redirect | [`ConnectClient::authorize`] then [`AuthorizeRequest::build`] | [`AuthorizeResponse`] and the [`PendingAuthorization`] to keep | [`Error`] |
//! | callback | [`PendingAuthorization::callback`] | the [`AuthorizationCode`] | [`CallbackError`] |
//! | tokens | [`ConnectClient::token_request`], [`TokenResponse::parse`] | [`TokenResponse`] | [`TokenError`] |
//! | ID token (feature `id-token`) | `jose::KeySet::parse`, `PendingAuthorization::id_token` | `IdTokenClaims` | `IdTokenError`, `jose::KeySetError` |
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
#![doc = include_str!("docs/login.md")]
#![doc = include_str!("docs/checks.md")]
#![doc = include_str!("docs/security.md")]
#![doc = include_str!("docs/performance.md")]
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

pub mod authkit;
pub mod device;
pub mod discovery;
#[cfg(feature = "dpop")]
pub mod dpop;
pub mod jose;
pub mod mcp;
pub mod oauth;
pub mod registration;
pub mod resource_server;
pub mod token_exchange;

// The browser login's own types, where its user looks first; each also lives in its layer's module.
pub use authkit::{AuthKitDomain, AuthorizeRequest, ConnectClient, PendingAuthorization};
#[cfg(feature = "id-token")]
pub use authkit::{IdTokenClaims, IdTokenError};
pub use oauth::{
    AuthorizationCode, AuthorizeResponse, CallbackError, ClientId, Error, Nonce, PkceVerifier,
    RedirectUri, S256Challenge, Scope, Scopes, State, TokenError, TokenResponse,
};

/// The README's examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

//! WorkOS Connect for [axum](https://docs.rs/axum) 0.8: protect an API or MCP server with AuthKit
//! access tokens, and log users in to a web backend with a session. The checks are
//! [`workos_connect`]'s, which does no I/O; this crate adds the I/O: the keys fetched with reqwest
//! (rustls, timeouts, no redirects) on tokio, the tower layer, the routes and the sessions.
//!
//! # Which part serves which job
//!
//! | job | where |
//! | --- | --- |
//! | an API or MCP server that takes AuthKit access tokens | [`ProtectedResource`]: [`protect`](ProtectedResource::protect) a router, or its [`layer`](ProtectedResource::layer) around any tower service; [`Authenticated`] in handlers |
//! | the issuer's signing keys, kept current | [`Keys`], driven by the core's [`KeyCache`](workos_connect::KeyCache) |
//!
//! # Protect an API
//!
//! Every route of the router needs `Authorization: Bearer <access token>` issued by the AuthKit
//! domain for this resource, with the scopes required; the resource's metadata (RFC 9728) tells
//! clients where to log in.
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use workos_connect_axum::{Authenticated, ProtectedResource};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let api = ProtectedResource::builder(
//!         "https://example.authkit.app".parse()?,
//!         "https://api.example.com/".parse()?,
//!     )
//!     .require_scopes("things:read".parse()?)
//!     .build()?;
//!     let app = api.protect(Router::new().route("/things", get(things)));
//!     axum::serve(tokio::net::TcpListener::bind("127.0.0.1:8000").await?, app).await?;
//!     Ok(())
//! }
//!
//! async fn things(Authenticated(token): Authenticated) -> String {
//!     format!("the things of {}", token.sub)
//! }
//! ```
//!
//! | request | answer | `WWW-Authenticate: Bearer` (with `resource_metadata` and `scope`) |
//! | --- | --- | --- |
//! | no `Authorization` header, or another scheme | 401 | no `error` (RFC 6750 section 3.1) |
//! | a malformed or repeated header | 400 | `error="invalid_request"` |
//! | a token with a bad signature, unknown key, wrong `iss` or `aud`, expired or not yet valid | 401 | `error="invalid_token"` |
//! | a token lacking a required scope | 403 | `error="insufficient_scope"` |
//! | an `Origin` that is neither the resource's nor [allowed](ProtectedResourceBuilder::allowed_origin) | 403 | none |
//! | no key set fetched yet, and the fetch failed | 503 | none |
//!
//! Each refusal is logged through [`tracing`](https://docs.rs/tracing) with its reason, never
//! with the token. [`ProtectedResource::authenticate`] runs the same check on a `HeaderMap` for a
//! handler of your own.
//!
//! # Protect an MCP server
//!
//! The layer wraps any tower service, so an MCP SDK's streamable HTTP service sits behind it as a
//! router does; the MCP tools read the claims from the request's extensions. With
//! [`rmcp`](https://docs.rs/rmcp), the official Rust MCP SDK (`examples/mcp-server` in the
//! repository is the whole program):
//!
//! ```text
//! let resource = ProtectedResource::builder(issuer, "https://mcp.example.com/mcp".parse()?)
//!     .require_scopes("mcp:tools".parse()?)
//!     .build()?;
//! let mcp = StreamableHttpService::new(|| Ok(Tools), Default::default(), Default::default());
//! let app = resource.protect(Router::new().nest_service("/mcp", mcp));
//! ```
//!
//! # The keys
//!
//! [`Keys`] holds the issuer's key set in the core's sans-IO [`KeyCache`](workos_connect::KeyCache)
//! and does its fetches:
//!
//! | when | fetch |
//! | --- | --- |
//! | at start, in the background (a request arriving first waits for it) | one |
//! | every refresh interval (5 minutes) after the last good fetch | one, so a withdrawn key stops validating |
//! | a token names a key the set lacks | at most one per interval (a minute) since the last attempt, whether it worked or failed; requests arriving meanwhile wait for the fetch under way |
//! | a fetch fails | none more before the interval; the last good set goes on serving |
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod authenticated;
mod http_client;
mod keys;
mod layer;
mod login;
mod login_error;
mod protect;
mod router;
mod same_origin;
mod session_data;
mod signed_in;

pub use authenticated::{Authenticated, NotBehindLayer};
pub use http_client::{default_client, HttpClientError};
pub use keys::{Keys, KeysError};
pub use layer::{RequireAccessToken, RequireAccessTokenService};
pub use login::{WebLogin, WebLoginBuilder, WebLoginSetupError, LOGIN_PATH, LOGOUT_PATH};
pub use login_error::LoginError;
pub use protect::{
    ProtectedResource, ProtectedResourceBuilder, Refusal, RefusalReason, SetupError,
};
pub use signed_in::{SignInRequired, SignedIn};

//! WorkOS Connect for [axum](https://docs.rs/axum) 0.8: protect an API or MCP server with AuthKit
//! access tokens, and log users in to a web backend with a session. The checks are
//! [`workos_connect`]'s, which does no I/O; this crate adds the I/O: the keys fetched with reqwest
//! (rustls, timeouts, no redirects) on tokio, the tower layer, the routes and the sessions.
//!
//! # Which part serves which job
//!
//! | job | where |
//! | --- | --- |
//! | an API or MCP server that takes AuthKit access tokens | [`ProtectedResource`], the driver of the core's [`RequestCheck`](workos_connect::resource_server::RequestCheck): [`protect`](ProtectedResource::protect) a router, or its [`layer`](ProtectedResource::layer) around any tower service; [`Authenticated`] in handlers |
//! | a web backend logging users in, with a session, renewal and logout | [`WebLogin`]: its [`router`](WebLogin::router) and [`session_layer`](WebLogin::session_layer); [`SignedIn`] in handlers |
//! | the issuer's signing keys, kept current | [`Keys`], driven by the core's [`KeyCache`](workos_connect::jose::KeyCache) |
//!
//! # Protect an API
//!
//! Every route of the router needs `Authorization: Bearer <access token>` issued by the AuthKit
//! domain for this resource, with the scopes required; the resource's metadata (RFC 9728) tells
//! clients where to log in. What a token must carry is the core's
//! [`AccessTokenCheck`](workos_connect::resource_server::AccessTokenCheck); the rest of the
//! decision (origins, DPoP, the answers) its
//! [`RequestCheck`](workos_connect::resource_server::RequestCheck); this crate fetches the keys and
//! moves the bytes.
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use workos_connect::resource_server::{AccessTokenCheck, RequestCheck};
//! use workos_connect_axum::{Authenticated, ProtectedResource};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let check = AccessTokenCheck::new(
//!         "https://example.authkit.app".parse()?,
//!         "https://api.example.com/".parse()?,
//!     )
//!     .require_scopes("things:read".parse()?);
//!     let api = ProtectedResource::new(RequestCheck::api(check)?)?;
//!     let app = api.protect(Router::new().route("/things", get(things)));
//!     axum::serve(tokio::net::TcpListener::bind("127.0.0.1:8000").await?, app).await?;
//!     Ok(())
//! }
//!
//! async fn things(Authenticated(token): Authenticated) -> String {
//!     format!("the things of {}", token.sub())
//! }
//! ```
//!
//! | request | answer | `WWW-Authenticate: Bearer` (with `resource_metadata` and `scope`) |
//! | --- | --- | --- |
//! | no `Authorization` header, or another scheme | 401 | no `error` (RFC 6750 section 3.1) |
//! | a malformed or repeated header | 400 | `error="invalid_request"` |
//! | a token with a bad signature, unknown key, wrong `iss` or `aud`, expired or not yet valid | 401 | `error="invalid_token"` |
//! | a token lacking a required scope | 403 | `error="insufficient_scope"` |
//! | a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`) | the router's (its CORS layer's) | none: passed on without claims |
//! | an `Origin` that is neither the resource's nor [allowed](workos_connect::resource_server::RequestCheck::allowed_origin), where origins are guarded (an MCP server's check, [`RequestCheck::mcp_server`](workos_connect::resource_server::RequestCheck::mcp_server)) | 403 | none |
//! | no key set fetched yet, and the fetch failed | 503 | none |
//!
//! Each answer carries a JSON body, `{"error": ..., "error_description": ...}`. Each refusal is
//! logged through [`tracing`](https://docs.rs/tracing) with its reason, never with the token.
//!
//! An API's check, [`RequestCheck::api`](workos_connect::resource_server::RequestCheck::api),
//! takes pages of any origin: an access token is no ambient credential, so a page of another site
//! gets in only with a token it holds. Which pages may read the answers is CORS's to say, in a
//! CORS layer of the app's (tower-http's `CorsLayer`): outside the layer, it answers preflights
//! and puts its headers on refusals too, so that a page reads why it was refused; inside, it gets
//! the preflights, which the layer passes on without claims, but not the refusals.
//! [`ProtectedResource::authenticate`] runs the same check on a `HeaderMap` for a handler of your
//! own.
//!
//! # Log users in
//!
//! `GET /login` sends the browser to AuthKit (PKCE, `state`, `nonce`), the callback checks the
//! answer, redeems the code, validates the ID token and starts the session (a new session ID, the
//! cookie `HttpOnly` and `SameSite=Lax`, `Secure` on https), and `POST /logout` ends it, refusing
//! posts from other sites. [`SignedIn`] renews the access token with the refresh token when it
//! nears its expiry (once for all the requests of a session arriving together), and sends
//! signed-out browsers to `/login?return_to=<the page>` (401 for API calls).
//!
//! ```no_run
//! use axum::{response::Html, routing::get, Router};
//! use workos_connect::{ConnectClient, Scopes};
//! use workos_connect_axum::{tower_sessions::MemoryStore, SignedIn, WebLogin};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let client = ConnectClient::new(
//!         "https://example.authkit.app".parse()?,
//!         "client_01HXYZ".parse()?,
//!         "http://127.0.0.1:3000/callback".parse()?,
//!     );
//!     let login = WebLogin::builder(client).scopes(Scopes::ALL).build()?;
//!     let app = Router::new()
//!         .route("/", get(home))
//!         .route("/me", get(me))
//!         .merge(login.router())
//!         .layer(login.session_layer(MemoryStore::default()));
//!     axum::serve(tokio::net::TcpListener::bind("127.0.0.1:3000").await?, app).await?;
//!     Ok(())
//! }
//!
//! async fn home(user: Option<SignedIn>) -> Html<String> {
//!     Html(match user {
//!         Some(user) => format!(
//!             "Signed in as {}. <form method=post action=/logout><button>Log out</button></form>",
//!             user.claims().sub
//!         ),
//!         None => "<a href=/login>Log in</a>".to_owned(),
//!     })
//! }
//!
//! async fn me(user: SignedIn) -> String {
//!     format!("{}'s access token lasts until {:?}", user.claims().sub, user.expires_at())
//! }
//! ```
//!
//! The login and logout are served at [`LOGIN_PATH`] and [`LOGOUT_PATH`] unless
//! [`login_path`](WebLoginBuilder::login_path) and [`logout_path`](WebLoginBuilder::logout_path)
//! say otherwise; [`WebLogin::login_path`] and [`WebLogin::logout_path`] give them to links and
//! forms. `GET /login?return_to=/reports?year=2025` comes back to that page after the login: a path
//! on this site only, anything else (`//evil.example`, `https://evil.example`, `/\evil.example`)
//! is refused with 400. Every refusal of the routes and of [`SignedIn`] but the redirect to the
//! login carries a JSON body saying why, `{"error": ..., "error_description": ...}` (the codes are
//! [`LoginError::error`]'s), that quotes no token, code, `state` or session ID.
//!
//! ```
//! use axum::{body::Body, http::Request, Router};
//! use tower::ServiceExt;
//! use workos_connect_axum::tower_sessions::MemoryStore;
//! use workos_connect::ConnectClient;
//! use workos_connect_axum::WebLogin;
//! # use workos_connect::jose::KeyCache;
//! # use workos_connect_axum::Keys;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let client = ConnectClient::new(
//!     "https://example.authkit.app".parse()?,
//!     "client_01HXYZ".parse()?,
//!     "https://app.example.com/auth/callback".parse()?,
//! );
//! let login = WebLogin::builder(client)
//!     .login_path("/auth/login")
//!     .logout_path("/auth/logout")
//! #   .keys(Keys::new(KeyCache::new("https://example.authkit.app/oauth2/jwks".parse()?))?)
//!     .build()?;
//! let link = format!("<a href=\"{}?return_to=%2Freports\">Log in</a>", login.login_path());
//! assert_eq!(link, "<a href=\"/auth/login?return_to=%2Freports\">Log in</a>");
//! let app: Router = Router::new()
//!     .merge(login.router())
//!     .layer(login.session_layer(MemoryStore::default()));
//!
//! let to_evil = Request::get("/auth/login?return_to=%2F%2Fevil.example").body(Body::empty())?;
//! let refused = app.oneshot(to_evil).await?;
//! assert_eq!(refused.status(), 400);
//! let body = axum::body::to_bytes(refused.into_body(), 4096).await?;
//! let body: serde_json::Value = serde_json::from_slice(&body)?;
//! assert_eq!(body["error"], "invalid_return_to");
//! # Ok(()) }
//! ```
//!
//! The sessions are [`tower-sessions`](tower_sessions) 0.15's, re-exported as
//! [`workos_connect_axum::tower_sessions`](tower_sessions): take `MemoryStore` and any other of its
//! types from there, so the app's session layer and this crate's are one version. An app with several
//! instances keeps its sessions in a shared store: [`RedisStore`] (the `redis` feature) in place of
//! the `MemoryStore`, or any store implementing `tower-sessions-core` 0.15 (`examples/axum-login` in
//! the repository takes `--redis-url`).
//!
//! `tower-sessions` saves a session's whole record, last write wins: a request that changed its
//! session (or every request, with `always_save`) writes back, when it ends, the record as it read
//! it, with the changes. Within one instance, renewals of a session, its logout and a login's new
//! session ID take turns (renewals across instances too, with [`RedisStore`]: a lock in Redis held
//! for the renewal, released after it, and expiring should its instance stop mid-renewal), and a
//! renewal stores its tokens only over the record it redeemed the refresh token of, still there. Beyond that the store has the last word: a handler that changes
//! the session while another request renews the token may write back the older refresh token (the
//! next renewal then redeems a spent one, and the server may end the grant), and a request that
//! renewed the token, or changed the session otherwise, and ends after a logout stores the session
//! again (not with [`RedisStore`], which saves a session only while its key exists). A
//! compare-and-set on the session record would close the rest; `tower-sessions` has none.
//!
//! # Protect an MCP server
//!
//! The layer wraps any tower service, so an MCP SDK's streamable HTTP service sits behind it as a
//! router does; the MCP tools read the claims from the request's extensions. An MCP server's
//! check, [`RequestCheck::mcp_server`](workos_connect::resource_server::RequestCheck::mcp_server),
//! refuses pages of other origins with 403 unless
//! [allowed](workos_connect::resource_server::RequestCheck::allowed_origin): the MCP streamable
//! HTTP transport requires servers to validate `Origin`, against DNS rebinding. With
//! [`rmcp`](https://docs.rs/rmcp), the official Rust MCP SDK (`examples/mcp-server` in the
//! repository is the whole program):
//!
//! ```text
//! use rmcp::transport::streamable_http_server::{session::never::NeverSessionManager, StreamableHttpServerConfig, StreamableHttpService};
//!
//! let check = AccessTokenCheck::new(issuer, "https://mcp.example.com/mcp".parse()?)
//!     .require_scopes("mcp:tools".parse()?);
//! let resource = ProtectedResource::new(RequestCheck::mcp_server(check)?)?;
//! let config = StreamableHttpServerConfig::default()
//!     .with_legacy_session_mode(false)
//!     .with_json_response(true)
//!     .with_allowed_hosts(["mcp.example.com"]);
//! let mcp = StreamableHttpService::new(|| Ok(Tools), NeverSessionManager::default().into(), config);
//! let app = resource.protect(Router::new().route_service("/mcp", mcp));
//!
//! // In a tool, the request's checked claims:
//! #[tool(description = "Who the access token was issued to")]
//! fn whoami(&self, Extension(parts): Extension<http::request::Parts>) -> String {
//!     let claims = parts.extensions.get::<AccessTokenClaims>();
//!     // ...
//! }
//! ```
//!
//! # The keys
//!
//! [`Keys`] holds the issuer's key set in the core's sans-IO [`KeyCache`](workos_connect::jose::KeyCache)
//! and does its fetches:
//!
//! | when | fetch |
//! | --- | --- |
//! | at start, in the background (a request arriving first waits for it) | one |
//! | every refresh interval (5 minutes) after the last good fetch | one, so a withdrawn key stops validating |
//! | a token names a key the set lacks | at most one per interval (a minute) since the last attempt, whether it worked or failed; requests arriving meanwhile wait for the fetch under way |
//! | a fetch fails | none more before the interval; the last good set goes on serving |
//!
//! # Several instances
//!
//! Behind a load balancer, each request may reach another instance. With the `redis` feature, one
//! [`RedisStore`] holds what must be shared; the rest is per instance by design:
//!
//! | state | where | when Redis does not answer |
//! | --- | --- | --- |
//! | sessions (a login begun on one instance ends on another; a logout holds on all) | Redis, via [`WebLogin::session_layer`]`(store)`: `<prefix>session:<ID>` | the login routes and [`SignedIn`] answer 500 (`server_error`), as `tower-sessions` does for a store that fails |
//! | a session's renewal (one refresh of a rotated refresh token at a time) | this instance's turns, then a lock in Redis, `<prefix>renewal:<ID>`, extended while the renewal runs and expiring 15 seconds after, should its instance stop; only when the [`RedisStore`] itself is given to [`WebLogin::session_layer`] | the renewal fails; the handler gets the token it had while it is valid |
//! | DPoP proofs already used | Redis, via [`ProtectedResourceBuilder::shared_replay_memory`]`(store)`: one `SET NX` per proof, expiring with its window | 503 after [`DEFAULT_REPLAY_MEMORY_TIMEOUT`] (half a second), never taken unchecked |
//! | DPoP server nonces | nothing to share: a nonce is dated and sealed with a secret every instance is given ([`DatedNonces`](workos_connect::dpop::DatedNonces)), and any of them checks it without a lookup | unaffected |
//! | the issuer's keys ([`Keys`]) and the tokens already verified | each instance fetches and remembers its own | unaffected |
//!
//! Without a shared memory, a DPoP proof accepted by one instance is accepted again by another
//! within its window (two minutes after it was made, by default), and two instances may redeem one refresh token at
//! once, which a provider rotating refresh tokens answers by ending the grant.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod authenticated;
mod http_client;
mod keys;
mod layer;
mod login;
mod login_error;
mod protect;
#[cfg(feature = "redis")]
mod redis_store;
mod refused;
mod renewals;
mod router;
mod same_origin;
mod session_data;
mod signed_in;
mod url_rules;

pub use authenticated::{Authenticated, NotBehindLayer};
pub use http_client::{default_client, HttpClientError};
pub use keys::{Keys, KeysError};
pub use layer::{RequireAccessToken, RequireAccessTokenService, ResponseFuture};
pub use login::{WebLogin, WebLoginBuilder, WebLoginSetupError, LOGIN_PATH, LOGOUT_PATH};
pub use login_error::LoginError;
#[cfg(feature = "redis")]
pub use protect::DEFAULT_REPLAY_MEMORY_TIMEOUT;
pub use protect::{Passed, ProtectedResource, ProtectedResourceBuilder, SetupError};
pub use refused::Refused;
pub use signed_in::{SignInRequired, SignedIn};

#[cfg(feature = "redis")]
pub use redis_store::{RedisStore, RedisStoreError, DEFAULT_PREFIX};

/// The `tower-sessions` this crate's sessions are made with (0.15, with its `MemoryStore`): name its
/// types through this path, so that an app's session layer and the login's are one version.
pub use tower_sessions;

/// The `reqwest` (0.13) this crate's HTTP client is, for [`WebLoginBuilder::http_client`],
/// [`Keys::with_client`] and [`default_client`].
pub use reqwest;

/// The Redis client (`fred` 10) under [`RedisStore`], for an app that sets up its own pool.
#[cfg(feature = "redis")]
pub use fred;

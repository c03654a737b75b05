//! reqwest and tokio drivers for [`workos_connect`]'s sans-IO clients: the whole MCP login in a few
//! lines, the browser's way back through a loopback redirect, and one function that sends any
//! request a job hands out.
//!
//! # Which part serves which job
//!
//! | job | where |
//! | --- | --- |
//! | an agent, editor or CLI logging in to an MCP server | [`log_in`] runs a [`McpLogin`](workos_connect::mcp::McpLogin) to its end |
//! | the browser step | [`UserBrowser`] (the user's browser and a [`LoopbackRedirect`]), [`FollowRedirect`] (test servers) |
//! | any request a sans-IO job hands out | [`send`], with [`default_client`] (rustls, timeouts, no redirects) |
//! | DPoP-bound tokens (RFC 9449): the servers' nonces, a proof per MCP request | [`send_for_answer`] keeps `DPoP-Nonce`; [`McpAuth::resource_headers`] |
//! | the official Rust MCP SDK (`rmcp`) calling a protected server's tools (feature `rmcp`) | `AuthorizedClient` with an [`McpAuth`], given to `StreamableHttpClientTransport::with_client`: below |
//!
//! # Log in to an MCP server
//!
//! ```no_run
//! use workos_connect::mcp::{McpClientSettings, McpLogin};
//! use workos_connect_reqwest::{default_client, log_in, LoopbackRedirect, UserBrowser};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let server: url::Url = "https://mcp.example.com/mcp".parse()?;
//!     let http = default_client()?;
//!     let first = http.post(server.as_str()).header("content-type", "application/json")
//!         .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).send().await?;
//!     let challenges: Vec<&str> = first.headers().get_all("www-authenticate").iter()
//!         .filter_map(|value| value.to_str().ok()).collect();
//!     let loopback = LoopbackRedirect::bind(0).await?;
//!     let settings = McpClientSettings::new("My agent", loopback.redirect_uri().clone());
//!     let login = McpLogin::unauthorized(&settings, &server, &challenges)?;
//!     let authorization = log_in(&http, login, &mut UserBrowser::new(loopback)).await?;
//!     println!("logged in to {}", authorization.issuer());
//!     Ok(())
//! }
//! ```
#![cfg_attr(feature = "rmcp", doc = include_str!("../docs/rmcp.md"))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod browser;
mod login;
mod loopback;
mod mcp_auth;
#[cfg(feature = "rmcp")]
mod rmcp_client;
mod send;

pub use browser::{Browser, BrowserError, FollowRedirect, UserBrowser};
pub use login::{log_in, LoginError};
pub use loopback::LoopbackRedirect;
pub use mcp_auth::McpAuth;
#[cfg(feature = "rmcp")]
pub use rmcp_client::AuthorizedClient;
pub use send::{default_client, send, send_for_answer, Answer, SendError, MAX_ANSWER_BYTES};

/// The `reqwest` (0.13) every driver here sends with: name its types through this path, so that
/// the client given to [`log_in`] or [`send`] is the version they take.
pub use reqwest;

/// The official Rust MCP SDK (`rmcp` 3.11) that [`AuthorizedClient`] is a transport client of:
/// name its types through this path, so that the transport and the client are one version.
#[cfg(feature = "rmcp")]
pub use rmcp;

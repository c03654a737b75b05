//! Protecting an API or MCP server with AuthKit access tokens: the resource server's side.
//!
//! | step | types | RFC |
//! | --- | --- | --- |
//! | read the request's token | [`bearer_token`], [`BearerTokenError`] | 6750 §2.1 |
//! | publish where tokens come from | [`ProtectedResourceMetadata::new`] served at [`ProtectedResourceMetadata::well_known_url`] | 9728 |
//! | refuse a request | a [`BearerChallenge`] as `WWW-Authenticate`, with the status of its [`BearerError`] | 6750 §3, 9728 §5.1 |
//!
//! The parsed types are the ones an MCP client reads ([`crate::mcp`]): what the server writes is
//! what a client of this crate parses.

mod bearer;

pub use crate::mcp::{BearerChallenge, BearerError, ProtectedResourceMetadata};
pub use bearer::{bearer_token, BearerTokenError};

//! WorkOS Connect for [axum](https://docs.rs/axum): protect an API or MCP server with AuthKit access
//! tokens, and log users in with a session.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod authenticated;
mod http_client;
mod keys;
mod layer;
mod login;
mod login_error;
mod protect;
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

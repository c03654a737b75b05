//! Why a device login failed.

use crate::oauth::callback::{ErrorCode, OAuthError};
use crate::oauth::endpoint::EndpointError;
use crate::oauth::token::TokenError;

/// Why a device login failed. The endpoint's own errors keep its code; the ones that end a login
/// have variants of their own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// The user refused on the verification page (`access_denied`).
    #[error("the login was refused on the verification page")]
    AccessDenied,
    /// The device code expired before the user finished (`expired_token`, or its lifetime passed
    /// here first); start a new login.
    #[error("the code expired before the login was finished; start a new login")]
    Expired,
    /// The endpoint answered with another OAuth error (`invalid_client`, `invalid_scope`, ...).
    #[error(transparent)]
    Endpoint(OAuthError),
    /// The endpoint answered an error status whose body is not an OAuth error.
    #[error("the endpoint answered HTTP {status} without an OAuth error body")]
    UnexpectedStatus {
        /// The HTTP status.
        status: u16,
    },
    /// The device authorization response is not the JSON RFC 8628 describes. The reason gives the
    /// fault and its position or field, never the body's text.
    #[error("the device authorization response is malformed: {reason}")]
    MalformedResponse {
        /// What is wrong, and where.
        reason: String,
    },
    /// A value to show the user holds a control character or a bidirectional formatting character
    /// (or another invisible one, such as a zero-width space), which a terminal would act on or use
    /// to reorder what it shows. The name is kept from when it covered control characters only.
    #[error(
        "the device authorization response's {field} holds a control or bidirectional formatting \
         character"
    )]
    ControlCharacter {
        /// `user_code`, `verification_uri` or `verification_uri_complete`.
        field: &'static str,
    },
    /// An endpoint or a URL to show the user is not `https` (nor `http` on a loopback host).
    #[error("{field} is not an https URL")]
    InsecureUrl {
        /// The setting or member at fault.
        field: &'static str,
    },
    /// An endpoint is not `https` (nor `http` on a loopback host), or has a fragment or a
    /// parameter the requests write in its query (RFC 6749 sections 3.1 and 3.2).
    #[error("{field} cannot be used: {source}")]
    EndpointUrl {
        /// The setting at fault.
        field: &'static str,
        /// What is wrong with it.
        source: EndpointError,
    },
    /// The token response, once the user has logged in, was refused.
    #[error("the token response: {0}")]
    Token(TokenError),
}

impl DeviceError {
    /// Whether polling may go on after this error, once
    /// [`DeviceLogin::back_off`](crate::device::DeviceLogin::back_off) has lengthened the interval:
    /// the server is overloaded or down for a moment (`429`, a `5xx`, `server_error`,
    /// `temporarily_unavailable`). A connection failure is transient too.
    pub fn is_transient(&self) -> bool {
        match self {
            DeviceError::UnexpectedStatus { status } => *status == 429 || *status >= 500,
            DeviceError::Endpoint(error) => matches!(
                error.code,
                ErrorCode::ServerError | ErrorCode::TemporarilyUnavailable
            ),
            _ => false,
        }
    }
}

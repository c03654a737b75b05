//! Why a login route or the [`SignedIn`](crate::SignedIn) extractor refused a request.

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use workos_connect::{oauth::ErrorCode, CallbackError, IdTokenError, TokenError};

use crate::keys::KeysError;

/// Why a login route or the [`SignedIn`](crate::SignedIn) extractor refused a request. As a
/// response: its [`status`](Self::status) and the message, as plain text (nothing echoed from a
/// query becomes markup). No message quotes a token or the client secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The callback came without a login in progress in this session: replayed, from another
    /// browser, or after the session ended (400).
    #[error("no login in progress: start at /login and finish within 15 minutes")]
    NoLoginInProgress,
    /// The callback does not match the login in progress, or AuthKit answered with an error (400;
    /// 403 when the user refused).
    #[error(transparent)]
    Callback(#[from] CallbackError),
    /// The token endpoint refused the code or the refresh token (401 for `invalid_grant`: the user
    /// must log in again) or answered something unusable (502).
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The token response carries no ID token, though `openid` is always requested (502).
    #[error("the token response has no ID token, though `openid` was requested")]
    NoIdToken,
    /// The ID token did not validate (502).
    #[error(transparent)]
    IdToken(#[from] IdTokenError),
    /// No key set to check the ID token with (503).
    #[error(transparent)]
    Keys(#[from] KeysError),
    /// The token endpoint could not be reached, or its answer not read (502).
    #[error("cannot reach the token endpoint: {0}")]
    Unreachable(#[source] reqwest::Error),
    /// The token endpoint did not answer within the
    /// [token timeout](crate::WebLoginBuilder::token_timeout) (502).
    #[error("the token endpoint did not answer within {} s", .0.as_secs_f32())]
    TimedOut(std::time::Duration),
    /// The renewal of the access token this request waited for failed a moment ago, and the
    /// token has expired: the request takes that failure rather than trying again after it (502).
    #[error("the access token expired and its renewal failed; try again later")]
    RenewalFailed,
    /// The token endpoint answered with more than this crate reads (502).
    #[error("the token endpoint's answer is larger than {0} bytes")]
    TooLarge(usize),
    /// The session store failed (500).
    #[error("the session store failed: {0}")]
    Session(#[from] tower_sessions::session::Error),
    /// A request changing the session came from another site's page (403).
    #[error("a form from another site cannot act on this session")]
    CrossSite,
    /// The session holds no signed-in user (401).
    #[error("not signed in")]
    NotSignedIn,
    /// The access token expired and the session holds no refresh token to renew it: log in again,
    /// with `offline_access` to stay signed in (401).
    #[error("the session expired: log in again")]
    Expired,
    /// The request reached [`SignedIn`](crate::SignedIn) without the layer named here: a mistake
    /// in the router (500).
    #[error("the route is not behind {0}; see WebLogin::session_layer")]
    NotBehindLayer(&'static str),
    /// The `login_hint` given to `/login` was refused by [`LoginHint`](workos_connect::oauth::LoginHint)'s
    /// checks: empty of text, too long, or holding control or invisible characters (400). The
    /// message gives the position, never the hint.
    #[error("the login_hint cannot be sent: {0}")]
    LoginHint(#[source] workos_connect::Error),
    /// The authorize URL could not be written (500).
    #[error("the login could not start: {0}")]
    Authorize(#[source] workos_connect::Error),
    /// The token request could not be written as an HTTP request (500).
    #[error("the token request could not be sent: {0}")]
    Request(#[source] http::Error),
}

impl LoginError {
    /// The status the refusal is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            LoginError::Callback(CallbackError::Authorization(error))
                if error.code == ErrorCode::AccessDenied =>
            {
                StatusCode::FORBIDDEN
            }
            LoginError::NoLoginInProgress | LoginError::Callback(_) | LoginError::LoginHint(_) => {
                StatusCode::BAD_REQUEST
            }
            LoginError::Token(error) if is_invalid_grant(error) => StatusCode::UNAUTHORIZED,
            LoginError::NotSignedIn | LoginError::Expired => StatusCode::UNAUTHORIZED,
            LoginError::CrossSite => StatusCode::FORBIDDEN,
            LoginError::Token(_)
            | LoginError::NoIdToken
            | LoginError::IdToken(_)
            | LoginError::Unreachable(_)
            | LoginError::TimedOut(_)
            | LoginError::RenewalFailed
            | LoginError::TooLarge(_) => StatusCode::BAD_GATEWAY,
            LoginError::Keys(_) => StatusCode::SERVICE_UNAVAILABLE,
            LoginError::Session(_)
            | LoginError::NotBehindLayer(_)
            | LoginError::Authorize(_)
            | LoginError::Request(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Whether the token endpoint refused the grant: a code used or expired, a refresh token revoked
    /// or already rotated.
    pub(crate) fn is_invalid_grant(&self) -> bool {
        matches!(self, LoginError::Token(error) if is_invalid_grant(error))
    }
}

fn is_invalid_grant(error: &TokenError) -> bool {
    matches!(error, TokenError::Endpoint(error) if error.code == ErrorCode::InvalidGrant)
}

impl IntoResponse for LoginError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "login request failed");
        } else if status != StatusCode::UNAUTHORIZED {
            tracing::info!(error = %self, "login request refused");
        }
        (status, self.to_string()).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_tell_the_user_from_the_server_at_fault() {
        let refused =
            workos_connect::TokenResponse::parse(400, br#"{"error":"invalid_grant"}"#).unwrap_err();
        assert_eq!(
            LoginError::Token(refused).status(),
            StatusCode::UNAUTHORIZED
        );
        let broken = TokenError::UnexpectedStatus { status: 500 };
        assert_eq!(LoginError::Token(broken).status(), StatusCode::BAD_GATEWAY);
        assert_eq!(LoginError::CrossSite.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            LoginError::NoLoginInProgress.status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            LoginError::NotBehindLayer("x").status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}

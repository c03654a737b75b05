//! Why a login route or the [`SignedIn`](crate::SignedIn) extractor refused a request.

use axum::response::{IntoResponse, Response};
use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};
use serde::Serialize;
use workos_connect::{oauth::ErrorCode, CallbackError, IdTokenError, TokenError};

use crate::keys::KeysError;

/// Why a login route or the [`SignedIn`](crate::SignedIn) extractor refused a request. As a
/// response: its [`status`](Self::status) and a small JSON body, [`json_body`](Self::json_body):
/// `{"error": ..., "error_description": ...}`, the field names of the core's
/// [`Refusal`](workos_connect::resource_server::Refusal). The body is fixed text chosen by the
/// variant: it never quotes a token, code, `state`, nonce, session ID or the client secret, nor
/// anything the provider or the request wrote, but for an OAuth error code of RFC 6749 (and OpenID
/// Connect) from a fixed list. The message ([`Display`](std::fmt::Display)), for the log, says more
/// and quotes no secret either.
///
/// ```
/// use workos_connect_axum::LoginError;
///
/// let refused = LoginError::CrossSite;
/// assert_eq!(refused.status(), 403);
/// assert_eq!(refused.error(), "cross_site_request");
/// let body: serde_json::Value = serde_json::from_str(&refused.json_body()).unwrap();
/// assert_eq!(body["error"], "cross_site_request");
/// assert_eq!(body["error_description"], refused.error_description());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The callback came without a login in progress in this session: replayed, from another
    /// browser, or after the session ended (400).
    #[error("no login in progress: start a new login and finish it within 15 minutes")]
    NoLoginInProgress,
    /// The login route's `return_to` is not a path on this site (400): see
    /// [`WebLogin::router`](crate::WebLogin::router) for what it takes.
    #[error(
        "return_to must be a page on this site: a path starting with a single /, at most \
         {MAX_RETURN_TO_LEN} bytes of printable ASCII without a backslash (percent-encode the \
         rest), other than the login and its callback"
    )]
    InvalidReturnTo,
    /// The login route's query cannot be read: a parameter given more than once (400).
    #[error("the login's query cannot be read: give each parameter at most once")]
    MalformedLoginQuery,
    /// The login route's `login_hint` was refused by
    /// [`LoginHint`](workos_connect::oauth::LoginHint)'s checks: too long, or holding control or
    /// invisible characters (400). The message gives the position, never the hint.
    #[error("the login_hint cannot be sent: {0}")]
    LoginHint(#[source] workos_connect::Error),
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
            LoginError::NoLoginInProgress
            | LoginError::InvalidReturnTo
            | LoginError::MalformedLoginQuery
            | LoginError::LoginHint(_)
            | LoginError::Callback(_) => StatusCode::BAD_REQUEST,
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

    /// The body's `error`: a stable code for a program to act on. One of `no_login_in_progress`,
    /// `invalid_return_to`, `invalid_login_query`, `invalid_login_hint`, `login_expired`, `state_mismatch`,
    /// `issuer_mismatch`, `invalid_callback`, the authorization server's own error code at the
    /// callback when it is one of RFC 6749's and OpenID Connect's (`access_denied`,
    /// `login_required`, ...; any other is `authorization_failed`), `invalid_grant` (sign in
    /// again), `token_endpoint_error`, `invalid_id_token`, `provider_unreachable`,
    /// `renewal_failed`, `temporarily_unavailable` (no keys yet), `cross_site_request`,
    /// `not_signed_in`, `session_expired` and `server_error`.
    pub fn error(&self) -> &str {
        match self {
            LoginError::NoLoginInProgress => "no_login_in_progress",
            LoginError::InvalidReturnTo => "invalid_return_to",
            LoginError::MalformedLoginQuery => "invalid_login_query",
            LoginError::LoginHint(_) => "invalid_login_hint",
            LoginError::Callback(error) => match callback_fault(error) {
                CallbackFault::Expired => "login_expired",
                CallbackFault::State => "state_mismatch",
                CallbackFault::Issuer => "issuer_mismatch",
                CallbackFault::Malformed => "invalid_callback",
                // The codes the core knows are a fixed list of the standards'; anything else the
                // server wrote stays out of the answer.
                CallbackFault::Authorization(ErrorCode::Other(_)) => "authorization_failed",
                CallbackFault::Authorization(code) => code.as_str(),
            },
            LoginError::Token(error) if is_invalid_grant(error) => "invalid_grant",
            LoginError::Token(_) | LoginError::NoIdToken | LoginError::TooLarge(_) => {
                "token_endpoint_error"
            }
            LoginError::IdToken(_) => "invalid_id_token",
            LoginError::Unreachable(_) | LoginError::TimedOut(_) => "provider_unreachable",
            LoginError::RenewalFailed => "renewal_failed",
            LoginError::Keys(_) => "temporarily_unavailable",
            LoginError::CrossSite => "cross_site_request",
            LoginError::NotSignedIn => "not_signed_in",
            LoginError::Expired => "session_expired",
            LoginError::Session(_)
            | LoginError::NotBehindLayer(_)
            | LoginError::Authorize(_)
            | LoginError::Request(_) => "server_error",
        }
    }

    /// The body's `error_description`: a fixed sentence saying why, and what to do.
    pub fn error_description(&self) -> &'static str {
        match self {
            LoginError::NoLoginInProgress => {
                "no login in progress in this session: it was finished already, started in \
                 another browser, or the session ended; start a new login"
            }
            LoginError::InvalidReturnTo => {
                "return_to must be a page on this site: a path starting with a single /, of \
                 printable ASCII without spaces or backslashes, at most 2048 bytes, other than the \
                 login and its callback"
            }
            LoginError::MalformedLoginQuery => {
                "the login's query cannot be read: give each parameter at most once"
            }
            LoginError::LoginHint(_) => {
                "login_hint must be 1 to 256 characters of text a person could type: no control, \
                 bidirectional-override or invisible characters"
            }
            LoginError::Callback(error) => match callback_fault(error) {
                CallbackFault::Expired => "the login took too long to finish; start a new login",
                CallbackFault::State => {
                    "the callback's state does not match the login in progress: it did not come \
                     from this login"
                }
                CallbackFault::Issuer => {
                    "the callback names another authorization server than the login's (RFC 9207)"
                }
                CallbackFault::Malformed => {
                    "the callback's code is missing, empty, repeated or malformed"
                }
                CallbackFault::Authorization(ErrorCode::AccessDenied) => {
                    "the login was refused at the authorization server: the user declined, or may \
                     not use this application"
                }
                CallbackFault::Authorization(
                    ErrorCode::LoginRequired
                    | ErrorCode::InteractionRequired
                    | ErrorCode::ConsentRequired
                    | ErrorCode::AccountSelectionRequired,
                ) => "the authorization server needs the user's interaction; start a new login",
                CallbackFault::Authorization(_) => {
                    "the authorization server refused the login; the server's log says more"
                }
            },
            LoginError::Token(error) if is_invalid_grant(error) => {
                "the authorization server refused the code or the refresh token (used, expired or \
                 revoked): sign in again"
            }
            LoginError::Token(_) => {
                "the token endpoint refused the request or answered something unusable; the \
                 server's log says more"
            }
            LoginError::NoIdToken => "the token endpoint's answer has no ID token",
            LoginError::TooLarge(_) => "the token endpoint's answer is too large",
            LoginError::IdToken(_) => {
                "the ID token from the authorization server did not validate; the server's log \
                 says why"
            }
            LoginError::Unreachable(_) | LoginError::TimedOut(_) => {
                "the authorization server's token endpoint could not be reached or did not answer \
                 in time; try again later"
            }
            LoginError::RenewalFailed => {
                "the access token expired and its renewal failed a moment ago; try again later"
            }
            LoginError::Keys(_) => {
                "the keys that check ID tokens could not be fetched yet; try again later"
            }
            LoginError::CrossSite => {
                "a request from another site's page cannot act on this session: a logout or form \
                 post must come from this site's own pages"
            }
            LoginError::NotSignedIn => "nobody is signed in in this session: sign in first",
            LoginError::Expired => "the session expired: sign in again",
            LoginError::Session(_) => "the session store failed; the server's log says more",
            LoginError::NotBehindLayer(_) => {
                "the route is not set up for logins; the server's log says what is missing"
            }
            LoginError::Authorize(_) | LoginError::Request(_) => {
                "the login could not be handled; the server's log says more"
            }
        }
    }

    /// The body to send, as `application/json`: `{"error": ..., "error_description": ...}`.
    pub fn json_body(&self) -> String {
        let body = Body {
            error: self.error(),
            error_description: self.error_description(),
        };
        // Two strings always serialise.
        serde_json::to_string(&body).unwrap_or_default()
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

/// The longest `return_to` taken, in bytes: a path and query, not a document.
pub(crate) const MAX_RETURN_TO_LEN: usize = 2048;

/// The body of a refusal, as OAuth error responses write it.
#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    error_description: &'static str,
}

/// What a refused callback got wrong, as the answer tells it.
enum CallbackFault<'a> {
    /// The login is too old to finish, or its start time was altered.
    Expired,
    /// The `state` is missing, repeated or another login's.
    State,
    /// The `iss` is missing, repeated or another server's.
    Issuer,
    /// The `code` or `error` is missing, repeated or malformed.
    Malformed,
    /// The authorization server answered with this error code.
    Authorization(&'a ErrorCode),
}

fn callback_fault(error: &CallbackError) -> CallbackFault<'_> {
    match error {
        CallbackError::Expired { .. } | CallbackError::FromTheFuture => CallbackFault::Expired,
        CallbackError::MissingState
        | CallbackError::EmptyState
        | CallbackError::DuplicateState
        | CallbackError::StateMismatch
        | CallbackError::UnexpectedState => CallbackFault::State,
        CallbackError::MissingIssuer
        | CallbackError::DuplicateIssuer
        | CallbackError::IssuerMismatch { .. } => CallbackFault::Issuer,
        CallbackError::Authorization(error) => CallbackFault::Authorization(&error.code),
        CallbackError::DuplicateError
        | CallbackError::MissingCode
        | CallbackError::EmptyCode
        | CallbackError::DuplicateCode
        | CallbackError::InvalidCode { .. }
        | CallbackError::CodeTooLong { .. } => CallbackFault::Malformed,
        // Whatever the core adds later is a callback this login cannot use.
        _ => CallbackFault::Malformed,
    }
}

impl IntoResponse for LoginError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "login request failed");
        } else if status != StatusCode::UNAUTHORIZED {
            tracing::info!(error = %self, "login request refused");
        }
        (
            status,
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            self.json_body(),
        )
            .into_response()
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

    fn body(error: &LoginError) -> serde_json::Value {
        serde_json::from_str(&error.json_body()).unwrap()
    }

    fn oauth_error(code: &str, description: &str) -> workos_connect::oauth::OAuthError {
        workos_connect::oauth::OAuthError {
            code: ErrorCode::parse(code),
            description: Some(description.to_owned()),
            uri: Some("https://evil.example.com/secret-uri".to_owned()),
        }
    }

    #[test]
    fn each_refusal_says_why_in_a_fixed_code_and_sentence() {
        let cases = [
            (LoginError::NoLoginInProgress, 400, "no_login_in_progress"),
            (LoginError::InvalidReturnTo, 400, "invalid_return_to"),
            (LoginError::MalformedLoginQuery, 400, "invalid_login_query"),
            (
                LoginError::LoginHint(workos_connect::oauth::LoginHint::new("ada\n").unwrap_err()),
                400,
                "invalid_login_hint",
            ),
            (
                LoginError::Callback(CallbackError::StateMismatch),
                400,
                "state_mismatch",
            ),
            (
                LoginError::Callback(CallbackError::MissingState),
                400,
                "state_mismatch",
            ),
            (
                LoginError::Callback(CallbackError::Expired {
                    age_secs: 901,
                    max_age_secs: 900,
                }),
                400,
                "login_expired",
            ),
            (
                LoginError::Callback(CallbackError::IssuerMismatch {
                    expected: "https://example.authkit.app".to_owned(),
                    received: "https://evil.example.com".to_owned(),
                }),
                400,
                "issuer_mismatch",
            ),
            (
                LoginError::Callback(CallbackError::CodeTooLong { len: 9000, max: 1 }),
                400,
                "invalid_callback",
            ),
            (
                LoginError::Callback(CallbackError::Authorization(oauth_error(
                    "access_denied",
                    "x",
                ))),
                403,
                "access_denied",
            ),
            (
                LoginError::Callback(CallbackError::Authorization(oauth_error(
                    "login_required",
                    "x",
                ))),
                400,
                "login_required",
            ),
            (
                LoginError::Token(TokenError::Endpoint(oauth_error("invalid_grant", "x"))),
                401,
                "invalid_grant",
            ),
            (
                LoginError::Token(TokenError::UnexpectedStatus { status: 500 }),
                502,
                "token_endpoint_error",
            ),
            (LoginError::NoIdToken, 502, "token_endpoint_error"),
            (
                LoginError::IdToken(IdTokenError::Malformed),
                502,
                "invalid_id_token",
            ),
            (
                LoginError::TimedOut(std::time::Duration::from_secs(30)),
                502,
                "provider_unreachable",
            ),
            (LoginError::RenewalFailed, 502, "renewal_failed"),
            (LoginError::TooLarge(1), 502, "token_endpoint_error"),
            (LoginError::CrossSite, 403, "cross_site_request"),
            (LoginError::NotSignedIn, 401, "not_signed_in"),
            (LoginError::Expired, 401, "session_expired"),
            (LoginError::NotBehindLayer("x"), 500, "server_error"),
        ];
        for (error, status, code) in cases {
            assert_eq!(error.status(), status, "{error:?}");
            let body = body(&error);
            assert_eq!(body["error"], code, "{error:?}");
            assert_eq!(body["error_description"], error.error_description());
            assert!(!error.error_description().is_empty());
            assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
        }
    }

    #[test]
    fn the_body_quotes_nothing_the_provider_or_the_request_wrote() {
        let secret = "SECRET-desc-rt_1-at_1";
        for error in [
            LoginError::Callback(CallbackError::Authorization(oauth_error(
                "access_denied",
                secret,
            ))),
            LoginError::Callback(CallbackError::Authorization(oauth_error(
                "made_up_SECRET_code",
                secret,
            ))),
            LoginError::Token(TokenError::Endpoint(oauth_error("invalid_grant", secret))),
            LoginError::Token(TokenError::Endpoint(oauth_error("invalid_client", secret))),
            LoginError::Callback(CallbackError::IssuerMismatch {
                expected: "https://example.authkit.app".to_owned(),
                received: format!("https://{secret}.example.com"),
            }),
        ] {
            let body = error.json_body();
            assert!(!body.contains("SECRET"), "{body}");
            assert!(!body.contains("secret-uri"), "{body}");
        }
        let unknown = LoginError::Callback(CallbackError::Authorization(oauth_error(
            "made_up_SECRET_code",
            secret,
        )));
        assert_eq!(unknown.error(), "authorization_failed");
    }

    #[test]
    fn the_return_to_rule_states_the_limit_it_enforces() {
        let limit = MAX_RETURN_TO_LEN.to_string();
        assert!(LoginError::InvalidReturnTo
            .error_description()
            .contains(&limit));
        assert!(LoginError::InvalidReturnTo.to_string().contains(&limit));
    }
}

//! The callback: the authorization response at the `redirect_uri`, checked against the pending login.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use serde::{Serialize, Serializer};
use serde_with::DeserializeFromStr;
use zeroize::Zeroize;

use crate::oauth::clock::{Clock, ClockHandle};
use crate::oauth::encoding::{is_nqschar, is_vschar};
use crate::oauth::secret::State;

/// How old a pending login may be when its callback arrives, unless the check is told otherwise.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(15 * 60);

/// How far in the future a pending login's `created_at` may lie, for clocks that disagree a little.
const CLOCK_SKEW: u64 = 60;

/// The authorization code from a successful callback, to redeem at the token endpoint. Single-use and
/// short-lived, but a secret until redeemed: its `Debug` shows `AuthorizationCode(..)` and it is wiped
/// from memory when dropped.
pub struct AuthorizationCode(String);

impl AuthorizationCode {
    /// The longest code accepted, in characters. RFC 6749 sets no limit and real codes are far
    /// shorter; the bound keeps a hostile callback from making the app hold and send megabytes.
    pub const MAX_LEN: usize = 4096;

    /// Wraps a code as it is, without any check, e.g. to build a token request in a test.
    ///
    /// A code from a callback comes checked from [`CallbackCheck::check`]; for one received some
    /// other way, [`checked`](Self::checked) applies the same rules.
    pub fn new(code: impl Into<String>) -> Self {
        AuthorizationCode(code.into())
    }

    /// Checks and takes a code received some other way, by the rules of [`CallbackCheck::check`]: 1 to
    /// [`MAX_LEN`](Self::MAX_LEN) characters of VSCHAR (printable ASCII, `%x20-7E`; RFC 6749 Appendix
    /// A). A refused code is wiped from memory, and the error gives a position, never the code.
    ///
    /// ```
    /// use workos_connect::{AuthorizationCode, CallbackError};
    ///
    /// let code = AuthorizationCode::checked("SplxlOBeZQQYbYS6WxSbIA")?;
    /// assert_eq!(code.secret(), "SplxlOBeZQQYbYS6WxSbIA");
    /// assert_eq!(
    ///     AuthorizationCode::checked("ab\ncd").unwrap_err(),
    ///     CallbackError::InvalidCode { index: 2 }
    /// );
    /// # Ok::<(), CallbackError>(())
    /// ```
    pub fn checked(code: impl Into<String>) -> Result<Self, CallbackError> {
        let mut code = code.into();
        if let Err(error) = check_code(&code) {
            code.zeroize();
            return Err(error);
        }
        Ok(AuthorizationCode(code))
    }

    /// The code itself, sent as `code` in the token request.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

/// The rules a code must follow, in the order they are checked: not empty, only VSCHAR (RFC 6749
/// Appendix A: `code = 1*VSCHAR`), at most [`AuthorizationCode::MAX_LEN`] characters.
fn check_code(code: &str) -> Result<(), CallbackError> {
    if code.is_empty() {
        return Err(CallbackError::EmptyCode);
    }
    if let Some(index) = code.bytes().position(|b| !is_vschar(b)) {
        return Err(CallbackError::InvalidCode { index });
    }
    // Every byte is ASCII now, so bytes count characters.
    let len = code.len();
    if len > AuthorizationCode::MAX_LEN {
        return Err(CallbackError::CodeTooLong {
            len,
            max: AuthorizationCode::MAX_LEN,
        });
    }
    Ok(())
}

impl fmt::Debug for AuthorizationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthorizationCode(..)")
    }
}

impl Drop for AuthorizationCode {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// An OAuth 2.0 / OpenID Connect error code, from an error redirect (RFC 6749 section 4.1.2.1, OpenID
/// Connect Core section 3.1.2.6) or a token endpoint error (RFC 6749 section 5.2). Codes this crate
/// does not know are kept as text.
///
/// Its `Display` shows the code as it is when every character is one RFC 6749 allows in a code
/// (NQSCHAR: printable ASCII but `"` and `\`), and escaped between double quotes otherwise, so that a
/// logged code cannot end the line or forge another. Serde reads and writes the code as on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash, DeserializeFromStr)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `invalid_request`.
    InvalidRequest,
    /// `unauthorized_client`.
    UnauthorizedClient,
    /// `access_denied`: the user (or the server) refused the request.
    AccessDenied,
    /// `unsupported_response_type`.
    UnsupportedResponseType,
    /// `invalid_scope`.
    InvalidScope,
    /// `server_error`.
    ServerError,
    /// `temporarily_unavailable`.
    TemporarilyUnavailable,
    /// `interaction_required` (OpenID Connect).
    InteractionRequired,
    /// `login_required` (OpenID Connect).
    LoginRequired,
    /// `account_selection_required` (OpenID Connect).
    AccountSelectionRequired,
    /// `consent_required` (OpenID Connect).
    ConsentRequired,
    /// `invalid_client` (token endpoint).
    InvalidClient,
    /// `invalid_grant` (token endpoint): a code or refresh token that is wrong, used or expired, or a
    /// PKCE verifier that does not match.
    InvalidGrant,
    /// `unsupported_grant_type` (token endpoint).
    UnsupportedGrantType,
    /// `invalid_target` (RFC 8707 section 2): the `resource` is unknown to the server, or not one
    /// the client may ask tokens for.
    InvalidTarget,
    /// `authorization_pending` (RFC 8628 section 3.5): the user has not finished yet; poll again
    /// after the interval.
    AuthorizationPending,
    /// `slow_down` (RFC 8628 section 3.5): poll again, and from now on 5 seconds less often.
    SlowDown,
    /// `expired_token` (RFC 8628 section 3.5): the device code expired; start a new login.
    ExpiredToken,
    /// Any other code, as received.
    Other(String),
}

impl ErrorCode {
    const KNOWN: [(ErrorCode, &'static str); 18] = [
        (ErrorCode::InvalidRequest, "invalid_request"),
        (ErrorCode::UnauthorizedClient, "unauthorized_client"),
        (ErrorCode::AccessDenied, "access_denied"),
        (
            ErrorCode::UnsupportedResponseType,
            "unsupported_response_type",
        ),
        (ErrorCode::InvalidScope, "invalid_scope"),
        (ErrorCode::ServerError, "server_error"),
        (ErrorCode::TemporarilyUnavailable, "temporarily_unavailable"),
        (ErrorCode::InteractionRequired, "interaction_required"),
        (ErrorCode::LoginRequired, "login_required"),
        (
            ErrorCode::AccountSelectionRequired,
            "account_selection_required",
        ),
        (ErrorCode::ConsentRequired, "consent_required"),
        (ErrorCode::InvalidClient, "invalid_client"),
        (ErrorCode::InvalidGrant, "invalid_grant"),
        (ErrorCode::UnsupportedGrantType, "unsupported_grant_type"),
        (ErrorCode::InvalidTarget, "invalid_target"),
        (ErrorCode::AuthorizationPending, "authorization_pending"),
        (ErrorCode::SlowDown, "slow_down"),
        (ErrorCode::ExpiredToken, "expired_token"),
    ];

    /// The code as sent on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::Other(code) => code,
            known => Self::KNOWN
                .iter()
                .find(|(code, _)| code == known)
                .map_or("", |(_, text)| text),
        }
    }

    /// The code for `text`, known or not.
    pub fn parse(text: &str) -> ErrorCode {
        Self::KNOWN
            .iter()
            .find(|(_, known)| *known == text)
            .map_or_else(
                || ErrorCode::Other(text.to_owned()),
                |(code, _)| code.clone(),
            )
    }
}

/// Whether `code` can be shown as it is: RFC 6749 Appendix A's `error = 1*NQSCHAR`. Anything else,
/// CR, LF and ESC included, could break or forge a log line, and an empty code would be invisible.
fn is_plain_code(code: &str) -> bool {
    !code.is_empty() && code.bytes().all(is_nqschar)
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.as_str();
        if is_plain_code(code) {
            f.write_str(code)
        } else {
            write!(f, "{code:?}")
        }
    }
}

/// The raw code, not its `Display`, which may be escaped.
impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// An error code as a message shows it: between backticks when it is plain, and otherwise as its
/// `Display` already quotes it.
struct ShownCode<'a>(&'a ErrorCode);

impl fmt::Display for ShownCode<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_plain_code(self.0.as_str()) {
            write!(f, "`{}`", self.0)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl std::str::FromStr for ErrorCode {
    type Err = std::convert::Infallible;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(ErrorCode::parse(text))
    }
}

/// An error the authorization server reported, at the callback or the token endpoint.
///
/// Its message shows the code (escaped unless plain; see [`ErrorCode`]) and the description, escaped;
/// never the `uri`, which is a link for a person to follow, not text to log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the authorization server answered {}{}", ShownCode(code), description.as_deref().map(|d| format!(": {d:?}")).unwrap_or_default())]
pub struct OAuthError {
    /// The standard code.
    pub code: ErrorCode,
    /// `error_description`, meant for the developer, not the user.
    pub description: Option<String>,
    /// `error_uri`, a page about the error.
    pub uri: Option<String>,
}

/// Why a callback was refused. Each cause is its own variant; none carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// The pending login is older than the check allows: it was left unfinished, or it leaked.
    #[error("the login started {age_secs} s ago, more than the {max_age_secs} s allowed; start a new login")]
    Expired {
        /// How old it is.
        age_secs: u64,
        /// The limit.
        max_age_secs: u64,
    },
    /// The pending login claims to start in the future: the clock moved or the record was altered.
    #[error("the login's start time lies in the future; start a new login")]
    FromTheFuture,
    /// The callback carries no `state`, though the login sent one.
    #[error("the callback has no `state`; it did not come from this login")]
    MissingState,
    /// The callback's `state` is empty.
    #[error("the callback's `state` is empty; it did not come from this login")]
    EmptyState,
    /// The callback carries `state` more than once.
    #[error("the callback carries `state` more than once")]
    DuplicateState,
    /// The callback's `state` is not the one the login sent: a forged or crossed callback (CSRF).
    #[error("the callback's `state` does not match this login's; it did not come from this login")]
    StateMismatch,
    /// The callback carries a `state`, though the login sent none.
    #[error("the callback carries a `state`, but this login sent none")]
    UnexpectedState,
    /// The callback has no `iss`, and the check requires one (RFC 9207).
    #[error("the callback has no `iss`, which this check requires (RFC 9207)")]
    MissingIssuer,
    /// The callback carries `iss` more than once.
    #[error("the callback carries `iss` more than once")]
    DuplicateIssuer,
    /// The callback's `iss` is not the login's issuer: a mix-up with another server (RFC 9207).
    #[error(
        "the callback's `iss` {received:?} is not this login's issuer `{expected}` (RFC 9207)"
    )]
    IssuerMismatch {
        /// The issuer the login went to.
        expected: String,
        /// The `iss` received.
        received: String,
    },
    /// The callback carries `error` more than once.
    #[error("the callback carries `error` more than once")]
    DuplicateError,
    /// The authorization server answered with an error (RFC 6749 section 4.1.2.1).
    #[error(transparent)]
    Authorization(OAuthError),
    /// The callback has no `code`.
    #[error("the callback has neither `code` nor `error`")]
    MissingCode,
    /// The callback's `code` is empty.
    #[error("the callback's `code` is empty")]
    EmptyCode,
    /// The callback carries `code` more than once.
    #[error("the callback carries `code` more than once")]
    DuplicateCode,
    /// The callback's `code` has a character outside VSCHAR (RFC 6749 Appendix A): a control
    /// character, non-ASCII text, or an escape such as `%FF` that does not decode to UTF-8.
    #[error(
        "the callback's `code` has a character at byte {index} that no code holds; a code is printable \
         ASCII, %x20-7E (RFC 6749 Appendix A), so this one did not come from the authorization server"
    )]
    InvalidCode {
        /// Byte offset of the character in the decoded code.
        index: usize,
    },
    /// The callback's `code` is longer than [`AuthorizationCode::MAX_LEN`].
    #[error(
        "the callback's `code` is {len} characters long, more than the {max} accepted; \
         it did not come from the authorization server"
    )]
    CodeTooLong {
        /// Its length in characters.
        len: usize,
        /// The longest accepted.
        max: usize,
    },
}

impl CallbackError {
    /// Whether the callback carried the login's `state`: the error was found after the `state`
    /// check passed (an error redirect, a missing or malformed `code`). Only such a callback is
    /// the authorization server's answer to this login; any page can make a browser fetch the
    /// callback with a query of its own making, and were that to end the login, the genuine answer
    /// arriving next would be refused (RFC 6749 section 10.12, RFC 9700 section 4.7). A login sent
    /// without `state` matches a callback without one. Meaningful for the errors of
    /// [`CallbackCheck::check`]; the `code` errors of [`AuthorizationCode::checked`], which
    /// checks no `state`, answer `true` too.
    pub fn state_matched(&self) -> bool {
        // The order of `CallbackCheck::check`: these are found after the state matched.
        matches!(
            self,
            CallbackError::Authorization(_)
                | CallbackError::MissingCode
                | CallbackError::EmptyCode
                | CallbackError::InvalidCode { .. }
                | CallbackError::CodeTooLong { .. }
        )
    }
}

/// Checks a callback against a pending login; made by
/// [`PendingAuthorization::callback`](crate::PendingAuthorization::callback).
#[derive(Debug, Clone)]
#[must_use = "call `check` with the callback's query"]
pub struct CallbackCheck<'p> {
    /// The login's issuer identifier, which a callback's `iss` must equal letter for letter.
    issuer: &'p str,
    state: Option<&'p State>,
    created_at: u64,
    max_age: Duration,
    require_issuer: bool,
    clock: ClockHandle,
}

impl<'p> CallbackCheck<'p> {
    /// A check of the callback of a login that went to `issuer`, sent `state` and started at
    /// `created_at`.
    pub(crate) fn new(issuer: &'p str, state: Option<&'p State>, created_at: u64) -> Self {
        CallbackCheck {
            issuer,
            state,
            created_at,
            max_age: DEFAULT_MAX_AGE,
            require_issuer: false,
            clock: ClockHandle::default(),
        }
    }

    /// The check reading `clock`, the one its login was made with.
    pub(crate) fn with_clock(mut self, clock: &ClockHandle) -> Self {
        self.clock = clock.clone();
        self
    }

    /// How old the pending login may be (default 15 minutes).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Requires the `iss` parameter (RFC 9207), for servers that advertise
    /// `authorization_response_iss_parameter_supported`. Without this, a callback without `iss` is
    /// accepted, and one with `iss` must still match.
    pub fn require_issuer(mut self) -> Self {
        self.require_issuer = true;
        self
    }

    /// Reads the time from `clock` (by default the clock of the client that made the login, or
    /// the system clock for a login read back from storage); a
    /// [`FixedClock`](crate::oauth::FixedClock) in tests.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = ClockHandle::new(clock);
        self
    }

    /// Checks the callback's query string (with or without its leading `?`) and returns the code.
    ///
    /// In order: the pending login's age; duplicated parameters; `iss` (RFC 9207); `state`, compared in
    /// constant time; an error redirect; then exactly one `code`, as
    /// [`AuthorizationCode::checked`] requires it.
    pub fn check(&self, query: &str) -> Result<AuthorizationCode, CallbackError> {
        self.check_age()?;
        let query = query.strip_prefix('?').unwrap_or(query);
        let params = Params::parse(query)?;

        match params.iss.as_deref() {
            Some(iss) if iss != self.issuer => {
                return Err(CallbackError::IssuerMismatch {
                    expected: self.issuer.to_owned(),
                    received: iss.to_owned(),
                })
            }
            None if self.require_issuer => return Err(CallbackError::MissingIssuer),
            _ => {}
        }

        match (self.state, params.state.as_deref()) {
            (Some(_), None) => return Err(CallbackError::MissingState),
            (Some(_), Some("")) => return Err(CallbackError::EmptyState),
            (Some(expected), Some(received)) if !expected.matches(received) => {
                return Err(CallbackError::StateMismatch)
            }
            (None, Some(_)) => return Err(CallbackError::UnexpectedState),
            _ => {}
        }

        if let Some(code) = params.error {
            return Err(CallbackError::Authorization(OAuthError {
                code: ErrorCode::parse(&code),
                description: params.error_description.map(Cow::into_owned),
                uri: params.error_uri.map(Cow::into_owned),
            }));
        }

        let code = params.code.ok_or(CallbackError::MissingCode)?;
        check_code(&code)?;
        Ok(AuthorizationCode(code.into_owned()))
    }

    /// Checks the callback URL's query; see [`check`](Self::check).
    pub fn check_url(&self, url: &url::Url) -> Result<AuthorizationCode, CallbackError> {
        self.check(url.query().unwrap_or_default())
    }

    fn check_age(&self) -> Result<(), CallbackError> {
        let now = self.clock.now_secs();
        let created_at = self.created_at;
        if created_at > now.saturating_add(CLOCK_SKEW) {
            return Err(CallbackError::FromTheFuture);
        }
        let age_secs = now.saturating_sub(created_at);
        let max_age_secs = self.max_age.as_secs();
        if age_secs > max_age_secs {
            return Err(CallbackError::Expired {
                age_secs,
                max_age_secs,
            });
        }
        Ok(())
    }
}

/// The parameters of an authorization response this crate reads, each at most once.
#[derive(Default)]
struct Params<'q> {
    code: Option<Cow<'q, str>>,
    state: Option<Cow<'q, str>>,
    iss: Option<Cow<'q, str>>,
    error: Option<Cow<'q, str>>,
    error_description: Option<Cow<'q, str>>,
    error_uri: Option<Cow<'q, str>>,
}

impl<'q> Params<'q> {
    fn parse(query: &'q str) -> Result<Self, CallbackError> {
        let mut params = Params::default();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let (slot, duplicate) = match name.as_ref() {
                "code" => (&mut params.code, CallbackError::DuplicateCode),
                "state" => (&mut params.state, CallbackError::DuplicateState),
                "iss" => (&mut params.iss, CallbackError::DuplicateIssuer),
                "error" => (&mut params.error, CallbackError::DuplicateError),
                // Informational: a repeat keeps the first rather than refusing the response.
                "error_description" => {
                    params.error_description.get_or_insert(value);
                    continue;
                }
                "error_uri" => {
                    params.error_uri.get_or_insert(value);
                    continue;
                }
                // Other parameters (`session_state`, ...) are allowed and ignored (RFC 6749 section 4.1.2).
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(duplicate);
            }
        }
        Ok(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authkit::client::test_client;
    use crate::authkit::pending::PendingAuthorization;
    use crate::oauth::clock::at_unix;
    use crate::State;

    /// A login started at a fixed moment, whose checks read that moment unless told otherwise.
    fn pending(state: Option<&str>) -> PendingAuthorization {
        let client = test_client().clock(crate::oauth::FixedClock(at_unix(1_700_000_000)));
        let request = match state {
            Some(state) => client.authorize().state(State::new(state).unwrap()),
            None => client.authorize().without_state(),
        };
        request.build().unwrap().1
    }

    #[test]
    fn a_matching_callback_gives_its_code() {
        let pending = pending(Some("s p&c"));
        let code = pending
            .callback()
            .check(
                "?code=abc%2Bd&state=s+p%26c&iss=https%3A%2F%2Fexample.authkit.app&session_state=x",
            )
            .unwrap();
        assert_eq!(code.secret(), "abc+d");
        assert_eq!(format!("{code:?}"), "AuthorizationCode(..)");
    }

    #[test]
    fn each_fault_is_its_own_error() {
        let pending = pending(Some("xyz"));
        let check = pending.callback().require_issuer();
        let iss = "iss=https%3A%2F%2Fexample.authkit.app";
        for (query, expected) in [
            (format!("code=c&{iss}"), CallbackError::MissingState),
            (format!("code=c&state=&{iss}"), CallbackError::EmptyState),
            (format!("code=c&state=xyz&state=xyz&{iss}"), CallbackError::DuplicateState),
            (format!("code=c&state=xyz!&{iss}"), CallbackError::StateMismatch),
            ("code=c&state=xyz".to_owned(), CallbackError::MissingIssuer),
            (format!("code=c&state=xyz&{iss}&{iss}"), CallbackError::DuplicateIssuer),
            (
                "code=c&state=xyz&iss=https%3A%2F%2Fevil.example".to_owned(),
                CallbackError::IssuerMismatch {
                    expected: "https://example.authkit.app".into(),
                    received: "https://evil.example".into(),
                },
            ),
            (format!("state=xyz&{iss}"), CallbackError::MissingCode),
            (format!("code=&state=xyz&{iss}"), CallbackError::EmptyCode),
            (format!("code=a&code=b&state=xyz&{iss}"), CallbackError::DuplicateCode),
            (
                format!("error=access_denied&error=x&state=xyz&{iss}"),
                CallbackError::DuplicateError,
            ),
            (
                format!("error=access_denied&error_description=User+said+no&error_uri=https%3A%2F%2Fe.example&state=xyz&{iss}"),
                CallbackError::Authorization(OAuthError {
                    code: ErrorCode::AccessDenied,
                    description: Some("User said no".into()),
                    uri: Some("https://e.example".into()),
                }),
            ),
            (
                format!("error=weird_thing&state=xyz&{iss}"),
                CallbackError::Authorization(OAuthError {
                    code: ErrorCode::Other("weird_thing".into()),
                    description: None,
                    uri: None,
                }),
            ),
        ] {
            assert_eq!(check.check(&query).unwrap_err(), expected, "{query}");
        }
    }

    #[test]
    fn only_errors_found_after_the_state_matched_say_so() {
        let login = pending(Some("xyz"));
        let check = login.callback();
        for query in [
            "state=xyz",
            "code=&state=xyz",
            "code=%01&state=xyz",
            "error=access_denied&state=xyz",
        ] {
            assert!(check.check(query).unwrap_err().state_matched(), "{query}");
        }
        let long = "c".repeat(AuthorizationCode::MAX_LEN + 1);
        let too_long = check.check(&format!("code={long}&state=xyz")).unwrap_err();
        assert!(matches!(too_long, CallbackError::CodeTooLong { .. }) && too_long.state_matched());
        for query in [
            "code=c",
            "code=c&state=",
            "code=c&state=forged",
            "code=c&state=xyz&state=xyz",
            "code=a&code=b&state=xyz",
            "error=access_denied&state=forged",
            "code=c&state=xyz&iss=https%3A%2F%2Fevil.example",
        ] {
            assert!(!check.check(query).unwrap_err().state_matched(), "{query}");
        }
        let old = check
            .clone()
            .clock(crate::oauth::FixedClock(at_unix(login.created_at() + 3600)));
        assert!(!old.check("code=c&state=xyz").unwrap_err().state_matched());
        let unexpected = pending(None);
        assert!(!unexpected
            .callback()
            .check("code=c&state=x")
            .unwrap_err()
            .state_matched());
        assert!(unexpected.callback().check("").unwrap_err().state_matched());
    }

    #[test]
    fn a_forged_error_redirect_is_a_state_mismatch_first() {
        let pending = pending(Some("xyz"));
        assert_eq!(
            pending
                .callback()
                .check("error=access_denied&state=other")
                .unwrap_err(),
            CallbackError::StateMismatch
        );
    }

    #[test]
    fn a_login_without_state_refuses_one_in_the_callback() {
        let pending = pending(None);
        assert!(pending.callback().check("code=c").is_ok());
        assert_eq!(
            pending.callback().check("code=c&state=x").unwrap_err(),
            CallbackError::UnexpectedState
        );
    }

    #[test]
    fn age_is_limited_both_ways() {
        let pending = pending(Some("xyz"));
        let start = pending.created_at();
        // The client's clock dated the login; a login read back checks by the system clock.
        assert_eq!(start, 1_700_000_000);
        let query = "code=c&state=xyz";
        let stored: PendingAuthorization =
            serde_json::from_str(&serde_json::to_string(&pending).unwrap()).unwrap();
        assert!(matches!(
            stored.callback().check(query),
            Err(CallbackError::Expired { .. })
        ));
        assert!(pending
            .callback()
            .clock(crate::oauth::FixedClock(at_unix(start + 900)))
            .check(query)
            .is_ok());
        assert_eq!(
            pending
                .callback()
                .clock(crate::oauth::FixedClock(at_unix(start + 901)))
                .check(query)
                .unwrap_err(),
            CallbackError::Expired {
                age_secs: 901,
                max_age_secs: 900
            }
        );
        assert!(pending
            .callback()
            .max_age(Duration::from_secs(3600))
            .clock(crate::oauth::FixedClock(at_unix(start + 901)))
            .check(query)
            .is_ok());
        assert_eq!(
            pending
                .callback()
                .clock(crate::oauth::FixedClock(at_unix(start - 61)))
                .check(query)
                .unwrap_err(),
            CallbackError::FromTheFuture
        );
    }

    #[test]
    fn an_error_code_cannot_forge_a_log_line() {
        let pending = pending(Some("xyz"));
        let error = pending
            .callback()
            .check("error=access_denied%0D%0AFAKE%1B%5B2K&error_uri=https%3A%2F%2Fe.example%2F%0D%0AURI&state=xyz")
            .unwrap_err();
        let CallbackError::Authorization(oauth) = &error else {
            panic!("{error:?}");
        };
        assert_eq!(oauth.code.as_str(), "access_denied\r\nFAKE\u{1b}[2K");
        for shown in [error.to_string(), oauth.to_string(), oauth.code.to_string()] {
            assert!(!shown.contains(['\r', '\n', '\u{1b}']), "{shown:?}");
            assert!(
                shown.contains(r#""access_denied\r\nFAKE\u{1b}[2K""#),
                "{shown}"
            );
            assert!(!shown.contains("URI"), "{shown}");
        }
        // `"` and `\` are outside NQSCHAR too: quoted, they could close the quotes around a code.
        assert_eq!(ErrorCode::parse("a\"b").to_string(), r#""a\"b""#);
        assert_eq!(ErrorCode::parse("a\\b").to_string(), r#""a\\b""#);
        assert_eq!(ErrorCode::parse("").to_string(), r#""""#);
        // A plain code reads as before, and serde keeps every code raw.
        let plain = OAuthError {
            code: ErrorCode::parse("access_denied!~"),
            description: Some("no\nway".into()),
            uri: Some("https://e.example/\nURI".into()),
        };
        assert_eq!(
            plain.to_string(),
            r#"the authorization server answered `access_denied!~`: "no\nway""#
        );
        let forged = ErrorCode::parse("a\r\nb");
        let json = serde_json::to_string(&forged).unwrap();
        assert_eq!(json, r#""a\r\nb""#);
        assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), forged);
        assert_eq!(
            serde_json::to_string(&ErrorCode::InvalidGrant).unwrap(),
            r#""invalid_grant""#
        );
    }

    #[test]
    fn the_code_is_printable_ascii_of_bounded_length() {
        let pending = pending(Some("xyz"));
        let check = |code: &str| pending.callback().check(&format!("state=xyz&code={code}"));
        for (code, index) in [
            ("ab%0Dcd", 2),
            ("%00", 0),
            ("ab%7F", 2),
            ("%FF", 0),
            ("x%C3%A9", 1),
            ("x\u{e9}", 1),
            ("%E2%80%AEx", 0),
        ] {
            assert_eq!(
                check(code).unwrap_err(),
                CallbackError::InvalidCode { index },
                "{code}"
            );
        }
        let longest = "a".repeat(AuthorizationCode::MAX_LEN);
        assert_eq!(check(&longest).unwrap().secret(), longest);
        assert_eq!(
            check(&"a".repeat(5_000_000)).unwrap_err(),
            CallbackError::CodeTooLong {
                len: 5_000_000,
                max: 4096
            }
        );
        assert_eq!(check("+~%21").unwrap().secret(), " ~!");
        let error = check("secret-code%0A").unwrap_err();
        assert!(!error.to_string().contains("secret"), "{error}");
        assert!(!format!("{error:?}").contains("secret"), "{error:?}");
    }

    #[test]
    fn a_code_from_elsewhere_is_checked_the_same_way() {
        assert_eq!(AuthorizationCode::checked("c").unwrap().secret(), "c");
        assert_eq!(
            AuthorizationCode::checked("").unwrap_err(),
            CallbackError::EmptyCode
        );
        assert_eq!(
            AuthorizationCode::checked("c\u{fffd}").unwrap_err(),
            CallbackError::InvalidCode { index: 1 }
        );
        assert_eq!(
            AuthorizationCode::checked("c".repeat(4097)).unwrap_err(),
            CallbackError::CodeTooLong {
                len: 4097,
                max: 4096
            }
        );
    }

    #[test]
    fn error_codes_read_and_print_as_on_the_wire() {
        for (_, text) in ErrorCode::KNOWN {
            assert_eq!(ErrorCode::parse(text).as_str(), text);
            assert!(!matches!(ErrorCode::parse(text), ErrorCode::Other(_)));
        }
        assert_eq!(ErrorCode::parse("x_y").to_string(), "x_y");
    }
}

//! Polling the token endpoint until the user has logged in (RFC 8628 sections 3.4 and 3.5), without
//! sleeping: the login says when the next poll is due, and each answer moves it on.

use std::time::{Duration, SystemTime};

use url::Url;

use crate::device::codes::UserCode;
use crate::device::device_error::DeviceError;
use crate::oauth::callback::ErrorCode;
use crate::oauth::client_id::ClientId;
use crate::oauth::credential::DeviceCode;
use crate::oauth::token::{TokenError, TokenResponse};
use crate::oauth::token_request::TokenRequest;

/// The grant type of a poll (RFC 8628 section 3.4).
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// What `slow_down` adds to the interval, for the rest of the login (RFC 8628 section 3.5).
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// How far [`DeviceLogin::back_off`] doubles the interval: longer than a device code lives.
const MAX_BACK_OFF: Duration = Duration::from_secs(15 * 60);

/// What a poll's answer means: one of RFC 8628's two ways on, so a `match` needs no other arm.
#[derive(Debug)]
pub enum Poll {
    /// The user has not finished: poll again at `next_poll_at`, not before.
    Pending {
        /// When the next poll is due.
        next_poll_at: SystemTime,
    },
    /// The user logged in: the tokens. Validate an ID token before trusting it.
    Done(TokenResponse),
}

/// A device login in progress: what to show the user, and the polling state (RFC 8628 section
/// 3.5). Made by [`DeviceClient::read_authorization`](crate::device::DeviceClient::read_authorization).
#[derive(Debug)]
pub struct DeviceLogin {
    device_code: DeviceCode,
    user_code: UserCode,
    verification_uri: Url,
    verification_uri_complete: Option<Url>,
    token_endpoint: Url,
    client_id: ClientId,
    interval: Duration,
    next_poll_at: SystemTime,
    expires_at: SystemTime,
}

impl DeviceLogin {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        device_code: DeviceCode,
        user_code: UserCode,
        verification_uri: Url,
        verification_uri_complete: Option<Url>,
        token_endpoint: Url,
        client_id: ClientId,
        interval: Duration,
        received_at: SystemTime,
        lifetime: Duration,
    ) -> Self {
        DeviceLogin {
            device_code,
            user_code,
            verification_uri,
            verification_uri_complete,
            token_endpoint,
            client_id,
            interval,
            next_poll_at: later(received_at, interval),
            expires_at: later(received_at, lifetime),
        }
    }

    /// The code to show the user, who types it at [`verification_uri`](Self::verification_uri).
    pub fn user_code(&self) -> &UserCode {
        &self.user_code
    }

    /// The page where the user enters the code, such as `https://<domain>/device`.
    pub fn verification_uri(&self) -> &Url {
        &self.verification_uri
    }

    /// The page with the code filled in, if the server gave one: for a link or a QR code.
    pub fn verification_uri_complete(&self) -> Option<&Url> {
        self.verification_uri_complete.as_ref()
    }

    /// The device code, sent by each poll.
    pub fn device_code(&self) -> &DeviceCode {
        &self.device_code
    }

    /// The time between polls now: the server's `interval`, plus 5 seconds for each `slow_down`.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// When the next poll is due. Polling sooner earns `slow_down`.
    pub fn next_poll_at(&self) -> SystemTime {
        self.next_poll_at
    }

    /// When the device code expires; polling after it is pointless.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    /// The poll: a form `POST` to the token endpoint with the device code and the client ID.
    pub fn poll_request(&self) -> TokenRequest {
        TokenRequest::new(
            self.token_endpoint.clone(),
            vec![
                ("grant_type", GRANT_TYPE.to_owned()),
                ("device_code", self.device_code.secret().to_owned()),
                ("client_id", self.client_id.as_str().to_owned()),
            ],
            None,
        )
    }

    /// Reads a poll's answer, received at `now`: the tokens, or when to poll next, or why the
    /// login is over.
    ///
    /// `authorization_pending` schedules the next poll an interval from `now`; `slow_down` first
    /// adds 5 seconds to the interval, for the rest of the login. A pending answer whose next poll
    /// would come when the code has expired is [`DeviceError::Expired`]: the interval is never
    /// shortened to squeeze in a last poll. After an error that
    /// [`is_transient`](DeviceError::is_transient), or a connection failure, call
    /// [`back_off`](Self::back_off) before polling again.
    pub fn read_poll(
        &mut self,
        status: u16,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Poll, DeviceError> {
        let error = match TokenResponse::parse(status, body) {
            Ok(tokens) => return Ok(Poll::Done(tokens)),
            Err(TokenError::Endpoint(error)) => error,
            Err(TokenError::UnexpectedStatus { status }) => {
                return Err(DeviceError::UnexpectedStatus { status })
            }
            Err(other) => return Err(DeviceError::Token(other)),
        };
        match error.code {
            ErrorCode::AuthorizationPending => {}
            ErrorCode::SlowDown => {
                self.interval = self.interval.saturating_add(SLOW_DOWN_STEP);
            }
            ErrorCode::AccessDenied => return Err(DeviceError::AccessDenied),
            ErrorCode::ExpiredToken => return Err(DeviceError::Expired),
            _ => return Err(DeviceError::Endpoint(error)),
        }
        self.schedule(now)?;
        Ok(Poll::Pending {
            next_poll_at: self.next_poll_at,
        })
    }

    /// After a poll that could not be sent or read (a connection failure, a timeout, or an error
    /// that [`is_transient`](DeviceError::is_transient)) at `now`: doubles the interval for the
    /// rest of the login, as RFC 8628 section 3.5 asks, and gives when to poll again; or
    /// [`DeviceError::Expired`] if that would be too late.
    pub fn back_off(&mut self, now: SystemTime) -> Result<SystemTime, DeviceError> {
        self.interval = self
            .interval
            .saturating_mul(2)
            .min(MAX_BACK_OFF)
            .max(self.interval);
        self.schedule(now)?;
        Ok(self.next_poll_at)
    }

    /// The next poll an interval after `now`. That is never before the poll already due, which
    /// was set an interval after the previous answer, unless `now` is earlier than that answer:
    /// the wall clock was stepped back since. Keeping the moment set before the step would then
    /// wait as long as the step while the code expires by the server's clock, so the interval
    /// counts from `now` either way: the pace the server asked for (it answers `slow_down` to a
    /// faster one).
    fn schedule(&mut self, now: SystemTime) -> Result<(), DeviceError> {
        let next = later(now, self.interval);
        if next >= self.expires_at {
            return Err(DeviceError::Expired);
        }
        self.next_poll_at = next;
        Ok(())
    }
}

/// `at + by`; the lifetimes and intervals taken are at most a day, so it cannot overflow, and
/// `at` itself would only make a poll due at once.
fn later(at: SystemTime, by: Duration) -> SystemTime {
    at.checked_add(by).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::DeviceClient;
    use crate::oauth::callback::OAuthError;
    use crate::oauth::clock::at_unix;

    /// A login whose device authorization answer came at `now`.
    fn started(now: SystemTime) -> DeviceLogin {
        let client = DeviceClient::new(
            &"https://example.authkit.app".parse().unwrap(),
            "client_01".parse().unwrap(),
        );
        client
            .read_authorization(
                200,
                br#"{"device_code":"dc_secret","user_code":"ABCD-EFGH",
                    "verification_uri":"https://example.authkit.app/device",
                    "expires_in":300,"interval":5}"#,
                now,
            )
            .unwrap()
    }

    const PENDING: &[u8] = br#"{"error":"authorization_pending"}"#;
    const SLOW_DOWN: &[u8] = br#"{"error":"slow_down"}"#;

    fn pending_until(poll: Result<Poll, DeviceError>) -> SystemTime {
        match poll {
            Ok(Poll::Pending { next_poll_at }) => next_poll_at,
            other => panic!("not pending: {other:?}"),
        }
    }

    #[test]
    fn the_poll_sends_the_device_code_and_client_id() {
        let request = started(at_unix(1_700_000_000)).poll_request();
        assert_eq!(
            request.url().as_str(),
            "https://example.authkit.app/oauth2/token"
        );
        assert_eq!(
            request.body(),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=dc_secret&client_id=client_01"
        );
        let shown = format!("{request:?}");
        assert!(!shown.contains("dc_secret"), "{shown}");
    }

    #[test]
    fn pending_waits_an_interval_and_slow_down_adds_five_seconds_for_good() {
        let start = at_unix(1_700_000_000);
        let mut login = started(start);
        let secs = Duration::from_secs;
        let t1 = login.next_poll_at();
        assert_eq!(t1, start + secs(5));
        assert_eq!(
            pending_until(login.read_poll(400, PENDING, t1)),
            t1 + secs(5)
        );
        let t2 = t1 + secs(5);
        assert_eq!(
            pending_until(login.read_poll(400, SLOW_DOWN, t2)),
            t2 + secs(10)
        );
        assert_eq!(login.interval(), secs(10));
        // The raised interval stays for later pending answers; a second slow_down raises it again.
        let t3 = t2 + secs(10);
        assert_eq!(
            pending_until(login.read_poll(400, PENDING, t3)),
            t3 + secs(10)
        );
        let t4 = t3 + secs(10);
        assert_eq!(
            pending_until(login.read_poll(400, SLOW_DOWN, t4)),
            t4 + secs(15)
        );
        assert_eq!(login.next_poll_at(), t4 + secs(15));
    }

    #[test]
    fn a_poll_that_would_come_after_expiry_is_not_scheduled() {
        let start = at_unix(1_700_000_000);
        let secs = Duration::from_secs;
        let mut login = started(start);
        assert_eq!(
            pending_until(login.read_poll(400, PENDING, start + secs(294))),
            start + secs(299)
        );
        // The next poll would be at 301, past the code's 300 s: no shorter interval to squeeze it.
        assert_eq!(
            login
                .read_poll(400, PENDING, start + secs(296))
                .unwrap_err(),
            DeviceError::Expired
        );
        let mut slowed = started(start);
        assert_eq!(
            slowed
                .read_poll(400, SLOW_DOWN, start + secs(291))
                .unwrap_err(),
            DeviceError::Expired,
            "10 s after 291 is past 300"
        );
    }

    #[test]
    fn a_failed_poll_doubles_the_interval_for_good() {
        let start = at_unix(1_700_000_000);
        let secs = Duration::from_secs;
        let mut login = started(start);
        let failed_at = start + secs(5);
        assert_eq!(login.back_off(failed_at), Ok(failed_at + secs(10)));
        assert_eq!(login.interval(), secs(10));
        let t = failed_at + secs(10);
        assert_eq!(
            pending_until(login.read_poll(400, PENDING, t)),
            t + secs(10)
        );
        assert_eq!(login.back_off(t + secs(10)), Ok(t + secs(30)));
        assert_eq!(login.back_off(start + secs(290)), Err(DeviceError::Expired));
        // An answer read as soon as the poll was due (or sooner) does not pull the next poll
        // forward.
        let mut login = started(start);
        let due = login.next_poll_at();
        assert_eq!(pending_until(login.read_poll(400, PENDING, start)), due);
    }

    #[test]
    fn a_clock_stepped_back_keeps_the_interval_from_the_new_time() {
        let start = at_unix(1_700_000_000);
        let secs = Duration::from_secs;
        let mut login = started(start);
        let t1 = login.next_poll_at();
        assert_eq!(
            pending_until(login.read_poll(400, PENDING, t1)),
            t1 + secs(5)
        );
        // The clock goes back an hour before the next answer: the poll after it is due an
        // interval later by the new time, not an hour and five seconds later.
        let back = t1 + secs(5) - secs(3600);
        assert_eq!(
            pending_until(login.read_poll(400, PENDING, back)),
            back + secs(5)
        );
        assert_eq!(login.back_off(back), Ok(back + secs(10)));
        // The code's expiry is the server's to tell (`expired_token`) after such a step.
        assert_eq!(login.expires_at(), start + secs(300));
    }

    #[test]
    fn transient_errors_are_told_apart() {
        let now = at_unix(1_700_000_000);
        let read =
            |status: u16, body: &[u8]| started(now).read_poll(status, body, now).unwrap_err();
        assert!(read(503, b"busy").is_transient());
        assert!(read(429, b"").is_transient());
        assert!(read(400, br#"{"error":"temporarily_unavailable"}"#).is_transient());
        assert!(read(500, br#"{"error":"server_error"}"#).is_transient());
        assert!(!read(400, br#"{"error":"access_denied"}"#).is_transient());
        assert!(!read(401, br#"{"error":"invalid_client"}"#).is_transient());
        assert!(!read(404, b"").is_transient());
    }

    #[test]
    fn each_answer_has_its_outcome() {
        let now = at_unix(1_700_000_000);
        let read = |body: &[u8]| started(now).read_poll(400, body, now);
        assert_eq!(
            read(br#"{"error":"access_denied"}"#).unwrap_err(),
            DeviceError::AccessDenied
        );
        assert_eq!(
            read(br#"{"error":"expired_token"}"#).unwrap_err(),
            DeviceError::Expired
        );
        assert!(matches!(
            read(br#"{"error":"invalid_client","error_description":"unknown client"}"#),
            Err(DeviceError::Endpoint(OAuthError {
                code: ErrorCode::InvalidClient,
                ..
            }))
        ));
        assert_eq!(
            started(now).read_poll(503, b"busy", now).unwrap_err(),
            DeviceError::UnexpectedStatus { status: 503 }
        );
        match started(now).read_poll(
            200,
            br#"{"access_token":"at","token_type":"Bearer","expires_in":300}"#,
            now,
        ) {
            Ok(Poll::Done(tokens)) => assert_eq!(tokens.access_token.secret(), "at"),
            other => panic!("not done: {other:?}"),
        }
        assert!(matches!(
            started(now).read_poll(200, br#"{"access_token":"at","token_type":"mac"}"#, now),
            Err(DeviceError::Token(TokenError::UnsupportedTokenType { .. }))
        ));
    }
}

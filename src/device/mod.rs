//! Command-line logins: the device authorization grant (RFC 8628), which AuthKit offers as "CLI
//! Auth".
//!
//! | step | types | RFC 8628 |
//! | --- | --- | --- |
//! | ask for a code | [`DeviceClient::authorization_request`] | §3.1 |
//! | show the code and the URL | [`DeviceClient::read_authorization`] gives a [`DeviceLogin`]: [`UserCode`], [`DeviceLogin::verification_uri`] | §3.2, §3.3 |
//! | poll until the user is done | [`DeviceLogin::poll_request`], then [`DeviceLogin::read_poll`]: [`Poll::Pending`] with the time of the next poll, [`Poll::Done`] with the tokens, or a [`DeviceError`] | §3.4, §3.5 |
//! | a network failure or a busy server | [`DeviceError::is_transient`], then [`DeviceLogin::back_off`], which doubles the interval | §3.5 |
//! | who logged in | the ID token, with `DeviceClient::id_token` (feature `id-token`); [`crate::authkit::UserinfoRequest`] and [`crate::authkit::Userinfo::check_subject`] | OpenID Connect Core §3.1.3.7, §5.3 |
//!
//! The crate never sleeps: [`DeviceLogin`] says when the next poll is due and when the code
//! expires, as [`SystemTime`](std::time::SystemTime)s counted from the `now` the caller passes in
//! (from [`SystemClock`](crate::oauth::SystemClock), or a fixed moment in tests), so the same value
//! serves a blocking loop, any async runtime, and tests. A clock stepped back between two answers
//! never stalls the polling: the next poll is an interval from the `now` of the latest answer.
//!
//! ```
//! use std::time::Duration;
//! use workos_connect::device::{DeviceClient, Poll};
//! use workos_connect::oauth::{Clock, SystemClock};
//!
//! let client = DeviceClient::new(&"https://example.authkit.app".parse()?, "client_01".parse()?);
//! let request = client.authorization_request(&"openid profile offline_access".parse()?);
//! assert_eq!(request.url().as_str(), "https://example.authkit.app/oauth2/device_authorization");
//! // POST it; read the answer:
//! let started = SystemClock.now();
//! let mut login = client.read_authorization(200, br#"{"device_code":"dc","user_code":"ABCD-EFGH",
//!     "verification_uri":"https://example.authkit.app/device",
//!     "verification_uri_complete":"https://example.authkit.app/device?user_code=ABCD-EFGH",
//!     "expires_in":300,"interval":5}"#, started)?;
//! println!("Enter {} at {}", login.user_code(), login.verification_uri());
//! assert_eq!(login.next_poll_at(), started + Duration::from_secs(5));
//!
//! // At `next_poll_at`, POST `login.poll_request()` and read the answer:
//! let now = login.next_poll_at();
//! let poll = login.read_poll(400, br#"{"error":"slow_down"}"#, now)?;
//! // `slow_down`: 5 seconds more between polls, from now on.
//! assert!(matches!(poll, Poll::Pending { next_poll_at } if next_poll_at == now + Duration::from_secs(10)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![doc = include_str!("../docs/device.md")]

mod codes;
mod device_client;
mod device_error;
mod polling;

pub use crate::oauth::credential::DeviceCode;
pub use codes::UserCode;
pub use device_client::DeviceClient;
pub use device_error::DeviceError;
pub use polling::{DeviceLogin, Poll};

//! The authorize endpoint's answer: the URL to send the user's browser to.

use std::fmt;

use serde::Serialize;

/// The authorize endpoint's answer: the `url` to redirect the user to.
///
/// Serializes as the endpoint's documented response, `{"url": "..."}`. Its `Debug` hides the `state` and
/// `nonce` values, and the `login_hint`, which names a user, so the response can be logged.
///
/// ```
/// # use workos_connect::ConnectClient;
/// # let client = ConnectClient::new(
/// #     "https://example.authkit.app".parse()?,
/// #     "client_01HXYZ".parse()?,
/// #     "https://app.example.com/callback".parse()?,
/// # );
/// let (redirect, _pending) = client.authorize().build()?;
/// let json = serde_json::to_value(&redirect).unwrap();
/// assert_eq!(json["url"], redirect.as_str());
/// assert!(!format!("{redirect:?}").contains(_pending.nonce().secret()));
/// # Ok::<(), workos_connect::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct AuthorizeResponse {
    url: Box<str>,
}

impl AuthorizeResponse {
    pub(crate) fn new(url: String) -> Self {
        AuthorizeResponse {
            url: url.into_boxed_str(),
        }
    }

    /// The URL, for a `Location` header.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The URL as an owned string.
    pub fn into_string(self) -> String {
        self.url.into_string()
    }

    /// The URL parsed as a [`url::Url`].
    pub fn to_url(&self) -> Result<url::Url, url::ParseError> {
        url::Url::parse(&self.url)
    }
}

impl fmt::Debug for AuthorizeResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL was written by `build`: `&` inside values is encoded, so splitting on it is exact.
        let (base, query) = self.url.split_once('?').unwrap_or((&self.url, ""));
        let mut redacted = String::with_capacity(self.url.len());
        redacted.push_str(base);
        for (i, pair) in query.split('&').enumerate() {
            redacted.push(if i == 0 { '?' } else { '&' });
            match pair.split_once('=') {
                Some((name @ ("state" | "nonce" | "login_hint"), _)) => {
                    redacted.push_str(name);
                    redacted.push_str("=..");
                }
                _ => redacted.push_str(pair),
            }
        }
        f.debug_struct("AuthorizeResponse")
            .field("url", &redacted)
            .finish()
    }
}

impl AsRef<str> for AuthorizeResponse {
    fn as_ref(&self) -> &str {
        &self.url
    }
}

impl From<AuthorizeResponse> for String {
    fn from(response: AuthorizeResponse) -> String {
        response.url.into_string()
    }
}

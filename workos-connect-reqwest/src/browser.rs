//! The browser step of a login: send the user to the authorization URL, and come back with the URL
//! the browser was redirected to.

use std::future::Future;

use url::Url;

use crate::loopback::LoopbackRedirect;
use crate::send::SendError;

/// Why the browser step gave no callback.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrowserError {
    /// The loopback listener failed.
    #[error("the loopback redirect: {0}")]
    Loopback(#[from] std::io::Error),
    /// The authorization URL could not be fetched.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The authorization endpoint answered without a redirect to follow.
    #[error("the authorization endpoint answered {status} without a redirect")]
    NoRedirect {
        /// Its status.
        status: u16,
    },
}

/// The browser step of a login.
pub trait Browser {
    /// Sends the user to `authorization_url` and gives back the URL the browser came back to.
    fn authorize(
        &mut self,
        authorization_url: &Url,
    ) -> impl Future<Output = Result<Url, BrowserError>> + Send;
}

/// The user's own browser: the URL is printed to stderr for them to open, and the redirect comes
/// back to a [`LoopbackRedirect`].
#[derive(Debug)]
pub struct UserBrowser {
    loopback: LoopbackRedirect,
}

impl UserBrowser {
    /// The browser coming back to `loopback` (whose redirect URI the login sends).
    pub fn new(loopback: LoopbackRedirect) -> Self {
        UserBrowser { loopback }
    }
}

impl Browser for UserBrowser {
    async fn authorize(&mut self, authorization_url: &Url) -> Result<Url, BrowserError> {
        eprintln!("Open this URL to log in:\n{authorization_url}");
        Ok(self.loopback.callback().await?)
    }
}

/// No browser: the authorization URL is fetched, and its redirect taken as the callback. Only for
/// authorization servers that redirect at once, such as test servers and conformance suites.
#[derive(Debug, Clone)]
pub struct FollowRedirect {
    client: reqwest::Client,
}

impl FollowRedirect {
    /// Fetches with `client`, which must not follow redirects itself (as
    /// [`default_client`](crate::default_client)).
    pub fn new(client: reqwest::Client) -> Self {
        FollowRedirect { client }
    }
}

impl Browser for FollowRedirect {
    async fn authorize(&mut self, authorization_url: &Url) -> Result<Url, BrowserError> {
        let response = self
            .client
            .get(authorization_url.as_str())
            .send()
            .await
            .map_err(|source| SendError::Http {
                url: authorization_url.to_string(),
                source,
            })?;
        let status = response.status().as_u16();
        response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .and_then(|location| authorization_url.join(location).ok())
            .ok_or(BrowserError::NoRedirect { status })
    }
}

//! The HTTP client this crate fetches with.

use std::time::Duration;

/// The HTTP client could not be built (its TLS backend failed to start).
#[derive(Debug, thiserror::Error)]
#[error("the HTTP client could not be built: {0}")]
pub struct HttpClientError(#[from] reqwest::Error);

/// The client [`Keys`](crate::Keys) and the login routes use unless given another: rustls, a
/// 10-second connect and 30-second overall timeout, and no redirects (an issuer's keys and token
/// endpoint are where its metadata says, and a redirect would carry a token request elsewhere).
pub fn default_client() -> Result<reqwest::Client, HttpClientError> {
    Ok(reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

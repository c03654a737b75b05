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

/// The body of `response`, read chunk by chunk; `None` as soon as it grows past `max` bytes, so
/// that a server cannot make this side hold more.
pub(crate) async fn body_within(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len().saturating_add(chunk.len()) > max {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

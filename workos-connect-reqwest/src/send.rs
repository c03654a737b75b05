//! Sending one [`HttpRequest`] a sans-IO job handed out.

use std::time::Duration;

use workos_connect::dpop::DPOP_NONCE_HEADER;
use workos_connect::oauth::{HttpMethod, HttpRequest};

/// The most of an answer read: metadata, registration and token answers are a few kilobytes.
pub const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// Why a request got no answer to hand back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The request could not be sent, or its answer not read (connection, TLS, timeout).
    #[error("{url}: {source}")]
    Http {
        /// The URL the request went to (no credentials: those travel in headers and bodies).
        url: String,
        /// reqwest's error.
        #[source]
        source: reqwest::Error,
    },
    /// The answer is larger than [`MAX_ANSWER_BYTES`].
    #[error("{url}: the answer is larger than {MAX_ANSWER_BYTES} bytes")]
    TooLarge {
        /// The URL the request went to.
        url: String,
    },
}

/// The client this crate sends with unless given another: rustls, a 10-second connect and
/// 30-second overall timeout, and no redirects (a redirect would carry a code or a credential to
/// another URL; RFC 9700 section 4.11).
pub fn default_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

/// A response as a sans-IO job takes it: the status, the `DPoP-Nonce` header values (RFC 9449
/// §8) and at most [`MAX_ANSWER_BYTES`] of the body.
///
/// Its `Debug` shows the status and the body's length only: a token response's body holds tokens.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The values of its `DPoP-Nonce` headers, in order (none, most often).
    pub dpop_nonce: Vec<Vec<u8>>,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The `DPoP-Nonce` values, as [`McpLogin::answer_with_dpop_nonce`] takes them.
    ///
    /// [`McpLogin::answer_with_dpop_nonce`]: workos_connect::mcp::McpLogin::answer_with_dpop_nonce
    pub fn dpop_nonce(&self) -> impl Iterator<Item = &[u8]> + Clone {
        self.dpop_nonce.iter().map(Vec::as_slice)
    }
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer")
            .field("status", &self.status)
            .field("dpop_nonce", &self.dpop_nonce.len())
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Sends `request` with `client` and reads the status and at most [`MAX_ANSWER_BYTES`] of the
/// body, for the job's `answer`.
pub async fn send(
    client: &reqwest::Client,
    request: &HttpRequest,
) -> Result<(u16, Vec<u8>), SendError> {
    let answer = send_for_answer(client, request).await?;
    Ok((answer.status, answer.body))
}

/// Sends `request` with `client` as [`send`] does, and keeps the `DPoP-Nonce` headers too, for a
/// job that sends DPoP proofs.
pub async fn send_for_answer(
    client: &reqwest::Client,
    request: &HttpRequest,
) -> Result<Answer, SendError> {
    let url = request.url().as_str();
    let failed = |source| SendError::Http {
        url: url.to_owned(),
        source,
    };
    let mut builder = match request.method() {
        HttpMethod::Post => client.post(url).body(request.body().to_vec()),
        _ => client.get(url),
    };
    for (name, value) in request.headers() {
        builder = builder.header(name, value);
    }
    let mut response = builder.send().await.map_err(failed)?;
    let status = response.status().as_u16();
    let dpop_nonce = response
        .headers()
        .get_all(DPOP_NONCE_HEADER)
        .iter()
        .map(|value| value.as_bytes().to_vec())
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if body.len().saturating_add(chunk.len()) > MAX_ANSWER_BYTES {
            return Err(SendError::TooLarge {
                url: url.to_owned(),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status,
        dpop_nonce,
        body,
    })
}

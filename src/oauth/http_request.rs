//! One HTTP request for the caller to send, as a multi-step job hands it out: a method, a URL, the
//! headers and the body, so that a driver loop sends every step the same way.

use std::fmt;

use url::Url;

/// The method of an [`HttpRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpMethod {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
}

impl HttpMethod {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
    }
}

/// An HTTP request to send: follow no redirects (RFC 9700 section 4.11: a redirect would carry
/// credentials or a code elsewhere), and hand the status and body back to the job that made it.
///
/// Its `Debug` shows the method, the URL and the header names, never an `Authorization` value.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    method: HttpMethod,
    url: Url,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl HttpRequest {
    pub(crate) fn get(url: Url) -> Self {
        HttpRequest {
            method: HttpMethod::Get,
            url,
            headers: vec![("accept", "application/json".to_owned())],
            body: Vec::new(),
        }
    }

    pub(crate) fn post(url: Url, content_type: &'static str, body: String) -> Self {
        HttpRequest {
            method: HttpMethod::Post,
            url,
            headers: vec![
                ("content-type", content_type.to_owned()),
                ("accept", "application/json".to_owned()),
            ],
            body: body.into_bytes(),
        }
    }

    pub(crate) fn header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The method.
    pub fn method(&self) -> HttpMethod {
        self.method
    }

    /// The URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The headers to send, names in lower case. An `authorization` value is a credential: keep it
    /// out of logs.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
    }

    /// The body (empty for a `GET`).
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| *name).collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("headers", &names)
            .field("body_len", &self.body.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_header_value() {
        let request = HttpRequest::post(
            "https://auth.example.com/token".parse().unwrap(),
            "application/x-www-form-urlencoded",
            "grant_type=authorization_code".to_owned(),
        )
        .header("authorization", "Basic c2VjcmV0".to_owned());
        let shown = format!("{request:?}");
        assert!(shown.contains("authorization"), "{shown}");
        assert!(!shown.contains("c2VjcmV0"), "{shown}");
        assert!(!shown.contains("grant_type"), "{shown}");
    }
}

//! The parts of an HTTP request a resource server's check reads, as any framework can give them.

use std::fmt;

/// The parts of a request that decide whether a resource server takes it: its method, its target
/// as received (path and query), its `Authorization`, `DPoP` and `Origin` header values, each
/// kept however many times it was sent, and whether it carries `Access-Control-Request-Method`
/// (which makes an `OPTIONS` request a CORS preflight). Nothing else of the request is read.
///
/// Fill it from any framework's request with [`headers`](Self::headers) (pairs of a name and the
/// value's bytes; names in any case, other headers skipped), or with feature `http` from an
/// `http::HeaderMap` ([`from_http`](Self::from_http)) or `http::request::Parts`.
///
/// ```
/// use workos_connect::resource_server::ResourceRequest;
///
/// let sent = [("Host", "api.example.com"), ("Authorization", "Bearer abc")];
/// let request = ResourceRequest::new("GET", "/things?page=2")
///     .headers(sent.iter().map(|(name, value)| (*name, value.as_bytes())));
/// assert_eq!(request.target(), "/things?page=2");
/// // Debug never shows a credential.
/// assert!(!format!("{request:?}").contains("abc"));
/// ```
#[derive(Clone)]
pub struct ResourceRequest<'a> {
    method: &'a str,
    target: &'a str,
    pub(super) authorization: Vec<&'a [u8]>,
    pub(super) dpop: Vec<&'a [u8]>,
    pub(super) origin: Vec<&'a [u8]>,
    /// Whether `Access-Control-Request-Method` was sent; its value is the CORS layer's to read.
    cors_request_method: bool,
}

impl<'a> ResourceRequest<'a> {
    /// A request of `method` (`GET`, `POST`, ...) for `target`, the path and query as the client
    /// sent them (not as a router rewrote them: a nested router's original URI), without headers.
    pub fn new(method: &'a str, target: &'a str) -> Self {
        ResourceRequest {
            method,
            target,
            authorization: Vec::new(),
            dpop: Vec::new(),
            origin: Vec::new(),
            cors_request_method: false,
        }
    }

    /// Adds one header value; any other header than `Authorization`, `DPoP`, `Origin` and
    /// `Access-Control-Request-Method` is skipped. Names are compared without regard to case.
    pub fn header(mut self, name: &str, value: &'a [u8]) -> Self {
        self.push(name, value);
        self
    }

    /// Adds every header of the request: give them all, each repeated value as its own pair, so
    /// that a repeated `Authorization`, `DPoP` or `Origin` is seen and refused.
    pub fn headers<N: AsRef<str>>(
        mut self,
        headers: impl IntoIterator<Item = (N, &'a [u8])>,
    ) -> Self {
        for (name, value) in headers {
            self.push(name.as_ref(), value);
        }
        self
    }

    fn push(&mut self, name: &str, value: &'a [u8]) {
        if name.eq_ignore_ascii_case("access-control-request-method") {
            self.cors_request_method = true;
            return;
        }
        let values = if name.eq_ignore_ascii_case("authorization") {
            &mut self.authorization
        } else if name.eq_ignore_ascii_case("dpop") {
            &mut self.dpop
        } else if name.eq_ignore_ascii_case("origin") {
            &mut self.origin
        } else {
            return;
        };
        values.push(value);
    }

    /// The request's method.
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// The request's target: path and query.
    pub fn target(&self) -> &'a str {
        self.target
    }

    /// Whether the request is a CORS preflight: `OPTIONS` (the method is case-sensitive) with an
    /// `Access-Control-Request-Method` header, as the Fetch standard sends one and CORS layers
    /// (tower-http's `CorsLayer`, actix-cors) tell one. A plain `OPTIONS` is not one.
    pub fn is_cors_preflight(&self) -> bool {
        self.method == "OPTIONS" && self.cors_request_method
    }
}

#[cfg(feature = "http")]
impl<'a> ResourceRequest<'a> {
    /// The request of `method` for `target` (path and query as the client sent them) with the
    /// headers that matter from `headers`.
    pub fn from_http(
        method: &'a http::Method,
        target: &'a str,
        headers: &'a http::HeaderMap,
    ) -> Self {
        let values = |name: http::header::HeaderName| -> Vec<&'a [u8]> {
            headers
                .get_all(name)
                .iter()
                .map(http::HeaderValue::as_bytes)
                .collect()
        };
        ResourceRequest {
            method: method.as_str(),
            target,
            authorization: values(http::header::AUTHORIZATION),
            dpop: values(http::header::HeaderName::from_static("dpop")),
            origin: values(http::header::ORIGIN),
            cors_request_method: headers.contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD),
        }
    }
}

#[cfg(feature = "http")]
impl<'a> From<&'a http::request::Parts> for ResourceRequest<'a> {
    /// The request as `parts` has it, its target from `parts.uri`: in a router that strips a
    /// prefix, use [`from_http`](ResourceRequest::from_http) with the original target.
    fn from(parts: &'a http::request::Parts) -> Self {
        let target = parts
            .uri
            .path_and_query()
            .map_or("/", http::uri::PathAndQuery::as_str);
        ResourceRequest::from_http(&parts.method, target, &parts.headers)
    }
}

impl fmt::Debug for ResourceRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values are counted, never shown: `Authorization` holds a credential.
        f.debug_struct("ResourceRequest")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("authorization_values", &self.authorization.len())
            .field("dpop_values", &self.dpop.len())
            .field("origin_values", &self.origin.len())
            .field("cors_preflight", &self.is_cors_preflight())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_headers_that_matter_are_kept_in_any_case_and_repeated() {
        let request = ResourceRequest::new("POST", "/mcp").headers([
            ("AUTHORIZATION", b"Bearer a".as_slice()),
            ("authorization", b"Bearer b".as_slice()),
            ("DPoP", b"proof".as_slice()),
            ("Origin", b"https://app.example.com".as_slice()),
            ("Host", b"api.example.com".as_slice()),
        ]);
        assert_eq!(request.authorization, [b"Bearer a".as_slice(), b"Bearer b"]);
        assert_eq!(request.dpop, [b"proof".as_slice()]);
        assert_eq!(request.origin, [b"https://app.example.com".as_slice()]);
        assert_eq!(request.method(), "POST");
        assert!(!request.is_cors_preflight());
    }

    #[test]
    fn a_preflight_is_options_with_access_control_request_method() {
        let asks = [("Access-Control-Request-Method", b"POST".as_slice())];
        assert!(ResourceRequest::new("OPTIONS", "/mcp")
            .headers(asks)
            .is_cors_preflight());
        assert!(ResourceRequest::new("OPTIONS", "/mcp")
            .header("access-control-request-method", b"")
            .is_cors_preflight());
        // Without the header, with another method, or a method in another case: not one.
        assert!(!ResourceRequest::new("OPTIONS", "/mcp").is_cors_preflight());
        assert!(!ResourceRequest::new("POST", "/mcp")
            .headers(asks)
            .is_cors_preflight());
        assert!(!ResourceRequest::new("options", "/mcp")
            .headers(asks)
            .is_cors_preflight());
        // Other CORS headers do not make one.
        assert!(!ResourceRequest::new("OPTIONS", "/mcp")
            .header("access-control-request-headers", b"authorization")
            .is_cors_preflight());
    }

    #[cfg(feature = "http")]
    #[test]
    fn http_parts_give_the_same_request() {
        let (parts, ()) = http::Request::post("https://api.example.com/mcp?x=1")
            .header("authorization", "Bearer a")
            .header("origin", "https://app.example.com")
            .header("origin", "https://evil.example")
            .body(())
            .unwrap()
            .into_parts();
        let request = ResourceRequest::from(&parts);
        assert_eq!(request.target(), "/mcp?x=1");
        assert_eq!(request.method(), "POST");
        assert_eq!(request.authorization.len(), 1);
        assert_eq!(request.origin.len(), 2);
        assert!(request.dpop.is_empty());
        assert!(!request.is_cors_preflight());

        let (parts, ()) = http::Request::options("https://api.example.com/mcp")
            .header("origin", "https://app.example.com")
            .header("access-control-request-method", "POST")
            .body(())
            .unwrap()
            .into_parts();
        assert!(ResourceRequest::from(&parts).is_cors_preflight());
    }
}

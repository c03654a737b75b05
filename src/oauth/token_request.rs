//! The form `POST` a client sends to a token, introspection or device endpoint, ready for any HTTP
//! client: the request type every grant and client authentication builds.

use std::fmt;

use url::Url;
use zeroize::Zeroize;

/// A form `POST` to the token endpoint (or the introspection endpoint): where to send it, and its
/// `application/x-www-form-urlencoded` body.
///
/// Its `Debug` hides the code, verifier, refresh token, introspected token, client secret, the
/// assertions and exchanged tokens (RFC 7523, RFC 8693), and the `Authorization` header; the body itself holds them,
/// and is wiped from memory when the request is dropped.
pub struct TokenRequest {
    url: Url,
    form: Vec<(&'static str, String)>,
    /// `Authorization: Basic ...`, for `client_secret_basic`.
    authorization: Option<String>,
}

impl TokenRequest {
    pub(crate) fn new(
        url: Url,
        form: Vec<(&'static str, String)>,
        authorization: Option<String>,
    ) -> Self {
        TokenRequest {
            url,
            form,
            authorization,
        }
    }

    /// The `Content-Type` of the body.
    pub const CONTENT_TYPE: &'static str = "application/x-www-form-urlencoded";

    /// The token endpoint, such as `https://<authkit domain>/oauth2/token`.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The form's fields, in order, unencoded; for HTTP clients that encode forms themselves.
    pub fn form(&self) -> impl Iterator<Item = (&str, &str)> {
        self.form
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
    }

    /// The `Authorization` header value to send, for a client that authenticates with HTTP Basic
    /// (`client_secret_basic`); `None` when the client's credentials are in the form or it has none.
    ///
    /// It holds the client secret, base64-encoded: send it and let it go.
    pub fn authorization(&self) -> Option<&str> {
        self.authorization.as_deref()
    }

    /// The form encoded as an `application/x-www-form-urlencoded` body.
    ///
    /// It holds the code, verifier and client secret, and as a plain `String` handed to the HTTP
    /// client it is not wiped when dropped: send it and let it go.
    pub fn body(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.form())
            .finish()
    }
}

/// Field names whose values `Debug` hides.
const SECRET_FIELDS: [&str; 10] = [
    "code",
    "device_code",
    "code_verifier",
    "refresh_token",
    "client_secret",
    // The token an introspection request asks about.
    "token",
    // `private_key_jwt`'s signed assertion (RFC 7523 section 2.2).
    "client_assertion",
    // The JWT bearer grant's (RFC 7523 section 2.1).
    "assertion",
    // A token exchange's (RFC 8693 section 2.1).
    "subject_token",
    "actor_token",
];

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut form = f.debug_map();
        for (name, value) in self.form() {
            if SECRET_FIELDS.contains(&name) {
                form.entry(&name, &"..");
            } else {
                form.entry(&name, &value);
            }
        }
        form.finish()?;
        if self.authorization.is_some() {
            f.write_str(" with Authorization: Basic ..")?;
        }
        write!(f, " -> {}", self.url)
    }
}

impl Drop for TokenRequest {
    fn drop(&mut self) {
        for (_, value) in &mut self.form {
            value.zeroize();
        }
        self.authorization.zeroize();
    }
}

// With feature `http`, the request goes to any client that takes an `http::Request` (reqwest,
// hyper, ureq) without glue code.
#[cfg(feature = "http")]
impl TokenRequest {
    /// The request as an `http::Request`: `POST`, the token endpoint, `Content-Type:
    /// application/x-www-form-urlencoded`, `Accept: application/json` and the form as its body.
    ///
    /// Send it with a client that does not follow redirects: the body holds the code, the verifier
    /// and the client secret, and a redirect would carry them to wherever it points.
    ///
    /// ```
    /// # use workos_connect::{ConnectClient, oauth::RefreshToken};
    /// let client = ConnectClient::new(
    ///     "https://example.authkit.app".parse()?,
    ///     "client_01HXYZ".parse()?,
    ///     "https://app.example.com/callback".parse()?,
    /// );
    /// let request = client.refresh_request(&RefreshToken::new("rt_1")?).to_http()?;
    /// assert_eq!(request.method(), "POST");
    /// assert_eq!(request.uri(), "https://example.authkit.app/oauth2/token");
    /// assert_eq!(request.headers()["content-type"], "application/x-www-form-urlencoded");
    /// assert_eq!(request.body(), "grant_type=refresh_token&refresh_token=rt_1&client_id=client_01HXYZ");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_http(&self) -> Result<http::Request<String>, http::Error> {
        let mut request = http::Request::post(self.url().as_str())
            .header(http::header::CONTENT_TYPE, Self::CONTENT_TYPE)
            .header(http::header::ACCEPT, "application/json");
        if let Some(authorization) = self.authorization() {
            let mut value = http::HeaderValue::try_from(authorization)?;
            value.set_sensitive(true);
            request = request.header(http::header::AUTHORIZATION, value);
        }
        request.body(self.body())
    }
}

//! Conversions to and from the `http` crate's types (feature `http`), so that a token request goes to
//! any HTTP client that takes an `http::Request` (reqwest, hyper, ureq) without glue code.

use crate::oauth::token::{TokenError, TokenResponse};
use crate::oauth::token_request::TokenRequest;

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

impl TokenResponse {
    /// Reads the token endpoint's answer from an `http::Response`; see [`parse`](Self::parse).
    ///
    /// ```
    /// use workos_connect::TokenResponse;
    ///
    /// let answer = http::Response::builder()
    ///     .status(200)
    ///     .body(r#"{"access_token":"at","token_type":"Bearer","expires_in":300}"#)?;
    /// let tokens = TokenResponse::from_http(&answer)?;
    /// assert_eq!(tokens.expires_in, Some(300));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_http<B: AsRef<[u8]>>(
        response: &http::Response<B>,
    ) -> Result<TokenResponse, TokenError> {
        Self::parse(response.status().as_u16(), response.body().as_ref())
    }
}

#[cfg(test)]
mod tests {
    use crate::authkit::client::test_client;
    use crate::{oauth::ErrorCode, AuthorizationCode, TokenError, TokenResponse};

    #[test]
    fn a_token_request_becomes_a_post_with_its_form() {
        let client = test_client();
        let (_, pending) = client.authorize().with_pkce().build().unwrap();
        let request = client
            .token_request(&pending, &AuthorizationCode::new("c"))
            .unwrap();
        let http = request.to_http().unwrap();
        assert_eq!(http.method(), http::Method::POST);
        assert_eq!(http.uri(), "https://example.authkit.app/oauth2/token");
        assert_eq!(http.headers()["accept"], "application/json");
        assert_eq!(http.body(), &request.body());
    }

    #[test]
    fn an_error_response_is_read_as_the_endpoint_error() {
        let answer = http::Response::builder()
            .status(400)
            .body(br#"{"error":"invalid_grant"}"#.to_vec())
            .unwrap();
        assert!(matches!(
            TokenResponse::from_http(&answer),
            Err(TokenError::Endpoint(error)) if error.code == ErrorCode::InvalidGrant
        ));
    }
}

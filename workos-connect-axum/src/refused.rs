//! The answer to a refused request, written as an axum response.

use std::fmt;

use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderName, HeaderValue, StatusCode};
use workos_connect::dpop::DPOP_NONCE_HEADER;
use workos_connect::resource_server::Refusal;

/// A request the core's check refused, as [`ProtectedResource::authenticate`](crate::ProtectedResource::authenticate)
/// gives it: as a response, the refusal's status, `WWW-Authenticate`, `DPoP-Nonce` and JSON body.
#[derive(Debug)]
pub struct Refused(pub Refusal);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Refused {}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let refusal = self.0;
        let status =
            StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (
            status,
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            refusal.json_body(),
        )
            .into_response();
        let headers = response.headers_mut();
        // Challenges and nonces are printable ASCII, always valid header values.
        if let Some(Ok(value)) = refusal.www_authenticate().map(HeaderValue::from_str) {
            headers.insert(WWW_AUTHENTICATE, value);
        }
        if let Some(Ok(value)) = refusal
            .dpop_nonce()
            .map(|nonce| HeaderValue::from_str(nonce.as_str()))
        {
            headers.insert(HeaderName::from_static(DPOP_NONCE_HEADER), value);
        }
        response
    }
}

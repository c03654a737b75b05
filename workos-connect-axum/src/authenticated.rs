//! The extractor of a checked request's claims.

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::StatusCode;
use workos_connect::resource_server::AccessTokenClaims;

/// The claims of the request's access token, checked by the [layer](crate::ProtectedResource::layer)
/// the route sits behind.
///
/// A handler on a route outside the layer gets 500 and an error in the log: that is a mistake in
/// the router, and no request should reach such a handler unchecked.
#[derive(Debug, Clone)]
pub struct Authenticated(pub AccessTokenClaims);

/// The route taking [`Authenticated`] is not behind [`ProtectedResource::layer`](crate::ProtectedResource::layer).
#[derive(Debug, thiserror::Error)]
#[error(
    "the route is not behind ProtectedResource::layer, so its request carries no checked claims"
)]
pub struct NotBehindLayer;

impl IntoResponse for NotBehindLayer {
    fn into_response(self) -> Response {
        tracing::error!("{self}");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = NotBehindLayer;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, NotBehindLayer> {
        parts
            .extensions
            .get::<AccessTokenClaims>()
            .cloned()
            .map(Authenticated)
            .ok_or(NotBehindLayer)
    }
}

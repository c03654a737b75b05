//! The tower layer that keeps requests without a valid access token out.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::OriginalUri;
use axum::response::{IntoResponse, Response};
use http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderName, HeaderValue, Request, Version};
use tower_layer::Layer;
use tower_service::Service;
use workos_connect::dpop::DPOP_NONCE_HEADER;

use crate::protect::{Passed, ProtectedResource};

impl ProtectedResource {
    /// The tower layer that lets a request through only with a valid access token, its claims in
    /// the request's extensions (read them with [`Authenticated`](crate::Authenticated)), and
    /// answers any other with the status, challenge and body the core's check gives it (and, to an
    /// HTTP/1 request whose body it leaves unread, `Connection: close`, as the connection ends
    /// with the answer). A CORS
    /// preflight goes through without claims, for a CORS layer inside to answer (or for the
    /// service's own `405`); a route that runs a handler reading no claims for `OPTIONS` (axum's
    /// `any`) runs it for a preflight too, so keep such handlers off `OPTIONS`. The answer to a
    /// request taken carries the next DPoP server nonce as `DPoP-Nonce` when the check requires
    /// nonces and the proof's is past half its lifetime.
    pub fn layer(&self) -> RequireAccessToken {
        RequireAccessToken {
            resource: self.clone(),
        }
    }
}

/// Whether a request announces a body (RFC 9112 §6.3), which a refusal leaves unread.
fn carries_body<B>(request: &Request<B>) -> bool {
    let headers = request.headers();
    headers.contains_key(TRANSFER_ENCODING)
        || headers
            .get(CONTENT_LENGTH)
            .is_some_and(|length| length.as_bytes() != b"0")
}

/// The layer of [`ProtectedResource::layer`]: wraps a service (an axum `Router`, a handler, or
/// another tower service such as an MCP SDK's) so that it only sees requests with a valid access
/// token, whose [`AccessTokenClaims`](workos_connect::resource_server::AccessTokenClaims) are put in
/// the request's extensions, and CORS preflights, without claims.
#[derive(Clone, Debug)]
pub struct RequireAccessToken {
    resource: ProtectedResource,
}

impl<S> Layer<S> for RequireAccessToken {
    type Service = RequireAccessTokenService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireAccessTokenService {
            resource: self.resource.clone(),
            inner,
        }
    }
}

/// The service [`RequireAccessToken`] makes.
#[derive(Clone, Debug)]
pub struct RequireAccessTokenService<S> {
    resource: ProtectedResource,
    inner: S,
}

impl<S, B> Service<Request<B>> for RequireAccessTokenService<S>
where
    S: Service<Request<B>, Error = Infallible> + Clone + Send + 'static,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The clone that was polled ready serves this request; the fresh clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let resource = self.resource.clone();
        Box::pin(async move {
            // The target the client sent, which its DPoP proof names, even inside a nested router.
            let uri = request
                .extensions()
                .get::<OriginalUri>()
                .map_or_else(|| request.uri(), |original| &original.0);
            let target = uri
                .path_and_query()
                .map_or_else(|| uri.path(), |target| target.as_str());
            let passed = resource
                .authenticate(request.method(), target, request.headers())
                .await;
            match passed {
                Ok(Passed::Accepted(accepted)) => {
                    let nonce = accepted.dpop_nonce().cloned();
                    request.extensions_mut().insert(accepted.into_claims());
                    let mut response = inner.call(request).await.into_response();
                    // The next nonce before the client's expires (RFC 9449 §8.2); base64url, so
                    // always a valid header value.
                    if let Some(Ok(value)) =
                        nonce.map(|nonce| HeaderValue::from_str(nonce.as_str()))
                    {
                        response
                            .headers_mut()
                            .insert(HeaderName::from_static(DPOP_NONCE_HEADER), value);
                    }
                    Ok(response)
                }
                Ok(Passed::Preflight) => Ok(inner.call(request).await.into_response()),
                Err(refused) => {
                    let mut response = refused.into_response();
                    // hyper closes an HTTP/1 connection whose request body was left unread once
                    // the answer is out, without a word: a client sending its next request on it
                    // (the metadata fetch after a 401) would see it fail. Say so (RFC 9112 §9.6).
                    if carries_body(&request) && request.version() <= Version::HTTP_11 {
                        response
                            .headers_mut()
                            .insert(CONNECTION, HeaderValue::from_static("close"));
                    }
                    Ok(response)
                }
            }
        })
    }
}

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

use pin_project_lite::pin_project;

use crate::protect::{Decided, Passed, ProtectedResource};

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
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The clone that was polled ready serves this request; the fresh clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        // Most requests are decided here, without waiting (a token seen before, or a refusal),
        // so that their future is the inner service's own; only a request waiting for keys or
        // for its proof's record gets a boxed future.
        let decided = {
            let target = target(&request);
            self.resource
                .decide(request.method(), target, request.headers())
        };
        let passed = match decided {
            Decided::Now(passed) => passed,
            Decided::Record(proof) => {
                let resource = self.resource.clone();
                return ResponseFuture::waiting(async move {
                    let passed = resource.record_then_decide(proof).await;
                    answer(passed, inner, request).await
                });
            }
            Decided::Keys => {
                let resource = self.resource.clone();
                return ResponseFuture::waiting(async move {
                    let passed = resource
                        .fetch_keys_then_decide(
                            request.method(),
                            target(&request),
                            request.headers(),
                        )
                        .await;
                    answer(passed, inner, request).await
                });
            }
        };
        match passed {
            Ok(Passed::Accepted(accepted)) => {
                let nonce = next_nonce(&accepted);
                request.extensions_mut().insert(accepted.into_claims());
                ResponseFuture::inner(inner.call(request), nonce)
            }
            Ok(Passed::Preflight) => ResponseFuture::inner(inner.call(request), None),
            Err(refused) => ResponseFuture::refused(refusal_response(refused, &request)),
        }
    }
}

/// The target the client sent, which its DPoP proof names, even inside a nested router.
fn target<B>(request: &Request<B>) -> &str {
    let uri = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri(), |original| &original.0);
    uri.path_and_query()
        .map_or_else(|| uri.path(), |target| target.as_str())
}

/// The next DPoP nonce to send with the answer, before the client's expires (RFC 9449 §8.2).
fn next_nonce(accepted: &workos_connect::resource_server::AcceptedRequest) -> Option<HeaderValue> {
    // base64url, so always a valid header value.
    accepted
        .dpop_nonce()
        .and_then(|nonce| HeaderValue::from_str(nonce.as_str()).ok())
}

/// The answer to a refused request.
fn refusal_response<B>(refused: crate::refused::Refused, request: &Request<B>) -> Response<Body> {
    let mut response = refused.into_response();
    // hyper closes an HTTP/1 connection whose request body was left unread once the answer is
    // out, without a word: a client sending its next request on it (the metadata fetch after a
    // 401) would see it fail. Say so (RFC 9112 §9.6).
    if carries_body(request) && request.version() <= Version::HTTP_11 {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// The answer to a request decided after waiting.
async fn answer<S, B>(
    passed: Result<Passed, crate::refused::Refused>,
    mut inner: S,
    mut request: Request<B>,
) -> Response<Body>
where
    S: Service<Request<B>, Error = Infallible>,
    S::Response: IntoResponse,
{
    let (future, nonce) = match passed {
        Ok(Passed::Accepted(accepted)) => {
            let nonce = next_nonce(&accepted);
            request.extensions_mut().insert(accepted.into_claims());
            (inner.call(request), nonce)
        }
        Ok(Passed::Preflight) => (inner.call(request), None),
        Err(refused) => return refusal_response(refused, &request),
    };
    let response = match future.await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    with_nonce(response.into_response(), nonce)
}

fn with_nonce(mut response: Response<Body>, nonce: Option<HeaderValue>) -> Response<Body> {
    if let Some(value) = nonce {
        response
            .headers_mut()
            .insert(HeaderName::from_static(DPOP_NONCE_HEADER), value);
    }
    response
}

pin_project! {
    /// The future of [`RequireAccessTokenService`]: the inner service's answer to a request taken
    /// (with the next DPoP nonce), or the refusal.
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        // Decided at once and taken: the inner service's own future.
        Inner {
            #[pin]
            future: F,
            nonce: Option<HeaderValue>,
        },
        // Decided at once and refused.
        Refused {
            response: Option<Response<Body>>,
        },
        // Waiting for keys or a proof's record, then the inner service.
        Waiting {
            future: Pin<Box<dyn Future<Output = Response<Body>> + Send>>,
        },
    }
}

impl<F> ResponseFuture<F> {
    fn inner(future: F, nonce: Option<HeaderValue>) -> Self {
        ResponseFuture {
            state: State::Inner { future, nonce },
        }
    }

    fn refused(response: Response<Body>) -> Self {
        ResponseFuture {
            state: State::Refused {
                response: Some(response),
            },
        }
    }

    fn waiting(future: impl Future<Output = Response<Body>> + Send + 'static) -> Self {
        ResponseFuture {
            state: State::Waiting {
                future: Box::pin(future),
            },
        }
    }
}

impl<F, R> Future for ResponseFuture<F>
where
    F: Future<Output = Result<R, Infallible>>,
    R: IntoResponse,
{
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner { future, nonce } => {
                let response = match std::task::ready!(future.poll(cx)) {
                    Ok(response) => response,
                    Err(never) => match never {},
                };
                Poll::Ready(Ok(with_nonce(response.into_response(), nonce.take())))
            }
            // Polled again after its answer, against the contract of `Future`: an empty 500.
            StateProj::Refused { response } => Poll::Ready(Ok(response
                .take()
                .unwrap_or_else(|| http::StatusCode::INTERNAL_SERVER_ERROR.into_response()))),
            StateProj::Waiting { future } => future.as_mut().poll(cx).map(Ok),
        }
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

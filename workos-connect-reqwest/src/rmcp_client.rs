//! The official Rust MCP SDK's streamable HTTP client, with this crate doing the authorization.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use futures_util::stream::BoxStream;
use http::{HeaderName, HeaderValue};
use rmcp::model::ClientJsonRpcMessage;
use rmcp::transport::streamable_http_client::{
    StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
    StreamableHttpResponseLimits,
};
use sse_stream::{Error as SseError, Sse};

use crate::browser::Browser;
use crate::mcp_auth::McpAuth;

/// An `rmcp` streamable HTTP client (such as `reqwest::Client`) whose requests carry the
/// [`McpAuth`]'s token: a `401` leads to a login and one retry, a `403 insufficient_scope` to a
/// step-up login and a retry, a bounded number of times. Give it to
/// `StreamableHttpClientTransport::with_client`.
///
/// A login that fails reaches `rmcp` as `StreamableHttpError::Io`, whose inner error is the
/// [`LoginError`](crate::LoginError) (`io_error.get_ref()` and `downcast_ref`).
pub struct AuthorizedClient<C, B> {
    inner: C,
    auth: McpAuth<B>,
}

impl<C: Clone, B> Clone for AuthorizedClient<C, B> {
    fn clone(&self) -> Self {
        AuthorizedClient {
            inner: self.inner.clone(),
            auth: self.auth.clone(),
        }
    }
}

impl<C, B> AuthorizedClient<C, B> {
    /// `inner`'s requests, authorized by `auth`.
    pub fn new(inner: C, auth: McpAuth<B>) -> Self {
        AuthorizedClient { inner, auth }
    }
}

/// The most logins one request may lead to: one after a `401`, and the step-ups, which
/// [`StepUp`](workos_connect::mcp::StepUp) bounds on its own.
const MAX_LOGINS_PER_REQUEST: usize = 4;

impl<C, B> AuthorizedClient<C, B>
where
    C: StreamableHttpClient + Sync,
    B: Browser + Send + 'static,
{
    async fn authorized<T, F, Fut>(
        &self,
        given: Option<String>,
        call: F,
    ) -> Result<T, StreamableHttpError<C::Error>>
    where
        F: Fn(Option<String>) -> Fut,
        Fut: Future<Output = Result<T, StreamableHttpError<C::Error>>>,
    {
        let mut token = match given {
            Some(token) => Some(token),
            None => self.auth.token().await,
        };
        let mut logged_in_after_401 = false;
        for _ in 0..MAX_LOGINS_PER_REQUEST {
            match call(token.clone()).await {
                Err(StreamableHttpError::AuthRequired(challenge)) if !logged_in_after_401 => {
                    logged_in_after_401 = true;
                    let fresh = self
                        .auth
                        .unauthorized(token.as_deref(), &challenge.www_authenticate_header)
                        .await
                        .map_err(login_failed)?;
                    token = Some(fresh);
                }
                Err(StreamableHttpError::InsufficientScope(challenge)) => {
                    let fresh = self
                        .auth
                        .insufficient_scope(&challenge.www_authenticate_header)
                        .await
                        .map_err(login_failed)?;
                    token = Some(fresh);
                }
                result => return result,
            }
        }
        call(token).await
    }
}

fn login_failed<E: std::error::Error + Send + Sync + 'static>(
    error: crate::LoginError,
) -> StreamableHttpError<E> {
    StreamableHttpError::Io(std::io::Error::other(error))
}

impl<C, B> StreamableHttpClient for AuthorizedClient<C, B>
where
    C: StreamableHttpClient + Sync,
    B: Browser + Send + 'static,
{
    type Error = C::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<C::Error>> {
        self.authorized(auth_header, |token| {
            self.inner.post_message(
                uri.clone(),
                message.clone(),
                session_id.clone(),
                token,
                custom_headers.clone(),
            )
        })
        .await
    }

    async fn post_message_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<C::Error>> {
        self.authorized(auth_header, |token| {
            self.inner.post_message_with_max_sse_event_size(
                uri.clone(),
                message.clone(),
                session_id.clone(),
                token,
                custom_headers.clone(),
                max_sse_event_size,
            )
        })
        .await
    }

    async fn post_message_with_response_limits(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        limits: StreamableHttpResponseLimits,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<C::Error>> {
        self.authorized(auth_header, |token| {
            self.inner.post_message_with_response_limits(
                uri.clone(),
                message.clone(),
                session_id.clone(),
                token,
                custom_headers.clone(),
                limits,
            )
        })
        .await
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), StreamableHttpError<C::Error>> {
        self.authorized(auth_header, |token| {
            self.inner.delete_session(
                uri.clone(),
                session_id.clone(),
                token,
                custom_headers.clone(),
            )
        })
        .await
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, StreamableHttpError<C::Error>> {
        self.authorized(auth_header, |token| {
            self.inner.get_stream(
                uri.clone(),
                session_id.clone(),
                last_event_id.clone(),
                token,
                custom_headers.clone(),
            )
        })
        .await
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, StreamableHttpError<C::Error>> {
        self.authorized(auth_header, |token| {
            self.inner.get_stream_with_max_sse_event_size(
                uri.clone(),
                session_id.clone(),
                last_event_id.clone(),
                token,
                custom_headers.clone(),
                max_sse_event_size,
            )
        })
        .await
    }
}

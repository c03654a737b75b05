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
use url::Url;
use workos_connect::dpop::{DpopChallenge, DpopErrorCode, DPOP_HEADER};
use workos_connect::mcp::ResourceHeaders;

use crate::browser::Browser;
use crate::mcp_auth::McpAuth;

/// An `rmcp` streamable HTTP client (such as `reqwest::Client`) whose requests carry the
/// [`McpAuth`]'s token: a `401` leads to a login and one retry, a `403 insufficient_scope` to a
/// step-up login and a retry, a bounded number of times. Give it to
/// `StreamableHttpClientTransport::with_client`.
///
/// A DPoP-bound token (RFC 9449) goes as `Authorization: DPoP` with a fresh `DPoP` proof for each
/// request, as custom headers (rmcp's own `auth_header` is `Bearer` only); a `401` whose `DPoP`
/// challenge is `use_dpop_nonce` leads to the server's nonce ([`McpAuth::resource_nonce_demanded`])
/// and one retry, not to a login.
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

/// The sends of one request: one per login, one for the MCP server's DPoP nonce, and the last.
const MAX_SENDS_PER_REQUEST: usize = MAX_LOGINS_PER_REQUEST + 2;

/// How one send presents the token: rmcp's own `auth_header` for a bearer token, custom headers
/// for a DPoP-bound one, which rmcp would otherwise send as `Bearer`.
struct Presented {
    auth_header: Option<String>,
    custom_headers: HashMap<HeaderName, HeaderValue>,
    /// The access token sent, to tell a stale `401` from a fresh one.
    token: Option<String>,
    /// The headers of a DPoP-bound token, to retry for the server's nonce.
    dpop: Option<ResourceHeaders>,
}

impl<C, B> AuthorizedClient<C, B>
where
    C: StreamableHttpClient + Sync,
    B: Browser + Send + 'static,
{
    async fn present(
        &self,
        given: Option<String>,
        method: &str,
        url: &Url,
        custom_headers: &HashMap<HeaderName, HeaderValue>,
    ) -> Result<Presented, StreamableHttpError<C::Error>> {
        let mut presented = Presented {
            auth_header: None,
            custom_headers: custom_headers.clone(),
            token: None,
            dpop: None,
        };
        if let Some(token) = given {
            presented.token = Some(token.clone());
            presented.auth_header = Some(token);
            return Ok(presented);
        }
        let Some(headers) = self
            .auth
            .resource_headers(method, url)
            .await
            .map_err(login_failed)?
        else {
            return Ok(presented);
        };
        presented.token = Some(headers.access_token().secret().to_owned());
        let Some(proof) = headers.dpop() else {
            presented.auth_header = presented.token.clone();
            return Ok(presented);
        };
        let mut authorization =
            HeaderValue::from_str(headers.authorization()).map_err(invalid_header)?;
        authorization.set_sensitive(true);
        let mut proof = HeaderValue::from_str(proof.as_str()).map_err(invalid_header)?;
        proof.set_sensitive(true);
        presented
            .custom_headers
            .insert(http::header::AUTHORIZATION, authorization);
        presented
            .custom_headers
            .insert(HeaderName::from_static(DPOP_HEADER), proof);
        presented.dpop = Some(headers);
        Ok(presented)
    }

    async fn authorized<T, F, Fut>(
        &self,
        method: &str,
        uri: &str,
        given: Option<String>,
        custom_headers: &HashMap<HeaderName, HeaderValue>,
        call: F,
    ) -> Result<T, StreamableHttpError<C::Error>>
    where
        F: Fn(Option<String>, HashMap<HeaderName, HeaderValue>) -> Fut,
        Fut: Future<Output = Result<T, StreamableHttpError<C::Error>>>,
    {
        let url = Url::parse(uri).map_err(|error| {
            StreamableHttpError::Io(std::io::Error::new(std::io::ErrorKind::InvalidInput, error))
        })?;
        let mut given = given;
        let mut logged_in_after_401 = false;
        let mut nonce_retried = false;
        for _ in 1..MAX_SENDS_PER_REQUEST {
            let presented = self
                .present(given.take(), method, &url, custom_headers)
                .await?;
            match call(presented.auth_header, presented.custom_headers).await {
                Err(StreamableHttpError::AuthRequired(challenge)) => {
                    let www_authenticate = &challenge.www_authenticate_header;
                    if let Some(sent) = presented
                        .dpop
                        .as_ref()
                        .filter(|_| demands_nonce(www_authenticate))
                    {
                        // The proof lacked the server's nonce, which a new login would not
                        // bring: the request goes again once with it, and a second demand is
                        // the server's answer.
                        if nonce_retried || !self.auth.resource_nonce_demanded(&url, sent).await {
                            return Err(StreamableHttpError::AuthRequired(challenge));
                        }
                        nonce_retried = true;
                        continue;
                    }
                    if logged_in_after_401 {
                        return Err(StreamableHttpError::AuthRequired(challenge));
                    }
                    logged_in_after_401 = true;
                    self.auth
                        .unauthorized(presented.token.as_deref(), www_authenticate)
                        .await
                        .map_err(login_failed)?;
                }
                Err(StreamableHttpError::InsufficientScope(challenge)) => {
                    self.auth
                        .insufficient_scope(&challenge.www_authenticate_header)
                        .await
                        .map_err(login_failed)?;
                }
                result => return result,
            }
        }
        let presented = self.present(None, method, &url, custom_headers).await?;
        call(presented.auth_header, presented.custom_headers).await
    }
}

/// Whether the challenge is a `DPoP` one with `use_dpop_nonce` (RFC 9449 §9).
fn demands_nonce(www_authenticate: &str) -> bool {
    DpopChallenge::parse(www_authenticate)
        .is_ok_and(|challenge| challenge.error == Some(DpopErrorCode::UseDpopNonce))
}

fn login_failed<E: std::error::Error + Send + Sync + 'static>(
    error: crate::LoginError,
) -> StreamableHttpError<E> {
    StreamableHttpError::Io(std::io::Error::other(error))
}

fn invalid_header<E: std::error::Error + Send + Sync + 'static>(
    error: http::header::InvalidHeaderValue,
) -> StreamableHttpError<E> {
    StreamableHttpError::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, error))
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
        self.authorized(
            "POST",
            &uri,
            auth_header,
            &custom_headers,
            |token, headers| {
                self.inner.post_message(
                    uri.clone(),
                    message.clone(),
                    session_id.clone(),
                    token,
                    headers,
                )
            },
        )
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
        self.authorized(
            "POST",
            &uri,
            auth_header,
            &custom_headers,
            |token, headers| {
                self.inner.post_message_with_max_sse_event_size(
                    uri.clone(),
                    message.clone(),
                    session_id.clone(),
                    token,
                    headers,
                    max_sse_event_size,
                )
            },
        )
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
        self.authorized(
            "POST",
            &uri,
            auth_header,
            &custom_headers,
            |token, headers| {
                self.inner.post_message_with_response_limits(
                    uri.clone(),
                    message.clone(),
                    session_id.clone(),
                    token,
                    headers,
                    limits,
                )
            },
        )
        .await
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), StreamableHttpError<C::Error>> {
        self.authorized(
            "DELETE",
            &uri,
            auth_header,
            &custom_headers,
            |token, headers| {
                self.inner
                    .delete_session(uri.clone(), session_id.clone(), token, headers)
            },
        )
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
        self.authorized(
            "GET",
            &uri,
            auth_header,
            &custom_headers,
            |token, headers| {
                self.inner.get_stream(
                    uri.clone(),
                    session_id.clone(),
                    last_event_id.clone(),
                    token,
                    headers,
                )
            },
        )
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
        self.authorized(
            "GET",
            &uri,
            auth_header,
            &custom_headers,
            |token, headers| {
                self.inner.get_stream_with_max_sse_event_size(
                    uri.clone(),
                    session_id.clone(),
                    last_event_id.clone(),
                    token,
                    headers,
                    max_sse_event_size,
                )
            },
        )
        .await
    }
}

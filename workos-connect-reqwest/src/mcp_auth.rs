//! An MCP client's authorization kept across requests: the current tokens, refreshed before they
//! expire, and a login when the server asks for one.

use std::sync::Arc;

use tokio::sync::Mutex;
use url::Url;
use workos_connect::dpop::{DPOP_HEADER, DPOP_NONCE_HEADER};
use workos_connect::mcp::{
    McpAuthorization, McpClientSettings, McpLogin, McpLoginError, ResourceHeaders, StepUp,
};
use workos_connect::TokenError;

use crate::browser::Browser;
use crate::login::{log_in, LoginError};
use crate::send::send_for_answer;

/// One MCP server's authorization for one client: a cheap handle (clone it freely) holding the
/// current [`McpAuthorization`], which [`token`](Self::token) refreshes before it expires, and
/// which [`unauthorized`](Self::unauthorized) and [`insufficient_scope`](Self::insufficient_scope)
/// replace with a new login. Requests that meet a `401` at once share one login.
pub struct McpAuth<B> {
    shared: Arc<Shared<B>>,
}

impl<B> Clone for McpAuth<B> {
    fn clone(&self) -> Self {
        McpAuth {
            shared: Arc::clone(&self.shared),
        }
    }
}

struct Shared<B> {
    http: reqwest::Client,
    settings: McpClientSettings,
    server_url: Url,
    state: Mutex<State<B>>,
}

struct State<B> {
    authorization: Option<McpAuthorization>,
    step_up: Option<StepUp>,
    browser: B,
}

impl<B: Browser + Send> McpAuth<B> {
    /// The authorization of this client (`settings`) for the MCP server at `server_url`, logging
    /// in through `browser` and sending with `http` (which must not follow redirects, as
    /// [`default_client`](crate::default_client)).
    pub fn new(
        http: reqwest::Client,
        settings: McpClientSettings,
        server_url: Url,
        browser: B,
    ) -> Self {
        McpAuth {
            shared: Arc::new(Shared {
                http,
                settings,
                server_url,
                state: Mutex::new(State {
                    authorization: None,
                    step_up: None,
                    browser,
                }),
            }),
        }
    }

    /// Starts from a stored authorization (see [`authorization`](Self::authorization)).
    pub async fn resume(&self, stored: McpAuthorization) {
        self.shared.state.lock().await.authorization = Some(stored);
    }

    /// The current authorization, to store (it serializes) for the next run.
    pub async fn authorization(&self) -> Option<McpAuthorization> {
        self.shared.state.lock().await.authorization.clone()
    }

    /// The access token for the next request, as `Authorization: Bearer`; a DPoP-bound token needs
    /// its proof too, from [`resource_headers`](Self::resource_headers). Refreshed first when it
    /// expires within
    /// [`REFRESH_MARGIN_SECS`](workos_connect::mcp::REFRESH_MARGIN_SECS); `None` before any login. A
    /// refused refresh drops the tokens, so that the server's `401` leads to a new login.
    pub async fn token(&self) -> Option<String> {
        let mut state = self.shared.state.lock().await;
        let now = self.shared.settings.now();
        let authorization = state.authorization.as_mut()?;
        if authorization.needs_refresh(now) && !self.refresh(authorization).await {
            state.authorization = None;
            return None;
        }
        state
            .authorization
            .as_ref()
            .map(|authorization| authorization.access_token().secret().to_owned())
    }

    /// The headers that present the current token on one request, `method` to `url`, refreshed
    /// first as [`token`](Self::token) does: `Authorization: Bearer`, or for a DPoP-bound token
    /// `Authorization: DPoP` with a fresh proof holding the server's latest nonce (RFC 9449 §7.1).
    /// Call it for every request, retries included. `None` before any login.
    pub async fn resource_headers(
        &self,
        method: &str,
        url: &Url,
    ) -> Result<Option<ResourceHeaders>, LoginError> {
        let mut state = self.shared.state.lock().await;
        let now = self.shared.settings.now();
        let Some(authorization) = state.authorization.as_mut() else {
            return Ok(None);
        };
        if authorization.needs_refresh(now) && !self.refresh(authorization).await {
            state.authorization = None;
            return Ok(None);
        }
        let Some(authorization) = state.authorization.as_ref() else {
            return Ok(None);
        };
        let headers = authorization
            .resource_headers(method, url)
            .map_err(McpLoginError::from)?;
        Ok(Some(headers))
    }

    /// The server at `url` answered `401` with a `DPoP` `use_dpop_nonce` challenge to a request
    /// sent with `sent` (RFC 9449 §9): learns the server's nonce, and says whether the request is
    /// worth sending again, once, with new headers; never a reason to log in again.
    ///
    /// `rmcp` hands over only the refused request's `WWW-Authenticate`, not its `DPoP-Nonce`, so
    /// the nonce is asked for here: a JSON-RPC `ping` to the same URL with a fresh proof, whose
    /// answer, a refusal again or not, carries the nonce. `true` when the nonce held now is not
    /// the one `sent`'s proof carried.
    pub async fn resource_nonce_demanded(&self, url: &Url, sent: &ResourceHeaders) -> bool {
        let mut state = self.shared.state.lock().await;
        let Some(authorization) = state.authorization.as_mut() else {
            return false;
        };
        if authorization.access_token() != sent.access_token() {
            // Another request logged in or refreshed meanwhile: its headers are newer.
            return true;
        }
        if authorization.resource_nonce() != sent.nonce() {
            // Another request learned the nonce meanwhile.
            return true;
        }
        let Ok(headers) = authorization.resource_headers("POST", url) else {
            return false;
        };
        let Some(proof) = headers.dpop() else {
            return false;
        };
        let ping = self
            .shared
            .http
            .post(url.as_str())
            .header("authorization", headers.authorization())
            .header(DPOP_HEADER, proof.as_str())
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(r#"{"jsonrpc":"2.0","id":"workos-connect-dpop-nonce","method":"ping"}"#)
            .send()
            .await;
        // Only the headers matter: the body is dropped unread, so a stream cannot hold it open.
        let Ok(answer) = ping else {
            return false;
        };
        let www_authenticate: Vec<&[u8]> = answer
            .headers()
            .get_all("www-authenticate")
            .iter()
            .map(|value| value.as_bytes())
            .collect();
        let dpop_nonce: Vec<&[u8]> = answer
            .headers()
            .get_all(DPOP_NONCE_HEADER)
            .iter()
            .map(|value| value.as_bytes())
            .collect();
        authorization.resource_answered(
            answer.status().as_u16(),
            www_authenticate,
            dpop_nonce.iter().copied(),
        );
        authorization.resource_nonce().is_some() && authorization.resource_nonce() != sent.nonce()
    }

    /// The server answered `401` to a request sent with `sent` (the token, if any): logs in, unless
    /// another request did since `sent` was handed out, and gives the token to send again.
    pub async fn unauthorized(
        &self,
        sent: Option<&str>,
        www_authenticate: &str,
    ) -> Result<String, LoginError> {
        let mut state = self.shared.state.lock().await;
        if let Some(current) = state.authorization.as_ref() {
            let token = current.access_token().secret();
            if Some(token) != sent {
                return Ok(token.to_owned());
            }
        }
        let mut settings = self.shared.settings.clone();
        if let Some(previous) = state.authorization.take() {
            // The same authorization server is asked again without registering again.
            settings = settings.registration(previous.credentials().clone());
        }
        let login =
            McpLogin::unauthorized(&settings, &self.shared.server_url, &[www_authenticate])?;
        let authorization = log_in(&self.shared.http, login, &mut state.browser).await?;
        let token = authorization.access_token().secret().to_owned();
        state.step_up = Some(StepUp::new(authorization.scopes().clone()));
        state.authorization = Some(authorization);
        Ok(token)
    }

    /// The server answered `403 insufficient_scope`: logs in again for the scopes asked before and
    /// the challenge's, at most [`DEFAULT_MAX_LOGINS`](workos_connect::mcp::DEFAULT_MAX_LOGINS)
    /// times in a row, and gives the token to send again.
    pub async fn insufficient_scope(&self, www_authenticate: &str) -> Result<String, LoginError> {
        let mut state = self.shared.state.lock().await;
        let previous = state
            .authorization
            .clone()
            .ok_or(McpLoginError::OutOfOrder("a 403 before any login"))?;
        let login = McpLogin::insufficient_scope(
            &self.shared.settings,
            &self.shared.server_url,
            &[www_authenticate],
            &previous,
            state.step_up.take(),
        )?;
        let step_up = login.step_up();
        let authorization = log_in(&self.shared.http, login, &mut state.browser).await?;
        let token = authorization.access_token().secret().to_owned();
        state.step_up = step_up;
        state.authorization = Some(authorization);
        Ok(token)
    }

    async fn refresh(&self, authorization: &mut McpAuthorization) -> bool {
        // Twice at most: once more when the token endpoint wants its DPoP nonce.
        for _ in 0..2 {
            let Some(request) = authorization.refresh_request() else {
                return false;
            };
            let Ok(answer) = send_for_answer(&self.shared.http, &request).await else {
                return false;
            };
            match authorization.refreshed_with_dpop_nonce(
                answer.status,
                answer.dpop_nonce(),
                &answer.body,
                self.shared.settings.now(),
            ) {
                Ok(()) => return true,
                Err(TokenError::UseDpopNonce) => {}
                Err(_) => return false,
            }
        }
        false
    }
}

//! A finished MCP login: the tokens, what they are for, and how to refresh them; storable.

use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Deserializer, Serialize};
use url::Url;

use crate::oauth::clock::unix_seconds;
use crate::oauth::credential::{AccessToken, RefreshToken};
use crate::oauth::endpoint::{check_endpoint, FORM_REQUEST_PARAMETERS};
use crate::oauth::http_request::HttpRequest;
use crate::oauth::identifier::{Issuer, Resource};
use crate::oauth::scope_list::ScopeList;
use crate::oauth::token::{AccessTokenType, TokenError, TokenResponse};
use crate::oauth::token_request::TokenRequest;
use crate::registration::credentials::ClientCredentials;
#[cfg(feature = "dpop")]
use crate::{
    dpop::{DpopBuildError, DpopKey},
    mcp::dpop_binding::{DpopBinding, ResourceHeaders},
};

/// How long before its `exp` an access token counts as expired, so that a request sent with it
/// does not arrive just after.
pub const REFRESH_MARGIN_SECS: u64 = 30;

/// A finished login: the tokens and what they are for. Keep it for the next requests (it
/// serializes, with its secrets, for a credential store), refresh it when
/// [`needs_refresh`](Self::needs_refresh), and give its [`credentials`](Self::credentials) to the
/// next login with the same authorization server.
///
/// A DPoP-bound login (RFC 9449) keeps its proof key and the servers' latest nonces too: present
/// its token with [`resource_headers`](Self::resource_headers), which signs a proof for each
/// request. Stored, it holds the private key: keep it as a secret.
///
/// Its proofs and client assertions are dated by the clock of the login that made it (see
/// [`McpClientSettings::clock`](crate::mcp::McpClientSettings::clock)), and by the system clock
/// once read back from storage.
///
/// Its `Debug` shows no token and no key (only the key's thumbprint).
#[derive(Clone, Serialize)]
pub struct McpAuthorization {
    access_token: AccessToken,
    /// `Bearer` for logins stored before DPoP was known.
    #[serde(default)]
    token_type: AccessTokenType,
    #[cfg(feature = "dpop")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dpop: Option<Box<DpopBinding>>,
    refresh_token: Option<RefreshToken>,
    expires_at: Option<u64>,
    scopes: ScopeList,
    resource: Resource,
    credentials: ClientCredentials,
    token_endpoint: Url,
}

/// `McpAuthorization`'s members as read back, by serde's derive into `McpAuthorization` itself,
/// from a JSON object only (not an array of the members in order); see `json_object`.
#[derive(Deserialize)]
#[serde(remote = "McpAuthorization")]
struct StoredAuthorization {
    access_token: AccessToken,
    #[serde(default)]
    token_type: AccessTokenType,
    #[cfg(feature = "dpop")]
    #[serde(default)]
    dpop: Option<Box<DpopBinding>>,
    refresh_token: Option<RefreshToken>,
    expires_at: Option<u64>,
    scopes: ScopeList,
    resource: Resource,
    credentials: ClientCredentials,
    #[serde(deserialize_with = "token_endpoint")]
    token_endpoint: Url,
}

impl<'de> Deserialize<'de> for McpAuthorization {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        StoredAuthorization::deserialize(crate::oauth::json_object::ObjectOnly(deserializer))
    }
}

impl McpAuthorization {
    pub(crate) fn new(
        tokens: TokenResponse,
        received_at: SystemTime,
        scopes: ScopeList,
        resource: Resource,
        credentials: ClientCredentials,
        token_endpoint: Url,
    ) -> Self {
        McpAuthorization {
            expires_at: tokens.expires_at(received_at),
            access_token: tokens.access_token,
            token_type: tokens.token_type,
            #[cfg(feature = "dpop")]
            dpop: None,
            refresh_token: tokens.refresh_token,
            scopes,
            resource,
            credentials,
            token_endpoint,
        }
    }

    #[cfg(feature = "dpop")]
    pub(crate) fn with_dpop(mut self, binding: Option<DpopBinding>) -> Self {
        self.dpop = binding.map(Box::new);
        self
    }

    /// The access token: sent as `Authorization: Bearer` for a [`AccessTokenType::Bearer`] token;
    /// a DPoP-bound one goes with a proof ([`resource_headers`](Self::resource_headers)).
    pub fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    /// How the access token is presented: `Bearer`, or `DPoP` when the server bound it to the
    /// login's key.
    pub fn token_type(&self) -> AccessTokenType {
        self.token_type
    }

    /// The DPoP proof key of the login, when its token requests sent proofs: it signs the
    /// refreshes' proofs too, and the resource requests' when the token is DPoP-bound.
    #[cfg(feature = "dpop")]
    pub fn dpop_key(&self) -> Option<&DpopKey> {
        self.dpop.as_deref().map(DpopBinding::key)
    }

    /// The headers for one request to the resource, `method` to `url`: `Authorization: Bearer`,
    /// or for a DPoP-bound token `Authorization: DPoP` and a fresh `DPoP` proof (its `htu` the
    /// URL without query and fragment, `ath` the token's hash, and the resource's latest nonce,
    /// RFC 9449 §7.1, §9). Call it for every request, retries included.
    #[cfg(feature = "dpop")]
    pub fn resource_headers(
        &self,
        method: &str,
        url: &Url,
    ) -> Result<ResourceHeaders, DpopBuildError> {
        ResourceHeaders::new(
            self.token_type,
            &self.access_token,
            self.dpop.as_deref(),
            method,
            url,
            self.credentials.clock_handle(),
        )
    }

    /// Takes a resource's answer to a request made with [`resource_headers`](Self::resource_headers):
    /// its status, `WWW-Authenticate` and `DPoP-Nonce` header values. Keeps the nonce the
    /// resource sent, and returns `true` when the answer is a `401` whose `DPoP` challenge is
    /// `use_dpop_nonce` (RFC 9449 §9): send the request again, once, with new headers, rather than
    /// log in again. `false` for a Bearer login or any other answer.
    #[cfg(feature = "dpop")]
    pub fn resource_answered<'a, 'b>(
        &mut self,
        status: u16,
        www_authenticate: impl IntoIterator<Item = &'a [u8]>,
        dpop_nonce: impl IntoIterator<Item = &'b [u8]> + Clone,
    ) -> bool {
        match self.dpop.as_mut() {
            Some(binding) => binding.resource_answered(status, www_authenticate, dpop_nonce),
            None => false,
        }
    }

    /// The resource's latest nonce, when it sent one.
    #[cfg(feature = "dpop")]
    pub fn resource_nonce(&self) -> Option<&crate::dpop::DpopNonce> {
        self.dpop.as_deref().and_then(DpopBinding::resource_nonce)
    }

    /// The refresh token, if the server gave one.
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    /// When the access token expires, in seconds since the Unix epoch, if the server said.
    pub fn expires_at(&self) -> Option<u64> {
        self.expires_at
    }

    /// Whether the access token expires within [`REFRESH_MARGIN_SECS`] of `now`: refresh it before
    /// the next request. A token without a known expiry is used until the server refuses it.
    pub fn needs_refresh(&self, now: SystemTime) -> bool {
        let now = unix_seconds(now);
        self.expires_at
            .is_some_and(|at| at <= now.saturating_add(REFRESH_MARGIN_SECS))
    }

    /// The `refresh_token` grant for the same resource (RFC 8707 section 2.2), with the client's
    /// authentication, and for a DPoP login a proof signed now with the server's latest nonce (so
    /// build it for each send); `None` without a refresh token (log in again).
    pub fn refresh_request(&self) -> Option<HttpRequest> {
        let refresh_token = self.refresh_token.as_ref()?;
        let form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh_token.secret().to_owned()),
            ("resource", self.resource.as_str().to_owned()),
        ];
        let request = self
            .credentials
            .authenticated(self.token_endpoint.clone(), form);
        let request = HttpRequest::from(&request);
        #[cfg(feature = "dpop")]
        if let Some(binding) = &self.dpop {
            // The token endpoint was checked as an http(s) URL with a host, and POST is a method:
            // signing cannot fail.
            return binding
                .sign_token_request(&request, self.credentials.clock_handle())
                .ok();
        }
        Some(request)
    }

    /// Takes the refresh's answer, received at `now`: the new access token, and the new refresh
    /// token if the server rotated it (RFC 9700 section 4.14.2), else the one held. A DPoP login's
    /// answer needs its `DPoP-Nonce` header: give it to
    /// [`refreshed_with_dpop_nonce`](Self::refreshed_with_dpop_nonce).
    pub fn refreshed(
        &mut self,
        status: u16,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), TokenError> {
        self.refreshed_with_dpop_nonce(status, [], body, now)
    }

    /// Takes the refresh's answer as [`refreshed`](Self::refreshed) does, with its `DPoP-Nonce`
    /// header values. A `400 use_dpop_nonce` keeps the nonce and returns
    /// [`TokenError::UseDpopNonce`]: send a new [`refresh_request`](Self::refresh_request) once.
    ///
    /// A Bearer token in answer to a DPoP refresh is refused ([`TokenError::DpopDowngraded`]),
    /// and that ends the refreshes: the refused answer may have rotated the refresh token, so the
    /// one held may be spent, and redeeming a spent one can make the server revoke the whole
    /// family (RFC 9700 section 4.14.2). It is dropped, `refresh_request` returns `None`, and the
    /// access token held serves until it expires: then log in again.
    pub fn refreshed_with_dpop_nonce<'a>(
        &mut self,
        status: u16,
        dpop_nonce: impl IntoIterator<Item = &'a [u8]> + Clone,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), TokenError> {
        #[cfg(feature = "dpop")]
        let tokens = match self.dpop.as_mut() {
            Some(binding) => {
                if binding.token_endpoint_answered(status, body, dpop_nonce) {
                    return Err(TokenError::UseDpopNonce);
                }
                match TokenResponse::parse_dpop(status, body) {
                    Err(TokenError::DpopDowngraded) => {
                        self.refresh_token = None;
                        return Err(TokenError::DpopDowngraded);
                    }
                    parsed => parsed?,
                }
            }
            None => TokenResponse::parse(status, body)?,
        };
        #[cfg(not(feature = "dpop"))]
        let tokens = {
            let _ = dpop_nonce;
            TokenResponse::parse(status, body)?
        };
        self.expires_at = tokens.expires_at(now);
        self.access_token = tokens.access_token;
        self.token_type = tokens.token_type;
        if let Some(rotated) = tokens.refresh_token {
            self.refresh_token = Some(rotated);
        }
        Ok(())
    }

    /// The scopes asked for.
    pub fn scopes(&self) -> &ScopeList {
        &self.scopes
    }

    /// The resource (the MCP server) the token is for.
    pub fn resource(&self) -> &Resource {
        &self.resource
    }

    /// The registration used, bound to its authorization server.
    pub fn credentials(&self) -> &ClientCredentials {
        &self.credentials
    }

    /// The authorization server that issued the token.
    pub fn issuer(&self) -> &Issuer {
        self.credentials.issuer()
    }
}

impl From<&TokenRequest> for HttpRequest {
    fn from(request: &TokenRequest) -> Self {
        let http = HttpRequest::post(
            request.url().clone(),
            TokenRequest::CONTENT_TYPE,
            request.body(),
        );
        match request.authorization() {
            Some(authorization) => http.header("authorization", authorization.to_owned()),
            None => http,
        }
    }
}

/// A stored token endpoint gets the checks a discovered one got.
fn token_endpoint<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Url, D::Error> {
    let url = Url::deserialize(deserializer)?;
    check_endpoint(&url, FORM_REQUEST_PARAMETERS).map_err(|_| {
        serde::de::Error::custom(
            "the stored token endpoint must be https (or http on loopback), without a fragment or a parameter the client writes",
        )
    })?;
    Ok(url)
}

impl fmt::Debug for McpAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut f = f.debug_struct("McpAuthorization");
        f.field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("refresh_token", &self.refresh_token)
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .field("resource", &self.resource)
            .field("issuer", self.credentials.issuer());
        #[cfg(feature = "dpop")]
        f.field("dpop", &self.dpop);
        f.finish_non_exhaustive()
    }
}

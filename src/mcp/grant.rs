//! A finished MCP login: the tokens, what they are for, and how to refresh them; storable.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use url::Url;

use crate::credential::{AccessToken, RefreshToken};
use crate::endpoint::{check_endpoint, FORM_REQUEST_PARAMETERS};
use crate::http_request::HttpRequest;
use crate::identifier::{Issuer, Resource};
use crate::registration::credentials::ClientCredentials;
use crate::scope_list::ScopeList;
use crate::token::{TokenError, TokenRequest, TokenResponse};

/// How long before its `exp` an access token counts as expired, so that a request sent with it
/// does not arrive just after.
pub const REFRESH_MARGIN_SECS: u64 = 30;

/// A finished login: the tokens and what they are for. Keep it for the next requests (it
/// serializes, with its secrets, for a credential store), refresh it when
/// [`needs_refresh`](Self::needs_refresh), and give its [`credentials`](Self::credentials) to the
/// next login with the same authorization server.
///
/// Its `Debug` shows no token.
#[derive(Clone, Serialize, Deserialize)]
pub struct McpAuthorization {
    access_token: AccessToken,
    refresh_token: Option<RefreshToken>,
    expires_at: Option<u64>,
    scopes: ScopeList,
    resource: Resource,
    credentials: ClientCredentials,
    #[serde(deserialize_with = "token_endpoint")]
    token_endpoint: Url,
}

impl McpAuthorization {
    pub(crate) fn new(
        tokens: TokenResponse,
        received_at: u64,
        scopes: ScopeList,
        resource: Resource,
        credentials: ClientCredentials,
        token_endpoint: Url,
    ) -> Self {
        McpAuthorization {
            expires_at: tokens.expires_at(received_at),
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            scopes,
            resource,
            credentials,
            token_endpoint,
        }
    }

    /// The access token, for `Authorization: Bearer`.
    pub fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    /// The refresh token, if the server gave one.
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    /// When the access token expires, in seconds since the Unix epoch, if the server said.
    pub fn expires_at(&self) -> Option<u64> {
        self.expires_at
    }

    /// Whether the access token expires within [`REFRESH_MARGIN_SECS`] of `unix_seconds`: refresh it
    /// before the next request. A token without a known expiry is used until the server refuses it.
    pub fn needs_refresh(&self, unix_seconds: u64) -> bool {
        self.expires_at
            .is_some_and(|at| at <= unix_seconds.saturating_add(REFRESH_MARGIN_SECS))
    }

    /// The `refresh_token` grant for the same resource (RFC 8707 section 2.2), with the client's
    /// authentication; `None` without a refresh token (log in again).
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
        Some(HttpRequest::from(&request))
    }

    /// Takes the refresh's answer: the new access token, and the new refresh token if the server
    /// rotated it (RFC 9700 section 4.14.2), else the one held.
    pub fn refreshed(
        &mut self,
        status: u16,
        body: &[u8],
        unix_seconds: u64,
    ) -> Result<(), TokenError> {
        let tokens = TokenResponse::parse(status, body)?;
        self.expires_at = tokens.expires_at(unix_seconds);
        self.access_token = tokens.access_token;
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
        f.debug_struct("McpAuthorization")
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .field("resource", &self.resource)
            .field("issuer", self.credentials.issuer())
            .finish_non_exhaustive()
    }
}

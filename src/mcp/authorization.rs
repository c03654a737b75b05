//! The MCP client's side of OAuth 2.1 with one authorization server: the login (authorization code
//! with PKCE and a resource indicator), its callback, and the token requests, each authenticated as
//! the client registered.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::discovery::server_metadata::{AuthorizationServerMetadata, ServerMetadataError};
use crate::oauth::authorize_response::AuthorizeResponse;
use crate::oauth::callback::{AuthorizationCode, CallbackCheck};
use crate::oauth::client_id::ClientId;
use crate::oauth::clock::{Clock, ClockHandle};
use crate::oauth::credential::RefreshToken;
use crate::oauth::encoding::push_query_value;
use crate::oauth::identifier::{Issuer, Resource};
use crate::oauth::pkce::PkceVerifier;
use crate::oauth::prompt_name::Prompt;
use crate::oauth::redirect_uri::RedirectUri;
use crate::oauth::scope_list::ScopeList;
use crate::oauth::secret::{Nonce, State};
use crate::oauth::security_token::SecurityToken;
use crate::oauth::token_request::TokenRequest;
use crate::registration::credentials::{ClientCredentials, CredentialsError};
use crate::registration::token_auth::TokenEndpointAuth;
use crate::token_exchange::{TokenExchange, TokenExchangeError};

/// `grant_type` of the JWT bearer authorization grant (RFC 7523 section 2.1).
pub const JWT_BEARER_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Why an authorization client or one of its requests cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizationError {
    /// The credentials were registered with another authorization server. Sending them here would
    /// hand one server's client ID (or secret) to another: register with this one instead.
    #[error(
        "the client credentials belong to {credentials}, not to this authorization server \
         ({server}); register with {server} instead"
    )]
    IssuerMismatch {
        /// The issuer the credentials belong to.
        credentials: String,
        /// The issuer of the server's metadata.
        server: String,
    },
    /// The server does not accept the credentials' token endpoint authentication method.
    #[error(
        "the authorization server does not accept token endpoint authentication `{method}` \
         (token_endpoint_auth_methods_supported)"
    )]
    MethodNotSupported {
        /// The credentials' method.
        method: TokenEndpointAuth,
    },
    /// The `client_credentials` grant needs a client that authenticates, with a secret or a
    /// private key.
    #[error(
        "the client_credentials grant needs a confidential client, with a client secret or a \
         private key (private_key_jwt)"
    )]
    PublicClient,
    /// The client's authentication could not be added (a `private_key_jwt` assertion that could
    /// not be signed).
    #[error("client authentication: {0}")]
    Credentials(#[from] CredentialsError),
    /// The metadata fails the checks [`AuthorizationServerMetadata::parse`] makes (an endpoint not
    /// `https`, with a fragment or with a parameter of the requests in its query, or no PKCE
    /// `S256`): its fields were changed after it was parsed.
    #[error(transparent)]
    Metadata(#[from] ServerMetadataError),
    /// A pending login made by another client or for another server.
    #[error("the pending login's {field} does not match this client's; it was started by another client")]
    ClientMismatch {
        /// `issuer` or `client_id`.
        field: &'static str,
    },
}

/// A client registered with one authorization server, ready to log users in and redeem tokens
/// there. Made from the server's metadata and the client's [`ClientCredentials`], which must belong
/// to that server (the issuer binding of the MCP specification).
///
/// Every login uses PKCE with `S256` and a fresh `state`; the token requests authenticate the
/// client as it registered: `none` (client ID in the form), `client_secret_post` or
/// `client_secret_basic` (an `Authorization` header, [`TokenRequest::authorization`]).
///
/// ```
/// use workos_connect::{discovery::AuthorizationServerMetadata, mcp::AuthorizationClient, oauth::Issuer, registration::{ClientCredentials, TokenEndpointAuth}};
///
/// let issuer: Issuer = "https://example.authkit.app".parse()?;
/// let metadata = AuthorizationServerMetadata::parse(br#"{
///     "issuer": "https://example.authkit.app",
///     "authorization_endpoint": "https://example.authkit.app/oauth2/authorize",
///     "token_endpoint": "https://example.authkit.app/oauth2/token",
///     "code_challenge_methods_supported": ["S256"],
///     "token_endpoint_auth_methods_supported": ["none"]
/// }"#, &issuer)?;
/// let credentials = ClientCredentials::pre_registered(issuer, "client_01HXYZ".parse()?, None, TokenEndpointAuth::None)?;
/// let client = AuthorizationClient::new(&metadata, credentials)?;
/// let (redirect, pending) = client
///     .login("http://127.0.0.1:8976/callback".parse()?, "https://mcp.example.com/mcp".parse()?)
///     .scopes("mcp:tools".parse::<workos_connect::oauth::ScopeList>()?)
///     .build();
/// assert!(redirect.as_str().contains("&code_challenge_method=S256&resource=https%3A%2F%2Fmcp.example.com%2Fmcp"));
/// assert_eq!(pending.resource().as_str(), "https://mcp.example.com/mcp");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct AuthorizationClient {
    settings: Arc<Settings>,
}

#[derive(Clone)]
struct Settings {
    issuer: Issuer,
    authorization_endpoint: Url,
    token_endpoint: Url,
    /// The server promises `iss` in every authorization response (RFC 9207).
    sends_iss: bool,
    credentials: ClientCredentials,
    /// What dates its logins and checks their callbacks: the credentials' clock unless told
    /// otherwise.
    clock: ClockHandle,
}

/// Whether the server takes `method` at its token endpoint.
pub(crate) fn accepts_method(
    metadata: &AuthorizationServerMetadata,
    method: TokenEndpointAuth,
) -> bool {
    // Without a list RFC 8414 means `client_secret_basic`; `none` is taken too, since servers of
    // the 2025-03-26 specification publish none and still serve public clients, which PKCE is for.
    match &metadata.token_endpoint_auth_methods_supported {
        Some(methods) => methods.iter().any(|name| name == method.as_str()),
        None => matches!(
            method,
            TokenEndpointAuth::ClientSecretBasic | TokenEndpointAuth::None
        ),
    }
}

impl AuthorizationClient {
    /// The client for the server `metadata` describes, with credentials registered there.
    ///
    /// Refuses credentials of another issuer, and a token endpoint authentication method the server
    /// does not list (when it publishes a list; RFC 8414 takes `client_secret_basic` otherwise).
    /// The metadata's endpoints and PKCE support are checked again, as `parse` checked them, since
    /// its public fields may have been changed since.
    pub fn new(
        metadata: &AuthorizationServerMetadata,
        credentials: ClientCredentials,
    ) -> Result<Self, AuthorizationError> {
        metadata.check()?;
        if credentials.issuer() != &metadata.issuer {
            return Err(AuthorizationError::IssuerMismatch {
                credentials: credentials.issuer().to_string(),
                server: metadata.issuer.to_string(),
            });
        }
        let method = credentials.auth_method();
        if !accepts_method(metadata, method) {
            return Err(AuthorizationError::MethodNotSupported { method });
        }
        Ok(AuthorizationClient {
            settings: Arc::new(Settings {
                issuer: metadata.issuer.clone(),
                authorization_endpoint: metadata.authorization_endpoint.clone(),
                token_endpoint: metadata.token_endpoint.clone(),
                sends_iss: metadata.authorization_response_iss_parameter_supported,
                clock: credentials.clock_handle().clone(),
                credentials,
            }),
        })
    }

    /// This client reading the time from `clock` (by default its credentials' clock, the system
    /// clock unless they were given another): its logins' `created_at` and callback checks, and
    /// its credentials' `private_key_jwt` assertions. A [`FixedClock`](crate::oauth::FixedClock)
    /// in tests.
    pub fn clock(self, clock: impl Clock + 'static) -> Self {
        self.with_clock(&ClockHandle::new(clock))
    }

    /// The clock the client reads.
    pub(crate) fn clock_handle(&self) -> &ClockHandle {
        &self.settings.clock
    }

    /// This client reading `clock`, the one of the login that made it.
    pub(crate) fn with_clock(mut self, clock: &ClockHandle) -> Self {
        let settings = Arc::make_mut(&mut self.settings);
        settings.clock = clock.clone();
        settings.credentials = settings.credentials.clone().with_clock(clock);
        self
    }

    /// The server's issuer.
    pub fn issuer(&self) -> &Issuer {
        &self.settings.issuer
    }

    /// The token endpoint.
    pub fn token_endpoint(&self) -> &Url {
        &self.settings.token_endpoint
    }

    /// The client's credentials.
    pub fn credentials(&self) -> &ClientCredentials {
        &self.settings.credentials
    }

    /// Starts a login that comes back to `redirect_uri`, for tokens for `resource` (RFC 8707): for
    /// an MCP server, the `resource` of its protected resource metadata, or
    /// [`Resource::from_server_url`] for a server without any. PKCE `S256` and a fresh `state`
    /// always; by default no scope.
    ///
    /// The resource is not optional: the MCP specification requires it in the authorization and
    /// token requests, and a token requested without it is good for whatever resource the
    /// authorization server serves, not only for the one server it was meant for.
    pub fn login(&self, redirect_uri: RedirectUri, resource: Resource) -> LoginRequest<'_> {
        LoginRequest {
            client: self,
            redirect_uri,
            scopes: ScopeList::new(),
            resource,
            state: None,
            verifier: None,
            prompt: None,
        }
    }

    /// The `authorization_code` grant for a checked callback's code: `code`, `redirect_uri` as sent,
    /// the PKCE `code_verifier`, and the login's `resource` (RFC 8707 section 2.2), with the client's
    /// authentication.
    pub fn token_request(
        &self,
        pending: &PendingLogin,
        code: &AuthorizationCode,
    ) -> Result<TokenRequest, AuthorizationError> {
        if pending.issuer != self.settings.issuer {
            return Err(AuthorizationError::ClientMismatch { field: "issuer" });
        }
        if pending.client_id != *self.settings.credentials.client_id() {
            return Err(AuthorizationError::ClientMismatch { field: "client_id" });
        }
        let form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.secret().to_owned()),
            ("redirect_uri", pending.redirect_uri.as_str().to_owned()),
            ("code_verifier", pending.code_verifier.secret().to_owned()),
            ("resource", pending.resource.as_str().to_owned()),
        ];
        Ok(self.try_authenticated(form)?)
    }

    /// The `refresh_token` grant, for the same `resource` the tokens were for (RFC 8707 section
    /// 2.2), so the new access token keeps its audience.
    pub fn refresh_request(
        &self,
        refresh_token: &RefreshToken,
        resource: Option<&Resource>,
    ) -> TokenRequest {
        let mut form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh_token.secret().to_owned()),
        ];
        if let Some(resource) = resource {
            form.push(("resource", resource.as_str().to_owned()));
        }
        self.authenticated(form)
    }

    /// The `client_credentials` grant (RFC 6749 section 4.4), for a confidential client acting on
    /// its own behalf (machine to machine): the `scope` if any, and the `resource`.
    pub fn client_credentials_request(
        &self,
        scopes: &ScopeList,
        resource: Option<&Resource>,
    ) -> Result<TokenRequest, AuthorizationError> {
        if !self.settings.credentials.auth_method().is_confidential() {
            return Err(AuthorizationError::PublicClient);
        }
        let mut form = vec![("grant_type", "client_credentials".to_owned())];
        if !scopes.is_empty() {
            form.push(("scope", scopes.to_string()));
        }
        if let Some(resource) = resource {
            form.push(("resource", resource.as_str().to_owned()));
        }
        Ok(self.try_authenticated(form)?)
    }

    /// The JWT bearer authorization grant (RFC 7523 section 2.1): `assertion`, a JWT the server
    /// trusts (a workload's token from its platform, for workload identity federation; an ID-JAG
    /// from a token exchange, for enterprise-managed authorization), the `scope` if any and the
    /// `resource`, with the client's authentication as registered (RFC 7521 section 4.1: the
    /// assertion is the grant, not the client's credential; `none` sends the `client_id`).
    ///
    /// ```
    /// use workos_connect::{discovery::AuthorizationServerMetadata, mcp::AuthorizationClient, oauth::Issuer, registration::{ClientCredentials, TokenEndpointAuth}};
    /// use workos_connect::oauth::{ScopeList, SecurityToken};
    ///
    /// let issuer: Issuer = "https://auth.example.com".parse()?;
    /// let metadata = AuthorizationServerMetadata::parse(br#"{
    ///     "issuer": "https://auth.example.com",
    ///     "authorization_endpoint": "https://auth.example.com/authorize",
    ///     "token_endpoint": "https://auth.example.com/token",
    ///     "code_challenge_methods_supported": ["S256"],
    ///     "token_endpoint_auth_methods_supported": ["none"]
    /// }"#, &issuer)?;
    /// let credentials = ClientCredentials::pre_registered(issuer, "workload".parse()?, None, TokenEndpointAuth::None)?;
    /// let client = AuthorizationClient::new(&metadata, credentials)?;
    /// let request = client.jwt_bearer_request(
    ///     &SecurityToken::new("eyJ.workload.sig")?,
    ///     &"mcp:tools".parse::<ScopeList>()?,
    ///     Some(&"https://mcp.example.com/mcp".parse()?),
    /// )?;
    /// assert_eq!(
    ///     request.body(),
    ///     "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=eyJ.workload.sig\
    ///      &scope=mcp%3Atools&resource=https%3A%2F%2Fmcp.example.com%2Fmcp&client_id=workload"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn jwt_bearer_request(
        &self,
        assertion: &SecurityToken,
        scopes: &ScopeList,
        resource: Option<&Resource>,
    ) -> Result<TokenRequest, AuthorizationError> {
        let mut form = vec![
            ("grant_type", JWT_BEARER_GRANT_TYPE.to_owned()),
            ("assertion", assertion.secret().to_owned()),
        ];
        if !scopes.is_empty() {
            form.push(("scope", scopes.to_string()));
        }
        if let Some(resource) = resource {
            form.push(("resource", resource.as_str().to_owned()));
        }
        Ok(self.try_authenticated(form)?)
    }

    /// A token exchange (RFC 8693) at this server's token endpoint, with the client's
    /// authentication: as WorkOS Connect makes it, a token for one resource traded for a token
    /// for another with narrower scopes, or any other.
    pub fn token_exchange_request(
        &self,
        exchange: &TokenExchange,
    ) -> Result<TokenRequest, TokenExchangeError> {
        // The token endpoint is the one the issuer's metadata names, wherever that is.
        exchange.request_at(
            self.settings.token_endpoint.clone(),
            &self.settings.credentials,
        )
    }

    fn try_authenticated(
        &self,
        form: Vec<(&'static str, String)>,
    ) -> Result<TokenRequest, CredentialsError> {
        self.settings
            .credentials
            .try_authenticated(self.settings.token_endpoint.clone(), form)
    }

    fn authenticated(&self, form: Vec<(&'static str, String)>) -> TokenRequest {
        self.settings
            .credentials
            .authenticated(self.settings.token_endpoint.clone(), form)
    }
}

impl fmt::Debug for AuthorizationClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationClient")
            .field("issuer", &self.settings.issuer)
            .field(
                "authorization_endpoint",
                &self.settings.authorization_endpoint.as_str(),
            )
            .field("token_endpoint", &self.settings.token_endpoint.as_str())
            .field("credentials", &self.settings.credentials)
            .finish()
    }
}

/// A builder for one login's authorization URL, made by [`AuthorizationClient::login`].
///
/// The URL's parameters, in order: `response_type=code`, `client_id`, `redirect_uri`, `scope` (when
/// any), `state`, `nonce` (only with the `openid` scope), `code_challenge`,
/// `code_challenge_method=S256`, `resource`, `prompt` (when given).
#[derive(Debug)]
#[must_use = "call `build` to get the URL"]
pub struct LoginRequest<'c> {
    client: &'c AuthorizationClient,
    redirect_uri: RedirectUri,
    scopes: ScopeList,
    resource: Resource,
    state: Option<State>,
    verifier: Option<PkceVerifier>,
    prompt: Option<Prompt>,
}

impl LoginRequest<'_> {
    /// The scopes to request; see [`select_scopes`](crate::mcp::select_scopes) for the MCP
    /// specification's choice. None by default, and then no `scope` parameter is sent.
    pub fn scopes(mut self, scopes: impl Into<ScopeList>) -> Self {
        self.scopes = scopes.into();
        self
    }

    /// Uses the caller's `state` instead of a fresh one.
    pub fn state(mut self, state: State) -> Self {
        self.state = Some(state);
        self
    }

    /// Uses the caller's PKCE verifier instead of a fresh one.
    pub fn pkce(mut self, verifier: PkceVerifier) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// Sends `prompt` (OpenID Connect Core section 3.1.2.1), one value: `consent`, say, which some
    /// authorization servers require before they issue a refresh token for `offline_access`, and
    /// which the MCP specification lets a client send. One value, so that the request cannot hold
    /// `none` beside another; none by default.
    ///
    /// ```
    /// # use workos_connect::{discovery::AuthorizationServerMetadata, mcp::AuthorizationClient};
    /// # use workos_connect::registration::{ClientCredentials, TokenEndpointAuth};
    /// use workos_connect::oauth::Prompt;
    /// # let issuer: workos_connect::oauth::Issuer = "https://example.authkit.app".parse()?;
    /// # let metadata = AuthorizationServerMetadata::parse(br#"{"issuer":"https://example.authkit.app",
    /// #   "authorization_endpoint":"https://example.authkit.app/oauth2/authorize",
    /// #   "token_endpoint":"https://example.authkit.app/oauth2/token",
    /// #   "code_challenge_methods_supported":["S256"]}"#, &issuer)?;
    /// # let credentials = ClientCredentials::pre_registered(issuer, "client_01HXYZ".parse()?, None, TokenEndpointAuth::None)?;
    /// # let client = AuthorizationClient::new(&metadata, credentials)?;
    /// let (redirect, _pending) = client
    ///     .login("http://127.0.0.1:8976/callback".parse()?, "https://mcp.example.com/mcp".parse()?)
    ///     .scopes("mcp:tools offline_access".parse::<workos_connect::oauth::ScopeList>()?)
    ///     .prompt(Prompt::Consent)
    ///     .build();
    /// assert!(redirect.as_str().ends_with("&prompt=consent"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn prompt(mut self, prompt: Prompt) -> Self {
        self.prompt = Some(prompt);
        self
    }

    /// Draws the secrets not given and writes the URL. Returns the URL to send the user to and what
    /// to keep until the callback.
    pub fn build(self) -> (AuthorizeResponse, PendingLogin) {
        let settings = &self.client.settings;
        let state = self.state.unwrap_or_else(State::generate);
        let verifier = self.verifier.unwrap_or_else(PkceVerifier::generate);
        // OpenID Connect requires a nonce with `openid` (WorkOS Connect does on every login); plain
        // OAuth logins have no use for one.
        let nonce = self.scopes.contains("openid").then(Nonce::generate);
        let client_id = settings.credentials.client_id().clone();

        let mut url = settings.authorization_endpoint.to_string();
        // RFC 6749 section 3.1: an endpoint's own query is kept; `AuthorizationClient::new` refused
        // one that holds a parameter written here, so none is sent twice.
        url.push(if settings.authorization_endpoint.query().is_some() {
            '&'
        } else {
            '?'
        });
        url.push_str("response_type=code&client_id=");
        push_query_value(&mut url, client_id.as_str());
        url.push_str("&redirect_uri=");
        push_query_value(&mut url, self.redirect_uri.as_str());
        if !self.scopes.is_empty() {
            url.push_str("&scope=");
            push_query_value(&mut url, &self.scopes.to_string());
        }
        url.push_str("&state=");
        push_query_value(&mut url, state.secret());
        if let Some(nonce) = &nonce {
            url.push_str("&nonce=");
            push_query_value(&mut url, nonce.secret());
        }
        url.push_str("&code_challenge=");
        url.push_str(verifier.challenge().as_str());
        url.push_str("&code_challenge_method=S256&resource=");
        push_query_value(&mut url, self.resource.as_str());
        if let Some(prompt) = self.prompt {
            url.push_str("&prompt=");
            url.push_str(prompt.as_str());
        }
        (
            AuthorizeResponse::new(url),
            PendingLogin {
                issuer: settings.issuer.clone(),
                client_id,
                redirect_uri: self.redirect_uri,
                scope: self.scopes,
                resource: self.resource,
                state,
                nonce,
                code_verifier: verifier,
                created_at: settings.clock.now_secs(),
                require_iss: settings.sends_iss,
                clock: settings.clock.clone(),
            },
        )
    }
}

/// What an MCP client keeps between sending the user to log in and the callback: the secrets of
/// the login and what the token request must repeat. Serializable with the standard names, to keep
/// server-side; its `Debug` hides the secrets.
#[derive(Debug, Clone, Serialize)]
pub struct PendingLogin {
    issuer: Issuer,
    client_id: ClientId,
    redirect_uri: RedirectUri,
    #[serde(default, skip_serializing_if = "ScopeList::is_empty")]
    scope: ScopeList,
    resource: Resource,
    state: State,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nonce: Option<Nonce>,
    code_verifier: PkceVerifier,
    created_at: u64,
    /// The server promised `iss` in its authorization responses, so a callback without one is
    /// refused.
    #[serde(default)]
    require_iss: bool,
    /// The clock of the client that made the login; not stored.
    #[serde(skip)]
    clock: ClockHandle,
}

/// `PendingLogin`'s members as read back, by serde's derive into `PendingLogin` itself, from a
/// JSON object only (not an array of the members in order); see `json_object`.
#[derive(Deserialize)]
#[serde(remote = "PendingLogin")]
struct StoredLogin {
    issuer: Issuer,
    client_id: ClientId,
    redirect_uri: RedirectUri,
    #[serde(default)]
    scope: ScopeList,
    resource: Resource,
    state: State,
    #[serde(default)]
    nonce: Option<Nonce>,
    code_verifier: PkceVerifier,
    created_at: u64,
    #[serde(default)]
    require_iss: bool,
    #[serde(skip)]
    clock: ClockHandle,
}

impl<'de> Deserialize<'de> for PendingLogin {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        StoredLogin::deserialize(crate::oauth::json_object::ObjectOnly(deserializer))
    }
}

impl PendingLogin {
    /// Starts the check of this login's callback: its age (15 minutes by default), `iss` (RFC 9207:
    /// it must equal the issuer when present, and be present when the server advertises
    /// `authorization_response_iss_parameter_supported`), then `state`, an error answer, and the
    /// code. The issuer is checked before any code is taken, so a code meant for another server is
    /// never redeemed here. By the clock of the client that made the login (the system clock for a
    /// login read back from storage).
    pub fn callback(&self) -> CallbackCheck<'_> {
        let check = CallbackCheck::new(self.issuer.as_str(), Some(&self.state), self.created_at)
            .with_clock(&self.clock);
        if self.require_iss {
            check.require_issuer()
        } else {
            check
        }
    }

    /// The authorization server the login went to.
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// The `client_id` the login was for.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The `redirect_uri` sent.
    pub fn redirect_uri(&self) -> &RedirectUri {
        &self.redirect_uri
    }

    /// The scopes requested.
    pub fn scopes(&self) -> &ScopeList {
        &self.scope
    }

    /// The resource requested.
    pub fn resource(&self) -> &Resource {
        &self.resource
    }

    /// The `state` sent.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The `nonce` sent, with the `openid` scope only.
    pub fn nonce(&self) -> Option<&Nonce> {
        self.nonce.as_ref()
    }

    /// The PKCE verifier.
    pub fn code_verifier(&self) -> &PkceVerifier {
        &self.code_verifier
    }

    /// When the login started, in seconds since the Unix epoch.
    pub fn created_at(&self) -> u64 {
        self.created_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::credential::ClientSecret;
    use crate::oauth::endpoint::EndpointError;

    fn metadata(extra: &str) -> AuthorizationServerMetadata {
        let body = format!(
            r#"{{"issuer":"http://127.0.0.1:9000/tenant","authorization_endpoint":"http://127.0.0.1:9000/tenant/authorize?x=1",
            "token_endpoint":"http://127.0.0.1:9000/tenant/token","code_challenge_methods_supported":["S256"]{extra}}}"#
        );
        AuthorizationServerMetadata::parse(
            body.as_bytes(),
            &"http://127.0.0.1:9000/tenant".parse().unwrap(),
        )
        .unwrap()
    }

    fn credentials(method: TokenEndpointAuth) -> ClientCredentials {
        let secret = method
            .needs_secret()
            .then(|| ClientSecret::new("s:cret").unwrap());
        ClientCredentials::pre_registered(
            "http://127.0.0.1:9000/tenant".parse().unwrap(),
            "id:1".parse().unwrap(),
            secret,
            method,
        )
        .unwrap()
    }

    fn redirect_uri() -> RedirectUri {
        "http://127.0.0.1:5000/cb".parse().unwrap()
    }

    fn resource() -> Resource {
        "http://127.0.0.1:9001/mcp".parse().unwrap()
    }

    #[test]
    fn credentials_of_another_issuer_are_refused() {
        let other = ClientCredentials::pre_registered(
            "https://other.example".parse().unwrap(),
            "id".parse().unwrap(),
            None,
            TokenEndpointAuth::None,
        )
        .unwrap();
        assert!(matches!(
            AuthorizationClient::new(&metadata(""), other),
            Err(AuthorizationError::IssuerMismatch { .. })
        ));
    }

    #[test]
    fn metadata_changed_after_parsing_is_checked_again() {
        let mut changed = metadata("");
        changed.token_endpoint = Url::parse("http://as.example/token").unwrap();
        assert_eq!(
            AuthorizationClient::new(&changed, credentials(TokenEndpointAuth::ClientSecretPost))
                .unwrap_err(),
            AuthorizationError::Metadata(ServerMetadataError::Endpoint {
                name: "token_endpoint",
                source: EndpointError::Insecure
            })
        );
        let mut changed = metadata("");
        changed.authorization_endpoint =
            Url::parse("http://127.0.0.1:9000/tenant/authorize?redirect_uri=x").unwrap();
        assert!(matches!(
            AuthorizationClient::new(&changed, credentials(TokenEndpointAuth::None)),
            Err(AuthorizationError::Metadata(
                ServerMetadataError::Endpoint {
                    source: EndpointError::Parameter { .. },
                    ..
                }
            ))
        ));
        let mut changed = metadata("");
        changed.code_challenge_methods_supported = vec!["plain".to_owned()];
        assert!(AuthorizationClient::new(&changed, credentials(TokenEndpointAuth::None)).is_err());
    }

    #[test]
    fn the_login_url_sends_each_parameter_once() {
        let client =
            AuthorizationClient::new(&metadata(""), credentials(TokenEndpointAuth::None)).unwrap();
        let (redirect, _) = client
            .login(redirect_uri(), resource())
            .scopes("openid mcp:tools".parse::<ScopeList>().unwrap())
            .prompt(Prompt::Consent)
            .build();
        let url = Url::parse(redirect.as_str()).unwrap();
        assert!(url
            .query_pairs()
            .any(|pair| pair == ("prompt".into(), "consent".into())));
        let names: Vec<String> = url
            .query_pairs()
            .map(|(name, _)| name.into_owned())
            .collect();
        let unique: std::collections::BTreeSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        // Every parameter written is one the endpoint's own query is checked against.
        for name in names.iter().filter(|name| *name != "x") {
            assert!(
                crate::oauth::endpoint::AUTHORIZATION_REQUEST_PARAMETERS.contains(&name.as_str()),
                "{name}"
            );
        }
    }

    #[test]
    fn the_method_must_be_one_the_server_takes() {
        let only_none = metadata(r#","token_endpoint_auth_methods_supported":["none"]"#);
        assert_eq!(
            AuthorizationClient::new(&only_none, credentials(TokenEndpointAuth::ClientSecretPost))
                .unwrap_err(),
            AuthorizationError::MethodNotSupported {
                method: TokenEndpointAuth::ClientSecretPost
            }
        );
        // No list: RFC 8414's default, and `none` for the public clients of older servers.
        assert!(AuthorizationClient::new(
            &metadata(""),
            credentials(TokenEndpointAuth::ClientSecretBasic)
        )
        .is_ok());
        assert!(
            AuthorizationClient::new(&metadata(""), credentials(TokenEndpointAuth::None)).is_ok()
        );
        assert!(AuthorizationClient::new(
            &metadata(""),
            credentials(TokenEndpointAuth::ClientSecretPost)
        )
        .is_err());
    }

    #[test]
    fn the_login_url_keeps_the_endpoint_query_and_sends_pkce_and_resource() {
        let client =
            AuthorizationClient::new(&metadata(""), credentials(TokenEndpointAuth::None)).unwrap();
        let (redirect, pending) = client
            .login(redirect_uri(), resource())
            .scopes("mcp:basic mcp:write".parse::<ScopeList>().unwrap())
            .build();
        let url = Url::parse(redirect.as_str()).unwrap();
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let names: Vec<&str> = pairs.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "x",
                "response_type",
                "client_id",
                "redirect_uri",
                "scope",
                "state",
                "code_challenge",
                "code_challenge_method",
                "resource"
            ]
        );
        assert_eq!(pairs[2].1, "id:1");
        assert_eq!(pairs[4].1, "mcp:basic mcp:write");
        assert_eq!(pairs[5].1, pending.state().secret());
        assert_eq!(pairs[6].1, pending.code_verifier().challenge().as_str());
        assert_eq!(pairs[8].1, "http://127.0.0.1:9001/mcp");
        assert!(pending.nonce().is_none());
        let (redirect, pending) = client
            .login(redirect_uri(), resource())
            .scopes(crate::Scope::OpenId)
            .build();
        assert!(redirect.as_str().contains("&scope=openid&state="));
        assert!(redirect
            .as_str()
            .contains(&format!("&nonce={}", pending.nonce().unwrap().secret())));
    }

    #[test]
    fn the_callback_checks_iss_before_the_code() {
        let client = AuthorizationClient::new(
            &metadata(r#","authorization_response_iss_parameter_supported":true"#),
            credentials(TokenEndpointAuth::None),
        )
        .unwrap();
        let (_, pending) = client
            .login(redirect_uri(), resource())
            .state(State::new("s").unwrap())
            .build();
        assert_eq!(
            pending.callback().check("code=c&state=s").unwrap_err(),
            crate::CallbackError::MissingIssuer
        );
        assert!(matches!(
            pending
                .callback()
                .check("code=c&state=s&iss=https%3A%2F%2Fevil.example"),
            Err(crate::CallbackError::IssuerMismatch { .. })
        ));
        let code = pending
            .callback()
            .check("code=c&state=s&iss=http%3A%2F%2F127.0.0.1%3A9000%2Ftenant")
            .unwrap();
        assert_eq!(code.secret(), "c");
    }

    #[test]
    fn token_requests_authenticate_as_registered() {
        let resource: Resource = "http://127.0.0.1:9001/mcp".parse().unwrap();
        let form = |request: &TokenRequest| -> Vec<(String, String)> {
            request
                .form()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect()
        };
        for method in [
            TokenEndpointAuth::None,
            TokenEndpointAuth::ClientSecretPost,
            TokenEndpointAuth::ClientSecretBasic,
        ] {
            let client = AuthorizationClient::new(
                &metadata(r#","token_endpoint_auth_methods_supported":["none","client_secret_post","client_secret_basic"]"#),
                credentials(method),
            )
            .unwrap();
            let (_, pending) = client.login(redirect_uri(), resource.clone()).build();
            let request = client
                .token_request(&pending, &AuthorizationCode::new("c"))
                .unwrap();
            let fields = form(&request);
            let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(
                &names[..5],
                [
                    "grant_type",
                    "code",
                    "redirect_uri",
                    "code_verifier",
                    "resource"
                ]
            );
            match method {
                TokenEndpointAuth::None => {
                    assert_eq!(&names[5..], ["client_id"]);
                    assert!(request.authorization().is_none());
                }
                TokenEndpointAuth::ClientSecretPost => {
                    assert_eq!(&names[5..], ["client_id", "client_secret"]);
                    assert!(request.authorization().is_none());
                }
                TokenEndpointAuth::ClientSecretBasic => {
                    assert_eq!(names.len(), 5);
                    assert_eq!(request.authorization(), Some("Basic aWQlM0ExOnMlM0FjcmV0"));
                    assert!(!format!("{request:?}").contains("aWQ"));
                }
                TokenEndpointAuth::PrivateKeyJwt => unreachable!("tested on its own"),
            }
            let refresh =
                client.refresh_request(&RefreshToken::new("rt").unwrap(), Some(&resource));
            assert!(form(&refresh).contains(&("resource".to_owned(), resource.as_str().to_owned())));
            let machine =
                client.client_credentials_request(&"mcp:tools".parse().unwrap(), Some(&resource));
            if method.is_confidential() {
                let machine = machine.unwrap();
                assert_eq!(
                    form(&machine)[0],
                    ("grant_type".to_owned(), "client_credentials".to_owned())
                );
                assert!(form(&machine).contains(&("scope".to_owned(), "mcp:tools".to_owned())));
            } else {
                assert_eq!(machine.unwrap_err(), AuthorizationError::PublicClient);
            }
        }
    }

    #[cfg(feature = "private-key-jwt")]
    #[test]
    fn private_key_jwt_authenticates_every_grant() {
        use crate::registration::signing_key::{ClientSigningKey, SigningAlgorithm};
        let key = ClientSigningKey::from_pem(
            SigningAlgorithm::Es256,
            include_bytes!("../../tests/data/client-es256.pem"),
        )
        .unwrap();
        let issuer: Issuer = "http://127.0.0.1:9000/tenant".parse().unwrap();
        let credentials = ClientCredentials::private_key_jwt(issuer, "svc".parse().unwrap(), key);
        let resource: Resource = "http://127.0.0.1:9001/mcp".parse().unwrap();
        // Refused where the server does not list it, and when it lists nothing (RFC 8414's
        // default is client_secret_basic).
        assert_eq!(
            AuthorizationClient::new(&metadata(""), credentials.clone()).unwrap_err(),
            AuthorizationError::MethodNotSupported {
                method: TokenEndpointAuth::PrivateKeyJwt
            }
        );
        let client = AuthorizationClient::new(
            &metadata(r#","token_endpoint_auth_methods_supported":["private_key_jwt"]"#),
            credentials,
        )
        .unwrap();
        let assertion_of = |request: &TokenRequest| {
            let fields: Vec<(&str, &str)> = request.form().collect();
            assert_eq!(
                fields
                    .iter()
                    .rev()
                    .take(3)
                    .map(|(name, _)| *name)
                    .collect::<Vec<_>>(),
                ["client_assertion", "client_assertion_type", "client_id"]
            );
            fields.last().unwrap().1.to_owned()
        };
        let (_, pending) = client.login(redirect_uri(), resource.clone()).build();
        let code = client
            .token_request(&pending, &AuthorizationCode::new("c"))
            .unwrap();
        let machine = client
            .client_credentials_request(&ScopeList::new(), Some(&resource))
            .unwrap();
        let bearer = client
            .jwt_bearer_request(
                &SecurityToken::new("eyJ.grant.sig").unwrap(),
                &ScopeList::new(),
                Some(&resource),
            )
            .unwrap();
        let refresh = client.refresh_request(&RefreshToken::new("rt").unwrap(), None);
        let assertions = [&code, &machine, &bearer, &refresh].map(assertion_of);
        // Each request its own assertion (its own jti).
        for (i, a) in assertions.iter().enumerate() {
            assert!(assertions.iter().skip(i + 1).all(|b| a != b));
        }
        assert_eq!(
            bearer.form().take(2).collect::<Vec<_>>(),
            [
                ("grant_type", JWT_BEARER_GRANT_TYPE),
                ("assertion", "eyJ.grant.sig")
            ]
        );
    }

    #[test]
    fn every_login_names_its_resource() {
        // The MCP specification requires `resource` in the authorization and token requests: a
        // token requested without it would be good for any resource the server serves.
        let client =
            AuthorizationClient::new(&metadata(""), credentials(TokenEndpointAuth::None)).unwrap();
        let (redirect, pending) = client.login(redirect_uri(), resource()).build();
        assert!(redirect
            .as_str()
            .ends_with("&resource=http%3A%2F%2F127.0.0.1%3A9001%2Fmcp"));
        assert_eq!(pending.resource(), &resource());
        let request = client
            .token_request(&pending, &AuthorizationCode::new("c"))
            .unwrap();
        assert!(request
            .form()
            .any(|(name, value)| name == "resource" && value == "http://127.0.0.1:9001/mcp"));
        // A stored login without its resource is not read back as one without.
        let mut stored = serde_json::to_value(&pending).unwrap();
        stored.as_object_mut().unwrap().remove("resource");
        assert!(serde_json::from_value::<PendingLogin>(stored).is_err());
    }

    #[test]
    fn a_pending_login_of_another_client_is_refused() {
        let client =
            AuthorizationClient::new(&metadata(""), credentials(TokenEndpointAuth::None)).unwrap();
        let (_, pending) = client.login(redirect_uri(), resource()).build();
        let json = serde_json::to_string(&pending).unwrap();
        let back: PendingLogin = serde_json::from_str(&json).unwrap();
        assert!(client
            .token_request(&back, &AuthorizationCode::new("c"))
            .is_ok());
        let altered: PendingLogin =
            serde_json::from_str(&json.replace("\"id:1\"", "\"id:2\"")).unwrap();
        assert_eq!(
            client
                .token_request(&altered, &AuthorizationCode::new("c"))
                .unwrap_err(),
            AuthorizationError::ClientMismatch { field: "client_id" }
        );
        assert!(!format!("{pending:?}").contains(pending.code_verifier().secret()));
    }
}

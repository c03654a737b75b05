//! The whole MCP login as a state machine: from a protected MCP server's `401` to an access token,
//! saying at each step what to send next.

use std::collections::VecDeque;
use std::fmt;

use url::Url;

use crate::discovery::resource_metadata::{
    ProtectedResourceMetadata, ResourceMetadataError, ResourceMetadataLocation,
};
use crate::discovery::server_metadata::{AuthorizationServerMetadata, ServerMetadataError};
use crate::mcp::assertion_audience::{audience, Audience};
use crate::mcp::authorization::{
    accepts_method, AuthorizationClient, AuthorizationError, PendingLogin,
};
use crate::mcp::enterprise::EnterpriseIdp;
use crate::mcp::grant::McpAuthorization;
use crate::mcp::scope_choice::{add_offline_access, select_scopes, StepUp, StepUpError};
#[cfg(feature = "dpop")]
use crate::oauth::challenge::BearerError;
use crate::oauth::challenge::{BearerChallenge, ChallengeError};
use crate::oauth::client_id::ClientId;
use crate::oauth::clock::{Clock, ClockHandle};
use crate::oauth::http_request::HttpRequest;
use crate::oauth::identifier::{IdentifierError, Issuer, Resource};
use crate::oauth::redirect_uri::RedirectUri;
use crate::oauth::scope_list::ScopeList;
use crate::oauth::security_token::SecurityToken;
use crate::oauth::token::{TokenError, TokenResponse};
use crate::oauth::token_type::TokenType;
use crate::registration::credentials::{ClientCredentials, CredentialsError};
use crate::registration::dynamic::{RegistrationError, RegistrationRequest, RegistrationResponse};
use crate::token_exchange::{TokenExchangeError, TokenExchangeResponse};
use crate::CallbackError;
#[cfg(feature = "dpop")]
use crate::{
    dpop::{DpopChallenge, DpopErrorCode, DpopKey, DPOP_ALGORITHM},
    mcp::dpop_binding::DpopBinding,
};

/// How this client logs in to MCP servers: its name and redirect URI, and the registrations it may
/// use, tried in the MCP specification's order (pre-registered, Client ID Metadata Document, then
/// Dynamic Client Registration).
#[derive(Debug, Clone)]
pub struct McpClientSettings {
    client_name: String,
    redirect_uri: RedirectUri,
    registrations: Vec<ClientCredentials>,
    metadata_document: Option<ClientId>,
    refresh_tokens: bool,
    grant: Grant,
    #[cfg(feature = "dpop")]
    dpop: DpopUse,
    /// The clock chosen for the logins, when one was: without, each registration's own.
    clock: Option<ClockHandle>,
}

/// When the login binds its tokens to a DPoP key (RFC 9449).
#[cfg(feature = "dpop")]
#[derive(Debug, Clone)]
enum DpopUse {
    /// A fresh key per login, where the authorization server takes ES256 proofs.
    WhenAdvertised,
    /// This key, with every authorization server.
    Always(Box<DpopKey>),
    /// Never: bearer tokens only.
    Never,
}

/// How the login gets its token once the client has a registration.
#[derive(Debug, Clone)]
enum Grant {
    /// The user in a browser, with PKCE.
    AuthorizationCode,
    /// The client itself (RFC 6749 section 4.4).
    ClientCredentials,
    /// A JWT the caller holds (RFC 7523 section 2.1), for the authorization server `issuer` alone,
    /// whose `aud` may name it as any of `audiences` too.
    JwtBearer {
        issuer: Issuer,
        assertion: SecurityToken,
        audiences: Vec<String>,
    },
    /// An ID-JAG from the enterprise IdP for the authorization server `issuer` alone, then the JWT
    /// bearer grant there (SEP-990).
    EnterpriseManaged {
        issuer: Issuer,
        idp: Box<EnterpriseIdp>,
    },
}

impl McpClientSettings {
    /// A client shown to users as `client_name`, whose browser comes back to `redirect_uri` (a
    /// loopback URI for a native app, RFC 8252).
    pub fn new(client_name: impl Into<String>, redirect_uri: RedirectUri) -> Self {
        McpClientSettings {
            client_name: client_name.into(),
            redirect_uri,
            registrations: Vec::new(),
            metadata_document: None,
            refresh_tokens: true,
            grant: Grant::AuthorizationCode,
            #[cfg(feature = "dpop")]
            dpop: DpopUse::WhenAdvertised,
            clock: None,
        }
    }

    /// Logins that read the time from `clock` rather than the system clock (a
    /// [`FixedClock`](crate::oauth::FixedClock) in tests): the age of their callbacks, their DPoP
    /// proofs, their client assertions (the enterprise IdP's too), and the expiry of the tokens
    /// they get. The [`McpAuthorization`] a login gives reads it too, until it is stored and read
    /// back. Without this, a login reads the clock of the registration it uses
    /// ([`ClientCredentials::clock`]), by default the system clock.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Some(ClockHandle::new(clock));
        self
    }

    /// The time by the clock given with [`clock`](Self::clock), else the system clock: what a
    /// driver of these logins reads (to refresh the token in time, say).
    pub fn now(&self) -> std::time::SystemTime {
        self.clock.clone().unwrap_or_default().now()
    }

    /// Binds the tokens to this DPoP key (RFC 9449) with any authorization server, advertised or
    /// not: every token request carries a proof signed with it. Without this, a login generates a
    /// key of its own where the authorization server's metadata lists `ES256` in
    /// `dpop_signing_alg_values_supported` and the MCP server takes DPoP-bound tokens (it
    /// challenges with `DPoP`, or its metadata lists ES256 or requires bound tokens), and gets
    /// bearer tokens elsewhere. Either way, a server that answers a proof with a `Bearer` token
    /// fails the login ([`TokenError::DpopDowngraded`](crate::TokenError::DpopDowngraded)).
    #[cfg(feature = "dpop")]
    pub fn dpop_key(mut self, key: DpopKey) -> Self {
        self.dpop = DpopUse::Always(Box::new(key));
        self
    }

    /// Sends no DPoP proofs, even to a server that advertises DPoP: the tokens are bearer tokens.
    #[cfg(feature = "dpop")]
    pub fn without_dpop(mut self) -> Self {
        self.dpop = DpopUse::Never;
        self
    }

    /// A registration made beforehand, or stored from an earlier login: used only with the
    /// authorization server it is bound to ([`ClientCredentials::issuer`]), whatever server an MCP
    /// server names.
    pub fn registration(mut self, credentials: ClientCredentials) -> Self {
        self.registrations.push(credentials);
        self
    }

    /// The https URL of this client's Client ID Metadata Document, used with authorization servers
    /// that advertise `client_id_metadata_document_supported`.
    pub fn metadata_document(mut self, client_id: ClientId) -> Self {
        self.metadata_document = Some(client_id);
        self
    }

    /// Logs in as the client itself, with no user and no browser: the `client_credentials` grant
    /// (RFC 6749 section 4.4) with the `resource`, for a confidential client (machine to machine).
    /// Its registration must hold a secret or a private key (`private_key_jwt`), so give it with
    /// [`registration`](Self::registration).
    pub fn client_credentials(mut self) -> Self {
        self.grant = Grant::ClientCredentials;
        self
    }

    /// Logs in with a JWT the caller holds, with no browser: the JWT bearer grant (RFC 7523
    /// section 2.1) with the `resource` and the scopes chosen, and the client's authentication as
    /// registered. For workload identity federation: the workload's own token from its platform
    /// (a Kubernetes service account token, a cloud's identity token), whose issuer the
    /// authorization server trusts and whose audience is that server. A refused assertion ends
    /// the login: no other grant is tried.
    ///
    /// The assertion goes to the authorization server `issuer` alone: an MCP server naming
    /// another ends the login before anything is sent there ([`McpLoginError::UnboundServer`]),
    /// since that server could replay the assertion at `issuer` (RFC 9700 section 4.4). Where
    /// the assertion is a JWT whose `aud` can be read, it must name `issuer` or its token
    /// endpoint, or a name given with [`assertion_audience`](Self::assertion_audience)
    /// ([`McpLoginError::AssertionAudience`]), before the client registers there.
    ///
    /// ```
    /// use workos_connect::mcp::McpClientSettings;
    /// use workos_connect::oauth::SecurityToken;
    ///
    /// let settings = McpClientSettings::new("Build agent", "http://127.0.0.1:8976/callback".parse()?)
    ///     .jwt_bearer("https://auth.example.com".parse()?, SecurityToken::new("eyJ.workload.sig")?)
    ///     // The platform names the server so in its tokens' `aud`.
    ///     .assertion_audience("auth.example.com");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn jwt_bearer(mut self, issuer: Issuer, assertion: SecurityToken) -> Self {
        self.grant = Grant::JwtBearer {
            issuer,
            assertion,
            audiences: Vec::new(),
        };
        self
    }

    /// Another value of the [`jwt_bearer`](Self::jwt_bearer) assertion's `aud` that names its
    /// authorization server, for a platform that names it otherwise than by its issuer or token
    /// endpoint (RFC 7523 section 3 leaves to the server which values identify it). Call it after
    /// `jwt_bearer`; it has no effect on other grants.
    pub fn assertion_audience(mut self, audience: impl Into<String>) -> Self {
        if let Grant::JwtBearer { audiences, .. } = &mut self.grant {
            audiences.push(audience.into());
        }
        self
    }

    /// Logs in with enterprise-managed authorization (SEP-990), with no browser: the user's ID
    /// token is exchanged at the enterprise IdP (RFC 8693) for an ID-JAG for the MCP server's
    /// resource and the authorization server `issuer`, then redeemed there with the JWT bearer
    /// grant (RFC 7523), authenticated as the registration with that server.
    ///
    /// The IdP is asked for ID-JAGs for `issuer` alone: an MCP server naming another
    /// authorization server ends the login before the IdP is asked
    /// ([`McpLoginError::UnboundServer`]), and an ID-JAG whose `aud` names another server is
    /// never sent ([`McpLoginError::AssertionAudience`]).
    pub fn enterprise_managed(mut self, issuer: Issuer, idp: EnterpriseIdp) -> Self {
        self.grant = Grant::EnterpriseManaged {
            issuer,
            idp: Box::new(idp),
        };
        self
    }

    /// The authorization servers this login's credentials may go to, where the grant binds them:
    /// the one named with a JWT grant, the issuers of the confidential registrations for client
    /// credentials; `None` for a browser login, which registers where it must and sends no
    /// secret it was not given for that server.
    fn bound_issuers(&self) -> Option<Vec<&Issuer>> {
        match &self.grant {
            Grant::AuthorizationCode => None,
            Grant::ClientCredentials => Some(
                self.registrations
                    .iter()
                    .filter(|credentials| credentials.auth_method().is_confidential())
                    .map(ClientCredentials::issuer)
                    .collect(),
            ),
            Grant::JwtBearer { issuer, .. } | Grant::EnterpriseManaged { issuer, .. } => {
                Some(vec![issuer])
            }
        }
    }

    /// Asks for no refresh token: `offline_access` is never added to the scopes.
    pub fn without_refresh_tokens(mut self) -> Self {
        self.refresh_tokens = false;
        self
    }
}

/// What to do next in an [`McpLogin`], from [`McpLogin::step`].
#[derive(Debug)]
#[non_exhaustive]
pub enum McpLoginStep<'a> {
    /// Send this request, without following redirects, and give the answer to
    /// [`McpLogin::answer`] ([`McpLogin::answer_with_dpop_nonce`] with its `DPoP-Nonce` header).
    /// A token request carrying a DPoP proof is signed when the step is handed out: send it at
    /// once.
    Send(&'a HttpRequest),
    /// Send the user's browser to this URL, and give the URL it comes back to (the redirect URI
    /// with `code` and `state`) to [`McpLogin::callback`].
    Authorize(&'a Url),
    /// Logged in: send the MCP request again with this authorization.
    Done(&'a McpAuthorization),
    /// The login stopped: [`answer`](McpLogin::answer) or [`callback`](McpLogin::callback)
    /// returned why. Start a new one.
    Failed,
}

/// Why an MCP login stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum McpLoginError {
    /// The server's `WWW-Authenticate` could not be read.
    #[error("the server's challenge: {0}")]
    Challenge(#[from] ChallengeError),
    /// The protected resource metadata was refused.
    #[error("protected resource metadata: {0}")]
    ResourceMetadata(#[from] ResourceMetadataError),
    /// The authorization server's metadata was refused.
    #[error("authorization server metadata: {0}")]
    ServerMetadata(#[from] ServerMetadataError),
    /// None of the authorization server's well-known URLs served its metadata.
    #[error("no authorization server metadata was found for {issuer}")]
    NoServerMetadata {
        /// The authorization server.
        issuer: Issuer,
    },
    /// An identifier could not be made from the server's URL.
    #[error("{0}")]
    Identifier(#[from] IdentifierError),
    /// Registration failed, or no way to register is left.
    #[error("registration: {0}")]
    Registration(#[from] RegistrationError),
    /// The credentials could not be used.
    #[error("client credentials: {0}")]
    Credentials(#[from] CredentialsError),
    /// The login could not be built for this server.
    #[error("{0}")]
    Authorization(#[from] AuthorizationError),
    /// The browser came back with an error or a callback that is not this login's.
    #[error("callback: {0}")]
    Callback(#[from] CallbackError),
    /// The token endpoint refused.
    #[error("token endpoint: {0}")]
    Token(#[from] TokenError),
    /// The token exchange could not be made.
    #[error("token exchange: {0}")]
    TokenExchange(#[from] TokenExchangeError),
    /// The MCP server names an authorization server that the login's credentials are not for: a
    /// JWT bearer assertion or an enterprise login bound to another issuer, or client credentials
    /// without a confidential registration there. Nothing was sent to it.
    #[error(
        "the MCP server names the authorization server {named}, and this login's credentials are \
         bound to {}: nothing was sent to {named}. An MCP server that names an unexpected \
         authorization server may be trying to obtain them",
        issuer_list(bound)
    )]
    UnboundServer {
        /// The authorization server the MCP server names (the first, if it names several).
        named: Issuer,
        /// The authorization servers the credentials are bound to.
        bound: Box<[Issuer]>,
    },
    /// The JWT to be sent as the grant (a workload's token, an ID-JAG) has an `aud` that names
    /// neither the authorization server's issuer nor its token endpoint: it was issued for
    /// another server, and is not sent.
    #[error(
        "the assertion's audience (aud) names neither {server} nor its token endpoint: it was \
         issued for another authorization server, and is not sent"
    )]
    AssertionAudience {
        /// The authorization server the login was about to send it to.
        server: Issuer,
    },
    /// The enterprise IdP issued another kind of token than the ID-JAG asked for.
    #[error(
        "the identity provider issued a token of type {issued}, not an ID-JAG \
         (urn:ietf:params:oauth:token-type:id-jag); it does not support enterprise-managed \
         authorization for this client"
    )]
    NotIdJag {
        /// The `issued_token_type`.
        issued: TokenType,
    },
    /// The server asks for more scopes again than the step-up allows.
    #[error("step-up: {0}")]
    StepUp(#[from] StepUpError),
    /// A DPoP proof could not be signed for the token request.
    #[cfg(feature = "dpop")]
    #[error("DPoP proof: {0}")]
    Dpop(#[from] crate::dpop::DpopBuildError),
    /// `answer` or `callback` was called when the login was not waiting for it.
    #[error("the login was not waiting for {0}; follow McpLogin::step")]
    OutOfOrder(&'static str),
}

enum Stage {
    ResourceMetadata(VecDeque<ResourceMetadataLocation>),
    ServerMetadata(Issuer, VecDeque<Url>),
    LegacyMetadata(Issuer),
    Register(RegistrationRequest),
    Browser(Url, PendingLogin),
    /// The ID-JAG's exchange at the enterprise IdP.
    IdJag,
    Token,
    Done(McpAuthorization),
    Failed,
}

/// The whole MCP client login, sans-IO: discovery with its fallbacks, registration, the browser
/// step with PKCE and a resource indicator, and the token. Made from the server's `401` (or `403
/// insufficient_scope`), it hands out one step at a time:
///
/// ```no_run
/// use workos_connect::mcp::{McpClientSettings, McpLogin, McpLoginStep};
///
/// # fn send(_: &workos_connect::oauth::HttpRequest) -> (u16, Vec<u8>) { unimplemented!() }
/// # fn browse(_: &url::Url) -> url::Url { unimplemented!() }
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let settings = McpClientSettings::new("My agent", "http://127.0.0.1:33418/callback".parse()?);
/// let server: url::Url = "https://mcp.example.com/mcp".parse()?;
/// let www_authenticate = r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#;
/// let mut login = McpLogin::unauthorized(&settings, &server, &[www_authenticate])?;
/// let authorization = loop {
///     match login.step() {
///         McpLoginStep::Send(request) => {
///             let (status, body) = send(request);
///             login.answer(status, &body)?;
///         }
///         McpLoginStep::Authorize(url) => {
///             let callback = browse(url);
///             login.callback(&callback)?;
///         }
///         McpLoginStep::Done(authorization) => break authorization.clone(),
///         _ => return Err("the login stopped".into()),
///     }
/// };
/// println!("Bearer {}", authorization.access_token().secret());
/// # Ok(()) }
/// ```
pub struct McpLogin {
    settings: McpClientSettings,
    server_url: Url,
    challenge: BearerChallenge,
    step_up: Option<StepUp>,
    resource_metadata: Option<ProtectedResourceMetadata>,
    resource: Option<Resource>,
    server: Option<AuthorizationServerMetadata>,
    client: Option<AuthorizationClient>,
    scopes: ScopeList,
    request: Option<HttpRequest>,
    stage: Stage,
    /// The token request without its DPoP proof, to sign again for the nonce retry.
    #[cfg(feature = "dpop")]
    unsigned_token_request: Option<HttpRequest>,
    #[cfg(feature = "dpop")]
    dpop: Option<DpopBinding>,
    /// Whether the token request was sent again for the server's nonce: only once.
    #[cfg(feature = "dpop")]
    nonce_retried: bool,
    /// Whether the MCP server said it takes DPoP-bound tokens: a `DPoP` challenge in its answer.
    #[cfg(feature = "dpop")]
    dpop_challenged: bool,
}

impl McpLogin {
    /// The login after `server_url` answered `401` with these `WWW-Authenticate` values.
    pub fn unauthorized(
        settings: &McpClientSettings,
        server_url: &Url,
        www_authenticate: &[&str],
    ) -> Result<McpLogin, McpLoginError> {
        let challenge = read_challenge(www_authenticate)?;
        let mut login = McpLogin::start(settings, server_url, challenge, None)?;
        login.note_dpop_challenge(www_authenticate);
        Ok(login)
    }

    /// The login after `server_url` answered `403 insufficient_scope` to a request made with
    /// `previous`: it asks for the scopes asked before together with the challenge's (SEP-2350), at
    /// most [`DEFAULT_MAX_LOGINS`](crate::mcp::DEFAULT_MAX_LOGINS) times for one request; pass the
    /// `StepUp` returned by [`step_up`](Self::step_up) of the last login to keep count.
    pub fn insufficient_scope(
        settings: &McpClientSettings,
        server_url: &Url,
        www_authenticate: &[&str],
        previous: &McpAuthorization,
        step_up: Option<StepUp>,
    ) -> Result<McpLogin, McpLoginError> {
        let challenge = read_challenge(www_authenticate)?;
        let mut step_up = step_up.unwrap_or_else(|| StepUp::new(previous.scopes().clone()));
        let scopes = step_up.next_scopes(&challenge)?;
        let settings = settings
            .clone()
            .registration(previous.credentials().clone());
        let mut login = McpLogin::start(&settings, server_url, challenge, Some(step_up))?;
        login.scopes = scopes;
        login.note_dpop_challenge(www_authenticate);
        Ok(login)
    }

    fn start(
        settings: &McpClientSettings,
        server_url: &Url,
        challenge: BearerChallenge,
        step_up: Option<StepUp>,
    ) -> Result<McpLogin, McpLoginError> {
        let locations =
            ProtectedResourceMetadata::locations(server_url, challenge.resource_metadata.as_ref())?;
        let mut login = McpLogin {
            settings: settings.clone(),
            server_url: server_url.clone(),
            challenge,
            step_up,
            resource_metadata: None,
            resource: None,
            server: None,
            client: None,
            scopes: ScopeList::new(),
            request: None,
            stage: Stage::Failed,
            #[cfg(feature = "dpop")]
            unsigned_token_request: None,
            #[cfg(feature = "dpop")]
            dpop: None,
            #[cfg(feature = "dpop")]
            nonce_retried: false,
            #[cfg(feature = "dpop")]
            dpop_challenged: false,
        };
        login.stage = Stage::ResourceMetadata(locations.into());
        login.prepare();
        Ok(login)
    }

    #[cfg(feature = "dpop")]
    fn note_dpop_challenge(&mut self, www_authenticate: &[&str]) {
        self.dpop_challenged = !www_authenticate.is_empty()
            && DpopChallenge::parse(&www_authenticate.join(", ")).is_ok();
    }

    #[cfg(not(feature = "dpop"))]
    fn note_dpop_challenge(&mut self, _www_authenticate: &[&str]) {}

    /// Whether the MCP server takes DPoP-bound tokens: it challenged with `DPoP`, or its metadata
    /// lists ES256 proofs or requires bound tokens (RFC 9728 §2). A server that says nothing of DPoP
    /// gets bearer tokens, even from an authorization server that could bind them, since it would
    /// refuse a bound token sent without its proof.
    #[cfg(feature = "dpop")]
    fn resource_takes_dpop(&self) -> bool {
        let metadata = self.resource_metadata.as_ref();
        self.dpop_challenged
            || metadata.is_some_and(|metadata| {
                metadata.dpop_bound_access_tokens_required == Some(true)
                    || metadata
                        .dpop_signing_alg_values_supported
                        .as_ref()
                        .is_some_and(|algs| algs.iter().any(|alg| alg == DPOP_ALGORITHM))
            })
    }

    /// What to do next.
    pub fn step(&self) -> McpLoginStep<'_> {
        match (&self.stage, &self.request) {
            (Stage::Browser(url, _), _) => McpLoginStep::Authorize(url),
            (Stage::Done(authorization), _) => McpLoginStep::Done(authorization),
            (_, Some(request)) => McpLoginStep::Send(request),
            (_, None) => McpLoginStep::Failed,
        }
    }

    /// The step-up count, for the next [`insufficient_scope`](Self::insufficient_scope) login of
    /// the same request.
    pub fn step_up(&self) -> Option<StepUp> {
        self.step_up.clone()
    }

    /// The answer to the request of the last [`McpLoginStep::Send`]: its status and body. A
    /// login that sends DPoP proofs needs the token endpoint's `DPoP-Nonce` header too: give its
    /// answers to [`answer_with_dpop_nonce`](Self::answer_with_dpop_nonce).
    pub fn answer(&mut self, status: u16, body: &[u8]) -> Result<(), McpLoginError> {
        self.answer_with_dpop_nonce(status, [], body)
    }

    /// The answer to the request of the last [`McpLoginStep::Send`], as
    /// [`answer`](Self::answer) takes it, with the values of its `DPoP-Nonce` header (none, most
    /// often). When the token endpoint refuses a DPoP proof for want of its nonce (`400
    /// use_dpop_nonce`, RFC 9449 §8), the login keeps the nonce and hands out the token request
    /// again, once, with a new proof; the nonce signs the refreshes' proofs too.
    pub fn answer_with_dpop_nonce<'a>(
        &mut self,
        status: u16,
        dpop_nonce: impl IntoIterator<Item = &'a [u8]> + Clone,
        body: &[u8],
    ) -> Result<(), McpLoginError> {
        let stage = std::mem::replace(&mut self.stage, Stage::Failed);
        self.request = None;
        let next = self.advance(stage, status, dpop_nonce, body);
        self.stage = next?;
        self.prepare();
        Ok(())
    }

    /// The URL the browser came back to after [`McpLoginStep::Authorize`].
    pub fn callback(&mut self, callback: &Url) -> Result<(), McpLoginError> {
        let Stage::Browser(_, pending) = &self.stage else {
            return Err(McpLoginError::OutOfOrder("a callback"));
        };
        let client = self
            .client
            .as_ref()
            .ok_or(McpLoginError::OutOfOrder("a callback"))?;
        let mut check = pending.callback();
        if self
            .server
            .as_ref()
            .is_some_and(|server| server.authorization_response_iss_parameter_supported)
        {
            check = check.require_issuer();
        }
        let code = check.check_url(callback)?;
        let token = client.token_request(pending, &code)?;
        self.token_request(HttpRequest::from(&token))?;
        self.stage = Stage::Token;
        Ok(())
    }

    /// Stages `request` to the token endpoint, with a DPoP proof signed now when the login
    /// sends them.
    fn token_request(&mut self, request: HttpRequest) -> Result<(), McpLoginError> {
        #[cfg(feature = "dpop")]
        if let Some(binding) = &self.dpop {
            let signed = binding.sign_token_request(&request, &self.clock())?;
            self.request = Some(signed);
            self.unsigned_token_request = Some(request);
            return Ok(());
        }
        self.request = Some(request);
        Ok(())
    }

    fn advance<'a>(
        &mut self,
        stage: Stage,
        status: u16,
        dpop_nonce: impl IntoIterator<Item = &'a [u8]> + Clone,
        body: &[u8],
    ) -> Result<Stage, McpLoginError> {
        match stage {
            Stage::ResourceMetadata(mut locations) => {
                let Some(location) = locations.pop_front() else {
                    return Err(McpLoginError::OutOfOrder("an answer"));
                };
                if status == 200 {
                    // A document for another resource stops the login: it is not this server's.
                    let metadata = ProtectedResourceMetadata::parse(body, &location.resource)?;
                    let issuer = self.choose_server(&metadata.authorization_servers)?;
                    self.resource = Some(metadata.resource.clone());
                    self.resource_metadata = Some(metadata);
                    let urls = AuthorizationServerMetadata::well_known_urls(issuer.url());
                    return Ok(Stage::ServerMetadata(issuer, urls.into()));
                }
                if locations.is_empty() {
                    // A server of the 2025-03-26 specification: the authorization server is its
                    // origin, and the resource its URL.
                    self.resource = Some(Resource::from_server_url(&self.server_url)?);
                    let base = AuthorizationServerMetadata::legacy_base(&self.server_url)?;
                    return Ok(Stage::LegacyMetadata(base));
                }
                Ok(Stage::ResourceMetadata(locations))
            }
            Stage::ServerMetadata(issuer, mut urls) => {
                urls.pop_front();
                if status == 200 {
                    let server = AuthorizationServerMetadata::parse(body, &issuer)?;
                    return self.register(server);
                }
                if urls.is_empty() {
                    return Err(McpLoginError::NoServerMetadata { issuer });
                }
                Ok(Stage::ServerMetadata(issuer, urls))
            }
            Stage::LegacyMetadata(base) => {
                let server = if status == 200 {
                    AuthorizationServerMetadata::parse_legacy(body, &base)?
                } else {
                    AuthorizationServerMetadata::legacy_defaults(&base)
                };
                self.register(server)
            }
            Stage::Register(request) => {
                let server = self
                    .server
                    .as_ref()
                    .ok_or(McpLoginError::OutOfOrder("an answer"))?;
                let credentials = RegistrationResponse::parse(
                    status,
                    body,
                    &server.issuer,
                    request.auth_method(),
                )?;
                self.authorize(credentials)
            }
            Stage::IdJag => {
                let exchanged = TokenExchangeResponse::parse(status, body, Some(&TokenType::IdJag))
                    .map_err(|error| match error {
                        TokenError::WrongIssuedTokenType { issued, .. } => {
                            McpLoginError::NotIdJag { issued }
                        }
                        other => McpLoginError::Token(other),
                    })?;
                let client = self
                    .client
                    .as_ref()
                    .ok_or(McpLoginError::OutOfOrder("an answer"))?;
                let server = self
                    .server
                    .as_ref()
                    .ok_or(McpLoginError::OutOfOrder("an answer"))?;
                // The ID-JAG names the server by its issuer (its `aud`), or by nothing readable.
                check_audience(&exchanged.access_token, server, &[])?;
                // The scopes and resource are in the ID-JAG; RFC 7523 lets them be repeated, and
                // a server that reads the request rather than the grant finds them there.
                let request = client.jwt_bearer_request(
                    &exchanged.access_token,
                    &self.scopes,
                    self.resource.as_ref(),
                )?;
                self.token_request(HttpRequest::from(&request))?;
                Ok(Stage::Token)
            }
            Stage::Token => {
                let tokens = self.read_tokens(status, dpop_nonce, body)?;
                match tokens {
                    Some(tokens) => Ok(Stage::Done(self.finish(tokens)?)),
                    None => Ok(Stage::Token),
                }
            }
            Stage::Browser(..) | Stage::Done(_) | Stage::Failed => {
                Err(McpLoginError::OutOfOrder("an answer"))
            }
        }
    }

    /// Reads the token endpoint's answer: the tokens, or `None` when the request was staged again
    /// for the server's DPoP nonce.
    fn read_tokens<'a>(
        &mut self,
        status: u16,
        dpop_nonce: impl IntoIterator<Item = &'a [u8]> + Clone,
        body: &[u8],
    ) -> Result<Option<TokenResponse>, McpLoginError> {
        #[cfg(feature = "dpop")]
        if let Some(binding) = self.dpop.as_mut() {
            if binding.token_endpoint_answered(status, body, dpop_nonce) {
                // A server that refuses its own fresh nonce would be asked forever.
                let unsigned = self
                    .unsigned_token_request
                    .clone()
                    .filter(|_| !self.nonce_retried)
                    .ok_or(TokenError::UseDpopNonce)?;
                self.nonce_retried = true;
                self.token_request(unsigned)?;
                return Ok(None);
            }
            return Ok(Some(TokenResponse::parse_dpop(status, body)?));
        }
        let _ = dpop_nonce;
        Ok(Some(TokenResponse::parse(status, body)?))
    }

    /// The authorization server to log in with, among those the MCP server names (RFC 9728
    /// section 2): the first, or where the grant binds the credentials, the first they are for.
    fn choose_server(&self, named: &[Issuer]) -> Result<Issuer, McpLoginError> {
        let first = named
            .first()
            .ok_or(ResourceMetadataError::NoAuthorizationServer)?;
        let Some(bound) = self.settings.bound_issuers() else {
            return Ok(first.clone());
        };
        named
            .iter()
            .find(|issuer| bound.contains(issuer))
            .cloned()
            .ok_or_else(|| McpLoginError::UnboundServer {
                named: first.clone(),
                bound: bound.into_iter().cloned().collect(),
            })
    }

    /// Chooses the registration for `server`, in the specification's order.
    fn register(&mut self, server: AuthorizationServerMetadata) -> Result<Stage, McpLoginError> {
        // A server of the 2025-03-26 specification is the MCP server's origin, named by no
        // metadata: the binding is checked here, before anything but discovery was sent.
        if let Some(bound) = self.settings.bound_issuers() {
            if !bound.contains(&&server.issuer) {
                return Err(McpLoginError::UnboundServer {
                    named: server.issuer,
                    bound: bound.into_iter().cloned().collect(),
                });
            }
        }
        // Before the client registers there: an assertion for another server ends the login.
        if let Grant::JwtBearer {
            assertion,
            audiences,
            ..
        } = &self.settings.grant
        {
            check_audience(assertion, &server, audiences)?;
        }
        // The newest registration with this server, preferring one whose token endpoint
        // authentication it takes: a client registered both ways lets the server's metadata choose.
        let mine: Vec<&ClientCredentials> = self
            .settings
            .registrations
            .iter()
            .rev()
            .filter(|credentials| credentials.issuer() == &server.issuer)
            .collect();
        let known = mine
            .iter()
            .find(|credentials| accepts_method(&server, credentials.auth_method()))
            .or(mine.first())
            .map(|credentials| (*credentials).clone());
        let metadata_document = self
            .settings
            .metadata_document
            .clone()
            .filter(|_| server.client_id_metadata_document_supported);
        let stage = if let Some(credentials) = known {
            self.server = Some(server);
            self.authorize(credentials)?
        } else if let Some(client_id) = metadata_document {
            let credentials =
                ClientCredentials::metadata_document(server.issuer.clone(), client_id)?;
            self.server = Some(server);
            self.authorize(credentials)?
        } else {
            let request = RegistrationRequest::for_server(
                &server,
                &self.settings.client_name,
                vec![self.settings.redirect_uri.clone()],
            )?;
            self.server = Some(server);
            Stage::Register(request)
        };
        Ok(stage)
    }

    fn authorize(&mut self, credentials: ClientCredentials) -> Result<Stage, McpLoginError> {
        let server = self
            .server
            .as_ref()
            .ok_or(McpLoginError::OutOfOrder("an answer"))?;
        let resource = self
            .resource
            .clone()
            .ok_or(McpLoginError::OutOfOrder("an answer"))?;
        let mut client = AuthorizationClient::new(server, credentials)?;
        if let Some(clock) = &self.settings.clock {
            client = client.with_clock(clock);
        }
        #[cfg(feature = "dpop")]
        {
            self.dpop = match &self.settings.dpop {
                DpopUse::Always(key) => Some(DpopBinding::new(DpopKey::clone(key))),
                DpopUse::WhenAdvertised
                    if server.supports_dpop_es256() && self.resource_takes_dpop() =>
                {
                    Some(DpopBinding::new(DpopKey::generate()))
                }
                DpopUse::WhenAdvertised | DpopUse::Never => None,
            };
        }
        if self.scopes.is_empty() {
            self.scopes = select_scopes(Some(&self.challenge), self.resource_metadata.as_ref());
        }
        match &self.settings.grant {
            Grant::AuthorizationCode => {}
            Grant::ClientCredentials => {
                let request = client.client_credentials_request(&self.scopes, Some(&resource))?;
                self.client = Some(client);
                self.token_request(HttpRequest::from(&request))?;
                return Ok(Stage::Token);
            }
            Grant::JwtBearer { assertion, .. } => {
                let request =
                    client.jwt_bearer_request(assertion, &self.scopes, Some(&resource))?;
                self.client = Some(client);
                self.token_request(HttpRequest::from(&request))?;
                return Ok(Stage::Token);
            }
            Grant::EnterpriseManaged { idp, .. } => {
                // The ID-JAG names the server that redeems it (`aud`, its issuer) and the resource.
                let request = idp.id_jag_request(
                    &server.issuer,
                    &resource,
                    &self.scopes,
                    self.settings.clock.as_ref(),
                )?;
                self.request = Some(HttpRequest::from(&request));
                self.client = Some(client);
                return Ok(Stage::IdJag);
            }
        }
        if self.settings.refresh_tokens {
            add_offline_access(&mut self.scopes, server);
        }
        let (url, pending) = client
            .login(self.settings.redirect_uri.clone(), resource)
            .scopes(self.scopes.clone())
            .build();
        let url = Url::parse(url.as_str()).map_err(|reason| IdentifierError::NotUrl {
            kind: "authorization URL",
            input: String::new(),
            reason,
        })?;
        self.client = Some(client);
        Ok(Stage::Browser(url, pending))
    }

    fn finish(&mut self, tokens: TokenResponse) -> Result<McpAuthorization, McpLoginError> {
        let client = self
            .client
            .as_ref()
            .ok_or(McpLoginError::OutOfOrder("an answer"))?;
        let resource = self
            .resource
            .clone()
            .ok_or(McpLoginError::OutOfOrder("an answer"))?;
        if self.step_up.is_none() {
            self.step_up = Some(StepUp::new(self.scopes.clone()));
        }
        let authorization = McpAuthorization::new(
            tokens,
            client.clock_handle().now(),
            self.scopes.clone(),
            resource,
            client.credentials().clone(),
            client.token_endpoint().clone(),
        );
        #[cfg(feature = "dpop")]
        let authorization = authorization.with_dpop(self.dpop.clone());
        Ok(authorization)
    }

    /// The clock of the login: its authorization client's once it has one, which is the one
    /// chosen in the settings or else its registration's.
    #[cfg(feature = "dpop")]
    fn clock(&self) -> ClockHandle {
        match (&self.client, &self.settings.clock) {
            (Some(client), _) => client.clock_handle().clone(),
            (None, Some(clock)) => clock.clone(),
            (None, None) => ClockHandle::default(),
        }
    }

    /// Builds the request the new stage sends, if it sends one.
    fn prepare(&mut self) {
        self.request = match &self.stage {
            Stage::ResourceMetadata(locations) => locations
                .front()
                .map(|location| HttpRequest::get(location.url.clone())),
            Stage::ServerMetadata(_, urls) => urls.front().cloned().map(HttpRequest::get),
            Stage::LegacyMetadata(base) => Some(HttpRequest::get(
                AuthorizationServerMetadata::legacy_metadata_url(base),
            )),
            Stage::Register(request) => Some(HttpRequest::post(
                request.url().clone(),
                RegistrationRequest::CONTENT_TYPE,
                request.body(),
            )),
            Stage::Browser(..) | Stage::IdJag | Stage::Token | Stage::Done(_) | Stage::Failed => {
                self.request.take()
            }
        };
    }
}

impl fmt::Debug for McpLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = match &self.stage {
            Stage::ResourceMetadata(_) => "resource metadata",
            Stage::ServerMetadata(..) => "authorization server metadata",
            Stage::LegacyMetadata(_) => "legacy authorization server metadata",
            Stage::Register(_) => "registration",
            Stage::Browser(..) => "browser",
            Stage::IdJag => "ID-JAG token exchange",
            Stage::Token => "token",
            Stage::Done(_) => "done",
            Stage::Failed => "failed",
        };
        f.debug_struct("McpLogin")
            .field("server_url", &self.server_url.as_str())
            .field("stage", &stage)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// Refuses to send `assertion` to `server` when its readable `aud` names another server.
fn check_audience(
    assertion: &SecurityToken,
    server: &AuthorizationServerMetadata,
    also: &[String],
) -> Result<(), McpLoginError> {
    match audience(assertion, &server.issuer, &server.token_endpoint, also) {
        Audience::Names | Audience::Unreadable => Ok(()),
        Audience::Other => Err(McpLoginError::AssertionAudience {
            server: server.issuer.clone(),
        }),
    }
}

/// Issuers for a message: `a`, or `a or b`.
fn issuer_list(issuers: &[Issuer]) -> String {
    if issuers.is_empty() {
        return "no authorization server (no confidential registration was given)".to_owned();
    }
    let names: Vec<&str> = issuers.iter().map(Issuer::as_str).collect();
    names.join(" or ")
}

fn read_challenge(www_authenticate: &[&str]) -> Result<BearerChallenge, McpLoginError> {
    if www_authenticate.is_empty() {
        // No challenge: discovery goes to the well-known URLs.
        return Ok(BearerChallenge::default());
    }
    let header = www_authenticate.join(", ");
    match BearerChallenge::parse(&header) {
        #[cfg(feature = "dpop")]
        Err(no_bearer @ ChallengeError::NoChallenge { .. }) => {
            // A server that takes only DPoP tokens challenges with `DPoP` alone (RFC 9449 §7.1);
            // its parameters lead discovery just as a Bearer challenge's do. With neither, the
            // missing Bearer challenge is the fault to report.
            let dpop = DpopChallenge::parse(&header).map_err(|error| match error {
                ChallengeError::NoChallenge { .. } => no_bearer,
                other => other,
            })?;
            Ok(bearer_view(dpop))
        }
        read => Ok(read?),
    }
}

/// The parameters of a `DPoP` challenge that discovery and scope selection read, as a Bearer
/// challenge carries them.
#[cfg(feature = "dpop")]
fn bearer_view(dpop: DpopChallenge) -> BearerChallenge {
    let error = dpop.error.map(|code| match code {
        DpopErrorCode::InvalidRequest => BearerError::InvalidRequest,
        DpopErrorCode::InvalidToken => BearerError::InvalidToken,
        DpopErrorCode::InsufficientScope => BearerError::InsufficientScope,
        other => BearerError::Other(other.as_str().to_owned()),
    });
    BearerChallenge {
        realm: dpop.realm,
        resource_metadata: dpop.resource_metadata,
        scope: dpop.scope,
        error,
        error_description: dpop.error_description,
        error_uri: None,
    }
}

//! An MCP client that logs in to a protected MCP server, as the MCP authorization specification
//! says, and calls a tool: the official Rust MCP SDK (`rmcp`) speaks MCP, and
//! `workos_connect_reqwest::AuthorizedClient` answers the server's `401` with a login (discovery,
//! registration, PKCE with a resource indicator) and its `403 insufficient_scope` with a step-up.
//!
//! ```text
//! cargo run -p mcp-client -- https://mcp.example.com/mcp
//! ```
//!
//! It prints the login URL and waits for the browser to come back on a loopback port (RFC 8252);
//! `--browser xdg-open` (or `open`, or any command taking the URL last) opens the URL too.
//! With `--headless` it follows the authorization URL itself without a browser, for servers that
//! answer with a redirect at once (test servers); with `--client-credentials` it logs in as the
//! client itself (machine to machine), with the `--client-id` and `--client-secret` (or
//! `--private-key-pem`, for `private_key_jwt`) given. With `--jwt-bearer-assertion` it logs in
//! with a workload's own JWT (workload identity federation), and with the `--idp-*` options with
//! enterprise-managed authorization (the user's ID token exchanged at the IdP for an ID-JAG). A
//! pre-registered client, an assertion and an enterprise login name the authorization server they
//! are for (`--issuer`), and their credentials go to no other, whichever one the MCP server names. Tokens are bound to a DPoP key
//! (RFC 9449) where the authorization server advertises it, always with `--dpop`, never with
//! `--no-dpop`.

use std::error::Error as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgGroup, Parser};
use url::Url;
use workos_connect::dpop::DpopKey;
use workos_connect::{
    mcp::{EnterpriseIdp, McpClientSettings},
    oauth::{IdentifierError, Issuer},
    registration::{
        ClientCredentials, ClientSigningKey, CredentialsError, SigningAlgorithm, SigningKeyError,
        TokenEndpointAuth,
    },
};
use workos_connect::{
    oauth::{ClientSecret, SecurityToken, SecurityTokenError},
    token_exchange::TokenExchangeError,
    ClientId, RedirectUri,
};
use workos_connect_reqwest::rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult,
    ElicitationAction, ElicitationCapability, ErrorData, Implementation, JsonObject,
    ProtocolVersion,
};
use workos_connect_reqwest::rmcp::service::{
    ClientInitializeError, ClientLifecycleMode, ClientServiceExt, RequestContext, RoleClient,
    ServiceError,
};
use workos_connect_reqwest::rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use workos_connect_reqwest::rmcp::transport::StreamableHttpClientTransport;
use workos_connect_reqwest::rmcp::ClientHandler;
use workos_connect_reqwest::{
    AuthorizedClient, Browser, BrowserError, FollowRedirect, LoginError, LoopbackRedirect, McpAuth,
    UserBrowser,
};

mod schema_echo;
use schema_echo::{schema_echo, SchemaEcho};

/// An MCP client that logs in to a protected MCP server and calls a tool.
#[derive(Parser)]
#[command(group(ArgGroup::new("client_auth").args(["client_secret", "private_key_pem"])))]
#[command(group(ArgGroup::new("grant").args(["client_credentials", "jwt_bearer_assertion", "idp_id_token"])))]
struct Options {
    /// The MCP server's URL (streamable HTTP), e.g. https://mcp.example.com/mcp
    server_url: Url,
    /// Follow the authorization URL without a browser and take the code from its redirect
    #[arg(long)]
    headless: bool,
    /// Command that opens the login URL in a browser, e.g. `xdg-open` or `open`: words separated by
    /// spaces, the URL added as the last argument. The URL is printed either way
    #[arg(long, conflicts_with = "headless")]
    browser: Option<String>,
    /// Loopback port for the redirect (0: any free port; register a fixed one for a pre-registered client)
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Client ID of a pre-registered client
    #[arg(long, env = "MCP_CLIENT_ID", requires = "issuer")]
    client_id: Option<String>,
    /// The authorization server (issuer) the credentials are for: the pre-registered client's,
    /// the JWT bearer assertion's, the enterprise login's; they are sent to no other, whichever
    /// one the MCP server names
    #[arg(long, env = "MCP_CLIENT_ISSUER")]
    issuer: Option<Issuer>,
    /// Its client secret; prefer the variable: arguments show in `ps`
    #[arg(
        long,
        env = "MCP_CLIENT_SECRET",
        hide_env_values = true,
        requires = "client_id"
    )]
    client_secret: Option<String>,
    /// Its private key, PEM (PKCS#8, or PKCS#1 for RSA), to authenticate with `private_key_jwt`
    /// instead of a secret; prefer the variable
    #[arg(
        long,
        env = "MCP_CLIENT_PRIVATE_KEY_PEM",
        hide_env_values = true,
        // A PEM starts with `-----BEGIN`, which would read as an option.
        allow_hyphen_values = true,
        requires = "client_id"
    )]
    private_key_pem: Option<String>,
    /// The private key's signature algorithm
    #[arg(
        long,
        env = "MCP_CLIENT_SIGNING_ALGORITHM",
        default_value = "ES256",
        requires = "private_key_pem"
    )]
    signing_algorithm: SigningAlgorithm,
    /// The private key's ID, sent as the assertions' `kid`
    #[arg(long, env = "MCP_CLIENT_KEY_ID", requires = "private_key_pem")]
    key_id: Option<String>,
    /// The https URL of this client's Client ID Metadata Document, used where the server supports it
    #[arg(long, env = "MCP_CLIENT_METADATA_URL")]
    client_metadata_url: Option<String>,
    /// Log in as the client itself (client_credentials grant) instead of a user
    #[arg(long, requires = "client_auth")]
    client_credentials: bool,
    /// Log in with this JWT (JWT bearer grant), such as the workload's own token from its
    /// platform (workload identity federation); prefer the variable
    #[arg(
        long,
        env = "MCP_JWT_BEARER_ASSERTION",
        hide_env_values = true,
        requires = "issuer"
    )]
    jwt_bearer_assertion: Option<String>,
    /// Another value of the assertion's `aud` that names the authorization server, for a platform
    /// that names it otherwise than by its issuer or token endpoint; repeatable
    #[arg(long, requires = "jwt_bearer_assertion")]
    assertion_audience: Vec<String>,
    /// Enterprise-managed authorization: the enterprise IdP's token endpoint, where the user's ID
    /// token is exchanged for an ID-JAG
    #[arg(long, env = "MCP_IDP_TOKEN_ENDPOINT", requires_all = ["idp_issuer", "idp_client_id", "idp_id_token", "issuer"])]
    idp_token_endpoint: Option<Url>,
    /// The enterprise IdP's issuer
    #[arg(long, env = "MCP_IDP_ISSUER", requires = "idp_token_endpoint")]
    idp_issuer: Option<Issuer>,
    /// This client's ID at the enterprise IdP
    #[arg(long, env = "MCP_IDP_CLIENT_ID", requires = "idp_token_endpoint")]
    idp_client_id: Option<String>,
    /// The user's ID token from the enterprise IdP; prefer the variable
    #[arg(
        long,
        env = "MCP_IDP_ID_TOKEN",
        hide_env_values = true,
        requires = "idp_token_endpoint"
    )]
    idp_id_token: Option<String>,
    /// A tool to call, as NAME or NAME={"argument":...}; repeat to call several in turn
    /// (default: the first one listed, without arguments)
    #[arg(long, value_parser = tool_call)]
    tool: Vec<ToolCall>,
    /// Only list the tools, call none
    #[arg(long, conflicts_with = "tool")]
    list_only: bool,
    /// Call the tool ECHO with TOOL's inputSchema, as listed, as its `schema` argument (ECHO=TOOL),
    /// after the other calls
    #[arg(long, value_parser = schema_echo, conflicts_with = "list_only")]
    echo_schema: Option<SchemaEcho>,
    /// Bind the tokens to a DPoP key (RFC 9449) with any authorization server; by default only
    /// where the authorization server advertises ES256 DPoP proofs and the MCP server takes them
    #[arg(long)]
    dpop: bool,
    /// Never send DPoP proofs, even where the server advertises them: bearer tokens only
    #[arg(long, conflicts_with = "dpop")]
    no_dpop: bool,
    /// The MCP revision to speak, e.g. 2025-11-25 (`initialize`) or 2026-07-28 (`server/discover`);
    /// by default the newest, falling back to `initialize` for older servers
    #[arg(long, env = "MCP_PROTOCOL_VERSION", value_parser = protocol_version)]
    protocol_version: Option<ProtocolVersion>,
}

#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("the server URL has a user name or password; remove the part before `@`")]
    ServerUrlUserinfo,
    #[error("{0}")]
    Identifier(#[from] IdentifierError),
    #[error("{0}")]
    Setting(#[from] workos_connect::Error),
    #[error("client credentials: {0}")]
    Credentials(#[from] CredentialsError),
    #[error("private key: {0}")]
    SigningKey(#[from] SigningKeyError),
    #[error("{0}")]
    SecurityToken(#[from] SecurityTokenError),
    #[error("enterprise IdP: {0}")]
    TokenExchange(#[from] TokenExchangeError),
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("loopback redirect: {0}")]
    Loopback(#[from] std::io::Error),
    #[error("login: {0}")]
    Login(String),
    #[error("MCP session: {0}")]
    Initialize(#[source] Box<ClientInitializeError>),
    #[error("MCP: {0}")]
    Mcp(#[source] Box<ServiceError>),
    #[error("the server lists no tool `{0}` whose schema to echo")]
    NoSuchTool(String),
}

// Boxed: they are large, and every result of this program carries a `Failure`.
impl From<ClientInitializeError> for Failure {
    fn from(error: ClientInitializeError) -> Self {
        Failure::Initialize(Box::new(error))
    }
}

impl From<ServiceError> for Failure {
    fn from(error: ServiceError) -> Self {
        Failure::Mcp(Box::new(error))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let options = Options::parse();
    match run(&options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", login_failure(&failure).unwrap_or(failure));
            ExitCode::FAILURE
        }
    }
}

async fn run(options: &Options) -> Result<(), Failure> {
    // The HTTP client would send them as a Basic `Authorization` beside the bearer token, and
    // error messages would print them.
    let url = &options.server_url;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Failure::ServerUrlUserinfo);
    }
    let http = workos_connect_reqwest::default_client()?;
    if options.headless {
        let redirect_uri = "http://127.0.0.1:8976/callback".parse()?;
        let browser = FollowRedirect::new(http.clone());
        session(options, settings(options, redirect_uri)?, http, browser).await
    } else {
        let loopback = LoopbackRedirect::bind(options.port).await?;
        let settings = settings(options, loopback.redirect_uri().clone())?;
        let browser = OpeningBrowser {
            command: options.browser.clone(),
            user: UserBrowser::new(loopback),
        };
        session(options, settings, http, browser).await
    }
}

/// The user's browser, opened by `--browser`'s command where one is given.
struct OpeningBrowser {
    command: Option<String>,
    user: UserBrowser,
}

impl Browser for OpeningBrowser {
    async fn authorize(&mut self, authorization_url: &Url) -> Result<Url, BrowserError> {
        let mut words = self
            .command
            .iter()
            .flat_map(|command| command.split_whitespace());
        if let Some(program) = words.next() {
            let started = std::process::Command::new(program)
                .args(words)
                .arg(authorization_url.as_str())
                .stdin(std::process::Stdio::null())
                .spawn();
            match started {
                // Reaped when it ends: a browser may outlive the login, or end at once (xdg-open).
                Ok(mut child) => drop(std::thread::spawn(move || child.wait())),
                // The printed URL is still there to open by hand.
                Err(error) => eprintln!("the browser command `{program}` did not start: {error}"),
            }
        }
        self.user.authorize(authorization_url).await
    }
}

async fn session<B: Browser + Send + 'static>(
    options: &Options,
    settings: McpClientSettings,
    http: reqwest::Client,
    browser: B,
) -> Result<(), Failure> {
    let auth = McpAuth::new(http, settings, options.server_url.clone(), browser);
    // No overall timeout, unlike the login's client: a response stream may stay open for long.
    let mcp_http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let config = StreamableHttpClientTransportConfig::with_uri(options.server_url.as_str());
    let transport =
        StreamableHttpClientTransport::with_client(AuthorizedClient::new(mcp_http, auth), config);
    let handler = Headless(options.protocol_version.clone());
    let service = handler
        .serve_with_lifecycle(transport, lifecycle(options))
        .await?;

    let tools = service.list_all_tools().await?;
    let names: Vec<&str> = tools.iter().map(|tool| tool.name.as_ref()).collect();
    println!("tools: {}", names.join(", "));
    let first = names.first().map(|name| ToolCall {
        name: (*name).to_owned(),
        arguments: JsonObject::new(),
    });
    let calls = if options.list_only {
        Vec::new()
    } else if options.tool.is_empty() {
        first.into_iter().collect()
    } else {
        options.tool.clone()
    };
    for call in calls {
        let params = CallToolRequestParams::new(call.name.clone()).with_arguments(call.arguments);
        let result = service.call_tool(params).await?;
        let content = serde_json::to_string(&result.content).unwrap_or_default();
        println!("{}: {content}", call.name);
    }
    if let Some(echo) = &options.echo_schema {
        let params = echo
            .call(&tools)
            .ok_or_else(|| Failure::NoSuchTool(echo.schema_of().to_owned()))?;
        let result = service.call_tool(params).await?;
        let content = serde_json::to_string(&result.content).unwrap_or_default();
        println!("{}: {content}", echo.echo_tool());
    }
    let _ = service.cancel().await;
    Ok(())
}

/// `initialize` for the revisions that have it, `server/discover` for later ones; by default the
/// newest, falling back to `initialize` for a server that does not know `server/discover`.
fn lifecycle(options: &Options) -> ClientLifecycleMode {
    match options.protocol_version.clone() {
        Some(version) if version.has_initialize() => ClientLifecycleMode::Initialize,
        Some(version) => ClientLifecycleMode::Discover {
            preferred_versions: vec![version],
        },
        None => ClientLifecycleMode::Auto {
            preferred_versions: vec![ProtocolVersion::LATEST],
            legacy_version: Some(ProtocolVersion::LATEST_WITH_INITIALIZE),
        },
    }
}

/// The client's side of the session with no user at hand: a form the server asks for
/// (elicitation) is accepted when every field it requires has a default, with the defaults, and
/// declined otherwise.
/// It holds the revision `initialize` names, if one is given.
struct Headless(Option<ProtocolVersion>);

impl ClientHandler for Headless {
    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let ElicitRequestParams::FormElicitationParams {
            requested_schema, ..
        } = request
        else {
            return Ok(ElicitResult::new(ElicitationAction::Decline));
        };
        let schema = serde_json::to_value(&requested_schema).unwrap_or_default();
        let defaults: JsonObject = schema["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(name, field)| Some((name.clone(), field.get("default")?.clone())))
            .collect();
        let required = schema["required"].as_array().cloned().unwrap_or_default();
        if required.iter().all(|name| {
            name.as_str()
                .is_some_and(|name| defaults.contains_key(name))
        }) {
            let content = serde_json::Value::Object(defaults);
            Ok(ElicitResult::new(ElicitationAction::Accept).with_content(content))
        } else {
            Ok(ElicitResult::new(ElicitationAction::Decline))
        }
    }

    fn get_info(&self) -> ClientConfig {
        let mut capabilities = ClientCapabilities::default();
        capabilities.elicitation = Some(ElicitationCapability::default());
        let client_info =
            Implementation::new("workos-connect-mcp-client", env!("CARGO_PKG_VERSION"));
        let config = ClientConfig::new(capabilities, client_info);
        match &self.0 {
            Some(version) => config.with_protocol_version(version.clone()),
            None => config,
        }
    }
}

/// A tool call of the options.
#[derive(Clone)]
struct ToolCall {
    name: String,
    arguments: JsonObject,
}

fn tool_call(value: &str) -> Result<ToolCall, String> {
    let (name, arguments) = match value.split_once('=') {
        Some((name, json)) => (
            name,
            serde_json::from_str(json).map_err(|error| {
                format!("the arguments after `=` must be a JSON object: {error}")
            })?,
        ),
        None => (value, JsonObject::new()),
    };
    Ok(ToolCall {
        name: name.to_owned(),
        arguments,
    })
}

/// How this client logs in: pre-registered if given, else its Client ID Metadata Document where
/// the server takes one, else Dynamic Client Registration.
fn settings(options: &Options, redirect_uri: RedirectUri) -> Result<McpClientSettings, Failure> {
    let mut settings = McpClientSettings::new("workos-connect MCP client", redirect_uri);
    for credentials in pre_registered(options)? {
        settings = settings.registration(credentials);
    }
    if let Some(url) = &options.client_metadata_url {
        settings = settings.metadata_document(ClientId::new(url)?);
    }
    if options.client_credentials {
        settings = settings.client_credentials();
    }
    if options.dpop {
        settings = settings.dpop_key(DpopKey::generate());
    } else if options.no_dpop {
        settings = settings.without_dpop();
    }
    if let (Some(assertion), Some(issuer)) = (&options.jwt_bearer_assertion, &options.issuer) {
        settings = settings.jwt_bearer(issuer.clone(), SecurityToken::new(assertion.clone())?);
        for audience in &options.assertion_audience {
            settings = settings.assertion_audience(audience.clone());
        }
    }
    if let (Some(endpoint), Some(idp_issuer), Some(client_id), Some(id_token), Some(issuer)) = (
        &options.idp_token_endpoint,
        &options.idp_issuer,
        &options.idp_client_id,
        &options.idp_id_token,
        &options.issuer,
    ) {
        // The IdP knows this client by its own client ID; it has no secret there.
        let at_idp = ClientCredentials::pre_registered(
            idp_issuer.clone(),
            ClientId::new(client_id)?,
            None,
            TokenEndpointAuth::None,
        )?;
        let idp = EnterpriseIdp::new(
            endpoint.clone(),
            at_idp,
            SecurityToken::new(id_token.clone())?,
        )?;
        settings = settings.enterprise_managed(issuer.clone(), idp);
    }
    Ok(settings)
}

/// The pre-registered client of the options, bound to the issuer it was registered with
/// (`--issuer`), never to the one an MCP server names: the login then uses it with no other
/// authorization server, so that an MCP server naming another cannot have the secret sent there.
/// A secret goes in the way the server takes, `client_secret_basic` first
/// ([`TokenEndpointAuth::choose`]), so both ways are offered and the login picks.
fn pre_registered(options: &Options) -> Result<Vec<ClientCredentials>, Failure> {
    let (Some(client_id), Some(issuer)) = (&options.client_id, &options.issuer) else {
        return Ok(Vec::new());
    };
    let client_id = ClientId::new(client_id)?;
    if let Some(pem) = &options.private_key_pem {
        let mut key = ClientSigningKey::from_pem(options.signing_algorithm, pem.as_bytes())?;
        if let Some(kid) = &options.key_id {
            key = key.with_kid(kid.clone())?;
        }
        let credentials = ClientCredentials::private_key_jwt(issuer.clone(), client_id, key);
        return Ok(vec![credentials]);
    }
    let Some(secret) = &options.client_secret else {
        let public = ClientCredentials::pre_registered(
            issuer.clone(),
            client_id,
            None,
            TokenEndpointAuth::None,
        )?;
        return Ok(vec![public]);
    };
    let secret = ClientSecret::new(secret.clone())?;
    // The last one given is preferred among those the server takes.
    [
        TokenEndpointAuth::ClientSecretPost,
        TokenEndpointAuth::ClientSecretBasic,
    ]
    .into_iter()
    .map(|method| {
        let secret = Some(secret.clone());
        Ok(ClientCredentials::pre_registered(
            issuer.clone(),
            client_id.clone(),
            secret,
            method,
        )?)
    })
    .collect()
}

fn protocol_version(value: &str) -> Result<ProtocolVersion, String> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .map_err(|error| error.to_string())
}

/// The login's own error, when that is what stopped the session: `rmcp` carries it as the I/O
/// error its transport failed with.
fn login_failure(failure: &Failure) -> Option<Failure> {
    let mut source = failure.source();
    while let Some(error) = source {
        if let Some(login) = error
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<LoginError>())
        {
            return Some(Failure::Login(login.to_string()));
        }
        source = error.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use workos_connect::mcp::{McpLogin, McpLoginError, McpLoginStep};

    fn server_metadata(issuer: &str) -> Vec<u8> {
        format!(
            r#"{{"issuer":"{issuer}","authorization_endpoint":"{issuer}/authorize","token_endpoint":"{issuer}/token",
            "code_challenge_methods_supported":["S256"],"token_endpoint_auth_methods_supported":["client_secret_basic"],
            "grant_types_supported":["authorization_code","client_credentials"]}}"#
        )
        .into_bytes()
    }

    /// The login up to the authorization server's metadata, for an MCP server naming `issuer`.
    fn login_with(options: &Options, issuer: &str) -> Result<McpLogin, McpLoginError> {
        let settings =
            settings(options, "http://127.0.0.1:8976/callback".parse().unwrap()).unwrap();
        let server = "https://mcp.example.com/mcp".parse().unwrap();
        let challenge = r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#;
        let mut login = McpLogin::unauthorized(&settings, &server, &[challenge])?;
        let resource = format!(
            r#"{{"resource":"https://mcp.example.com/mcp","authorization_servers":["{issuer}"]}}"#
        );
        login.answer(200, resource.as_bytes())?;
        login.answer(200, &server_metadata(issuer))?;
        Ok(login)
    }

    #[test]
    fn a_pre_registered_secret_goes_only_to_its_own_authorization_server() {
        let options = Options::try_parse_from([
            "mcp-client",
            "https://mcp.example.com/mcp",
            "--client-id",
            "client_1",
            "--client-secret",
            "sk_s3cret",
            "--issuer",
            "https://auth.example.com",
            "--client-credentials",
        ])
        .unwrap();
        // The MCP server names another authorization server: the secret is not sent there (it
        // would register anew, and the client credentials grant needs a secret it has not).
        let elsewhere = login_with(&options, "https://evil.example");
        if let Ok(McpLoginStep::Send(request)) = elsewhere.as_ref().map(McpLogin::step) {
            assert_ne!(request.url().as_str(), "https://evil.example/token");
            assert!(request.headers().all(|(name, _)| name != "authorization"));
        }
        // Its own: the token request carries the secret, the Basic way the server takes.
        let own = login_with(&options, "https://auth.example.com").unwrap();
        let McpLoginStep::Send(request) = own.step() else {
            panic!("a token request")
        };
        assert_eq!(request.url().as_str(), "https://auth.example.com/token");
        let authorization = request.headers().find(|(name, _)| *name == "authorization");
        assert!(authorization.is_some_and(|(_, value)| value.starts_with("Basic ")));
        // A client ID without the issuer it belongs to is refused at once.
        assert!(Options::try_parse_from([
            "mcp-client",
            "https://mcp.example.com/mcp",
            "--client-id",
            "client_1",
        ])
        .is_err());
    }

    #[test]
    fn a_private_key_makes_private_key_jwt_credentials_and_grants_exclude_each_other() {
        let pem = include_str!("../../../tests/data/client-es256.pem");
        let options = Options::try_parse_from([
            "mcp-client",
            "https://mcp.example.com/mcp",
            "--client-id",
            "svc",
            "--issuer",
            "https://auth.example.com",
            "--private-key-pem",
            pem,
            "--client-credentials",
        ])
        .unwrap();
        let credentials = pre_registered(&options).unwrap();
        assert_eq!(credentials.len(), 1);
        assert_eq!(
            credentials[0].auth_method(),
            TokenEndpointAuth::PrivateKeyJwt
        );
        // A key and a secret at once, two grants at once, or the client_credentials grant with
        // neither are refused.
        for extra in [
            &["--client-secret", "s", "--client-credentials"][..],
            &[
                "--jwt-bearer-assertion",
                "eyJ.a.b",
                "--client-credentials",
                "--client-secret",
                "s",
            ],
            &["--client-credentials"],
        ] {
            let mut args = vec![
                "mcp-client",
                "https://mcp.example.com/mcp",
                "--client-id",
                "svc",
                "--issuer",
                "https://auth.example.com",
            ];
            if extra[0] == "--client-secret" {
                args.extend(["--private-key-pem", pem]);
            }
            args.extend(extra);
            assert!(Options::try_parse_from(&args).is_err(), "{extra:?}");
        }
    }

    #[test]
    fn dpop_is_used_when_asked_for_and_not_when_refused() {
        let with = |flag: Option<&str>| {
            let mut args = vec![
                "mcp-client",
                "https://mcp.example.com/mcp",
                "--client-id",
                "client_1",
                "--client-secret",
                "sk_s3cret",
                "--issuer",
                "https://auth.example.com",
                "--client-credentials",
            ];
            args.extend(flag);
            let options = Options::try_parse_from(args).unwrap();
            let login = login_with(&options, "https://auth.example.com").unwrap();
            let McpLoginStep::Send(request) = login.step() else {
                panic!("a token request")
            };
            let proof = request.headers().any(|(name, _)| name == "dpop");
            proof
        };
        // The metadata advertises no DPoP: proofs only with --dpop.
        assert!(with(Some("--dpop")));
        assert!(!with(None));
        assert!(!with(Some("--no-dpop")));
        assert!(Options::try_parse_from([
            "mcp-client",
            "https://mcp.example.com/mcp",
            "--dpop",
            "--no-dpop"
        ])
        .is_err());
    }

    #[test]
    fn a_server_url_with_a_password_is_refused() {
        let options =
            Options::try_parse_from(["mcp-client", "https://user:pa55word@mcp.example.com/mcp"])
                .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let error = runtime.block_on(run(&options)).err().unwrap();
        assert!(matches!(error, Failure::ServerUrlUserinfo));
        assert!(!error.to_string().contains("pa55word"));
    }
}

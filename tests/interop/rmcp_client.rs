//! The official Rust MCP SDK's (rmcp's) own OAuth client (its `auth` feature: `AuthorizationManager`,
//! `AuthorizationSession`, `AuthClient`) against the mcp-server example, with oidc-provider as the
//! authorization server: the client meets the server's 401, reads the protected resource metadata
//! (RFC 9728) and the authorization server's (RFC 8414), registers (RFC 7591), builds a PKCE S256
//! authorization URL with the server as `resource` (RFC 8707), and, after the user's part on the
//! provider's pages, exchanges the code and calls `whoami` through its streamable HTTP transport.
//!
//! Then what rmcp's client does with the server's refusals: a token for another resource and a
//! token signed by an unknown key are refused with 401 `invalid_token`; rmcp's `AuthClient`
//! refreshes once and retries, and hands the challenge to the application when that does not help.
//!
//! Step-up, a tool needing a scope the token lacks (403 `insufficient_scope`): rmcp does not
//! authorize again by itself; the application must, with rmcp's `request_scope_upgrade`.
//!
//! rmcp 3.11 has no DPoP (RFC 9449): its transport sends `Authorization: Bearer` only, and its
//! token requests carry no `DPoP` proof, so it meets the server's DPoP option only as a bearer client.

use rmcp::model::CallToolRequestParams;
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::auth::{
    AuthorizationCallback, AuthorizationMetadataSource, AuthorizationSession, OAuthTokenResponse,
};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{
    AuthClient, AuthorizationManager, AuthorizationRequest, InMemoryCredentialStore,
    StoredCredentials, StreamableHttpClientTransport, WWWAuthenticateParams,
};
use rmcp::ServiceExt as _;
use url::Url;
use workos_connect::oauth::{Issuer, Resource};

use super::{
    assert_access_token_for, browse_to, forged, free_port, jwt_part, mcp_access_token, provider,
    refreshes, Browser, ResourceServer, Served, User,
};

/// Where rmcp's registered client is sent back: nothing listens there, the browser's part ends at
/// the redirect and the callback URL is handed to rmcp.
const RMCP_REDIRECT_URI: &str = "http://127.0.0.1:9/rmcp-callback";

/// What the mcp-server example's `whoami` answers user_01 with no organization.
const WHOAMI: &str = "sub user_01 (organization none)";

/// A runtime for rmcp's futures, driven from the scenario's thread; the browser's part, which
/// blocks, runs between them.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// An MCP session through rmcp's transport.
type Session = RunningService<RoleClient, ()>;

/// The challenge of the 401 (or 403) that stopped `initialize` through this transport client.
async fn refused_initialize<C>(client: C, config: StreamableHttpClientTransportConfig) -> String
where
    C: rmcp::transport::streamable_http_client::StreamableHttpClient + Send + Sync + 'static,
    C::Error: Send + Sync + 'static,
{
    match ().serve(StreamableHttpClientTransport::with_client(client, config)).await {
        Ok(_) => panic!("the server took the connection"),
        Err(error) => {
            assert!(error.is_authorization_required(), "{error}");
            error
                .auth_challenge()
                .unwrap_or_else(|| panic!("no challenge: {error}"))
                .to_owned()
        }
    }
}

/// `whoami`'s text, through an initialized session.
async fn whoami(session: &Session) -> String {
    call(session, "whoami").await.expect("whoami answers")
}

/// rmcp's challenge parser over a refusal, with the server's metadata URL and scope asserted.
fn parse_challenge(server: &ResourceServer, challenge: &str) -> WWWAuthenticateParams {
    let params = WWWAuthenticateParams::parse(challenge, &Url::parse(&server.url).unwrap());
    assert_eq!(
        params.resource_metadata_url.as_ref().map(Url::as_str),
        Some(server.metadata_url().as_str()),
        "{challenge}"
    );
    assert_eq!(params.scope.as_deref(), Some("mcp:tools"), "{challenge}");
    params
}

/// A login made by rmcp alone, from the server's 401 to the token, the user's part played on the
/// provider's pages; the client ready for the transport, its registered client ID, and the tokens.
struct RmcpLogin {
    client: AuthClient<reqwest::Client>,
    client_id: String,
    tokens: OAuthTokenResponse,
}

impl RmcpLogin {
    /// A member of the token response, read as JSON: rmcp names no way to read it otherwise.
    fn token_field(&self, name: &str) -> Option<String> {
        let json = serde_json::to_value(&self.tokens).expect("a token response as JSON");
        json[name].as_str().map(str::to_owned)
    }

    fn access_token(&self) -> String {
        self.token_field("access_token").expect("an access token")
    }
}

fn rmcp_login(runtime: &tokio::runtime::Runtime, server: &ResourceServer) -> RmcpLogin {
    let provider = provider();
    let config = StreamableHttpClientTransportConfig::with_uri(server.url.as_str());

    // The server's 401, as rmcp's transport reports it.
    let challenge = runtime.block_on(refused_initialize(reqwest::Client::new(), config));
    let params = parse_challenge(server, &challenge);
    assert_eq!(params.error, None, "no token, no error: {challenge}");

    // Discovery, from the challenge: the resource metadata, then the authorization server's.
    let session = runtime.block_on(async {
        let mut manager = AuthorizationManager::new(server.url.as_str())
            .await
            .expect("a manager");
        let resolution = manager
            .resolve_metadata_from_challenge(Some(&challenge))
            .await
            .expect("discovery");
        assert_eq!(
            resolution.source,
            AuthorizationMetadataSource::ProtectedResourceMetadata
        );
        let metadata = &resolution.metadata;
        assert_eq!(metadata.issuer.as_deref(), Some(provider.issuer.as_str()));
        assert_eq!(
            metadata.registration_endpoint,
            Some(format!("{}/oauth2/register", provider.issuer))
        );
        manager.set_metadata(resolution.metadata);
        // Registration (no client ID given, no metadata document), then the authorization URL.
        let request = AuthorizationRequest::new(RMCP_REDIRECT_URI).with_client_name("rmcp interop");
        AuthorizationSession::new(manager, request)
            .await
            .map_err(|(_, error)| error)
            .expect("registration and the authorization URL")
    });
    let client_id = runtime
        .block_on(session.get_credentials())
        .expect("a configured client")
        .0;
    assert!(!client_id.is_empty());

    let authorization_url = Url::parse(session.get_authorization_url()).unwrap();
    assert!(
        authorization_url
            .as_str()
            .starts_with(&format!("{}/oauth2/authorize?", provider.issuer)),
        "{authorization_url}"
    );
    let query = |name: &str| {
        authorization_url
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    // RFC 8707 as the MCP authorization spec requires: the server's own URL as the resource.
    assert_eq!(query("resource").as_deref(), Some(server.url.as_str()));
    assert_eq!(query("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(query("code_challenge").map(|c| c.len()), Some(43));
    assert_eq!(query("client_id"), Some(client_id.clone()));
    assert_eq!(query("redirect_uri").as_deref(), Some(RMCP_REDIRECT_URI));
    // The challenge's scope, and offline_access, which the provider lists.
    assert_eq!(
        query("scope").as_deref(),
        Some("mcp:tools offline_access"),
        "{authorization_url}"
    );

    let callback = browse_to(
        &Browser::new(),
        authorization_url.as_str(),
        User::Consents,
        RMCP_REDIRECT_URI,
    );
    let tokens = runtime
        .block_on(session.handle_callback_url(callback.as_str()))
        .expect("the code exchanged");
    RmcpLogin {
        client: AuthClient::new(reqwest::Client::new(), session.auth_manager),
        client_id,
        tokens,
    }
}

/// A session through rmcp's transport with its `AuthClient`.
async fn connect(client: &AuthClient<reqwest::Client>, server: &ResourceServer) -> Session {
    let config = StreamableHttpClientTransportConfig::with_uri(server.url.as_str());
    ().serve(StreamableHttpClientTransport::with_client(
        client.clone(),
        config,
    ))
    .await
    .expect("an initialized session")
}

/// A tool's text, through an initialized session, or the error the call ended with.
async fn call(session: &Session, tool: &'static str) -> Result<String, rmcp::ServiceError> {
    let result = session.call_tool(CallToolRequestParams::new(tool)).await?;
    let content = serde_json::to_value(&result.content).expect("JSON content");
    Ok(content[0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text: {content}"))
        .to_owned())
}

/// The JSON of a token response with its access token replaced, and its refresh token kept or
/// dropped, as rmcp would have stored it.
fn with_access_token(
    tokens: &OAuthTokenResponse,
    access_token: &str,
    keep_refresh_token: bool,
) -> OAuthTokenResponse {
    let mut json = serde_json::to_value(tokens).expect("a token response as JSON");
    json["access_token"] = access_token.into();
    if !keep_refresh_token {
        json.as_object_mut().unwrap().remove("refresh_token");
    }
    serde_json::from_value(json).expect("a token response")
}

/// Puts `tokens` in the client's credential store, as if rmcp had got them.
async fn store(login: &RmcpLogin, tokens: OAuthTokenResponse) {
    let store = InMemoryCredentialStore::new();
    let credentials = StoredCredentials::new(
        login.client_id.clone(),
        Some(tokens),
        vec!["mcp:tools".into(), "offline_access".into()],
        Some(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        ),
    );
    rmcp::transport::CredentialStore::save(&store, credentials)
        .await
        .expect("stored");
    login
        .client
        .auth_manager
        .lock()
        .await
        .set_credential_store(store);
}

/// rmcp's OAuth client, on its own, into the mcp-server example: discovery from the 401,
/// registration, a PKCE S256 login for the server's resource, the code exchanged, the tools
/// listed and `whoami` called through its transport.
pub(super) fn mcp_server_serves_the_rmcp_oauth_client() {
    let provider = provider();
    let server = ResourceServer::start(provider, Served::McpServer);
    let runtime = runtime();
    let login = rmcp_login(&runtime, &server);

    let token = &login.access_token();
    let resource = Resource::new(&server.url).unwrap();
    let issuer = Issuer::new(&provider.issuer).unwrap();
    let claims = assert_access_token_for(token, &resource, &issuer);
    assert_eq!(claims["sub"], "user_01");
    assert_eq!(claims["client_id"], login.client_id.as_str());
    assert!(
        login.token_field("refresh_token").is_some(),
        "offline_access gave a refresh token"
    );

    runtime.block_on(async {
        let session = connect(&login.client, &server).await;
        let tools = session.list_all_tools().await.expect("the tools");
        let mut names: Vec<&str> = tools.iter().map(|tool| tool.name.as_ref()).collect();
        names.sort_unstable();
        assert_eq!(names, ["scopes", "whoami"]);
        assert_eq!(whoami(&session).await, WHOAMI);
        session.cancel().await.expect("the session ended");
    });
}

/// Tokens the server refuses with 401 `invalid_token`, sent by rmcp's transport as it is given
/// them, then through rmcp's `AuthClient`: with a refresh token it refreshes once and retries with
/// the new token, which the server takes; without one, it hands the challenge to the application,
/// which must authorize again.
pub(super) fn mcp_server_refuses_bad_tokens_from_the_rmcp_client() {
    let provider = provider();
    let server = ResourceServer::start(provider, Served::McpServer);
    let runtime = runtime();

    // A token for another MCP server: good signature, issuer and scope.
    let other = format!("http://127.0.0.1:{}/mcp", free_port());
    let wrong_audience = mcp_access_token(provider, "public-app", &other, "mcp:tools");
    assert_eq!(jwt_part(&wrong_audience, 1)["aud"], other.as_str());
    let login = rmcp_login(&runtime, &server);
    // The same header and claims as rmcp's own token, signed by a key no one published.
    let forged = forged(&login.access_token());

    for (token, description) in [
        (&wrong_audience, "the access token is not for this resource"),
        (&forged, "the access token is invalid"),
    ] {
        let config =
            StreamableHttpClientTransportConfig::with_uri(server.url.as_str()).auth_header(token);
        let challenge = runtime.block_on(refused_initialize(reqwest::Client::new(), config));
        let params = parse_challenge(&server, &challenge);
        assert!(params.is_invalid_token(), "{challenge}");
        assert_eq!(params.error_description.as_deref(), Some(description));
    }

    // The forged token in rmcp's store, with the login's refresh token: one refresh, and the
    // request retried with the new token is taken.
    let before = refreshes(provider, &login.client_id);
    runtime.block_on(async {
        store(&login, with_access_token(&login.tokens, &forged, true)).await;
        let session = connect(&login.client, &server).await;
        assert_eq!(whoami(&session).await, WHOAMI);
        session.cancel().await.expect("the session ended");
    });
    let after = refreshes(provider, &login.client_id);
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (1, 0),
        "one refresh_token grant for the refused token"
    );

    // The wrong-audience token without a refresh token: nothing to retry with, so the challenge
    // reaches the application, unchanged.
    runtime.block_on(async {
        store(
            &login,
            with_access_token(&login.tokens, &wrong_audience, false),
        )
        .await;
        let config = StreamableHttpClientTransportConfig::with_uri(server.url.as_str());
        let challenge = refused_initialize(login.client.clone(), config).await;
        let params = parse_challenge(&server, &challenge);
        assert!(params.is_invalid_token(), "{challenge}");
        assert_eq!(
            params.error_description.as_deref(),
            Some("the access token is not for this resource")
        );
    });
    assert_eq!(
        refreshes(provider, &login.client_id),
        after,
        "no refresh without a refresh token"
    );
}

/// rmcp 3.11 has no DPoP (RFC 9449), which the MCP authorization spec leaves optional: against the
/// server requiring it, rmcp's login still succeeds (its metadata's
/// `dpop_bound_access_tokens_required` is not looked at) and gets a bearer token, which the server
/// refuses. rmcp's `AuthClient` takes the refusal as an expired token: one refresh, the new bearer
/// token refused too, and the server's `DPoP` challenge handed to the application, which can do
/// nothing with it. Expected: the counterpart does not offer DPoP.
pub(super) fn mcp_server_requiring_dpop_refuses_the_rmcp_client_which_has_no_dpop() {
    let provider = provider();
    let server = ResourceServer::start_with(provider, Served::McpServer, &["--require-dpop"]);
    let runtime = runtime();
    let login = rmcp_login(&runtime, &server);
    let token_type = login.token_field("token_type").expect("a token type");
    assert!(token_type.eq_ignore_ascii_case("bearer"), "{token_type}");
    assert_eq!(
        jwt_part(&login.access_token(), 1)["cnf"],
        serde_json::Value::Null
    );

    let before = refreshes(provider, &login.client_id);
    let config = StreamableHttpClientTransportConfig::with_uri(server.url.as_str());
    let challenge = runtime.block_on(refused_initialize(login.client.clone(), config));
    assert!(challenge.starts_with("DPoP "), "{challenge}");
    assert!(!challenge.contains("Bearer"), "{challenge}");
    assert!(
        parse_challenge(&server, &challenge).is_invalid_token(),
        "{challenge}"
    );
    let after = refreshes(provider, &login.client_id);
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (1, 0),
        "one refresh, whose bearer token is refused too"
    );
}

/// Step-up (the MCP authorization spec's scope challenge): the server's `scopes` tool needs
/// `mcp:admin` besides `mcp:tools`, and a call of it with rmcp's first token is refused with 403
/// `insufficient_scope` naming both. Expected: rmcp does not authorize again by itself, as it
/// cannot play the user's part; its `AuthClient` neither refreshes nor asks for the scope, and
/// hands the challenge to the application (as with a 401 it cannot recover from). The
/// application then drives rmcp's own `AuthorizationManager::request_scope_upgrade`: a new
/// authorization URL for the union of the scopes (RFC 8707 `resource` and PKCE again), the code
/// exchanged, and the call made again in the same session with the wider token succeeds.
pub(super) fn mcp_server_step_up_is_left_to_the_application_by_the_rmcp_client() {
    let provider = provider();
    let server =
        ResourceServer::start_with(provider, Served::McpServer, &super::ts_sdk::ADMIN_TOOL);
    let runtime = runtime();
    let login = rmcp_login(&runtime, &server);
    let before = refreshes(provider, &login.client_id);

    let session = runtime.block_on(connect(&login.client, &server));
    let challenge = runtime.block_on(async {
        assert_eq!(call(&session, "whoami").await.unwrap(), WHOAMI);
        let refused = call(&session, "scopes")
            .await
            .expect_err("refused for mcp:admin");
        refused
            .auth_challenge()
            .unwrap_or_else(|| panic!("no challenge: {refused}"))
            .to_owned()
    });
    let params = WWWAuthenticateParams::parse(&challenge, &Url::parse(&server.url).unwrap());
    assert!(params.is_insufficient_scope(), "{challenge}");
    assert_eq!(
        params.scope.as_deref(),
        Some("mcp:tools mcp:admin"),
        "{challenge}"
    );
    assert_eq!(
        params.resource_metadata_url.as_ref().map(Url::as_str),
        Some(server.metadata_url().as_str())
    );
    assert_eq!(refreshes(provider, &login.client_id), before, "no refresh");
    let upgrade_url = runtime.block_on(async {
        let manager = login.client.auth_manager.lock().await;
        assert_eq!(
            manager.get_scope_upgrade_attempts().await,
            0,
            "no step-up attempted by rmcp itself"
        );
        // The token response's `scope`: the resource's scopes, offline_access being no scope of it.
        assert_eq!(manager.get_current_scopes().await, ["mcp:tools"]);
        // What the application must do itself.
        let url = manager
            .request_scope_upgrade(params.scope.as_deref().unwrap())
            .await
            .expect("an authorization URL for more scopes");
        assert_eq!(manager.get_scope_upgrade_attempts().await, 1);
        Url::parse(&url).unwrap()
    });
    let query = |name: &str| {
        upgrade_url
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    assert_eq!(
        query("scope").as_deref(),
        Some("mcp:tools mcp:admin offline_access"),
        "the union of the scopes granted before and those challenged"
    );
    assert_eq!(query("resource").as_deref(), Some(server.url.as_str()));
    assert_eq!(query("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(query("client_id"), Some(login.client_id.clone()));

    let callback = browse_to(
        &Browser::new(),
        upgrade_url.as_str(),
        User::Consents,
        RMCP_REDIRECT_URI,
    );
    let callback = AuthorizationCallback::from_redirect_url(callback.as_str()).unwrap();
    runtime.block_on(async {
        let tokens = login
            .client
            .auth_manager
            .lock()
            .await
            .exchange_code_for_token_with_issuer(
                &callback.code,
                &callback.csrf_token,
                callback.issuer.as_deref(),
            )
            .await
            .expect("the code exchanged");
        let token = serde_json::to_value(&tokens).unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let granted = jwt_part(&token, 1)["scope"].as_str().unwrap().to_owned();
        assert!(
            granted.split(' ').any(|scope| scope == "mcp:admin"),
            "{granted}"
        );
        // The same session, its next request with the wider token.
        let text = call(&session, "scopes").await.expect("scopes answers");
        assert_eq!(text, granted);
        session.cancel().await.expect("the session ended");
    });
}

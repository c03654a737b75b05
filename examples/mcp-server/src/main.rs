//! An MCP server protected by AuthKit access tokens: the official Rust MCP SDK (`rmcp`) serves the
//! MCP side (streamable HTTP, one tool), and `workos-connect-axum` lets through only requests with
//! an access token for this resource, answering the others with the challenge that tells MCP
//! clients where to log in (RFC 9728).
//!
//! ```text
//! cargo run -p mcp-server -- --issuer https://<sub>.authkit.app --resource https://mcp.example.com/mcp --scope mcp:tools
//! ```
//!
//! Register the resource in the WorkOS dashboard so that AuthKit issues tokens for it. The keys
//! are fetched at start-up, every five minutes, and when a token names a key the set lacks (at most
//! once a minute); refused requests are logged. With `--dpop` it also takes DPoP-bound tokens
//! (RFC 9449), whose every request carries a fresh proof by the key the token is bound to; with
//! `--require-dpop` only those. With `--dpop-nonce-secret` (or `DPOP_NONCE_SECRET`) the proofs
//! must carry this server's nonce, which every instance sharing the secret accepts. With
//! `--redis-url`, the proofs already used are remembered in Redis, for every instance given the
//! same URL: behind a load balancer, a proof replayed to another instance is refused too, and a
//! Redis that does not answer refuses the request (503).
//!
//! Every request needs `--scope`; a tool may need more, given with
//! `--tool-scope <tool>=<space-separated scopes>` (e.g. `--tool-scope 'scopes=mcp:admin'`): a call of
//! it with a token lacking them is answered 403 `insufficient_scope`, naming every scope it needs,
//! for the client to authorize again with them (the MCP authorization spec's step-up).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use clap::{ArgGroup, Parser};
use rmcp::handler::server::tool::Extension;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{tool, tool_router};
use url::Url;
use workos_connect::dpop::{DatedNonces, DpopNonceSecret, DpopNonceSecretError, DpopProofCheck};
use workos_connect::oauth::{Issuer, Resource, ScopeList};
use workos_connect::resource_server::{
    AccessTokenCheck, AccessTokenClaims, RequestCheck, RequestCheckError,
};
use workos_connect_axum::{
    KeysError, ProtectedResource, RedisStore, RedisStoreError, Refused, SetupError,
};

/// An MCP server protected by AuthKit access tokens.
#[derive(Parser)]
#[command(group(ArgGroup::new("dpop_taken").args(["dpop", "require_dpop"])))]
struct Options {
    /// The AuthKit domain that issues the tokens, e.g. https://<sub>.authkit.app
    #[arg(long, env = "WORKOS_AUTHKIT_DOMAIN")]
    issuer: Issuer,
    /// This server's MCP endpoint as clients reach it: the resource tokens must be for
    #[arg(
        long,
        env = "MCP_RESOURCE",
        default_value = "http://127.0.0.1:8000/mcp"
    )]
    resource: Resource,
    /// The JWKS URL, https (default: the issuer's /oauth2/jwks)
    #[arg(long)]
    jwks_url: Option<Url>,
    /// Space-separated scopes every request needs
    #[arg(long, default_value = "")]
    scope: ScopeList,
    /// A tool that needs more scopes than every request does, as `<tool>=<space-separated
    /// scopes>`; repeatable
    #[arg(long = "tool-scope")]
    tool_scopes: Vec<ToolScope>,
    /// A permission every request's token must carry (AuthKit's `permissions` claim); repeatable
    #[arg(long = "require-permission")]
    permissions: Vec<String>,
    /// The organization every request's token must be for (its `org_id`)
    #[arg(long)]
    organization: Option<String>,
    /// Web origins whose pages may call the server (a request with any other `Origin` is refused)
    #[arg(long = "allowed-origin")]
    allowed_origins: Vec<String>,
    /// Address to serve on
    #[arg(long, default_value = "127.0.0.1:8000")]
    listen: SocketAddr,
    /// Seconds of clock difference allowed with AuthKit when checking a token's times
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(..=300))]
    leeway: u64,
    /// Seconds between two fetches of the keys that tokens naming an unknown key may cause
    #[arg(long, default_value_t = 60)]
    keys_refetch_interval: u64,
    /// Seconds between scheduled fetches of the keys
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    keys_refresh_interval: u64,
    /// Take DPoP-bound access tokens (RFC 9449: `Authorization: DPoP` and a proof) besides bearer
    /// tokens
    #[arg(long)]
    dpop: bool,
    /// Take DPoP-bound access tokens only
    #[arg(long, conflicts_with = "dpop")]
    require_dpop: bool,
    /// A Redis server (redis:// or rediss://) that remembers the DPoP proofs already used, shared
    /// by every instance given it, so that a proof replayed to another instance is refused too
    // Its value hidden from --help: a Redis URL may hold a password.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
    /// Require DPoP server nonces (RFC 9449 section 9) made with this secret: 32 to 64 random
    /// bytes as base64url or base64 (`openssl rand -base64 32`). Every instance given the same
    /// secret accepts the nonces of the others; each is taken for five minutes and a minute of
    /// clock skew
    // Read as text, so that clap's message for a bad value does not print the secret.
    #[arg(
        long,
        env = "DPOP_NONCE_SECRET",
        hide_env_values = true,
        requires = "dpop_taken"
    )]
    dpop_nonce_secret: Option<String>,
}

/// The largest request body taken, by the transport and by the tool scopes' check alike.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// A tool and the scopes it needs beyond `--scope`: `--tool-scope <tool>=<scopes>`.
#[derive(Clone, Debug)]
struct ToolScope {
    tool: String,
    scopes: ScopeList,
}

impl FromStr for ToolScope {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        let (tool, scopes) = value
            .split_once('=')
            .ok_or("write <tool>=<space-separated scopes>, e.g. scopes=mcp:admin")?;
        let scopes: ScopeList = scopes.parse().map_err(|error| format!("{error}"))?;
        if tool.is_empty() || scopes.is_empty() {
            return Err("name a tool and at least one scope: <tool>=<scopes>".to_owned());
        }
        Ok(ToolScope {
            tool: tool.to_owned(),
            scopes,
        })
    }
}

/// The MCP tools: `whoami`, which says whose token the request carried, and `scopes`, which says
/// what it grants (the one to give more scopes to, with `--tool-scope`).
#[derive(Clone)]
struct Tools;

#[tool_router(server_handler)]
impl Tools {
    #[tool(description = "Who the access token was issued to")]
    fn whoami(&self, Extension(parts): Extension<axum::http::request::Parts>) -> String {
        // The layer in front put the checked claims in the request; no request arrives without.
        match parts.extensions.get::<AccessTokenClaims>() {
            Some(claims) => format!(
                "sub {} (organization {})",
                claims.sub(),
                claims.org_id().unwrap_or("none")
            ),
            None => "no access token".to_owned(),
        }
    }

    #[tool(description = "The scopes the access token grants")]
    fn scopes(&self, Extension(parts): Extension<axum::http::request::Parts>) -> String {
        match parts.extensions.get::<AccessTokenClaims>() {
            Some(claims) => claims.scope().to_string(),
            None => "no access token".to_owned(),
        }
    }
}

/// What the tool scopes' check needs: the request check, for the refusal, and each tool's scopes.
struct ToolScopes {
    resource: ProtectedResource,
    tools: HashMap<String, ScopeList>,
    /// Every tool's scopes at once: what a body this check cannot read needs, so that no reading
    /// of it reaches a tool with less.
    all: ScopeList,
}

/// A JSON-RPC message, read for its method only. Derived, so a `method` given twice is refused, as
/// the transport refuses it.
#[derive(serde::Deserialize)]
struct Message {
    method: Option<String>,
}

/// A `tools/call` request, read for the tool's name.
#[derive(serde::Deserialize)]
struct ToolCall {
    params: ToolCallParams,
}

#[derive(serde::Deserialize)]
struct ToolCallParams {
    name: String,
}

impl ToolScopes {
    /// The scopes the message in `body` needs beyond every request's: a tool's, for a call of it.
    fn needed(&self, body: &[u8]) -> Option<&ScopeList> {
        let Ok(message) = serde_json::from_slice::<Message>(body) else {
            return Some(&self.all);
        };
        if message.method.as_deref() != Some("tools/call") {
            return None;
        }
        match serde_json::from_slice::<ToolCall>(body) {
            Ok(call) => self.tools.get(&call.params.name),
            Err(_) => Some(&self.all),
        }
    }
}

/// Inside the access token layer, so that only requests it took are read: a call of a tool that
/// needs more scopes than the token grants is answered 403 `insufficient_scope` before the
/// transport sees it.
async fn check_tool_scopes(
    State(scopes): State<Arc<ToolScopes>>,
    request: Request,
    next: Next,
) -> Response {
    // Without claims: a CORS preflight, which the layer passes on and which carries no call.
    let Some(claims) = request.extensions().get::<AccessTokenClaims>().cloned() else {
        return next.run(request).await;
    };
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    if let Some(needed) = scopes.needed(&bytes) {
        if let Err(refusal) = scopes.resource.check().check_scopes(&claims, needed) {
            tracing::info!(status = refusal.status(), %refusal, "tool call refused");
            return Refused(refusal).into_response();
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("{0}")]
    Check(#[from] RequestCheckError),
    #[error("{0}")]
    Setup(#[from] SetupError),
    #[error("{0}")]
    Keys(#[from] KeysError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Redis(#[from] RedisStoreError),
    #[error("--tool-scope names `{0}`, which is not a tool of this server (whoami, scopes)")]
    UnknownTool(String),
    #[error("--dpop-nonce-secret: {0}")]
    NonceSecret(#[from] DpopNonceSecretError),
}

async fn serve(options: Options) -> Result<(), Failure> {
    let tool_scopes = tool_scopes(options.tool_scopes)?;
    let mut tokens = AccessTokenCheck::new(options.issuer, options.resource.clone())
        .require_scopes(options.scope)
        .require_permissions(options.permissions)
        .leeway(options.leeway);
    if let Some(organization) = options.organization {
        tokens = tokens.require_organization(organization);
    }
    let mut proofs = DpopProofCheck::new();
    if let Some(secret) = options.dpop_nonce_secret {
        let secret: DpopNonceSecret = secret.parse()?;
        proofs = proofs.require_nonce(DatedNonces::new(secret));
    }
    if options.require_dpop {
        tokens = tokens.dpop(proofs).require_dpop();
    } else if options.dpop {
        tokens = tokens.dpop(proofs);
    }
    let mut check = RequestCheck::mcp_server(tokens)?;
    for origin in &options.allowed_origins {
        check = check.allowed_origin(origin)?;
    }
    let mut resource = ProtectedResource::builder(check)
        .keys_refresh_interval(Duration::from_secs(options.keys_refresh_interval))
        .keys_min_interval(Duration::from_secs(options.keys_refetch_interval));
    if let Some(url) = options.jwks_url {
        resource = resource.jwks_uri(url);
    }
    if let Some(url) = &options.redis_url {
        resource = resource.shared_replay_memory(RedisStore::connect(url).await?);
    }
    let resource = resource.build()?;
    // The first key set before serving: a server that cannot read its keys does not start.
    resource.keys().ready().await?;

    // Stateless, with JSON answers: each request stands alone, which suits a server behind a load
    // balancer and lets the layer check every request on its own.
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_max_request_body_bytes(MAX_BODY_BYTES)
        .with_allowed_hosts(allowed_hosts(options.resource.url(), options.listen));
    let mcp =
        StreamableHttpService::new(|| Ok(Tools), NeverSessionManager::default().into(), config);
    let mut routes = Router::new().route_service(options.resource.url().path(), mcp);
    if !tool_scopes.is_empty() {
        let all = tool_scopes.values().flatten().cloned().collect();
        let state = Arc::new(ToolScopes {
            resource: resource.clone(),
            tools: tool_scopes,
            all,
        });
        routes = routes.layer(middleware::from_fn_with_state(state, check_tool_scopes));
    }
    let app = resource.protect(routes);

    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    println!(
        "listening on http://{}{}",
        listener.local_addr()?,
        options.resource.url().path()
    );
    axum::serve(listener, app).await?;
    Ok(())
}

/// Each tool's scopes beyond every request's, its `--tool-scope` options merged; a tool this server
/// lacks is an error, lest a misspelt name leave the tool it meant with less.
fn tool_scopes(options: Vec<ToolScope>) -> Result<HashMap<String, ScopeList>, Failure> {
    let tools = Tools::tool_router();
    let mut scopes: HashMap<String, ScopeList> = HashMap::new();
    for ToolScope { tool, scopes: more } in options {
        if !tools.has_route(&tool) {
            return Err(Failure::UnknownTool(tool));
        }
        scopes.entry(tool).or_default().extend(more);
    }
    Ok(scopes)
}

/// The `Host` values the transport takes: the resource's, and the address served on.
fn allowed_hosts(resource: &Url, listen: SocketAddr) -> Vec<String> {
    let mut hosts = vec![listen.to_string(), listen.ip().to_string()];
    if let Some(host) = resource.host_str() {
        hosts.push(host.to_owned());
        if let Some(port) = resource.port() {
            hosts.push(format!("{host}:{port}"));
        }
    }
    hosts
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    match serve(Options::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::FAILURE
        }
    }
}

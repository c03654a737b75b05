//! An API that is also a minimal MCP server, protected by AuthKit access tokens: every request to
//! `/mcp` needs `Authorization: Bearer <access token>` for this resource, checked against the
//! AuthKit domain's keys; the resource's metadata (RFC 9728) tells MCP clients where to log in.
//!
//! ```text
//! cargo run -p mcp-server -- --issuer https://<sub>.authkit.app --resource https://api.example.com/mcp --scope mcp:tools
//! ```
//!
//! Register the resource in the WorkOS dashboard so that AuthKit issues tokens for it. A refused
//! request is answered 401 or 403 with a `WWW-Authenticate: Bearer` challenge naming the metadata
//! URL and the scopes required, and logged. The keys are fetched at start-up, every five minutes,
//! and when a token names a key the set lacks (at most once a minute).

mod keys;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, ORIGIN, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use axum::Router;
use clap::Parser;
use serde_json::{json, Value};
use url::Url;
use workos_connect::mcp::{IdentifierError, Issuer, Resource};
use workos_connect::resource_server::{
    bearer_token, AccessTokenCheck, AccessTokenClaims, AccessTokenError, BearerChallenge,
    ProtectedResourceMetadata,
};
use workos_connect::ScopeList;

use keys::{Keys, KeysError};

/// The MCP protocol versions this server speaks, newest first.
const PROTOCOL_VERSIONS: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];

/// An MCP server protected by AuthKit access tokens.
#[derive(Parser)]
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
}

#[derive(Clone)]
struct App {
    check: Arc<AccessTokenCheck>,
    metadata: Arc<ProtectedResourceMetadata>,
    metadata_url: Url,
    keys: Arc<Keys>,
    allowed_origins: Arc<[String]>,
}

#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("{0}")]
    Identifier(#[from] IdentifierError),
    #[error("{0}")]
    Keys(#[from] KeysError),
    #[error("the JWKS URL must be https (or http on loopback): {0}")]
    InsecureJwksUrl(Url),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The claims of a request's checked access token; a request without one is answered with the
/// status and challenge of its fault before any handler runs.
struct Authenticated(AccessTokenClaims);

/// A refusal: the status and the `WWW-Authenticate` challenge.
struct Refused(u16, BearerChallenge);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0).unwrap_or(StatusCode::UNAUTHORIZED);
        let mut response = status.into_response();
        // The challenge writes only printable ASCII, which is always a valid header value.
        if let Ok(value) = HeaderValue::from_str(&self.1.to_string()) {
            response.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
        response
    }
}

impl FromRequestParts<App> for Authenticated {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Refused> {
        let values = parts.headers.get_all(AUTHORIZATION);
        let token = bearer_token(values.iter().map(HeaderValue::as_bytes)).map_err(|error| {
            eprintln!("refused: {error}");
            Refused(
                error.status(),
                app.check
                    .request_challenge(&error, app.metadata_url.clone()),
            )
        })?;
        let refuse = |error: AccessTokenError| {
            eprintln!("refused: {error}");
            Refused(
                error.status(),
                app.check.challenge(Some(&error), app.metadata_url.clone()),
            )
        };
        let keys = app.keys.current();
        match app.check.validate(&token, &keys) {
            Ok(claims) => Ok(Authenticated(claims)),
            // A key rotation: check again with the keys fetched since, if any.
            Err(error) if error.should_refetch_keys() => {
                let Some(newer) = app.keys.after_unknown_key(&keys).await else {
                    return Err(refuse(error));
                };
                app.check
                    .validate(&token, &newer)
                    .map(Authenticated)
                    .map_err(refuse)
            }
            Err(error) => Err(refuse(error)),
        }
    }
}

/// The streamable HTTP transport's guard against DNS rebinding: a browser page from an origin not
/// allowed gets 403, before any token is looked at.
struct AllowedOrigin;

impl FromRequestParts<App> for AllowedOrigin {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, StatusCode> {
        match parts.headers.get(ORIGIN) {
            None => Ok(AllowedOrigin),
            Some(origin) if app.allowed_origins.iter().any(|allowed| origin == allowed) => {
                Ok(AllowedOrigin)
            }
            Some(_) => Err(StatusCode::FORBIDDEN),
        }
    }
}

/// A request's `MCP-Protocol-Version`, which must be one this server speaks when given.
struct ProtocolVersion;

impl<S: Sync> FromRequestParts<S> for ProtocolVersion {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, StatusCode> {
        match parts.headers.get("mcp-protocol-version") {
            Some(version) if !PROTOCOL_VERSIONS.iter().any(|known| version == known) => {
                Err(StatusCode::BAD_REQUEST)
            }
            _ => Ok(ProtocolVersion),
        }
    }
}

async fn resource_metadata(State(app): State<App>) -> Json<ProtectedResourceMetadata> {
    Json((*app.metadata).clone())
}

/// The MCP endpoint (streamable HTTP, JSON answers): `initialize`, `ping`, `tools/list`, and
/// `tools/call` of the one tool, `whoami`, which says whose token it was.
async fn mcp(
    _: AllowedOrigin,
    _: ProtocolVersion,
    Authenticated(claims): Authenticated,
    Json(message): Json<Value>,
) -> Response {
    let (Some(id), Some(method)) = (message.get("id").cloned(), message["method"].as_str()) else {
        // A notification or a response to the server: nothing to answer. A batch (an array) is
        // not part of the protocol since 2025-06-18.
        return if message.is_object() {
            StatusCode::ACCEPTED.into_response()
        } else {
            StatusCode::BAD_REQUEST.into_response()
        };
    };
    let result = match method {
        "initialize" => {
            let asked = message["params"]["protocolVersion"].as_str();
            let version = PROTOCOL_VERSIONS
                .into_iter()
                .find(|known| Some(*known) == asked)
                .unwrap_or(PROTOCOL_VERSIONS[0]);
            json!({
                "protocolVersion": version,
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "workos-connect-mcp-server", "version": env!("CARGO_PKG_VERSION")},
            })
        }
        "ping" => json!({}),
        "tools/list" => json!({"tools": [{
            "name": "whoami",
            "description": "Who the access token was issued to",
            "inputSchema": {"type": "object"},
        }]}),
        "tools/call" if message["params"]["name"] == "whoami" => json!({
            "content": [{"type": "text", "text": format!(
                "sub {} (organization {})",
                claims.sub,
                claims.org_id.as_deref().unwrap_or("none"),
            )}],
        }),
        "tools/call" => return rpc_error(id, -32602, "unknown tool"),
        _ => return rpc_error(id, -32601, "unknown method"),
    };
    Json(json!({"jsonrpc": "2.0", "id": id, "result": result})).into_response()
}

fn rpc_error(id: Value, code: i32, message: &str) -> Response {
    Json(json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}))
        .into_response()
}

async fn serve(options: Options) -> Result<(), Failure> {
    let mut metadata =
        ProtectedResourceMetadata::new(options.resource.clone(), vec![options.issuer.clone()]);
    if !options.scope.is_empty() {
        metadata = metadata.scopes_supported(options.scope.iter().map(|scope| scope.as_str()));
    }
    let metadata_url = ProtectedResourceMetadata::well_known_url(&options.resource);
    let check = AccessTokenCheck::new(options.issuer.clone(), options.resource.clone())
        .require_scopes(options.scope.clone())
        .leeway(options.leeway);
    let jwks_url = match options.jwks_url {
        Some(url) => url,
        None => options
            .issuer
            .url()
            .join("/oauth2/jwks")
            .map_err(|reason| IdentifierError::NotUrl {
                kind: "issuer",
                input: options.issuer.to_string(),
                reason,
            })?,
    };
    // The same rule as for the issuer: keys from anywhere else could be anyone's.
    let loopback = matches!(
        jwks_url.host_str(),
        Some("127.0.0.1" | "[::1]" | "localhost")
    );
    if jwks_url.scheme() != "https" && !loopback {
        return Err(Failure::InsecureJwksUrl(jwks_url));
    }
    let keys = Arc::new(
        Keys::fetch_first(jwks_url, Duration::from_secs(options.keys_refetch_interval)).await?,
    );
    tokio::spawn(
        Arc::clone(&keys).refresh_every(Duration::from_secs(options.keys_refresh_interval)),
    );
    let app = App {
        check: Arc::new(check),
        metadata: Arc::new(metadata),
        metadata_url: metadata_url.clone(),
        keys,
        allowed_origins: options.allowed_origins.into(),
    };
    let router = Router::new()
        .route(metadata_url.path(), get(resource_metadata))
        .route(options.resource.url().path(), post(mcp))
        .with_state(app);
    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    println!(
        "listening on http://{}{}",
        listener.local_addr()?,
        options.resource.url().path()
    );
    axum::serve(listener, router).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match serve(Options::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::FAILURE
        }
    }
}

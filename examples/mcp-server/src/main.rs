//! An API that is also a minimal MCP server, protected by AuthKit access tokens: every request to
//! `/mcp` needs `Authorization: Bearer <access token>` for this resource, checked against the
//! AuthKit domain's keys; the resource's metadata (RFC 9728) tells MCP clients where to log in.
//!
//! ```text
//! cargo run -p mcp-server -- --issuer https://<sub>.authkit.app --resource https://api.example.com/mcp
//! ```
//!
//! Register the resource in the WorkOS dashboard so that AuthKit issues tokens for it. A refused
//! request is answered 401 or 403 with a `WWW-Authenticate: Bearer` challenge naming the metadata
//! URL and the scopes required.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};

use axum::extract::{FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
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
    bearer_token, AccessTokenCheck, AccessTokenClaims, AccessTokenError, BearerChallenge, KeySet,
    KeySetError, ProtectedResourceMetadata,
};
use workos_connect::ScopeList;

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
    /// The JWKS URL (default: the issuer's /oauth2/jwks)
    #[arg(long)]
    jwks_url: Option<Url>,
    /// Space-separated scopes every request needs
    #[arg(long, default_value = "")]
    scope: ScopeList,
    /// Address to serve on
    #[arg(long, default_value = "127.0.0.1:8000")]
    listen: SocketAddr,
    /// Seconds of clock difference allowed with AuthKit when checking a token's times
    #[arg(long, default_value_t = 60)]
    leeway: u64,
}

#[derive(Clone)]
struct App {
    check: Arc<AccessTokenCheck>,
    metadata: Arc<ProtectedResourceMetadata>,
    metadata_url: Url,
    jwks_url: Url,
    http: reqwest::Client,
    /// Fetched at start-up, then again only when a token names a key the set lacks.
    keys: Arc<RwLock<Arc<KeySet>>>,
}

#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("{0}")]
    Identifier(#[from] IdentifierError),
    #[error("fetching the JWKS: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the JWKS: {0}")]
    Keys(#[from] KeySetError),
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
            Refused(
                error.status(),
                app.check
                    .request_challenge(&error, app.metadata_url.clone()),
            )
        })?;
        let refuse = |error: &AccessTokenError| {
            Refused(
                error.status(),
                app.check.challenge(Some(error), app.metadata_url.clone()),
            )
        };
        let keys = app.current_keys();
        match app.check.validate(&token, &keys) {
            Ok(claims) => Ok(Authenticated(claims)),
            // A key rotation: fetch the keys once more and check again.
            Err(error) if error.should_refetch_keys() => {
                let Ok(keys) = app.fetch_keys().await else {
                    return Err(refuse(&error));
                };
                app.check
                    .validate(&token, &keys)
                    .map(Authenticated)
                    .map_err(|error| refuse(&error))
            }
            Err(error) => Err(refuse(&error)),
        }
    }
}

impl App {
    fn current_keys(&self) -> Arc<KeySet> {
        match self.keys.read() {
            Ok(keys) => Arc::clone(&keys),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    async fn fetch_keys(&self) -> Result<Arc<KeySet>, Failure> {
        let body = self
            .http
            .get(self.jwks_url.clone())
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        let keys = Arc::new(KeySet::parse(&body)?);
        match self.keys.write() {
            Ok(mut held) => *held = Arc::clone(&keys),
            Err(poisoned) => *poisoned.into_inner() = Arc::clone(&keys),
        }
        Ok(keys)
    }
}

async fn resource_metadata(State(app): State<App>) -> Json<ProtectedResourceMetadata> {
    Json((*app.metadata).clone())
}

/// The MCP endpoint (streamable HTTP, JSON answers): `initialize`, `tools/list`, and `tools/call`
/// of the one tool, `whoami`, which says whose token it was.
async fn mcp(Authenticated(claims): Authenticated, Json(message): Json<Value>) -> Response {
    let Some(id) = message.get("id").cloned() else {
        // A notification (`notifications/initialized`, ...): nothing to answer.
        return StatusCode::ACCEPTED.into_response();
    };
    let result = match message["method"].as_str().unwrap_or_default() {
        "initialize" => json!({
            "protocolVersion": message["params"]["protocolVersion"].as_str().unwrap_or("2025-11-25"),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "workos-connect-mcp-server", "version": env!("CARGO_PKG_VERSION")},
        }),
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
        other => {
            return Json(json!({"jsonrpc": "2.0", "id": id, "error": {
                "code": -32601, "message": format!("unknown method {other:?}"),
            }}))
            .into_response()
        }
    };
    Json(json!({"jsonrpc": "2.0", "id": id, "result": result})).into_response()
}

async fn serve(options: Options) -> Result<(), Failure> {
    let metadata =
        ProtectedResourceMetadata::new(options.resource.clone(), vec![options.issuer.clone()])
            .scopes_supported(options.scope.iter().map(|scope| scope.as_str().to_owned()));
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
    let http = reqwest::Client::new();
    let body = http
        .get(jwks_url.clone())
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let app = App {
        check: Arc::new(check),
        metadata: Arc::new(metadata),
        metadata_url: metadata_url.clone(),
        jwks_url,
        http,
        keys: Arc::new(RwLock::new(Arc::new(KeySet::parse(&body)?))),
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

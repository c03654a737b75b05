//! The MCP server example's service without its protection: the same rmcp streamable HTTP service
//! (stateless, JSON answers, the same two tools) on the same axum server, with the same logging,
//! and no access token check. `workos-connect-load cost` runs it beside the example under the same
//! load, so that the difference in the server's CPU time per request is what the protection costs.
//!
//! It takes any request, with or without a token: it is a measuring stick for loopback, never a
//! server to deploy.
//!
//! ```text
//! mcp-server-unprotected --resource http://127.0.0.1:8000/mcp --listen 127.0.0.1:8000
//! ```

#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::process::ExitCode;

use axum::Router;
use clap::Parser;
use rmcp::handler::server::tool::Extension;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{tool, tool_router};
use url::Url;

/// The example's MCP service, unprotected, for measuring what the protection costs.
#[derive(Parser)]
struct Options {
    /// The MCP endpoint as clients reach it (its path is served)
    #[arg(long, default_value = "http://127.0.0.1:8000/mcp")]
    resource: Url,
    /// Address to serve on
    #[arg(long, default_value = "127.0.0.1:8000")]
    listen: SocketAddr,
}

/// The MCP tools: the example's two, `whoami` and `scopes`, with the same descriptions and
/// parameters, so that a `tools/list` answer is the example's byte for byte; here they have no
/// token to read.
#[derive(Clone)]
struct Tools;

#[tool_router(server_handler)]
impl Tools {
    #[tool(description = "Who the access token was issued to")]
    fn whoami(&self, Extension(_parts): Extension<axum::http::request::Parts>) -> String {
        "no access token".to_owned()
    }

    #[tool(description = "The scopes the access token grants")]
    fn scopes(&self, Extension(_parts): Extension<axum::http::request::Parts>) -> String {
        "no access token".to_owned()
    }
}

async fn serve(options: Options) -> std::io::Result<()> {
    // The example's configuration, but for the protection in front.
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_allowed_hosts(allowed_hosts(&options.resource, options.listen));
    let mcp =
        StreamableHttpService::new(|| Ok(Tools), NeverSessionManager::default().into(), config);
    let app = Router::new().route_service(options.resource.path(), mcp);
    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    println!(
        "listening on http://{}{}",
        listener.local_addr()?,
        options.resource.path()
    );
    axum::serve(listener, app).await
}

/// The `Host` values the transport takes: the resource's, and the address served on (as the
/// example's).
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
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

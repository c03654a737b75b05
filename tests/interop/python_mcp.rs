//! The official MCP Python SDK (`mcp`) and FastMCP, pinned in `python/mcp/requirements.txt`,
//! against this crate's MCP pieces.
//!
//! Their clients into the mcp-server example (`python/mcp/sdk_client.py`, the SDK's
//! `OAuthClientProvider`; `python/mcp/fastmcp_client.py`, FastMCP's `OAuth`): each discovers the
//! authorization server from the server's 401, registers, logs in with a resource indicator (the
//! user's part played headlessly) and calls `whoami`. Started with a token the server must refuse
//! (for another resource, forged, lacking the scope), each is seen refused with the challenge the
//! specification asks for, and logging in again for a token the server takes. Neither client
//! offers DPoP: their token requests carry no proof, so these run against the server taking
//! bearer tokens.

use std::process::{Command, Stdio};

use serde_json::Value;
use workos_connect::oauth::BearerChallenge;

use super::{
    forged, jwt_part, mcp_access_token, provider, provider_dir, python, stop_after, ResourceServer,
    Served,
};

/// The text the example's `whoami` answers for the provider's user.
const WHOAMI: &str = "sub user_01 (organization none)";

/// A Python MCP client under test: its script in `python/mcp/`.
#[derive(Clone, Copy)]
enum PythonClient {
    /// The official SDK's client with its `OAuthClientProvider`.
    Sdk,
    /// FastMCP's client with its `OAuth` auth.
    FastMcp,
}

impl PythonClient {
    fn script(self) -> &'static str {
        match self {
            PythonClient::Sdk => "sdk_client.py",
            PythonClient::FastMcp => "fastmcp_client.py",
        }
    }
}

/// Runs `client` against the MCP endpoint `url` with `options`; its report (see the scripts).
fn run_client(client: PythonClient, url: &str, options: &[&str]) -> Value {
    let python = python::python_env("mcp").unwrap_or_else(|reason| panic!("{reason}"));
    let child = Command::new(python)
        .arg(client.script())
        .arg(url)
        .args(options)
        .current_dir(provider_dir().join("python").join("mcp"))
        // No __pycache__ beside the scripts.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the environment's python runs");
    stop_after(child.id(), client.script());
    let output = child.wait_with_output().expect("its output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    let report = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(report).unwrap_or_else(|error| panic!("{error}: {stdout}{stderr}"))
}

/// The challenge of an answer the client saw, parsed.
fn challenge(exchange: &Value) -> BearerChallenge {
    let header = exchange["challenge"]
        .as_str()
        .unwrap_or_else(|| panic!("no WWW-Authenticate: {exchange}"));
    BearerChallenge::parse(header).unwrap_or_else(|error| panic!("{header}: {error}"))
}

/// Asserts that the client logged in once, through registration, for the server's resource, and
/// that its last request carried a token for that resource, which the server took; returns that
/// token.
fn assert_logged_in(report: &Value, server: &ResourceServer) -> String {
    assert_eq!(report["registrations"], 1, "{report}");
    let logins = report["logins"].as_array().expect("its logins");
    assert_eq!(logins.len(), 1, "{report}");
    assert_eq!(logins[0]["resource"], server.url.as_str(), "RFC 8707");
    let exchanges = report["exchanges"].as_array().expect("its requests");
    let last = exchanges.last().expect("a request to the server");
    assert_eq!(last["status"], 200, "{report}");
    let token = last["token"].as_str().expect("a token sent").to_owned();
    let claims = jwt_part(&token, 1);
    assert_eq!(claims["aud"], server.url.as_str(), "{claims}");
    assert_eq!(claims["client_id"], report["client_id"], "{claims}");
    assert_eq!(report["tools"], serde_json::json!(["whoami"]), "{report}");
    assert_eq!(report["text"], WHOAMI, "{report}");
    assert_eq!(report["is_error"], false, "{report}");
    token
}

/// A login from nothing: the first request goes without a token and is answered 401 with the
/// challenge naming the resource metadata and the scope; the client finds the provider from there.
fn logs_in_and_calls_a_tool(client: PythonClient) {
    let provider = provider();
    let server = ResourceServer::start(provider, Served::McpServer);
    let report = run_client(client, &server.url, &[]);
    let first = &report["exchanges"][0];
    assert_eq!(first["status"], 401, "{report}");
    assert_eq!(first["token"], Value::Null, "{report}");
    let challenge = challenge(first);
    assert_eq!(challenge.error, None, "{report}");
    assert_eq!(challenge.scope.as_deref(), Some("mcp:tools"));
    assert_eq!(
        challenge.resource_metadata.as_ref().map(|url| url.as_str()),
        Some(server.metadata_url().as_str())
    );
    let token = assert_logged_in(&report, &server);
    assert!(
        report["logins"][0]["scope"]
            .as_str()
            .is_some_and(|scope| scope.split(' ').any(|scope| scope == "mcp:tools")),
        "the challenge's scope asked for: {report}"
    );
    server.assert_accepts(&token);
    if let PythonClient::FastMcp = client {
        // The browser reached FastMCP's own callback server, which took the code.
        assert_eq!(report["callbacks"], serde_json::json!([200]), "{report}");
    }
}

/// Started with `token`, which the server must refuse with `status` and `error`: the refusal is
/// seen, and the client logs in again for a token the server takes. `scope` is the refused token's.
fn refused_then_logs_in(
    client: PythonClient,
    server: &ResourceServer,
    token: &str,
    scope: &str,
    status: u16,
    error: &str,
) -> Value {
    let report = run_client(
        client,
        &server.url,
        &["--token", token, "--token-scope", scope],
    );
    let first = &report["exchanges"][0];
    assert_eq!(first["token"], token, "the token it started with: {report}");
    assert_eq!(first["status"], status, "{report}");
    let challenge = challenge(first);
    assert_eq!(
        challenge.error.as_ref().map(|error| error.as_str()),
        Some(error),
        "{report}"
    );
    assert_eq!(challenge.scope.as_deref(), Some("mcp:tools"));
    assert_eq!(
        challenge.resource_metadata.as_ref().map(|url| url.as_str()),
        Some(server.metadata_url().as_str())
    );
    let fresh = assert_logged_in(&report, server);
    assert_ne!(fresh, token, "{report}");
    report
}

/// Another MCP server's token (good signature, issuer and scope): 401 `invalid_token`.
fn refuses_a_token_for_another_resource(client: PythonClient) {
    let provider = provider();
    let server = ResourceServer::start(provider, Served::McpServer);
    let other = format!("http://127.0.0.1:{}/mcp", super::free_port());
    let token = mcp_access_token(provider, "public-app", &other, "mcp:tools");
    assert_eq!(jwt_part(&token, 1)["aud"], other.as_str());
    refused_then_logs_in(client, &server, &token, "mcp:tools", 401, "invalid_token");
}

/// A token for this server re-signed by a key the provider never published: 401 `invalid_token`.
fn refuses_a_forged_token(client: PythonClient) {
    let provider = provider();
    let server = ResourceServer::start(provider, Served::McpServer);
    let token = forged(&mcp_access_token(
        provider,
        "public-app",
        &server.url,
        "mcp:tools",
    ));
    refused_then_logs_in(client, &server, &token, "mcp:tools", 401, "invalid_token");
}

/// A token for this server without the scope it requires: 403 `insufficient_scope`, and the
/// client steps up, asking for the challenge's scope on top of the one it had (SEP-2350).
fn steps_up_from_a_token_lacking_the_scope(client: PythonClient) {
    let provider = provider();
    let server = ResourceServer::start(provider, Served::McpServer);
    let token = mcp_access_token(provider, "public-app", &server.url, "mcp:read");
    let report = refused_then_logs_in(
        client,
        &server,
        &token,
        "mcp:read",
        403,
        "insufficient_scope",
    );
    let asked = report["logins"][0]["scope"].as_str().unwrap_or_default();
    for scope in ["mcp:read", "mcp:tools"] {
        assert!(asked.split(' ').any(|s| s == scope), "{scope}: {report}");
    }
}

/// The official MCP Python SDK's client logs in to the mcp-server example and calls a tool.
pub fn mcp_server_serves_the_python_sdk_client() {
    logs_in_and_calls_a_tool(PythonClient::Sdk);
}

/// FastMCP's client logs in to the mcp-server example and calls a tool.
pub fn mcp_server_serves_the_fastmcp_client() {
    logs_in_and_calls_a_tool(PythonClient::FastMcp);
}

/// See [`refuses_a_token_for_another_resource`].
pub fn mcp_server_refuses_the_python_sdk_client_a_token_for_another_resource() {
    refuses_a_token_for_another_resource(PythonClient::Sdk);
}

/// See [`refuses_a_token_for_another_resource`].
pub fn mcp_server_refuses_the_fastmcp_client_a_token_for_another_resource() {
    refuses_a_token_for_another_resource(PythonClient::FastMcp);
}

/// See [`refuses_a_forged_token`].
pub fn mcp_server_refuses_the_python_sdk_client_a_forged_token() {
    refuses_a_forged_token(PythonClient::Sdk);
}

/// See [`refuses_a_forged_token`].
pub fn mcp_server_refuses_the_fastmcp_client_a_forged_token() {
    refuses_a_forged_token(PythonClient::FastMcp);
}

/// See [`steps_up_from_a_token_lacking_the_scope`].
pub fn mcp_server_steps_up_the_python_sdk_client_lacking_the_scope() {
    steps_up_from_a_token_lacking_the_scope(PythonClient::Sdk);
}

/// See [`steps_up_from_a_token_lacking_the_scope`].
pub fn mcp_server_steps_up_the_fastmcp_client_lacking_the_scope() {
    steps_up_from_a_token_lacking_the_scope(PythonClient::FastMcp);
}

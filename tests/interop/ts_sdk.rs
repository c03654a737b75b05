//! The official MCP TypeScript SDK against this crate, and this crate against it; and a tool that
//! needs more scope than every request (step-up), on the mcp-server example.

use super::{jwt_part, mcp_access_token, provider, Answer, Browser, ResourceServer, Served};
use workos_connect::oauth::{BearerChallenge, BearerError, ScopeList};

/// The mcp-server option that makes its `scopes` tool need `mcp:admin` besides `mcp:tools`.
pub(super) const ADMIN_TOOL: [&str; 2] = ["--tool-scope", "scopes=mcp:admin"];

/// The answer to a JSON-RPC `body` posted to the server's endpoint with `token` as a bearer token.
fn post_mcp(server: &ResourceServer, token: &str, body: &str) -> Answer {
    let client = Browser::new();
    let request = client
        .agent
        .post(&server.address)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .header("authorization", format!("Bearer {token}"));
    client.read(request.send(body))
}

/// A `tools/call` of `tool` without arguments.
fn call(server: &ResourceServer, token: &str, tool: &str) -> Answer {
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"{tool}","arguments":{{}}}}}}"#
    );
    post_mcp(server, token, &body)
}

/// The text of a tool's result, asserting the call was answered with one.
fn tool_text(answer: &Answer) -> String {
    let body = String::from_utf8_lossy(&answer.body);
    assert_eq!(answer.status, 200, "{:?} {body}", answer.challenge);
    let message: serde_json::Value = serde_json::from_slice(&answer.body).expect("JSON");
    assert_eq!(message["result"]["isError"], false, "{body}");
    message["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("a text result: {body}"))
        .to_owned()
}

/// Asserts `answer` is the step-up refusal: 403 `insufficient_scope`, naming every scope the tool
/// needs and the resource's metadata.
fn assert_step_up(server: &ResourceServer, answer: &Answer) {
    let body = String::from_utf8_lossy(&answer.body);
    assert_eq!(answer.status, 403, "{body}");
    let header = answer.challenge.as_deref().expect("a WWW-Authenticate");
    let challenge = BearerChallenge::parse(header).unwrap();
    assert_eq!(
        challenge.error,
        Some(BearerError::InsufficientScope),
        "{header}"
    );
    assert_eq!(
        challenge.scope.as_deref(),
        Some("mcp:tools mcp:admin"),
        "{header}"
    );
    assert_eq!(
        challenge.resource_metadata.as_ref().map(|url| url.as_str()),
        Some(server.metadata_url().as_str()),
        "{header}"
    );
    let refusal: serde_json::Value = serde_json::from_slice(&answer.body).expect("JSON");
    assert_eq!(refusal["error"], "insufficient_scope", "{body}");
}

/// The mcp-server example with `scopes` needing `mcp:admin`, over plain HTTP: a token for
/// `mcp:tools` calls `whoami` and lists the tools, but its call of `scopes` is refused with 403
/// `insufficient_scope` naming `mcp:tools mcp:admin`; the token of a new login for both scopes
/// calls it. A body the check cannot read is held to every tool's scopes.
pub(super) fn mcp_server_refuses_a_tool_needing_more_scope_until_a_wider_login() {
    let provider = provider();
    let server = ResourceServer::start_with(provider, Served::McpServer, &ADMIN_TOOL);
    let narrow = mcp_access_token(provider, "public-app", &server.url, "mcp:tools");
    assert_eq!(jwt_part(&narrow, 1)["scope"], "mcp:tools");

    assert_eq!(
        tool_text(&call(&server, &narrow, "whoami")),
        "sub user_01 (organization none)"
    );
    let listed = post_mcp(
        &server,
        &narrow,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#,
    );
    let names: serde_json::Value = serde_json::from_slice(&listed.body).expect("JSON");
    let names: Vec<&str> = names["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|tool| tool["name"].as_str())
        .collect();
    assert!(
        names.contains(&"scopes") && names.contains(&"whoami"),
        "{names:?}"
    );

    assert_step_up(&server, &call(&server, &narrow, "scopes"));
    // `method` twice: the transport refuses it, and the check holds it to every tool's scopes.
    let doubled = r#"{"jsonrpc":"2.0","id":3,"method":"tools/list","method":"tools/call","params":{"name":"scopes"}}"#;
    assert_step_up(&server, &post_mcp(&server, &narrow, doubled));

    // The login a client makes again with the challenge's scopes.
    let challenge_scope: ScopeList = "mcp:tools mcp:admin".parse().unwrap();
    let wide = mcp_access_token(
        provider,
        "public-app",
        &server.url,
        &challenge_scope.to_string(),
    );
    assert_eq!(
        tool_text(&call(&server, &wide, "scopes")),
        "mcp:tools mcp:admin"
    );
    // Without the scope every request needs, the wider one alone does not serve.
    let admin_only = mcp_access_token(provider, "public-app", &server.url, "mcp:admin");
    let answer = call(&server, &admin_only, "whoami");
    assert_eq!(answer.status, 403);
}

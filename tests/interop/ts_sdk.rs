//! The official MCP TypeScript SDK against this crate, and this crate against it; and a tool that
//! needs more scope than every request (step-up), on the mcp-server example.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use super::mcp_client;
use super::{
    browse_to, first_line, forged, free_port, jwt_part, log_file, mcp_access_token, provider,
    provider_dir, stop_after, Answer, Browser, ProcessGuard, ResourceServer, Served, User,
};
use workos_connect::dpop::DpopChallenge;
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

/// A major version of the official MCP TypeScript SDK, as `sdk-client.mjs` and `sdk-server.mjs`
/// name it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Sdk {
    /// `@modelcontextprotocol/sdk` 1.x.
    V1,
    /// `@modelcontextprotocol/client` and `@modelcontextprotocol/server` 2.x.
    V2,
}

impl Sdk {
    fn arg(self) -> &'static str {
        match self {
            Sdk::V1 => "v1",
            Sdk::V2 => "v2",
        }
    }
}

/// Runs `sdk-client.mjs` against `server`: its report. With `refused_tokens`, the SDK also starts
/// from a token for another resource and from a forged one.
fn run_sdk_client(
    sdk: Sdk,
    server: &ResourceServer,
    dpop: bool,
    refused_tokens: bool,
) -> serde_json::Value {
    let provider = provider();
    let mut command = Command::new("node");
    command
        .args(["sdk-client.mjs", sdk.arg(), &server.url])
        .args(dpop.then_some("--dpop"))
        .current_dir(provider_dir())
        .env_remove("WRONG_AUDIENCE_TOKEN")
        .env_remove("FORGED_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if refused_tokens {
        let other = format!("http://127.0.0.1:{}/mcp", free_port());
        let wrong_audience = mcp_access_token(provider, "public-app", &other, "mcp:tools");
        assert_eq!(jwt_part(&wrong_audience, 1)["aud"], other.as_str());
        let own = mcp_access_token(provider, "public-app", &server.url, "mcp:tools");
        command
            .env("WRONG_AUDIENCE_TOKEN", wrong_audience)
            .env("FORGED_TOKEN", forged(&own));
    }
    let child = command.spawn().expect("node runs");
    stop_after(child.id(), "the SDK client");
    let output = child.wait_with_output().expect("its output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|error| panic!("{error}: {stdout}"))
}

/// The first refusal of a phase of the report: its status and challenge.
fn first_refusal(phase: &serde_json::Value) -> (u64, String) {
    let refusal = &phase["refusals"][0];
    (
        refusal["status"]
            .as_u64()
            .unwrap_or_else(|| panic!("{phase}")),
        refusal["challenge"].as_str().unwrap_or_default().to_owned(),
    )
}

/// Asserts the SDK logged in, listed the tools and called `whoami`, with a token of `token_type`
/// for `mcp:tools`, from a client it registered.
fn assert_logged_in(report: &serde_json::Value, token_type: &str) {
    assert_eq!(
        report["tools"],
        serde_json::json!(["scopes", "whoami"]),
        "{report}"
    );
    assert_eq!(
        report["text"], "sub user_01 (organization none)",
        "{report}"
    );
    assert_eq!(report["scope"], "mcp:tools", "{report}");
    assert_eq!(report["token_type"], token_type, "{report}");
    assert!(
        report["client_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{report}"
    );
}

/// Asserts the SDK met the step-up refusal (a `Bearer` or `DPoP` challenge), authorized again
/// with every scope it named, and called the tool.
fn assert_stepped_up(report: &serde_json::Value, dpop: bool) {
    let step = &report["step_up"];
    assert!(step["error"].is_null(), "{step}");
    let (status, header) = first_refusal(step);
    assert_eq!(status, 403, "{step}");
    let (error, scope) = if dpop {
        let challenge = DpopChallenge::parse(&header).unwrap();
        (
            challenge.error.map(|code| code.as_str().to_owned()),
            challenge.scope,
        )
    } else {
        let challenge = BearerChallenge::parse(&header).unwrap();
        (
            challenge.error.map(|code| code.as_str().to_owned()),
            challenge.scope,
        )
    };
    assert_eq!(error.as_deref(), Some("insufficient_scope"), "{header}");
    assert_eq!(scope.as_deref(), Some("mcp:tools mcp:admin"), "{header}");
    let asked: ScopeList = step["scopes_asked"][0]
        .as_str()
        .unwrap_or_else(|| panic!("a second login: {step}"))
        .parse()
        .unwrap();
    assert!(
        asked.contains("mcp:tools") && asked.contains("mcp:admin"),
        "{step}"
    );
    assert_eq!(step["logins"], 1, "{step}");
    assert_eq!(step["text"], "mcp:tools mcp:admin", "{step}");
    assert_eq!(step["scope"], "mcp:tools mcp:admin", "{step}");
}

/// Asserts the server refused the stored token of `phase` with 401 `invalid_token` and
/// `description`, and the SDK logged in again and called `whoami`.
fn assert_refused_then_logged_in(report: &serde_json::Value, phase: &str, description: &str) {
    let step = &report[phase];
    assert!(step["error"].is_null(), "{phase}: {step}");
    let (status, header) = first_refusal(step);
    assert_eq!(status, 401, "{phase}: {step}");
    let challenge = BearerChallenge::parse(&header).unwrap();
    assert_eq!(challenge.error, Some(BearerError::InvalidToken), "{header}");
    assert_eq!(
        challenge.error_description.as_deref(),
        Some(description),
        "{header}"
    );
    assert_eq!(step["logins"], 1, "{phase}: {step}");
    assert_eq!(step["text"], "sub user_01 (organization none)", "{step}");
}

/// The whole of an SDK's client against the example server with `scopes` needing `mcp:admin`:
/// discovery, registration, login and a tool call; step-up; and, from a refused stored token (one
/// for another resource, one forged), a new login.
fn serves_the_sdk_client(sdk: Sdk) {
    let provider = provider();
    let server = ResourceServer::start_with(provider, Served::McpServer, &ADMIN_TOOL);
    let report = run_sdk_client(sdk, &server, false, true);
    assert_logged_in(&report, "Bearer");
    assert_stepped_up(&report, false);
    assert_refused_then_logged_in(
        &report,
        "wrong_audience",
        "the access token is not for this resource",
    );
    assert_refused_then_logged_in(&report, "forged", "the access token is invalid");
}

/// The official MCP TypeScript SDK v1 client (`@modelcontextprotocol/sdk`), with its own OAuth
/// code, against the example server: login, step-up, refused tokens.
pub(super) fn mcp_server_serves_the_official_typescript_sdk_client() {
    serves_the_sdk_client(Sdk::V1);
}

/// The same with the v2 client (`@modelcontextprotocol/client`).
pub(super) fn mcp_server_serves_the_typescript_sdk_v2_client() {
    serves_the_sdk_client(Sdk::V2);
}

/// The v2 client with DPoP (its `DpopSession`) against the example server requiring DPoP: its
/// tokens are bound to its key, it proves every request, and steps up on the `DPoP` challenge.
pub(super) fn mcp_server_requiring_dpop_serves_the_typescript_sdk_v2_client() {
    let provider = provider();
    let mut options = ADMIN_TOOL.to_vec();
    options.push("--require-dpop");
    let server = ResourceServer::start_with(provider, Served::McpServer, &options);
    let report = run_sdk_client(Sdk::V2, &server, true, false);
    assert_logged_in(&report, "DPoP");
    assert_stepped_up(&report, true);
}

/// A protected MCP server made with the SDK (`sdk-server.mjs`), on a port of its own.
struct SdkServer {
    url: String,
    _process: ProcessGuard,
    /// Open while the server runs: its end stops the server, should the guard not.
    _stdin: std::process::ChildStdin,
}

impl SdkServer {
    fn start(sdk: Sdk) -> SdkServer {
        let provider = provider();
        let port = free_port().to_string();
        let mut child = Command::new("node")
            .args(["sdk-server.mjs", sdk.arg(), &port, &provider.issuer])
            .current_dir(provider_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log_file(&format!("sdk-server-{}-{port}.log", sdk.arg())))
            .spawn()
            .expect("node runs");
        let stdout = child.stdout.take().expect("its stdout");
        let stdin = child.stdin.take().expect("its stdin");
        let process = ProcessGuard(child);
        let line = first_line(stdout, "sdk-server.mjs", "listening ");
        SdkServer {
            url: line.trim().trim_start_matches("listening ").to_owned(),
            _process: process,
            _stdin: stdin,
        }
    }
}

/// What the mcp-client example printed, and the logins the user went through.
struct ClientRun {
    success: bool,
    stdout: String,
    stderr: String,
    /// The `scope` of each authorization URL the user was sent to.
    scopes_asked: Vec<String>,
}

/// Runs the mcp-client example against `url` with `args`, logging in through the provider's pages
/// each time it prints a login URL (the first login, and each step-up).
fn run_mcp_client(url: &str, args: &[&str]) -> ClientRun {
    let provider = provider();
    let port = free_port();
    let mut child = mcp_client(&[url, "--port", &port.to_string()])
        .args(args)
        .spawn()
        .expect("mcp-client starts");
    let mut stdout = child.stdout.take().expect("its stdout");
    let mut stderr = BufReader::new(child.stderr.take().expect("its stderr"));
    stop_after(child.id(), "mcp-client");
    let mut client = ProcessGuard(child);
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let mut printed = String::new();
    let mut scopes_asked = Vec::new();
    loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).expect("its output") == 0 {
            break;
        }
        printed.push_str(&line);
        if !line.starts_with(&provider.issuer) {
            continue;
        }
        let authorize_url = url::Url::parse(line.trim()).expect("a login URL");
        scopes_asked.push(
            authorize_url
                .query_pairs()
                .find(|(name, _)| name == "scope")
                .map(|(_, scope)| scope.into_owned())
                .unwrap_or_default(),
        );
        let http = Browser::new();
        let callback = browse_to(&http, line.trim(), User::Consents, &redirect_uri);
        let answer = http.get(callback.as_str());
        assert_eq!(
            answer.status,
            200,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
    }
    let mut out = String::new();
    stdout.read_to_string(&mut out).expect("its output");
    let status = client.0.wait().expect("mcp-client ends");
    ClientRun {
        success: status.success(),
        stdout: out,
        stderr: printed,
        scopes_asked,
    }
}

/// This crate's mcp-client example against a protected server made with the SDK: it logs in
/// (discovery from the SDK's 401 and metadata, registration, PKCE with a resource indicator),
/// calls `whoami`, then `scopes`, which the server answers 403 `insufficient_scope`; it logs in
/// again for the scopes it held and those the challenge names, and calls it.
fn mcp_client_steps_up_on_the_sdk_server(sdk: Sdk) {
    let server = SdkServer::start(sdk);
    let mut args = vec!["--tool", "whoami", "--tool", "scopes"];
    // v2 speaks 2026-07-28 (`server/discover`), v1 only the revisions with `initialize`: each is
    // held to the newest it speaks, so that a fallback to an older one cannot pass for it.
    args.extend(match sdk {
        Sdk::V1 => ["--protocol-version", "2025-11-25"],
        Sdk::V2 => ["--protocol-version", "2026-07-28"],
    });
    let run = run_mcp_client(&server.url, &args);
    let shown = format!("{}\n{}", run.stdout, run.stderr);
    assert!(run.success, "{shown}");
    assert!(run.stdout.contains("tools: whoami, scopes\n"), "{shown}");
    assert!(
        run.stdout.contains("whoami: ") && run.stdout.contains("sub user_01"),
        "{shown}"
    );
    assert_eq!(run.scopes_asked.len(), 2, "one login, one step-up: {shown}");
    // The challenge's scope, and offline_access, which the provider offers, for a refresh token.
    let first: ScopeList = run.scopes_asked[0].parse().unwrap();
    assert!(
        first.contains("mcp:tools") && !first.contains("mcp:admin"),
        "{shown}"
    );
    let stepped: ScopeList = run.scopes_asked[1].parse().unwrap();
    assert!(
        stepped.contains("mcp:tools") && stepped.contains("mcp:admin"),
        "{shown}"
    );
    let scopes_line = run
        .stdout
        .lines()
        .find(|line| line.starts_with("scopes: "))
        .unwrap_or_else(|| panic!("{shown}"));
    assert!(scopes_line.contains("mcp:tools mcp:admin"), "{scopes_line}");
}

/// The mcp-client example against a server made with the SDK v1 (Express, `requireBearerAuth`).
pub(super) fn mcp_client_logs_in_and_steps_up_on_a_typescript_sdk_v1_server() {
    mcp_client_steps_up_on_the_sdk_server(Sdk::V1);
}

/// The mcp-client example against a server made with the SDK v2 (`createMcpHandler`, a tool's
/// `scopeChallenge`), which speaks 2026-07-28.
pub(super) fn mcp_client_logs_in_and_steps_up_on_a_typescript_sdk_v2_server() {
    mcp_client_steps_up_on_the_sdk_server(Sdk::V2);
}

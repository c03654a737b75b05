//! An MCP client that logs in to a protected MCP server, as the MCP authorization specification
//! says: it meets the server's `401`, finds the authorization server through the protected resource
//! metadata, registers (pre-registered, Client ID Metadata Document or Dynamic Client Registration),
//! logs the user in with PKCE and a resource indicator, and calls a tool; a `403
//! insufficient_scope` leads to a new login for more scopes, at most twice.
//!
//! ```text
//! cargo run -p mcp-client -- https://mcp.example.com/mcp
//! ```
//!
//! It prints the login URL and waits for the browser to come back on a loopback port (RFC 8252).
//! With `--headless` it follows the authorization URL itself without a browser, for servers that
//! answer with a redirect at once (test servers); with `--client-credentials` it logs in as the
//! client itself (machine to machine), with the `--client-id` and `--client-secret` given. A
//! pre-registered client names the authorization server it belongs to (`--issuer`), and its
//! credentials go to no other, whichever one the MCP server names.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use serde_json::{json, Value};
use url::Url;
use workos_connect::mcp::{
    add_offline_access, select_scopes, AuthorizationClient, AuthorizationError,
    AuthorizationServerMetadata, BearerChallenge, ChallengeError, ClientCredentials,
    CredentialsError, IdentifierError, Issuer, ProtectedResourceMetadata, RegistrationError,
    RegistrationRequest, RegistrationResponse, Resource, ResourceMetadataError,
    ServerMetadataError, StepUp, StepUpError, TokenEndpointAuth,
};
use workos_connect::{
    AccessToken, CallbackError, ClientId, ClientSecret, RedirectUri, ScopeList, TokenError,
    TokenRequest, TokenResponse,
};

/// An MCP client that logs in to a protected MCP server and calls a tool.
#[derive(Parser)]
struct Options {
    /// The MCP server's URL (streamable HTTP), e.g. https://mcp.example.com/mcp
    server_url: Url,
    /// Follow the authorization URL without a browser and take the code from its redirect
    #[arg(long)]
    headless: bool,
    /// Loopback port for the redirect (0: any free port; register a fixed one for a pre-registered client)
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Client ID of a pre-registered client
    #[arg(long, env = "MCP_CLIENT_ID", requires = "issuer")]
    client_id: Option<String>,
    /// The authorization server (issuer) the pre-registered client is registered with; its
    /// credentials are sent to no other, whichever one the MCP server names
    #[arg(long, env = "MCP_CLIENT_ISSUER", requires = "client_id")]
    issuer: Option<Issuer>,
    /// Its client secret; prefer the variable: arguments show in `ps`
    #[arg(
        long,
        env = "MCP_CLIENT_SECRET",
        hide_env_values = true,
        requires = "client_id"
    )]
    client_secret: Option<String>,
    /// The https URL of this client's Client ID Metadata Document, used where the server supports it
    #[arg(long, env = "MCP_CLIENT_METADATA_URL")]
    client_metadata_url: Option<String>,
    /// Log in as the client itself (client_credentials grant) instead of a user
    #[arg(long, requires = "client_secret")]
    client_credentials: bool,
    /// The tool to call (default: the first one listed)
    #[arg(long)]
    tool: Option<String>,
}

#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the server's challenge: {0}")]
    Challenge(#[from] ChallengeError),
    #[error("protected resource metadata: {0}")]
    ResourceMetadata(#[from] ResourceMetadataError),
    #[error("authorization server metadata: {0}")]
    ServerMetadata(#[from] ServerMetadataError),
    #[error("no authorization server metadata found for {0}")]
    NoServerMetadata(Issuer),
    #[error("{0}")]
    Identifier(#[from] IdentifierError),
    #[error("registration: {0}")]
    Registration(#[from] RegistrationError),
    #[error("client credentials: {0}")]
    Credentials(#[from] CredentialsError),
    #[error("{0}")]
    Authorization(#[from] AuthorizationError),
    #[error("callback: {0}")]
    Callback(#[from] CallbackError),
    #[error("token endpoint: {0}")]
    Token(#[from] TokenError),
    #[error("step-up: {0}")]
    StepUp(#[from] StepUpError),
    #[error("{0}")]
    Setting(#[from] workos_connect::Error),
    #[error("the server answered {status} without a Bearer challenge")]
    NoChallenge { status: u16 },
    #[error("the authorization endpoint did not redirect back with a code")]
    NoRedirect,
    #[error("the server refused the new token too ({status})")]
    StillUnauthorized { status: u16 },
    #[error("MCP: {0}")]
    Mcp(String),
    #[error("loopback redirect: {0}")]
    Loopback(#[from] std::io::Error),
    #[error("the server URL has a user name or password; remove the part before `@`")]
    ServerUrlUserinfo,
}

fn main() -> ExitCode {
    let options = Options::parse();
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: &Options) -> Result<(), Failure> {
    let mut session = Session::new(options)?;
    let initialize = json!({
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "workos-connect-mcp-client", "version": env!("CARGO_PKG_VERSION")},
    });
    let initialized = session.call("initialize", initialize)?;
    if let Some(version) = initialized["protocolVersion"].as_str() {
        session.protocol_version = Some(version.to_owned());
    }
    session.notify("notifications/initialized")?;
    let tools = session.call("tools/list", json!({}))?;
    let listed: Vec<&str> = tools["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|tool| tool["name"].as_str())
        .collect();
    println!("tools: {}", listed.join(", "));
    let Some(tool) = options.tool.as_deref().or(listed.first().copied()) else {
        return Ok(());
    };
    let result = session.call("tools/call", json!({"name": tool, "arguments": {}}))?;
    println!("{tool}: {}", result["content"]);
    Ok(())
}

/// One MCP session over streamable HTTP, logging in when the server asks.
struct Session<'o> {
    options: &'o Options,
    http: reqwest::blocking::Client,
    /// For the authorization URL in headless mode: its redirect is the answer.
    no_redirects: reqwest::blocking::Client,
    access_token: Option<AccessToken>,
    /// The scopes of the last login.
    granted: ScopeList,
    /// Registrations made or given, one per authorization server.
    registrations: Vec<ClientCredentials>,
    protocol_version: Option<String>,
    session_id: Option<String>,
    next_id: u64,
}

impl<'o> Session<'o> {
    fn new(options: &'o Options) -> Result<Self, Failure> {
        // The HTTP client would send them as a Basic `Authorization` beside the bearer token, and
        // error messages would print them.
        let url = &options.server_url;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Failure::ServerUrlUserinfo);
        }
        Ok(Session {
            options,
            http: reqwest::blocking::Client::new(),
            no_redirects: reqwest::blocking::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            access_token: None,
            granted: ScopeList::new(),
            registrations: Vec::new(),
            protocol_version: None,
            session_id: None,
            next_id: 1,
        })
    }

    /// A JSON-RPC request; on `401` logs in and sends it again, on `403 insufficient_scope` logs in
    /// for more scopes, a bounded number of times.
    fn call(&mut self, method: &str, params: Value) -> Result<Value, Failure> {
        let id = self.next_id;
        self.next_id += 1;
        let message = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        // Logins this request has led to, for the step-up limit.
        let mut step_up: Option<StepUp> = None;
        loop {
            let response = self.post(&message)?;
            let status = response.status().as_u16();
            match status {
                401 if step_up.is_some() => return Err(Failure::StillUnauthorized { status }),
                401 | 403 => {}
                _ => return self.result(response, id),
            }
            let challenge = challenge(&response, status)?;
            let scopes = if status == 403 {
                let tracker = step_up.get_or_insert_with(|| StepUp::new(self.granted.clone()));
                Some(tracker.next_scopes(&challenge)?)
            } else {
                None
            };
            let stepping_up = scopes.is_some();
            self.granted = self.log_in(&challenge, scopes)?;
            if !stepping_up {
                step_up = Some(StepUp::new(self.granted.clone()));
            }
        }
    }

    fn notify(&mut self, method: &str) -> Result<(), Failure> {
        let response = self.post(&json!({"jsonrpc": "2.0", "method": method}))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(Failure::Mcp(format!(
                "{method} answered {}",
                response.status()
            )))
        }
    }

    fn post(&mut self, message: &Value) -> Result<reqwest::blocking::Response, Failure> {
        let mut request = self
            .http
            .post(self.options.server_url.clone())
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(message.to_string());
        if let Some(token) = &self.access_token {
            request = request.bearer_auth(token.secret());
        }
        if let Some(version) = &self.protocol_version {
            request = request.header("mcp-protocol-version", version);
        }
        if let Some(session) = &self.session_id {
            request = request.header("mcp-session-id", session);
        }
        let response = request.send()?;
        if let Some(session) = response.headers().get("mcp-session-id") {
            self.session_id = session.to_str().ok().map(str::to_owned);
        }
        Ok(response)
    }

    /// The JSON-RPC result with `id`, from a JSON body or an event stream.
    fn result(&self, response: reqwest::blocking::Response, id: u64) -> Result<Value, Failure> {
        let status = response.status();
        let is_stream = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/event-stream"));
        let body = response.text()?;
        if !status.is_success() {
            return Err(Failure::Mcp(format!(
                "the server answered {status}: {body}"
            )));
        }
        let messages: Vec<Value> = if is_stream {
            body.lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .filter_map(|data| serde_json::from_str(data.trim_start()).ok())
                .collect()
        } else {
            vec![serde_json::from_str(&body).map_err(|error| Failure::Mcp(error.to_string()))?]
        };
        let reply = messages
            .into_iter()
            .find(|message| message["id"] == id)
            .ok_or_else(|| Failure::Mcp(format!("no answer to request {id}")))?;
        if let Some(error) = reply.get("error") {
            return Err(Failure::Mcp(error.to_string()));
        }
        Ok(reply["result"].clone())
    }

    /// The whole flow after a challenge: discovery, registration, login, token. Returns the scopes
    /// requested.
    fn log_in(
        &mut self,
        challenge: &BearerChallenge,
        step_up_scopes: Option<ScopeList>,
    ) -> Result<ScopeList, Failure> {
        let server_url = &self.options.server_url;
        let resource_metadata = self.resource_metadata(challenge)?;
        let (server, resource) = match &resource_metadata {
            Some(metadata) => {
                let issuer = metadata
                    .authorization_servers
                    .first()
                    .ok_or(ResourceMetadataError::NoAuthorizationServer)?;
                (self.server_metadata(issuer)?, metadata.resource.clone())
            }
            // A server of the 2025-03-26 specification: the authorization server is its origin.
            None => (
                self.legacy_server_metadata()?,
                Resource::from_server_url(server_url)?,
            ),
        };
        let redirect_uri: RedirectUri = format!(
            "http://127.0.0.1:{}/callback",
            if self.options.headless {
                8976
            } else {
                self.options.port
            }
        )
        .parse()?;
        let listener = if self.options.headless {
            None
        } else {
            Some(TcpListener::bind(("127.0.0.1", self.options.port))?)
        };
        let redirect_uri = match &listener {
            Some(listener) => format!(
                "http://127.0.0.1:{}/callback",
                listener.local_addr()?.port()
            )
            .parse()?,
            None => redirect_uri,
        };
        let credentials = self.credentials(&server, &redirect_uri)?;
        let client = AuthorizationClient::new(&server, credentials)?;

        let mut scopes = step_up_scopes
            .unwrap_or_else(|| select_scopes(Some(challenge), resource_metadata.as_ref()));
        let tokens = if self.options.client_credentials {
            self.redeem(client.client_credentials_request(&scopes, Some(&resource))?)?
        } else {
            add_offline_access(&mut scopes, &server);
            let (url, pending) = client
                .login(redirect_uri, resource)
                .scopes(scopes.clone())
                .build();
            let callback = match listener {
                Some(listener) => {
                    println!("Open this URL to log in:\n{}", url.as_str());
                    receive_redirect(&listener, pending.redirect_uri())?
                }
                None => self.follow(url.as_str())?,
            };
            let code = pending.callback().check_url(&callback)?;
            self.redeem(client.token_request(&pending, &code)?)?
        };
        self.access_token = Some(tokens.access_token);
        Ok(scopes)
    }

    /// The protected resource metadata, from the challenge's URL or the well-known ones; `None`
    /// when the server publishes none.
    fn resource_metadata(
        &self,
        challenge: &BearerChallenge,
    ) -> Result<Option<ProtectedResourceMetadata>, Failure> {
        let locations = ProtectedResourceMetadata::locations(
            &self.options.server_url,
            challenge.resource_metadata.as_ref(),
        )?;
        for location in locations {
            let response = self.http.get(location.url).send()?;
            if response.status().is_success() {
                let body = response.bytes()?;
                // A document for another resource stops the login: it is not this server's.
                return Ok(Some(ProtectedResourceMetadata::parse(
                    &body,
                    &location.resource,
                )?));
            }
        }
        Ok(None)
    }

    fn server_metadata(&self, issuer: &Issuer) -> Result<AuthorizationServerMetadata, Failure> {
        for url in AuthorizationServerMetadata::well_known_urls(issuer.url()) {
            let response = self.http.get(url).send()?;
            if response.status().is_success() {
                return Ok(AuthorizationServerMetadata::parse(
                    &response.bytes()?,
                    issuer,
                )?);
            }
        }
        Err(Failure::NoServerMetadata(issuer.clone()))
    }

    fn legacy_server_metadata(&self) -> Result<AuthorizationServerMetadata, Failure> {
        let base = AuthorizationServerMetadata::legacy_base(&self.options.server_url)?;
        let response = self
            .http
            .get(AuthorizationServerMetadata::legacy_metadata_url(&base))
            .send()?;
        if response.status().is_success() {
            Ok(AuthorizationServerMetadata::parse_legacy(
                &response.bytes()?,
                &base,
            )?)
        } else {
            Ok(AuthorizationServerMetadata::legacy_defaults(&base))
        }
    }

    /// This client's registration with `server`, in the specification's order of preference:
    /// pre-registered, Client ID Metadata Document, Dynamic Client Registration.
    fn credentials(
        &mut self,
        server: &AuthorizationServerMetadata,
        redirect_uri: &RedirectUri,
    ) -> Result<ClientCredentials, Failure> {
        if let Some(known) = self
            .registrations
            .iter()
            .find(|credentials| credentials.issuer() == &server.issuer)
        {
            return Ok(known.clone());
        }
        let options = self.options;
        let credentials = if let Some(credentials) = pre_registered(options, server)? {
            credentials
        } else if let Some(url) = options
            .client_metadata_url
            .as_deref()
            .filter(|_| server.client_id_metadata_document_supported)
        {
            ClientCredentials::metadata_document(server.issuer.clone(), ClientId::new(url)?)?
        } else {
            let request = RegistrationRequest::for_server(
                server,
                "workos-connect MCP client",
                vec![redirect_uri.clone()],
            )?;
            let response = self
                .http
                .post(request.url().clone())
                .header("content-type", RegistrationRequest::CONTENT_TYPE)
                .body(request.body())
                .send()?;
            let status = response.status().as_u16();
            RegistrationResponse::parse(
                status,
                &response.bytes()?,
                &server.issuer,
                request.auth_method(),
            )?
        };
        self.registrations.push(credentials.clone());
        Ok(credentials)
    }

    /// Headless mode: the authorization endpoint's redirect, read instead of followed.
    fn follow(&self, authorization_url: &str) -> Result<Url, Failure> {
        let response = self.no_redirects.get(authorization_url).send()?;
        let location = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .ok_or(Failure::NoRedirect)?;
        Url::parse(location).map_err(|_| Failure::NoRedirect)
    }

    fn redeem(&self, request: TokenRequest) -> Result<TokenResponse, Failure> {
        let mut post = self
            .http
            .post(request.url().clone())
            .header("content-type", TokenRequest::CONTENT_TYPE)
            .header("accept", "application/json")
            .body(request.body());
        if let Some(authorization) = request.authorization() {
            post = post.header("authorization", authorization);
        }
        let response = post.send()?;
        let status = response.status().as_u16();
        Ok(TokenResponse::parse(status, &response.bytes()?)?)
    }
}

/// The pre-registered client of the options, if any, bound to the issuer it was registered with
/// (`--issuer`), never to `server`'s: [`AuthorizationClient::new`] then refuses it for any other
/// authorization server, so that an MCP server that names another one cannot have the client's
/// secret sent there.
fn pre_registered(
    options: &Options,
    server: &AuthorizationServerMetadata,
) -> Result<Option<ClientCredentials>, Failure> {
    let (Some(client_id), Some(issuer)) = (&options.client_id, &options.issuer) else {
        return Ok(None);
    };
    let secret = options
        .client_secret
        .clone()
        .map(ClientSecret::new)
        .transpose()?;
    let supported = server.token_endpoint_auth_methods_supported.as_deref();
    let method = TokenEndpointAuth::choose(supported, secret.is_some())
        .unwrap_or(TokenEndpointAuth::ClientSecretBasic);
    let method = if secret.is_some() {
        method
    } else {
        TokenEndpointAuth::None
    };
    Ok(Some(ClientCredentials::pre_registered(
        issuer.clone(),
        ClientId::new(client_id)?,
        secret,
        method,
    )?))
}

fn challenge(
    response: &reqwest::blocking::Response,
    status: u16,
) -> Result<BearerChallenge, Failure> {
    let header = response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ");
    if header.is_empty() {
        return Err(Failure::NoChallenge { status });
    }
    Ok(BearerChallenge::parse(&header)?)
}

/// How long one connection to the loopback listener may take to send its request line.
const REQUEST_LINE_TIMEOUT: Duration = Duration::from_secs(10);

/// Waits for the browser's redirect on the loopback listener and answers it. Other requests (a
/// favicon, a probe from another local program, a connection that sends nothing) are answered
/// `404` or dropped, and the wait goes on: only a request for the redirect URI's path is the
/// callback.
fn receive_redirect(listener: &TcpListener, redirect_uri: &RedirectUri) -> Result<Url, Failure> {
    let path = Url::parse(redirect_uri.as_str())
        .map_err(|_| Failure::NoRedirect)?
        .path()
        .to_owned();
    loop {
        let (mut stream, _) = listener.accept()?;
        stream.set_read_timeout(Some(REQUEST_LINE_TIMEOUT))?;
        let mut request_line = String::new();
        // A request line longer than this is no callback of ours; `take` keeps it from growing.
        let read = BufReader::new((&stream).take(16 * 1024)).read_line(&mut request_line);
        if read.is_err() {
            continue;
        }
        let mut parts = request_line.split(' ');
        let (method, target) = (parts.next(), parts.next().unwrap_or("/"));
        // Only origin-form targets (`/callback?...`): an absolute one could name another host.
        let url = Url::parse("http://127.0.0.1")
            .and_then(|base| base.join(target))
            .ok()
            .filter(|url| method == Some("GET") && target.starts_with('/') && url.path() == path);
        let Some(url) = url else {
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
            continue;
        };
        let page = "Logged in; you can close this tab.";
        write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
            page.len()
        )?;
        return Ok(url);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_metadata(issuer: &str) -> AuthorizationServerMetadata {
        let body = format!(
            r#"{{"issuer":"{issuer}","authorization_endpoint":"{issuer}/authorize","token_endpoint":"{issuer}/token",
            "code_challenge_methods_supported":["S256"],"token_endpoint_auth_methods_supported":["client_secret_basic"]}}"#
        );
        AuthorizationServerMetadata::parse(body.as_bytes(), &issuer.parse().unwrap()).unwrap()
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
        ])
        .unwrap();
        // The MCP server names another authorization server: the client is not used there.
        let elsewhere = server_metadata("https://evil.example");
        let credentials = pre_registered(&options, &elsewhere).unwrap().unwrap();
        assert!(matches!(
            AuthorizationClient::new(&elsewhere, credentials),
            Err(AuthorizationError::IssuerMismatch { .. })
        ));
        let own = server_metadata("https://auth.example.com");
        let credentials = pre_registered(&options, &own).unwrap().unwrap();
        assert!(AuthorizationClient::new(&own, credentials).is_ok());
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
    fn the_loopback_listener_waits_for_the_callback_itself() {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let redirect_uri: RedirectUri =
            format!("http://127.0.0.1:{port}/callback").parse().unwrap();
        let browser = std::thread::spawn(move || {
            let send = |line: &str| {
                let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
                stream.write_all(line.as_bytes()).unwrap();
                let mut answer = String::new();
                stream.read_to_string(&mut answer).unwrap();
                answer
            };
            let favicon = send("GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            let absolute =
                send("GET http://evil.example/callback?code=x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            let callback = send("GET /callback?code=c&state=s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            (favicon, absolute, callback)
        });
        let url = receive_redirect(&listener, &redirect_uri).unwrap();
        assert_eq!(url.path(), "/callback");
        assert_eq!(url.query(), Some("code=c&state=s"));
        let (favicon, absolute, callback) = browser.join().unwrap();
        assert!(favicon.starts_with("HTTP/1.1 404"), "{favicon}");
        assert!(absolute.starts_with("HTTP/1.1 404"), "{absolute}");
        assert!(callback.starts_with("HTTP/1.1 200"), "{callback}");
    }

    #[test]
    fn a_server_url_with_a_password_is_refused() {
        let options =
            Options::try_parse_from(["mcp-client", "https://user:pa55word@mcp.example.com/mcp"])
                .unwrap();
        let error = Session::new(&options).err().unwrap();
        assert!(matches!(error, Failure::ServerUrlUserinfo));
        assert!(!error.to_string().contains("pa55word"));
    }
}

//! The whole login round trip against a real, certified OpenID Connect provider: `oidc-provider`
//! (tests/interop/), started on loopback and shaped like WorkOS Connect.
//!
//! Each scenario builds the authorize URL with this crate, follows the provider's login and consent
//! pages with an HTTP client, checks the callback, posts the token request this crate built and
//! validates the ID token against the provider's JWKS. One scenario is an MCP client's: RFC 8414
//! discovery, Dynamic Client Registration, a login with a resource indicator, and the access token's
//! audience.
//!
//! The resource-server scenarios run against two drivers of this crate's request check: the
//! mcp-server example (`mcp_server_*`, workos-connect-axum's layer) and the actix-api example
//! (`actix_api_*`, actix-web), the same scenario body for each. The `mcp_server_*` scenarios also
//! send the mcp-server example the official MCP TypeScript SDK client (`sdk-client.mjs`, which logs in
//! with the SDK's own OAuth code), the official Rust SDK's own OAuth client (`rmcp_client.rs`),
//! this crate's mcp-client example, and refused tokens: none, for
//! another resource, expired, lacking the scope, signed by an unknown key; and rotate its keys.
//! With `--require-dpop` it takes a DPoP-bound token (RFC 9449) the provider issued for a proof by
//! this crate's `DpopKey` only with a fresh proof by that key: not without one, not replayed, not
//! by another key, not as a bearer token.
//!
//! The `device_login_*` scenarios run the device authorization grant (RFC 8628) with this crate's
//! polling, the user's part played on the provider's device pages: confirmed, refused, expired, and
//! `slow_down`; `userinfo_*` reads the userinfo endpoint.
//!
//! The `axum_login_*` scenarios run the axum-login example (workos-connect-axum's login routes and
//! `SignedIn`): one instance with sessions in memory, and two sharing sessions in a Redis server the
//! scenario starts, one of them restarted mid-session; and one with `prompt=consent`, `max_age`
//! and a `login_hint` against a client the provider treats as OpenID Connect Core section 11 does,
//! with no refresh token without that prompt (for every other client it adds the prompt itself,
//! as WorkOS needs none).
//!
//! The `django_*` scenarios run against a second authorization server, django-oauth-toolkit
//! (`django.rs`): the axum-login example, introspection, client credentials and the device grant.
//!
//! The `browser_*` scenarios (`browser.rs`) play the user's part in headless Chromium instead, the
//! axum-login example over http and https and the mcp-client example's login; a failure leaves a
//! screenshot of each page the browser had open.
//!
//! Needs Node.js and `npm ci` in tests/interop, `redis-server` for the Redis scenarios, `chromium`
//! and `openssl` for the browser scenarios. Without them the scenarios needing them are reported as
//! ignored, with a line saying what to install, except under `CI=true`, where they fail.

mod browser;
mod django;
mod python;
mod python_mcp;
mod rmcp_client;
mod ts_sdk;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use libtest_mimic::{Arguments, Failed, Trial};
use url::Url;
use workos_connect::device::{DeviceClient, DeviceError, DeviceLogin, Poll};
use workos_connect::dpop::{DpopChallenge, DpopKey, DpopNonce, DpopNonceSecret};
use workos_connect::oauth::BearerError;
use workos_connect::{
    authkit::{Userinfo, UserinfoError, UserinfoRequest},
    jose::KeySet,
    oauth::{
        AccessToken, AccessTokenType, ClientSecret, Clock, ErrorCode, OAuthError, ScopeList,
        SystemClock, TokenRequest,
    },
    AuthKitDomain, CallbackError, ConnectClient, PendingAuthorization, PkceVerifier, Scope, Scopes,
    TokenError, TokenResponse,
};
use workos_connect::{
    discovery::AuthorizationServerMetadata,
    mcp::AuthorizationClient,
    oauth::{BearerChallenge, Issuer, Resource},
    registration::{
        ClientCredentials, RegistrationRequest, RegistrationResponse, TokenEndpointAuth,
    },
};

const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

/// The provider process, started once for the whole suite. Statics are never dropped, so it is ended
/// by its stdin closing when the test binary exits.
struct Provider {
    issuer: String,
    /// Where the axum-login example listens when a scenario runs it.
    app_port: u16,
    /// A resource (RFC 8707) the provider issues tokens for: an MCP server's URL, where nothing
    /// needs to listen.
    mcp_resource: String,
    _stdin: std::process::ChildStdin,
}

struct ProcessGuard(Child);

impl Drop for ProcessGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}

/// The provider, started on first use and shared by every scenario.
fn provider() -> &'static Provider {
    static PROVIDER: OnceLock<Result<Provider, String>> = OnceLock::new();
    match PROVIDER.get_or_init(start_provider) {
        Ok(provider) => provider,
        Err(reason) => panic!("the interop provider did not start: {reason}"),
    }
}

/// Why the provider cannot run here, if it cannot: checked before any scenario is listed.
fn missing_provider() -> Option<String> {
    let installed = [
        "oidc-provider",
        "@modelcontextprotocol/sdk",
        "@modelcontextprotocol/client",
        "@modelcontextprotocol/server",
        "jose",
    ]
    .iter()
    .all(|package| provider_dir().join("node_modules").join(package).is_dir());
    if !installed {
        return Some("tests/interop/node_modules is missing or out of date".into());
    }
    match Command::new("node").arg("--version").output() {
        Ok(output) if output.status.success() => None,
        _ => Some("`node` is not on the PATH".into()),
    }
}

fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Kills a client that has not finished within a minute, so that a stuck one fails its scenario
/// instead of holding up the run.
fn stop_after(pid: u32, name: &'static str) {
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(60));
        if Command::new("kill")
            .args(["-0", &pid.to_string()])
            .status()
            .is_ok_and(|alive| alive.success())
        {
            eprintln!("{name} did not finish within a minute; stopping it");
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    });
}

/// A file for a process's messages, to read when a scenario fails.
fn log_file(name: &str) -> std::fs::File {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::File::create(&path)
        .unwrap_or_else(|error| panic!("cannot create {}: {error}", path.display()))
}

/// The provider's own messages go to a file, to read when a scenario fails.
fn provider_log(name: &str) -> Result<std::fs::File, String> {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::File::create(&path)
        .map_err(|error| format!("cannot create {}: {error}", path.display()))
}

fn start_provider() -> Result<Provider, String> {
    start_provider_with("interop-provider.log", &[])
}

/// A provider of its own, logging to `log` (in the test's temporary directory), with the extra
/// environment variables given (see provider.mjs).
fn start_provider_with(log: &str, env: &[(&str, String)]) -> Result<Provider, String> {
    let dir = provider_dir();
    let port = free_port();
    let app_port = free_port();
    let mcp_resource = format!("http://127.0.0.1:{}/mcp", free_port());
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .current_dir(&dir)
        .env("PORT", port.to_string())
        .env("REDIRECT_URI", REDIRECT_URI)
        .env("APP_REDIRECT_URI", app_callback(app_port))
        .envs(env.iter().map(|(name, value)| (name, value)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(provider_log(log)?)
        .spawn()
        .map_err(|error| format!("cannot start node: {error}"))?;
    let stdout = child.stdout.take().ok_or("no stdout from node")?;
    let stdin = child.stdin.take().ok_or("no stdin for node")?;
    // Until it is up, a failure must not leave it running.
    let guard = ProcessGuard(child);
    let mut stdout = BufReader::new(stdout);
    let mut line = String::new();
    stdout
        .read_line(&mut line)
        .map_err(|error| format!("reading the provider's output: {error}"))?;
    // The provider prints more later; a closed pipe would end it.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let issuer = line
        .trim()
        .strip_prefix("listening ")
        .ok_or_else(|| format!("the provider did not start: {line:?}"))?
        .to_owned();
    std::mem::forget(guard);
    Ok(Provider {
        issuer,
        app_port,
        mcp_resource,
        _stdin: stdin,
    })
}

/// A browser's part: no redirects followed (each hop is checked), cookies carried between hops.
struct Browser {
    agent: ureq::Agent,
    cookies: std::cell::RefCell<Vec<(String, String)>>,
}

/// An HTTP answer, read whole.
struct Answer {
    status: u16,
    location: Option<String>,
    /// `WWW-Authenticate`.
    challenge: Option<String>,
    /// `DPoP-Nonce`.
    dpop_nonce: Option<String>,
    body: Vec<u8>,
}

impl Browser {
    fn new() -> Browser {
        let agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            .build()
            .into();
        Browser {
            agent,
            cookies: Default::default(),
        }
    }

    fn get(&self, url: &str) -> Answer {
        let request = self.agent.get(url).header("cookie", self.cookie_header());
        self.read(request.call())
    }

    /// A `GET` with an `Accept` header, as a browser navigating to a page sends it.
    fn get_accepting(&self, url: &str, accept: &str) -> Answer {
        let request = self
            .agent
            .get(url)
            .header("cookie", self.cookie_header())
            .header("accept", accept);
        self.read(request.call())
    }

    /// A `GET` with an `Authorization` header, as an API client sends it (no cookies).
    fn get_with_authorization(&self, url: &str, authorization: &str) -> Answer {
        self.read(
            self.agent
                .get(url)
                .header("authorization", authorization)
                .call(),
        )
    }

    /// A form filled in on a page, posted to its `action`.
    fn post_form<K: AsRef<str>, V: AsRef<str>>(&self, action: &Url, fields: &[(K, V)]) -> Answer {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.post(action.as_str(), "application/x-www-form-urlencoded", body)
    }

    fn post(&self, url: &str, content_type: &str, body: String) -> Answer {
        self.post_from(url, content_type, body, "same-origin")
    }

    /// An empty form post another site made the browser send, as `Sec-Fetch-Site` tells.
    fn post_cross_site(&self, url: &str) -> Answer {
        self.post_from(
            url,
            "application/x-www-form-urlencoded",
            String::new(),
            "cross-site",
        )
    }

    fn post_from(&self, url: &str, content_type: &str, body: String, site: &str) -> Answer {
        self.read(self.post_request(url, content_type, site).send(body))
    }

    /// A token request as the crate built it: its form, and its `Authorization` header if any.
    fn post_token(&self, request: &TokenRequest) -> Answer {
        let mut sent = self.post_request(
            request.url().as_str(),
            TokenRequest::CONTENT_TYPE,
            "same-origin",
        );
        if let Some(authorization) = request.authorization() {
            sent = sent.header("authorization", authorization);
        }
        self.read(sent.send(request.body()))
    }

    fn post_request(
        &self,
        url: &str,
        content_type: &str,
        site: &str,
    ) -> ureq::RequestBuilder<ureq::typestate::WithBody> {
        self.agent
            .post(url)
            .header("cookie", self.cookie_header())
            .header("content-type", content_type)
            .header("sec-fetch-site", site)
    }

    fn cookie_header(&self) -> String {
        let cookies = self.cookies.borrow();
        let pairs: Vec<String> = cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        pairs.join("; ")
    }

    fn read(&self, sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
        let mut response = sent.expect("an answer");
        for set_cookie in response.headers().get_all("set-cookie") {
            let text = set_cookie.to_str().expect("an ASCII cookie");
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                let mut cookies = self.cookies.borrow_mut();
                cookies.retain(|(kept, _)| kept != name);
                cookies.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
        let header = |name: &str| {
            let value = response.headers().get(name)?;
            Some(value.to_str().expect("an ASCII header").to_owned())
        };
        let location = header("location");
        let challenge = header("www-authenticate");
        let dpop_nonce = header("dpop-nonce");
        Answer {
            status: response.status().as_u16(),
            location,
            challenge,
            dpop_nonce,
            body: response.body_mut().read_to_vec().expect("a body"),
        }
    }
}

fn connect_client(provider: &Provider, client_id: &str) -> ConnectClient {
    ConnectClient::new(
        AuthKitDomain::parse(&provider.issuer).unwrap(),
        client_id.parse().unwrap(),
        REDIRECT_URI.parse().unwrap(),
    )
}

/// What the user does on the provider's pages.
#[derive(Clone, Copy, Debug, PartialEq)]
enum User {
    Consents,
    Refuses,
}

/// Follows redirects and the provider's login and consent forms from the authorize URL until the
/// provider sends the browser to the redirect URI; returns that callback URL.
fn browse(http: &Browser, authorize_url: &str, user: User) -> Url {
    browse_to(http, authorize_url, user, REDIRECT_URI)
}

/// As [`browse`], until the provider sends the browser to `redirect_uri`.
fn browse_to(http: &Browser, authorize_url: &str, user: User, redirect_uri: &str) -> Url {
    let mut url = Url::parse(authorize_url).unwrap();
    let mut form: Option<Vec<(&str, &str)>> = None;
    for _ in 0..20 {
        let answer = match form.take() {
            Some(fields) => http.post_form(&url, &fields),
            None => http.get(url.as_str()),
        };
        if let Some(location) = answer.location.as_deref() {
            url = url.join(location).unwrap();
            if url.as_str().starts_with(redirect_uri) {
                return url;
            }
            continue;
        }
        let page = String::from_utf8(answer.body).unwrap();
        let status = answer.status;
        assert!((200..300).contains(&status), "HTTP {status}: {page}");
        let action = form_action(&page, &url);
        if page.contains("name=\"login\"") {
            url = action;
            form = Some(vec![
                ("prompt", "login"),
                ("login", "user_01"),
                ("password", "any"),
            ]);
        } else if user == User::Refuses {
            // The consent page's cancel link ends the interaction with access_denied.
            let abort = page
                .split("href=\"")
                .filter_map(|rest| rest.split('"').next())
                .find(|href| href.contains("/abort"))
                .unwrap_or_else(|| panic!("no abort link on the page: {page}"));
            url = url.join(abort).unwrap();
        } else {
            url = action;
            form = Some(vec![("prompt", "consent")]);
        }
    }
    panic!("the provider never redirected to {redirect_uri}");
}

fn post(http: &Browser, request: &TokenRequest) -> Result<TokenResponse, TokenError> {
    let answer = http.post_token(request);
    TokenResponse::parse(answer.status, &answer.body)
}

fn jwks(http: &Browser, client: &ConnectClient) -> KeySet {
    let answer = http.get(client.domain().jwks_endpoint().as_str());
    assert_eq!(answer.status, 200, "the JWKS");
    KeySet::parse(&answer.body).expect("a usable key set")
}

fn login(
    http: &Browser,
    client: &ConnectClient,
    scopes: Scopes,
    pkce: bool,
) -> (Url, PendingAuthorization) {
    let mut request = client.authorize().scopes(scopes);
    if pkce {
        request = request.with_pkce();
    }
    let (redirect, pending) = request.build().unwrap();
    (browse(http, redirect.as_str(), User::Consents), pending)
}

fn public_client_with_pkce_logs_in_and_refreshes() {
    let provider = provider();
    let http = Browser::new();
    let client = connect_client(provider, "public-app");
    let (callback, pending) = login(&http, &client, Scopes::ALL, true);
    assert!(
        callback.query_pairs().any(|(name, _)| name == "iss"),
        "{callback}"
    );

    let code = pending
        .callback()
        .require_issuer()
        .check_url(&callback)
        .unwrap();
    let tokens = post(&http, &client.token_request(&pending, &code).unwrap()).unwrap();
    assert!(!tokens.access_token.secret().is_empty());
    let id_token = tokens.id_token.as_ref().expect("an ID token for openid");
    let claims = pending
        .id_token()
        .validate(id_token, &jwks(&http, &client))
        .unwrap();
    assert_eq!(claims.nonce.as_deref(), Some(pending.nonce().secret()));
    assert_eq!(claims.sub, "user_01");
    assert_eq!(claims.aud, ["public-app"]);
    assert_eq!(claims.iss, provider.issuer);
    assert_eq!(claims.email.as_deref(), Some("user_01@example.com"));
    assert_eq!(claims.given_name.as_deref(), Some("Ada"));

    let refresh_token = tokens
        .refresh_token
        .as_ref()
        .expect("a refresh token for offline_access");
    let refreshed = post(&http, &client.refresh_request(refresh_token)).unwrap();
    assert!(!refreshed.access_token.secret().is_empty());
    assert_ne!(
        refreshed.access_token.secret(),
        tokens.access_token.secret()
    );
}

fn confidential_client_logs_in_with_its_secret() {
    let provider = provider();
    let http = Browser::new();
    let client = connect_client(provider, "confidential-app")
        .with_client_secret(ClientSecret::new("confidential-app-secret").unwrap());
    let (callback, pending) = login(&http, &client, Scope::OpenId | Scope::Email, false);
    let code = pending.callback().check_url(&callback).unwrap();
    let request = client.token_request(&pending, &code).unwrap();
    assert!(request.body().contains("client_secret="));
    let tokens = post(&http, &request).unwrap();
    let claims = pending
        .id_token()
        .validate(tokens.id_token.as_ref().unwrap(), &jwks(&http, &client))
        .unwrap();
    assert_eq!(claims.email_verified, Some(true));
    assert!(
        tokens.refresh_token.is_none(),
        "no offline_access, no refresh token"
    );

    // The same code again: codes are single-use.
    let again = post(&http, &client.token_request(&pending, &code).unwrap()).unwrap_err();
    assert!(
        matches!(
            &again,
            TokenError::Endpoint(OAuthError {
                code: ErrorCode::InvalidGrant,
                ..
            })
        ),
        "{again:?}"
    );
}

fn a_wrong_verifier_is_refused_as_invalid_grant() {
    let provider = provider();
    let http = Browser::new();
    let client = connect_client(provider, "public-app");
    let (callback, pending) = login(&http, &client, Scopes::default(), true);
    let code = pending.callback().check_url(&callback).unwrap();

    let mut kept = serde_json::to_value(&pending).unwrap();
    kept["code_verifier"] = PkceVerifier::generate().secret().into();
    let swapped: PendingAuthorization = serde_json::from_value(kept).unwrap();
    let refused = post(&http, &client.token_request(&swapped, &code).unwrap()).unwrap_err();
    assert!(
        matches!(
            &refused,
            TokenError::Endpoint(OAuthError {
                code: ErrorCode::InvalidGrant,
                ..
            })
        ),
        "{refused:?}"
    );
}

fn a_tampered_state_is_caught() {
    let provider = provider();
    let http = Browser::new();
    let client = connect_client(provider, "public-app");
    let (callback, pending) = login(&http, &client, Scopes::default(), true);
    let mut tampered = callback.clone();
    let pairs: Vec<(String, String)> = callback
        .query_pairs()
        .map(|(name, value)| {
            let value = if name == "state" {
                format!("{value}x")
            } else {
                value.into_owned()
            };
            (name.into_owned(), value)
        })
        .collect();
    tampered.query_pairs_mut().clear().extend_pairs(&pairs);
    assert_eq!(
        pending.callback().check_url(&tampered).unwrap_err(),
        CallbackError::StateMismatch
    );
    assert!(pending.callback().check_url(&callback).is_ok());
}

fn a_refused_consent_is_access_denied() {
    let provider = provider();
    let http = Browser::new();
    let client = connect_client(provider, "public-app");
    let (redirect, pending) = client
        .authorize()
        .scopes(Scope::OpenId | Scope::Profile)
        .with_pkce()
        .build()
        .unwrap();
    let callback = browse(&http, redirect.as_str(), User::Refuses);
    match pending.callback().check_url(&callback).unwrap_err() {
        CallbackError::Authorization(error) => assert_eq!(error.code, ErrorCode::AccessDenied),
        other => panic!("expected access_denied, got {other:?}"),
    }
}

/// A part of a JWT (0 the header, 1 the claims), base64url-decoded and read as JSON; the signature
/// is not checked.
fn jwt_part(token: &str, index: usize) -> serde_json::Value {
    let part = token
        .split('.')
        .nth(index)
        .unwrap_or_else(|| panic!("not a JWT: {} parts", token.split('.').count()));
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&json).expect("a JSON object")
}

/// Asserts that an access token is a JWT for `resource` alone, from `issuer`, with `mcp:tools`;
/// returns its claims.
fn assert_access_token_for(token: &str, resource: &Resource, issuer: &Issuer) -> serde_json::Value {
    let header = jwt_part(token, 0);
    assert_eq!(header["alg"], "RS256", "{header}");
    assert_eq!(header["typ"], "at+jwt", "RFC 9068: {header}");
    let claims = jwt_part(token, 1);
    match &claims["aud"] {
        serde_json::Value::String(aud) => assert_eq!(aud, resource.as_str()),
        serde_json::Value::Array(auds) => assert_eq!(auds, &[resource.as_str()]),
        other => panic!("no audience: {other}"),
    }
    assert_eq!(claims["iss"], issuer.as_str());
    let scope = claims["scope"].as_str().expect("a scope claim");
    assert!(scope.split(' ').any(|s| s == "mcp:tools"), "{claims}");
    claims
}

/// An MCP client's whole way in: the server's RFC 8414 metadata, Dynamic Client Registration as a
/// public client, a PKCE login for the MCP server's resource, and access tokens whose audience is
/// that resource alone, refreshed for it too. Another resource is refused.
fn mcp_registration_resource_audience() {
    let provider = provider();
    let http = Browser::new();
    let issuer = Issuer::new(&provider.issuer).unwrap();

    // Discovery: RFC 8414's well-known URL comes first, and the provider serves it.
    let urls = AuthorizationServerMetadata::well_known_urls(issuer.url());
    let first = &urls[0];
    assert_eq!(first.path(), "/.well-known/oauth-authorization-server");
    let answer = http.get(first.as_str());
    assert_eq!(answer.status, 200, "{first}");
    let metadata = AuthorizationServerMetadata::parse(&answer.body, &issuer).unwrap();
    assert!(metadata.registration_endpoint.is_some());

    // Registration: a public client, which proves itself with PKCE.
    let registration = RegistrationRequest::for_server(
        &metadata,
        "workos-connect interop",
        vec![REDIRECT_URI.parse().unwrap()],
    )
    .unwrap();
    assert_eq!(registration.auth_method(), TokenEndpointAuth::None);
    let answer = http.post(
        registration.url().as_str(),
        RegistrationRequest::CONTENT_TYPE,
        registration.body(),
    );
    let credentials = RegistrationResponse::parse(
        answer.status,
        &answer.body,
        &issuer,
        registration.auth_method(),
    )
    .unwrap_or_else(|error| {
        panic!(
            "{error}: HTTP {} {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        )
    });
    assert_eq!(credentials.auth_method(), TokenEndpointAuth::None);
    assert_eq!(credentials.issuer(), &issuer);
    assert!(credentials.client_secret().is_none());
    let client = AuthorizationClient::new(&metadata, credentials).unwrap();

    // The login, for the MCP server.
    let resource = Resource::new(&provider.mcp_resource).unwrap();
    let scopes: ScopeList = "mcp:tools offline_access".parse().unwrap();
    let (redirect, pending) = client
        .login(REDIRECT_URI.parse().unwrap(), resource.clone())
        .scopes(scopes)
        .build();
    assert!(redirect.as_str().contains("code_challenge_method=S256"));
    let callback = browse(&http, redirect.as_str(), User::Consents);
    let code = pending.callback().check_url(&callback).unwrap();
    let request = client.token_request(&pending, &code).unwrap();
    assert!(request.authorization().is_none(), "a public client");
    let tokens = post(&http, &request).unwrap();
    let claims = assert_access_token_for(tokens.access_token.secret(), &resource, &issuer);
    assert_eq!(claims["sub"], "user_01");
    assert_eq!(
        claims["client_id"],
        client.credentials().client_id().as_str()
    );
    assert!(tokens.id_token.is_none(), "no openid, no ID token");

    // A refresh for the same resource keeps the audience.
    let refresh_token = tokens
        .refresh_token
        .as_ref()
        .expect("a refresh token for offline_access");
    let refreshed = post(
        &http,
        &client.refresh_request(refresh_token, Some(&resource)),
    )
    .unwrap();
    assert_ne!(
        refreshed.access_token.secret(),
        tokens.access_token.secret()
    );
    assert_access_token_for(refreshed.access_token.secret(), &resource, &issuer);

    // A refresh for a resource the provider does not serve is refused at the token endpoint.
    let other = Resource::new(&format!("{}/other", provider.issuer)).unwrap();
    let latest = refreshed.refresh_token.as_ref().unwrap_or(refresh_token);
    let refused = post(&http, &client.refresh_request(latest, Some(&other))).unwrap_err();
    assert!(
        matches!(
            &refused,
            TokenError::Endpoint(OAuthError {
                code: ErrorCode::InvalidTarget,
                ..
            })
        ),
        "{refused:?}"
    );

    // A login for a resource the provider does not serve is refused before any page.
    let (redirect, pending) = client
        .login(REDIRECT_URI.parse().unwrap(), other)
        .scopes("mcp:tools".parse::<ScopeList>().unwrap())
        .build();
    let callback = browse(&http, redirect.as_str(), User::Consents);
    match pending.callback().check_url(&callback).unwrap_err() {
        CallbackError::Authorization(error) => {
            assert_eq!(error.code, ErrorCode::InvalidTarget)
        }
        other => panic!("expected invalid_target, got {other:?}"),
    }
}

fn app_callback(app_port: u16) -> String {
    format!("http://127.0.0.1:{app_port}/callback")
}

/// A workspace binary, built as a user would build it; its path.
fn built(package: &str) -> PathBuf {
    let built = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--package", package, "--bin", package])
        .status()
        .expect("cargo runs");
    assert!(built.success(), "{package} builds");
    // This test runs from <target>/debug/deps; the examples' binaries are in <target>/debug.
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join(package)))
        .expect("the target directory")
}

/// Waits for a started example's first line, which says it is ready, and goes on reading the
/// rest so that a full pipe never blocks it.
fn first_line(output: impl std::io::Read + Send + 'static, name: &str, ready: &str) -> String {
    let mut output = BufReader::new(output);
    let mut line = String::new();
    output.read_line(&mut line).expect("its first line");
    assert!(line.starts_with(ready), "{name} did not start: {line}");
    std::thread::spawn(move || std::io::copy(&mut output, &mut std::io::sink()));
    line
}

/// The axum-login example, built and started against the provider as a user would run it.
fn start_app(provider: &Provider) -> ProcessGuard {
    start_app_on(provider, provider.app_port, &[])
}

/// The axum-login example listening on `port`, with the registered redirect URI (the provider's
/// `app_port`) and the extra options given.
fn start_app_on(provider: &Provider, port: u16, options: &[&str]) -> ProcessGuard {
    start_app_as(provider, "public-app", port, options)
}

/// As [`start_app_on`], for the provider's client `client_id`.
fn start_app_as(provider: &Provider, client_id: &str, port: u16, options: &[&str]) -> ProcessGuard {
    let mut child = Command::new(built("axum-login"))
        .args(["--domain", &provider.issuer, "--client-id", client_id])
        .args(["--redirect-uri", &app_callback(provider.app_port)])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(options)
        .env_remove("WORKOS_CLIENT_SECRET")
        .env_remove("REDIS_URL")
        .stderr(Stdio::piped())
        .spawn()
        .expect("axum-login starts");
    let stderr = child.stderr.take().expect("its stderr");
    let guard = ProcessGuard(child);
    first_line(stderr, "axum-login", "serving");
    guard
}

fn axum_login_template_signs_in_refreshes_and_signs_out() {
    let provider = provider();
    let _app = start_app(provider);
    let http = Browser::new();
    let page = |path: &str| {
        let answer = http.get(&format!("http://127.0.0.1:{}{path}", provider.app_port));
        (answer.status, String::from_utf8(answer.body).unwrap())
    };
    assert!(page("/").1.contains("Log in"));

    // The login comes back to the page it was asked for, on the app's origin.
    let login = http.get(&format!(
        "http://127.0.0.1:{}/login?return_to=%2Fme%3Fview%3Dfull",
        provider.app_port
    ));
    assert_eq!(login.status, 303);
    let authorize = login.location.expect("a redirect to the provider");
    assert!(
        authorize.contains("code_challenge="),
        "no secret, so PKCE: {authorize}"
    );
    let callback = browse_to(
        &http,
        &authorize,
        User::Consents,
        &app_callback(provider.app_port),
    );
    let finished = http.get(callback.as_str());
    let body = String::from_utf8_lossy(&finished.body).into_owned();
    assert_eq!(finished.status, 303, "{body}");
    assert_eq!(
        finished.location,
        Some(format!(
            "http://127.0.0.1:{}/me?view=full",
            provider.app_port
        ))
    );
    let (status, home) = page("/");
    assert_eq!(status, 200);
    assert!(
        home.contains("Signed in as user_01@example.com (user_01)"),
        "{home}"
    );

    // The pending login was single-use: the same callback again is refused, saying why and
    // quoting neither the code nor the state.
    let replayed = http.get(callback.as_str());
    assert_eq!(replayed.status, 400);
    let why: serde_json::Value = serde_json::from_slice(&replayed.body).unwrap();
    assert_eq!(why["error"], "no_login_in_progress");
    for (name, value) in callback.query_pairs() {
        if name == "code" || name == "state" {
            assert!(!why.to_string().contains(&*value), "{name} in {why}");
        }
    }

    let form = "application/x-www-form-urlencoded";
    let app = |path: &str| format!("http://127.0.0.1:{}{path}", provider.app_port);
    let before = me(&http, &app("/me"));
    assert_eq!(before["claims"]["sub"], "user_01");
    let refreshed = http.post(&app("/refresh"), form, String::new());
    let body = String::from_utf8_lossy(&refreshed.body).into_owned();
    assert_eq!(refreshed.status, 303, "{body}");
    assert!(page("/").1.contains("Signed in as user_01@example.com"));
    let after = me(&http, &app("/me"));
    assert_ne!(
        after["access_token_sha256"], before["access_token_sha256"],
        "the refresh_token grant gave a new access token"
    );
    // A form posted from another site cannot refresh either.
    assert_eq!(http.post_cross_site(&app("/refresh")).status, 403);

    // A form posted from another site cannot sign the user out (or refresh).
    let cross_site = http.post_cross_site(&app("/logout"));
    assert_eq!(cross_site.status, 403);
    let why: serde_json::Value = serde_json::from_slice(&cross_site.body).unwrap();
    assert_eq!(why["error"], "cross_site_request");
    assert!(page("/").1.contains("Signed in as"));

    let signed_out = http.post(&app("/logout"), form, String::new());
    assert_eq!(signed_out.status, 303);
    assert!(page("/").1.contains("Log in"));
    let refused = http.post(&app("/refresh"), form, String::new());
    assert_eq!(refused.status, 401);
    assert_eq!(http.get(&app("/me")).status, 401);
    // A browser asking for a page is sent to the login instead.
    let page = http.get_accepting(&app("/me"), "text/html");
    assert_eq!(
        (page.status, page.location.as_deref()),
        (303, Some("/login?return_to=%2Fme"))
    );
}

/// Logs `http` in to the axum-login example on `port` through the provider's pages (the callback
/// the provider redirects to, at the registered redirect URI, is sent to `port`); the callback.
fn log_in_to_app(provider: &Provider, http: &Browser, port: u16) -> Url {
    let login = http.get(&format!("http://127.0.0.1:{port}/login"));
    assert_eq!(login.status, 303);
    let authorize = login.location.expect("a redirect to the provider");
    let mut callback = browse_to(
        http,
        &authorize,
        User::Consents,
        &app_callback(provider.app_port),
    );
    callback.set_port(Some(port)).unwrap();
    callback
}

/// The provider's count of the refresh_token grants `client_id` sent: granted, refused.
fn refreshes(provider: &Provider, client_id: &str) -> (u64, u64) {
    let answer = Browser::new().get(&format!("{}/test/refreshes/{client_id}", provider.issuer));
    assert_eq!(answer.status, 200);
    let count: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    let field = |name: &str| count[name].as_u64().expect("a count");
    (field("granted"), field("refused"))
}

/// Logs a session in through the app on `login_port` and sends `count` requests of it at once
/// within the refresh margin, in turn to each of `homes`: every one is signed in, and the provider
/// saw one `refresh_token` grant and none refused. The session, and the provider's counts after.
fn renew_at_once(
    provider: &Provider,
    login_port: u16,
    homes: &[&str],
    count: usize,
) -> (Browser, (u64, u64)) {
    let http = Browser::new();
    let callback = log_in_to_app(provider, &http, login_port);
    let finished = http.get(callback.as_str());
    assert_eq!(
        finished.status,
        303,
        "{}",
        String::from_utf8_lossy(&finished.body)
    );
    let before = refreshes(provider, "renewing-app");
    let urls: Vec<&str> = (0..count).map(|n| homes[n % homes.len()]).collect();
    let instances = homes.len();
    for (status, page) in all_at_once_to(&urls, &http.cookie_header()) {
        assert_eq!(status, 200, "{page}");
        assert!(
            page.contains("Signed in as user_01@example.com"),
            "{count} at once on {instances} instance(s): every request stays signed in: {page}"
        );
    }
    let after = refreshes(provider, "renewing-app");
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (1, 0),
        "{count} at once on {instances} instance(s): one refresh_token grant, none refused"
    );
    (http, after)
}

/// A `GET` of each of `urls` with the cookie header `cookie`, sent at once, each on its own
/// connection; their status and body.
fn all_at_once_to(urls: &[&str], cookie: &str) -> Vec<(u16, String)> {
    let start = std::sync::Barrier::new(urls.len());
    std::thread::scope(|scope| {
        let sent: Vec<_> = urls
            .iter()
            .map(|&url| {
                let start = &start;
                scope.spawn(move || {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .max_redirects(0)
                        .http_status_as_error(false)
                        .build()
                        .into();
                    start.wait();
                    let mut answer = agent
                        .get(url)
                        .header("cookie", cookie)
                        .call()
                        .expect("an answer");
                    let body = answer.body_mut().read_to_string().expect("a body");
                    (answer.status().as_u16(), body)
                })
            })
            .collect();
        sent.into_iter()
            .map(|thread| thread.join().expect("the request's thread"))
            .collect()
    })
}

/// Requests of one session arriving together within the refresh margin, against a provider that
/// rotates refresh tokens and revokes the grant when a rotated one comes back (RFC 9700 section
/// 4.14.2): the example redeems the refresh token once for all of them, and every one of them, and
/// every request after them, is signed in.
fn axum_login_parallel_renewals_refresh_once() {
    let provider = provider();
    let port = free_port();
    // renewing-app's logins give tokens for 30 seconds, within the 120-second margin; its
    // refreshes give tokens for an hour, past it.
    let _app = start_app_as(provider, "renewing-app", port, &["--refresh-margin", "120"]);
    let app = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let home = app("/");
    for count in [5, 50] {
        let (http, after) = renew_at_once(provider, port, &[&home], count);
        for _ in 0..3 {
            assert!(String::from_utf8_lossy(&http.get(&app("/")).body).contains("Signed in as"));
        }
        assert_eq!(me(&http, &app("/me"))["claims"]["sub"], "user_01");
        assert_eq!(
            refreshes(provider, "renewing-app"),
            after,
            "the renewed token lasts past the margin"
        );
        // The grant lives on: no rotated refresh token came back to the provider.
        let form = "application/x-www-form-urlencoded";
        let refreshed = http.post(&app("/refresh"), form, String::new());
        let body = String::from_utf8_lossy(&refreshed.body).into_owned();
        assert_eq!(refreshed.status, 303, "{body}");
        assert!(String::from_utf8_lossy(&http.get(&app("/")).body).contains("Signed in as"));
    }
}

/// A callback another site made up, arriving while the user logs in, leaves the login in
/// progress: the genuine callback after it signs the user in. Replayed after that, the genuine
/// callback is refused and leaves the user signed in.
fn axum_login_survives_forged_and_replayed_callbacks() {
    let provider = provider();
    let port = free_port();
    let _app = start_app_on(provider, port, &[]);
    let app = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let http = Browser::new();
    let callback = log_in_to_app(provider, &http, port);

    for forged in [
        "/callback?code=forged&state=forged",
        "/callback?code=forged",
    ] {
        let answer = http.get(&app(forged));
        assert_eq!(answer.status, 400, "{forged}");
    }
    let finished = http.get(callback.as_str());
    let body = String::from_utf8_lossy(&finished.body).into_owned();
    assert_eq!(
        finished.status, 303,
        "the genuine callback succeeds: {body}"
    );
    let signed_in = me(&http, &app("/me"));
    assert_eq!(signed_in["claims"]["sub"], "user_01");

    let replayed = http.get(callback.as_str());
    assert_eq!(replayed.status, 400);
    assert!(String::from_utf8_lossy(&replayed.body).contains("no login in progress"));
    assert_eq!(
        me(&http, &app("/me")),
        signed_in,
        "the replay leaves the session as it was"
    );
}

/// A provider that follows OpenID Connect Core section 11, as oidc-provider does for strict-app
/// (WorkOS does not), drops `offline_access` without `prompt=consent`: a login without the prompt
/// gets no refresh token. The axum-login example with `--prompt consent` gets one and refreshes
/// with it; with `--max-age` its callback takes the ID token only with a recent `auth_time`; and
/// the `login_hint` given to its `/login` fills in the provider's login form.
fn axum_login_prompt_consent_gets_a_refresh_token_from_a_strict_provider() {
    let provider = provider();
    let http = Browser::new();
    let client = connect_client(provider, "strict-app");
    let (callback, pending) = login(&http, &client, Scopes::ALL, true);
    let code = pending.callback().check_url(&callback).unwrap();
    let tokens = post(&http, &client.token_request(&pending, &code).unwrap()).unwrap();
    assert!(
        tokens.refresh_token.is_none(),
        "offline_access without prompt=consent gives no refresh token here"
    );

    let port = free_port();
    let options = ["--prompt", "consent", "--max-age", "600"];
    let _app = start_app_as(provider, "strict-app", port, &options);
    let app = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let http = Browser::new();
    let login = http.get(&app("/login?login_hint=user_01%40example.com"));
    assert_eq!(login.status, 303);
    let authorize = login.location.expect("a redirect to the provider");
    assert!(
        authorize.contains("&prompt=consent&max_age=600&login_hint=user_01%40example.com"),
        "{authorize}"
    );
    // The provider's login page, its form filled in with the hint.
    let mut page_url = Url::parse(&authorize).unwrap();
    let page = loop {
        let answer = http.get(page_url.as_str());
        match answer.location.as_deref() {
            Some(location) => page_url = page_url.join(location).unwrap(),
            None => break String::from_utf8(answer.body).unwrap(),
        }
    };
    assert!(page.contains("value=\"user_01@example.com\""), "{page}");
    let mut callback = browse_to(
        &http,
        page_url.as_str(),
        User::Consents,
        &app_callback(provider.app_port),
    );
    callback.set_port(Some(port)).unwrap();
    let finished = http.get(callback.as_str());
    let body = String::from_utf8_lossy(&finished.body).into_owned();
    assert_eq!(finished.status, 303, "{body}");

    let before = me(&http, &app("/me"));
    let auth_time = before["claims"]["auth_time"]
        .as_u64()
        .expect("an auth_time, which max_age requires");
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        now.abs_diff(auth_time) < 600,
        "auth_time {auth_time}, now {now}"
    );
    let form = "application/x-www-form-urlencoded";
    let refreshed = http.post(&app("/refresh"), form, String::new());
    let body = String::from_utf8_lossy(&refreshed.body).into_owned();
    assert_eq!(
        refreshed.status, 303,
        "a refresh token came with prompt=consent: {body}"
    );
    assert_ne!(
        me(&http, &app("/me"))["access_token_sha256"],
        before["access_token_sha256"],
        "the refresh_token grant gave a new access token"
    );
}

/// `GET url` answered with 200 and JSON: the example's `/me`.
fn me(http: &Browser, url: &str) -> serde_json::Value {
    let answer = http.get(url);
    let body = String::from_utf8_lossy(&answer.body).into_owned();
    assert_eq!(answer.status, 200, "{url}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|error| panic!("{url}: {error}: {body}"))
}

/// A Redis server of the test's own, on a free loopback port, writing nothing to disk; ended when
/// dropped.
struct Redis {
    url: String,
    _process: ProcessGuard,
}

/// Why Redis cannot run here, if it cannot.
fn missing_redis() -> Option<String> {
    let found = |program: &str| {
        Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|output| output.status.success())
    };
    (!found("redis-server") || !found("redis-cli"))
        .then(|| "`redis-server` or `redis-cli` is not on the PATH".to_owned())
}

impl Redis {
    fn start() -> Redis {
        let port = free_port().to_string();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("redis-{port}"));
        std::fs::create_dir_all(&dir).expect("a directory for redis");
        let child = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdout(log_file("redis.log"))
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let process = ProcessGuard(child);
        let started = Instant::now();
        loop {
            let ping = Command::new("redis-cli")
                .args(["-p", &port, "ping"])
                .stderr(Stdio::null())
                .output()
                .expect("redis-cli runs");
            if String::from_utf8_lossy(&ping.stdout).trim() == "PONG" {
                break;
            }
            assert!(
                started.elapsed().as_secs() < 10,
                "redis-server did not answer within 10 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Redis {
            url: format!("redis://127.0.0.1:{port}"),
            _process: process,
        }
    }
}

fn axum_login_instances_share_sessions_in_redis() {
    let provider = provider();
    let redis = Redis::start();
    let shared = ["--redis-url", redis.url.as_str()];
    let (port_a, port_b) = (free_port(), free_port());
    let a = |path: &str| format!("http://127.0.0.1:{port_a}{path}");
    let b = |path: &str| format!("http://127.0.0.1:{port_b}{path}");
    let _a = start_app_on(provider, port_a, &shared);
    let mut instance_b = start_app_on(provider, port_b, &shared);
    // One browser: cookies are the host's, whatever the port, as behind one load balancer.
    let http = Browser::new();

    let login = http.get(&a("/login"));
    assert_eq!(login.status, 303);
    let authorize = login.location.expect("a redirect to the provider");
    let callback = browse_to(
        &http,
        &authorize,
        User::Consents,
        &app_callback(provider.app_port),
    );
    // The login began on A; its callback reaches B, which finds the pending login in Redis.
    let mut on_b = callback.clone();
    on_b.set_port(Some(port_b)).unwrap();
    let finished = http.get(on_b.as_str());
    let body = String::from_utf8_lossy(&finished.body).into_owned();
    assert_eq!(finished.status, 303, "{body}");
    let mut on_a = callback;
    on_a.set_port(Some(port_a)).unwrap();
    let replayed = http.get(on_a.as_str());
    assert_eq!(
        replayed.status, 400,
        "the callback is single-use on every instance"
    );

    let first = me(&http, &b("/me"));
    assert_eq!(first["claims"]["sub"], "user_01");
    assert_eq!(first["claims"]["email"], "user_01@example.com");
    assert_eq!(me(&http, &a("/me")), first);

    let form = "application/x-www-form-urlencoded";
    let refreshed = http.post(&b("/refresh"), form, String::new());
    let body = String::from_utf8_lossy(&refreshed.body).into_owned();
    assert_eq!(refreshed.status, 303, "{body}");
    let second = me(&http, &a("/me"));
    assert_ne!(
        second["access_token_sha256"], first["access_token_sha256"],
        "B's refresh_token grant gave a new access token, and A reads it from Redis"
    );

    // B restarted, renewing any token that expires within a day, so at once: the session
    // survives, and the refresh uses the token B's earlier refresh rotated.
    drop(instance_b);
    instance_b = start_app_on(
        provider,
        port_b,
        &[&shared[..], &["--refresh-margin", "86400"]].concat(),
    );
    let third = me(&http, &b("/me"));
    assert_eq!(third["claims"]["sub"], "user_01");
    assert_ne!(third["access_token_sha256"], second["access_token_sha256"]);
    assert_eq!(
        me(&http, &a("/me"))["access_token_sha256"],
        third["access_token_sha256"],
        "the extractor saved the renewed tokens"
    );

    assert_eq!(http.post_cross_site(&a("/logout")).status, 403);
    assert_eq!(http.get(&b("/me")).status, 200);
    let signed_out = http.post(&a("/logout"), form, String::new());
    assert_eq!(signed_out.status, 303);
    assert_eq!(
        http.get(&b("/me")).status,
        401,
        "B refuses the ended session"
    );
    assert!(String::from_utf8_lossy(&http.get(&b("/")).body).contains("Log in"));
    drop(instance_b);
}

/// Requests of one session arriving together at two instances sharing the sessions in Redis,
/// within the refresh margin, against a provider that revokes the grant when a rotated refresh
/// token comes back: the instances take turns through Redis, so the refresh token is redeemed once
/// for all of them, and the user stays signed in on both.
fn axum_login_instances_renew_once_together() {
    let provider = provider();
    let redis = Redis::start();
    // renewing-app's logins give tokens for 30 seconds, within the 120-second margin; its
    // refreshes give tokens for an hour, past it.
    let options = ["--redis-url", redis.url.as_str(), "--refresh-margin", "120"];
    let (port_a, port_b) = (free_port(), free_port());
    let _a = start_app_as(provider, "renewing-app", port_a, &options);
    let _b = start_app_as(provider, "renewing-app", port_b, &options);
    let (home_a, home_b) = (
        format!("http://127.0.0.1:{port_a}/"),
        format!("http://127.0.0.1:{port_b}/"),
    );
    for count in [4, 20] {
        let (http, after) = renew_at_once(provider, port_a, &[&home_a, &home_b], count);
        for home in [&home_a, &home_b] {
            assert!(String::from_utf8_lossy(&http.get(home).body).contains("Signed in as"));
        }
        assert_eq!(refreshes(provider, "renewing-app"), after);
    }
}

/// Two instances of one MCP server taking DPoP-bound tokens, behind one load balancer, their
/// memory of used proofs shared in Redis: a proof taken by A is refused at B, a fresh one passes
/// at B, and with Redis stopped a request is refused with 503, never taken unchecked.
fn mcp_server_instances_share_dpop_replays_in_redis() {
    let provider = provider();
    let redis = Redis::start();
    let options = ["--require-dpop", "--redis-url", redis.url.as_str()];
    let a = ResourceServer::start_with(provider, Served::McpServer, &options);
    let b = ResourceServer::start_instance_of(provider, Served::McpServer, &a.url, &options);
    let key = DpopKey::generate();
    let token = mcp_dpop_access_token(provider, &a.url, &key);
    let url = Url::parse(&a.url).unwrap();
    let access_token = AccessToken::new(token.clone()).unwrap();
    let sign = || {
        key.proof("POST", &url)
            .access_token(&access_token)
            .sign()
            .unwrap()
    };

    let proof = sign();
    a.assert_accepted(&initialize_with_dpop(&a, &token, Some(proof.as_str())));
    let replayed = initialize_with_dpop(&b, &token, Some(proof.as_str()));
    assert_eq!(replayed.status, 401, "A's proof replayed to B");
    assert_eq!(dpop_error(&replayed).as_deref(), Some("invalid_dpop_proof"));
    b.assert_accepted(&initialize_with_dpop(&b, &token, Some(sign().as_str())));
    let replayed = initialize_with_dpop(&a, &token, Some(proof.as_str()));
    assert_eq!(replayed.status, 401, "and to A again");

    drop(redis);
    for server in [&a, &b] {
        let answer = initialize_with_dpop(server, &token, Some(sign().as_str()));
        let body = String::from_utf8_lossy(&answer.body).into_owned();
        assert_eq!(
            answer.status, 503,
            "Redis down: refused, never taken: {body}"
        );
        assert!(body.contains("temporarily_unavailable"), "{body}");
    }
}

/// `RedisStore` keeps sessions as `tower-sessions` expects of a store, in a real Redis: a record
/// read back whole, a colliding ID never taking another session's key, a save never bringing back
/// a deleted session, the key expiring with the session.
fn redis_store_keeps_sessions_in_redis() {
    use workos_connect_axum::tower_sessions::cookie::time::{Duration as Span, OffsetDateTime};
    use workos_connect_axum::tower_sessions::session::{Id, Record};
    use workos_connect_axum::tower_sessions::SessionStore;
    use workos_connect_axum::{RedisStore, RedisStoreError};

    let redis = Redis::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let cli = |args: &[&str]| {
        let port = redis.url.rsplit(':').next().unwrap();
        let output = Command::new("redis-cli")
            .args(["-p", port])
            .args(args)
            .output()
            .expect("redis-cli runs");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    runtime.block_on(async {
        let store = RedisStore::connect(&redis.url).await.expect("connected");
        let record = |value: i64| Record {
            id: Id::default(),
            data: [("n".to_owned(), serde_json::json!(value))].into(),
            expiry_date: OffsetDateTime::now_utc() + Span::hours(1),
        };
        let mut first = record(1);
        store.create(&mut first).await.expect("created");
        assert_eq!(store.load(&first.id).await.unwrap().as_ref(), Some(&first));
        let ttl: i64 = cli(&["ttl", &format!("workos-connect:session:{}", first.id)])
            .parse()
            .unwrap();
        assert!(
            (3590..=3600).contains(&ttl),
            "the key expires with the session: {ttl}"
        );

        let mut colliding = Record {
            id: first.id,
            ..record(2)
        };
        store.create(&mut colliding).await.expect("created");
        assert_ne!(colliding.id, first.id, "a colliding ID is replaced");
        assert_eq!(store.load(&first.id).await.unwrap().as_ref(), Some(&first));

        let changed = Record {
            data: [("n".to_owned(), serde_json::json!(3))].into(),
            ..first.clone()
        };
        store.save(&changed).await.expect("saved");
        assert_eq!(
            store.load(&first.id).await.unwrap().as_ref(),
            Some(&changed)
        );

        store.delete(&first.id).await.expect("deleted");
        assert_eq!(store.load(&first.id).await.unwrap(), None);
        store
            .save(&changed)
            .await
            .expect("a save after the delete is no error");
        assert_eq!(
            store.load(&first.id).await.unwrap(),
            None,
            "a logout is final"
        );

        let apart = RedisStore::connect(&redis.url)
            .await
            .unwrap()
            .with_prefix("app2:");
        let mut other = record(4);
        apart.create(&mut other).await.expect("created");
        assert_eq!(cli(&["exists", &format!("app2:session:{}", other.id)]), "1");
        assert_eq!(
            store.load(&other.id).await.unwrap(),
            None,
            "prefixes keep apps apart"
        );
        assert!(!format!("{store:?}").contains("127.0.0.1"), "{store:?}");

        let closed = format!("redis://127.0.0.1:{}", free_port());
        let refused = tokio::time::timeout(Duration::from_secs(10), RedisStore::connect(&closed))
            .await
            .expect("a Redis that is down is an error at once, not a wait");
        assert!(
            matches!(refused, Err(RedisStoreError::Connect(_))),
            "{refused:?}"
        );
        assert!(matches!(
            RedisStore::connect("http://127.0.0.1:1").await,
            Err(RedisStoreError::Url(_))
        ));
    });
}

/// The example serving the resource in a resource-server scenario: the same scenario runs against
/// each, so that both drivers of the core's request check are held to the same answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Served {
    /// `examples/mcp-server`: rmcp behind workos-connect-axum's layer.
    McpServer,
    /// `examples/actix-api`: an actix-web JSON API with its own key-fetching loop.
    ActixApi,
}

impl Served {
    const ALL: [Served; 2] = [Served::McpServer, Served::ActixApi];

    /// The package, and the prefix of its scenarios' names.
    fn package(self) -> &'static str {
        match self {
            Served::McpServer => "mcp-server",
            Served::ActixApi => "actix-api",
        }
    }

    /// The resource's path, which the provider issues tokens for.
    fn path(self) -> &'static str {
        match self {
            Served::McpServer => "/mcp",
            Served::ActixApi => "/api",
        }
    }

    /// What the body of an accepted request holds.
    fn accepted_body(self) -> &'static str {
        match self {
            Served::McpServer => "\"serverInfo\"",
            Served::ActixApi => "\"sub\":\"user_01\"",
        }
    }
}

/// A resource server example, started against the provider on a port of its own. It requires
/// `mcp:tools` and allows no clock leeway, so that a token issued a second before has expired.
struct ResourceServer {
    /// Its endpoint: the resource its tokens must be for.
    url: String,
    /// Where it listens for that endpoint: `url` itself, unless it is one of several instances
    /// serving one resource.
    address: String,
    served: Served,
    _process: ProcessGuard,
}

impl ResourceServer {
    fn start(provider: &Provider, served: Served) -> ResourceServer {
        ResourceServer::start_with(provider, served, &[])
    }

    /// Started with more options.
    fn start_with(provider: &Provider, served: Served, options: &[&str]) -> ResourceServer {
        ResourceServer::start_serving(provider, served, None, options)
    }

    /// Another instance of the resource at `url`, on a port of its own, as a load balancer would
    /// reach it.
    fn start_instance_of(
        provider: &Provider,
        served: Served,
        url: &str,
        options: &[&str],
    ) -> ResourceServer {
        ResourceServer::start_serving(provider, served, Some(url), options)
    }

    fn start_serving(
        provider: &Provider,
        served: Served,
        url: Option<&str>,
        options: &[&str],
    ) -> ResourceServer {
        let port = free_port();
        let address = format!("http://127.0.0.1:{port}{}", served.path());
        let url = url.map_or_else(|| address.clone(), str::to_owned);
        let name = served.package();
        let mut child = Command::new(built(name))
            .args(["--issuer", &provider.issuer, "--resource", &url])
            .args(["--scope", "mcp:tools", "--leeway", "0"])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(options)
            .env_remove("WORKOS_AUTHKIT_DOMAIN")
            .env_remove("MCP_RESOURCE")
            .env_remove("REDIS_URL")
            .stdout(Stdio::piped())
            // What it logs (refused requests, failed key fetches), to read when a scenario fails.
            .stderr(log_file(&format!("{name}-{port}.log")))
            .spawn()
            .unwrap_or_else(|error| panic!("{name} starts: {error}"));
        let stdout = child.stdout.take().expect("its stdout");
        let process = ProcessGuard(child);
        first_line(stdout, name, "listening on");
        ResourceServer {
            url,
            address,
            served,
            _process: process,
        }
    }

    fn metadata_url(&self) -> String {
        let path = self.served.path();
        self.url.replace(
            path,
            &format!("/.well-known/oauth-protected-resource{path}"),
        )
    }

    /// The answer to an MCP `initialize` request sent with these `Authorization` header values.
    fn initialize(&self, authorization: &[&str]) -> Answer {
        let headers: Vec<(&str, &str)> = authorization
            .iter()
            .map(|value| ("authorization", *value))
            .collect();
        self.initialize_with(&headers)
    }

    /// The answer to an MCP `initialize` request sent with these headers.
    fn initialize_with(&self, headers: &[(&str, &str)]) -> Answer {
        // An API client: no cookies, none kept.
        let client = Browser::new();
        let mut request = client
            .agent
            .post(&self.address)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"interop","version":"0"}}}"#;
        client.read(request.send(body))
    }

    /// The answer to an `OPTIONS` request for the endpoint, sent with these headers.
    fn options_with(&self, headers: &[(&str, &str)]) -> Answer {
        let client = Browser::new();
        let mut request = client.agent.options(&self.url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        client.read(request.call())
    }

    fn assert_accepts(&self, token: &str) {
        let answer = self.initialize(&[&format!("Bearer {token}")]);
        self.assert_accepted(&answer);
    }

    /// Asserts an answer is the endpoint's own, given to a request it took.
    fn assert_accepted(&self, answer: &Answer) {
        let body = String::from_utf8_lossy(&answer.body);
        assert_eq!(answer.status, 200, "{:?} {body}", answer.challenge);
        assert!(body.contains(self.served.accepted_body()), "{body}");
    }

    /// Asserts the status and the `WWW-Authenticate` challenge of a refused request: it always
    /// names the resource metadata and the scope required.
    fn assert_refuses(
        &self,
        authorization: &[&str],
        status: u16,
        error: Option<&str>,
        description: Option<&str>,
    ) {
        let answer = self.initialize(authorization);
        assert_eq!(answer.status, status, "{authorization:?}");
        let header = answer.challenge.expect("a WWW-Authenticate challenge");
        let challenge = BearerChallenge::parse(&header).unwrap();
        assert_eq!(
            challenge.error.as_ref().map(|error| error.as_str()),
            error,
            "{header}"
        );
        assert_eq!(
            challenge.error_description.as_deref(),
            description,
            "{header}"
        );
        assert_eq!(challenge.scope.as_deref(), Some("mcp:tools"), "{header}");
        assert_eq!(
            challenge.resource_metadata.as_ref().map(Url::as_str),
            Some(self.metadata_url().as_str()),
            "{header}"
        );
    }

    fn assert_refuses_token(&self, token: &str, status: u16, error: &str, description: &str) {
        self.assert_refuses(
            &[&format!("Bearer {token}")],
            status,
            Some(error),
            Some(description),
        );
    }
}

/// The token request that ends a PKCE login of the provider's static public client `client_id`
/// for `resource` with `scopes`, made with this crate's MCP client types, and the browser that
/// logged in.
fn mcp_token_request(
    provider: &Provider,
    client_id: &str,
    resource: &str,
    scopes: &str,
) -> (Browser, TokenRequest) {
    let http = Browser::new();
    let issuer = Issuer::new(&provider.issuer).unwrap();
    let metadata_url = &AuthorizationServerMetadata::well_known_urls(issuer.url())[0];
    let answer = http.get(metadata_url.as_str());
    let metadata = AuthorizationServerMetadata::parse(&answer.body, &issuer).unwrap();
    let credentials = ClientCredentials::pre_registered(
        issuer,
        client_id.parse().unwrap(),
        None,
        TokenEndpointAuth::None,
    )
    .unwrap();
    let client = AuthorizationClient::new(&metadata, credentials).unwrap();
    let (redirect, pending) = client
        .login(
            REDIRECT_URI.parse().unwrap(),
            Resource::new(resource).unwrap(),
        )
        .scopes(scopes.parse::<ScopeList>().unwrap())
        .build();
    let callback = browse(&http, redirect.as_str(), User::Consents);
    let code = pending.callback().check_url(&callback).unwrap();
    let request = client.token_request(&pending, &code).unwrap();
    (http, request)
}

/// An access token for `resource` with `scopes`, from [`mcp_token_request`]'s login.
fn mcp_access_token(provider: &Provider, client_id: &str, resource: &str, scopes: &str) -> String {
    let (http, request) = mcp_token_request(provider, client_id, resource, scopes);
    let tokens = post(&http, &request).unwrap();
    tokens.access_token.secret().to_owned()
}

fn serves_its_metadata_and_refuses_requests_without_a_token(served: Served) {
    let provider = provider();
    let server = ResourceServer::start(provider, served);

    let answer = Browser::new().get(&server.metadata_url());
    assert_eq!(answer.status, 200);
    let metadata: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(metadata["resource"], server.url.as_str());
    assert_eq!(
        metadata["authorization_servers"],
        serde_json::json!([provider.issuer])
    );
    assert_eq!(
        metadata["scopes_supported"],
        serde_json::json!(["mcp:tools"])
    );
    assert_eq!(
        metadata["bearer_methods_supported"],
        serde_json::json!(["header"])
    );

    // No credential, or one of another scheme: a bare challenge (RFC 6750 section 3.1).
    server.assert_refuses(&[], 401, None, None);
    server.assert_refuses(&["Basic dXNlcjpwYXNz"], 401, None, None);
    // A credential that is not one bearer token: a bad request.
    server.assert_refuses(
        &["Bearer a b"],
        400,
        Some("invalid_request"),
        Some("more than one token after `Bearer`"),
    );
    server.assert_refuses(
        &["Bearer abc", "Bearer abc"],
        400,
        Some("invalid_request"),
        Some("the request has more than one Authorization header; send exactly one"),
    );
    server.assert_refuses_token("abc", 401, "invalid_token", "the access token is malformed");

    // A page of another origin: the MCP server refuses it with 403 before the token is looked at,
    // saying how to allow it, and a repeated Origin too (the transport's guard against DNS
    // rebinding); the API takes it with its token, as it takes a page of its own origin.
    let token = mcp_access_token(provider, "public-app", &server.url, "mcp:tools");
    let bearer = format!("Bearer {token}");
    server.assert_accepts(&token);
    let own = server.url.replace(served.path(), "");
    let answer = server.initialize_with(&[("authorization", &bearer), ("origin", &own)]);
    server.assert_accepted(&answer);
    let foreign = [("origin", "https://evil.example")];
    let repeated = [("origin", own.as_str()), ("origin", own.as_str())];
    for origin in [&foreign[..], &repeated[..]] {
        let mut headers = vec![("authorization", bearer.as_str())];
        headers.extend_from_slice(origin);
        let answer = server.initialize_with(&headers);
        match served {
            Served::McpServer => {
                assert_eq!(answer.status, 403, "{origin:?}");
                assert_eq!(answer.challenge, None);
                let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
                assert_eq!(body["error"], "forbidden");
                let description = body["error_description"].as_str().unwrap();
                assert!(
                    description.contains("RequestCheck::allowed_origin"),
                    "{description}"
                );
            }
            Served::ActixApi => server.assert_accepted(&answer),
        }
    }
    // Without a token: the MCP server still looks at the origin first, the API asks for a token.
    let answer = server.initialize_with(&foreign);
    let status = match served {
        Served::McpServer => 403,
        Served::ActixApi => 401,
    };
    assert_eq!(answer.status, status);
    // A CORS preflight, from any origin and without a token, is passed on: neither example has a
    // CORS layer, so each answers 405, as it does any method it does not serve.
    let preflight = [
        ("origin", "https://evil.example"),
        ("access-control-request-method", "POST"),
        ("access-control-request-headers", "authorization"),
    ];
    let answer = server.options_with(&preflight);
    assert_eq!(answer.status, 405);
    assert_eq!(answer.challenge, None);
    // A plain OPTIONS is checked as any request: without a token, 401.
    let answer = server.options_with(&[]);
    assert_eq!(answer.status, 401);
    assert!(answer.challenge.is_some());
    if served == Served::ActixApi {
        // The API naming the origins it takes refuses the others, as the MCP server does.
        let app = "https://app.example.com";
        let guarded = ResourceServer::start_with(provider, served, &["--allowed-origin", app]);
        let answer = guarded.initialize_with(&foreign);
        assert_eq!(answer.status, 403);
        let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(body["error"], "forbidden");
        assert_eq!(guarded.initialize_with(&[("origin", app)]).status, 401);
        assert_eq!(guarded.options_with(&preflight).status, 405);
    }
    if served == Served::McpServer {
        // The streamable HTTP transport's own rules: an unknown protocol version gets 400.
        let answer = server.initialize_with(&[
            ("authorization", &bearer),
            ("mcp-protocol-version", "1999-01-01"),
        ]);
        assert_eq!(answer.status, 400);
    }
}

/// A DPoP-bound access token (RFC 9449) for `resource`, from [`mcp_token_request`]'s login whose
/// token request carries a proof by `key`: the provider binds the token to the key (`cnf.jkt`)
/// and says so in `token_type`.
fn mcp_dpop_access_token(provider: &Provider, resource: &str, key: &DpopKey) -> String {
    let (http, request) = mcp_token_request(provider, "public-app", resource, "mcp:tools");
    let proof = key.proof("POST", request.url()).sign().unwrap();
    let sent = http
        .post_request(
            request.url().as_str(),
            TokenRequest::CONTENT_TYPE,
            "same-origin",
        )
        .header("dpop", proof.as_str());
    let answer = http.read(sent.send(request.body()));
    let tokens = TokenResponse::parse_dpop(answer.status, &answer.body).unwrap();
    assert_eq!(tokens.token_type, AccessTokenType::Dpop);
    let token = tokens.access_token.secret().to_owned();
    assert_eq!(jwt_part(&token, 1)["cnf"]["jkt"], key.thumbprint());
    token
}

/// An MCP `initialize` sent with `Authorization: DPoP` and a proof (if any) for it.
fn initialize_with_dpop(server: &ResourceServer, token: &str, proof: Option<&str>) -> Answer {
    let authorization = format!("DPoP {token}");
    let mut headers = vec![("authorization", authorization.as_str())];
    if let Some(proof) = proof {
        headers.push(("dpop", proof));
    }
    server.initialize_with(&headers)
}

fn dpop_error(answer: &Answer) -> Option<String> {
    let header = answer
        .challenge
        .as_deref()
        .expect("a WWW-Authenticate challenge");
    let challenge = DpopChallenge::parse(header).unwrap();
    challenge.error.map(|error| error.as_str().to_owned())
}

fn takes_a_dpop_bound_token_only_with_a_fresh_proof(served: Served) {
    let provider = provider();
    let server = ResourceServer::start_with(provider, served, &["--require-dpop"]);
    let key = DpopKey::generate();
    let token = mcp_dpop_access_token(provider, &server.url, &key);
    let url = Url::parse(&server.url).unwrap();
    let access_token = AccessToken::new(token.clone()).unwrap();
    let proof = key
        .proof("POST", &url)
        .access_token(&access_token)
        .sign()
        .unwrap();

    // With its proof: accepted.
    let answer = initialize_with_dpop(&server, &token, Some(proof.as_str()));
    server.assert_accepted(&answer);

    // The same proof again: a replay.
    let answer = initialize_with_dpop(&server, &token, Some(proof.as_str()));
    assert_eq!(answer.status, 401);
    assert_eq!(dpop_error(&answer).as_deref(), Some("invalid_dpop_proof"));

    // Without a proof, or with one by another key.
    let answer = initialize_with_dpop(&server, &token, None);
    assert_eq!(answer.status, 401);
    assert_eq!(dpop_error(&answer).as_deref(), Some("invalid_dpop_proof"));
    let other = DpopKey::generate()
        .proof("POST", &url)
        .access_token(&access_token)
        .sign()
        .unwrap();
    let answer = initialize_with_dpop(&server, &token, Some(other.as_str()));
    assert_eq!(answer.status, 401);
    assert_eq!(dpop_error(&answer).as_deref(), Some("invalid_token"));

    // As a bearer token: refused, the challenge offering DPoP alone.
    let answer = server.initialize(&[&format!("Bearer {token}")]);
    assert_eq!(answer.status, 401);
    assert_eq!(dpop_error(&answer).as_deref(), Some("invalid_token"));
    let header = answer.challenge.unwrap();
    assert!(BearerChallenge::parse(&header).is_err(), "{header}");

    // A fresh proof passes again; the metadata says DPoP is required.
    let fresh = key
        .proof("POST", &url)
        .access_token(&access_token)
        .sign()
        .unwrap();
    let answer = initialize_with_dpop(&server, &token, Some(fresh.as_str()));
    server.assert_accepted(&answer);
    let metadata: serde_json::Value =
        serde_json::from_slice(&Browser::new().get(&server.metadata_url()).body).unwrap();
    assert_eq!(metadata["dpop_bound_access_tokens_required"], true);
    assert_eq!(
        metadata["dpop_signing_alg_values_supported"],
        serde_json::json!(["ES256"])
    );
}

fn taking_dpop_still_takes_bearer_tokens(served: Served) {
    let provider = provider();
    let server = ResourceServer::start_with(provider, served, &["--dpop"]);
    let bearer = mcp_access_token(provider, "public-app", &server.url, "mcp:tools");
    server.assert_accepts(&bearer);
    let key = DpopKey::generate();
    let bound = mcp_dpop_access_token(provider, &server.url, &key);
    let proof = key
        .proof("POST", &Url::parse(&server.url).unwrap())
        .access_token(&AccessToken::new(bound.clone()).unwrap())
        .sign()
        .unwrap();
    let answer = initialize_with_dpop(&server, &bound, Some(proof.as_str()));
    assert_eq!(answer.status, 200);
    // A bound token sent as a bearer token would go without its proof.
    let answer = server.initialize(&[&format!("Bearer {bound}")]);
    assert_eq!(answer.status, 401);
    let header = answer.challenge.unwrap();
    assert!(
        BearerChallenge::parse(&header).is_ok() && DpopChallenge::parse(&header).is_ok(),
        "{header}"
    );
}

/// The DPoP nonce secret the instances of one resource share, as an operator hands it out.
const DPOP_NONCE_SECRET: &str = "q1Rk0F5Kx9mWQvYH7C2sJ8bZpL4nT6uE3gR5aD0fV1c";

/// Two instances of one resource given the same nonce secret, and nothing else in common: the
/// nonce one hands out is taken by the other, as behind a load balancer; an instance with another
/// secret refuses it and hands out its own.
fn takes_the_dpop_nonce_another_instance_handed_out(served: Served) {
    let provider = provider();
    let sharing = ["--require-dpop", "--dpop-nonce-secret", DPOP_NONCE_SECRET];
    let a = ResourceServer::start_with(provider, served, &sharing);
    let b = ResourceServer::start_instance_of(provider, served, &a.url, &sharing);
    let other_secret = DpopNonceSecret::generate().secret();
    let elsewhere = ResourceServer::start_instance_of(
        provider,
        served,
        &a.url,
        &["--require-dpop", "--dpop-nonce-secret", &other_secret],
    );
    let key = DpopKey::generate();
    let token = mcp_dpop_access_token(provider, &a.url, &key);
    let url = Url::parse(&a.url).unwrap();
    let access_token = AccessToken::new(token.clone()).unwrap();
    let proof = |nonce: Option<&DpopNonce>| {
        let mut proof = key.proof("POST", &url).access_token(&access_token);
        if let Some(nonce) = nonce {
            proof = proof.nonce(nonce);
        }
        proof.sign().unwrap().as_str().to_owned()
    };

    // Without a nonce: refused, with A's.
    let answer = initialize_with_dpop(&a, &token, Some(&proof(None)));
    assert_eq!(answer.status, 401);
    assert_eq!(dpop_error(&answer).as_deref(), Some("use_dpop_nonce"));
    let nonce = DpopNonce::new(answer.dpop_nonce.expect("a DPoP-Nonce")).unwrap();
    // B takes it, and so does A.
    let answer = initialize_with_dpop(&b, &token, Some(&proof(Some(&nonce))));
    b.assert_accepted(&answer);
    let answer = initialize_with_dpop(&a, &token, Some(&proof(Some(&nonce))));
    a.assert_accepted(&answer);
    // Another secret: refused, with that instance's own nonce.
    let answer = initialize_with_dpop(&elsewhere, &token, Some(&proof(Some(&nonce))));
    assert_eq!(answer.status, 401);
    assert_eq!(dpop_error(&answer).as_deref(), Some("use_dpop_nonce"));
    let its_own = answer.dpop_nonce.expect("a DPoP-Nonce");
    assert_ne!(its_own, nonce.as_str());
    let its_own = DpopNonce::new(its_own).unwrap();
    let answer = initialize_with_dpop(&elsewhere, &token, Some(&proof(Some(&its_own))));
    elsewhere.assert_accepted(&answer);
}

fn refuses_a_token_for_another_resource(served: Served) {
    let provider = provider();
    let server = ResourceServer::start(provider, served);
    server.assert_accepts(&mcp_access_token(
        provider,
        "public-app",
        &server.url,
        "mcp:tools",
    ));

    // Another MCP server's token: good signature, issuer and scope, but not minted for this one.
    let other = format!("http://127.0.0.1:{}/mcp", free_port());
    let token = mcp_access_token(provider, "public-app", &other, "mcp:tools");
    assert_eq!(jwt_part(&token, 1)["aud"], other.as_str());
    server.assert_refuses_token(
        &token,
        401,
        "invalid_token",
        "the access token is not for this resource",
    );
}

fn refuses_an_expired_token(served: Served) {
    let provider = provider();
    let server = ResourceServer::start(provider, served);
    let token = mcp_access_token(provider, "short-lived-app", &server.url, "mcp:tools");
    let claims = jwt_part(&token, 1);
    let expires = claims["exp"].as_u64().expect("exp");
    assert_eq!(
        expires - claims["iat"].as_u64().expect("iat"),
        1,
        "{claims}"
    );
    loop {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        if now > expires + 1 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    server.assert_refuses_token(&token, 401, "invalid_token", "the access token has expired");
}

fn refuses_a_token_lacking_the_scope(served: Served) {
    let provider = provider();
    let server = ResourceServer::start(provider, served);
    let token = mcp_access_token(provider, "public-app", &server.url, "mcp:read");
    assert_eq!(jwt_part(&token, 1)["scope"], "mcp:read");
    server.assert_refuses_token(
        &token,
        403,
        "insufficient_scope",
        "the access token lacks a required scope",
    );
}

fn refuses_a_token_signed_by_an_unknown_key(served: Served) {
    let provider = provider();
    let server = ResourceServer::start(provider, served);
    let token = mcp_access_token(provider, "public-app", &server.url, "mcp:tools");
    server.assert_accepts(&token);

    // The same header and claims, signed by a key the provider never published.
    let forged = forged(&token);
    assert_eq!(jwt_part(&forged, 1), jwt_part(&token, 1));
    assert_eq!(jwt_part(&forged, 0)["kid"], "not-published");
    server.assert_refuses_token(&forged, 401, "invalid_token", "the access token is invalid");

    // The provider's signature over other claims: another user's `sub`.
    let mut claims = jwt_part(&token, 1);
    claims["sub"] = "user_02".into();
    let parts: Vec<&str> = token.split('.').collect();
    let altered = format!(
        "{}.{}.{}",
        parts[0],
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );
    server.assert_refuses_token(
        &altered,
        401,
        "invalid_token",
        "the access token is invalid",
    );
}

/// This crate's own MCP client example, as a user runs it: it prints the login URL and waits on a
/// loopback port for the browser (played here) to come back.
fn mcp_server_serves_the_mcp_client_example() {
    run_the_mcp_client_example(&[]);
}

/// The mcp-client example against the server requiring DPoP: it sees the `DPoP` challenge and the
/// provider's ES256 DPoP support, binds its token to a key of its own and proves it on every
/// request.
fn mcp_server_requiring_dpop_serves_the_mcp_client_example() {
    run_the_mcp_client_example(&["--require-dpop"]);
}

/// The same with the server's DPoP nonces required: the client learns the nonce from the
/// `use_dpop_nonce` refusal and proves every request with it.
fn mcp_server_requiring_dpop_nonces_serves_the_mcp_client_example() {
    run_the_mcp_client_example(&["--require-dpop", "--dpop-nonce-secret", DPOP_NONCE_SECRET]);
}

/// The mcp-client example with `args`, as a user runs it, its settings taken from none of the
/// environment's variables, and its output piped.
fn mcp_client(args: &[&str]) -> Command {
    let mut command = Command::new(built("mcp-client"));
    command
        .args(args)
        .env_remove("MCP_CLIENT_ID")
        .env_remove("MCP_CLIENT_ISSUER")
        .env_remove("MCP_CLIENT_SECRET")
        .env_remove("MCP_CLIENT_METADATA_URL")
        .env_remove("MCP_PROTOCOL_VERSION")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// The mcp-client example logs in through the provider's pages and calls `whoami` on the server
/// started with `server_options`.
fn run_the_mcp_client_example(server_options: &[&str]) {
    let provider = provider();
    let server = ResourceServer::start_with(provider, Served::McpServer, server_options);
    let port = free_port();
    let mut child = mcp_client(&[&server.url, "--port", &port.to_string(), "--tool", "whoami"])
        .spawn()
        .expect("mcp-client starts");
    // The login URL is on stderr, for the user; the results on stdout.
    let mut stderr = BufReader::new(child.stderr.take().expect("its stderr"));
    let mut stdout = child.stdout.take().expect("its stdout");
    stop_after(child.id(), "mcp-client");
    let mut client = ProcessGuard(child);
    let mut printed = String::new();
    let authorize_url = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).expect("its output") > 0,
            "mcp-client ended before a login URL: {printed}"
        );
        printed.push_str(&line);
        if line.starts_with(&provider.issuer) {
            break line.trim().to_owned();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let http = Browser::new();
    let callback = browse_to(&http, &authorize_url, User::Consents, &redirect_uri);
    let answer = http.get(callback.as_str());
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );

    std::io::Read::read_to_string(&mut stdout, &mut printed).expect("its output");
    let status = client.0.wait().expect("mcp-client ends");
    assert!(status.success(), "{printed}");
    assert!(printed.contains("tools: scopes, whoami\n"), "{printed}");
    assert!(
        printed.contains("whoami: ") && printed.contains("sub user_01 (organization none)"),
        "{printed}"
    );
}

/// A JWKS endpoint the test controls, standing in for the provider's: it serves the body it holds
/// (or 503 when it holds none) and counts the requests it gets.
struct JwksEndpoint {
    url: String,
    body: std::sync::Arc<std::sync::Mutex<Option<String>>>,
    fetches: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl JwksEndpoint {
    fn start(body: String) -> JwksEndpoint {
        use std::io::Write as _;
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        let held = std::sync::Arc::new(std::sync::Mutex::new(Some(body)));
        let fetches = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (serving, counting) = (held.clone(), fetches.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                // The request's head; its content does not matter.
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                    line.clear();
                }
                counting.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let answer = match serving.lock().unwrap().as_deref() {
                    Some(body) => format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    ),
                    None => "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_owned(),
                };
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        JwksEndpoint {
            url,
            body: held,
            fetches,
        }
    }

    fn serve(&self, body: Option<String>) {
        *self.body.lock().unwrap() = body;
    }

    fn fetches(&self) -> usize {
        self.fetches.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The provider's JWKS, and the same keys under other key IDs: the set before a rotation
/// published the keys that now sign tokens.
fn provider_key_sets(provider: &Provider) -> (String, String) {
    let answer = Browser::new().get(&format!("{}/oauth2/jwks", provider.issuer));
    assert_eq!(answer.status, 200);
    let current = String::from_utf8(answer.body).unwrap();
    let mut older: serde_json::Value = serde_json::from_str(&current).unwrap();
    for key in older["keys"].as_array_mut().unwrap() {
        key["kid"] = format!("{}-old", key["kid"].as_str().unwrap()).into();
    }
    (current, older.to_string())
}

/// `count` requests with this token at once; their statuses.
fn at_once(server: &ResourceServer, token: &str, count: usize) -> Vec<u16> {
    std::thread::scope(|scope| {
        let requests: Vec<_> = (0..count)
            .map(|_| scope.spawn(|| server.initialize(&[&format!("Bearer {token}")]).status))
            .collect();
        requests
            .into_iter()
            .map(|request| request.join().unwrap())
            .collect()
    })
}

/// A token with the same header and claims, signed by a key no one published.
fn forged(token: &str) -> String {
    let resigned = Command::new("node")
        .args(["resign.mjs", token])
        .current_dir(provider_dir())
        .output()
        .expect("node runs");
    assert!(resigned.status.success(), "{resigned:?}");
    String::from_utf8(resigned.stdout)
        .unwrap()
        .trim()
        .to_owned()
}

/// A key rotation: the server holds the keys from before it, and a token signed with a new key
/// makes it fetch the keys again, once for many requests; tokens naming unknown keys, or a failing
/// key endpoint, cause at most one fetch per interval.
fn fetches_keys_again_at_most_once_per_interval(served: Served) {
    let provider = provider();
    let (current, older) = provider_key_sets(provider);
    let jwks = JwksEndpoint::start(older);
    let server = ResourceServer::start_with(
        provider,
        served,
        &["--jwks-url", &jwks.url, "--keys-refetch-interval", "2"],
    );
    assert_eq!(jwks.fetches(), 1, "the keys are fetched at start-up");
    let token = mcp_access_token(provider, "public-app", &server.url, "mcp:tools");
    // Made now: signing it takes a Node.js start, which must not fall between the rotation's fetch
    // and the requests meant to come right after it.
    let forged = forged(&token);
    let interval = std::time::Duration::from_millis(3100);

    // The rotation is published; the interval since the first fetch has passed.
    jwks.serve(Some(current));
    std::thread::sleep(interval);
    assert_eq!(at_once(&server, &token, 8), [200; 8]);
    assert_eq!(jwks.fetches(), 2, "one fetch for eight requests");

    // Tokens naming a key no one published, right after: no fetch.
    assert_eq!(at_once(&server, &forged, 8), [401; 8]);
    assert_eq!(jwks.fetches(), 2, "no fetch within the interval");

    // The key endpoint fails: one attempt per interval, and the keys held go on serving.
    jwks.serve(None);
    std::thread::sleep(interval);
    for _ in 0..5 {
        server.assert_refuses_token(&forged, 401, "invalid_token", "the access token is invalid");
    }
    assert_eq!(jwks.fetches(), 3, "one failed attempt for five requests");
    server.assert_accepts(&token);
}

/// A key the provider withdraws stops being trusted at the next scheduled fetch, though no token
/// names an unknown key.
fn stops_trusting_a_withdrawn_key(served: Served) {
    let provider = provider();
    let (current, older) = provider_key_sets(provider);
    let jwks = JwksEndpoint::start(current);
    let server = ResourceServer::start_with(
        provider,
        served,
        &["--jwks-url", &jwks.url, "--keys-refresh-interval", "1"],
    );
    let token = mcp_access_token(provider, "public-app", &server.url, "mcp:tools");
    server.assert_accepts(&token);
    jwks.serve(Some(older));
    let fetched = jwks.fetches();
    while jwks.fetches() < fetched + 2 {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    server.assert_refuses_token(&token, 401, "invalid_token", "the access token is invalid");
}

/// Where a page's first form posts to.
fn form_action(page: &str, base: &Url) -> Url {
    let action = page
        .split("action=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no form on the page: {page}"));
    base.join(action).unwrap()
}

/// The hidden fields of a page's first form, in order.
fn hidden_fields(page: &str) -> Vec<(String, String)> {
    page.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once('"')?;
            let value = rest.split("value=\"").nth(1)?.split('"').next()?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect()
}

/// The user's part of a device login, on the provider's pages: open the verification URL with
/// the code filled in, confirm it is the code the device shows (or abort), log in and consent.
fn confirm_device(http: &Browser, verification_uri_complete: &Url, user: User) {
    let mut url = verification_uri_complete.clone();
    let mut form: Option<Vec<(String, String)>> = None;
    for _ in 0..20 {
        let answer = match form.take() {
            Some(fields) => http.post_form(&url, &fields),
            None => http.get(url.as_str()),
        };
        if let Some(location) = answer.location.as_deref() {
            url = url.join(location).unwrap();
            continue;
        }
        let page = String::from_utf8(answer.body).unwrap();
        assert!(
            (200..300).contains(&answer.status),
            "HTTP {}: {page}",
            answer.status
        );
        if page.contains("Sign-in Success") {
            assert_eq!(user, User::Consents, "{page}");
            return;
        }
        url = form_action(&page, &url);
        let mut fields = hidden_fields(&page);
        if page.contains("op.deviceConfirmForm") {
            if user == User::Refuses {
                fields.push(("abort".into(), "yes".into()));
                let answer = http.post_form(&url, &fields);
                let page = String::from_utf8_lossy(&answer.body);
                assert!(page.contains("interrupted"), "{page}");
                return;
            }
        } else if page.contains("name=\"login\"") {
            fields = vec![
                ("prompt".into(), "login".into()),
                ("login".into(), "user_01".into()),
                ("password".into(), "any".into()),
            ];
        } else if fields.is_empty() {
            fields = vec![("prompt".into(), "consent".into())];
        }
        form = Some(fields);
    }
    panic!("the provider never showed its success page");
}

/// A device login started against the provider for `client_id`, and its client.
fn start_device_login(
    provider: &Provider,
    client_id: &str,
    scopes: &str,
) -> (DeviceClient, DeviceLogin) {
    let domain = AuthKitDomain::parse(&provider.issuer).unwrap();
    let client = DeviceClient::new(&domain, client_id.parse().unwrap());
    let request = client.authorization_request(&scopes.parse().unwrap());
    let answer = Browser::new().post(
        request.url().as_str(),
        TokenRequest::CONTENT_TYPE,
        request.body(),
    );
    let login = client
        .read_authorization(answer.status, &answer.body, SystemClock.now())
        .unwrap_or_else(|error| panic!("{error}: {}", String::from_utf8_lossy(&answer.body)));
    (client, login)
}

/// How long until `at`: nothing once it has come.
fn until(at: SystemTime) -> Duration {
    at.duration_since(SystemClock.now()).unwrap_or_default()
}

/// One poll, sent now.
fn poll(login: &mut DeviceLogin) -> Result<Poll, DeviceError> {
    let answer = Browser::new().post_token(&login.poll_request());
    login.read_poll(answer.status, &answer.body, SystemClock.now())
}

/// Polls as RFC 8628 says, each poll at its due time, until the login is over.
fn poll_until_done(login: &mut DeviceLogin) -> Result<TokenResponse, DeviceError> {
    loop {
        std::thread::sleep(until(login.next_poll_at()));
        match poll(login)? {
            Poll::Pending { .. } => continue,
            Poll::Done(tokens) => return Ok(tokens),
        }
    }
}

/// A command-line login with the device grant: the codes, a pending poll, the user's
/// confirmation on the provider's pages, the tokens, then userinfo for who logged in.
fn device_login_polls_until_the_user_confirms() {
    let provider = provider();
    let (client, mut login) =
        start_device_login(provider, "cli-app", "openid profile email offline_access");
    assert_eq!(
        login.verification_uri().as_str(),
        format!("{}/device", provider.issuer)
    );
    let complete = login
        .verification_uri_complete()
        .expect("a complete URI")
        .clone();
    assert!(
        complete.as_str().contains(login.user_code().as_str()),
        "{complete}"
    );
    assert_eq!(login.interval(), std::time::Duration::from_secs(1));

    std::thread::sleep(until(login.next_poll_at()));
    assert!(matches!(poll(&mut login), Ok(Poll::Pending { .. })));

    confirm_device(&Browser::new(), &complete, User::Consents);
    let tokens = poll_until_done(&mut login).unwrap();
    assert!(tokens.refresh_token.is_some(), "offline_access");
    let id_token = tokens.id_token.as_ref().expect("an ID token for openid");
    let domain = AuthKitDomain::parse(&provider.issuer).unwrap();
    let keys = Browser::new().get(domain.jwks_endpoint().as_str());
    let keys = KeySet::parse(&keys.body).unwrap();
    let sub = client.id_token().validate(id_token, &keys).unwrap().sub;
    assert_eq!(sub, "user_01");

    let request = UserinfoRequest::for_domain(&domain, &tokens.access_token);
    let answer =
        Browser::new().get_with_authorization(request.url().as_str(), request.authorization());
    let user = Userinfo::parse(answer.status, answer.challenge.as_deref(), &answer.body).unwrap();
    user.check_subject(&sub).unwrap();
    assert_eq!(user.email.as_deref(), Some("user_01@example.com"));
    assert_eq!(user.given_name.as_deref(), Some("Ada"));

    // The device code was used up.
    assert!(matches!(poll(&mut login), Err(DeviceError::Endpoint(_))));
}

/// Polling sooner than the interval earns `slow_down`, which adds 5 seconds to the interval; the
/// next poll at the new time is pending again.
fn device_login_slow_down_adds_five_seconds() {
    let provider = provider();
    let (_, mut login) = start_device_login(provider, "cli-app", "openid");
    std::thread::sleep(until(login.next_poll_at()));
    assert!(matches!(poll(&mut login), Ok(Poll::Pending { .. })));
    // Too soon, on purpose.
    let sent = SystemClock.now();
    match poll(&mut login) {
        Ok(Poll::Pending { next_poll_at }) => {
            assert!(next_poll_at >= sent + std::time::Duration::from_secs(6));
        }
        other => panic!("expected slow_down to keep the login pending: {other:?}"),
    }
    assert_eq!(login.interval(), std::time::Duration::from_secs(6));
    std::thread::sleep(until(login.next_poll_at()));
    assert!(matches!(poll(&mut login), Ok(Poll::Pending { .. })));
    assert_eq!(
        login.interval(),
        std::time::Duration::from_secs(6),
        "not slowed again"
    );
}

fn device_login_refused_by_the_user_is_access_denied() {
    let provider = provider();
    let (_, mut login) = start_device_login(provider, "cli-app", "openid");
    let complete = login.verification_uri_complete().unwrap().clone();
    confirm_device(&Browser::new(), &complete, User::Refuses);
    assert_eq!(
        poll_until_done(&mut login).unwrap_err(),
        DeviceError::AccessDenied
    );
}

/// The provider's `expired_token` for a code past its lifetime (2 seconds for cli-expiring).
fn device_login_past_its_code_lifetime_is_expired() {
    let provider = provider();
    let (_, mut login) = start_device_login(provider, "cli-expiring", "openid");
    assert!(login.expires_at() <= SystemClock.now() + std::time::Duration::from_secs(2));
    std::thread::sleep(std::time::Duration::from_millis(2500));
    // Sent past the local expiry too; the provider's answer decides.
    let answer = Browser::new().post_token(&login.poll_request());
    let body = String::from_utf8_lossy(&answer.body).into_owned();
    assert!(body.contains("expired_token"), "{body}");
    assert_eq!(
        login
            .read_poll(answer.status, &answer.body, SystemClock.now())
            .unwrap_err(),
        DeviceError::Expired
    );
}

/// Userinfo refuses a request without a valid access token, and the refusal is typed.
fn userinfo_refuses_a_bad_token() {
    let provider = provider();
    let domain = AuthKitDomain::parse(&provider.issuer).unwrap();
    let request = UserinfoRequest::for_domain(
        &domain,
        &workos_connect::oauth::AccessToken::new("not-a-token").unwrap(),
    );
    let answer =
        Browser::new().get_with_authorization(request.url().as_str(), request.authorization());
    assert_eq!(answer.status, 401);
    assert_eq!(
        Userinfo::parse(answer.status, answer.challenge.as_deref(), &answer.body).unwrap_err(),
        UserinfoError::Refused {
            status: 401,
            error: Some(BearerError::InvalidToken)
        }
    );
    let answer = Browser::new().get(request.url().as_str());
    assert!(matches!(
        Userinfo::parse(answer.status, None, &answer.body).unwrap_err(),
        UserinfoError::Refused { status: 401, .. }
    ));
}

/// The device-login example, as a user runs it from a script (no terminal: no QR code, no
/// spinner, no browser offered): it prints the code and the page, polls while the user confirms on
/// the provider's pages, and prints who logged in.
fn device_login_example_prints_who_logged_in() {
    let provider = provider();
    let mut child = Command::new(built("device-login"))
        .args(["--domain", &provider.issuer, "--client-id", "cli-app"])
        .env_remove("WORKOS_AUTHKIT_DOMAIN")
        .env_remove("WORKOS_CLIENT_ID")
        .env_remove("CLICOLOR_FORCE")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("device-login starts");
    stop_after(child.id(), "device-login");
    let mut stderr = BufReader::new(child.stderr.take().expect("its stderr"));
    let mut shown = String::new();
    for _ in 0..2 {
        stderr.read_line(&mut shown).expect("its output");
    }
    let code = shown
        .split("one-time code: ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap_or_else(|| panic!("no code shown: {shown}"));
    let page = format!("{}/device", provider.issuer);
    assert!(
        shown.contains(&format!("Open {page} in your browser and enter the code.")),
        "{shown}"
    );
    let complete = Url::parse_with_params(&page, [("user_code", code)]).unwrap();
    confirm_device(&Browser::new(), &complete, User::Consents);

    let output = child.wait_with_output().expect("device-login ends");
    let printed = String::from_utf8_lossy(&output.stdout);
    std::io::Read::read_to_string(&mut stderr, &mut shown).expect("its output");
    assert!(output.status.success(), "{shown}{printed}");
    assert_eq!(
        printed, "✓ Logged in as user_01@example.com (user_01)\n",
        "{shown}"
    );
}

/// Every scenario, by name.
const SCENARIOS: &[(&str, fn())] = &[
    (
        "axum_login_template_signs_in_refreshes_and_signs_out",
        axum_login_template_signs_in_refreshes_and_signs_out,
    ),
    (
        "axum_login_prompt_consent_gets_a_refresh_token_from_a_strict_provider",
        axum_login_prompt_consent_gets_a_refresh_token_from_a_strict_provider,
    ),
    (
        "axum_login_parallel_renewals_refresh_once",
        axum_login_parallel_renewals_refresh_once,
    ),
    (
        "axum_login_survives_forged_and_replayed_callbacks",
        axum_login_survives_forged_and_replayed_callbacks,
    ),
    (
        "public_client_with_pkce_logs_in_and_refreshes",
        public_client_with_pkce_logs_in_and_refreshes,
    ),
    (
        "confidential_client_logs_in_with_its_secret",
        confidential_client_logs_in_with_its_secret,
    ),
    (
        "a_wrong_verifier_is_refused_as_invalid_grant",
        a_wrong_verifier_is_refused_as_invalid_grant,
    ),
    ("a_tampered_state_is_caught", a_tampered_state_is_caught),
    (
        "a_refused_consent_is_access_denied",
        a_refused_consent_is_access_denied,
    ),
    (
        "mcp_registration_resource_audience",
        mcp_registration_resource_audience,
    ),
    (
        "mcp_server_serves_the_official_typescript_sdk_client",
        ts_sdk::mcp_server_serves_the_official_typescript_sdk_client,
    ),
    (
        "mcp_server_serves_the_typescript_sdk_v2_client",
        ts_sdk::mcp_server_serves_the_typescript_sdk_v2_client,
    ),
    (
        "mcp_server_requiring_dpop_serves_the_typescript_sdk_v2_client",
        ts_sdk::mcp_server_requiring_dpop_serves_the_typescript_sdk_v2_client,
    ),
    (
        "mcp_client_logs_in_and_steps_up_on_a_typescript_sdk_v1_server",
        ts_sdk::mcp_client_logs_in_and_steps_up_on_a_typescript_sdk_v1_server,
    ),
    (
        "mcp_client_logs_in_and_steps_up_on_a_typescript_sdk_v2_server",
        ts_sdk::mcp_client_logs_in_and_steps_up_on_a_typescript_sdk_v2_server,
    ),
    (
        "mcp_server_serves_the_mcp_client_example",
        mcp_server_serves_the_mcp_client_example,
    ),
    (
        "mcp_server_serves_the_rmcp_oauth_client",
        rmcp_client::mcp_server_serves_the_rmcp_oauth_client,
    ),
    (
        "mcp_server_refuses_bad_tokens_from_the_rmcp_client",
        rmcp_client::mcp_server_refuses_bad_tokens_from_the_rmcp_client,
    ),
    (
        "mcp_server_requiring_dpop_refuses_the_rmcp_client_which_has_no_dpop",
        rmcp_client::mcp_server_requiring_dpop_refuses_the_rmcp_client_which_has_no_dpop,
    ),
    (
        "mcp_server_step_up_is_left_to_the_application_by_the_rmcp_client",
        rmcp_client::mcp_server_step_up_is_left_to_the_application_by_the_rmcp_client,
    ),
    (
        "mcp_server_refuses_a_tool_needing_more_scope_until_a_wider_login",
        ts_sdk::mcp_server_refuses_a_tool_needing_more_scope_until_a_wider_login,
    ),
    (
        "mcp_server_requiring_dpop_serves_the_mcp_client_example",
        mcp_server_requiring_dpop_serves_the_mcp_client_example,
    ),
    (
        "mcp_server_requiring_dpop_nonces_serves_the_mcp_client_example",
        mcp_server_requiring_dpop_nonces_serves_the_mcp_client_example,
    ),
    (
        "device_login_polls_until_the_user_confirms",
        device_login_polls_until_the_user_confirms,
    ),
    (
        "device_login_slow_down_adds_five_seconds",
        device_login_slow_down_adds_five_seconds,
    ),
    (
        "device_login_refused_by_the_user_is_access_denied",
        device_login_refused_by_the_user_is_access_denied,
    ),
    (
        "device_login_past_its_code_lifetime_is_expired",
        device_login_past_its_code_lifetime_is_expired,
    ),
    ("userinfo_refuses_a_bad_token", userinfo_refuses_a_bad_token),
    (
        "device_login_example_prints_who_logged_in",
        device_login_example_prints_who_logged_in,
    ),
];

/// A resource-server scenario's name, and its body for the example it runs against.
type ResourceScenario = (&'static str, fn(Served));

/// Resource-server scenarios, each run against every [`Served`] example: named after the package,
/// as `mcp_server_<name>` and `actix_api_<name>`.
const RESOURCE_SCENARIOS: [ResourceScenario; 10] = [
    (
        "serves_its_metadata_and_refuses_requests_without_a_token",
        serves_its_metadata_and_refuses_requests_without_a_token,
    ),
    (
        "takes_a_dpop_bound_token_only_with_a_fresh_proof",
        takes_a_dpop_bound_token_only_with_a_fresh_proof,
    ),
    (
        "taking_dpop_still_takes_bearer_tokens",
        taking_dpop_still_takes_bearer_tokens,
    ),
    (
        "takes_the_dpop_nonce_another_instance_handed_out",
        takes_the_dpop_nonce_another_instance_handed_out,
    ),
    (
        "refuses_a_token_for_another_resource",
        refuses_a_token_for_another_resource,
    ),
    ("refuses_an_expired_token", refuses_an_expired_token),
    (
        "refuses_a_token_lacking_the_scope",
        refuses_a_token_lacking_the_scope,
    ),
    (
        "refuses_a_token_signed_by_an_unknown_key",
        refuses_a_token_signed_by_an_unknown_key,
    ),
    (
        "fetches_keys_again_at_most_once_per_interval",
        fetches_keys_again_at_most_once_per_interval,
    ),
    (
        "stops_trusting_a_withdrawn_key",
        stops_trusting_a_withdrawn_key,
    ),
];

/// Scenarios that also need a Redis server.
const REDIS_SCENARIOS: [(&str, fn()); 4] = [
    (
        "mcp_server_instances_share_dpop_replays_in_redis",
        mcp_server_instances_share_dpop_replays_in_redis,
    ),
    (
        "axum_login_instances_renew_once_together",
        axum_login_instances_renew_once_together,
    ),
    (
        "axum_login_instances_share_sessions_in_redis",
        axum_login_instances_share_sessions_in_redis,
    ),
    (
        "redis_store_keeps_sessions_in_redis",
        redis_store_keeps_sessions_in_redis,
    ),
];

/// Scenarios that also need Python (`python3` with `venv`), for Python counterparts.
const PYTHON_SCENARIOS: &[(&str, fn())] = &[
    (
        "django_axum_login_signs_in_refreshes_and_signs_out",
        django::django_axum_login_signs_in_refreshes_and_signs_out,
    ),
    (
        "django_refresh_tokens_rotate_and_a_reused_one_revokes_the_grant",
        django::django_refresh_tokens_rotate_and_a_reused_one_revokes_the_grant,
    ),
    (
        "django_introspection_protects_an_api",
        django::django_introspection_protects_an_api,
    ),
    (
        "django_client_credentials_with_the_crate_token_requests",
        django::django_client_credentials_with_the_crate_token_requests,
    ),
    (
        "django_device_login_polls_until_the_user_confirms",
        django::django_device_login_polls_until_the_user_confirms,
    ),
    (
        "mcp_server_serves_the_python_sdk_client",
        python_mcp::mcp_server_serves_the_python_sdk_client,
    ),
    (
        "mcp_server_serves_the_fastmcp_client",
        python_mcp::mcp_server_serves_the_fastmcp_client,
    ),
    (
        "mcp_server_refuses_the_python_sdk_client_a_token_for_another_resource",
        python_mcp::mcp_server_refuses_the_python_sdk_client_a_token_for_another_resource,
    ),
    (
        "mcp_server_refuses_the_fastmcp_client_a_token_for_another_resource",
        python_mcp::mcp_server_refuses_the_fastmcp_client_a_token_for_another_resource,
    ),
    (
        "mcp_server_refuses_the_python_sdk_client_a_forged_token",
        python_mcp::mcp_server_refuses_the_python_sdk_client_a_forged_token,
    ),
    (
        "mcp_server_refuses_the_fastmcp_client_a_forged_token",
        python_mcp::mcp_server_refuses_the_fastmcp_client_a_forged_token,
    ),
    (
        "mcp_server_steps_up_the_python_sdk_client_lacking_the_scope",
        python_mcp::mcp_server_steps_up_the_python_sdk_client_lacking_the_scope,
    ),
    (
        "mcp_server_steps_up_the_fastmcp_client_lacking_the_scope",
        python_mcp::mcp_server_steps_up_the_fastmcp_client_lacking_the_scope,
    ),
    (
        "mcp_server_steps_up_the_python_sdk_client_for_a_tool",
        python_mcp::mcp_server_steps_up_the_python_sdk_client_for_a_tool,
    ),
    (
        "mcp_server_steps_up_the_fastmcp_client_for_a_tool",
        python_mcp::mcp_server_steps_up_the_fastmcp_client_for_a_tool,
    ),
    (
        "mcp_server_steps_up_the_python_sdk_client_after_its_first_login",
        python_mcp::mcp_server_steps_up_the_python_sdk_client_after_its_first_login,
    ),
    (
        "mcp_server_steps_up_the_fastmcp_client_after_its_first_login",
        python_mcp::mcp_server_steps_up_the_fastmcp_client_after_its_first_login,
    ),
    (
        "mcp_client_logs_in_to_a_python_sdk_server",
        python_mcp::mcp_client_logs_in_to_a_python_sdk_server,
    ),
    (
        "mcp_client_logs_in_to_a_fastmcp_server",
        python_mcp::mcp_client_logs_in_to_a_fastmcp_server,
    ),
    (
        "fastmcp_server_refuses_a_tool_without_a_step_up_challenge_expected_failure",
        python_mcp::fastmcp_server_refuses_a_tool_without_a_step_up_challenge_expected_failure,
    ),
    (
        "mcp_client_refuses_a_fastmcp_server_naming_its_issuer_with_a_slash_expected_failure",
        python_mcp::mcp_client_refuses_a_fastmcp_server_naming_its_issuer_with_a_slash_expected_failure,
    ),
];

/// Scenarios that also need Chromium (and `openssl`, for the https app's certificate): the
/// browser's part played by a real browser (`browser.rs`).
const BROWSER_SCENARIOS: &[(&str, fn())] = &[
    (
        "browser_axum_login_over_http_signs_in_renews_and_signs_out",
        browser::browser_axum_login_over_http_signs_in_renews_and_signs_out,
    ),
    (
        "browser_axum_login_over_https_signs_in_renews_and_signs_out",
        browser::browser_axum_login_over_https_signs_in_renews_and_signs_out,
    ),
    (
        "browser_axum_login_over_http_refuses_other_sites",
        browser::browser_axum_login_over_http_refuses_other_sites,
    ),
    (
        "browser_axum_login_over_https_refuses_other_sites",
        browser::browser_axum_login_over_https_refuses_other_sites,
    ),
    (
        "browser_mcp_client_logs_in_in_chromium",
        browser::browser_mcp_client_logs_in_in_chromium,
    ),
];

fn main() {
    let args = Arguments::from_args();
    let missing = missing_provider();
    let missing_redis = missing.clone().or_else(missing_redis);
    let missing_python = missing.clone().or_else(python::missing_python);
    let missing_browser = missing.clone().or_else(browser::missing_browser);
    let required = std::env::var("CI").as_deref() == Ok("true");
    if let Some(reason) = &missing {
        if required {
            eprintln!("the interop provider is required under CI=true: {reason}");
        } else {
            eprintln!(
                "interop scenarios ignored: {reason}; install the provider with `npm ci` in tests/interop"
            );
        }
    }
    if let (None, Some(reason)) = (&missing, &missing_python) {
        if required {
            eprintln!("Python is required under CI=true: {reason}");
        } else {
            eprintln!("Python scenarios ignored: {reason}");
        }
    }
    if let (None, Some(reason)) = (&missing, &missing_redis) {
        if required {
            eprintln!("Redis is required under CI=true: {reason}");
        } else {
            eprintln!(
                "Redis scenarios ignored: {reason}; install it with `apt-get install redis-server`"
            );
        }
    }
    if let (None, Some(reason)) = (&missing, &missing_browser) {
        if required {
            eprintln!("Chromium is required under CI=true: {reason}");
        } else {
            eprintln!("browser scenarios ignored: {reason}");
        }
    }
    type Scenario = Box<dyn FnOnce() + Send>;
    let plain = |(name, scenario): (&str, fn())| (name.to_owned(), Box::new(scenario) as Scenario);
    let served = RESOURCE_SCENARIOS.into_iter().flat_map(|(name, scenario)| {
        Served::ALL.map(|served| {
            let prefix = served.package().replace('-', "_");
            let run: Scenario = Box::new(move || scenario(served));
            (format!("{prefix}_{name}"), run)
        })
    });
    let with_redis = REDIS_SCENARIOS
        .into_iter()
        .map(|scenario| (plain(scenario), missing_redis.clone()));
    let with_python = PYTHON_SCENARIOS
        .iter()
        .map(|&scenario| (plain(scenario), missing_python.clone()));
    let with_browser = BROWSER_SCENARIOS
        .iter()
        .map(|&scenario| (plain(scenario), missing_browser.clone()));
    let trials = SCENARIOS
        .iter()
        .copied()
        .map(plain)
        .chain(served)
        .map(|scenario| (scenario, missing.clone()))
        .chain(with_redis)
        .chain(with_python)
        .chain(with_browser)
        .map(|((name, scenario), missing)| {
            let ignored = missing.is_some() && !required;
            Trial::test(name, move || match missing {
                Some(reason) => Err(Failed::from(format!("required under CI=true: {reason}"))),
                None => {
                    scenario();
                    Ok(())
                }
            })
            .with_ignored_flag(ignored)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

//! The whole login round trip against a real, certified OpenID Connect provider: `oidc-provider`
//! (tests/interop/), started on loopback and shaped like WorkOS Connect.
//!
//! Each scenario builds the authorize URL with this crate, follows the provider's login and consent
//! pages with an HTTP client, checks the callback, posts the token request this crate built and
//! validates the ID token against the provider's JWKS. One scenario is an MCP client's: RFC 8414
//! discovery, Dynamic Client Registration, a login with a resource indicator, and the access token's
//! audience.
//!
//! Needs Node.js and `npm ci` in tests/interop. Without them every scenario is reported as ignored,
//! with a line saying how to install the provider, except under `CI=true`, where a missing provider
//! fails every scenario.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use base64::Engine as _;
use libtest_mimic::{Arguments, Failed, Trial};
use url::Url;
use workos_connect::mcp::{
    AuthorizationClient, AuthorizationServerMetadata, Issuer, RegistrationRequest,
    RegistrationResponse, Resource, TokenEndpointAuth,
};
use workos_connect::{
    AuthKitDomain, CallbackError, ClientSecret, ConnectClient, ErrorCode, KeySet, OAuthError,
    PendingAuthorization, PkceVerifier, Scope, ScopeList, Scopes, TokenError, TokenRequest,
    TokenResponse,
};

const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

/// The provider process, started once for the whole suite. Statics are never dropped, so it is ended
/// by its stdin closing when the test binary exits.
struct Provider {
    issuer: String,
    /// Where the axum-login example listens when a scenario runs it.
    app_port: u16,
    /// The one resource (RFC 8707) the provider issues tokens for: an MCP server's URL, where
    /// nothing needs to listen.
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
    if !provider_dir().join("node_modules/oidc-provider").is_dir() {
        return Some("tests/interop/node_modules is missing".into());
    }
    match Command::new("node").arg("--version").output() {
        Ok(output) if output.status.success() => None,
        _ => Some("`node` is not on the PATH".into()),
    }
}

fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The provider's own messages go to a file, to read when a scenario fails.
fn provider_log() -> Result<std::fs::File, String> {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("interop-provider.log");
    std::fs::File::create(&path)
        .map_err(|error| format!("cannot create {}: {error}", path.display()))
}

fn start_provider() -> Result<Provider, String> {
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
        .env("MCP_RESOURCE", &mcp_resource)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(provider_log()?)
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
        let mut response = sent.expect("the provider answers");
        for set_cookie in response.headers().get_all("set-cookie") {
            let text = set_cookie.to_str().expect("an ASCII cookie");
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                let mut cookies = self.cookies.borrow_mut();
                cookies.retain(|(kept, _)| kept != name);
                cookies.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
        let location = response
            .headers()
            .get("location")
            .map(|value| value.to_str().expect("an ASCII location").to_owned());
        Answer {
            status: response.status().as_u16(),
            location,
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
#[derive(Clone, Copy, PartialEq)]
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
            Some(fields) => http.post(
                url.as_str(),
                "application/x-www-form-urlencoded",
                url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(fields)
                    .finish(),
            ),
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
        let action = page
            .split("action=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no form on the page: {page}"));
        let action = url.join(action).unwrap();
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

/// The axum-login example, built and started against the provider as a user would run it.
fn start_app(provider: &Provider) -> ProcessGuard {
    let built = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "--package",
            "axum-login",
            "--bin",
            "axum-login",
        ])
        .status()
        .expect("cargo runs");
    assert!(built.success(), "axum-login builds");
    // This test runs from <target>/debug/deps; the example's binary is in <target>/debug.
    let binary = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("axum-login")))
        .expect("the target directory");
    let mut child = Command::new(binary)
        .args(["--domain", &provider.issuer, "--client-id", "public-app"])
        .args(["--redirect-uri", &app_callback(provider.app_port)])
        .args(["--listen", &format!("127.0.0.1:{}", provider.app_port)])
        .env_remove("WORKOS_CLIENT_SECRET")
        .env_remove("COOKIE_KEY")
        .stderr(Stdio::piped())
        .spawn()
        .expect("axum-login starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("its stderr"));
    let guard = ProcessGuard(child);
    let mut line = String::new();
    stderr.read_line(&mut line).expect("its first line");
    assert!(
        line.starts_with("serving"),
        "axum-login did not start: {line}"
    );
    // Later lines (refused requests) go on being read, so a full pipe never blocks the app.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
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

    let login = http.get(&format!("http://127.0.0.1:{}/login", provider.app_port));
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
    let (status, home) = page("/");
    assert_eq!(status, 200);
    assert!(
        home.contains("Signed in as user_01@example.com (user_01)"),
        "{home}"
    );

    // The login cookie was single-use: the same callback again is refused.
    let replayed = http.get(callback.as_str());
    assert_eq!(replayed.status, 400);
    assert!(String::from_utf8_lossy(&replayed.body).contains("no login in progress"));

    let form = "application/x-www-form-urlencoded";
    let app = |path: &str| format!("http://127.0.0.1:{}{path}", provider.app_port);
    let refreshed = http.post(&app("/refresh"), form, String::new());
    let body = String::from_utf8_lossy(&refreshed.body).into_owned();
    assert_eq!(refreshed.status, 303, "{body}");
    assert!(page("/").1.contains("Signed in as user_01@example.com"));

    // A form posted from another site cannot sign the user out (or refresh).
    assert_eq!(http.post_cross_site(&app("/logout")).status, 403);
    assert!(page("/").1.contains("Signed in as"));

    let signed_out = http.post(&app("/logout"), form, String::new());
    assert_eq!(signed_out.status, 303);
    assert!(page("/").1.contains("Log in"));
    let refused = http.post(&app("/refresh"), form, String::new());
    assert_eq!(refused.status, 401);
}

/// Every scenario, by name.
const SCENARIOS: [(&str, fn()); 7] = [
    (
        "axum_login_template_signs_in_refreshes_and_signs_out",
        axum_login_template_signs_in_refreshes_and_signs_out,
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
];

fn main() {
    let args = Arguments::from_args();
    let missing = missing_provider();
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
    let trials = SCENARIOS
        .into_iter()
        .map(|(name, scenario)| {
            let ignored = missing.is_some() && !required;
            let missing = missing.clone();
            Trial::test(name, move || match missing {
                Some(reason) => Err(Failed::from(format!(
                    "the interop provider is required under CI=true: {reason}"
                ))),
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

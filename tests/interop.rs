//! The whole login round trip against a real, certified OpenID Connect provider: `oidc-provider`
//! (tests/interop/), started on loopback and shaped like WorkOS Connect.
//!
//! Each scenario builds the authorize URL with this crate, follows the provider's login and consent
//! pages with an HTTP client, checks the callback, posts the token request this crate built and
//! validates the ID token against the provider's JWKS.
//!
//! Needs Node.js and `npm ci` in tests/interop. Without them the suite prints one line and skips,
//! except under `CI=true`, where a missing provider fails.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use reqwest::blocking::Client;
use reqwest::redirect::Policy;
use url::Url;
use workos_connect::{
    AuthKitDomain, CallbackError, ClientSecret, ConnectClient, ErrorCode, OAuthError,
    PendingAuthorization, PkceVerifier, Scope, Scopes, TokenError, TokenRequest, TokenResponse,
};

const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

/// The provider process, started once for the whole suite. Statics are never dropped, so it is ended
/// by its stdin closing when the test binary exits.
struct Provider {
    issuer: String,
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

/// The provider, or `None` (after one printed line) when it cannot run here outside CI.
fn provider() -> Option<&'static Provider> {
    static PROVIDER: OnceLock<Result<Provider, String>> = OnceLock::new();
    let started = PROVIDER.get_or_init(start_provider);
    match started {
        Ok(provider) => Some(provider),
        Err(reason) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("the interop provider is required under CI=true: {reason}")
        }
        Err(reason) => {
            static ONCE: OnceLock<()> = OnceLock::new();
            ONCE.get_or_init(|| {
                println!("skipping interop tests: {reason} (run `npm ci` in tests/interop)")
            });
            None
        }
    }
}

/// The provider's own messages go to a file, to read when a scenario fails.
fn provider_log() -> Result<std::fs::File, String> {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("interop-provider.log");
    std::fs::File::create(&path)
        .map_err(|error| format!("cannot create {}: {error}", path.display()))
}

fn start_provider() -> Result<Provider, String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop");
    if !dir.join("node_modules/oidc-provider").is_dir() {
        return Err("tests/interop/node_modules is missing".into());
    }
    let port = free_port();
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .current_dir(&dir)
        .env("PORT", port.to_string())
        .env("REDIRECT_URI", REDIRECT_URI)
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
        _stdin: stdin,
    })
}

fn http() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .expect("an HTTP client")
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
fn browse(http: &Client, authorize_url: &str, user: User) -> Url {
    let mut url = Url::parse(authorize_url).unwrap();
    let mut form: Option<Vec<(&str, &str)>> = None;
    for _ in 0..20 {
        let response = match form.take() {
            Some(fields) => http
                .post(url.clone())
                .header("content-type", "application/x-www-form-urlencoded")
                .body(
                    url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(fields)
                        .finish(),
                )
                .send(),
            None => http.get(url.clone()).send(),
        }
        .expect("the provider answers");
        let status = response.status();
        if status.is_redirection() {
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            url = url.join(&location).unwrap();
            if url.as_str().starts_with(REDIRECT_URI) {
                return url;
            }
            continue;
        }
        let page = response.text().unwrap();
        assert!(status.is_success(), "HTTP {status}: {page}");
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
    panic!("the provider never redirected to {REDIRECT_URI}");
}

fn post(http: &Client, request: &TokenRequest) -> Result<TokenResponse, TokenError> {
    let response = http
        .post(request.url().clone())
        .header("content-type", TokenRequest::CONTENT_TYPE)
        .body(request.body())
        .send()
        .expect("the token endpoint answers");
    let status = response.status().as_u16();
    let body = response.bytes().unwrap();
    TokenResponse::parse(status, &body)
}

fn jwks(http: &Client, client: &ConnectClient) -> Vec<u8> {
    http.get(client.domain().jwks_endpoint())
        .send()
        .and_then(|response| response.bytes())
        .expect("the JWKS")
        .to_vec()
}

fn login(
    http: &Client,
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

#[test]
fn public_client_with_pkce_logs_in_and_refreshes() {
    let Some(provider) = provider() else { return };
    let http = http();
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

#[test]
fn confidential_client_logs_in_with_its_secret() {
    let Some(provider) = provider() else { return };
    let http = http();
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

#[test]
fn a_wrong_verifier_is_refused_as_invalid_grant() {
    let Some(provider) = provider() else { return };
    let http = http();
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

#[test]
fn a_tampered_state_is_caught() {
    let Some(provider) = provider() else { return };
    let http = http();
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

#[test]
fn a_refused_consent_is_access_denied() {
    let Some(provider) = provider() else { return };
    let http = http();
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

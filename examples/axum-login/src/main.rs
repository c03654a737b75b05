//! A web backend that logs users in with WorkOS Connect: axum for HTTP, an encrypted cookie for the
//! login in progress, reqwest for the token endpoint and the JWKS.
//!
//! ```text
//! cargo run -p axum-login -- --domain https://<sub>.authkit.app --client-id client_... --exchange
//! ```
//!
//! Then open <http://127.0.0.1:3000/>. The redirect URI (default `http://127.0.0.1:3000/callback`) must
//! be registered for the application in the WorkOS dashboard. Set `WORKOS_CLIENT_SECRET` for a
//! confidential application; without it the login uses PKCE. Set `COOKIE_KEY` (at least 64 random
//! bytes, hex) so that logins in progress survive a restart.
//!
//! The flow:
//!
//! 1. `GET /login` builds a fresh authorize request, keeps its `state`, `nonce` and PKCE verifier in an
//!    encrypted, signed, HttpOnly cookie scoped to the callback path, and answers 303 to AuthKit.
//! 2. The user signs in at AuthKit, which redirects the browser to the redirect URI.
//! 3. `GET /callback` takes the cookie back (and deletes it), checks the callback's query against it
//!    and gets the authorization code.
//! 4. With `--exchange`: the code is redeemed at the token endpoint, the ID token is validated against
//!    the domain's JWKS, and the page shows who signed in. Tokens are never shown.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar, SameSite};
use clap::Parser;
use workos_connect::{
    AuthKitDomain, AuthorizationCode, ClientId, ClientSecret, ConnectClient, IdTokenClaims,
    PendingAuthorization, RedirectUri, Scope, Scopes, TokenRequest, TokenResponse, DEFAULT_MAX_AGE,
};

/// The cookie holding the login in progress.
const PENDING_COOKIE: &str = "workos_pending";

/// How long the token endpoint and the JWKS may take before the callback gives up.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// A web backend that logs users in with WorkOS Connect.
#[derive(Parser)]
struct Options {
    /// AuthKit domain, e.g. https://<sub>.authkit.app
    #[arg(long, env = "WORKOS_AUTHKIT_DOMAIN")]
    domain: String,
    /// Client ID
    #[arg(long, env = "WORKOS_CLIENT_ID")]
    client_id: String,
    /// Redirect URI; its path is served as the callback
    #[arg(
        long,
        env = "WORKOS_REDIRECT_URI",
        default_value = "http://127.0.0.1:3000/callback"
    )]
    redirect_uri: String,
    /// Client secret of a confidential application; without one, logins use PKCE. Prefer the
    /// variable: arguments show in `ps`
    #[arg(long, env = "WORKOS_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// Address to serve on
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Space-separated scopes
    #[arg(long, default_value = "openid profile email")]
    scope: String,
    /// Redeem the code and validate the ID token, then show who signed in
    #[arg(long)]
    exchange: bool,
    /// At least 64 bytes, hex, that encrypt and sign the login cookie; without it a random key is
    /// made at start-up, and logins in progress are lost on restart
    #[arg(long, env = "COOKIE_KEY", hide_env_values = true)]
    cookie_key: Option<String>,
}

/// Everything the handlers share, checked once at start-up.
struct Config {
    client: ConnectClient,
    scopes: Scopes,
    /// WorkOS accepts PKCE only from applications without a secret (Dynamic Client Registration).
    pkce: bool,
    /// The redirect URI's path: the cookie is sent only there, so no other page ever carries it.
    callback_path: String,
    /// A `Secure` cookie is never sent over plain http, which would break local development.
    secure_cookie: bool,
    /// Present with `--exchange`.
    http: Option<reqwest::Client>,
}

#[derive(Clone)]
struct App {
    config: Arc<Config>,
    key: Key,
}

// `PrivateCookieJar` finds its key through the router's state.
impl FromRef<App> for Key {
    fn from_ref(app: &App) -> Key {
        app.key.clone()
    }
}

fn cookie_key(hex: Option<&str>) -> Result<Key, String> {
    match hex {
        Some(hex) => {
            let bytes = hex::decode(hex.trim()).map_err(|_| "COOKIE_KEY is not hex")?;
            Key::try_from(bytes.as_slice()).map_err(|_| {
                format!(
                    "COOKIE_KEY has {} bytes; it needs at least 64 (128 hex digits)",
                    bytes.len()
                )
            })
        }
        None => {
            eprintln!(
                "note: COOKIE_KEY is not set, so a random key was made; logins in progress end \
                 when the server restarts, and several instances would not read each other's cookies"
            );
            Key::try_generate().ok_or_else(|| "could not draw a random cookie key".to_owned())
        }
    }
}

fn configure(options: &Options) -> Result<Config, Box<dyn StdError>> {
    let redirect_uri = RedirectUri::new(&options.redirect_uri)?;
    // A native app's private-use scheme cannot reach a web server.
    let redirect_url = url::Url::parse(redirect_uri.as_str())?;
    if !matches!(redirect_url.scheme(), "http" | "https") {
        return Err(format!("the redirect URI {redirect_uri} is not an http(s) URL").into());
    }
    let callback_path = redirect_url.path().to_owned();
    // axum reads `:` and `*` in a route as captures, and would refuse the route at startup.
    if callback_path.contains([':', '*', '{', '}']) {
        return Err(
            format!("the redirect URI's path {callback_path} cannot be served as a route").into(),
        );
    }
    if matches!(callback_path.as_str(), "/" | "/login") {
        return Err(
            format!("the redirect URI's path {callback_path} is taken by another page").into(),
        );
    }
    // Checked here, so that a bad set stops the server rather than every login.
    let scopes: Scopes = options.scope.parse()?;
    scopes.validate()?;
    if options.exchange && !scopes.contains(Scope::OpenId) {
        return Err("--exchange needs the `openid` scope: the ID token is what it checks".into());
    }

    let mut client = ConnectClient::new(
        AuthKitDomain::parse(&options.domain)?,
        ClientId::new(&options.client_id)?,
        redirect_uri,
    );
    let pkce = options.client_secret.is_none();
    if let Some(secret) = &options.client_secret {
        client = client.with_client_secret(ClientSecret::new(secret.as_str())?);
    }
    let http = if options.exchange {
        // The code and the secret go to the token endpoint only: a redirect is answered as an
        // error rather than followed with the body.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()?;
        Some(http)
    } else {
        None
    };
    let config = Config {
        client,
        scopes,
        pkce,
        callback_path,
        secure_cookie: redirect_url.scheme() == "https",
        http,
    };
    Ok(config)
}

async fn home() -> Html<&'static str> {
    Html("<!doctype html><title>WorkOS Connect</title><p><a href=\"/login\">Log in</a></p>")
}

async fn login(State(app): State<App>, jar: PrivateCookieJar) -> Response {
    let config = &app.config;
    let mut request = config.client.authorize().scopes(config.scopes);
    if config.pkce {
        request = request.with_pkce();
    }
    let built = request.build().map_err(|error| error.to_string());
    let kept = built.and_then(|(redirect, pending)| {
        let json = serde_json::to_string(&pending).map_err(|error| error.to_string())?;
        Ok((redirect, json))
    });
    let (redirect, json) = match kept {
        Ok(kept) => kept,
        Err(message) => return Failure::Internal(message).into_response(),
    };
    let mut cookie = Cookie::build((PENDING_COOKIE, json))
        .path(config.callback_path.clone())
        .http_only(true)
        // Lax, not Strict: the callback is a top-level navigation coming from AuthKit's site.
        .same_site(SameSite::Lax)
        .secure(config.secure_cookie);
    // The callback check refuses a login older than this anyway; the browser may as well forget it.
    if let Ok(max_age) = DEFAULT_MAX_AGE.try_into() {
        cookie = cookie.max_age(max_age);
    }
    // A second login in another tab replaces this cookie, so only the latest login can finish.
    (jar.add(cookie), Redirect::to(redirect.as_str())).into_response()
}

async fn callback(
    State(app): State<App>,
    jar: PrivateCookieJar,
    RawQuery(query): RawQuery,
) -> (PrivateCookieJar, Response) {
    let cookie = jar.get(PENDING_COOKIE);
    // Single use, whatever the outcome: a replayed callback finds nothing to match.
    let jar = jar.remove(Cookie::build(PENDING_COOKIE).path(app.config.callback_path.clone()));
    let outcome = match cookie {
        // A cookie that fails to decrypt (another key, or altered) is no better than none.
        None => Err(Failure::BadRequest(
            "No login in progress: start at /login, on the same host as the redirect URI, and \
             finish within 15 minutes."
                .to_owned(),
        )),
        Some(cookie) => finish(&app.config, cookie.value(), query.as_deref().unwrap_or("")).await,
    };
    (jar, outcome.unwrap_or_else(IntoResponse::into_response))
}

async fn finish(config: &Config, cookie: &str, query: &str) -> Result<Response, Failure> {
    let pending: PendingAuthorization = serde_json::from_str(cookie).map_err(|_| {
        Failure::BadRequest("The login cookie could not be read; start again at /login.".into())
    })?;
    let code = pending
        .callback()
        .check(query)
        .map_err(|error| Failure::BadRequest(error.to_string()))?;
    let Some(http) = &config.http else {
        return Ok(
            "Authorization code received. Restart with --exchange to redeem it.".into_response(),
        );
    };
    let claims = exchange(&config.client, http, &pending, &code).await?;
    // Key accounts on `sub`: an email address can change hands, and counts only when verified.
    Ok(Json(serde_json::json!({
        "sub": claims.sub,
        "email": claims.email,
        "email_verified": claims.email_verified,
        "name": claims.name,
    }))
    .into_response())
}

/// Redeems the code, then validates the ID token with the domain's current keys. The ID token is
/// required: without PKCE, its nonce is what ties the code to this browser's login.
async fn exchange(
    client: &ConnectClient,
    http: &reqwest::Client,
    pending: &PendingAuthorization,
    code: &AuthorizationCode,
) -> Result<IdTokenClaims, Failure> {
    let request = client.token_request(pending, code).map_err(bad_gateway)?;
    let reply = http
        .post(request.url().as_str())
        .header(reqwest::header::CONTENT_TYPE, TokenRequest::CONTENT_TYPE)
        .body(request.body())
        .send()
        .await
        .map_err(bad_gateway)?;
    let status = reply.status().as_u16();
    let body = reply.bytes().await.map_err(bad_gateway)?;
    let tokens = TokenResponse::parse(status, &body).map_err(bad_gateway)?;
    let Some(id_token) = &tokens.id_token else {
        return Err(Failure::BadGateway(
            "the token response has no ID token, though `openid` was requested".into(),
        ));
    };
    // Fetched per login for brevity; a busy server would cache the JWKS and refetch on an unknown key.
    let jwks = http
        .get(client.domain().jwks_endpoint().as_str())
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(bad_gateway)?
        .bytes()
        .await
        .map_err(bad_gateway)?;
    let claims = pending
        .id_token()
        .validate(id_token, &jwks)
        .map_err(bad_gateway)?;
    Ok(claims)
}

/// A refused request, answered as plain text so that nothing echoed from the query becomes markup.
enum Failure {
    BadRequest(String),
    BadGateway(String),
    Internal(String),
}

/// The error and its causes: reqwest's own message omits why the connection failed.
fn bad_gateway(error: impl StdError) -> Failure {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Failure::BadGateway(message)
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Failure::BadRequest(message) => (StatusCode::BAD_REQUEST, message),
            Failure::BadGateway(message) => (StatusCode::BAD_GATEWAY, message),
            Failure::Internal(message) => (StatusCode::INTERNAL_SERVER_ERROR, message),
        };
        eprintln!("{status}: {message}");
        (status, message).into_response()
    }
}

async fn serve(options: Options) -> Result<(), Box<dyn StdError>> {
    let config = configure(&options)?;
    let key = cookie_key(options.cookie_key.as_deref())?;
    let listen = options.listen;
    let callback_path = config.callback_path.clone();
    eprintln!(
        "serving http://{listen}/ ; callback {} ; {} ; {}",
        config.client.redirect_uri(),
        if config.pkce {
            "PKCE, no client secret"
        } else {
            "client secret"
        },
        if config.http.is_some() {
            "the code is exchanged"
        } else {
            "the code is not exchanged (add --exchange)"
        },
    );
    let app = App {
        config: Arc::new(config),
        key,
    };
    let router = Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route(&callback_path, get(callback))
        .with_state(app);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|error| format!("cannot listen on {listen}: {error}"))?;
    axum::serve(listener, router).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match serve(Options::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(1)
        }
    }
}

//! A web backend that logs users in with WorkOS Connect: axum for HTTP, encrypted cookies for the
//! login in progress and the session, reqwest for the token endpoint and the keys.
//!
//! ```text
//! cargo run -p axum-login -- --domain https://<sub>.authkit.app --client-id client_...
//! ```
//!
//! Then open <http://127.0.0.1:3000/>. Register the redirect URI (default
//! `http://127.0.0.1:3000/callback`) for the application in the WorkOS dashboard. Set
//! `WORKOS_CLIENT_SECRET` for a confidential application; without one, logins use PKCE. Set
//! `COOKIE_KEY` (64 random bytes, hex) so that sessions survive a restart.
//!
//! 1. `GET /login` starts a login: the pending login goes into an encrypted cookie, and the browser
//!    to AuthKit.
//! 2. `GET /callback` checks the callback against that cookie, redeems the code, validates the ID
//!    token and starts the session: an encrypted cookie with the user's claims, for 8 hours.
//! 3. `POST /refresh` redeems the refresh token (scope `offline_access`) and validates the new ID
//!    token against the session's; `POST /logout` ends the session.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::{FromRef, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar, SameSite};
use clap::Parser;
use serde::{Deserialize, Serialize};
use workos_connect::{
    CallbackError, ClientSecret, ConnectClient, ErrorCode, IdTokenCheck, IdTokenClaims,
    IdTokenError, KeySet, KeySetError, PendingAuthorization, RefreshToken, Scopes, TokenError,
    TokenRequest, TokenResponse, DEFAULT_MAX_AGE,
};

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
    /// Space-separated scopes
    #[arg(long, default_value = "openid profile email offline_access")]
    scope: String,
    /// Address to serve on
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// 64 bytes, hex, that encrypt and sign the cookies; without it a random key is made at
    /// start-up, and sessions end when the server restarts
    #[arg(long, env = "COOKIE_KEY", hide_env_values = true)]
    cookie_key: Option<String>,
}

const PENDING_COOKIE: &str = "login";
const SESSION_COOKIE: &str = "session";

/// How long a session lasts. A cookie session cannot be ended on the server: logging out deletes
/// the browser's copy only, so keep it short, or keep sessions in a server-side store instead.
const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);

/// What the session cookie holds. The claims are validated once, at login or refresh.
#[derive(Serialize, Deserialize)]
struct Session {
    claims: IdTokenClaims,
    refresh_token: Option<RefreshToken>,
    /// Seconds since the Unix epoch.
    expires_at: u64,
}

#[derive(Clone)]
struct App {
    client: Arc<ConnectClient>,
    scopes: Scopes,
    http: reqwest::Client,
    /// Fetched on first use, then again only when a token names a key the set lacks.
    keys: Arc<RwLock<Option<Arc<KeySet>>>>,
    secure_cookies: bool,
    cookie_key: Key,
}

// `PrivateCookieJar` finds its key through the router's state.
impl FromRef<App> for Key {
    fn from_ref(app: &App) -> Key {
        app.cookie_key.clone()
    }
}

async fn home(State(app): State<App>, jar: PrivateCookieJar) -> Html<String> {
    Html(match app.session(&jar) {
        None => "<!doctype html><p><a href=\"/login\">Log in</a></p>".to_owned(),
        Some(session) => format!(
            "<!doctype html><p>Signed in as {} ({})</p>\
             <form method=post action=/refresh><button>Refresh</button></form>\
             <form method=post action=/logout><button>Log out</button></form>",
            escape(session.claims.email.as_deref().unwrap_or("no email")),
            escape(&session.claims.sub),
        ),
    })
}

async fn login(State(app): State<App>, jar: PrivateCookieJar) -> Result<Response, AppError> {
    let (redirect, pending) = app
        .client
        .authorize()
        .scopes(app.scopes)
        .pkce_if_public()
        .build()?;
    let mut cookie = app.cookie(PENDING_COOKIE, serde_json::to_string(&pending)?);
    cookie.set_max_age(DEFAULT_MAX_AGE.try_into().ok());
    // A second login in another tab replaces the first: only the latest can finish.
    Ok((jar.add(cookie), Redirect::to(redirect.as_str())).into_response())
}

async fn callback(
    State(app): State<App>,
    jar: PrivateCookieJar,
    RawQuery(query): RawQuery,
) -> Result<(PrivateCookieJar, Redirect), AppError> {
    // Single use, whatever the outcome: a replayed callback finds nothing to match.
    let pending = jar.get(&app.cookie_name(PENDING_COOKIE));
    let jar = jar.remove(app.cookie(PENDING_COOKIE, String::new()));
    let pending: PendingAuthorization = pending
        .and_then(|cookie| read(cookie.value()))
        .ok_or(AppError::NoLoginInProgress)?;

    let code = pending.callback().check(query.as_deref().unwrap_or(""))?;
    let tokens = app
        .redeem(app.client.token_request(&pending, &code)?)
        .await?;
    let id_token = tokens.id_token.as_ref().ok_or(AppError::NoIdToken)?;
    // Without PKCE, the ID token's nonce is what ties the code to this browser: validate it first.
    let claims = app.validate(pending.id_token(), id_token).await?;
    let session = Session {
        claims,
        refresh_token: tokens.refresh_token.clone(),
        expires_at: unix_now().saturating_add(SESSION_LIFETIME.as_secs()),
    };
    Ok((app.start_session(jar, &session)?, Redirect::to("/")))
}

async fn refresh(
    State(app): State<App>,
    headers: HeaderMap,
    jar: PrivateCookieJar,
) -> Result<(PrivateCookieJar, Redirect), AppError> {
    same_origin(&headers)?;
    let session = app.session(&jar).ok_or(AppError::NotSignedIn)?;
    let refresh_token = session
        .refresh_token
        .as_ref()
        .ok_or(AppError::NoRefreshToken)?;
    let tokens = app
        .redeem(app.client.refresh_request(refresh_token))
        .await?;
    let claims = match &tokens.id_token {
        Some(id_token) => {
            let check = app.client.refreshed_id_token(&session.claims);
            app.validate(check, id_token).await?
        }
        None => session.claims,
    };
    let session = Session {
        claims,
        // Rotated refresh tokens replace the old one; otherwise the old one stays valid.
        refresh_token: tokens.refresh_token.clone().or(session.refresh_token),
        expires_at: session.expires_at,
    };
    Ok((app.start_session(jar, &session)?, Redirect::to("/")))
}

async fn logout(
    State(app): State<App>,
    headers: HeaderMap,
    jar: PrivateCookieJar,
) -> Result<(PrivateCookieJar, Redirect), AppError> {
    same_origin(&headers)?;
    let jar = jar.remove(app.cookie(SESSION_COOKIE, String::new()));
    Ok((jar, Redirect::to("/")))
}

/// Refuses a form posted from another site. SameSite=Lax cookies still come with a post from a
/// sibling subdomain; browsers say where a request comes from in `Sec-Fetch-Site`.
fn same_origin(headers: &HeaderMap) -> Result<(), AppError> {
    match headers.get("sec-fetch-site").map(|site| site.as_bytes()) {
        None | Some(b"same-origin" | b"none") => Ok(()),
        Some(_) => Err(AppError::CrossSite),
    }
}

impl App {
    /// The session, if the cookie holds one that has not expired.
    fn session(&self, jar: &PrivateCookieJar) -> Option<Session> {
        let cookie = jar.get(&self.cookie_name(SESSION_COOKIE))?;
        let session: Session = read(cookie.value())?;
        (session.expires_at > unix_now()).then_some(session)
    }

    fn start_session(
        &self,
        jar: PrivateCookieJar,
        session: &Session,
    ) -> Result<PrivateCookieJar, AppError> {
        let mut cookie = self.cookie(SESSION_COOKIE, serde_json::to_string(session)?);
        cookie.set_max_age(SESSION_LIFETIME.try_into().ok());
        Ok(jar.add(cookie))
    }

    /// Posts a token request and reads the answer.
    async fn redeem(&self, request: TokenRequest) -> Result<TokenResponse, AppError> {
        let reply = self.http.execute(request.to_http()?.try_into()?).await?;
        let status = reply.status().as_u16();
        Ok(TokenResponse::parse(status, &reply.bytes().await?)?)
    }

    /// Validates an ID token with the cached keys, fetching them again once if the token names a
    /// key the set lacks (the crate says when that is allowed).
    async fn validate(
        &self,
        check: IdTokenCheck<'_>,
        id_token: &workos_connect::IdToken,
    ) -> Result<IdTokenClaims, AppError> {
        let cached = self
            .keys
            .read()
            .map(|keys| keys.clone())
            .unwrap_or_default();
        let keys = match cached {
            Some(keys) => keys,
            None => self.fetch_keys().await?,
        };
        match check.validate(id_token, &keys) {
            Err(error) if error.should_refetch_keys() => {
                let keys = self.fetch_keys().await?;
                Ok(check.validate(id_token, &keys)?)
            }
            outcome => Ok(outcome?),
        }
    }

    async fn fetch_keys(&self) -> Result<Arc<KeySet>, AppError> {
        let url = self.client.domain().jwks_endpoint();
        let reply = self.http.get(url).send().await?.error_for_status()?;
        let keys = Arc::new(KeySet::parse(&reply.bytes().await?)?);
        if let Ok(mut cached) = self.keys.write() {
            *cached = Some(keys.clone());
        }
        Ok(keys)
    }

    /// An encrypted, signed, HttpOnly cookie. Lax, not Strict: the callback is a top-level
    /// navigation from AuthKit's site. `Secure` unless the app runs on plain http (local development).
    fn cookie(&self, name: &'static str, value: String) -> Cookie<'static> {
        Cookie::build((self.cookie_name(name), value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure_cookies)
            .build()
    }
}

impl App {
    /// With https, the `__Host-` prefix: the browser then refuses the cookie from a sibling
    /// subdomain, which could otherwise plant its own (encrypted, valid) session or login.
    fn cookie_name(&self, name: &str) -> String {
        if self.secure_cookies {
            format!("__Host-{name}")
        } else {
            name.to_owned()
        }
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |now| now.as_secs())
}

fn read<T: for<'de> Deserialize<'de>>(json: &str) -> Option<T> {
    serde_json::from_str(json).ok()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Every way a request can fail, answered by type.
#[derive(Debug, thiserror::Error)]
enum AppError {
    #[error("no login in progress: start at /login and finish within 15 minutes")]
    NoLoginInProgress,
    #[error("not signed in")]
    NotSignedIn,
    #[error("a form from another site cannot act on this session")]
    CrossSite,
    #[error("the session has no refresh token: log in with the offline_access scope")]
    NoRefreshToken,
    #[error("the token response has no ID token, though `openid` was requested")]
    NoIdToken,
    #[error(transparent)]
    Callback(#[from] CallbackError),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    IdToken(#[from] IdTokenError),
    #[error(transparent)]
    Keys(#[from] KeySetError),
    #[error("cannot reach AuthKit: {0}")]
    Http(#[from] reqwest::Error),
    #[error(transparent)]
    Request(#[from] workos_connect::Error),
    #[error(transparent)]
    HttpRequest(#[from] http::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = match &self {
            AppError::Callback(CallbackError::Authorization(error))
                if error.code == ErrorCode::AccessDenied =>
            {
                StatusCode::FORBIDDEN
            }
            AppError::NoLoginInProgress | AppError::Callback(_) => StatusCode::BAD_REQUEST,
            AppError::NotSignedIn | AppError::NoRefreshToken => StatusCode::UNAUTHORIZED,
            AppError::CrossSite => StatusCode::FORBIDDEN,
            // A used code or an expired refresh token: the user must log in again.
            AppError::Token(TokenError::Endpoint(error))
                if error.code == ErrorCode::InvalidGrant =>
            {
                StatusCode::UNAUTHORIZED
            }
            AppError::Token(_)
            | AppError::IdToken(_)
            | AppError::Keys(_)
            | AppError::NoIdToken
            | AppError::Http(_) => StatusCode::BAD_GATEWAY,
            AppError::Request(_) | AppError::HttpRequest(_) | AppError::Json(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        eprintln!("{status}: {self}");
        // Plain text, so nothing echoed from a query becomes markup.
        (status, self.to_string()).into_response()
    }
}

fn configure(options: &Options) -> Result<App, Box<dyn std::error::Error>> {
    let mut client = ConnectClient::new(
        options.domain.parse()?,
        options.client_id.parse()?,
        options.redirect_uri.parse()?,
    );
    if let Some(secret) = &options.client_secret {
        client = client.with_client_secret(ClientSecret::new(secret.as_str())?);
    }
    // The callback is served at the redirect URI's path, which must not clash with another page or
    // hold what axum reads as a capture.
    let callback_path = client.redirect_uri().path();
    if ["/", "/login", "/refresh", "/logout"].contains(&callback_path)
        || callback_path.contains(['{', '}'])
        || callback_path
            .split('/')
            .any(|segment| segment.starts_with([':', '*']))
    {
        return Err(format!(
            "the redirect URI's path {callback_path} cannot be the callback route"
        )
        .into());
    }
    // Checked here, so that a bad set stops the server rather than every login.
    let scopes: Scopes = options.scope.parse()?;
    scopes.validate()?;
    let cookie_key = match &options.cookie_key {
        Some(hex) => Key::try_from(hex::decode(hex.trim())?.as_slice())?,
        None => Key::generate(),
    };
    // The token request carries the code, the verifier and the client secret: never follow a
    // redirect with it.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()?;
    Ok(App {
        secure_cookies: client.redirect_uri().as_str().starts_with("https:"),
        client: Arc::new(client),
        scopes,
        http,
        keys: Arc::default(),
        cookie_key,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = Options::parse();
    let app = match configure(&options) {
        Ok(app) => app,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    };
    let router = Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route(app.client.redirect_uri().path(), get(callback))
        .route("/refresh", post(refresh))
        .route("/logout", post(logout))
        .with_state(app);
    let served = async {
        let listener = tokio::net::TcpListener::bind(options.listen).await?;
        eprintln!("serving http://{}/", options.listen);
        axum::serve(listener, router).await
    };
    match served.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(1)
        }
    }
}

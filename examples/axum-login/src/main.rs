//! A web backend that logs users in with WorkOS Connect: axum for HTTP, workos-connect-axum for the
//! login routes and the signed-in user, tower-sessions for the session, in memory or in Redis.
//!
//! ```text
//! cargo run -p axum-login -- --domain https://<sub>.authkit.app --client-id client_...
//! ```
//!
//! Then open <http://127.0.0.1:3000/>. Register the redirect URI (default
//! `http://127.0.0.1:3000/callback`) for the application in the WorkOS dashboard. Set
//! `WORKOS_CLIENT_SECRET` for a confidential application; without one, logins use PKCE.
//!
//! - `GET /login`, the callback and `POST /logout` are `WebLogin::router`'s.
//! - `GET /` greets the signed-in user, if any; `GET /me` answers the user's ID token claims as
//!   JSON (401 when signed out) and a fingerprint of the access token, which changes when it is
//!   renewed; `POST /refresh` renews it now.
//!
//! Sessions live in memory, and end when the server stops, unless `--redis-url` names a Redis
//! server: then they survive restarts and are shared by every instance using it.
//!
//! `--prompt consent` and `--max-age <seconds>` go with every login; `/login?login_hint=<email>`
//! passes one user's address on to the login page.
//!
//! `--tls-cert cert.pem --tls-key key.pem` serves https instead of http (give an https redirect
//! URI: the session cookie is then `Secure` and named `__Host-session`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use axum::http::{header, HeaderValue};
use axum::response::{Html, Json, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use clap::Parser;
use sha2::{Digest, Sha256};
use workos_connect::{
    oauth::{ClientSecret, Prompts},
    ConnectClient,
};
use workos_connect_axum::tower_sessions::MemoryStore;
use workos_connect_axum::{LoginError, RedisStore, SignedIn, WebLogin};

mod tls;

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
    /// Redis server keeping the sessions, e.g. redis://127.0.0.1:6379; without it they are kept in
    /// memory
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
    /// Seconds before its expiry that the access token is renewed
    #[arg(long, default_value_t = 60)]
    refresh_margin: u64,
    /// Space-separated `prompt` values of every login, e.g. "consent" for a provider that issues
    /// a refresh token only with it
    #[arg(long)]
    prompt: Option<String>,
    /// Longest time, in seconds, since the user last authenticated that a login accepts
    /// (`max_age`); the ID token must then carry `auth_time`
    #[arg(long)]
    max_age: Option<u64>,
    /// Certificate chain (PEM) to serve https with, beside `--tls-key`
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Private key (PEM) of `--tls-cert`
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

async fn home(user: Option<SignedIn>) -> Html<String> {
    Html(match user {
        None => "<!doctype html><p><a href=\"/login\">Log in</a></p>".to_owned(),
        Some(user) => format!(
            "<!doctype html><p>Signed in as {} ({})</p>\
             <form method=post action=/refresh><button>Refresh</button></form>\
             <form method=post action=/logout><button>Log out</button></form>",
            escape(user.claims().email.as_deref().unwrap_or("no email")),
            escape(&user.claims().sub),
        ),
    })
}

/// The claims, and the first bytes of the access token's SHA-256: enough to see it renewed,
/// nothing to use it with.
async fn me(user: SignedIn) -> Json<serde_json::Value> {
    let digest = Sha256::digest(user.access_token().secret().as_bytes());
    let fingerprint: String = digest
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    Json(serde_json::json!({
        "claims": user.claims(),
        "access_token_sha256": fingerprint,
        "expires_at": user.expires_at(),
    }))
}

async fn refresh(mut user: SignedIn) -> Result<Redirect, LoginError> {
    user.refresh().await?;
    Ok(Redirect::to("/"))
}

/// Every page here shows the signed-in user or depends on the session: kept out of the browser's
/// cache, or the back button after logout shows them again from it (a browser keeps an answer
/// without `Cache-Control` for history navigation).
async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

async fn run(options: Options) -> Result<(), Box<dyn std::error::Error>> {
    let client = ConnectClient::new(
        options.domain.parse()?,
        options.client_id.parse()?,
        options.redirect_uri.parse()?,
    );
    let mut login = WebLogin::builder(client)
        .scopes(options.scope.parse()?)
        .refresh_margin(Duration::from_secs(options.refresh_margin));
    if let Some(secret) = options.client_secret {
        login = login.client_secret(ClientSecret::new(secret)?);
    }
    if let Some(prompt) = &options.prompt {
        login = login.prompt(prompt.parse::<Prompts>()?);
    }
    if let Some(seconds) = options.max_age {
        login = login.max_age(Duration::from_secs(seconds));
    }
    let login = login.build()?;
    let app = Router::new()
        .route("/", get(home))
        .route("/me", get(me))
        .route("/refresh", post(refresh))
        .merge(login.router())
        .layer(axum::middleware::map_response(no_store));
    let app = match &options.redis_url {
        None => app.layer(login.session_layer(MemoryStore::default())),
        Some(url) => app.layer(login.session_layer(RedisStore::connect(url).await?)),
    };
    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    match (&options.tls_cert, &options.tls_key) {
        (Some(cert), Some(key)) => {
            let listener = tls::TlsListener::new(listener, tls::server_config(cert, key)?)?;
            eprintln!("serving https://{}/", options.listen);
            axum::serve(listener, app).await?;
        }
        _ => {
            eprintln!("serving http://{}/", options.listen);
            axum::serve(listener, app).await?;
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Options::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(1)
        }
    }
}

use std::sync::Arc;

use axum::extract::{FromRef, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{routing::get, Router};
use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar, SameSite};
use workos_connect::{ConnectClient, KeySet, PendingAuthorization, Scope, TokenResponse};

#[derive(Clone)]
struct App {
    client: Arc<ConnectClient>,
    http: reqwest::Client,
    key: Key,
}

impl FromRef<App> for Key {
    fn from_ref(app: &App) -> Key {
        app.key.clone()
    }
}

async fn login(State(app): State<App>, jar: PrivateCookieJar) -> Result<impl IntoResponse, Failed> {
    let request = app.client.authorize().scopes(Scope::OpenId | Scope::Email);
    let (redirect, pending) = request.pkce_if_public().build()?;
    let cookie = Cookie::build(("login", serde_json::to_string(&pending)?))
        .http_only(true)
        .same_site(SameSite::Lax);
    Ok((jar.add(cookie), Redirect::to(redirect.as_str())))
}

async fn callback(
    State(app): State<App>,
    jar: PrivateCookieJar,
    RawQuery(query): RawQuery,
) -> Result<(PrivateCookieJar, String), Failed> {
    let cookie = jar.get("login").ok_or("no login in progress")?;
    let jar = jar.remove(Cookie::from("login")); // single use, whatever the outcome
    let pending: PendingAuthorization = serde_json::from_str(cookie.value())?;
    let code = pending.callback().check(query.as_deref().unwrap_or(""))?;
    let request = app.client.token_request(&pending, &code)?.to_http()?;
    let reply = app.http.execute(request.try_into()?).await?;
    let tokens = TokenResponse::parse(reply.status().as_u16(), &reply.bytes().await?)?;
    // Fetched per login for brevity; the axum-login template caches the set.
    let jwks = app
        .http
        .get(app.client.domain().jwks_endpoint())
        .send()
        .await?
        .bytes()
        .await?;
    let id_token = tokens.id_token.as_ref().ok_or("no ID token")?;
    let claims = pending
        .id_token()
        .validate(id_token, &KeySet::parse(&jwks)?)?;
    Ok((jar, format!("Signed in as {}", claims.sub)))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = ConnectClient::new(
        "https://example.authkit.app".parse()?,
        "client_01HXYZ".parse()?,
        "http://127.0.0.1:3000/callback".parse()?,
    );
    // Never follow redirects: the token request's body carries the code and any client secret.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let app = App {
        client: Arc::new(client),
        http,
        key: Key::generate(),
    };
    let router = Router::new()
        .route("/login", get(login))
        .route("/callback", get(callback));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, router.with_state(app)).await?;
    Ok(())
}

/// Any failure, answered as 400 with its message.
struct Failed(String);

impl<E: std::fmt::Display> From<E> for Failed {
    fn from(error: E) -> Failed {
        Failed(error.to_string())
    }
}

impl IntoResponse for Failed {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, self.0).into_response()
    }
}

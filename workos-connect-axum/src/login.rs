//! Browser logins: the settings, the login, callback and logout routes, and the token requests
//! they and [`SignedIn`](crate::SignedIn) send.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, RawQuery, State};
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::{Extension, Router};
use http::HeaderMap;
use serde::Deserialize;
use tower_layer::Stack;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer, SessionStore};
use url::Url;
use workos_connect::{
    authkit::IdTokenCheck,
    jose::KeyCache,
    oauth::{ClientSecret, IdToken, LoginHint, Prompts, TokenRequest},
    CallbackError, ConnectClient, IdTokenClaims, PendingAuthorization, Scopes, TokenResponse,
};

use crate::http_client::{body_within, default_client, HttpClientError};
use crate::keys::{Keys, KeysError};
use crate::login_error::{LoginError, MAX_RETURN_TO_LEN};
use crate::renewals::Renewals;
use crate::same_origin::is_same_origin;
use crate::session_data::{SessionData, PENDING_KEY, RETURN_TO_KEY};
use crate::url_rules::{is_https_or_loopback, is_literal_route};

/// Where [`WebLogin::router`] starts a login, unless [`WebLoginBuilder::login_path`] says otherwise.
pub const LOGIN_PATH: &str = "/login";
/// Where [`WebLogin::router`] ends a session (`POST`), unless [`WebLoginBuilder::logout_path`] says
/// otherwise.
pub const LOGOUT_PATH: &str = "/logout";

/// The session cookie's name on https: the `__Host-` prefix keeps sibling subdomains from setting it.
const SECURE_COOKIE: &str = "__Host-session";

/// What deletes [`SECURE_COOKIE`] in the browser. The session layer's own removal (tower-sessions
/// 0.15.0) lacks `Secure`, and browsers ignore a `__Host-` cookie without it: after logout the
/// browser would keep sending the ended session's ID.
const SECURE_COOKIE_REMOVAL: &str = "__Host-session=; Path=/; Max-Age=0; \
     Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; HttpOnly; SameSite=Lax";

/// The most of a token endpoint's answer read: three tokens and a few fields.
const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;

/// How long a token request may take by default: the default HTTP client's overall timeout.
const DEFAULT_TOKEN_TIMEOUT: Duration = Duration::from_secs(30);

/// Browser logins with WorkOS Connect: a cheap handle (clone it freely) over the client, the keys
/// that check ID tokens and the HTTP client that redeems codes and refresh tokens.
///
/// [`router`](Self::router) serves `GET /login`, the callback at the redirect URI's path and
/// `POST /logout` (the login and logout paths are [settings](WebLoginBuilder::login_path));
/// [`SignedIn`](crate::SignedIn) gives handlers the user and a fresh access token.
/// Both need a `tower-sessions` session layer and this handle in the request's extensions:
/// [`session_layer`](Self::session_layer) gives both, with the cookie settings a login needs.
///
/// ```no_run
/// use axum::{routing::get, Router};
/// use workos_connect::{ConnectClient, Scopes};
/// use workos_connect_axum::{tower_sessions::MemoryStore, SignedIn, WebLogin};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = ConnectClient::new(
///     "https://example.authkit.app".parse()?,
///     "client_01HXYZ".parse()?,
///     "https://app.example.com/callback".parse()?,
/// );
/// let login = WebLogin::builder(client).scopes(Scopes::ALL).build()?;
/// let app: Router = Router::new()
///     .route("/me", get(|user: SignedIn| async move { user.claims().sub.clone() }))
///     .merge(login.router())
///     .layer(login.session_layer(MemoryStore::default()));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct WebLogin {
    shared: Arc<Settings>,
}

struct Settings {
    client: ConnectClient,
    scopes: Scopes,
    prompts: Prompts,
    max_age: Option<Duration>,
    keys: Keys,
    http: reqwest::Client,
    after_login: String,
    after_logout: String,
    login_path: String,
    logout_path: String,
    refresh_margin: u64,
    token_timeout: Duration,
    /// The redirect URI's origin: the app's own, for the same-origin check.
    origin: String,
    /// The same origin as a URL, which a `return_to` is resolved against.
    home: Url,
    secure: bool,
    /// The renewals under way, one per session at a time.
    renewals: Renewals,
}

/// The settings of a [`WebLogin`], from [`WebLogin::builder`].
#[must_use = "call build() to get the WebLogin"]
pub struct WebLoginBuilder {
    client: ConnectClient,
    scopes: Scopes,
    prompts: Prompts,
    max_age: Option<Duration>,
    after_login: String,
    after_logout: String,
    login_path: String,
    logout_path: String,
    refresh_margin: Duration,
    token_timeout: Duration,
    jwks_uri: Option<Url>,
    keys: Option<Keys>,
    http: Option<reqwest::Client>,
}

/// Why a [`WebLogin`] could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebLoginSetupError {
    /// The scopes cannot be requested (`profile` or `email` without `openid`).
    #[error("the scopes cannot be requested: {0}")]
    Scopes(#[source] workos_connect::Error),
    /// The prompt cannot be sent (`none` beside another value).
    #[error("the prompt cannot be sent: {0}")]
    Prompt(#[source] workos_connect::Error),
    /// The redirect URI's path cannot be served as the callback route.
    #[error(
        "the redirect URI's path {0} cannot be the callback route: it must not be /, the login path \
         (default {LOGIN_PATH}) or the logout path (default {LOGOUT_PATH}), nor hold what axum reads \
         as a capture"
    )]
    CallbackPath(String),
    /// The [login path](WebLoginBuilder::login_path) cannot be served as a route.
    #[error(
        "the login path `{0}` cannot be served: write a plain path such as /auth/login (starting \
         with a single /, not / alone, printable ASCII without ?, #, \\, or what axum reads as a \
         capture)"
    )]
    LoginPath(String),
    /// The [logout path](WebLoginBuilder::logout_path) cannot be served as a route.
    #[error(
        "the logout path `{0}` cannot be served: write a plain path such as /auth/logout (starting \
         with a single /, not / alone, printable ASCII without ?, #, \\, or what axum reads as a \
         capture)"
    )]
    LogoutPath(String),
    /// The login and logout paths are the same.
    #[error("the login and logout paths are both {0}: give each its own path")]
    SharedPath(String),
    /// Where to go after login or logout is not a path on this site.
    #[error("`{0}` is not a path on this site: write /something")]
    NotLocalPath(String),
    /// The JWKS URL is neither https nor on loopback.
    #[error("the JWKS URL must be https (or http on loopback): {0}")]
    InsecureJwksUri(Url),
    /// The HTTP client could not be built.
    #[error(transparent)]
    HttpClient(#[from] HttpClientError),
    /// The keys could not be set up.
    #[error(transparent)]
    Keys(#[from] KeysError),
}

impl WebLogin {
    /// Logins for `client`'s application, with scope `openid` only, back to `/` after login and
    /// logout, and a 60-second refresh margin, unless set otherwise.
    pub fn builder(client: ConnectClient) -> WebLoginBuilder {
        WebLoginBuilder {
            client,
            scopes: Scopes::EMPTY.with(workos_connect::Scope::OpenId),
            prompts: Prompts::EMPTY,
            max_age: None,
            after_login: "/".to_owned(),
            after_logout: "/".to_owned(),
            login_path: LOGIN_PATH.to_owned(),
            logout_path: LOGOUT_PATH.to_owned(),
            refresh_margin: Duration::from_secs(60),
            token_timeout: DEFAULT_TOKEN_TIMEOUT,
            jwks_uri: None,
            keys: None,
            http: None,
        }
    }

    /// The login routes, for any state: `GET` at the [login path](Self::login_path) (`/login`),
    /// `GET` at the redirect URI's path, and `POST` at the [logout path](Self::logout_path)
    /// (`/logout`). Merge them into the app's router, inside
    /// [`session_layer`](Self::session_layer).
    ///
    /// - `/login` keeps a new pending login in the session (a second login in another tab replaces
    ///   the first) and redirects (303) to AuthKit, with PKCE unless the client has a secret, and
    ///   the builder's [`prompt`](WebLoginBuilder::prompt) and
    ///   [`max_age`](WebLoginBuilder::max_age).
    ///   `/login?return_to=/some/page?x=1` comes back to that page after the login rather than to
    ///   the [page after login](WebLoginBuilder::after_login). It must be a path on this site: it
    ///   starts with a single `/`, holds at most 2048 bytes of printable ASCII (no spaces, control
    ///   characters or backslashes: percent-encode them), is not the login or the callback, and,
    ///   resolved against the redirect URI's origin, stays on that origin; anything else is refused
    ///   with 400 (`invalid_return_to`), so
    ///   that a link that went wrong shows rather than lands on the home page. After the login, the
    ///   browser is sent to that page as an absolute URL on the redirect URI's origin.
    ///   An optional `login_hint` (the email address the user typed, say:
    ///   `/login?login_hint=ada%40example.com`) is sent on as the login's [`LoginHint`]; an empty
    ///   one is none, and one the hint's checks refuse is answered 400 (`invalid_login_hint`,
    ///   [`LoginError::LoginHint`]).
    /// - The callback checks itself against the pending login; one without the login's `state`
    ///   (another site's made-up callback) is refused with 400 and leaves the session as it was,
    ///   the pending login included, so that the genuine callback still succeeds. One with the
    ///   login's `state` takes the pending login out of the session, whatever comes next (replayed,
    ///   it finds none: 400, and a signed-in session stays signed in), redeems the code, validates
    ///   the ID token, gives the session a new ID (against session fixation) and keeps the user in
    ///   it, then redirects to the login's `return_to` or the page after login.
    /// - `/logout` refuses a post from another site's page (403), deletes the session and its cookie
    ///   and redirects to the page after logout.
    ///
    /// Each refusal is answered with its status and a JSON body saying why (see [`LoginError`]).
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        Router::new()
            .route(self.login_path(), get(login))
            .route(self.callback_path(), get(callback))
            .route(self.logout_path(), post(logout))
            .with_state(self.clone())
    }

    /// The layer that puts this handle in each request's extensions, for
    /// [`SignedIn`](crate::SignedIn); [`session_layer`](Self::session_layer) includes it. Use it
    /// alone with a session layer of your own making: its cookie must be `SameSite=Lax` (AuthKit's
    /// redirect to the callback is a cross-site navigation, which a Strict cookie does not follow),
    /// and should be `HttpOnly` and, on https, `Secure`.
    pub fn layer(&self) -> Extension<WebLogin> {
        Extension(self.clone())
    }

    /// The session layer for `store`, with this handle in each request's extensions: an `HttpOnly`,
    /// `SameSite=Lax` cookie, `Secure` and named with the `__Host-` prefix (which browsers refuse to
    /// take from a sibling subdomain) when the redirect URI is https, and sessions that end after 8
    /// hours without a request. With a store shared by several instances (Redis, a database), a
    /// user logged in on one is logged in on all.
    pub fn session_layer<St: SessionStore>(
        &self,
        store: St,
    ) -> Stack<Extension<WebLogin>, SessionManagerLayer<St>> {
        #[cfg(feature = "redis")]
        if let Some(redis) = (&store as &dyn std::any::Any).downcast_ref::<crate::RedisStore>() {
            self.shared.renewals.share(redis.clone());
        }
        let secure = self.shared.secure;
        let sessions = SessionManagerLayer::new(store)
            .with_name(if secure { SECURE_COOKIE } else { "session" })
            .with_secure(secure)
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_path("/")
            .with_expiry(Expiry::OnInactivity(
                tower_sessions::cookie::time::Duration::hours(8),
            ));
        Stack::new(self.layer(), sessions)
    }

    /// The client logins are made for.
    pub fn client(&self) -> &ConnectClient {
        &self.shared.client
    }

    /// The keys ID tokens are checked with.
    pub fn keys(&self) -> &Keys {
        &self.shared.keys
    }

    /// The path the callback is served at: the redirect URI's.
    pub fn callback_path(&self) -> &str {
        self.shared.client.redirect_uri().path()
    }

    /// The path the login is served at (`GET`), for links: [`LOGIN_PATH`] unless
    /// [set](WebLoginBuilder::login_path) otherwise.
    pub fn login_path(&self) -> &str {
        &self.shared.login_path
    }

    /// The path the logout is served at (`POST`), for forms: [`LOGOUT_PATH`] unless
    /// [set](WebLoginBuilder::logout_path) otherwise.
    pub fn logout_path(&self) -> &str {
        &self.shared.logout_path
    }

    /// Where to send a browser to log in and come back to `page` (a path and query on this site):
    /// the login path with `page` as its `return_to`, or the login path alone when `page` is not
    /// one the login route takes.
    pub(crate) fn login_returning_to(&self, page: &str) -> String {
        if is_return_path(page) {
            let page: String = url::form_urlencoded::byte_serialize(page.as_bytes()).collect();
            format!("{}?return_to={page}", self.login_path())
        } else {
            self.login_path().to_owned()
        }
    }

    /// The URL on this site that `return_to` names, if the login route takes it: not the login or
    /// the callback, where coming back would start the login again or fail.
    fn return_to_url(&self, return_to: &str) -> Option<Url> {
        if !is_return_path(return_to) {
            return None;
        }
        let url = self.on_this_site(self.shared.home.join(return_to).ok()?)?;
        (url.path() != self.login_path() && url.path() != self.callback_path()).then_some(url)
    }

    /// `url`, if it is on the app's origin.
    fn on_this_site(&self, url: Url) -> Option<Url> {
        (url.origin() == self.shared.home.origin()).then_some(url)
    }

    pub(crate) fn refresh_margin(&self) -> u64 {
        self.shared.refresh_margin
    }

    pub(crate) fn origin(&self) -> &str {
        &self.shared.origin
    }

    pub(crate) fn renewals(&self) -> &Renewals {
        &self.shared.renewals
    }

    /// How long a renewal waits for another instance's, whose lock is extended while it runs: the
    /// token request's timeout and time for the keys, at most five minutes.
    #[cfg(feature = "redis")]
    pub(crate) fn renewal_wait(&self) -> Duration {
        let wait = self
            .shared
            .token_timeout
            .saturating_add(Duration::from_secs(30));
        wait.min(Duration::from_secs(300))
    }

    /// Redeems the session's refresh token; the session to keep, with the refreshed ID token's
    /// claims if the answer carried one (validated against the session's).
    pub(crate) async fn refresh(&self, data: &SessionData) -> Result<SessionData, LoginError> {
        let refresh_token = data.refresh_token.as_ref().ok_or(LoginError::Expired)?;
        let client = &self.shared.client;
        let tokens = self.redeem(client.refresh_request(refresh_token)).await?;
        let claims = match &tokens.id_token {
            Some(id_token) => Some(
                self.validate(client.refreshed_id_token(&data.claims), id_token)
                    .await?,
            ),
            None => None,
        };
        Ok(data.refreshed(claims, &tokens, client.now()))
    }

    /// Posts a token request and reads the answer, within the token timeout whatever the HTTP
    /// client's own: a renewal holds its session's turn meanwhile, and a logout waits for it.
    async fn redeem(&self, request: TokenRequest) -> Result<TokenResponse, LoginError> {
        let timeout = self.shared.token_timeout;
        tokio::time::timeout(timeout, self.post(request))
            .await
            .map_err(|_| LoginError::TimedOut(timeout))?
    }

    /// Posts a token request and reads the answer.
    async fn post(&self, request: TokenRequest) -> Result<TokenResponse, LoginError> {
        let request = request.to_http().map_err(LoginError::Request)?;
        let request = reqwest::Request::try_from(request).map_err(LoginError::Unreachable)?;
        let reply = self
            .shared
            .http
            .execute(request)
            .await
            .map_err(LoginError::Unreachable)?;
        let status = reply.status().as_u16();
        let body = body_within(reply, MAX_TOKEN_RESPONSE_BYTES)
            .await
            .map_err(LoginError::Unreachable)?
            .ok_or(LoginError::TooLarge(MAX_TOKEN_RESPONSE_BYTES))?;
        Ok(TokenResponse::parse(status, &body)?)
    }

    /// Validates an ID token with the keys held, and once more after the fetch the key cache
    /// allows when it names a key the set lacks (the issuer rotated its keys).
    async fn validate(
        &self,
        check: IdTokenCheck<'_>,
        id_token: &IdToken,
    ) -> Result<IdTokenClaims, LoginError> {
        let keys = &self.shared.keys;
        let held = match keys.current() {
            Some(held) => held,
            None => keys.ready().await?,
        };
        match check.validate(id_token, &held) {
            Ok(claims) => Ok(claims),
            Err(error) if error.names_unknown_key() => match keys.after_unknown_key().await {
                Some(newer) if !Arc::ptr_eq(&newer, &held) => Ok(check.validate(id_token, &newer)?),
                _ => Err(error.into()),
            },
            Err(error) => Err(error.into()),
        }
    }
}

impl fmt::Debug for WebLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings = &self.shared;
        f.debug_struct("WebLogin")
            .field("client", &settings.client)
            .field("scopes", &settings.scopes)
            .field("prompt", &settings.prompts)
            .field("max_age", &settings.max_age)
            .field("after_login", &settings.after_login)
            .field("after_logout", &settings.after_logout)
            .field("login_path", &settings.login_path)
            .field("logout_path", &settings.logout_path)
            .field("refresh_margin", &settings.refresh_margin)
            .finish_non_exhaustive()
    }
}

/// The login route's query, each member optional.
#[derive(Deserialize)]
struct LoginQuery {
    /// The page on this site to come back to after the login.
    #[serde(default)]
    return_to: Option<String>,
    /// Who the app expects to log in; checked into a [`LoginHint`].
    #[serde(default)]
    login_hint: Option<String>,
}

async fn login(
    State(login): State<WebLogin>,
    session: Session,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Result<Redirect, LoginError> {
    let Query(query) = query.map_err(|_| LoginError::MalformedLoginQuery)?;
    let return_to = match query.return_to.as_deref() {
        Some(return_to) => Some(
            login
                .return_to_url(return_to)
                .ok_or(LoginError::InvalidReturnTo)?,
        ),
        None => None,
    };
    let settings = &login.shared;
    let mut request = settings
        .client
        .authorize()
        .scopes(settings.scopes)
        .prompt(settings.prompts)
        .pkce_if_public();
    if let Some(max_age) = settings.max_age {
        request = request.max_age(max_age);
    }
    // An empty hint is an optional form field left blank.
    if let Some(hint) = query.login_hint.filter(|hint| !hint.is_empty()) {
        request = request.login_hint(LoginHint::try_from(hint).map_err(LoginError::LoginHint)?);
    }
    let (redirect, pending) = request.build().map_err(LoginError::Authorize)?;
    session.insert(PENDING_KEY, &pending).await?;
    // Beside the login it belongs to, and replaced with it: a login in another tab without one
    // must not come back to the page the first asked for.
    match return_to {
        Some(url) => session.insert(RETURN_TO_KEY, url.as_str()).await?,
        None => {
            session.remove_value(RETURN_TO_KEY).await?;
        }
    }
    Ok(Redirect::to(redirect.as_str()))
}

async fn callback(
    State(login): State<WebLogin>,
    session: Session,
    RawQuery(query): RawQuery,
) -> Result<Redirect, LoginError> {
    // One callback of a session at a time, after any renewal under way, reading the record as the
    // request before it left it: a second copy of the callback (a double click, a replay racing the
    // original) finds the login taken rather than redeeming its code twice, which a server may
    // answer by revoking the tokens the first issued (RFC 6749 section 4.1.2); and a renewal cannot
    // store the old session ID again once the new one is set.
    let _turn = match session.id() {
        Some(id) => {
            let turn = login.renewals().turn(id).await;
            session.load().await?;
            Some(turn)
        }
        None => None,
    };
    let pending = read_pending(&session)
        .await?
        .ok_or(LoginError::NoLoginInProgress)?;
    let code = match pending.callback().check(query.as_deref().unwrap_or("")) {
        Ok(code) => code,
        Err(error) => {
            if ends_the_login(&error) {
                end_pending(&session).await?;
            }
            return Err(error.into());
        }
    };
    let return_to = session.get_value(RETURN_TO_KEY).await?;
    // The callback carries this login's state: it is the answer to this login, and used once,
    // whatever comes next.
    end_pending(&session).await?;
    let client = &login.shared.client;
    let tokens = login.redeem(client.token_request(&pending, &code)?).await?;
    let id_token = tokens.id_token.as_ref().ok_or(LoginError::NoIdToken)?;
    // Without PKCE, the ID token's nonce is what ties the code to this browser: validate it before
    // the session takes anything.
    let claims = login.validate(pending.id_token(), id_token).await?;
    let data = SessionData::from_login(claims, &tokens, client.now());
    // Whoever knew the session ID before the login (one planted in the browser) must not share the
    // signed-in session.
    session.cycle_id().await?;
    data.write(&session).await?;
    // Checked when the login began; again here, as the store is not this process's alone.
    let page = return_to
        .as_ref()
        .and_then(|value| Url::parse(value.as_str()?).ok())
        .and_then(|url| login.on_this_site(url));
    Ok(match page {
        Some(page) => Redirect::to(page.as_str()),
        None => Redirect::to(&login.shared.after_login),
    })
}

/// Whether a callback refused with `error` ends the login in progress: one carrying the login's
/// `state` does (see [`CallbackError::state_matched`]: a made-up callback must leave the login for
/// the genuine one), and so does a login too old to finish.
fn ends_the_login(error: &CallbackError) -> bool {
    error.state_matched()
        || matches!(
            error,
            CallbackError::Expired { .. } | CallbackError::FromTheFuture
        )
}

/// The login in progress in the session, if any; a record this version cannot read is removed and
/// is no login in progress.
async fn read_pending(session: &Session) -> Result<Option<PendingAuthorization>, LoginError> {
    let Some(value) = session.get_value(PENDING_KEY).await? else {
        return Ok(None);
    };
    match serde_json::from_value(value) {
        Ok(pending) => Ok(Some(pending)),
        Err(_) => {
            end_pending(session).await?;
            Ok(None)
        }
    }
}

/// Removes the login in progress from the session and stores the session without it at once: the
/// session layer saves nothing when the answer is a server error, and a callback must be single use
/// whatever its outcome.
async fn end_pending(session: &Session) -> Result<(), LoginError> {
    session.remove_value(PENDING_KEY).await?;
    session.remove_value(RETURN_TO_KEY).await?;
    if session.is_empty().await {
        session.delete().await?;
    } else {
        session.save().await?;
    }
    Ok(())
}

async fn logout(
    State(login): State<WebLogin>,
    session: Session,
    headers: HeaderMap,
) -> Result<(HeaderMap, Redirect), LoginError> {
    if !is_same_origin(&headers, login.origin()) {
        return Err(LoginError::CrossSite);
    }
    // After the renewal under way, if any: it would otherwise store the session again.
    let _turn = match session.id() {
        Some(id) => Some(login.renewals().turn(id).await),
        None => None,
    };
    session.flush().await?;
    let mut headers = HeaderMap::new();
    if login.shared.secure {
        headers.append(
            http::header::SET_COOKIE,
            http::HeaderValue::from_static(SECURE_COOKIE_REMOVAL),
        );
    }
    Ok((headers, Redirect::to(&login.shared.after_logout)))
}

impl WebLoginBuilder {
    /// The client secret of a confidential application; without one, logins use PKCE.
    pub fn client_secret(mut self, secret: ClientSecret) -> Self {
        self.client = self.client.with_client_secret(secret);
        self
    }

    /// The scopes to request; `openid` is always added, since the login is an ID token's. Add
    /// `offline_access` to get a refresh token, without which the session ends when the access
    /// token expires.
    pub fn scopes(mut self, scopes: Scopes) -> Self {
        self.scopes = scopes.with(workos_connect::Scope::OpenId);
        self
    }

    /// The `prompt` of every login (OpenID Connect Core section 3.1.2.1; none by default):
    /// [`Prompt::Consent`](workos_connect::oauth::Prompt::Consent) for a provider that issues a
    /// refresh token for `offline_access` only with it, as `oidc-provider` does;
    /// [`Prompt::Login`](workos_connect::oauth::Prompt::Login) to make users authenticate again
    /// each time. [`build`](Self::build) refuses `none` beside another value. AuthKit's authorize
    /// reference does not document `prompt`.
    ///
    /// ```no_run
    /// # use workos_connect::{ConnectClient, Scopes};
    /// use workos_connect::oauth::Prompt;
    /// # use workos_connect_axum::WebLogin;
    /// # fn run(client: ConnectClient) -> Result<(), Box<dyn std::error::Error>> {
    /// let login = WebLogin::builder(client)
    ///     .scopes(Scopes::ALL)
    ///     .prompt(Prompt::Consent)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn prompt(mut self, prompts: impl Into<Prompts>) -> Self {
        self.prompts = prompts.into();
        self
    }

    /// The `max_age` of every login (OpenID Connect Core section 3.1.2.1; none by default): the
    /// longest time since the user last authenticated at the provider that a login accepts, sent
    /// in whole seconds. The callback then refuses an ID token without `auth_time`, or with one
    /// older than that plus the check's leeway (502, [`LoginError::IdToken`]). AuthKit's authorize
    /// reference does not document `max_age`: with a provider that ignores it, every login is
    /// refused.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// The page to go to after login (default `/`): a path on this site.
    pub fn after_login(mut self, path: &str) -> Self {
        path.clone_into(&mut self.after_login);
        self
    }

    /// The page to go to after logout (default `/`): a path on this site.
    pub fn after_logout(mut self, path: &str) -> Self {
        path.clone_into(&mut self.after_logout);
        self
    }

    /// The path of the login route (default [`LOGIN_PATH`], `/login`), where links to log in
    /// point: a plain path on this site, other than `/`, the logout path and the callback's.
    pub fn login_path(mut self, path: &str) -> Self {
        path.clone_into(&mut self.login_path);
        self
    }

    /// The path of the logout route (default [`LOGOUT_PATH`], `/logout`), where logout forms post:
    /// a plain path on this site, other than `/`, the login path and the callback's.
    pub fn logout_path(mut self, path: &str) -> Self {
        path.clone_into(&mut self.logout_path);
        self
    }

    /// How long before its expiry [`SignedIn`](crate::SignedIn) renews the access token (default 60
    /// seconds), so that a handler never sends one that expires on its way.
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// How long a request to the token endpoint may take, answer read (default 30 seconds), whatever
    /// the [HTTP client](Self::http_client)'s own timeouts: a renewal holds its session's turn
    /// while it waits, and the session's other requests, and its logout, wait for that turn.
    pub fn token_timeout(mut self, timeout: Duration) -> Self {
        self.token_timeout = timeout;
        self
    }

    /// The JWKS URL, when it is not the AuthKit domain's `/oauth2/jwks`.
    pub fn jwks_uri(mut self, url: Url) -> Self {
        self.jwks_uri = Some(url);
        self
    }

    /// Keys of your own making (shared with a [`ProtectedResource`](crate::ProtectedResource),
    /// other intervals); their refresh must already run. Without it the builder makes them and
    /// starts their refresh.
    pub fn keys(mut self, keys: Keys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// The HTTP client for the token endpoint (default [`default_client`]). Build it without
    /// redirects: a token request carries the code, the verifier and the client secret.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Checks the settings, and unless [`keys`](Self::keys) were given, makes the keys and starts
    /// their refresh (so call it inside a tokio runtime).
    pub fn build(self) -> Result<WebLogin, WebLoginSetupError> {
        self.scopes.validate().map_err(WebLoginSetupError::Scopes)?;
        self.prompts
            .validate()
            .map_err(WebLoginSetupError::Prompt)?;
        if !is_link_route(&self.login_path) {
            return Err(WebLoginSetupError::LoginPath(self.login_path));
        }
        if !is_link_route(&self.logout_path) {
            return Err(WebLoginSetupError::LogoutPath(self.logout_path));
        }
        if self.login_path == self.logout_path {
            return Err(WebLoginSetupError::SharedPath(self.login_path));
        }
        let callback_path = self.client.redirect_uri().path();
        if !is_route_path(callback_path)
            || callback_path == self.login_path
            || callback_path == self.logout_path
        {
            return Err(WebLoginSetupError::CallbackPath(callback_path.to_owned()));
        }
        for path in [&self.after_login, &self.after_logout] {
            if !is_local_path(path) {
                return Err(WebLoginSetupError::NotLocalPath(path.clone()));
            }
        }
        // A redirect URI is an absolute URL, checked when made.
        let redirect = Url::parse(self.client.redirect_uri().as_str())
            .map_err(|_| WebLoginSetupError::CallbackPath(callback_path.to_owned()))?;
        let keys = match self.keys {
            Some(keys) => keys,
            None => {
                let url = self
                    .jwks_uri
                    .unwrap_or_else(|| self.client.domain().jwks_endpoint());
                if !is_https_or_loopback(&url) {
                    return Err(WebLoginSetupError::InsecureJwksUri(url));
                }
                Keys::started(KeyCache::new(url))?
            }
        };
        let http = match self.http {
            Some(http) => http,
            None => default_client()?,
        };
        let origin = redirect.origin().ascii_serialization();
        // A redirect URI is http or https, whose origin is a scheme, a host and a port.
        let home = Url::parse(&origin)
            .map_err(|_| WebLoginSetupError::CallbackPath(callback_path.to_owned()))?;
        Ok(WebLogin {
            shared: Arc::new(Settings {
                origin,
                home,
                secure: redirect.scheme() == "https",
                client: self.client,
                scopes: self.scopes,
                prompts: self.prompts,
                max_age: self.max_age,
                keys,
                http,
                after_login: self.after_login,
                after_logout: self.after_logout,
                login_path: self.login_path,
                logout_path: self.logout_path,
                refresh_margin: self.refresh_margin.as_secs(),
                token_timeout: self.token_timeout,
                renewals: Renewals::default(),
            }),
        })
    }
}

/// Whether axum can serve `path` as a plain route of its own: not the root (the app's home page),
/// and nothing axum reads as a capture or wildcard.
fn is_route_path(path: &str) -> bool {
    path != "/" && path.starts_with('/') && is_literal_route(path)
}

/// Whether `path` can be the login or logout route: a route, and a link that stays on this site as
/// it is, with or without a query after it (the login's link is a redirect's `Location`).
fn is_link_route(path: &str) -> bool {
    is_route_path(path) && is_return_path(path) && !path.contains(['?', '#'])
}

/// Whether the login route takes `path` as its `return_to`: a path on this site that no browser
/// reads as another's. `//host` is another host to a browser, and so is `/\host` (browsers read a
/// backslash as a slash); a scheme (`https:`, `javascript:`) cannot follow a leading `/`; spaces,
/// control characters and non-ASCII text (which browsers and URL parsers strip or rewrite, each
/// their own way) are refused rather than guessed at.
fn is_return_path(path: &str) -> bool {
    path.len() <= MAX_RETURN_TO_LEN
        && path.starts_with('/')
        && !path.starts_with("//")
        && path
            .bytes()
            .all(|byte| byte.is_ascii_graphic() && byte != b'\\')
}

/// Whether `path` stays on this site: `//host` and `/\host` are other sites to a browser.
fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && !path.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_paths_serve_the_callback() {
        assert!(is_route_path("/callback"));
        assert!(is_route_path("/auth/callback"));
        for bad in ["/", "/{id}", "/auth/:id", "/auth/*rest", "callback"] {
            assert!(!is_route_path(bad), "{bad}");
        }
    }

    #[test]
    fn login_and_logout_routes_are_plain_links_on_the_site() {
        for good in ["/login", "/auth/sign-in", "/a.b/c_d~e"] {
            assert!(is_link_route(good), "{good}");
        }
        for bad in [
            "",
            "/",
            "login",
            "//login",
            "/\\login",
            "/log in",
            "/login?next=/",
            "/login#top",
            "/caf\u{e9}",
            "/{id}",
            "/auth/:id",
            "/a\r\nb",
        ] {
            assert!(!is_link_route(bad), "{bad:?}");
        }
    }

    #[test]
    fn return_to_takes_only_paths_on_the_site() {
        for good in [
            "/",
            "/some/path?x=1",
            "/%2F%2Fevil.com",
            "/a#frag",
            "/.well-known/x",
        ] {
            assert!(is_return_path(good), "{good}");
        }
        let long = format!("/{}", "a".repeat(MAX_RETURN_TO_LEN));
        for bad in [
            "",
            "//evil.com",
            "/\\evil.com",
            "/\\\\evil.com",
            "/a\\b",
            "https://evil.com",
            "http:evil.com",
            "javascript:alert(1)",
            "\t//evil.com",
            "/\t/evil.com",
            "/ /evil",
            " /a",
            "/a\r\nLocation: https://evil.com",
            "/\u{ff0f}\u{ff0f}evil.com",
            "\u{ff0f}\u{ff0f}evil.com",
            "/\u{202e}moc.live",
            "/caf\u{e9}",
            "evil.com",
            long.as_str(),
        ] {
            assert!(!is_return_path(bad), "{bad:?}");
        }
        assert!(is_return_path(&long[..MAX_RETURN_TO_LEN]));
    }

    #[test]
    fn pages_after_login_stay_on_the_site() {
        assert!(is_local_path("/") && is_local_path("/home?tab=1"));
        for bad in [
            "//evil.example.com",
            "/\\evil.example.com",
            "https://evil.example.com",
            "",
            "/a\r\nb",
        ] {
            assert!(!is_local_path(bad), "{bad:?}");
        }
    }
}

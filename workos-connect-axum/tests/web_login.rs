//! The login routes and `SignedIn` against an in-memory session store and a token endpoint on
//! loopback: refusals, single use, cookie settings, and the renewal of an expiring access token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::{json, Value};
use tower::ServiceExt;
use workos_connect::{
    jose::KeyCache,
    oauth::{ClientSecret, Prompt},
    ConnectClient, Scopes,
};
use workos_connect_axum::tower_sessions::cookie::time::{
    Duration as CookieDuration, OffsetDateTime,
};
use workos_connect_axum::tower_sessions::session::{Id, Record};
use workos_connect_axum::tower_sessions::{MemoryStore, SessionStore};
use workos_connect_axum::{Keys, SignedIn, WebLogin, WebLoginSetupError};

const USER_KEY: &str = "workos_connect.user";

/// What the fake token endpoint answers, and the forms it received.
#[derive(Clone, Default)]
struct TokenEndpoint {
    answers: Arc<Mutex<Vec<(u16, Value)>>>,
    forms: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

async fn token(
    State(endpoint): State<TokenEndpoint>,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    endpoint.forms.lock().unwrap().push(form);
    let (status, body) = endpoint.answers.lock().unwrap().remove(0);
    (StatusCode::from_u16(status).unwrap(), Json(body))
}

/// The fake AuthKit domain's token endpoint, on a loopback port; its domain.
async fn start_token_endpoint(endpoint: TokenEndpoint) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = Router::new()
        .route("/oauth2/token", post(token))
        .with_state(endpoint);
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

fn client(domain: &str, redirect_uri: &str) -> ConnectClient {
    ConnectClient::new(
        domain.parse().unwrap(),
        "client_01".parse().unwrap(),
        redirect_uri.parse().unwrap(),
    )
}

/// Keys that are never fetched: these tests redeem no ID token.
fn idle_keys() -> Keys {
    Keys::new(KeyCache::new("http://127.0.0.1:9/jwks".parse().unwrap())).unwrap()
}

fn web_login(domain: &str, redirect_uri: &str) -> WebLogin {
    WebLogin::builder(client(domain, redirect_uri))
        .scopes(Scopes::ALL)
        .after_logout("/bye")
        .keys(idle_keys())
        .build()
        .unwrap()
}

async fn me(user: SignedIn) -> Json<Value> {
    Json(json!({
        "sub": user.claims().sub,
        "access_token": user.access_token().secret(),
    }))
}

async fn home(user: Option<SignedIn>) -> String {
    user.map_or("anonymous".to_owned(), |user| user.claims().sub.clone())
}

fn app(login: &WebLogin, store: MemoryStore) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/me", get(me).post(me))
        .merge(login.router())
        .layer(login.session_layer(store))
}

async fn send(app: &Router, request: Request<Body>) -> Response {
    app.clone().oneshot(request).await.unwrap()
}

fn get_with(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.body(Body::empty()).unwrap()
}

fn post_from(path: &str, cookie: Option<&str>, site: &str) -> Request<Body> {
    let mut request = Request::post(path).header("sec-fetch-site", site);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.body(Body::empty()).unwrap()
}

async fn text(response: Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn set_cookie(response: &Response) -> String {
    response
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_owned()
}

/// A session holding a signed-in user whose access token expires at `expires_at`; its cookie.
async fn signed_in_session(
    store: &MemoryStore,
    expires_at: u64,
    refresh_token: Option<&str>,
) -> String {
    let claims = json!({
        "iss": "https://example.authkit.app", "sub": "user_01", "aud": "client_01",
        "exp": now() + 3600, "iat": now(),
    });
    let mut user = json!({"claims": claims, "access_token": "at_1", "expires_at": expires_at});
    if let Some(refresh_token) = refresh_token {
        user["refresh_token"] = refresh_token.into();
    }
    let mut record = Record {
        id: Id::default(),
        data: HashMap::from([(USER_KEY.to_owned(), user)]),
        expiry_date: OffsetDateTime::now_utc() + CookieDuration::hours(1),
    };
    store.create(&mut record).await.unwrap();
    format!("session={}", record.id)
}

async fn stored_user(store: &MemoryStore, cookie: &str) -> Option<Value> {
    let id: Id = cookie.strip_prefix("session=").unwrap().parse().unwrap();
    let record = store.load(&id).await.unwrap()?;
    record.data.get(USER_KEY).cloned()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn build_refuses_what_cannot_be_served() {
    let domain = "https://example.authkit.app";
    for path in ["/", "/login", "/logout", "/auth/:id", "/files/*rest"] {
        let redirect_uri = format!("https://app.example.com{path}");
        let built = WebLogin::builder(client(domain, &redirect_uri))
            .keys(idle_keys())
            .build();
        assert!(
            matches!(built, Err(WebLoginSetupError::CallbackPath(_))),
            "{path}: {built:?}"
        );
    }
    let built = WebLogin::builder(client(domain, "https://app.example.com/callback"))
        .after_login("//evil.example.com")
        .keys(idle_keys())
        .build();
    assert!(matches!(built, Err(WebLoginSetupError::NotLocalPath(_))));
    let built = WebLogin::builder(client(domain, "https://app.example.com/callback"))
        .jwks_uri("http://keys.example.com/jwks".parse().unwrap())
        .build();
    assert!(matches!(built, Err(WebLoginSetupError::InsecureJwksUri(_))));
}

#[tokio::test]
async fn login_redirects_to_authkit_and_keeps_the_pending_login_in_a_lax_cookie() {
    let login = web_login(
        "https://example.authkit.app",
        "https://app.example.com/callback",
    );
    let app = app(&login, MemoryStore::default());
    let answer = send(&app, get_with("/login", None)).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let location = answer.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("https://example.authkit.app/oauth2/authorize?"),
        "{location}"
    );
    assert!(
        location.contains("code_challenge="),
        "no secret, so PKCE: {location}"
    );
    assert!(
        location.contains("scope=openid%20profile%20email%20offline_access"),
        "{location}"
    );
    let cookie = set_cookie(&answer);
    for attribute in [
        "__Host-session=",
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Path=/",
    ] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
}

#[tokio::test]
async fn every_login_sends_the_prompt_and_max_age_and_the_hint_it_is_given() {
    let login = WebLogin::builder(client(
        "https://example.authkit.app",
        "http://127.0.0.1:3000/callback",
    ))
    .scopes(Scopes::ALL)
    .prompt(Prompt::Consent)
    .max_age(std::time::Duration::from_secs(300))
    .keys(idle_keys())
    .build()
    .unwrap();
    let store = MemoryStore::default();
    let app = app(&login, store.clone());

    let answer = send(
        &app,
        get_with("/login?login_hint=ada%2Bx%40example.com", None),
    )
    .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let location = answer.headers()["location"].to_str().unwrap();
    assert!(
        location.ends_with("&prompt=consent&max_age=300&login_hint=ada%2Bx%40example.com"),
        "{location}"
    );
    // The pending login remembers `max_age`, so that the callback's ID token check enforces it.
    let cookie = set_cookie(&answer).split(';').next().unwrap().to_owned();
    let id: Id = cookie.strip_prefix("session=").unwrap().parse().unwrap();
    let record = store.load(&id).await.unwrap().unwrap();
    assert_eq!(record.data["workos_connect.pending"]["max_age"], 300);

    // No hint, or an empty one (a form field left blank): none is sent.
    for path in ["/login", "/login?login_hint=", "/login?other=1"] {
        let answer = send(&app, get_with(path, None)).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{path}");
        let location = answer.headers()["location"].to_str().unwrap();
        assert!(!location.contains("login_hint"), "{path}: {location}");
        assert!(
            location.contains("&prompt=consent&max_age=300"),
            "{location}"
        );
    }

    // Beside a return_to.
    let answer = send(
        &app,
        get_with("/login?return_to=/files&login_hint=ada%40example.com", None),
    )
    .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let location = answer.headers()["location"].to_str().unwrap();
    assert!(
        location.ends_with("&login_hint=ada%40example.com"),
        "{location}"
    );

    // A hint the checks refuse: 400 with a fixed body that never quotes it, and no login started.
    let long = format!("/login?login_hint=ada{}", "x".repeat(300));
    for path in [
        "/login?login_hint=ada%0A%40example.com",
        "/login?login_hint=ada%E2%80%AE%40example.com",
        long.as_str(),
    ] {
        let answer = send(&app, get_with(path, None)).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(answer.headers().get("set-cookie").is_none(), "{path}");
        let body: Value = serde_json::from_str(&text(answer).await).unwrap();
        assert_eq!(body["error"], "invalid_login_hint", "{path}");
        let description = body["error_description"].as_str().unwrap();
        assert!(description.contains("login_hint"), "{description}");
        assert!(!description.contains("ada"), "{description}");
    }
    // Given twice, the query cannot be read.
    let twice = send(&app, get_with("/login?login_hint=a&login_hint=b", None)).await;
    assert_eq!(twice.status(), StatusCode::BAD_REQUEST);
    let body: Value = serde_json::from_str(&text(twice).await).unwrap();
    assert_eq!(body["error"], "invalid_login_query");
}

#[tokio::test]
async fn a_prompt_none_beside_another_value_is_refused_at_build() {
    let built = WebLogin::builder(client(
        "https://example.authkit.app",
        "https://app.example.com/callback",
    ))
    .prompt(Prompt::None | Prompt::Login)
    .keys(idle_keys())
    .build();
    assert!(
        matches!(built, Err(WebLoginSetupError::Prompt(_))),
        "{built:?}"
    );
    assert!(built.unwrap_err().to_string().contains("`none`"));
}

#[tokio::test]
async fn a_forged_callback_is_refused_and_one_without_a_session_too() {
    let login = web_login(
        "https://example.authkit.app",
        "http://127.0.0.1:3000/callback",
    );
    let app = app(&login, MemoryStore::default());
    let started = send(&app, get_with("/login", None)).await;
    let cookie = set_cookie(&started);
    assert!(
        cookie.starts_with("session=") && !cookie.contains("Secure"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_owned();

    let forged = send(
        &app,
        get_with("/callback?code=abc&state=forged", Some(&cookie)),
    )
    .await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert!(text(forged).await.contains("state"));
    let again = send(
        &app,
        get_with("/callback?code=abc&state=forged", Some(&cookie)),
    )
    .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(
        text(again).await.contains("state"),
        "a forged callback leaves the login in progress"
    );
    let without_session = send(&app, get_with("/callback?code=abc&state=x", None)).await;
    assert_eq!(without_session.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn signed_out_requests_are_refused_or_sent_to_the_login() {
    let login = web_login(
        "https://example.authkit.app",
        "http://127.0.0.1:3000/callback",
    );
    let app = app(&login, MemoryStore::default());
    assert_eq!(
        text(send(&app, get_with("/", None)).await).await,
        "anonymous"
    );
    let api = send(&app, get_with("/me", None)).await;
    assert_eq!(
        refusal(api, &[]).await,
        (StatusCode::UNAUTHORIZED, "not_signed_in".to_owned())
    );
    let page = Request::get("/me")
        .header("accept", "text/html,application/xhtml+xml")
        .body(Body::empty())
        .unwrap();
    let page = send(&app, page).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()["location"], "/login?return_to=%2Fme");
    let posted = send(&app, post_from("/me", None, "same-origin")).await;
    assert_eq!(posted.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cross_site_posts_cannot_act_on_the_session() {
    let store = MemoryStore::default();
    let login = web_login(
        "https://example.authkit.app",
        "http://127.0.0.1:3000/callback",
    );
    let app = app(&login, store.clone());
    let cookie = signed_in_session(&store, now() + 3600, None).await;
    for site in ["cross-site", "same-site"] {
        let logout = send(&app, post_from("/logout", Some(&cookie), site)).await;
        assert_eq!(logout.status(), StatusCode::FORBIDDEN, "{site}");
        let posted = send(&app, post_from("/me", Some(&cookie), site)).await;
        assert_eq!(posted.status(), StatusCode::FORBIDDEN, "{site}");
    }
    let other_origin = Request::post("/logout")
        .header("cookie", &cookie)
        .header("origin", "http://127.0.0.1:4000")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        send(&app, other_origin).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        text(send(&app, get_with("/", Some(&cookie))).await).await,
        "user_01"
    );

    let logout = send(&app, post_from("/logout", Some(&cookie), "same-origin")).await;
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert_eq!(logout.headers()["location"], "/bye");
    assert_eq!(
        stored_user(&store, &cookie).await,
        None,
        "the session is deleted"
    );
    let after = send(&app, get_with("/me", Some(&cookie))).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_expiring_access_token_is_renewed_before_the_handler_runs() {
    let endpoint = TokenEndpoint::default();
    endpoint.answers.lock().unwrap().push((
        200,
        json!({"access_token": "at_2", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt_2"}),
    ));
    let domain = start_token_endpoint(endpoint.clone()).await;
    let store = MemoryStore::default();
    let login = web_login(&domain, "http://127.0.0.1:3000/callback");
    let app = app(&login, store.clone());
    // Within the 60-second margin.
    let cookie = signed_in_session(&store, now() + 30, Some("rt_1")).await;

    let answer = send(&app, get_with("/me", Some(&cookie))).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = serde_json::from_str(&text(answer).await).unwrap();
    assert_eq!(body["access_token"], "at_2");
    let form = endpoint.forms.lock().unwrap().remove(0);
    assert_eq!(form["grant_type"], "refresh_token");
    assert_eq!(form["refresh_token"], "rt_1");
    assert_eq!(form["client_id"], "client_01");
    let kept = stored_user(&store, &cookie).await.unwrap();
    assert_eq!(kept["access_token"], "at_2");
    assert_eq!(
        kept["refresh_token"], "rt_2",
        "the rotated refresh token is kept"
    );

    // Fresh now: no second refresh.
    let answer = send(&app, get_with("/me", Some(&cookie))).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(endpoint.forms.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_failed_refresh_serves_the_old_token_until_it_expires() {
    let endpoint = TokenEndpoint::default();
    endpoint
        .answers
        .lock()
        .unwrap()
        .push((503, json!({"error": "temporarily_unavailable"})));
    let domain = start_token_endpoint(endpoint.clone()).await;
    let store = MemoryStore::default();
    let app = app(
        &web_login(&domain, "http://127.0.0.1:3000/callback"),
        store.clone(),
    );
    let cookie = signed_in_session(&store, now() + 30, Some("rt_1")).await;
    let answer = send(&app, get_with("/me", Some(&cookie))).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = serde_json::from_str(&text(answer).await).unwrap();
    assert_eq!(body["access_token"], "at_1");

    // Expired, and the endpoint still down: no token to hand out.
    endpoint
        .answers
        .lock()
        .unwrap()
        .push((503, json!({"error": "temporarily_unavailable"})));
    let expired = signed_in_session(&store, now() - 1, Some("rt_1")).await;
    let answer = send(&app, get_with("/me", Some(&expired))).await;
    assert_eq!(answer.status(), StatusCode::BAD_GATEWAY);
    assert!(
        stored_user(&store, &expired).await.is_some(),
        "kept for a later try"
    );
}

#[tokio::test]
async fn a_refused_or_missing_refresh_token_ends_the_signed_in_session() {
    let endpoint = TokenEndpoint::default();
    endpoint
        .answers
        .lock()
        .unwrap()
        .push((400, json!({"error": "invalid_grant"})));
    let domain = start_token_endpoint(endpoint.clone()).await;
    let store = MemoryStore::default();
    let app = app(
        &web_login(&domain, "http://127.0.0.1:3000/callback"),
        store.clone(),
    );

    let revoked = signed_in_session(&store, now() - 1, Some("rt_revoked")).await;
    let answer = send(&app, get_with("/me", Some(&revoked))).await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    let body = text(answer).await;
    assert!(!body.contains("rt_revoked"), "{body}");
    assert_eq!(stored_user(&store, &revoked).await, None);

    let no_refresh_token = signed_in_session(&store, now() - 1, None).await;
    let answer = send(&app, get_with("/me", Some(&no_refresh_token))).await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(stored_user(&store, &no_refresh_token).await, None);
    assert_eq!(
        text(send(&app, get_with("/", Some(&no_refresh_token))).await).await,
        "anonymous"
    );
    assert!(
        endpoint.forms.lock().unwrap().len() == 1,
        "nothing to redeem without a token"
    );
}

#[tokio::test]
async fn a_route_outside_the_layers_is_a_server_error() {
    let login = web_login(
        "https://example.authkit.app",
        "http://127.0.0.1:3000/callback",
    );
    let bare: Router =
        Router::new()
            .route("/me", get(me))
            .layer(tower_sessions::SessionManagerLayer::new(
                MemoryStore::default(),
            ));
    let answer = send(&bare, get_with("/me", None)).await;
    assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let no_sessions: Router = Router::new().route("/me", get(me)).layer(login.layer());
    let answer = send(&no_sessions, get_with("/me", None)).await;
    assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn a_confidential_client_logs_in_without_pkce_and_debug_hides_its_secret() {
    let login = WebLogin::builder(client(
        "https://example.authkit.app",
        "https://app.example.com/callback",
    ))
    .client_secret(ClientSecret::new("sk_test_hidden").unwrap())
    .keys(idle_keys())
    .build()
    .unwrap();
    let shown = format!("{login:?}");
    assert!(
        shown.contains("client_01") && !shown.contains("sk_test_hidden"),
        "{shown}"
    );
    let app = app(&login, MemoryStore::default());
    let answer = send(&app, get_with("/login", None)).await;
    let location = answer.headers()["location"].to_str().unwrap();
    assert!(!location.contains("code_challenge"), "{location}");
    assert!(!location.contains("sk_test_hidden"), "{location}");
}

/// A token endpoint that rotates refresh tokens and detects their reuse, as oidc-provider does
/// (RFC 9700 section 4.14.2): each refresh token redeems once, and a second redemption of one
/// revokes the grant, so that no refresh token of it redeems any more.
#[derive(Clone)]
struct RotatingEndpoint {
    state: Arc<Mutex<Rotation>>,
}

struct Rotation {
    current: String,
    redemptions: usize,
    revoked: bool,
    /// Answers 503 to every request.
    down: bool,
    /// How long it takes to answer.
    delay: std::time::Duration,
}

impl RotatingEndpoint {
    fn new() -> RotatingEndpoint {
        RotatingEndpoint {
            state: Arc::new(Mutex::new(Rotation {
                current: "rt_1".to_owned(),
                redemptions: 0,
                revoked: false,
                down: false,
                // Slow enough that requests arriving together overlap.
                delay: std::time::Duration::from_millis(50),
            })),
        }
    }

    fn down() -> RotatingEndpoint {
        let endpoint = RotatingEndpoint::new();
        endpoint.state.lock().unwrap().down = true;
        endpoint
    }

    fn slow(delay: std::time::Duration) -> RotatingEndpoint {
        let endpoint = RotatingEndpoint::new();
        endpoint.state.lock().unwrap().delay = delay;
        endpoint
    }

    /// The requests received, answered or not.
    fn redemptions(&self) -> usize {
        self.state.lock().unwrap().redemptions
    }

    fn revoked(&self) -> bool {
        self.state.lock().unwrap().revoked
    }
}

async fn rotating_token(
    State(endpoint): State<RotatingEndpoint>,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    let delay = {
        let mut state = endpoint.state.lock().unwrap();
        state.redemptions += 1;
        state.delay
    };
    tokio::time::sleep(delay).await;
    let mut state = endpoint.state.lock().unwrap();
    if state.down {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "temporarily_unavailable"})),
        );
    }
    if state.revoked || form.get("refresh_token") != Some(&state.current) {
        state.revoked = true;
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"error": "invalid_grant", "error_description": "refresh token already used"}),
            ),
        );
    }
    let n = state.redemptions + 1;

    state.current = format!("rt_{n}");
    (
        StatusCode::OK,
        Json(json!({
            "access_token": format!("at_{n}"), "token_type": "Bearer", "expires_in": 3600,
            "refresh_token": state.current,
        })),
    )
}

async fn start_rotating_endpoint(endpoint: RotatingEndpoint) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = Router::new()
        .route("/oauth2/token", post(rotating_token))
        .with_state(endpoint);
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

/// `count` requests built by `request`, sent at once; their answers' status and body.
async fn all_at_once(
    app: &Router,
    count: usize,
    request: impl Fn() -> Request<Body>,
) -> Vec<(StatusCode, String)> {
    let mut sent = tokio::task::JoinSet::new();
    for _ in 0..count {
        let (app, request) = (app.clone(), request());
        sent.spawn(async move {
            let answer = app.oneshot(request).await.unwrap();
            (answer.status(), text(answer).await)
        });
    }
    sent.join_all().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_of_one_session_near_expiry_renew_once() {
    for count in [5, 50] {
        let endpoint = RotatingEndpoint::new();
        let domain = start_rotating_endpoint(endpoint.clone()).await;
        let store = MemoryStore::default();
        let app = app(
            &web_login(&domain, "http://127.0.0.1:3000/callback"),
            store.clone(),
        );
        // Within the 60-second margin.
        let cookie = signed_in_session(&store, now() + 30, Some("rt_1")).await;

        let answers = all_at_once(&app, count, || get_with("/", Some(&cookie))).await;
        for (status, body) in &answers {
            assert_eq!(
                (*status, body.as_str()),
                (StatusCode::OK, "user_01"),
                "{count}: every request stays signed in"
            );
        }
        assert_eq!(endpoint.redemptions(), 1, "{count}: one refresh for all");
        assert!(!endpoint.revoked(), "{count}");
        let kept = stored_user(&store, &cookie).await.unwrap();
        assert_eq!(
            (
                kept["access_token"].as_str(),
                kept["refresh_token"].as_str()
            ),
            (Some("at_2"), Some("rt_2"))
        );
        let answers = all_at_once(&app, count, || get_with("/me", Some(&cookie))).await;
        for (status, body) in answers {
            assert_eq!(status, StatusCode::OK, "{count}: {body}");
            let body: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(body["access_token"], "at_2", "{count}");
        }
        assert_eq!(endpoint.redemptions(), 1, "{count}: fresh now");
    }
}

#[tokio::test]
async fn forced_refreshes_of_one_session_take_turns() {
    let endpoint = RotatingEndpoint::new();
    let domain = start_rotating_endpoint(endpoint.clone()).await;
    let store = MemoryStore::default();
    let login = web_login(&domain, "http://127.0.0.1:3000/callback");
    async fn refresh(mut user: SignedIn) -> Result<String, workos_connect_axum::LoginError> {
        user.refresh().await?;
        Ok(user.access_token().secret().to_owned())
    }
    let app = Router::new()
        .route("/refresh", post(refresh))
        .merge(login.router())
        .layer(login.session_layer(store.clone()));
    let cookie = signed_in_session(&store, now() + 3600, Some("rt_1")).await;
    let answers = all_at_once(&app, 5, || {
        post_from("/refresh", Some(&cookie), "same-origin")
    })
    .await;
    let mut tokens: Vec<String> = answers
        .into_iter()
        .map(|(status, body)| {
            assert_eq!(status, StatusCode::OK, "{body}");
            body
        })
        .collect();
    tokens.sort();
    assert_eq!(tokens, ["at_2", "at_3", "at_4", "at_5", "at_6"]);
    assert_eq!(endpoint.redemptions(), 5);
    assert!(
        !endpoint.revoked(),
        "each with the token the one before stored"
    );
}

#[tokio::test]
async fn requests_waiting_for_a_failed_renewal_serve_the_current_token() {
    let endpoint = RotatingEndpoint::down();
    let domain = start_rotating_endpoint(endpoint.clone()).await;
    let store = MemoryStore::default();
    let app = app(
        &web_login(&domain, "http://127.0.0.1:3000/callback"),
        store.clone(),
    );
    let cookie = signed_in_session(&store, now() + 30, Some("rt_1")).await;
    let answers = all_at_once(&app, 5, || get_with("/me", Some(&cookie))).await;
    for (status, body) in answers {
        assert_eq!(status, StatusCode::OK, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["access_token"], "at_1");
    }
    assert_eq!(
        endpoint.redemptions(),
        1,
        "the requests waiting for the failed renewal do not try again each"
    );
    // The next request, after that round, tries again.
    assert_eq!(
        send(&app, get_with("/me", Some(&cookie))).await.status(),
        StatusCode::OK
    );
    assert_eq!(endpoint.redemptions(), 2);
}

#[tokio::test]
async fn a_cross_site_navigation_near_expiry_renews_like_any_request() {
    let endpoint = RotatingEndpoint::new();
    let domain = start_rotating_endpoint(endpoint.clone()).await;
    let store = MemoryStore::default();
    let app = app(
        &web_login(&domain, "http://127.0.0.1:3000/callback"),
        store.clone(),
    );
    let cookie = signed_in_session(&store, now() + 30, Some("rt_1")).await;
    // A cross-site POST changes nothing: refused before any renewal.
    let posted = send(&app, post_from("/me", Some(&cookie), "cross-site")).await;
    assert_eq!(posted.status(), StatusCode::FORBIDDEN);
    assert_eq!(endpoint.redemptions(), 0);
    // A link followed from another site (the only cross-site request a Lax cookie comes with),
    // several at once: the user sees the page as on any visit, and the session is renewed once.
    let navigation = || {
        Request::get("/")
            .header("cookie", &cookie)
            .header("sec-fetch-site", "cross-site")
            .header("sec-fetch-mode", "navigate")
            .body(Body::empty())
            .unwrap()
    };
    for (status, body) in all_at_once(&app, 5, navigation).await {
        assert_eq!((status, body.as_str()), (StatusCode::OK, "user_01"));
    }
    assert_eq!(endpoint.redemptions(), 1);
    let kept = stored_user(&store, &cookie).await.unwrap();
    assert_eq!(kept["refresh_token"], "rt_2");
}

/// The state `GET /login` sent AuthKit, from its redirect.
fn state_of(login: &Response) -> String {
    let location = login.headers()["location"].to_str().unwrap();
    let url = url::Url::parse(location).unwrap();
    url.query_pairs()
        .find(|(name, _)| name == "state")
        .map(|(_, value)| value.into_owned())
        .expect("a state")
}

#[tokio::test]
async fn a_callback_without_the_logins_state_leaves_the_login_in_progress() {
    let endpoint = TokenEndpoint::default();
    endpoint
        .answers
        .lock()
        .unwrap()
        .push((400, json!({"error": "invalid_grant"})));
    let domain = start_token_endpoint(endpoint.clone()).await;
    let store = MemoryStore::default();
    let app = app(
        &web_login(&domain, "http://127.0.0.1:3000/callback"),
        store.clone(),
    );
    let started = send(&app, get_with("/login", None)).await;
    let state = state_of(&started);
    let cookie = set_cookie(&started).split(';').next().unwrap().to_owned();

    // Another site's page makes the browser fetch made-up callbacks.
    for forged in [
        "/callback?code=evil&state=forged".to_owned(),
        "/callback?code=evil".to_owned(),
        "/callback?code=evil&state=".to_owned(),
        format!("/callback?code=evil&state={state}&state=forged"),
        "/callback?code=evil&state=forged&iss=https://evil.example".to_owned(),
        "/callback?error=access_denied&state=forged".to_owned(),
    ] {
        let answer = send(&app, get_with(&forged, Some(&cookie))).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{forged}");
    }
    assert!(endpoint.forms.lock().unwrap().is_empty());

    // The genuine callback still finds its login: the code is redeemed.
    let genuine = send(
        &app,
        get_with(
            &format!("/callback?code=genuine&state={state}"),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(
        genuine.status(),
        StatusCode::UNAUTHORIZED,
        "the code is refused here"
    );
    let form = endpoint.forms.lock().unwrap().remove(0);
    assert_eq!(form["code"], "genuine");
    // And with the login's state, the callback was its one use.
    let again = send(
        &app,
        get_with(
            &format!("/callback?code=genuine&state={state}"),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(text(again).await.contains("no login in progress"));
}

#[tokio::test]
async fn a_callback_leaves_a_signed_in_session_as_it_was_unless_it_answers_its_login() {
    let store = MemoryStore::default();
    let app = app(
        &web_login(
            "https://example.authkit.app",
            "http://127.0.0.1:3000/callback",
        ),
        store.clone(),
    );
    let cookie = signed_in_session(&store, now() + 3600, Some("rt_1")).await;
    let before = stored_user(&store, &cookie).await.unwrap();

    // A replayed or made-up callback, no login in progress: refused, the user still signed in.
    let replayed = send(
        &app,
        get_with("/callback?code=old&state=old", Some(&cookie)),
    )
    .await;
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(stored_user(&store, &cookie).await, Some(before.clone()));
    assert_eq!(
        text(send(&app, get_with("/", Some(&cookie))).await).await,
        "user_01"
    );

    // A login started from the signed-in session, and a made-up callback: both stay.
    let started = send(&app, get_with("/login", Some(&cookie))).await;
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let forged = send(
        &app,
        get_with("/callback?code=evil&state=forged", Some(&cookie)),
    )
    .await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert_eq!(stored_user(&store, &cookie).await, Some(before));
    let id: tower_sessions::session::Id = cookie.strip_prefix("session=").unwrap().parse().unwrap();
    let record = store.load(&id).await.unwrap().unwrap();
    assert!(record.data.contains_key("workos_connect.pending"));
}

/// Browsers ignore a `__Host-` cookie set without `Secure`, a removal included: the logout's own
/// removal carries it, so that the browser forgets the ended session's ID.
#[tokio::test]
async fn a_logout_over_https_removes_the_host_cookie_in_a_way_browsers_take() {
    let store = MemoryStore::default();
    for (redirect_uri, removal) in [
        (
            "https://app.example.com/callback",
            Some("__Host-session=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; HttpOnly; SameSite=Lax"),
        ),
        ("http://127.0.0.1:3000/callback", None),
    ] {
        let app = app(&web_login("https://example.authkit.app", redirect_uri), store.clone());
        let cookie = signed_in_session(&store, now() + 3600, None).await;
        let cookie = if removal.is_some() {
            cookie.replacen("session=", "__Host-session=", 1)
        } else {
            cookie
        };
        let logout = send(&app, post_from("/logout", Some(&cookie), "same-origin")).await;
        assert_eq!(logout.status(), StatusCode::SEE_OTHER, "{redirect_uri}");
        let set: Vec<&str> = logout
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|value| value.to_str().unwrap())
            .collect();
        let name = if removal.is_some() { "__Host-session=" } else { "session=" };
        assert!(
            !set.is_empty() && set.iter().all(|value| value.starts_with(name)),
            "{redirect_uri}: {set:?}"
        );
        match removal {
            Some(removal) => assert!(set.contains(&removal), "{set:?}"),
            // On http the session layer's removal is enough, and the only one.
            None => assert_eq!(set.len(), 1, "{set:?}"),
        }
        let id = cookie.split_once('=').unwrap().1;
        assert_eq!(
            stored_user(&store, &format!("session={id}")).await,
            None,
            "the record is gone"
        );
    }
}

#[tokio::test]
async fn a_logout_during_a_renewal_leaves_the_session_ended() {
    // Logging out on the instance renewing the session, and on another one sharing the store.
    for same_instance in [true, false] {
        let endpoint = RotatingEndpoint::slow(std::time::Duration::from_millis(300));
        let domain = start_rotating_endpoint(endpoint.clone()).await;
        let store = MemoryStore::default();
        let renewing_app = app(
            &web_login(&domain, "http://127.0.0.1:3000/callback"),
            store.clone(),
        );
        let other_app = app(
            &web_login(&domain, "http://127.0.0.1:3000/callback"),
            store.clone(),
        );
        let cookie = signed_in_session(&store, now() + 30, Some("rt_1")).await;
        let renewing = tokio::spawn({
            let (app, cookie) = (renewing_app.clone(), cookie.clone());
            async move { send(&app, get_with("/me", Some(&cookie))).await }
        });
        // The renewal is waiting for the token endpoint.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let logout_app = if same_instance {
            &renewing_app
        } else {
            &other_app
        };
        let logout = send(
            logout_app,
            post_from("/logout", Some(&cookie), "same-origin"),
        )
        .await;
        assert_eq!(logout.status(), StatusCode::SEE_OTHER);
        let renewed = renewing.await.unwrap();
        assert_eq!(endpoint.redemptions(), 1);
        if same_instance {
            // The logout waited for the renewal: the request that renewed was served first.
            assert_eq!(renewed.status(), StatusCode::OK);
        } else {
            // The renewal found the session ended, and stored nothing.
            assert_eq!(renewed.status(), StatusCode::UNAUTHORIZED);
            let removal = set_cookie(&renewed);
            assert!(removal.contains("Max-Age=0"), "{removal}");
        }
        assert_eq!(
            stored_user(&store, &cookie).await,
            None,
            "same instance {same_instance}: the session stays ended"
        );
        for app in [&renewing_app, &other_app] {
            let after = send(app, get_with("/me", Some(&cookie))).await;
            assert_eq!(after.status(), StatusCode::UNAUTHORIZED, "{same_instance}");
        }
    }
}

#[tokio::test]
async fn a_renewal_failing_after_the_token_expired_serves_it_no_more() {
    // Expires in under 2 seconds; the token endpoint fails after 2.5.
    let endpoint = RotatingEndpoint::slow(std::time::Duration::from_millis(2500));
    endpoint.state.lock().unwrap().down = true;
    let domain = start_rotating_endpoint(endpoint.clone()).await;
    let store = MemoryStore::default();
    let app = app(
        &web_login(&domain, "http://127.0.0.1:3000/callback"),
        store.clone(),
    );
    let cookie = signed_in_session(&store, now() + 2, Some("rt_1")).await;
    let answer = send(&app, get_with("/me", Some(&cookie))).await;
    assert_eq!(
        answer.status(),
        StatusCode::BAD_GATEWAY,
        "the token expired while the renewal waited: {}",
        text(answer).await
    );
    assert_eq!(endpoint.redemptions(), 1);
}

#[tokio::test]
async fn a_silent_token_endpoint_holds_a_session_for_the_token_timeout_once() {
    let endpoint = RotatingEndpoint::slow(std::time::Duration::from_secs(3600));
    let domain = start_rotating_endpoint(endpoint.clone()).await;
    let store = MemoryStore::default();
    // An HTTP client without timeouts.
    let login = WebLogin::builder(client(&domain, "http://127.0.0.1:3000/callback"))
        .scopes(Scopes::ALL)
        .keys(idle_keys())
        .http_client(reqwest::Client::builder().build().unwrap())
        .token_timeout(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    let app = app(&login, store.clone());
    let started = std::time::Instant::now();
    let within = std::time::Duration::from_secs(10);

    // Still valid: every request waiting for the renewal serves the current token.
    let valid = signed_in_session(&store, now() + 30, Some("rt_1")).await;
    let answers = tokio::time::timeout(
        within,
        all_at_once(&app, 5, || get_with("/me", Some(&valid))),
    )
    .await
    .expect("the renewal gives up after the token timeout");
    for (status, body) in answers {
        assert_eq!(status, StatusCode::OK, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["access_token"], "at_1");
    }
    assert_eq!(
        endpoint.redemptions(),
        1,
        "the waiting requests took the failure"
    );

    // Expired: each request that waited answers 502 at once, rather than trying again in turn.
    let expired = signed_in_session(&store, now() - 1, Some("rt_1")).await;
    let answers = tokio::time::timeout(
        within,
        all_at_once(&app, 5, || get_with("/me", Some(&expired))),
    )
    .await
    .expect("the renewal gives up after the token timeout");
    for (status, body) in answers {
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    }
    assert_eq!(endpoint.redemptions(), 2, "one try for the five");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(
        stored_user(&store, &expired).await.is_some(),
        "kept for a later try"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_of_one_callback_arriving_together_redeem_its_code_once() {
    let endpoint = TokenEndpoint::default();
    for _ in 0..8 {
        endpoint
            .answers
            .lock()
            .unwrap()
            .push((400, json!({"error": "invalid_grant"})));
    }
    let domain = start_token_endpoint(endpoint.clone()).await;
    let store = MemoryStore::default();
    let app = app(
        &web_login(&domain, "http://127.0.0.1:3000/callback"),
        store.clone(),
    );
    for _ in 0..5 {
        let started = send(&app, get_with("/login", None)).await;
        let state = state_of(&started);
        let cookie = set_cookie(&started).split(';').next().unwrap().to_owned();
        // A double click, or a replay racing the original: eight copies at once.
        let callback = format!("/callback?code=genuine&state={state}");
        let answers = futures_util::future::join_all((0..8).map(|_| {
            let app = app.clone();
            let request = get_with(&callback, Some(&cookie));
            tokio::spawn(async move { send(&app, request).await.status() })
        }))
        .await;
        let redeemed = endpoint.forms.lock().unwrap().drain(..).count();
        assert_eq!(
            redeemed, 1,
            "the code went to the token endpoint {redeemed} times"
        );
        let refused = answers
            .into_iter()
            .filter(|answer| *answer.as_ref().unwrap() == StatusCode::BAD_REQUEST)
            .count();
        assert_eq!(refused, 7, "the copies find no login in progress");
        endpoint
            .answers
            .lock()
            .unwrap()
            .push((400, json!({"error": "invalid_grant"})));
    }
}

/// `value` as a query parameter's value.
fn query_value(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The answer's JSON body, after checking it is declared as JSON.
async fn json_body(response: Response) -> Value {
    assert_eq!(response.headers()["content-type"], "application/json");
    let body = text(response).await;
    serde_json::from_str(&body).unwrap_or_else(|error| panic!("{error}: {body}"))
}

/// A refusal's status, and its body's `error`, checked to hold no `secrets` and a description.
async fn refusal(response: Response, secrets: &[&str]) -> (StatusCode, String) {
    let status = response.status();
    let body = json_body(response).await;
    let shown = body.to_string();
    for secret in secrets {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{shown}"
    );
    (
        status,
        body["error"].as_str().expect("an error code").to_owned(),
    )
}

#[tokio::test]
async fn build_refuses_login_and_logout_paths_that_cannot_be_served() {
    let domain = "https://example.authkit.app";
    let builder =
        || WebLogin::builder(client(domain, "https://app.example.com/callback")).keys(idle_keys());
    for path in [
        "",
        "/",
        "login",
        "//login",
        "/\\login",
        "/{id}",
        "/a/:id",
        "/log in",
        "/login?x=1",
    ] {
        let built = builder().login_path(path).build();
        assert!(
            matches!(&built, Err(WebLoginSetupError::LoginPath(got)) if got == path),
            "{path:?}: {built:?}"
        );
        let built = builder().logout_path(path).build();
        assert!(
            matches!(&built, Err(WebLoginSetupError::LogoutPath(got)) if got == path),
            "{path:?}: {built:?}"
        );
    }
    let built = builder().login_path("/auth").logout_path("/auth").build();
    assert!(
        matches!(built, Err(WebLoginSetupError::SharedPath(_))),
        "{built:?}"
    );
    let built = builder().login_path("/logout").build();
    assert!(
        matches!(built, Err(WebLoginSetupError::SharedPath(_))),
        "{built:?}"
    );
    for taken in [
        builder().login_path("/callback"),
        builder().logout_path("/callback"),
    ] {
        let built = taken.build();
        assert!(
            matches!(built, Err(WebLoginSetupError::CallbackPath(_))),
            "{built:?}"
        );
    }
    let message = builder()
        .login_path("/{id}")
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("/{id}") && message.contains("/auth/login"),
        "{message}"
    );
    // The default login path is free for the callback once the login is served elsewhere.
    let moved = WebLogin::builder(client(domain, "https://app.example.com/login"))
        .login_path("/auth/login")
        .keys(idle_keys())
        .build()
        .unwrap();
    assert_eq!(
        (
            moved.login_path(),
            moved.logout_path(),
            moved.callback_path()
        ),
        ("/auth/login", "/logout", "/login")
    );
}

#[tokio::test]
async fn the_routes_are_served_at_the_paths_set() {
    let store = MemoryStore::default();
    let login = WebLogin::builder(client(
        "https://example.authkit.app",
        "http://127.0.0.1:3000/auth/callback",
    ))
    .login_path("/auth/sign-in")
    .logout_path("/auth/sign-out")
    .keys(idle_keys())
    .build()
    .unwrap();
    assert_eq!(login.login_path(), "/auth/sign-in");
    assert_eq!(login.logout_path(), "/auth/sign-out");
    let app = app(&login, store.clone());

    let started = send(&app, get_with("/auth/sign-in", None)).await;
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    assert!(started.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("https://example.authkit.app/oauth2/authorize?"));
    assert_eq!(
        send(&app, get_with("/login", None)).await.status(),
        StatusCode::NOT_FOUND
    );

    let cookie = signed_in_session(&store, now() + 3600, None).await;
    assert_eq!(
        send(&app, post_from("/logout", Some(&cookie), "same-origin"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let cross = send(
        &app,
        post_from("/auth/sign-out", Some(&cookie), "cross-site"),
    )
    .await;
    assert_eq!(
        refusal(cross, &[&cookie["session=".len()..]]).await,
        (StatusCode::FORBIDDEN, "cross_site_request".to_owned())
    );
    let out = send(
        &app,
        post_from("/auth/sign-out", Some(&cookie), "same-origin"),
    )
    .await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(stored_user(&store, &cookie).await, None);

    // A page asking for a signed-in user sends the browser to the login path set, to come back.
    let page = Request::get("/me?tab=a%20b&x=1")
        .header("accept", "text/html")
        .body(Body::empty())
        .unwrap();
    let page = send(&app, page).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        page.headers()["location"],
        "/auth/sign-in?return_to=%2Fme%3Ftab%3Da%2520b%26x%3D1"
    );
}

#[tokio::test]
async fn a_nested_page_returns_to_its_whole_path() {
    let login = web_login(
        "https://example.authkit.app",
        "http://127.0.0.1:3000/callback",
    );
    let app = Router::new()
        .nest("/account", Router::new().route("/me", get(me)))
        .merge(login.router())
        .layer(login.session_layer(MemoryStore::default()));
    let page = Request::get("/account/me")
        .header("accept", "text/html")
        .body(Body::empty())
        .unwrap();
    let page = send(&app, page).await;
    assert_eq!(
        page.headers()["location"],
        "/login?return_to=%2Faccount%2Fme"
    );
    // A request for a path no browser should be sent back to logs in without one.
    let page = Request::get("//evil.example.com/me")
        .header("accept", "text/html")
        .body(Body::empty())
        .unwrap();
    let page = send(
        &Router::new()
            .route("//evil.example.com/me", get(me))
            .merge(login.router())
            .layer(login.session_layer(MemoryStore::default())),
        page,
    )
    .await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()["location"], "/login");
}

#[tokio::test]
async fn return_to_off_the_site_is_refused_before_any_session() {
    let login = web_login(
        "https://example.authkit.app",
        "http://127.0.0.1:3000/callback",
    );
    let app = app(&login, MemoryStore::default());
    let long = format!("/{}", "a".repeat(2048));
    for evil in [
        "//evil.com",
        "/\\evil.com",
        "/\\\\evil.com",
        "https://evil.com",
        "http:evil.com",
        "javascript:alert(1)",
        "\t//evil.com",
        "/\t/evil.com",
        "/ /evil",
        "/a\r\nSet-Cookie: x=1",
        "\u{ff0f}\u{ff0f}evil.com",
        "/\u{ff0f}evil.com",
        "/\u{202e}moc.live",
        "evil.com",
        "",
        long.as_str(),
        // Back to the login would start it again, on and on.
        "/login?return_to=/",
        "/./login",
        "/callback?code=x",
    ] {
        let answer = send(
            &app,
            get_with(&format!("/login?return_to={}", query_value(evil)), None),
        )
        .await;
        assert!(
            answer.headers().get("set-cookie").is_none(),
            "{evil:?}: no login started"
        );
        assert_eq!(
            refusal(answer, &["evil"]).await,
            (StatusCode::BAD_REQUEST, "invalid_return_to".to_owned()),
            "{evil:?}"
        );
    }
    let twice = send(&app, get_with("/login?return_to=/a&return_to=/b", None)).await;
    assert_eq!(
        refusal(twice, &[]).await,
        (StatusCode::BAD_REQUEST, "invalid_login_query".to_owned())
    );
    // Other parameters are not the login's business.
    let other = send(&app, get_with("/login?utm_source=mail", None)).await;
    assert_eq!(other.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn refusals_of_the_routes_say_why_and_quote_no_secret() {
    let endpoint = TokenEndpoint::default();
    endpoint.answers.lock().unwrap().push((
        400,
        json!({"error": "invalid_grant", "error_description": "grant SECRET-DESC gone"}),
    ));
    let domain = start_token_endpoint(endpoint.clone()).await;
    let app = app(
        &web_login(&domain, "http://127.0.0.1:3000/callback"),
        MemoryStore::default(),
    );
    let started = send(&app, get_with("/login", None)).await;
    let state = state_of(&started);
    let cookie = set_cookie(&started).split(';').next().unwrap().to_owned();
    let session_id = &cookie["session=".len()..];

    let forged = send(
        &app,
        get_with("/callback?code=CODE-7Q&state=STATE-9Z", Some(&cookie)),
    )
    .await;
    assert_eq!(
        refusal(forged, &["CODE-7Q", "STATE-9Z", &state, session_id]).await,
        (StatusCode::BAD_REQUEST, "state_mismatch".to_owned())
    );
    let elsewhere = send(
        &app,
        get_with("/callback?code=CODE-7Q&state=STATE-9Z", None),
    )
    .await;
    assert_eq!(
        refusal(elsewhere, &["CODE-7Q", "STATE-9Z"]).await,
        (StatusCode::BAD_REQUEST, "no_login_in_progress".to_owned())
    );
    let mix_up = send(
        &app,
        get_with(
            &format!("/callback?code=CODE-7Q&state={state}&iss=https://EVIL-ISS.example"),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(
        refusal(mix_up, &["CODE-7Q", &state, "EVIL-ISS"]).await,
        (StatusCode::BAD_REQUEST, "issuer_mismatch".to_owned())
    );

    // The provider's own words stay out; its standard code comes through.
    let started = send(&app, get_with("/login", Some(&cookie))).await;
    let state = state_of(&started);
    let denied = send(
        &app,
        get_with(
            &format!(
                "/callback?error=access_denied&error_description=SECRET-DESC&error_uri=https://SECRET-URI.example&state={state}"
            ),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(
        refusal(denied, &["SECRET", &state]).await,
        (StatusCode::FORBIDDEN, "access_denied".to_owned())
    );
    let started = send(&app, get_with("/login", Some(&cookie))).await;
    let state = state_of(&started);
    let odd = send(
        &app,
        get_with(
            &format!("/callback?error=SECRET_made_up&state={state}"),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(
        refusal(odd, &["SECRET", &state]).await,
        (StatusCode::BAD_REQUEST, "authorization_failed".to_owned())
    );

    let started = send(&app, get_with("/login", Some(&cookie))).await;
    let state = state_of(&started);
    let refused = send(
        &app,
        get_with(
            &format!("/callback?code=CODE-7Q&state={state}"),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(
        refusal(refused, &["CODE-7Q", &state, "SECRET"]).await,
        (StatusCode::UNAUTHORIZED, "invalid_grant".to_owned())
    );
    let verifier = endpoint.forms.lock().unwrap()[0]["code_verifier"].clone();
    let replayed = send(
        &app,
        get_with(
            &format!("/callback?code=CODE-7Q&state={state}"),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(
        refusal(replayed, &["CODE-7Q", &state, &verifier]).await,
        (StatusCode::BAD_REQUEST, "no_login_in_progress".to_owned())
    );

    // A token endpoint nobody answers at.
    let down = app_for_domain("http://127.0.0.1:9");
    let started = send(&down, get_with("/login", None)).await;
    let state = state_of(&started);
    let cookie = set_cookie(&started).split(';').next().unwrap().to_owned();
    let unreachable = send(
        &down,
        get_with(
            &format!("/callback?code=CODE-7Q&state={state}"),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(
        refusal(unreachable, &["CODE-7Q", &state]).await,
        (StatusCode::BAD_GATEWAY, "provider_unreachable".to_owned())
    );
}

fn app_for_domain(domain: &str) -> Router {
    app(
        &web_login(domain, "http://127.0.0.1:3000/callback"),
        MemoryStore::default(),
    )
}

#[tokio::test]
async fn refusals_of_signed_in_say_why_and_quote_no_token() {
    let endpoint = TokenEndpoint::default();
    endpoint.answers.lock().unwrap().push((
        400,
        json!({"error": "invalid_grant", "error_description": "SECRET-DESC"}),
    ));
    let domain = start_token_endpoint(endpoint).await;
    let store = MemoryStore::default();
    let app = app(
        &web_login(&domain, "http://127.0.0.1:3000/callback"),
        store.clone(),
    );
    let anonymous = send(&app, get_with("/me", None)).await;
    assert_eq!(
        refusal(anonymous, &[]).await,
        (StatusCode::UNAUTHORIZED, "not_signed_in".to_owned())
    );
    let expired = signed_in_session(&store, now() - 1, None).await;
    let answer = send(&app, get_with("/me", Some(&expired))).await;
    assert_eq!(
        refusal(answer, &["at_1", &expired["session=".len()..]]).await,
        (StatusCode::UNAUTHORIZED, "session_expired".to_owned())
    );
    let revoked = signed_in_session(&store, now() - 1, Some("rt_REVOKED")).await;
    let answer = send(&app, get_with("/me", Some(&revoked))).await;
    assert_eq!(
        refusal(answer, &["at_1", "rt_REVOKED", "SECRET"]).await,
        (StatusCode::UNAUTHORIZED, "invalid_grant".to_owned())
    );
    let signed_in = signed_in_session(&store, now() + 3600, None).await;
    let cross = send(&app, post_from("/me", Some(&signed_in), "cross-site")).await;
    assert_eq!(
        refusal(cross, &["at_1", &signed_in["session=".len()..]]).await,
        (StatusCode::FORBIDDEN, "cross_site_request".to_owned())
    );
    let bare: Router =
        Router::new()
            .route("/me", get(me))
            .layer(tower_sessions::SessionManagerLayer::new(
                MemoryStore::default(),
            ));
    assert_eq!(
        refusal(send(&bare, get_with("/me", None)).await, &[]).await,
        (StatusCode::INTERNAL_SERVER_ERROR, "server_error".to_owned())
    );
}

/// A fake AuthKit domain that logs anyone in: its token endpoint answers every code with an ID
/// token for `user_01` carrying the nonce set, signed with the test key its JWKS publishes.
#[derive(Clone, Default)]
struct Provider {
    issuer: Arc<Mutex<String>>,
    nonce: Arc<Mutex<String>>,
}

fn signing_key() -> jsonwebtoken::EncodingKey {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/id_token_test_key.pem"
    );
    jsonwebtoken::EncodingKey::from_rsa_pem(&std::fs::read(path).unwrap()).unwrap()
}

async fn provider_token(State(provider): State<Provider>) -> Json<Value> {
    let claims = json!({
        "iss": *provider.issuer.lock().unwrap(), "sub": "user_01", "aud": "client_01",
        "exp": now() + 300, "iat": now(), "nonce": *provider.nonce.lock().unwrap(),
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("k1".to_owned());
    let id_token = jsonwebtoken::encode(&header, &claims, &signing_key()).unwrap();
    Json(json!({
        "access_token": "at_1", "token_type": "Bearer", "expires_in": 300, "id_token": id_token,
    }))
}

async fn provider_keys() -> Json<Value> {
    let mut jwk =
        jsonwebtoken::jwk::Jwk::from_encoding_key(&signing_key(), jsonwebtoken::Algorithm::RS256)
            .unwrap();
    jwk.common.key_id = Some("k1".to_owned());
    Json(json!({ "keys": [jwk] }))
}

/// The provider on a loopback port; its domain.
async fn start_provider(provider: Provider) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let domain = format!("http://{}", listener.local_addr().unwrap());
    provider.issuer.lock().unwrap().clone_from(&domain);
    let router = Router::new()
        .route("/oauth2/token", post(provider_token))
        .route("/oauth2/jwks", get(provider_keys))
        .with_state(provider);
    tokio::spawn(async move { axum::serve(listener, router).await });
    domain
}

/// A parameter of the authorize URL `GET /login` redirected to.
fn authorize_param(login: &Response, name: &str) -> String {
    let location = login.headers()["location"].to_str().unwrap();
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| panic!("no {name} in {location}"))
}

#[tokio::test]
async fn a_login_comes_back_to_its_return_to_on_the_apps_origin() {
    let provider = Provider::default();
    let domain = start_provider(provider.clone()).await;
    let login = WebLogin::builder(client(&domain, "http://127.0.0.1:3000/callback"))
        .after_login("/welcome")
        .build()
        .unwrap();
    let app = app(&login, MemoryStore::default());
    // Logs in from `/login` plus `query` with the cookie `cookie`; where the callback sends the
    // browser, and the session's cookie.
    let log_in = |query: String, cookie: Option<String>| {
        let app = app.clone();
        let provider = provider.clone();
        async move {
            let started = send(&app, get_with(&format!("/login{query}"), cookie.as_deref())).await;
            assert_eq!(started.status(), StatusCode::SEE_OTHER, "{query}");
            let cookie = match started.headers().get("set-cookie") {
                Some(_) => set_cookie(&started).split(';').next().unwrap().to_owned(),
                None => cookie.expect("a session"),
            };
            *provider.nonce.lock().unwrap() = authorize_param(&started, "nonce");
            let state = authorize_param(&started, "state");
            let finished = send(
                &app,
                get_with(&format!("/callback?code=c&state={state}"), Some(&cookie)),
            )
            .await;
            let status = finished.status();
            let location = finished.headers().get("location").cloned();
            let new_cookie = finished.headers().get("set-cookie").cloned();
            assert_eq!(status, StatusCode::SEE_OTHER, "{}", text(finished).await);
            let cookie = new_cookie
                .map(|value| {
                    value
                        .to_str()
                        .unwrap()
                        .split(';')
                        .next()
                        .unwrap()
                        .to_owned()
                })
                .unwrap_or(cookie);
            (location.unwrap().to_str().unwrap().to_owned(), cookie)
        }
    };

    let (location, cookie) = log_in(
        format!("?return_to={}", query_value("/some/path?x=1#top")),
        None,
    )
    .await;
    assert_eq!(location, "http://127.0.0.1:3000/some/path?x=1#top");
    assert_eq!(
        text(send(&app, get_with("/", Some(&cookie))).await).await,
        "user_01"
    );
    let (location, _) = log_in(String::new(), None).await;
    assert_eq!(location, "/welcome");
    // Percent-encoded slashes are a path on this origin, and stay one; dot segments cannot make
    // the path start with `//` where a browser would read a host.
    for (return_to, expected) in [
        ("/%2F%2Fevil.com", "http://127.0.0.1:3000/%2F%2Fevil.com"),
        ("/%5C%5Cevil.com", "http://127.0.0.1:3000/%5C%5Cevil.com"),
        ("/.//evil.com", "http://127.0.0.1:3000//evil.com"),
        ("/a/..//evil.com", "http://127.0.0.1:3000//evil.com"),
    ] {
        let (location, _) = log_in(format!("?return_to={}", query_value(return_to)), None).await;
        assert_eq!(location, expected, "{return_to}");
        let resolved = url::Url::parse("http://127.0.0.1:3000/")
            .unwrap()
            .join(&location)
            .unwrap();
        assert_eq!(resolved.host_str(), Some("127.0.0.1"), "{location}");
        assert_eq!(resolved.port(), Some(3000), "{location}");
    }

    // A second login in the same session, without return_to, forgets the first one's.
    let first = send(&app, get_with("/login?return_to=%2Ffirst", None)).await;
    let cookie = set_cookie(&first).split(';').next().unwrap().to_owned();
    let (location, _) = log_in(String::new(), Some(cookie)).await;
    assert_eq!(location, "/welcome");
}

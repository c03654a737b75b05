//! What the layer promises about keys and refusals, against a JWKS endpoint of the test's own on
//! loopback (counting its fetches, slow or failing on demand) and tokens signed here. Real time with
//! intervals of a second, so that the cache's schedule runs as in production.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD,
    AUTHORIZATION, CONNECTION, CONTENT_TYPE, ORIGIN, WWW_AUTHENTICATE,
};
use http::{HeaderMap, Method, Request, StatusCode};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use tokio::task::{JoinHandle, JoinSet};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_service::Service;
use workos_connect::dpop::{
    DatedNonces, DpopChallenge, DpopErrorCode, DpopKey, DpopNonce, DpopNonceSecret, DpopProofCheck,
    DPOP_NONCE_HEADER,
};
use workos_connect::oauth::{BearerChallenge, BearerError, Clock, FixedClock};
use workos_connect::resource_server::{AccessTokenCheck, OriginPolicy, RequestCheck};
use workos_connect::{jose::KeyCache, oauth::AccessToken};
use workos_connect_axum::{Authenticated, Keys, Passed, ProtectedResource};

const ISSUER: &str = "https://example.authkit.app";
const RESOURCE: &str = "https://api.example.com/mcp";
const METADATA: &str = "https://api.example.com/.well-known/oauth-protected-resource/mcp";

/// The one test key: the key IDs a set publishes it under stand for distinct keys, as a rotation
/// changes them.
fn signing_key() -> EncodingKey {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/id_token_test_key.pem"
    );
    EncodingKey::from_rsa_pem(&std::fs::read(path).expect("the test key")).unwrap()
}

/// An access token for the resource signed under `kid`, with `scope`.
fn token(kid: &str, scope: &str) -> String {
    token_with(kid, scope, json!({}))
}

/// The same, with `extra` claims.
fn token_with(kid: &str, scope: &str, extra: Value) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({
        "iss": ISSUER,
        "aud": RESOURCE,
        "sub": "user_01",
        "org_id": "org_01",
        "scope": scope,
        "iat": now,
        "exp": now + 300,
    });
    let mut claims = claims;
    if let (Some(claims), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
        claims.extend(extra.clone());
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    header.typ = Some("at+jwt".to_owned());
    jsonwebtoken::encode(&header, &claims, &signing_key()).unwrap()
}

fn key_set(kids: &[&str]) -> String {
    let key = signing_key();
    let keys = kids
        .iter()
        .map(|kid| {
            let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
            jwk.common.key_id = Some((*kid).to_owned());
            jwk
        })
        .collect();
    serde_json::to_string(&JwkSet { keys }).unwrap()
}

/// The JWKS endpoint: serves the set it holds (500 when it holds none) after a delay, and counts
/// the requests it gets.
struct Jwks {
    url: String,
    shared: Arc<JwksState>,
    server: JoinHandle<()>,
}

struct JwksState {
    body: Mutex<Option<String>>,
    delay: Mutex<Duration>,
    fetches: AtomicUsize,
}

async fn serve_jwks(State(state): State<Arc<JwksState>>) -> Response {
    state.fetches.fetch_add(1, Ordering::SeqCst);
    let delay = *state.delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    let body = state.body.lock().unwrap().clone();
    // No kept-alive connection, so that a stopped endpoint is unreachable at once.
    let close = [(CONNECTION, "close")];
    match body {
        Some(body) => (close, [(CONTENT_TYPE, "application/json")], body).into_response(),
        None => (close, StatusCode::INTERNAL_SERVER_ERROR).into_response(),
    }
}

impl Jwks {
    async fn start(kids: &[&str]) -> Jwks {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        let shared = Arc::new(JwksState {
            body: Mutex::new(Some(key_set(kids))),
            delay: Mutex::new(Duration::ZERO),
            fetches: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/jwks", get(serve_jwks))
            .with_state(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Jwks {
            url,
            shared,
            server,
        }
    }

    /// Serves these keys from now on; `None`: answers 500.
    fn serve(&self, kids: Option<&[&str]>) {
        *self.shared.body.lock().unwrap() = kids.map(key_set);
    }

    fn delay(&self, delay: Duration) {
        *self.shared.delay.lock().unwrap() = delay;
    }

    /// Stops listening: fetches are refused before any request is read.
    fn stop(&self) {
        self.server.abort();
    }

    fn fetches(&self) -> usize {
        self.shared.fetches.load(Ordering::SeqCst)
    }
}

/// The tokens the resource takes: for it, with `mcp:tools`.
fn tokens() -> AccessTokenCheck {
    AccessTokenCheck::new(ISSUER.parse().unwrap(), RESOURCE.parse().unwrap())
        .require_scopes("mcp:tools".parse().unwrap())
}

/// The resource, requiring `mcp:tools`, with keys from `jwks` kept by a cache with these intervals
/// (the first fetch done), and the app: `POST /mcp` behind the layer, answering the token's `sub`,
/// and the metadata route.
async fn protect(jwks: &Jwks, refresh: Duration, min: Duration) -> (ProtectedResource, Router) {
    let cache = KeyCache::new(jwks.url.parse().unwrap())
        .refresh_interval(refresh)
        .min_interval(min);
    let keys = Keys::new(cache).unwrap();
    keys.spawn_refresh().unwrap();
    keys.ready().await.unwrap();
    let check = RequestCheck::api(tokens())
        .unwrap()
        .allowed_origin("https://app.example.com")
        .unwrap();
    let resource = ProtectedResource::builder(check)
        .keys(keys)
        .build()
        .unwrap();
    async fn whoami(Authenticated(claims): Authenticated) -> String {
        claims.sub().to_owned()
    }
    let app = Router::new()
        .route("/mcp", post(whoami))
        .layer(resource.layer())
        .merge(resource.metadata_router());
    (resource, app)
}

async fn send(app: &Router, request: Request<Body>) -> Response {
    let mut app = app.clone();
    std::future::poll_fn(|cx| Service::<Request<Body>>::poll_ready(&mut app, cx))
        .await
        .unwrap();
    app.call(request).await.unwrap()
}

fn request(token: Option<&str>, origin: Option<&str>) -> Request<Body> {
    let mut request = Request::post("/mcp");
    if let Some(token) = token {
        request = request.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(origin) = origin {
        request = request.header(ORIGIN, origin);
    }
    request.body(Body::empty()).unwrap()
}

async fn status(app: &Router, token: &str) -> StatusCode {
    send(app, request(Some(token), None)).await.status()
}

fn challenge(response: &Response) -> BearerChallenge {
    let header = response
        .headers()
        .get(WWW_AUTHENTICATE)
        .expect("a WWW-Authenticate challenge");
    BearerChallenge::parse(header.to_str().unwrap()).unwrap()
}

/// A refused token: 401 `invalid_token`, the challenge naming the metadata.
async fn assert_refused(app: &Router, token: &str) {
    let response = send(app, request(Some(token), None)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = challenge(&response);
    assert_eq!(challenge.error, Some(BearerError::InvalidToken));
    assert_eq!(
        challenge.resource_metadata.as_ref().map(|url| url.as_str()),
        Some(METADATA)
    );
}

const LONG: Duration = Duration::from_secs(60);
const SECOND: Duration = Duration::from_secs(1);
const PAST_A_SECOND: Duration = Duration::from_millis(1100);

// Worker threads of its own, so that the requests race for the fetch for real.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_requests_naming_a_new_key_make_one_fetch_and_all_pass() {
    let jwks = Jwks::start(&["k1"]).await;
    let (resource, app) = protect(&jwks, LONG, SECOND).await;
    assert_eq!(jwks.fetches(), 1);
    assert_eq!(
        status(&app, &token("k1", "mcp:tools")).await,
        StatusCode::OK
    );

    // The rotation is published, past the least interval; a slow answer keeps the fetch under
    // way while every request arrives.
    jwks.serve(Some(&["k1", "k2"]));
    jwks.delay(Duration::from_millis(300));
    tokio::time::sleep(PAST_A_SECOND).await;
    let rotated = token("k2", "mcp:tools");
    let mut requests = JoinSet::new();
    for _ in 0..8 {
        let (app, rotated) = (app.clone(), rotated.clone());
        requests.spawn(async move { status(&app, &rotated).await });
    }
    let statuses = requests.join_all().await;
    assert_eq!(statuses, [StatusCode::OK; 8]);
    assert_eq!(jwks.fetches(), 2, "one fetch for eight requests");
    assert_eq!(resource.keys().fetches(), 2);
}

#[tokio::test]
async fn a_key_rotated_just_after_start_passes_at_once_and_made_up_ones_wait() {
    let jwks = Jwks::start(&["k1"]).await;
    // A minute between fetches for unknown keys: the start-up fetch does not start it.
    let (_resource, app) = protect(&jwks, LONG, LONG).await;
    assert_eq!(jwks.fetches(), 1);
    jwks.serve(Some(&["k1", "k2"]));
    assert_eq!(
        status(&app, &token("k2", "mcp:tools")).await,
        StatusCode::OK
    );
    assert_eq!(jwks.fetches(), 2);
    // That fetch does: made-up key IDs fetch nothing more within the minute.
    for _ in 0..5 {
        assert_refused(&app, &token("k9", "mcp:tools")).await;
    }
    assert_eq!(jwks.fetches(), 2);
}

#[tokio::test]
async fn a_failing_jwks_endpoint_is_asked_once_per_interval_and_the_held_keys_go_on() {
    let jwks = Jwks::start(&["k1"]).await;
    let (_resource, app) = protect(&jwks, LONG, SECOND).await;
    let held = token("k1", "mcp:tools");
    let unknown = token("k9", "mcp:tools");
    tokio::time::sleep(PAST_A_SECOND).await;

    jwks.serve(None);
    for _ in 0..6 {
        assert_refused(&app, &unknown).await;
        assert_eq!(status(&app, &held).await, StatusCode::OK);
    }
    assert_eq!(jwks.fetches(), 2, "one failed attempt for six requests");

    // Past the interval since the failure: one more attempt, which fails again.
    tokio::time::sleep(PAST_A_SECOND).await;
    for _ in 0..3 {
        assert_refused(&app, &unknown).await;
    }
    assert_eq!(jwks.fetches(), 3);
    assert_eq!(status(&app, &held).await, StatusCode::OK);
}

#[tokio::test]
async fn an_unreachable_jwks_endpoint_is_tried_once_per_interval_and_the_held_keys_go_on() {
    let jwks = Jwks::start(&["k1"]).await;
    let (resource, app) = protect(&jwks, LONG, SECOND).await;
    let held = token("k1", "mcp:tools");
    let unknown = token("k9", "mcp:tools");
    jwks.stop();
    tokio::time::sleep(PAST_A_SECOND).await;

    for _ in 0..6 {
        assert_refused(&app, &unknown).await;
        assert_eq!(status(&app, &held).await, StatusCode::OK);
    }
    // The endpoint never saw the attempt: count what the keys sent.
    assert_eq!(jwks.fetches(), 1);
    assert_eq!(resource.keys().fetches(), 2, "one attempt for six requests");
}

#[tokio::test]
async fn a_withdrawn_key_stops_passing_after_the_next_scheduled_refresh() {
    let jwks = Jwks::start(&["k1", "k2"]).await;
    // The cache spaces every fetch by the least interval, scheduled ones too.
    let (resource, app) = protect(&jwks, SECOND, SECOND).await;
    let withdrawn = token("k1", "mcp:tools");
    let kept = token("k2", "mcp:tools");
    let before = resource.keys().current().unwrap();

    jwks.serve(Some(&["k2"]));
    assert_eq!(
        status(&app, &withdrawn).await,
        StatusCode::OK,
        "until the refresh"
    );
    // No request names an unknown key meanwhile: only the schedule can bring the new set.
    let deadline = Instant::now() + Duration::from_secs(3);
    while Arc::ptr_eq(&resource.keys().current().unwrap(), &before) {
        assert!(Instant::now() < deadline, "no scheduled refresh");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(jwks.fetches() >= 2);
    assert_refused(&app, &withdrawn).await;
    assert_eq!(status(&app, &kept).await, StatusCode::OK);
}

#[tokio::test]
async fn refusals_carry_their_status_and_challenge_and_the_metadata_is_served() {
    let jwks = Jwks::start(&["k1"]).await;
    let (_resource, app) = protect(&jwks, LONG, LONG).await;
    let good = token("k1", "mcp:tools");

    // No token: 401 with a bare challenge that says where the metadata is and what scope to ask.
    let response = send(&app, request(None, None)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let bare = challenge(&response);
    assert_eq!(bare.error, None);
    assert_eq!(bare.scope.as_deref(), Some("mcp:tools"));
    assert_eq!(
        bare.resource_metadata.as_ref().map(|url| url.as_str()),
        Some(METADATA)
    );

    // A page of another origin: 403 before the token is looked at, and no challenge to answer.
    let response = send(&app, request(Some(&good), Some("https://evil.example"))).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers().get(WWW_AUTHENTICATE).is_none());
    for allowed in ["https://app.example.com", "https://api.example.com"] {
        let response = send(&app, request(Some(&good), Some(allowed))).await;
        assert_eq!(response.status(), StatusCode::OK, "{allowed}");
    }
    // More than one Origin: refused, whichever comes first (a browser sends one).
    for second in ["https://evil.example", "https://app.example.com"] {
        let mut twice = request(Some(&good), Some("https://app.example.com"));
        twice
            .headers_mut()
            .append(ORIGIN, http::HeaderValue::from_static(second));
        let response = send(&app, twice).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{second}");
        assert!(response.headers().get(WWW_AUTHENTICATE).is_none());
    }

    // A token lacking the scope: 403 insufficient_scope, and the same in a JSON body.
    let response = send(&app, request(Some(&token("k1", "openid")), None)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        challenge(&response).error,
        Some(BearerError::InsufficientScope)
    );
    assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    let body = to_bytes(response.into_body(), 1024).await.unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"], "insufficient_scope");

    // A good token: the handler reads its claims.
    let response = send(&app, request(Some(&good), None)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = to_bytes(response.into_body(), 1024).await.unwrap();
    assert_eq!(&body[..], b"user_01");

    // The metadata, outside the layer.
    let metadata = Request::get("/.well-known/oauth-protected-resource/mcp")
        .body(Body::empty())
        .unwrap();
    let response = send(&app, metadata).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = to_bytes(response.into_body(), 64 * 1024).await.unwrap();
    let metadata: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(metadata["resource"], RESOURCE);
    assert_eq!(metadata["authorization_servers"], json!([ISSUER]));
    assert_eq!(metadata["scopes_supported"], json!(["mcp:tools"]));
    assert_eq!(metadata["bearer_methods_supported"], json!(["header"]));
}

/// Sends `requests` on one connection to `address`, one after the other, and reads what comes back
/// until the server closes the connection or a second passes quiet.
fn exchange(address: std::net::SocketAddr, requests: &[&str]) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(SECOND)).unwrap();
    let mut answers = Vec::new();
    for request in requests {
        stream.write_all(request.as_bytes()).unwrap();
        let mut chunk = [0; 4096];
        // One answer (head and short JSON body) or the end of the connection.
        match stream.read(&mut chunk) {
            Ok(read) => answers.extend_from_slice(&chunk[..read]),
            Err(error) => panic!("no answer to {request:?}: {error}"),
        }
    }
    let mut rest = [0; 4096];
    if let Ok(read) = stream.read(&mut rest) {
        answers.extend_from_slice(&rest[..read]);
    }
    String::from_utf8(answers).unwrap()
}

/// Over HTTP/1 with hyper: a refusal answered before the request's body was read ends the
/// connection, and says so with `Connection: close`, so that a client does not send its next
/// request (the metadata fetch after a 401) on a connection that is going away. A refusal of a
/// request without a body keeps the connection, for that next request.
#[tokio::test]
async fn a_refusal_leaving_the_body_unread_says_the_connection_closes() {
    let jwks = Jwks::start(&["k1"]).await;
    let (_resource, app) = protect(&jwks, LONG, LONG).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    // The body announced but not sent yet, as when its packet comes after the head.
    let unread = "POST /mcp HTTP/1.1\r\nHost: api.example.com\r\nAuthorization: Bearer a.b.c\r\n\
                  Content-Type: application/json\r\nContent-Length: 100\r\n\r\n";
    let metadata =
        "GET /.well-known/oauth-protected-resource/mcp HTTP/1.1\r\nHost: api.example.com\r\n\r\n";
    let answers = tokio::task::spawn_blocking(move || exchange(address, &[unread]))
        .await
        .unwrap()
        .to_ascii_lowercase();
    assert!(answers.starts_with("http/1.1 401 "), "{answers}");
    assert!(answers.contains("\r\nconnection: close\r\n"), "{answers}");

    // The same for a refusal decided after waiting for keys: a token naming a key not held.
    let unknown_key = format!(
        "POST /mcp HTTP/1.1\r\nHost: api.example.com\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n",
        token("made-up", "mcp:tools")
    );
    let answers = tokio::task::spawn_blocking(move || exchange(address, &[&unknown_key]))
        .await
        .unwrap()
        .to_ascii_lowercase();
    assert!(answers.starts_with("http/1.1 401 "), "{answers}");
    assert!(answers.contains("\r\nconnection: close\r\n"), "{answers}");

    // No body: the connection stays, and the metadata comes on it.
    let bodiless = "POST /mcp HTTP/1.1\r\nHost: api.example.com\r\nAuthorization: Bearer a.b.c\r\n\
                    Content-Length: 0\r\n\r\n";
    let answers = tokio::task::spawn_blocking(move || exchange(address, &[bodiless, metadata]))
        .await
        .unwrap()
        .to_ascii_lowercase();
    assert!(answers.starts_with("http/1.1 401 "), "{answers}");
    assert!(!answers.contains("connection: close"), "{answers}");
    assert!(answers.contains("http/1.1 200 ok"), "{answers}");
    assert!(answers.contains(RESOURCE), "{answers}");
}

/// A resource taking DPoP-bound tokens only (`require_dpop`), or beside bearer tokens (`dpop`).
async fn protect_dpop(jwks: &Jwks, required: bool) -> Router {
    let keys = Keys::new(KeyCache::new(jwks.url.parse().unwrap())).unwrap();
    keys.spawn_refresh().unwrap();
    keys.ready().await.unwrap();
    let tokens = if required {
        tokens().require_dpop()
    } else {
        tokens().dpop(DpopProofCheck::new())
    };
    let resource = ProtectedResource::builder(RequestCheck::api(tokens).unwrap())
        .keys(keys)
        .build()
        .unwrap();
    async fn whoami(Authenticated(claims): Authenticated) -> String {
        claims.sub().to_owned()
    }
    Router::new()
        .route("/mcp", post(whoami))
        .route("/admin/{*rest}", post(whoami))
        .layer(resource.layer())
        .merge(resource.metadata_router())
}

/// `POST /mcp` with `Authorization: DPoP` and the given proofs.
fn dpop_request(token: &str, proofs: &[&str]) -> Request<Body> {
    dpop_request_to("/mcp", token, proofs)
}

/// `POST path` with `Authorization: DPoP` and the given proofs.
fn dpop_request_to(path: &str, token: &str, proofs: &[&str]) -> Request<Body> {
    let mut request = Request::post(path).header(AUTHORIZATION, format!("DPoP {token}"));
    for proof in proofs {
        request = request.header("dpop", *proof);
    }
    request.body(Body::empty()).unwrap()
}

fn dpop_challenge(response: &Response) -> DpopChallenge {
    let header = response
        .headers()
        .get(WWW_AUTHENTICATE)
        .expect("a WWW-Authenticate challenge");
    DpopChallenge::parse(header.to_str().unwrap()).unwrap()
}

#[tokio::test]
async fn a_dpop_bound_token_passes_with_its_proof_once_and_never_as_bearer() {
    let jwks = Jwks::start(&["k1"]).await;
    let app = protect_dpop(&jwks, true).await;
    let key = DpopKey::generate();
    let bound = token_with("k1", "mcp:tools", json!({"cnf": {"jkt": key.thumbprint()}}));
    let access_token = AccessToken::new(bound.clone()).unwrap();
    // The proof names the resource's own URL: its origin and the request's path.
    let proof = key
        .proof("POST", &RESOURCE.parse().unwrap())
        .access_token(&access_token)
        .sign()
        .unwrap();

    let response = send(&app, dpop_request(&bound, &[proof.as_str()])).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = to_bytes(response.into_body(), 1024).await.unwrap();
    assert_eq!(&body[..], b"user_01");

    // The same proof again: a replay.
    let response = send(&app, dpop_request(&bound, &[proof.as_str()])).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let refused = dpop_challenge(&response);
    assert_eq!(refused.error, Some(DpopErrorCode::InvalidDpopProof));
    assert_eq!(
        refused.resource_metadata.as_ref().map(|url| url.as_str()),
        Some(METADATA)
    );
    assert_eq!(refused.algorithms().collect::<Vec<_>>(), ["ES256"]);
    // Only DPoP is taken, so only DPoP is offered.
    let header = response.headers()[WWW_AUTHENTICATE].to_str().unwrap();
    assert!(BearerChallenge::parse(header).is_err(), "{header}");

    // No proof at all, or a proof for another URL.
    let response = send(&app, dpop_request(&bound, &[])).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        dpop_challenge(&response).error,
        Some(DpopErrorCode::InvalidDpopProof)
    );
    let elsewhere = key
        .proof("POST", &"https://api.example.com/other".parse().unwrap())
        .access_token(&access_token)
        .sign()
        .unwrap();
    let response = send(&app, dpop_request(&bound, &[elsewhere.as_str()])).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // The bound token as a bearer token, and a plain bearer token: refused here.
    for bearer in [bound.clone(), token("k1", "mcp:tools")] {
        let response = send(&app, request(Some(&bearer), None)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            dpop_challenge(&response).error,
            Some(DpopErrorCode::InvalidToken)
        );
    }

    // The metadata says DPoP is required.
    let metadata = Request::get("/.well-known/oauth-protected-resource/mcp")
        .body(Body::empty())
        .unwrap();
    let body = to_bytes(send(&app, metadata).await.into_body(), 64 * 1024)
        .await
        .unwrap();
    let metadata: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        metadata["dpop_signing_alg_values_supported"],
        json!(["ES256"])
    );
    assert_eq!(metadata["dpop_bound_access_tokens_required"], json!(true));
}

#[tokio::test]
async fn a_proof_names_the_path_as_routed_not_with_its_dot_segments_removed() {
    let jwks = Jwks::start(&["k1"]).await;
    let app = protect_dpop(&jwks, true).await;
    let key = DpopKey::generate();
    let bound = token_with("k1", "mcp:tools", json!({"cnf": {"jkt": key.thumbprint()}}));
    let access_token = AccessToken::new(bound.clone()).unwrap();
    let proof_for = |url: &str| {
        key.proof("POST", &url.parse().unwrap())
            .access_token(&access_token)
            .sign()
            .unwrap()
    };
    // The route beside /mcp takes its own proofs.
    let own = proof_for("https://api.example.com/admin/tasks");
    let response = send(
        &app,
        dpop_request_to("/admin/tasks", &bound, &[own.as_str()]),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    // A proof made for /mcp, sent to paths that name /mcp only once their dot segments go, but
    // that the router sends to /admin: refused, though each proof is fresh.
    for path in ["/admin/%2e%2e/mcp", "/admin/../mcp", "/admin/./%2E./mcp"] {
        let proof = proof_for(RESOURCE);
        let response = send(&app, dpop_request_to(path, &bound, &[proof.as_str()])).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            dpop_challenge(&response).error,
            Some(DpopErrorCode::InvalidDpopProof),
            "{path}"
        );
    }
}

/// The origin of the browser app calling the resource in the CORS scenarios: not the resource's.
const APP: &str = "https://app.example.org";

/// Where the app's CORS layer sits, if it has one.
#[derive(Clone, Copy, PartialEq)]
enum Cors {
    None,
    /// Inside the access token layer: it sees the preflights the check passes on.
    Inside,
    /// Outside: it answers preflights itself, and puts its headers on refusals too.
    Outside,
}

/// The CORS layer of an app whose pages, of [`APP`], post with a token.
fn cors_layer() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list([http::HeaderValue::from_static(APP)]))
        .allow_methods([Method::POST])
        .allow_headers([AUTHORIZATION, CONTENT_TYPE])
}

/// The resource `check` decides for, with keys from `jwks`, and the app: `POST /mcp` answering the
/// token's `sub` behind the access token layer, with the app's CORS layer where `cors` says.
async fn protect_with(jwks: &Jwks, check: RequestCheck, cors: Cors) -> (ProtectedResource, Router) {
    let keys = Keys::new(KeyCache::new(jwks.url.parse().unwrap())).unwrap();
    keys.spawn_refresh().unwrap();
    keys.ready().await.unwrap();
    let resource = ProtectedResource::builder(check)
        .keys(keys)
        .build()
        .unwrap();
    async fn whoami(Authenticated(claims): Authenticated) -> String {
        claims.sub().to_owned()
    }
    let mut routes = Router::new().route("/mcp", post(whoami));
    if cors == Cors::Inside {
        routes = routes.layer(cors_layer());
    }
    let mut app = resource.protect(routes);
    if cors == Cors::Outside {
        app = app.layer(cors_layer());
    }
    (resource, app)
}

/// The preflight a page of `origin` sends before a `POST /mcp` carrying a token.
fn preflight(origin: &str) -> Request<Body> {
    Request::options("/mcp")
        .header(ORIGIN, origin)
        .header(ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
        .body(Body::empty())
        .unwrap()
}

async fn json_body(response: Response) -> Value {
    let body = to_bytes(response.into_body(), 4096).await.unwrap();
    serde_json::from_slice(&body).unwrap()
}

#[tokio::test]
async fn a_preflight_reaches_the_cors_layer_inside_for_an_api_and_an_mcp_server() {
    let jwks = Jwks::start(&["k1"]).await;
    for check in [
        RequestCheck::api(tokens()).unwrap(),
        RequestCheck::mcp_server(tokens()).unwrap(),
    ] {
        let (resource, app) = protect_with(&jwks, check, Cors::Inside).await;
        // No token, another origin: the CORS layer answers, allowing the app's origin.
        let response = send(&app, preflight(APP)).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], APP);
        assert!(response.headers().get(WWW_AUTHENTICATE).is_none());
        // A page of an origin the CORS layer does not allow gets no grant from it.
        let response = send(&app, preflight("https://evil.example")).await;
        assert!(response
            .headers()
            .get(ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none());
        assert!(response.headers().get(WWW_AUTHENTICATE).is_none());
        // For a handler of its own, a preflight is told apart from an authenticated request.
        let mut headers = HeaderMap::new();
        headers.insert(ACCESS_CONTROL_REQUEST_METHOD, "POST".parse().unwrap());
        let passed = resource
            .authenticate(&Method::OPTIONS, "/mcp", &headers)
            .await
            .unwrap();
        assert!(matches!(passed, Passed::Preflight), "{passed:?}");
        // A plain OPTIONS, without Access-Control-Request-Method, is checked: 401.
        let plain = Request::options("/mcp").body(Body::empty()).unwrap();
        let response = send(&app, plain).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().get(WWW_AUTHENTICATE).is_some());
    }
    // Without a CORS layer, a preflight reaches the router, whose `post` route answers 405 without
    // running the handler.
    let (_, app) = protect_with(&jwks, RequestCheck::api(tokens()).unwrap(), Cors::None).await;
    let response = send(&app, preflight(APP)).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn an_api_takes_pages_of_other_origins_and_an_mcp_server_says_why_it_refuses_them() {
    let jwks = Jwks::start(&["k1"]).await;
    let good = token("k1", "mcp:tools");

    // An API: the app's page calls it with its token and reads the answer; without a token it is
    // asked for one, the challenge readable by the page (the CORS layer outside puts its headers
    // on refusals too).
    let (_, api) = protect_with(&jwks, RequestCheck::api(tokens()).unwrap(), Cors::Outside).await;
    let response = send(&api, request(Some(&good), Some(APP))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], APP);
    let body = to_bytes(response.into_body(), 1024).await.unwrap();
    assert_eq!(&body[..], b"user_01");
    let response = send(&api, request(None, Some(APP))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&response).scope.as_deref(), Some("mcp:tools"));
    assert_eq!(response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], APP);

    // An MCP server: the same page gets 403 whatever its token, and a body saying how to allow it.
    let (_, mcp) = protect_with(
        &jwks,
        RequestCheck::mcp_server(tokens()).unwrap(),
        Cors::Outside,
    )
    .await;
    let response = send(&mcp, request(Some(&good), Some(APP))).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers().get(WWW_AUTHENTICATE).is_none());
    assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    assert_eq!(response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], APP);
    let body = json_body(response).await;
    assert_eq!(body["error"], "forbidden");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.contains("RequestCheck::allowed_origin"),
        "{description}"
    );
    assert!(!description.contains(&good), "{description}");
    // Once allowed, or with the guard switched off, the page gets in.
    for check in [
        RequestCheck::mcp_server(tokens())
            .unwrap()
            .allowed_origin(APP)
            .unwrap(),
        RequestCheck::mcp_server(tokens())
            .unwrap()
            .origin_policy(OriginPolicy::Any),
    ] {
        let (_, app) = protect_with(&jwks, check, Cors::Outside).await;
        let response = send(&app, request(Some(&good), Some(APP))).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
}

/// The time of the resource's checks, moved forward by the test.
#[derive(Debug)]
struct TestClock(Mutex<SystemTime>);

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

#[tokio::test]
async fn a_resource_requiring_nonces_hands_out_the_next_one_on_an_answer_past_half_its_life() {
    let jwks = Jwks::start(&["k1"]).await;
    let keys = Keys::new(KeyCache::new(jwks.url.parse().unwrap())).unwrap();
    keys.spawn_refresh().unwrap();
    keys.ready().await.unwrap();
    let clock = Arc::new(TestClock(Mutex::new(SystemTime::now())));
    // A minute's lifetime: renewed past 30 seconds.
    let nonces = DatedNonces::new(DpopNonceSecret::generate()).lifetime(60);
    let tokens = tokens()
        .clock(clock.clone())
        .dpop(DpopProofCheck::new().require_nonce(nonces))
        .require_dpop();
    let resource = ProtectedResource::builder(RequestCheck::api(tokens).unwrap())
        .keys(keys)
        .build()
        .unwrap();
    async fn whoami(Authenticated(claims): Authenticated) -> String {
        claims.sub().to_owned()
    }
    let app = Router::new()
        .route("/mcp", post(whoami))
        .layer(resource.layer());

    let key = DpopKey::generate();
    let bound = token_with("k1", "mcp:tools", json!({"cnf": {"jkt": key.thumbprint()}}));
    let proof = |nonce: Option<&DpopNonce>| {
        let mut proof = key
            .proof("POST", &RESOURCE.parse().unwrap())
            .access_token(&AccessToken::new(bound.clone()).unwrap())
            .clock(FixedClock(clock.now()));
        if let Some(nonce) = nonce {
            proof = proof.nonce(nonce);
        }
        proof.sign().unwrap().as_str().to_owned()
    };
    let nonce_of = |response: &Response| {
        response
            .headers()
            .get(DPOP_NONCE_HEADER)
            .map(|value| DpopNonce::from_header(value.as_bytes()).unwrap())
    };

    let refused = send(&app, dpop_request(&bound, &[&proof(None)])).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        dpop_challenge(&refused).error,
        Some(DpopErrorCode::UseDpopNonce)
    );
    let nonce = nonce_of(&refused).expect("the nonce");
    let taken = send(&app, dpop_request(&bound, &[&proof(Some(&nonce))])).await;
    assert_eq!(taken.status(), StatusCode::OK);
    assert_eq!(nonce_of(&taken), None);
    // 45 seconds on, the nonce is still taken, and the answer carries the next one.
    *clock.0.lock().unwrap() += Duration::from_secs(45);
    let renewed = send(&app, dpop_request(&bound, &[&proof(Some(&nonce))])).await;
    assert_eq!(renewed.status(), StatusCode::OK);
    let next = nonce_of(&renewed).expect("the next nonce");
    assert_ne!(next, nonce);
    let taken = send(&app, dpop_request(&bound, &[&proof(Some(&next))])).await;
    assert_eq!(taken.status(), StatusCode::OK);
    assert_eq!(nonce_of(&taken), None);
}

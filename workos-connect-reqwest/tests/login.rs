//! The driven MCP login against a small MCP and authorization server on loopback: discovery,
//! registration, the authorization redirect, the token, and the loopback listener.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use workos_connect::mcp::{McpClientSettings, McpLogin};
use workos_connect_reqwest::{default_client, log_in, FollowRedirect, LoopbackRedirect, McpAuth};

#[derive(Clone)]
struct Mock {
    base: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Mock {
    fn saw(&self, what: impl Into<String>) {
        self.seen.lock().unwrap().push(what.into());
    }
}

async fn resource_metadata(State(mock): State<Mock>) -> Json<serde_json::Value> {
    mock.saw("resource metadata");
    Json(json!({"resource": format!("{}/mcp", mock.base), "authorization_servers": [mock.base]}))
}

async fn server_metadata(State(mock): State<Mock>) -> Json<serde_json::Value> {
    mock.saw("server metadata");
    let base = &mock.base;
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "registration_endpoint": format!("{base}/register"),
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "scopes_supported": ["mcp:tools", "offline_access"],
    }))
}

async fn register(State(mock): State<Mock>, Json(body): Json<serde_json::Value>) -> Response {
    mock.saw(format!("register {}", body["client_name"]));
    (StatusCode::CREATED, Json(json!({"client_id": "client_1"}))).into_response()
}

async fn authorize(
    State(mock): State<Mock>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    mock.saw(format!("authorize scope={}", query["scope"]));
    let location = format!(
        "{}?code=c0de&state={}&iss={}",
        query["redirect_uri"], query["state"], mock.base
    );
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

async fn token(State(mock): State<Mock>, Form(form): Form<HashMap<String, String>>) -> Response {
    mock.saw(format!(
        "token {} resource={}",
        form["grant_type"], form["resource"]
    ));
    if form.get("code").map(String::as_str) != Some("c0de") || !form.contains_key("code_verifier") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    }
    Json(json!({"access_token": "at_1", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt_1"}))
        .into_response()
}

async fn start() -> Mock {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let mock = Mock {
        base,
        seen: Arc::default(),
    };
    let app = Router::new()
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get(resource_metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(server_metadata),
        )
        .route("/register", post(register))
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .with_state(mock.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    mock
}

#[tokio::test]
async fn the_whole_login_in_one_call() {
    let mock = start().await;
    let server: url::Url = format!("{}/mcp", mock.base).parse().unwrap();
    let challenge = format!(
        r#"Bearer resource_metadata="{}/.well-known/oauth-protected-resource/mcp", scope="mcp:tools""#,
        mock.base
    );
    let settings =
        McpClientSettings::new("Test agent", "http://127.0.0.1:1/callback".parse().unwrap());
    let login = McpLogin::unauthorized(&settings, &server, &[&challenge]).unwrap();
    let http = default_client().unwrap();
    let authorization = log_in(&http, login, &mut FollowRedirect::new(http.clone()))
        .await
        .unwrap();
    assert_eq!(authorization.access_token().secret(), "at_1");
    assert_eq!(authorization.resource().as_str(), server.as_str());
    assert_eq!(
        *mock.seen.lock().unwrap(),
        [
            "resource metadata".to_owned(),
            "server metadata".to_owned(),
            "register \"Test agent\"".to_owned(),
            "authorize scope=mcp:tools offline_access".to_owned(),
            format!("token authorization_code resource={server}"),
        ]
    );
}

#[tokio::test]
async fn the_loopback_listener_waits_for_the_callback_itself() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let loopback = LoopbackRedirect::bind(0).await.unwrap();
    let port = url::Url::parse(loopback.redirect_uri().as_str())
        .unwrap()
        .port()
        .unwrap();
    let browser = tokio::spawn(async move {
        let send = |line: &'static str| async move {
            let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            stream.write_all(line.as_bytes()).await.unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await.unwrap();
            answer
        };
        let favicon = send("GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await;
        let absolute =
            send("GET http://evil.example/callback?code=x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                .await;
        let callback =
            send("GET /callback?code=c&state=s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await;
        (favicon, absolute, callback)
    });
    let url = loopback.callback().await.unwrap();
    assert_eq!(url.path(), "/callback");
    assert_eq!(url.query(), Some("code=c&state=s"));
    let (favicon, absolute, callback) = browser.await.unwrap();
    assert!(favicon.starts_with("HTTP/1.1 404"), "{favicon}");
    assert!(absolute.starts_with("HTTP/1.1 404"), "{absolute}");
    assert!(callback.starts_with("HTTP/1.1 200"), "{callback}");
}

#[tokio::test]
async fn requests_meeting_a_401_together_share_one_login() {
    let mock = start().await;
    let server: url::Url = format!("{}/mcp", mock.base).parse().unwrap();
    let challenge = format!(
        r#"Bearer resource_metadata="{}/.well-known/oauth-protected-resource/mcp""#,
        mock.base
    );
    let settings =
        McpClientSettings::new("Test agent", "http://127.0.0.1:1/callback".parse().unwrap());
    let http = default_client().unwrap();
    let auth = McpAuth::new(http.clone(), settings, server, FollowRedirect::new(http));
    assert_eq!(auth.token().await, None);
    let (first, second) = tokio::join!(
        auth.unauthorized(None, &challenge),
        auth.unauthorized(None, &challenge),
    );
    assert_eq!(first.unwrap(), "at_1");
    // The second found the first's token, newer than the one it sent (none).
    assert_eq!(second.unwrap(), "at_1");
    let logins = mock
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|seen| seen.starts_with("token"))
        .count();
    assert_eq!(logins, 1);
    assert_eq!(auth.token().await.as_deref(), Some("at_1"));
    let stored = auth.authorization().await.unwrap();
    assert_eq!(stored.credentials().client_id().as_str(), "client_1");
}

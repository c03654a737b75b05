//! A DPoP login (RFC 9449) against a small MCP and authorization server on loopback that both
//! demand their nonces: the token request's one retry, and the MCP server's nonce learned with a
//! ping, again when the nonce held has expired.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use url::Url;
use workos_connect::dpop::{DatedNonces, DpopNonce, DpopNonceSecret, DpopProofCheck};
use workos_connect::mcp::McpClientSettings;
use workos_connect::oauth::{AccessToken, AccessTokenType, Clock};
use workos_connect_reqwest::{default_client, FollowRedirect, McpAuth};

/// The time of the client and the servers alike, moved forward by the test.
#[derive(Debug)]
struct TestClock(Mutex<SystemTime>);

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

impl TestClock {
    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

#[derive(Clone)]
struct Mock {
    base: String,
    seen: Arc<Mutex<Vec<String>>>,
    jkt: Arc<Mutex<Option<String>>>,
    clock: Arc<TestClock>,
    /// Each server's nonces: every request gets a check of its own, as if another instance
    /// served it, with nothing but the secret in common.
    token_endpoint_nonces: DatedNonces,
    resource_nonces: DatedNonces,
}

impl Mock {
    fn saw(&self, what: impl Into<String>) {
        self.seen.lock().unwrap().push(what.into());
    }

    fn url(&self, path: &str) -> Url {
        format!("{}{path}", self.base).parse().unwrap()
    }

    fn instance(&self, nonces: &DatedNonces) -> DpopProofCheck {
        DpopProofCheck::new()
            .clock(self.clock.clone())
            .require_nonce(nonces.clone())
    }
}

fn proofs(headers: &HeaderMap) -> Vec<&[u8]> {
    headers
        .get_all("dpop")
        .iter()
        .map(|value| value.as_bytes())
        .collect()
}

async fn resource_metadata(State(mock): State<Mock>) -> Json<serde_json::Value> {
    Json(json!({"resource": format!("{}/mcp", mock.base), "authorization_servers": [mock.base]}))
}

async fn server_metadata(State(mock): State<Mock>) -> Json<serde_json::Value> {
    let base = &mock.base;
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "registration_endpoint": format!("{base}/register"),
        "code_challenge_methods_supported": ["S256"],
        "dpop_signing_alg_values_supported": ["ES256"],
    }))
}

async fn register() -> Response {
    (StatusCode::CREATED, Json(json!({"client_id": "client_1"}))).into_response()
}

async fn authorize(
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let location = format!(
        "{}?code=c0de&state={}",
        query["redirect_uri"], query["state"]
    );
    (StatusCode::FOUND, [("location", location)]).into_response()
}

async fn token(State(mock): State<Mock>, headers: HeaderMap) -> Response {
    let check = mock.instance(&mock.token_endpoint_nonces);
    match check.check_proof(proofs(&headers), "POST", &mock.url("/token")) {
        Ok(proof) => {
            mock.saw("token with nonce");
            *mock.jkt.lock().unwrap() = Some(proof.jkt().to_owned());
            Json(json!({"access_token": "at_1", "token_type": "DPoP", "expires_in": 3600}))
                .into_response()
        }
        Err(refused) => {
            mock.saw("token without nonce");
            (
                StatusCode::BAD_REQUEST,
                [("dpop-nonce", refused.dpop_nonce().unwrap().to_string())],
                Json(json!({"error": "use_dpop_nonce"})),
            )
                .into_response()
        }
    }
}

async fn mcp(State(mock): State<Mock>, headers: HeaderMap, body: String) -> Response {
    let method = serde_json::from_str::<serde_json::Value>(&body).unwrap_or_default()["method"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let token = AccessToken::new("at_1").unwrap();
    let jkt = mock.jkt.lock().unwrap().clone().unwrap_or_default();
    let bound =
        headers.get("authorization").map(|value| value.as_bytes()) == Some(b"DPoP at_1".as_slice());
    let check = mock.instance(&mock.resource_nonces);
    let checked =
        check.check_resource_request(proofs(&headers), "POST", &mock.url("/mcp"), &token, &jkt);
    if bound && checked.is_ok() {
        mock.saw(format!("mcp {method} with nonce"));
        return Json(json!({"jsonrpc": "2.0", "id": 1, "result": {}})).into_response();
    }
    mock.saw(format!("mcp {method} refused"));
    (
        StatusCode::UNAUTHORIZED,
        [
            (
                "www-authenticate",
                r#"DPoP error="use_dpop_nonce""#.to_owned(),
            ),
            ("dpop-nonce", check.nonce().unwrap().to_string()),
        ],
    )
        .into_response()
}

async fn start() -> Mock {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let mock = Mock {
        base,
        seen: Arc::default(),
        jkt: Arc::default(),
        clock: Arc::new(TestClock(Mutex::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        ))),
        token_endpoint_nonces: DatedNonces::new(DpopNonceSecret::generate()),
        resource_nonces: DatedNonces::new(DpopNonceSecret::generate()),
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
        .route("/mcp", post(mcp))
        .with_state(mock.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    mock
}

#[tokio::test]
async fn a_dpop_login_meets_both_servers_nonces() {
    let mock = start().await;
    let server = mock.url("/mcp");
    let challenge = format!(
        r#"DPoP resource_metadata="{}/.well-known/oauth-protected-resource/mcp""#,
        mock.base
    );
    let settings =
        McpClientSettings::new("Test agent", "http://127.0.0.1:1/callback".parse().unwrap())
            .clock(mock.clock.clone());
    let http = default_client().unwrap();
    let auth = McpAuth::new(
        http.clone(),
        settings,
        server.clone(),
        FollowRedirect::new(http.clone()),
    );
    assert_eq!(auth.unauthorized(None, &challenge).await.unwrap(), "at_1");
    let stored = auth.authorization().await.unwrap();
    assert_eq!(stored.token_type(), AccessTokenType::Dpop);

    let send = |headers: workos_connect::mcp::ResourceHeaders| {
        let http = http.clone();
        let server = server.clone();
        async move {
            http.post(server.as_str())
                .header("authorization", headers.authorization())
                .header("dpop", headers.dpop().unwrap().as_str())
                .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let first = auth
        .resource_headers("POST", &server)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(send(first.clone()).await, 401);
    // The refused request's nonce is asked for with a ping, then the request goes again with it.
    assert!(auth.resource_nonce_demanded(&server, &first).await);
    let second = auth
        .resource_headers("POST", &server)
        .await
        .unwrap()
        .unwrap();
    let held = second.nonce().unwrap().clone();
    assert_eq!(
        Some(&held),
        mock.instance(&mock.resource_nonces).nonce().as_ref()
    );
    assert_eq!(send(second.clone()).await, 200);
    // A demand the held nonce already met is the server's answer: no retry.
    assert!(!auth.resource_nonce_demanded(&server, &second).await);

    // Mid-session, the nonce held outlives its five minutes and the leeway: refused, the next
    // one learned the same way, and the session goes on with it.
    mock.clock.advance(Duration::from_secs(400));
    let third = auth
        .resource_headers("POST", &server)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.nonce(), Some(&held));
    assert_eq!(send(third.clone()).await, 401);
    assert!(auth.resource_nonce_demanded(&server, &third).await);
    let fourth = auth
        .resource_headers("POST", &server)
        .await
        .unwrap()
        .unwrap();
    let rolled: Option<&DpopNonce> = fourth.nonce();
    assert!(rolled.is_some() && rolled != Some(&held));
    assert_eq!(send(fourth).await, 200);
    assert_eq!(
        *mock.seen.lock().unwrap(),
        [
            "token without nonce",
            "token with nonce",
            "mcp tools/list refused",
            "mcp ping refused",
            "mcp tools/list with nonce",
            "mcp ping with nonce",
            "mcp tools/list refused",
            "mcp ping refused",
            "mcp tools/list with nonce",
        ]
    );
}

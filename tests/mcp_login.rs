//! The whole MCP login through `McpLogin`, sans-IO, against AuthKit's live metadata document
//! (`data/authkit/`): every request it hands out, and the answers a server would give.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use url::Url;
use workos_connect::oauth::{HttpMethod, HttpRequest};
use workos_connect::{
    mcp::{McpAuthorization, McpClientSettings, McpLogin, McpLoginError, McpLoginStep},
    registration::{ClientCredentials, TokenEndpointAuth},
};

const SERVER: &str = "https://mcp.example.com/mcp";
const ISSUER: &str = "https://fearless-network-26.authkit.app";
const CHALLENGE: &str = r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp:tools""#;

/// The moment the logins run at, by the settings' clock.
const NOW: u64 = 1_700_000_000;

fn at(unix_seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix_seconds)
}

fn settings() -> McpClientSettings {
    McpClientSettings::new(
        "Example Agent",
        "http://127.0.0.1:33418/callback".parse().unwrap(),
    )
    .clock(workos_connect::oauth::FixedClock(at(NOW)))
}

fn server() -> Url {
    SERVER.parse().unwrap()
}

fn resource_metadata() -> Vec<u8> {
    json!({"resource": SERVER, "authorization_servers": [ISSUER], "scopes_supported": ["mcp:tools"]})
        .to_string()
        .into_bytes()
}

fn sent(login: &McpLogin) -> HttpRequest {
    match login.step() {
        McpLoginStep::Send(request) => request.clone(),
        other => panic!("expected a request, got {other:?}"),
    }
}

fn authorize_url(login: &McpLogin) -> Url {
    match login.step() {
        McpLoginStep::Authorize(url) => url.clone(),
        other => panic!("expected the browser step, got {other:?}"),
    }
}

fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

fn form(request: &HttpRequest, name: &str) -> Option<String> {
    url::form_urlencoded::parse(request.body())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// From the browser step on: the callback with the URL's `state`, then the token answer.
fn finish(login: &mut McpLogin, access_token: &str) -> McpAuthorization {
    let url = authorize_url(login);
    let state = query(&url, "state").unwrap();
    let callback: Url =
        format!("http://127.0.0.1:33418/callback?code=c0de&state={state}&iss={ISSUER}")
            .parse()
            .unwrap();
    login.callback(&callback).unwrap();
    let token = sent(login);
    assert_eq!(token.method(), HttpMethod::Post);
    assert_eq!(token.url().as_str(), format!("{ISSUER}/oauth2/token"));
    assert_eq!(
        form(&token, "grant_type").as_deref(),
        Some("authorization_code")
    );
    assert_eq!(form(&token, "code").as_deref(), Some("c0de"));
    assert_eq!(form(&token, "resource").as_deref(), Some(SERVER));
    assert!(form(&token, "code_verifier").is_some_and(|verifier| verifier.len() == 43));
    let answer = json!({"access_token": access_token, "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt_1"});
    login.answer(200, answer.to_string().as_bytes()).unwrap();
    match login.step() {
        McpLoginStep::Done(authorization) => authorization.clone(),
        other => panic!("expected the end, got {other:?}"),
    }
}

#[test]
fn from_a_401_to_a_token_with_dynamic_registration() {
    let mut login = McpLogin::unauthorized(&settings(), &server(), &[CHALLENGE]).unwrap();

    let first = sent(&login);
    assert_eq!(first.method(), HttpMethod::Get);
    assert_eq!(
        first.url().as_str(),
        "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
    );
    login.answer(200, &resource_metadata()).unwrap();

    let metadata = sent(&login);
    assert_eq!(
        metadata.url().as_str(),
        format!("{ISSUER}/.well-known/oauth-authorization-server")
    );
    login
        .answer(
            200,
            include_bytes!("data/authkit/oauth-authorization-server.json"),
        )
        .unwrap();

    // AuthKit takes Client ID Metadata Documents, but this client has none: it registers.
    let registration = sent(&login);
    assert_eq!(registration.method(), HttpMethod::Post);
    assert_eq!(
        registration.url().as_str(),
        format!("{ISSUER}/oauth2/register")
    );
    let body: serde_json::Value = serde_json::from_slice(registration.body()).unwrap();
    assert_eq!(body["client_name"], "Example Agent");
    assert_eq!(body["application_type"], "native");
    login
        .answer(
            201,
            json!({"client_id": "client_01K5EXAMPLE"})
                .to_string()
                .as_bytes(),
        )
        .unwrap();

    let url = authorize_url(&login);
    assert_eq!(
        url.as_str().split('?').next(),
        Some(&*format!("{ISSUER}/oauth2/authorize"))
    );
    assert_eq!(
        query(&url, "client_id").as_deref(),
        Some("client_01K5EXAMPLE")
    );
    assert_eq!(query(&url, "resource").as_deref(), Some(SERVER));
    assert_eq!(
        query(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    // The challenge's scope, and `offline_access`, which AuthKit lists, for a refresh token.
    assert_eq!(
        query(&url, "scope").as_deref(),
        Some("mcp:tools offline_access")
    );

    let authorization = finish(&mut login, "at_1");
    assert_eq!(authorization.access_token().secret(), "at_1");
    assert_eq!(authorization.refresh_token().unwrap().secret(), "rt_1");
    assert_eq!(authorization.issuer().as_str(), ISSUER);
    assert_eq!(authorization.resource().as_str(), SERVER);
    assert_eq!(
        authorization.credentials().client_id().as_str(),
        "client_01K5EXAMPLE"
    );
    assert!(authorization.expires_at().is_some());
    let shown = format!("{authorization:?} {login:?}");
    assert!(
        !shown.contains("at_1") && !shown.contains("rt_1"),
        "{shown}"
    );
}

#[test]
fn the_well_known_fallbacks_are_tried_in_order() {
    // No `resource_metadata` in the challenge: the path-aware well-known URL, then the root one.
    let mut login =
        McpLogin::unauthorized(&settings(), &server(), &[r#"Bearer scope="mcp:tools""#]).unwrap();
    assert_eq!(
        sent(&login).url().as_str(),
        "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
    );
    login.answer(404, b"").unwrap();
    assert_eq!(
        sent(&login).url().as_str(),
        "https://mcp.example.com/.well-known/oauth-protected-resource"
    );
    // The root document names the origin as its resource.
    let root = json!({"resource": "https://mcp.example.com/", "authorization_servers": [ISSUER]});
    login.answer(200, root.to_string().as_bytes()).unwrap();
    let mut tried = Vec::new();
    let error = loop {
        tried.push(sent(&login).url().to_string());
        if let Err(error) = login.answer(404, b"") {
            break error;
        }
    };
    assert_eq!(
        tried,
        [
            format!("{ISSUER}/.well-known/oauth-authorization-server"),
            format!("{ISSUER}/.well-known/openid-configuration"),
        ]
    );
    assert!(
        matches!(error, McpLoginError::NoServerMetadata { .. }),
        "{error}"
    );
    assert!(matches!(login.step(), McpLoginStep::Failed));
}

#[test]
fn a_registration_for_another_server_is_not_used() {
    let elsewhere = ClientCredentials::pre_registered(
        "https://auth.example.net".parse().unwrap(),
        "client_elsewhere".parse().unwrap(),
        None,
        TokenEndpointAuth::None,
    )
    .unwrap();
    let own = public_client("client_own");
    for (settings, expected) in [
        (settings().registration(elsewhere.clone()), None),
        (
            settings().registration(elsewhere).registration(own),
            Some("client_own"),
        ),
    ] {
        let mut login = McpLogin::unauthorized(&settings, &server(), &[CHALLENGE]).unwrap();
        login.answer(200, &resource_metadata()).unwrap();
        login
            .answer(
                200,
                include_bytes!("data/authkit/oauth-authorization-server.json"),
            )
            .unwrap();
        match (login.step(), expected) {
            (McpLoginStep::Send(request), None) => {
                assert_eq!(request.url().as_str(), format!("{ISSUER}/oauth2/register"))
            }
            (McpLoginStep::Authorize(url), Some(client_id)) => {
                assert_eq!(query(url, "client_id").as_deref(), Some(client_id))
            }
            (step, expected) => panic!("{step:?} when expecting {expected:?}"),
        }
    }
}

#[test]
fn a_step_up_asks_for_the_scopes_asked_before_and_the_challenges() {
    let mut login = McpLogin::unauthorized(&settings(), &server(), &[CHALLENGE]).unwrap();
    login.answer(200, &resource_metadata()).unwrap();
    login
        .answer(
            200,
            include_bytes!("data/authkit/oauth-authorization-server.json"),
        )
        .unwrap();
    login
        .answer(
            201,
            json!({"client_id": "client_01K5EXAMPLE"})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
    let first = finish(&mut login, "at_1");

    let more = r#"Bearer error="insufficient_scope", scope="mcp:admin", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#;
    let mut step_up =
        McpLogin::insufficient_scope(&settings(), &server(), &[more], &first, login.step_up())
            .unwrap();
    step_up.answer(200, &resource_metadata()).unwrap();
    step_up
        .answer(
            200,
            include_bytes!("data/authkit/oauth-authorization-server.json"),
        )
        .unwrap();
    // The registration of the first login is used again: no second registration.
    let url = authorize_url(&step_up);
    assert_eq!(
        query(&url, "client_id").as_deref(),
        Some("client_01K5EXAMPLE")
    );
    let scope = query(&url, "scope").unwrap();
    for asked in ["mcp:tools", "mcp:admin", "offline_access"] {
        assert!(scope.split(' ').any(|token| token == asked), "{scope}");
    }
    let second = finish(&mut step_up, "at_2");
    assert_eq!(second.access_token().secret(), "at_2");
}

#[test]
fn a_callback_from_another_issuer_or_login_stops_it() {
    let mut login = McpLogin::unauthorized(&settings(), &server(), &[CHALLENGE]).unwrap();
    login.answer(200, &resource_metadata()).unwrap();
    login
        .answer(
            200,
            include_bytes!("data/authkit/oauth-authorization-server.json"),
        )
        .unwrap();
    login
        .answer(
            201,
            json!({"client_id": "client_01K5EXAMPLE"})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
    let url = authorize_url(&login);
    let state = query(&url, "state").unwrap();
    let mixed_up: Url =
        format!("http://127.0.0.1:33418/callback?code=c&state={state}&iss=https://evil.example")
            .parse()
            .unwrap();
    assert!(matches!(
        login.callback(&mixed_up),
        Err(McpLoginError::Callback(_))
    ));
    let forged: Url = "http://127.0.0.1:33418/callback?code=c&state=other"
        .parse()
        .unwrap();
    assert!(matches!(
        login.callback(&forged),
        Err(McpLoginError::Callback(_))
    ));
    // An answer when the login waits for the browser is refused, not taken.
    assert!(matches!(
        login.answer(200, b"{}"),
        Err(McpLoginError::OutOfOrder(_))
    ));
}

fn logged_in() -> McpAuthorization {
    let mut login = McpLogin::unauthorized(&settings(), &server(), &[CHALLENGE]).unwrap();
    login.answer(200, &resource_metadata()).unwrap();
    login
        .answer(
            200,
            include_bytes!("data/authkit/oauth-authorization-server.json"),
        )
        .unwrap();
    login
        .answer(
            201,
            json!({"client_id": "client_01K5EXAMPLE"})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
    finish(&mut login, "at_1")
}

#[test]
fn a_refresh_keeps_the_resource_and_takes_a_rotated_refresh_token() {
    let mut authorization = logged_in();
    let expires_at = authorization.expires_at().unwrap();
    // Dated by the settings' clock.
    assert_eq!(expires_at, NOW + 3600);
    assert!(!authorization.needs_refresh(at(expires_at - 60)));
    assert!(authorization.needs_refresh(at(expires_at - 10)));

    let request = authorization.refresh_request().unwrap();
    assert_eq!(request.url().as_str(), format!("{ISSUER}/oauth2/token"));
    assert_eq!(
        form(&request, "grant_type").as_deref(),
        Some("refresh_token")
    );
    assert_eq!(form(&request, "refresh_token").as_deref(), Some("rt_1"));
    assert_eq!(form(&request, "resource").as_deref(), Some(SERVER));
    assert_eq!(
        form(&request, "client_id").as_deref(),
        Some("client_01K5EXAMPLE")
    );

    // No rotation: the refresh token held stays.
    let answer = json!({"access_token": "at_2", "token_type": "Bearer", "expires_in": 60});
    authorization
        .refreshed(200, answer.to_string().as_bytes(), at(1_000))
        .unwrap();
    assert_eq!(authorization.access_token().secret(), "at_2");
    assert_eq!(authorization.expires_at(), Some(1_060));
    assert_eq!(authorization.refresh_token().unwrap().secret(), "rt_1");
    let rotated = json!({"access_token": "at_3", "token_type": "Bearer", "refresh_token": "rt_2"});
    authorization
        .refreshed(200, rotated.to_string().as_bytes(), at(1_000))
        .unwrap();
    assert_eq!(authorization.refresh_token().unwrap().secret(), "rt_2");
    // A refused refresh leaves the tokens as they were.
    let refused = json!({"error": "invalid_grant"});
    assert!(authorization
        .refreshed(400, refused.to_string().as_bytes(), at(1_000))
        .is_err());
    assert_eq!(authorization.access_token().secret(), "at_3");
}

#[test]
fn a_stored_authorization_comes_back_checked() {
    let authorization = logged_in();
    let stored = serde_json::to_string(&authorization).unwrap();
    let restored: McpAuthorization = serde_json::from_str(&stored).unwrap();
    assert_eq!(restored.access_token().secret(), "at_1");
    assert_eq!(restored.issuer().as_str(), ISSUER);
    assert_eq!(
        restored.refresh_request().unwrap().url(),
        authorization.refresh_request().unwrap().url()
    );
    // A store from before DPoP, without `token_type`, holds a bearer token.
    let mut before: serde_json::Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(before["token_type"], "Bearer");
    before.as_object_mut().unwrap().remove("token_type");
    let before: McpAuthorization = serde_json::from_value(before).unwrap();
    assert_eq!(
        before.token_type(),
        workos_connect::oauth::AccessTokenType::Bearer
    );
    // A store whose token endpoint was changed to plain http elsewhere is refused.
    let tampered = stored.replace(
        &format!("{ISSUER}/oauth2/token"),
        "http://evil.example/token",
    );
    assert_ne!(tampered, stored);
    assert!(serde_json::from_str::<McpAuthorization>(&tampered).is_err());
}

#[test]
fn a_client_logs_in_as_itself_with_its_secret() {
    let credentials = ClientCredentials::pre_registered(
        ISSUER.parse().unwrap(),
        "client_m2m".parse().unwrap(),
        Some(workos_connect::oauth::ClientSecret::new("sk_m2m").unwrap()),
        TokenEndpointAuth::ClientSecretBasic,
    )
    .unwrap();
    let settings = settings().registration(credentials).client_credentials();
    let mut login = McpLogin::unauthorized(&settings, &server(), &[CHALLENGE]).unwrap();
    login.answer(200, &resource_metadata()).unwrap();
    login
        .answer(
            200,
            include_bytes!("data/authkit/oauth-authorization-server.json"),
        )
        .unwrap();
    // No browser: the token request at once.
    let token = sent(&login);
    assert_eq!(
        form(&token, "grant_type").as_deref(),
        Some("client_credentials")
    );
    assert_eq!(form(&token, "resource").as_deref(), Some(SERVER));
    assert_eq!(form(&token, "scope").as_deref(), Some("mcp:tools"));
    let authorization = token
        .headers()
        .find(|(name, _)| *name == "authorization")
        .map(|(_, value)| value.to_owned());
    assert!(authorization.is_some_and(|value| value.starts_with("Basic ")));
    assert!(!format!("{token:?}").contains("sk_m2m"));
    let answer = json!({"access_token": "at_m2m", "token_type": "Bearer", "expires_in": 60});
    login.answer(200, answer.to_string().as_bytes()).unwrap();
    match login.step() {
        McpLoginStep::Done(authorization) => {
            assert_eq!(authorization.access_token().secret(), "at_m2m")
        }
        other => panic!("{other:?}"),
    }
}

/// AuthKit's metadata with a change, for servers that differ from it.
fn authkit_metadata_with(field: &str, value: serde_json::Value) -> Vec<u8> {
    let mut metadata: serde_json::Value = serde_json::from_slice(include_bytes!(
        "data/authkit/oauth-authorization-server.json"
    ))
    .unwrap();
    metadata[field] = value;
    metadata.to_string().into_bytes()
}

#[test]
fn a_client_registered_two_ways_uses_the_one_the_server_takes() {
    let secret = workos_connect::oauth::ClientSecret::new("sk_m2m").unwrap();
    let registered = |method| {
        ClientCredentials::pre_registered(
            ISSUER.parse().unwrap(),
            "client_m2m".parse().unwrap(),
            Some(secret.clone()),
            method,
        )
        .unwrap()
    };
    let settings = settings()
        .registration(registered(TokenEndpointAuth::ClientSecretPost))
        .registration(registered(TokenEndpointAuth::ClientSecretBasic))
        .client_credentials();
    let mut login = McpLogin::unauthorized(&settings, &server(), &[CHALLENGE]).unwrap();
    login.answer(200, &resource_metadata()).unwrap();
    let post_only = authkit_metadata_with(
        "token_endpoint_auth_methods_supported",
        json!(["client_secret_post"]),
    );
    login.answer(200, &post_only).unwrap();
    let token = sent(&login);
    assert_eq!(form(&token, "client_secret").as_deref(), Some("sk_m2m"));
    assert!(token.headers().all(|(name, _)| name != "authorization"));
}

#[test]
fn the_metadata_issuer_must_be_the_one_asked_for_letter_for_letter() {
    let mut login = McpLogin::unauthorized(&settings(), &server(), &[CHALLENGE]).unwrap();
    login.answer(200, &resource_metadata()).unwrap();
    // The same URL to a parser, but not the identifier the resource named.
    let slashed = authkit_metadata_with("issuer", json!(format!("{ISSUER}/")));
    assert!(matches!(
        login.answer(200, &slashed),
        Err(McpLoginError::ServerMetadata(_))
    ));
}

/// The login up to the token request, with AuthKit's metadata taking `methods`.
fn login_to_token(settings: &McpClientSettings, methods: serde_json::Value) -> McpLogin {
    let mut login = McpLogin::unauthorized(settings, &server(), &[CHALLENGE]).unwrap();
    login.answer(200, &resource_metadata()).unwrap();
    let metadata = authkit_metadata_with("token_endpoint_auth_methods_supported", methods);
    login.answer(200, &metadata).unwrap();
    login
}

fn done(login: &mut McpLogin, access_token: &str) -> McpAuthorization {
    let answer = json!({"access_token": access_token, "token_type": "Bearer", "expires_in": 60});
    login.answer(200, answer.to_string().as_bytes()).unwrap();
    match login.step() {
        McpLoginStep::Done(authorization) => authorization.clone(),
        other => panic!("expected the end, got {other:?}"),
    }
}

#[test]
fn a_client_logs_in_as_itself_with_its_private_key() {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    use workos_connect::registration::{ClientSigningKey, SigningAlgorithm};

    let key = ClientSigningKey::from_pem(
        SigningAlgorithm::Es256,
        include_bytes!("data/client-es256.pem"),
    )
    .unwrap();
    let credentials =
        ClientCredentials::private_key_jwt(ISSUER.parse().unwrap(), "svc_1".parse().unwrap(), key);
    let settings = settings().registration(credentials).client_credentials();
    let mut login = login_to_token(&settings, json!(["private_key_jwt"]));
    let token = sent(&login);
    assert_eq!(token.url().as_str(), format!("{ISSUER}/oauth2/token"));
    assert_eq!(
        form(&token, "grant_type").as_deref(),
        Some("client_credentials")
    );
    assert_eq!(form(&token, "resource").as_deref(), Some(SERVER));
    assert_eq!(form(&token, "client_id").as_deref(), Some("svc_1"));
    assert_eq!(
        form(&token, "client_assertion_type").as_deref(),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    assert!(token.headers().all(|(name, _)| name != "authorization"));
    // The assertion: signed by the key, for this issuer, about this client.
    let assertion = form(&token, "client_assertion").unwrap();
    let public = DecodingKey::from_ec_pem(include_bytes!("data/client-es256.pub.pem")).unwrap();
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[ISSUER]);
    validation.set_issuer(&["svc_1"]);
    // Dated by the settings' clock, long past.
    validation.validate_exp = false;
    let claims = jsonwebtoken::decode::<serde_json::Value>(&assertion, &public, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["sub"], "svc_1");
    assert_eq!(claims["iat"], NOW);
    assert!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap() <= 60);
    let authorization = done(&mut login, "at_key");
    // It is stored with its key, and a refresh signs a new assertion.
    let stored = serde_json::to_string(&authorization).unwrap();
    let restored: McpAuthorization = serde_json::from_str(&stored).unwrap();
    assert_eq!(
        restored.credentials().auth_method(),
        TokenEndpointAuth::PrivateKeyJwt
    );
    assert!(!format!("{restored:?}").contains("PRIVATE"));
}

#[test]
fn a_private_key_is_not_used_where_the_server_does_not_take_it() {
    use workos_connect::registration::{ClientSigningKey, SigningAlgorithm};

    let key = ClientSigningKey::from_pem(
        SigningAlgorithm::Es256,
        include_bytes!("data/client-es256.pem"),
    )
    .unwrap();
    let credentials =
        ClientCredentials::private_key_jwt(ISSUER.parse().unwrap(), "svc_1".parse().unwrap(), key);
    let settings = settings().registration(credentials).client_credentials();
    let mut login = McpLogin::unauthorized(&settings, &server(), &[CHALLENGE]).unwrap();
    login.answer(200, &resource_metadata()).unwrap();
    let refused = login.answer(
        200,
        include_bytes!("data/authkit/oauth-authorization-server.json"),
    );
    assert!(matches!(
        refused,
        Err(McpLoginError::Authorization(
            workos_connect::mcp::AuthorizationError::MethodNotSupported { .. }
        ))
    ));
}

#[test]
fn a_workload_logs_in_with_its_own_jwt() {
    let credentials = public_client("workload_1");
    let assertion = workos_connect::oauth::SecurityToken::new("eyJ.work+load/=.sig").unwrap();
    let settings = settings()
        .registration(credentials)
        .jwt_bearer(ISSUER.parse().unwrap(), assertion);
    let mut login = login_to_token(&settings, json!(["none"]));
    let token = sent(&login);
    // The exact body: the assertion percent-encoded, then the scope, the resource, the client.
    assert_eq!(
        std::str::from_utf8(token.body()).unwrap(),
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer\
         &assertion=eyJ.work%2Bload%2F%3D.sig&scope=mcp%3Atools\
         &resource=https%3A%2F%2Fmcp.example.com%2Fmcp&client_id=workload_1"
    );
    assert!(!format!("{token:?} {login:?}").contains("work+load"));
    // A refused assertion ends the login: no other grant is tried.
    let refused = login.answer(400, br#"{"error":"invalid_grant"}"#);
    assert!(matches!(refused, Err(McpLoginError::Token(_))));
    assert!(matches!(login.step(), McpLoginStep::Failed));
}

#[test]
fn an_enterprise_user_logs_in_with_an_id_jag_from_the_idp() {
    use workos_connect::mcp::EnterpriseIdp;
    use workos_connect::oauth::SecurityToken;

    let at_idp = ClientCredentials::pre_registered(
        "https://idp.example.com".parse().unwrap(),
        "idp-client".parse().unwrap(),
        None,
        TokenEndpointAuth::None,
    )
    .unwrap();
    let idp = EnterpriseIdp::new(
        "https://idp.example.com/token".parse().unwrap(),
        at_idp,
        SecurityToken::new("eyJ.id-token.sig").unwrap(),
    )
    .unwrap();
    let credentials = ClientCredentials::pre_registered(
        ISSUER.parse().unwrap(),
        "client_xaa".parse().unwrap(),
        Some(workos_connect::oauth::ClientSecret::new("sk_xaa").unwrap()),
        TokenEndpointAuth::ClientSecretBasic,
    )
    .unwrap();
    let settings = settings()
        .registration(credentials)
        .enterprise_managed(ISSUER.parse().unwrap(), idp);
    let mut login = login_to_token(&settings, json!(["client_secret_basic"]));
    // First the exchange at the IdP, with no secret of the MCP server's authorization server.
    let exchange = sent(&login);
    assert_eq!(exchange.url().as_str(), "https://idp.example.com/token");
    assert!(exchange.headers().all(|(name, _)| name != "authorization"));
    assert_eq!(
        std::str::from_utf8(exchange.body()).unwrap(),
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange\
         &subject_token=eyJ.id-token.sig\
         &subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aid_token\
         &requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aid-jag\
         &audience=https%3A%2F%2Ffearless-network-26.authkit.app\
         &resource=https%3A%2F%2Fmcp.example.com%2Fmcp&scope=mcp%3Atools&client_id=idp-client"
    );
    let id_jag = json!({"access_token": "eyJ.jag.sig", "issued_token_type": "urn:ietf:params:oauth:token-type:id-jag", "token_type": "N_A"});
    login.answer(200, id_jag.to_string().as_bytes()).unwrap();
    // Then the JWT bearer grant with the ID-JAG, authenticated as registered.
    let grant = sent(&login);
    assert_eq!(grant.url().as_str(), format!("{ISSUER}/oauth2/token"));
    assert_eq!(form(&grant, "assertion").as_deref(), Some("eyJ.jag.sig"));
    assert_eq!(
        form(&grant, "grant_type").as_deref(),
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    );
    assert!(grant
        .headers()
        .any(|(name, value)| name == "authorization" && value.starts_with("Basic ")));
    assert_eq!(done(&mut login, "at_xaa").access_token().secret(), "at_xaa");
}

/// A public client registered with the AuthKit issuer.
fn public_client(client_id: &str) -> ClientCredentials {
    ClientCredentials::pre_registered(
        ISSUER.parse().unwrap(),
        client_id.parse().unwrap(),
        None,
        TokenEndpointAuth::None,
    )
    .unwrap()
}

/// A confidential client of the AuthKit issuer, for the client credentials grant.
fn m2m_client() -> ClientCredentials {
    ClientCredentials::pre_registered(
        ISSUER.parse().unwrap(),
        "m2m".parse().unwrap(),
        Some(workos_connect::oauth::ClientSecret::new("sk_m2m").unwrap()),
        TokenEndpointAuth::ClientSecretPost,
    )
    .unwrap()
}

/// A JWT with these claims, its signature not checked by the client.
fn unsigned_jwt(claims: serde_json::Value) -> workos_connect::oauth::SecurityToken {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    workos_connect::oauth::SecurityToken::new(format!("{header}.{claims}.c2lnbmF0dXJl")).unwrap()
}

fn enterprise_idp() -> workos_connect::mcp::EnterpriseIdp {
    let at_idp = ClientCredentials::pre_registered(
        "https://idp.example.com".parse().unwrap(),
        "idp-client".parse().unwrap(),
        None,
        TokenEndpointAuth::None,
    )
    .unwrap();
    workos_connect::mcp::EnterpriseIdp::new(
        "https://idp.example.com/token".parse().unwrap(),
        at_idp,
        workos_connect::oauth::SecurityToken::new("eyJ.id-token.sig").unwrap(),
    )
    .unwrap()
}

/// Protected resource metadata naming `servers` as the MCP server's authorization servers.
fn resource_metadata_naming(servers: &[&str]) -> Vec<u8> {
    json!({"resource": SERVER, "authorization_servers": servers, "scopes_supported": ["mcp:tools"]})
        .to_string()
        .into_bytes()
}

#[test]
fn a_workloads_assertion_never_goes_to_a_server_the_mcp_server_names_in_its_place() {
    let assertion = workos_connect::oauth::SecurityToken::new("eyJ.workload.sig").unwrap();
    let settings = settings().jwt_bearer(ISSUER.parse().unwrap(), assertion);
    let mut login = McpLogin::unauthorized(&settings, &server(), &[CHALLENGE]).unwrap();
    // The MCP server names evil's authorization server: the login stops before fetching its
    // metadata, registering there or posting the assertion.
    let refused = login
        .answer(200, &resource_metadata_naming(&["https://evil.example"]))
        .unwrap_err();
    assert!(
        matches!(&refused, McpLoginError::UnboundServer { named, .. } if named.as_str() == "https://evil.example"),
        "{refused}"
    );
    let message = refused.to_string();
    assert!(message.contains("nothing was sent"), "{message}");
    // It names the server the credentials are bound to, not only the one the MCP server chose.
    assert!(message.contains(ISSUER), "{message}");
    assert!(matches!(login.step(), McpLoginStep::Failed));

    // Named beside evil, the bound server is chosen, wherever it stands in the list.
    let mut login = McpLogin::unauthorized(&settings, &server(), &[CHALLENGE]).unwrap();
    login
        .answer(
            200,
            &resource_metadata_naming(&["https://evil.example", ISSUER]),
        )
        .unwrap();
    assert!(sent(&login).url().as_str().starts_with(ISSUER));
}

#[test]
fn a_bound_login_checks_a_legacy_servers_issuer_before_registering() {
    // A server of the 2025-03-26 specification: no resource metadata, its origin is the issuer.
    let assertion = workos_connect::oauth::SecurityToken::new("eyJ.workload.sig").unwrap();
    let settings = settings().jwt_bearer(ISSUER.parse().unwrap(), assertion);
    let mut login = McpLogin::unauthorized(&settings, &server(), &[]).unwrap();
    while let McpLoginStep::Send(request) = login.step() {
        if request.url().path().contains("oauth-protected-resource") {
            login.answer(404, b"").unwrap();
            continue;
        }
        let refused = login.answer(404, b"").unwrap_err();
        assert!(
            matches!(&refused, McpLoginError::UnboundServer { named, .. } if named.as_str() == "https://mcp.example.com"),
            "{refused}"
        );
        return;
    }
    panic!("the login sent no metadata request");
}

#[test]
fn an_assertion_issued_for_another_server_is_not_sent() {
    let credentials = public_client("workload_1");
    let for_evil =
        unsigned_jwt(json!({"iss": "https://k8s.example", "aud": "https://evil.example"}));
    let bound = settings()
        .registration(credentials.clone())
        .jwt_bearer(ISSUER.parse().unwrap(), for_evil);
    let mut login = McpLogin::unauthorized(&bound, &server(), &[CHALLENGE]).unwrap();
    login.answer(200, &resource_metadata()).unwrap();
    let metadata = authkit_metadata_with("token_endpoint_auth_methods_supported", json!(["none"]));
    let refused = login.answer(200, &metadata).unwrap_err();
    assert!(
        matches!(&refused, McpLoginError::AssertionAudience { server } if server.as_str() == ISSUER),
        "{refused}"
    );
    // Its audience the issuer or the token endpoint: sent.
    for aud in [
        json!(ISSUER),
        json!(["x", format!("{ISSUER}/oauth2/token")]),
    ] {
        let assertion = unsigned_jwt(json!({"aud": aud}));
        let settings = settings()
            .registration(credentials.clone())
            .jwt_bearer(ISSUER.parse().unwrap(), assertion.clone());
        let login = login_to_token(&settings, json!(["none"]));
        assert_eq!(
            form(&sent(&login), "assertion").as_deref(),
            Some(assertion.secret())
        );
    }
}

#[test]
fn an_enterprise_login_asks_the_idp_only_for_its_own_server_and_checks_the_id_jag() {
    let bound = settings().enterprise_managed(ISSUER.parse().unwrap(), enterprise_idp());
    let mut login = McpLogin::unauthorized(&bound, &server(), &[CHALLENGE]).unwrap();
    let refused = login
        .answer(200, &resource_metadata_naming(&["https://evil.example"]))
        .unwrap_err();
    assert!(
        matches!(refused, McpLoginError::UnboundServer { .. }),
        "{refused}"
    );

    // An ID-JAG the IdP issued for another server is not redeemed here.
    let credentials = public_client("client_xaa");
    let settings = settings()
        .registration(credentials)
        .enterprise_managed(ISSUER.parse().unwrap(), enterprise_idp());
    let mut login = login_to_token(&settings, json!(["none"]));
    let id_jag = json!({
        "access_token": unsigned_jwt(json!({"aud": "https://evil.example"})).secret(),
        "issued_token_type": "urn:ietf:params:oauth:token-type:id-jag",
        "token_type": "N_A",
    });
    let refused = login
        .answer(200, id_jag.to_string().as_bytes())
        .unwrap_err();
    assert!(
        matches!(refused, McpLoginError::AssertionAudience { .. }),
        "{refused}"
    );
}

#[test]
fn client_credentials_go_only_to_the_server_a_confidential_registration_is_for() {
    let credentials = m2m_client();
    let settings = settings().registration(credentials).client_credentials();
    let mut login = McpLogin::unauthorized(&settings, &server(), &[CHALLENGE]).unwrap();
    let refused = login
        .answer(200, &resource_metadata_naming(&["https://evil.example"]))
        .unwrap_err();
    assert!(
        matches!(refused, McpLoginError::UnboundServer { .. }),
        "{refused}"
    );
}

#[test]
fn the_issuers_own_metadata_may_name_a_token_endpoint_elsewhere() {
    // RFC 8414 lets a server put its token endpoint on another host (as some large providers
    // do); the metadata is the issuer's own, fetched from it and naming it.
    let credentials = m2m_client();
    let settings = settings().registration(credentials).client_credentials();
    let mut login = McpLogin::unauthorized(&settings, &server(), &[CHALLENGE]).unwrap();
    login.answer(200, &resource_metadata()).unwrap();
    let mut metadata: serde_json::Value = serde_json::from_slice(&authkit_metadata_with(
        "token_endpoint",
        json!("https://tokens.authkit-edge.example/oauth2/token"),
    ))
    .unwrap();
    metadata["token_endpoint_auth_methods_supported"] = json!(["client_secret_post"]);
    login.answer(200, metadata.to_string().as_bytes()).unwrap();
    assert_eq!(
        sent(&login).url().as_str(),
        "https://tokens.authkit-edge.example/oauth2/token"
    );
}

#[test]
fn an_assertion_for_another_server_stops_the_login_before_it_registers() {
    let for_evil = unsigned_jwt(json!({"aud": "https://evil.example"}));
    let bound = settings().jwt_bearer(ISSUER.parse().unwrap(), for_evil);
    let mut login = McpLogin::unauthorized(&bound, &server(), &[CHALLENGE]).unwrap();
    login.answer(200, &resource_metadata()).unwrap();
    // Without a registration the login would register next; it stops instead.
    let metadata = authkit_metadata_with("token_endpoint_auth_methods_supported", json!(["none"]));
    let refused = login.answer(200, &metadata).unwrap_err();
    assert!(
        matches!(refused, McpLoginError::AssertionAudience { .. }),
        "{refused}"
    );
    assert!(matches!(login.step(), McpLoginStep::Failed));

    // A name the platform gives the server, given with the grant, is its audience too.
    let for_sts = unsigned_jwt(json!({"aud": "sts.authkit.example"}));
    let named = settings()
        .jwt_bearer(ISSUER.parse().unwrap(), for_sts)
        .assertion_audience("sts.authkit.example");
    let mut login = McpLogin::unauthorized(&named, &server(), &[CHALLENGE]).unwrap();
    login.answer(200, &resource_metadata()).unwrap();
    login.answer(200, &metadata).unwrap();
    assert!(matches!(login.step(), McpLoginStep::Send(_)));
}

#[test]
fn exchange_credentials_never_leave_their_issuer() {
    use workos_connect::{mcp::EnterpriseIdp, oauth::EndpointError};
    use workos_connect::{
        oauth::{SecurityToken, TokenType},
        token_exchange::{TokenExchange, TokenExchangeError},
    };

    let at_idp = ClientCredentials::pre_registered(
        "https://idp.example.com/tenant1".parse().unwrap(),
        "idp-client".parse().unwrap(),
        Some(workos_connect::oauth::ClientSecret::new("idp_secret").unwrap()),
        TokenEndpointAuth::ClientSecretBasic,
    )
    .unwrap();
    let id_token = SecurityToken::new("eyJ.id-token.sig").unwrap();
    for endpoint in [
        "https://evil.example/token",
        "https://idp.example.com/tenant10/token",
        "https://idp.example.com/token",
        "http://idp.example.com/tenant1/token",
    ] {
        let refused =
            EnterpriseIdp::new(endpoint.parse().unwrap(), at_idp.clone(), id_token.clone())
                .unwrap_err();
        assert!(
            matches!(
                refused,
                TokenExchangeError::Endpoint(EndpointError::NotIssuers { .. })
                    | TokenExchangeError::Endpoint(_)
            ),
            "{endpoint}: {refused}"
        );
        let refused = TokenExchange::new(id_token.clone(), TokenType::IdToken)
            .request(endpoint.parse().unwrap(), &at_idp)
            .unwrap_err();
        assert!(
            matches!(
                refused,
                TokenExchangeError::Endpoint(EndpointError::NotIssuers { .. })
                    | TokenExchangeError::Endpoint(_)
            ),
            "{endpoint}: {refused}"
        );
        assert!(!refused.to_string().contains("idp_secret"));
    }
    let ours: url::Url = "https://idp.example.com/tenant1/token".parse().unwrap();
    assert!(EnterpriseIdp::new(ours.clone(), at_idp.clone(), id_token.clone()).is_ok());
    assert!(TokenExchange::new(id_token, TokenType::IdToken)
        .request(ours, &at_idp)
        .is_ok());
}

#[test]
fn an_idp_that_issues_something_else_than_an_id_jag_stops_the_login() {
    use workos_connect::mcp::EnterpriseIdp;
    use workos_connect::oauth::SecurityToken;

    let at_idp = ClientCredentials::pre_registered(
        "https://idp.example.com".parse().unwrap(),
        "idp-client".parse().unwrap(),
        None,
        TokenEndpointAuth::None,
    )
    .unwrap();
    let idp = EnterpriseIdp::new(
        "https://idp.example.com/token".parse().unwrap(),
        at_idp,
        SecurityToken::new("eyJ.id-token.sig").unwrap(),
    )
    .unwrap();
    let credentials = public_client("client_xaa");
    let settings = settings()
        .registration(credentials)
        .enterprise_managed(ISSUER.parse().unwrap(), idp);
    let mut login = login_to_token(&settings, json!(["none"]));
    let access = json!({"access_token": "at", "issued_token_type": "urn:ietf:params:oauth:token-type:access_token", "token_type": "Bearer"});
    let error = login
        .answer(200, access.to_string().as_bytes())
        .unwrap_err();
    assert!(matches!(error, McpLoginError::NotIdJag { .. }), "{error}");
}

/// The DPoP proof of a request, its `DPoP` header.
fn dpop_proof(request: &HttpRequest) -> Vec<u8> {
    let proofs: Vec<&str> = request
        .headers()
        .filter(|(name, _)| *name == workos_connect::dpop::DPOP_HEADER)
        .map(|(_, value)| value)
        .collect();
    assert_eq!(proofs.len(), 1, "one DPoP header");
    proofs[0].as_bytes().to_vec()
}

#[test]
fn a_dpop_login_proves_its_key_retries_once_for_the_nonce_and_binds_the_token() {
    use workos_connect::dpop::{DatedNonces, DpopNonceSecret, DpopProofCheck, DPOP_HEADER};
    use workos_connect::{
        oauth::{AccessToken, AccessTokenType},
        TokenError,
    };

    // A server that takes only DPoP tokens challenges with `DPoP` alone.
    let dpop_only = r#"DPoP resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#;
    let mut login = McpLogin::unauthorized(&settings(), &server(), &[dpop_only]).unwrap();
    assert_eq!(
        sent(&login).url().as_str(),
        "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
    );
    login.answer(200, &resource_metadata()).unwrap();
    let metadata = authkit_metadata_with("dpop_signing_alg_values_supported", json!(["ES256"]));
    login.answer(200, &metadata).unwrap();
    // The registration request carries no proof: only token requests do.
    assert!(sent(&login).headers().all(|(name, _)| name != DPOP_HEADER));
    login
        .answer(
            201,
            json!({"client_id": "client_dpop"}).to_string().as_bytes(),
        )
        .unwrap();
    let state = query(&authorize_url(&login), "state").unwrap();
    let callback: Url =
        format!("http://127.0.0.1:33418/callback?code=c0de&state={state}&iss={ISSUER}")
            .parse()
            .unwrap();
    login.callback(&callback).unwrap();

    let token_url: Url = format!("{ISSUER}/oauth2/token").parse().unwrap();
    let first = sent(&login);
    let first_proof = DpopProofCheck::new()
        .clock(workos_connect::oauth::FixedClock(at(NOW)))
        .check_proof([dpop_proof(&first).as_slice()], "POST", &token_url)
        .unwrap();
    let with_nonce = DpopProofCheck::new()
        .clock(workos_connect::oauth::FixedClock(at(NOW)))
        .require_nonce(DatedNonces::new(DpopNonceSecret::generate()));
    let refused = with_nonce
        .check_proof([dpop_proof(&first).as_slice()], "POST", &token_url)
        .unwrap_err();
    let nonce = refused.dpop_nonce().unwrap();

    // The server wants its nonce: the same request again, with a new proof holding it.
    login
        .answer_with_dpop_nonce(
            400,
            [nonce.as_str().as_bytes()],
            br#"{"error":"use_dpop_nonce"}"#,
        )
        .unwrap();
    let second = sent(&login);
    assert_eq!(second.body(), first.body());
    let second_proof = with_nonce
        .check_proof([dpop_proof(&second).as_slice()], "POST", &token_url)
        .unwrap();
    assert_eq!(second_proof.jkt(), first_proof.jkt());
    assert_ne!(second_proof.jti(), first_proof.jti());

    let answer = json!({"access_token": "at_dpop", "token_type": "DPoP", "expires_in": 3600, "refresh_token": "rt_dpop"});
    login.answer(200, answer.to_string().as_bytes()).unwrap();
    let McpLoginStep::Done(authorization) = login.step() else {
        panic!("expected the end, got {:?}", login.step())
    };
    let mut authorization = authorization.clone();
    assert_eq!(authorization.token_type(), AccessTokenType::Dpop);
    let key = authorization.dpop_key().unwrap().clone();
    assert_eq!(key.thumbprint(), first_proof.jkt());

    // Each request to the MCP server: `Authorization: DPoP` and its own proof, bound to the token.
    let mcp: Url = format!("{SERVER}?session=1").parse().unwrap();
    let headers = authorization.resource_headers("POST", &mcp).unwrap();
    assert_eq!(headers.authorization(), "DPoP at_dpop");
    let token = AccessToken::new("at_dpop").unwrap();
    let proof = headers.dpop().unwrap();
    assert_eq!(proof.htu(), SERVER);
    DpopProofCheck::new()
        .clock(workos_connect::oauth::FixedClock(at(NOW)))
        .check_resource_request(
            [proof.as_str().as_bytes()],
            "POST",
            &server(),
            &token,
            key.thumbprint(),
        )
        .unwrap();

    // Stored and restored, the key and the binding come back; Debug shows neither key nor token.
    let stored = serde_json::to_string(&authorization).unwrap();
    let restored: McpAuthorization = serde_json::from_str(&stored).unwrap();
    assert_eq!(restored.dpop_key(), Some(&key));
    assert_eq!(restored.token_type(), AccessTokenType::Dpop);
    let d = serde_json::to_value(&key).unwrap()["d"]
        .as_str()
        .unwrap()
        .to_owned();
    let shown = format!("{authorization:?} {headers:?}");
    assert!(!shown.contains(&d) && !shown.contains("at_dpop"), "{shown}");

    // The refresh carries a proof with the token endpoint's latest nonce.
    let refresh = authorization.refresh_request().unwrap();
    with_nonce
        .check_proof([dpop_proof(&refresh).as_slice()], "POST", &token_url)
        .unwrap();
    // A new demand (the server's secret replaced, say) is handed back, its nonce kept for the next
    // refresh's proof.
    let replaced = DpopProofCheck::new()
        .clock(workos_connect::oauth::FixedClock(at(NOW)))
        .require_nonce(DatedNonces::new(DpopNonceSecret::generate()));
    let second_nonce = replaced.nonce().unwrap();
    assert_eq!(
        authorization.refreshed_with_dpop_nonce(
            400,
            [second_nonce.as_str().as_bytes()],
            br#"{"error":"use_dpop_nonce"}"#,
            at(1_000)
        ),
        Err(TokenError::UseDpopNonce)
    );
    let refresh = authorization.refresh_request().unwrap();
    replaced
        .check_proof([dpop_proof(&refresh).as_slice()], "POST", &token_url)
        .unwrap();
    // A refresh answered with a bearer token is a downgrade: refused, the bound token kept.
    let bearer =
        json!({"access_token": "at_bearer", "token_type": "Bearer", "refresh_token": "rt_rotated"});
    assert!(authorization.refresh_token().is_some());
    assert_eq!(
        authorization.refreshed(200, bearer.to_string().as_bytes(), at(1_000)),
        Err(TokenError::DpopDowngraded)
    );
    assert_eq!(authorization.token_type(), AccessTokenType::Dpop);
    assert_eq!(authorization.access_token().secret(), "at_dpop");
    // And the refreshes end: the answer may have rotated the refresh token, so the one held may
    // be spent, and redeeming it again could revoke the family. Log in again.
    assert!(authorization.refresh_token().is_none());
    assert!(authorization.refresh_request().is_none());
}

#[test]
fn a_login_that_sent_a_proof_refuses_a_bearer_token() {
    use workos_connect::TokenError;

    let bearer = json!({"access_token": "at", "token_type": "Bearer"});
    // With the client's own key, and no DPoP in the metadata.
    let settings = m2m_settings().dpop_key(workos_connect::dpop::DpopKey::generate());
    let mut login = login_to_token(&settings, json!(["client_secret_basic"]));
    assert!(!dpop_proof(&sent(&login)).is_empty());
    assert!(matches!(
        login.answer(200, bearer.to_string().as_bytes()),
        Err(McpLoginError::Token(TokenError::DpopDowngraded))
    ));
    assert!(matches!(login.step(), McpLoginStep::Failed));
    // With a key of its own, where both servers advertise DPoP.
    let both = format!("{CHALLENGE}, DPoP algs=\"ES256\"");
    let mut login = McpLogin::unauthorized(&m2m_settings(), &server(), &[both.as_str()]).unwrap();
    login.answer(200, &resource_metadata()).unwrap();
    let metadata = authkit_metadata_with("dpop_signing_alg_values_supported", json!(["ES256"]));
    login.answer(200, &metadata).unwrap();
    assert!(!dpop_proof(&sent(&login)).is_empty());
    assert!(matches!(
        login.answer(200, bearer.to_string().as_bytes()),
        Err(McpLoginError::Token(TokenError::DpopDowngraded))
    ));
}

/// A pre-registered client logging in as itself with a secret (client credentials).
fn m2m_settings() -> McpClientSettings {
    settings()
        .registration(
            ClientCredentials::pre_registered(
                ISSUER.parse().unwrap(),
                "client_m2m".parse().unwrap(),
                Some(workos_connect::oauth::ClientSecret::new("sk_m2m").unwrap()),
                TokenEndpointAuth::ClientSecretBasic,
            )
            .unwrap(),
        )
        .client_credentials()
}

#[test]
fn a_second_nonce_demand_at_the_token_endpoint_stops_the_login() {
    let settings = m2m_settings().dpop_key(workos_connect::dpop::DpopKey::generate());
    // No DPoP in the metadata, but the client's own key: proofs all the same.
    let mut login = login_to_token(&settings, json!(["client_secret_basic"]));
    let demand = br#"{"error":"use_dpop_nonce"}"#;
    assert!(!dpop_proof(&sent(&login)).is_empty());
    login
        .answer_with_dpop_nonce(400, [b"n-1".as_slice()], demand)
        .unwrap();
    assert!(!dpop_proof(&sent(&login)).is_empty());
    let error = login
        .answer_with_dpop_nonce(400, [b"n-2".as_slice()], demand)
        .unwrap_err();
    assert!(
        matches!(
            error,
            McpLoginError::Token(workos_connect::TokenError::UseDpopNonce)
        ),
        "{error}"
    );
    assert!(matches!(login.step(), McpLoginStep::Failed));
}

#[test]
fn without_dpop_the_login_sends_no_proof_and_refuses_a_dpop_token() {
    let settings = m2m_settings().without_dpop();
    let mut login = McpLogin::unauthorized(&settings, &server(), &[CHALLENGE]).unwrap();
    login.answer(200, &resource_metadata()).unwrap();
    let metadata = authkit_metadata_with("dpop_signing_alg_values_supported", json!(["ES256"]));
    login.answer(200, &metadata).unwrap();
    let token = sent(&login);
    assert!(token
        .headers()
        .all(|(name, _)| name != workos_connect::dpop::DPOP_HEADER));
    let answer = json!({"access_token": "at", "token_type": "DPoP"});
    assert!(matches!(
        login.answer(200, answer.to_string().as_bytes()),
        Err(McpLoginError::Token(
            workos_connect::TokenError::DpopWithoutProof
        ))
    ));
}

#[test]
fn dpop_is_used_by_default_only_where_the_mcp_server_takes_it_too() {
    use workos_connect::dpop::DPOP_HEADER;

    let settings = m2m_settings();
    let metadata = authkit_metadata_with("dpop_signing_alg_values_supported", json!(["ES256"]));
    let token_request = |challenge: &str, resource_metadata: serde_json::Value| {
        let mut login = McpLogin::unauthorized(&settings, &server(), &[challenge]).unwrap();
        login
            .answer(200, resource_metadata.to_string().as_bytes())
            .unwrap();
        login.answer(200, &metadata).unwrap();
        sent(&login)
    };
    let has_proof = |request: &HttpRequest| request.headers().any(|(name, _)| name == DPOP_HEADER);
    let plain = json!({"resource": SERVER, "authorization_servers": [ISSUER]});

    // A Bearer-only server would refuse a bound token sent without its proof: bearer tokens.
    assert!(!has_proof(&token_request(CHALLENGE, plain.clone())));
    // A server that challenges with DPoP too, or whose metadata lists ES256 proofs: DPoP.
    let both = format!("{CHALLENGE}, DPoP algs=\"ES256\"");
    assert!(has_proof(&token_request(&both, plain.clone())));
    let mut listed = plain.clone();
    listed["dpop_signing_alg_values_supported"] = json!(["ES256"]);
    assert!(has_proof(&token_request(CHALLENGE, listed)));
    let mut required = plain;
    required["dpop_bound_access_tokens_required"] = json!(true);
    assert!(has_proof(&token_request(CHALLENGE, required)));
}

//! A second authorization server, independent of oidc-provider: django-oauth-toolkit 3.4.1
//! (Django), pinned with hashes in `python/django/requirements.txt` and served by the minimal
//! project beside it (`python/django/serve.py`): OpenID Connect with an RSA key made at start
//! (RS256), PKCE required, refresh tokens rotated (a rotated one sent again revokes the grant),
//! every RFC 9700 gate on, opaque access tokens checked through RFC 7662 introspection, and the
//! device authorization grant. Its endpoints are mounted at an AuthKit domain's paths
//! (`/oauth2/...`), so that `AuthKitDomain` names them, and its issuer is its origin.
//!
//! Where the toolkit departs from the specifications, the scenario asserts what it does and says
//! why, or works around it in the project's configuration and says where:
//!
//! - RFC 9207 section 2: the authorization response carries `iss` with a code but not with an
//!   error such as `access_denied` (django-oauth/django-oauth-toolkit#1846), so a client requiring
//!   `iss` refuses that answer (asserted).
//! - OpenID Connect Core sections 2 and 12.2: `auth_time` is the user's latest login anywhere
//!   (Django's `last_login`), so once the user logs in again elsewhere, the next refreshed ID token
//!   names that login, not the authentication the grant came from, and the crate refuses it
//!   (asserted). Each scenario logging in through the pages has its own user for that reason.
//! - RFC 7662 section 2.3: introspection with refused client credentials answers `403` with an
//!   empty body, not `401` (asserted).
//! - RFC 8628 section 4 with RFC 8414: the metadata lists the device code grant but not its
//!   `device_authorization_endpoint`; a client finds it only by knowing the path (asserted; the
//!   scenario uses AuthKit's path, where the project mounts it).
//! - RFC 8414 section 2: `token_endpoint_auth_methods_supported` leaves out `none` although public
//!   clients (PKCE, device) log in without a secret (asserted).
//! - With oauthlib 4.0, which the toolkit's dependency range allows, its device authorization
//!   endpoint answers HTTP 500 (oauthlib/oauthlib#965 adds `scope` to the response, which the
//!   toolkit's `DeviceCodeResponse` does not take): the requirements pin oauthlib 3.3.1.
//! - OpenID Connect Discovery section 3: `claims_supported` lists only `sub` when the project's
//!   claims hook reads the request; `python/django/provider/claims.py` uses the form it lists.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use url::Url;
use workos_connect::authkit::{Userinfo, UserinfoRequest};
use workos_connect::device::{DeviceClient, DeviceError, DeviceLogin, Poll};
use workos_connect::discovery::AuthorizationServerMetadata;
use workos_connect::mcp::{AuthorizationClient, AuthorizationError};
use workos_connect::oauth::{
    AccessToken, AccessTokenType, ClientSecret, Clock, ErrorCode, Issuer, OAuthError, Resource,
    ScopeList, SystemClock, TokenRequest,
};
use workos_connect::registration::{ClientCredentials, TokenEndpointAuth};
use workos_connect::resource_server::{
    introspection_request, AccessTokenCheck, AccessTokenError, Introspection, IntrospectionError,
};
use workos_connect::{
    AuthKitDomain, CallbackError, ConnectClient, IdTokenError, Scope, Scopes, TokenError,
    TokenResponse,
};

use super::{
    app_callback, built, first_line, free_port, log_file, me, poll, poll_until_done, post, python,
    Browser, ProcessGuard, REDIRECT_URI,
};

/// A user the project creates: its name (its password is `<name>-password`, its email
/// `<name>@example.com`) and the `sub` the toolkit gives it, its primary key. Each scenario that
/// logs in through the pages has its own, since the toolkit's `auth_time` is the user's latest
/// login anywhere.
struct User {
    name: &'static str,
    sub: &'static str,
}

const WEB_USER: User = User {
    name: "user_01",
    sub: "1",
};
const REFRESH_USER: User = User {
    name: "user_02",
    sub: "2",
};
const DEVICE_USER: User = User {
    name: "user_03",
    sub: "3",
};

impl User {
    fn email(&self) -> String {
        format!("{}@example.com", self.name)
    }

    /// The fields of the toolkit's login form.
    fn credentials(&self) -> [(String, String); 2] {
        [
            ("username".into(), self.name.into()),
            ("password".into(), format!("{}-password", self.name)),
        ]
    }
}

/// django-oauth-toolkit, started once for every scenario; it ends when the test binary exits and
/// its stdin closes.
struct Toolkit {
    issuer: String,
    /// Where the axum-login example listens; its callback is registered for `web-app`.
    app_port: u16,
    _stdin: std::process::ChildStdin,
}

fn toolkit() -> &'static Toolkit {
    static TOOLKIT: OnceLock<Result<Toolkit, String>> = OnceLock::new();
    match TOOLKIT.get_or_init(start_toolkit) {
        Ok(toolkit) => toolkit,
        Err(reason) => panic!("django-oauth-toolkit did not start: {reason}"),
    }
}

fn start_toolkit() -> Result<Toolkit, String> {
    let python = python::python_env("django")?;
    let project = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/django");
    // A fresh database for every run, in a directory of its own.
    let data = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("django-oauth-toolkit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
    let app_port = free_port();
    let mut child = Command::new(python)
        .arg("serve.py")
        .current_dir(&project)
        .env("DATA_DIR", &data)
        .env(
            "REDIRECT_URIS",
            format!("{} {REDIRECT_URI}", app_callback(app_port)),
        )
        // No __pycache__ in the source tree.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(log_file("interop-django.log"))
        .spawn()
        .map_err(|e| format!("cannot start serve.py: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout from serve.py")?;
    let stdin = child.stdin.take().ok_or("no stdin for serve.py")?;
    let guard = ProcessGuard(child);
    let mut stdout = BufReader::new(stdout);
    let mut line = String::new();
    stdout
        .read_line(&mut line)
        .map_err(|e| format!("reading serve.py's output: {e}"))?;
    let issuer = line
        .trim()
        .strip_prefix("listening ")
        .ok_or_else(|| format!("serve.py did not start (see interop-django.log): {line:?}"))?
        .to_owned();
    std::mem::forget(guard);
    Ok(Toolkit {
        issuer,
        app_port,
        _stdin: stdin,
    })
}

impl Toolkit {
    fn issuer(&self) -> Issuer {
        Issuer::new(&self.issuer).unwrap()
    }

    fn domain(&self) -> AuthKitDomain {
        AuthKitDomain::parse(&self.issuer).unwrap()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// The RFC 8414 metadata, read with the crate's checks.
    fn metadata(&self) -> AuthorizationServerMetadata {
        let issuer = self.issuer();
        let urls = AuthorizationServerMetadata::well_known_urls(issuer.url());
        assert_eq!(urls[0].path(), "/.well-known/oauth-authorization-server");
        let answer = Browser::new().get(urls[0].as_str());
        assert_eq!(answer.status, 200, "{}", urls[0]);
        AuthorizationServerMetadata::parse(&answer.body, &issuer).unwrap()
    }

    /// A confidential client's credentials: its secret is `<client_id>-secret`.
    fn credentials(&self, client_id: &str, auth: TokenEndpointAuth) -> ClientCredentials {
        let secret = ClientSecret::new(format!("{client_id}-secret")).unwrap();
        ClientCredentials::pre_registered(
            self.issuer(),
            client_id.parse().unwrap(),
            Some(secret),
            auth,
        )
        .unwrap()
    }
}

/// The attributes of each `<input>` of a page's first form, HTML entities decoded.
fn inputs(page: &str) -> Vec<Vec<(String, String)>> {
    let form = page.split("</form>").next().unwrap_or(page);
    form.split("<input")
        .skip(1)
        .map(|tag| {
            let tag = tag.split('>').next().unwrap_or_default();
            tag.split('"')
                .collect::<Vec<_>>()
                .chunks(2)
                .filter_map(|pair| {
                    let name = pair[0].trim().strip_suffix('=')?;
                    Some((name.trim().to_owned(), unescape(pair.get(1)?)))
                })
                .collect()
        })
        .collect()
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The hidden fields of a page's first form, in order.
fn hidden(page: &str) -> Vec<(String, String)> {
    inputs(page)
        .into_iter()
        .filter(|attributes| attributes.iter().any(|(k, v)| k == "type" && v == "hidden"))
        .filter_map(|attributes| {
            let field = |name: &str| {
                let found = attributes.iter().find(|(k, _)| k == name);
                found.map(|(_, v)| v.clone())
            };
            Some((field("name")?, field("value").unwrap_or_default()))
        })
        .collect()
}

/// Where a page's first form posts: its `action`, or the page itself without one.
fn action(page: &str, url: &Url) -> Url {
    let form = page.split("<form").nth(1).expect("a form on the page");
    let tag = form.split('>').next().unwrap_or_default();
    match tag
        .split("action=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
    {
        Some(action) if !action.is_empty() => url.join(&unescape(action)).unwrap(),
        _ => url.clone(),
    }
}

/// What the user does on the toolkit's consent and device pages.
#[derive(Clone, Copy, PartialEq)]
enum Answer {
    Allow,
    Deny,
}

/// The user's part of a login: from `start`, the toolkit's login form (Django's, with its CSRF
/// token and the session cookie carried in `http`) and its consent form, until it sends the
/// browser to `redirect_uri`; that URL.
fn log_in(http: &Browser, start: &str, redirect_uri: &str, user: &User, answer: Answer) -> Url {
    let mut url = Url::parse(start).unwrap();
    let mut form: Option<Vec<(String, String)>> = None;
    for _ in 0..10 {
        let sent = match form.take() {
            Some(fields) => http.post_form(&url, &fields),
            None => http.get(url.as_str()),
        };
        if let Some(location) = sent.location.as_deref() {
            url = url.join(location).unwrap();
            if url.as_str().starts_with(redirect_uri) {
                return url;
            }
            continue;
        }
        let page = String::from_utf8(sent.body).unwrap();
        assert_eq!(sent.status, 200, "{url}: {page}");
        let mut fields = hidden(&page);
        if page.contains("name=\"password\"") {
            fields.extend(user.credentials());
        } else if page.contains("id=\"authorizationForm\"") {
            // The consent form: its `allow` button authorizes, the other cancels.
            if answer == Answer::Allow {
                fields.push(("allow".into(), "Authorize".into()));
            }
        } else {
            panic!("neither a login nor a consent page at {url}: {page}");
        }
        url = action(&page, &url);
        form = Some(fields);
    }
    panic!("the toolkit never redirected to {redirect_uri}");
}

/// OpenID Connect Discovery and RFC 8414 metadata name the endpoints an AuthKit domain derives;
/// both say the authorization response carries `iss` (RFC 9207).
fn discovery_names_the_authkit_endpoints(toolkit: &Toolkit) {
    let issuer = toolkit.issuer();
    let domain = toolkit.domain();
    let answer = Browser::new().get(&toolkit.url("/.well-known/openid-configuration"));
    assert_eq!(answer.status, 200);
    let openid = AuthorizationServerMetadata::parse(&answer.body, &issuer).unwrap();
    for metadata in [openid, toolkit.metadata()] {
        assert_eq!(metadata.authorization_endpoint, domain.authorize_endpoint());
        assert_eq!(metadata.token_endpoint, domain.token_endpoint());
        assert_eq!(metadata.jwks_uri.as_ref(), Some(&domain.jwks_endpoint()));
        assert!(metadata.authorization_response_iss_parameter_supported);
    }
    let openid: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(
        openid["userinfo_endpoint"],
        domain.userinfo_endpoint().as_str()
    );
    assert!(
        openid["id_token_signing_alg_values_supported"]
            .as_array()
            .unwrap()
            .contains(&"RS256".into()),
        "{openid}"
    );
    for claim in ["sub", "email", "given_name"] {
        assert!(
            openid["claims_supported"]
                .as_array()
                .unwrap()
                .contains(&claim.into()),
            "{claim}: {openid}"
        );
    }
}

/// The axum-login example, built and started against the toolkit for `web-app` (public: PKCE).
fn start_app(toolkit: &Toolkit) -> ProcessGuard {
    let mut child = Command::new(built("axum-login"))
        .args(["--domain", &toolkit.issuer, "--client-id", "web-app"])
        .args(["--redirect-uri", &app_callback(toolkit.app_port)])
        .args(["--listen", &format!("127.0.0.1:{}", toolkit.app_port)])
        .env_remove("WORKOS_CLIENT_SECRET")
        .env_remove("REDIS_URL")
        .stderr(Stdio::piped())
        .spawn()
        .expect("axum-login starts");
    let stderr = child.stderr.take().expect("its stderr");
    let guard = ProcessGuard(child);
    first_line(stderr, "axum-login", "serving");
    guard
}

/// The web login with the axum-login example: discovery, the toolkit's login and consent pages,
/// the ID token's checks (RS256), the signed-in page, two renewals with rotated refresh tokens
/// (the second would revoke the grant if the example sent the first refresh token again), logout.
pub(super) fn django_axum_login_signs_in_refreshes_and_signs_out() {
    let toolkit = toolkit();
    discovery_names_the_authkit_endpoints(toolkit);
    let _app = start_app(toolkit);
    let http = Browser::new();
    let app = |path: &str| format!("http://127.0.0.1:{}{path}", toolkit.app_port);
    let page = |path: &str| String::from_utf8(http.get(&app(path)).body).unwrap();
    assert!(page("/").contains("Log in"));

    let login = http.get(&app("/login"));
    assert_eq!(login.status, 303);
    let authorize = login.location.expect("a redirect to the toolkit");
    assert!(authorize.starts_with(toolkit.domain().authorize_endpoint().as_str()));
    assert!(
        authorize.contains("code_challenge_method=S256"),
        "{authorize}"
    );
    let callback = log_in(
        &http,
        &authorize,
        &app_callback(toolkit.app_port),
        &WEB_USER,
        Answer::Allow,
    );
    assert!(
        callback
            .query_pairs()
            .any(|(k, v)| k == "iss" && v == toolkit.issuer),
        "RFC 9207: {callback}"
    );
    let finished = http.get(callback.as_str());
    let body = String::from_utf8_lossy(&finished.body).into_owned();
    assert_eq!(finished.status, 303, "{body}");
    assert!(
        page("/").contains(&format!(
            "Signed in as {} ({})",
            WEB_USER.email(),
            WEB_USER.sub
        )),
        "{}",
        page("/")
    );
    let before = me(&http, &app("/me"));
    let claims = &before["claims"];
    assert_eq!(claims["iss"], toolkit.issuer);
    assert_eq!(claims["sub"], WEB_USER.sub);
    assert_eq!(claims["given_name"], "Ada");
    assert!(claims["auth_time"].is_u64(), "{claims}");

    let form = "application/x-www-form-urlencoded";
    let mut seen = vec![before["access_token_sha256"].clone()];
    for _ in 0..2 {
        let refreshed = http.post(&app("/refresh"), form, String::new());
        let body = String::from_utf8_lossy(&refreshed.body).into_owned();
        assert_eq!(refreshed.status, 303, "{body}");
        assert!(page("/").contains(&format!("Signed in as {}", WEB_USER.email())));
        let after = me(&http, &app("/me"));
        assert_eq!(after["claims"]["sub"], WEB_USER.sub);
        assert!(
            !seen.contains(&after["access_token_sha256"]),
            "each renewal gives a new access token"
        );
        seen.push(after["access_token_sha256"].clone());
    }

    let signed_out = http.post(&app("/logout"), form, String::new());
    assert_eq!(signed_out.status, 303);
    assert!(page("/").contains("Log in"));
    assert_eq!(http.get(&app("/me")).status, 401);
    assert_eq!(http.post(&app("/refresh"), form, String::new()).status, 401);
}

/// The crate's own login against the toolkit, without the example: the ID token (RS256, `nonce`,
/// `iss`, `aud`, the email and profile claims), then refresh tokens rotated: a refreshed ID token
/// passes the checks of OpenID Connect Core section 12.2, and the first refresh token sent again is
/// refused and revokes the grant, the latest with it (RFC 9700 section 4.14.2).
///
/// Expected failures, each the toolkit's: once the user has logged in again elsewhere, the next
/// refreshed ID token carries that login's `auth_time` (the toolkit gives the user's
/// `last_login`), not the time of the authentication the grant came from (OpenID Connect Core
/// sections 2 and 12.2), and the crate refuses it; and a refused consent comes back as
/// `access_denied` without the `iss` RFC 9207 section 2 requires in error responses too
/// (django-oauth/django-oauth-toolkit#1846), so a client requiring `iss` refuses the answer.
pub(super) fn django_refresh_tokens_rotate_and_a_reused_one_revokes_the_grant() {
    let toolkit = toolkit();
    let user = &REFRESH_USER;
    let http = Browser::new();
    let client = ConnectClient::new(
        toolkit.domain(),
        "web-app".parse().unwrap(),
        REDIRECT_URI.parse().unwrap(),
    );
    let (redirect, pending) = client
        .authorize()
        .scopes(Scopes::ALL)
        .with_pkce()
        .build()
        .unwrap();
    let callback = log_in(&http, redirect.as_str(), REDIRECT_URI, user, Answer::Allow);
    let code = pending
        .callback()
        .require_issuer()
        .check_url(&callback)
        .unwrap();
    let tokens = post(&http, &client.token_request(&pending, &code).unwrap()).unwrap();
    assert_eq!(tokens.token_type, AccessTokenType::Bearer);
    let keys = super::jwks(&http, &client);
    let claims = pending
        .id_token()
        .validate(tokens.id_token.as_ref().expect("an ID token"), &keys)
        .unwrap();
    assert_eq!(claims.iss, toolkit.issuer);
    assert_eq!(claims.aud, ["web-app"]);
    assert_eq!(claims.sub, user.sub);
    assert_eq!(claims.nonce.as_deref(), Some(pending.nonce().secret()));
    assert_eq!(claims.email, Some(user.email()));
    assert_eq!(claims.email_verified, Some(true));
    assert_eq!(claims.given_name.as_deref(), Some("Ada"));

    let first = tokens.refresh_token.expect("a refresh token");
    let refreshed = post(&http, &client.refresh_request(&first)).unwrap();
    let second = refreshed.refresh_token.expect("a rotated refresh token");
    assert_ne!(second.secret(), first.secret(), "ROTATE_REFRESH_TOKEN");
    assert_ne!(
        refreshed.access_token.secret(),
        tokens.access_token.secret()
    );
    let id_token = refreshed.id_token.as_ref().expect("a refreshed ID token");
    let again = client
        .refreshed_id_token(&claims)
        .validate(id_token, &keys)
        .unwrap();
    assert_eq!(again.sub, user.sub);

    // The same user logs in on another browser, in a later second than `auth_time`.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let elsewhere = Browser::new();
    let login_page = toolkit.url("/accounts/login/");
    let page = String::from_utf8(elsewhere.get(&login_page).body).unwrap();
    let mut fields = hidden(&page);
    fields.extend(user.credentials());
    let logged_in = elsewhere.post_form(&Url::parse(&login_page).unwrap(), &fields);
    assert_eq!(logged_in.status, 302, "the second login");
    let refreshed = post(&http, &client.refresh_request(&second)).unwrap();
    let third = refreshed.refresh_token.expect("a rotated refresh token");
    let id_token = refreshed.id_token.as_ref().expect("a refreshed ID token");
    assert_eq!(
        client
            .refreshed_id_token(&claims)
            .validate(id_token, &keys)
            .unwrap_err(),
        IdTokenError::RefreshMismatch { claim: "auth_time" },
        "django-oauth-toolkit gives the latest login's auth_time, not the grant's"
    );

    let invalid_grant = |refused: TokenError| {
        assert!(
            matches!(
                &refused,
                TokenError::Endpoint(OAuthError {
                    code: ErrorCode::InvalidGrant,
                    ..
                })
            ),
            "{refused:?}"
        )
    };
    invalid_grant(post(&http, &client.refresh_request(&first)).unwrap_err());
    invalid_grant(post(&http, &client.refresh_request(&third)).unwrap_err());

    let (redirect, pending) = client
        .authorize()
        .scopes(Scopes::from(Scope::OpenId))
        .with_pkce()
        .build()
        .unwrap();
    let callback = log_in(&http, redirect.as_str(), REDIRECT_URI, user, Answer::Deny);
    assert!(
        callback.query_pairs().all(|(name, _)| name != "iss"),
        "{callback}"
    );
    assert_eq!(
        pending
            .callback()
            .require_issuer()
            .check_url(&callback)
            .unwrap_err(),
        CallbackError::MissingIssuer
    );
    match pending.callback().check_url(&callback) {
        Err(CallbackError::Authorization(error)) => {
            assert_eq!(error.code, ErrorCode::AccessDenied)
        }
        other => panic!("expected access_denied, got {other:?}"),
    }
}

/// A machine's token from the `client_credentials` grant, for `resource` (RFC 8707) if given.
fn machine_token(toolkit: &Toolkit, scopes: &str, resource: Option<&Resource>) -> AccessToken {
    let client = AuthorizationClient::new(
        &toolkit.metadata(),
        toolkit.credentials("api-client", TokenEndpointAuth::ClientSecretBasic),
    )
    .unwrap();
    let request = client
        .client_credentials_request(&scopes.parse().unwrap(), resource)
        .unwrap();
    post(&Browser::new(), &request).unwrap().access_token
}

/// The RFC 7662 answer about `token`, asked with `credentials`.
fn introspect(
    toolkit: &Toolkit,
    credentials: &ClientCredentials,
    token: &AccessToken,
) -> Result<Introspection, IntrospectionError> {
    let endpoint: Url = toolkit
        .metadata()
        .member("introspection_endpoint")
        .and_then(|url| url.as_str()?.parse().ok())
        .expect("an introspection_endpoint in the metadata");
    let request = introspection_request(&endpoint, credentials, token).unwrap();
    let answer = Browser::new().post_token(&request);
    Introspection::parse(answer.status, &answer.body)
}

/// An API taking the toolkit's opaque access tokens, checked through RFC 7662 introspection with
/// the crate's request, answer and `AccessTokenCheck::check_introspected`: a token for the API
/// (RFC 8707 `resource`, which the toolkit returns as `aud`) is accepted; one for another
/// resource, and one for no resource at all (the toolkit's unrestricted token, no `aud`), is
/// refused as for another audience; one lacking the scope is refused with 403
/// `insufficient_scope`; a revoked (RFC 7009) or unknown one is inactive. The API's own credentials
/// refused: the toolkit answers 403 with an empty body where RFC 7662 section 2.3 says 401.
pub(super) fn django_introspection_protects_an_api() {
    let toolkit = toolkit();
    let api = Resource::new(&format!("http://127.0.0.1:{}/api", free_port())).unwrap();
    let other = Resource::new(&format!("http://127.0.0.1:{}/other", free_port())).unwrap();
    let credentials = toolkit.credentials("resource-server", TokenEndpointAuth::ClientSecretBasic);
    let check = AccessTokenCheck::new(toolkit.issuer(), api.clone())
        .require_scopes("api:read".parse().unwrap());
    let active = |token: &AccessToken| match introspect(toolkit, &credentials, token).unwrap() {
        Introspection::Active(token) => token,
        Introspection::Inactive => panic!("an inactive token"),
    };

    let token = machine_token(toolkit, "api:read api:write", Some(&api));
    let answer = active(&token);
    assert_eq!(answer.aud, [api.as_str()]);
    assert_eq!(answer.client_id.as_deref(), Some("api-client"));
    assert!(answer.exp.is_some());
    check.check_introspected(&answer).unwrap();

    for token in [
        machine_token(toolkit, "api:read", Some(&other)),
        machine_token(toolkit, "api:read", None),
    ] {
        let refused = check.check_introspected(&active(&token)).unwrap_err();
        assert!(
            matches!(refused, AccessTokenError::WrongAudience { .. }),
            "{refused:?}"
        );
        assert_eq!(refused.status(), 401);
    }

    let writer = AccessTokenCheck::new(toolkit.issuer(), api.clone())
        .require_scopes("api:write".parse().unwrap());
    let reader = machine_token(toolkit, "api:read", Some(&api));
    let refused = writer.check_introspected(&active(&reader)).unwrap_err();
    assert!(
        matches!(&refused, AccessTokenError::InsufficientScope { missing } if missing.to_string() == "api:write"),
        "{refused:?}"
    );
    assert_eq!(refused.status(), 403);

    // Revoked by its client (RFC 7009), then inactive; an unknown token is inactive too.
    let revoke = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("token", token.secret()),
            ("token_type_hint", "access_token"),
            ("client_id", "api-client"),
            ("client_secret", "api-client-secret"),
        ])
        .finish();
    let revoked = Browser::new().post(
        &toolkit.url("/oauth2/revoke"),
        TokenRequest::CONTENT_TYPE,
        revoke,
    );
    assert_eq!(revoked.status, 200);
    for token in [token, AccessToken::new("no-such-token").unwrap()] {
        assert_eq!(
            introspect(toolkit, &credentials, &token).unwrap(),
            Introspection::Inactive
        );
    }

    // Expected failure: RFC 7662 section 2.3 answers refused credentials with 401.
    let wrong = ClientCredentials::pre_registered(
        toolkit.issuer(),
        "resource-server".parse().unwrap(),
        Some(ClientSecret::new("wrong").unwrap()),
        TokenEndpointAuth::ClientSecretBasic,
    )
    .unwrap();
    assert_eq!(
        introspect(toolkit, &wrong, &reader).unwrap_err(),
        IntrospectionError::Status { status: 403 },
        "django-oauth-toolkit answers 403, not RFC 7662's 401"
    );
}

/// The `client_credentials` grant (RFC 6749 section 4.4) with the crate's token requests, the
/// client found through RFC 8414 metadata: with `client_secret_basic` and `client_secret_post`, a
/// bearer token with the scope asked for and no refresh token (section 4.4.3); a wrong secret is
/// `invalid_client` with 401 (section 5.2), a scope the server does not know `invalid_scope`, and a
/// public client is refused by the crate before any request.
pub(super) fn django_client_credentials_with_the_crate_token_requests() {
    let toolkit = toolkit();
    let metadata = toolkit.metadata();
    let methods = metadata
        .token_endpoint_auth_methods_supported
        .clone()
        .expect("token_endpoint_auth_methods_supported");
    // Expected departure: public clients log in here (PKCE, device) with `none`, which the
    // metadata does not list (RFC 8414 section 2).
    assert!(
        !methods.iter().any(|method| method == "none"),
        "{methods:?}"
    );
    let resource = Resource::new(&format!("http://127.0.0.1:{}/api", free_port())).unwrap();
    for auth in [
        TokenEndpointAuth::ClientSecretBasic,
        TokenEndpointAuth::ClientSecretPost,
    ] {
        let client =
            AuthorizationClient::new(&metadata, toolkit.credentials("api-client", auth)).unwrap();
        let request = client
            .client_credentials_request(&"api:write".parse().unwrap(), Some(&resource))
            .unwrap();
        assert_eq!(
            request.authorization().is_some(),
            auth == TokenEndpointAuth::ClientSecretBasic
        );
        let tokens: TokenResponse = post(&Browser::new(), &request).unwrap();
        assert_eq!(tokens.token_type, AccessTokenType::Bearer);
        assert_eq!(tokens.scope.as_deref(), Some("api:write"));
        assert!(tokens.expires_in.is_some_and(|seconds| seconds > 0));
        assert!(tokens.refresh_token.is_none(), "RFC 6749 section 4.4.3");
        assert!(tokens.id_token.is_none());
    }

    let client = AuthorizationClient::new(
        &metadata,
        toolkit.credentials("api-client", TokenEndpointAuth::ClientSecretBasic),
    )
    .unwrap();
    let unknown: ScopeList = "admin".parse().unwrap();
    let refused = post(
        &Browser::new(),
        &client.client_credentials_request(&unknown, None).unwrap(),
    )
    .unwrap_err();
    assert!(
        matches!(
            &refused,
            TokenError::Endpoint(OAuthError {
                code: ErrorCode::InvalidScope,
                ..
            })
        ),
        "{refused:?}"
    );

    let wrong = ClientCredentials::pre_registered(
        toolkit.issuer(),
        "api-client".parse().unwrap(),
        Some(ClientSecret::new("wrong").unwrap()),
        TokenEndpointAuth::ClientSecretBasic,
    )
    .unwrap();
    let client = AuthorizationClient::new(&metadata, wrong).unwrap();
    let request = client
        .client_credentials_request(&"api:read".parse().unwrap(), None)
        .unwrap();
    let answer = Browser::new().post_token(&request);
    assert_eq!(answer.status, 401, "RFC 6749 section 5.2");
    let refused = TokenResponse::parse(answer.status, &answer.body).unwrap_err();
    assert!(
        matches!(
            &refused,
            TokenError::Endpoint(OAuthError {
                code: ErrorCode::InvalidClient,
                ..
            })
        ),
        "{refused:?}"
    );

    let public = ClientCredentials::pre_registered(
        toolkit.issuer(),
        "web-app".parse().unwrap(),
        None,
        TokenEndpointAuth::None,
    )
    .unwrap();
    let mut open = metadata.clone();
    open.token_endpoint_auth_methods_supported = Some(vec!["none".into()]);
    let client = AuthorizationClient::new(&open, public).unwrap();
    assert_eq!(
        client
            .client_credentials_request(&"api:read".parse().unwrap(), None)
            .unwrap_err(),
        AuthorizationError::PublicClient
    );
}

/// A device login started for `device-app` with `scopes`. The metadata lists the device code
/// grant without its endpoint, so the client uses AuthKit's path, where the project mounts it.
fn start_device_login(toolkit: &Toolkit, scopes: &str) -> (DeviceClient, DeviceLogin) {
    let client = DeviceClient::new(&toolkit.domain(), "device-app".parse().unwrap());
    let request = client.authorization_request(&scopes.parse().unwrap());
    let answer = Browser::new().post(
        request.url().as_str(),
        TokenRequest::CONTENT_TYPE,
        request.body(),
    );
    let login = client
        .read_authorization(answer.status, &answer.body, SystemClock.now())
        .unwrap_or_else(|error| panic!("{error}: {}", String::from_utf8_lossy(&answer.body)));
    (client, login)
}

/// The user's part of a device login on the toolkit's pages: the verification URL with the code
/// filled in, the login form, the code form, then accept or deny.
fn confirm_device(login: &DeviceLogin, answer: Answer) {
    let http = Browser::new();
    let complete = login
        .verification_uri_complete()
        .expect("verification_uri_complete");
    let mut url = complete.clone();
    let mut form: Option<Vec<(String, String)>> = None;
    for _ in 0..10 {
        let sent = match form.take() {
            Some(fields) => http.post_form(&url, &fields),
            None => http.get(url.as_str()),
        };
        if let Some(location) = sent.location.as_deref() {
            url = url.join(location).unwrap();
            continue;
        }
        let page = String::from_utf8(sent.body).unwrap();
        assert_eq!(sent.status, 200, "{url}: {page}");
        let mut fields = hidden(&page);
        if page.contains("name=\"password\"") {
            fields.extend(DEVICE_USER.credentials());
        } else if page.contains("name=\"user_code\"") {
            // The code the device shows, filled in from verification_uri_complete.
            let code = login.user_code().as_str();
            assert!(page.contains(&format!("value=\"{code}\"")), "{page}");
            fields.push(("user_code".into(), code.into()));
        } else if page.contains("name=\"action\"") {
            let action = if answer == Answer::Allow {
                "accept"
            } else {
                "deny"
            };
            fields.push(("action".into(), action.into()));
        } else {
            assert!(
                url.path().starts_with("/oauth2/device-grant-status/"),
                "{url}: {page}"
            );
            return;
        }
        url = action(&page, &url);
        form = Some(fields);
    }
    panic!("the toolkit never showed the device grant's status");
}

/// The device login (RFC 8628) with the crate's `device` module: the codes, a pending poll, the
/// user's confirmation on the toolkit's pages, then the tokens (the scope asked for, an access
/// token userinfo and introspection say is the user's, the device code used up); a denied one is
/// `access_denied`. The metadata lists the grant but not `device_authorization_endpoint` (RFC 8628
/// section 4): asserted as the toolkit's departure.
pub(super) fn django_device_login_polls_until_the_user_confirms() {
    let toolkit = toolkit();
    let metadata = toolkit.metadata();
    let grants = metadata.grant_types_supported.clone().unwrap_or_default();
    assert!(
        grants
            .iter()
            .any(|grant| grant == "urn:ietf:params:oauth:grant-type:device_code"),
        "{grants:?}"
    );
    assert!(
        metadata.member("device_authorization_endpoint").is_none(),
        "django-oauth-toolkit 3.4.1 does not publish its device authorization endpoint"
    );

    let (_, mut login) = start_device_login(toolkit, "openid email api:write");
    assert!(login
        .verification_uri()
        .as_str()
        .starts_with(&toolkit.url("/oauth2/device")));
    match poll(&mut login).unwrap() {
        Poll::Pending { .. } => {}
        Poll::Done(_) => panic!("done before the user confirmed"),
    }
    confirm_device(&login, Answer::Allow);
    let tokens = poll_until_done(&mut login).unwrap();
    let scopes: ScopeList = tokens.scope.as_deref().unwrap_or_default().parse().unwrap();
    assert!(
        scopes.contains("api:write"),
        "the scope asked for: {scopes}"
    );
    // The toolkit issues ID tokens from the authorization code and refresh grants only; no
    // specification asks for one here (OpenID Connect Core defines no device grant), so the
    // user's claims come from userinfo.
    assert!(tokens.id_token.is_none());
    let request = UserinfoRequest::for_domain(&toolkit.domain(), &tokens.access_token);
    let answer =
        Browser::new().get_with_authorization(request.url().as_str(), request.authorization());
    let user = Userinfo::parse(answer.status, answer.challenge.as_deref(), &answer.body).unwrap();
    assert_eq!(user.sub, DEVICE_USER.sub);
    assert_eq!(user.email, Some(DEVICE_USER.email()));
    // The device code is not used up: polled again, it gives new tokens, until it expires (30
    // minutes). RFC 8628 does not say a device code is single-use, as RFC 6749 section 4.1.2 says
    // of authorization codes, so this is no departure; a copied device code lasts that long.
    match poll(&mut login).unwrap() {
        Poll::Done(again) => {
            assert_ne!(again.access_token.secret(), tokens.access_token.secret())
        }
        Poll::Pending { .. } => panic!("pending after the user confirmed"),
    }
    let credentials = toolkit.credentials("resource-server", TokenEndpointAuth::ClientSecretPost);
    match introspect(toolkit, &credentials, &tokens.access_token).unwrap() {
        Introspection::Active(token) => {
            assert_eq!(token.client_id.as_deref(), Some("device-app"));
            assert_eq!(
                token.member("username").and_then(|u| u.as_str()),
                Some(DEVICE_USER.name)
            );
        }
        Introspection::Inactive => panic!("the device's token is inactive"),
    }

    let (_, mut login) = start_device_login(toolkit, "api:read");
    confirm_device(&login, Answer::Deny);
    assert!(matches!(
        poll_until_done(&mut login),
        Err(DeviceError::AccessDenied)
    ));
}

//! A JSON API on actix-web protected by AuthKit access tokens: `workos-connect`'s `RequestCheck`
//! decides each request in a middleware (CORS preflights passed on, the token, its DPoP proof, the
//! answer to a refusal), and a small loop on reqwest keeps the issuer's keys with the core's
//! `KeyCache`.
//!
//! ```text
//! cargo run -p actix-api -- --issuer https://<sub>.authkit.app --resource http://127.0.0.1:8000/api --scope api:read
//! ```
//!
//! `GET` or `POST /api` answers who the token was issued to; the resource's metadata (RFC 9728)
//! is served at its well-known URL, and every refusal carries the challenge that tells clients
//! where to log in. With `--dpop` it also takes DPoP-bound tokens (RFC 9449); with
//! `--require-dpop` only those. With `--dpop-nonce-secret` (or `DPOP_NONCE_SECRET`) the proofs
//! must carry this server's nonce, which every instance sharing the secret accepts.
//!
//! As an API, it takes pages of any origin (an access token is no ambient credential; a CORS
//! middleware such as actix-cors, wrapped around the app, says which pages may read the answers),
//! unless `--allowed-origin` names the only ones it takes. A CORS preflight passes the middleware
//! on: here the route answers it 405, having no CORS middleware to answer it.

use std::future::{ready, Ready};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::ErrorInternalServerError;
use actix_web::http::StatusCode;
use actix_web::middleware::{from_fn, Next};
use actix_web::{
    web, App, FromRequest, HttpMessage, HttpRequest, HttpResponse, HttpServer, ResponseError,
};
use clap::{ArgGroup, Parser};
use tokio::sync::Notify;
use url::Url;
use workos_connect::dpop::{DatedNonces, DpopNonceSecret, DpopProofCheck};
use workos_connect::resource_server::{
    AcceptedRequest, AccessTokenCheck, Refusal, ReplayRecord, RequestCheck, RequestDecision,
    ResourceRequest,
};
use workos_connect::{
    jose::{KeyCache, KeyFetch, KeyRefetch, KeySet},
    oauth::{Clock, Issuer, Resource, ScopeList, SystemClock},
};

/// A JSON API protected by AuthKit access tokens.
#[derive(Parser)]
#[command(group(ArgGroup::new("dpop_taken").args(["dpop", "require_dpop"])))]
struct Options {
    /// The URL of the AuthKit domain that issues the tokens
    #[arg(long, env = "WORKOS_AUTHKIT_DOMAIN")]
    issuer: Issuer,
    /// This API's URL as clients reach it: the resource tokens must be for, and its one route
    #[arg(long, default_value = "http://127.0.0.1:8000/api")]
    resource: Resource,
    /// The JWKS URL (default: the issuer's /oauth2/jwks)
    #[arg(long)]
    jwks_url: Option<Url>,
    /// Space-separated scopes every request needs
    #[arg(long, default_value = "api:read")]
    scope: ScopeList,
    /// Web origins whose pages alone may call the API, besides its own (a request with any other
    /// `Origin` is refused); without it, pages of any origin may
    #[arg(long = "allowed-origin")]
    allowed_origins: Vec<String>,
    /// Address to serve on
    #[arg(long, default_value = "127.0.0.1:8000")]
    listen: SocketAddr,
    /// Seconds of clock difference allowed with AuthKit when checking a token's times
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(..=300))]
    leeway: u64,
    /// Seconds between two fetches of the keys that tokens naming an unknown key may cause
    #[arg(long, default_value_t = 60)]
    keys_refetch_interval: u64,
    /// Seconds between scheduled fetches of the keys
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    keys_refresh_interval: u64,
    /// Take DPoP-bound access tokens (RFC 9449) besides bearer tokens
    #[arg(long)]
    dpop: bool,
    /// Take DPoP-bound access tokens only
    #[arg(long, conflicts_with = "dpop")]
    require_dpop: bool,
    /// Require DPoP server nonces (RFC 9449 section 9) made with this secret: 32 to 64 random
    /// bytes as base64url or base64 (`openssl rand -base64 32`). Every instance given the same
    /// secret accepts the nonces of the others; each is taken for five minutes and a minute of
    /// clock skew
    // Read as text, so that clap's message for a bad value does not print the secret.
    #[arg(
        long,
        env = "DPOP_NONCE_SECRET",
        hide_env_values = true,
        requires = "dpop_taken"
    )]
    dpop_nonce_secret: Option<String>,
}

/// What every request is checked with.
struct Api {
    check: RequestCheck,
    keys: Arc<Keys>,
}

/// The checked caller of a request, which [`require_token`] put in it: take it as a handler's
/// argument on a route behind that middleware.
struct Authenticated(AcceptedRequest);

/// A refused request, answered as the refusal says.
#[derive(Debug)]
struct Refused(Refusal);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for Refused {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut answer = HttpResponse::build(self.status_code());
        answer.content_type("application/json");
        if let Some(challenge) = self.0.www_authenticate() {
            answer.insert_header(("www-authenticate", challenge));
        }
        if let Some(nonce) = self.0.dpop_nonce() {
            answer.insert_header(("dpop-nonce", nonce.as_str()));
        }
        answer.body(self.0.json_body())
    }
}

impl FromRequest for Authenticated {
    type Error = actix_web::Error;
    type Future = Ready<Result<Authenticated, actix_web::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        // A route outside the middleware is a mistake in the app, never a request let through.
        let caller = request.extensions().get::<AcceptedRequest>().cloned();
        ready(caller.map(Authenticated).ok_or_else(|| {
            ErrorInternalServerError("the route is not behind require_token: no checked caller")
        }))
    }
}

/// What the check let through.
enum Passed {
    /// A request with a valid token: its caller.
    Accepted(AcceptedRequest),
    /// A CORS preflight, which carries no token: passed on without a caller.
    Preflight,
}

/// The middleware in front of the protected route: passes on a request with a valid token, its
/// checked caller in the request's extensions, and a CORS preflight without one, for a CORS
/// middleware (or the route's 405) to answer; answers any other as the refusal says.
async fn require_token(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(api) = request.app_data::<web::Data<Api>>().cloned() else {
        return Err(ErrorInternalServerError("the app holds no Api"));
    };
    let decided = {
        // The target as the client sent it: the DPoP proof names it.
        let target = request
            .uri()
            .path_and_query()
            .map_or("/", |target| target.as_str());
        let headers = request.headers().iter();
        let sent = ResourceRequest::new(request.method().as_str(), target)
            .headers(headers.map(|(name, value)| (name.as_str(), value.as_bytes())));
        let held = api.keys.current();
        let mut decision = api.check.check(&sent, held.as_deref(), api.check.now());
        loop {
            decision = match decision {
                RequestDecision::Accept(accepted) => break Ok(Passed::Accepted(accepted)),
                RequestDecision::Preflight => break Ok(Passed::Preflight),
                RequestDecision::Refuse(refusal) => break Err(refusal),
                RequestDecision::FetchKeys(awaiting) => {
                    let newer = api.keys.newer_than(held.as_ref()).await;
                    api.check
                        .resume(awaiting, newer.as_deref(), api.check.now())
                }
                // This server keeps the proofs it saw in its own memory, as one instance may:
                // its check never leaves them to a shared one.
                RequestDecision::RecordProof(proof) => {
                    let refused = ReplayRecord::Unavailable;
                    break api.check.recorded(proof, refused).map(Passed::Accepted);
                }
            };
        }
    };
    match decided {
        Ok(Passed::Accepted(accepted)) => {
            request.extensions_mut().insert(accepted);
        }
        Ok(Passed::Preflight) => {}
        Err(refusal) => {
            eprintln!("request refused ({}): {refusal}", refusal.status());
            return Err(Refused(refusal).into());
        }
    }
    next.call(request).await
}

/// The protected route: who the token was issued to.
async fn whoami(Authenticated(caller): Authenticated) -> HttpResponse {
    let claims = caller.claims();
    let mut answer = HttpResponse::Ok();
    // The next DPoP nonce, before the one the client holds expires (RFC 9449 §8.2).
    if let Some(nonce) = caller.dpop_nonce() {
        answer.insert_header(("dpop-nonce", nonce.as_str()));
    }
    answer.json(serde_json::json!({
        "sub": claims.sub(),
        "organization": claims.org_id(),
        "scope": claims.scope().to_string(),
        "dpop_jkt": caller.dpop_jkt(),
    }))
}

/// The resource's metadata (RFC 9728), which clients read before they have a token.
async fn metadata(api: web::Data<Api>) -> HttpResponse {
    HttpResponse::Ok().json(api.check.metadata())
}

/// The longest a request waits for another's fetch of the keys.
const WAIT_CEILING: Duration = Duration::from_secs(30);

/// The most of a JWKS answer read.
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// The issuer's keys: the core's `KeyCache` says when to fetch, this fetches.
struct Keys {
    cache: Mutex<KeyCache>,
    client: reqwest::Client,
    /// Woken whenever a fetch ends, well or not.
    fetch_ended: Notify,
}

impl Keys {
    fn cache(&self) -> MutexGuard<'_, KeyCache> {
        // Each critical section leaves the cache whole, so a panic elsewhere does not spoil it.
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn current(&self) -> Option<Arc<KeySet>> {
        self.cache().keys()
    }

    /// A set newer than `held`, if the cache lets a fetch run now or one is under way; `None`
    /// when there is no other.
    async fn newer_than(self: &Arc<Self>, held: Option<&Arc<KeySet>>) -> Option<Arc<KeySet>> {
        let ended = self.fetch_ended.notified();
        tokio::pin!(ended);
        // Registered before the cache is asked, so that a fetch ending in between still wakes us.
        ended.as_mut().enable();
        let decision = self.cache().unknown_key(SystemClock.now());
        let newest = match decision {
            // On a task of its own, so that a request given up half-way does not take the fetch
            // with it and leave the others waiting on it.
            KeyRefetch::Fetch(fetch) => {
                let keys = Arc::clone(self);
                actix_web::rt::spawn(async move { keys.fetch(fetch).await })
                    .await
                    .ok()
                    .flatten()
            }
            KeyRefetch::InFlight => {
                let _ = tokio::time::timeout(WAIT_CEILING, ended).await;
                self.current()
            }
            KeyRefetch::NotBefore(_) => self.current(),
        };
        newest.filter(|newest| held.is_none_or(|held| !Arc::ptr_eq(newest, held)))
    }

    /// Runs `fetch` and gives its outcome to the cache; the new set if it was taken.
    async fn fetch(&self, fetch: KeyFetch) -> Option<Arc<KeySet>> {
        let answer = get(&self.client, fetch.url()).await;
        let taken = {
            let mut cache = self.cache();
            match answer {
                Ok((status, body)) => match cache.finish(fetch, status, &body, SystemClock.now()) {
                    Ok(keys) => Some(keys),
                    Err(error) => {
                        eprintln!("key set not taken, the last good one goes on: {error}");
                        None
                    }
                },
                Err(error) => {
                    cache.failed(fetch);
                    eprintln!("key set fetch failed, the last good one goes on: {error}");
                    None
                }
            }
        };
        self.fetch_ended.notify_waiters();
        taken
    }

    /// Fetches when the cache says a fetch is due, then sleeps until the next one is.
    async fn refresh(self: Arc<Self>) {
        loop {
            let due = self.cache().poll(SystemClock.now());
            if let Some(fetch) = due {
                self.fetch(fetch).await;
            }
            let now = SystemClock.now();
            // No due time while another fetch runs: look again shortly.
            let wait = self
                .cache()
                .next_due(now)
                .map_or(Duration::from_secs(1), |due| {
                    due.duration_since(now).unwrap_or(Duration::ZERO)
                });
            tokio::time::sleep(wait).await;
        }
    }
}

/// `GET url`: the status and the body, at most [`MAX_JWKS_BYTES`] of it.
async fn get(client: &reqwest::Client, url: &Url) -> Result<(u16, Vec<u8>), String> {
    let mut response = client
        .get(url.as_str())
        .send()
        .await
        .map_err(|error| error.to_string())?;
    let status = response.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|error| error.to_string())? {
        if body.len() + chunk.len() > MAX_JWKS_BYTES {
            return Err(format!("the answer is larger than {MAX_JWKS_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, body))
}

async fn serve(options: Options) -> Result<(), String> {
    let mut tokens = AccessTokenCheck::new(options.issuer.clone(), options.resource.clone())
        .require_scopes(options.scope)
        .leeway(options.leeway);
    let mut proofs = DpopProofCheck::new();
    if let Some(secret) = options.dpop_nonce_secret {
        let secret: DpopNonceSecret = secret
            .parse()
            .map_err(|error| format!("--dpop-nonce-secret: {error}"))?;
        proofs = proofs.require_nonce(DatedNonces::new(secret));
    }
    if options.require_dpop {
        tokens = tokens.dpop(proofs).require_dpop();
    } else if options.dpop {
        tokens = tokens.dpop(proofs);
    }
    let mut check = RequestCheck::api(tokens).map_err(|error| error.to_string())?;
    for origin in &options.allowed_origins {
        check = check
            .allowed_origin(origin)
            .map_err(|error| error.to_string())?;
    }

    let jwks_url = match options.jwks_url {
        Some(url) => url,
        None => options
            .issuer
            .url()
            .join("/oauth2/jwks")
            .map_err(|error| error.to_string())?,
    };
    let cache = KeyCache::new(jwks_url)
        .refresh_interval(Duration::from_secs(options.keys_refresh_interval))
        .min_interval(Duration::from_secs(options.keys_refetch_interval));
    // Keys are the issuer's only at the URL it published: no redirects.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|error| error.to_string())?;
    let keys = Arc::new(Keys {
        cache: Mutex::new(cache),
        client,
        fetch_ended: Notify::new(),
    });
    // The first key set before serving: an API that cannot read its keys does not start.
    if keys.newer_than(None).await.is_none() {
        return Err("no key set could be fetched; see the messages above".to_owned());
    }
    actix_web::rt::spawn(Arc::clone(&keys).refresh());

    let route = options.resource.url().path().to_owned();
    let metadata_route = check.metadata_url().path().to_owned();
    let api = web::Data::new(Api { check, keys });
    let protected = route.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(api.clone())
            .route(&metadata_route, web::get().to(metadata))
            .service(
                web::resource(&protected)
                    .wrap(from_fn(require_token))
                    .route(web::get().to(whoami))
                    .route(web::post().to(whoami)),
            )
    })
    .bind(options.listen)
    .map_err(|error| error.to_string())?;
    for address in server.addrs() {
        println!("listening on http://{address}{route}");
    }
    server.run().await.map_err(|error| error.to_string())
}

#[actix_web::main]
async fn main() -> ExitCode {
    match serve(Options::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

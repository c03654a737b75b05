//! The issuer's JWKS endpoint, on loopback, serving whichever key set the phase calls for.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// What the endpoint serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// Key A only.
    A,
    /// Keys A and B: the rotation's overlap.
    AB,
    /// Key B only: A withdrawn.
    B,
    /// No key set: every other answer is a 500, and the others close the connection unanswered.
    Outage,
}

impl Served {
    /// The number it is stored as, to switch without a lock.
    fn code(self) -> u8 {
        match self {
            Served::A => 0,
            Served::AB => 1,
            Served::B => 2,
            Served::Outage => 3,
        }
    }

    /// The state stored as `code`.
    fn from_code(code: u8) -> Served {
        match code {
            0 => Served::A,
            1 => Served::AB,
            2 => Served::B,
            _ => Served::Outage,
        }
    }
}

/// A handle on the running endpoint: switch what it serves, count the fetches.
#[derive(Clone)]
pub struct Jwks {
    /// What the connections' tasks share with the handle.
    shared: Arc<Shared>,
    /// Where it listens.
    addr: SocketAddr,
}

/// The endpoint's state.
struct Shared {
    /// What it serves now, as [`Served::code`].
    served: AtomicU8,
    /// Requests received.
    fetches: AtomicU64,
    /// The body of {A}.
    only_a: Bytes,
    /// The body of {A, B}.
    both: Bytes,
    /// The body of {B}.
    only_b: Bytes,
}

/// Why a request ends without an answer: hyper closes the connection when the service fails.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose (JWKS outage)")
    }
}

impl std::error::Error for Dropped {}

impl Jwks {
    /// Binds `listen` and serves the key sets made of `a` and `b` (public JWKs), starting with A.
    pub async fn start(listen: SocketAddr, a: &Value, b: &Value) -> std::io::Result<Jwks> {
        let body = |keys: &[&Value]| Bytes::from(json!({ "keys": keys }).to_string());
        let shared = Arc::new(Shared {
            served: AtomicU8::new(Served::A.code()),
            fetches: AtomicU64::new(0),
            only_a: body(&[a]),
            both: body(&[a, b]),
            only_b: body(&[b]),
        });
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        tokio::spawn(accept(listener, Arc::clone(&shared)));
        Ok(Jwks { shared, addr })
    }

    /// The JWKS URL.
    pub fn url(&self) -> String {
        format!("http://{}/jwks", self.addr)
    }

    /// The issuer: this endpoint's origin, a loopback http URL the server accepts.
    pub fn issuer(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serve `served` from now on.
    pub fn serve(&self, served: Served) {
        self.shared.served.store(served.code(), Ordering::SeqCst);
    }

    /// Requests received so far, answered or not.
    pub fn fetches(&self) -> u64 {
        self.shared.fetches.load(Ordering::SeqCst)
    }
}

/// Accepts connections and serves each on a task of its own.
async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors, most likely: give the others time to close theirs.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = service_fn(move |request| answer(Arc::clone(&shared), request));
            // A connection ending in error is the outage doing its work, or the server going away.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The answer to one request: the key set served now, or the outage.
async fn answer(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let n = shared.fetches.fetch_add(1, Ordering::SeqCst);
    if request.uri().path() != "/jwks" {
        return Ok(plain(StatusCode::NOT_FOUND, "not found"));
    }
    let body = match Served::from_code(shared.served.load(Ordering::SeqCst)) {
        Served::A => shared.only_a.clone(),
        Served::AB => shared.both.clone(),
        Served::B => shared.only_b.clone(),
        // Both ways a JWKS endpoint fails in the field: an error status, and no answer at all.
        Served::Outage if n.is_multiple_of(2) => {
            return Ok(plain(StatusCode::INTERNAL_SERVER_ERROR, "outage"));
        }
        Served::Outage => return Err(Dropped),
    };
    Ok(Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(body))
        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "response")))
}

/// A text answer with `status`.
fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response
}

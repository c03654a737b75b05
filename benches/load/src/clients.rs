//! The concurrent clients: each sends one request after another for the length of a phase, and
//! every answer is timed and judged.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::phase::{judge, Answer, Expected, Key, Kind, Phase, Verdict, BAD_KINDS};
use crate::tokens::{BadTokens, KeyRing, Minter, SigningKey};

/// What an MCP client in stateless streamable HTTP sends to list the tools: one JSON-RPC request,
/// no session, the revision in a header.
const TOOLS_LIST: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
/// The revision the requests name.
pub const PROTOCOL_VERSION: &str = "2025-11-25";
/// The longest a request may take before it counts as unanswered.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Every token the clients send, made before the phases so that signing (an RSA-2048 signature
/// costs far more than its check) does not take the machine's cores from the server while timed.
pub struct Tokens {
    /// The keys, for fresh tokens signed late.
    keys: KeyRing,
    /// The claims' issuer, resource and scope, for the same.
    minter: Minter,
    /// Each client's own good token, per key: `reused[key][client]`.
    reused: [Vec<String>; 2],
    /// Tokens never sent before, per key, taken in turn by all clients.
    fresh: [Vec<String>; 2],
    /// How many of `fresh` were taken, per key.
    fresh_taken: [AtomicUsize; 2],
    /// Fresh tokens signed during a phase because the pool ran dry.
    signed_late: AtomicU64,
    /// The bad tokens naming A, and those naming B.
    bad: [BadTokens; 2],
}

impl Tokens {
    /// Signs the tokens of `clients` clients, with `fresh` never-sent tokens per key.
    pub fn sign(keys: KeyRing, minter: Minter, clients: usize, fresh: usize) -> Tokens {
        let reused = [
            (0..clients).map(|_| minter.valid(&keys.a)).collect(),
            (0..clients).map(|_| minter.valid(&keys.b)).collect(),
        ];
        let fresh = [
            sign_many(&minter, &keys.a, fresh),
            sign_many(&minter, &keys.b, fresh),
        ];
        let bad = [minter.bad(&keys.a, &keys.c), minter.bad(&keys.b, &keys.c)];
        Tokens {
            keys,
            minter,
            reused,
            fresh,
            fresh_taken: [AtomicUsize::new(0), AtomicUsize::new(0)],
            signed_late: AtomicU64::new(0),
            bad,
        }
    }

    /// How many fresh tokens had to be signed during the phases so far.
    pub fn signed_late(&self) -> u64 {
        self.signed_late.load(Ordering::Relaxed)
    }

    /// How many tokens were signed before the phases.
    pub fn count(&self) -> usize {
        let sets = self.reused.iter().chain(&self.fresh);
        sets.map(Vec::len).sum::<usize>() + self.bad.len() * BadTokens::COUNT
    }

    /// The index of `key` in the per-key arrays, and the key itself.
    fn key(&self, key: Key) -> (usize, &SigningKey) {
        match key {
            Key::A => (0, &self.keys.a),
            Key::B => (1, &self.keys.b),
        }
    }

    /// The `Authorization` header value of a request of `kind`, sent by `client` in `phase`.
    async fn authorization(
        self: &Arc<Self>,
        phase: Phase,
        kind: Kind,
        client: usize,
    ) -> Option<String> {
        let bad = &self.bad[self.key(phase.bad_key()).0];
        let token = match kind {
            Kind::Reused(key) => self.reused[self.key(key).0][client].clone(),
            Kind::Fresh(key) => {
                let (index, _) = self.key(key);
                let taken = self.fresh_taken[index].fetch_add(1, Ordering::Relaxed);
                match self.fresh[index].get(taken) {
                    Some(token) => token.clone(),
                    None => {
                        // The pool ran dry: sign now, off the async threads, and say so.
                        self.signed_late.fetch_add(1, Ordering::Relaxed);
                        let tokens = Arc::clone(self);
                        tokio::task::spawn_blocking(move || {
                            let (_, signing) = tokens.key(key);
                            tokens.minter.valid(signing)
                        })
                        .await
                        .ok()?
                    }
                }
            }
            Kind::BadSignature => bad.bad_signature.clone(),
            Kind::WrongAudience => bad.wrong_audience.clone(),
            Kind::WrongIssuer => bad.wrong_issuer.clone(),
            Kind::Expired => bad.expired.clone(),
            Kind::UnknownKid => bad.unknown_kid.clone(),
            Kind::MissingScope => bad.missing_scope.clone(),
            Kind::NotAJwt => "not-a-jwt".into(),
            Kind::BadHeader => return Some("Bearer two tokens".into()),
            Kind::NoToken => return None,
        };
        Some(format!("Bearer {token}"))
    }
}

/// Signs `count` distinct tokens with `key`, on every core (this runs before any phase).
fn sign_many(minter: &Minter, key: &SigningKey, count: usize) -> Vec<String> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let per_thread = count.div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|thread| {
                let n = per_thread.min(count.saturating_sub(thread * per_thread));
                scope.spawn(move || (0..n).map(|_| minter.valid(key)).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().unwrap_or_default())
            .collect()
    })
}

/// How the clients mix their requests.
#[derive(Debug, Clone, Copy)]
pub struct Mix {
    /// One request in this many is a bad one (the bad kinds in turn).
    pub bad_every: u64,
    /// One good request in this many carries a fresh token.
    pub fresh_every: u64,
}

impl Mix {
    /// The kind of `client`'s `n`-th request in `phase`.
    fn kind(self, phase: Phase, client: usize, n: u64) -> Kind {
        if n % self.bad_every == self.bad_every - 1 {
            // Clients start at different kinds, so that all kinds are under way at any moment.
            let turn = (n / self.bad_every) as usize + client;
            return BAD_KINDS[turn % BAD_KINDS.len()];
        }
        let slot = n - n / self.bad_every;
        let key = phase.key_of(slot + client as u64);
        if slot % self.fresh_every == self.fresh_every - 1 {
            Kind::Fresh(key)
        } else {
            Kind::Reused(key)
        }
    }
}

/// Latencies in microseconds, from 1 µs to a minute, three significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("fixed, valid histogram bounds")
}

/// What one phase measured.
pub struct PhaseResult {
    /// The phase.
    pub phase: Phase,
    /// From the first request sent to the last answer.
    pub elapsed: Duration,
    /// Every request's latency.
    pub all: Histogram<u64>,
    /// Good requests with a reused token.
    pub reused: Histogram<u64>,
    /// Good requests with a fresh token.
    pub fresh: Histogram<u64>,
    /// Requests that must be refused.
    pub refused: Histogram<u64>,
    /// Wrong answers, by request kind and what came back.
    pub wrong: BTreeMap<(String, String), u64>,
    /// Timing-dependent requests in the grace window that got the answer from before the key
    /// change, not held against the server.
    pub graced: u64,
    /// When the last of them was sent, from the phase's start: how long the server took to pick
    /// up the change, at most.
    pub last_graced: Option<Duration>,
    /// Fetches the JWKS endpoint received during the phase.
    pub jwks_fetches: u64,
    /// CPU time the server used during the phase, if known.
    pub server_cpu: Option<Duration>,
    /// CPU time this program used during the phase, if known.
    pub load_cpu: Option<Duration>,
    /// CPU time the whole machine used during the phase, if known.
    pub machine_cpu: Option<Duration>,
}

impl PhaseResult {
    /// Nothing measured yet.
    fn new(phase: Phase) -> PhaseResult {
        PhaseResult {
            phase,
            elapsed: Duration::ZERO,
            all: histogram(),
            reused: histogram(),
            fresh: histogram(),
            refused: histogram(),
            wrong: BTreeMap::new(),
            graced: 0,
            last_graced: None,
            jwks_fetches: 0,
            server_cpu: None,
            load_cpu: None,
            machine_cpu: None,
        }
    }

    /// Wrong answers, all kinds together.
    pub fn wrong_total(&self) -> u64 {
        self.wrong.values().sum()
    }

    /// Counts one answer: its latency of `micros`, sent `offset` after the phase's start.
    fn record(
        &mut self,
        kind: Kind,
        expected: Expected,
        verdict: Verdict,
        micros: u64,
        offset: Duration,
    ) {
        // Values beyond the histogram's minute are dropped: the request timeout is shorter.
        let _ = self.all.record(micros);
        let _ = match (kind, expected) {
            (_, Expected::Refused { .. }) => self.refused.record(micros),
            (Kind::Fresh(_), _) => self.fresh.record(micros),
            _ => self.reused.record(micros),
        };
        match verdict {
            Verdict::Right => {}
            Verdict::Graced => {
                self.graced += 1;
                self.last_graced = self.last_graced.max(Some(offset));
            }
            Verdict::Wrong(got) => *self.wrong.entry((kind.name(), got)).or_default() += 1,
        }
    }

    /// Adds another client's measures to these.
    fn merge(&mut self, other: PhaseResult) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.all.add(&other.all);
        let _ = self.reused.add(&other.reused);
        let _ = self.fresh.add(&other.fresh);
        let _ = self.refused.add(&other.refused);
        for (key, count) in other.wrong {
            *self.wrong.entry(key).or_default() += count;
        }
        self.graced += other.graced;
        self.last_graced = self.last_graced.max(other.last_graced);
    }
}

/// One phase of load: `clients` clients, each sending one request after another to `url` for
/// `duration`; timing-dependent requests sent within `grace` of the phase's start are not judged.
#[derive(Debug, Clone, Copy)]
pub struct PhaseRun {
    /// The phase.
    pub phase: Phase,
    /// How long clients start new requests.
    pub duration: Duration,
    /// The window after the key change in which timing-dependent answers are not judged.
    pub grace: Duration,
    /// How many clients run at once.
    pub clients: usize,
    /// The request mix.
    pub mix: Mix,
}

impl PhaseRun {
    /// Runs the phase to its end and gathers what the clients measured.
    pub async fn run(self, http: &reqwest::Client, url: &str, tokens: &Arc<Tokens>) -> PhaseResult {
        let start = Instant::now();
        let tasks: Vec<_> = (0..self.clients)
            .map(|client| {
                let (http, url, tokens) = (http.clone(), url.to_owned(), Arc::clone(tokens));
                tokio::spawn(async move { self.client(client, start, &http, &url, &tokens).await })
            })
            .collect();
        let mut total = PhaseResult::new(self.phase);
        for task in tasks {
            match task.await {
                Ok(result) => total.merge(result),
                Err(error) => {
                    let key = ("client task".to_owned(), error.to_string());
                    *total.wrong.entry(key).or_default() += 1;
                }
            }
        }
        total.elapsed = start.elapsed();
        total
    }

    /// One client: a request after another, each sent once the last was answered, until the
    /// phase's end.
    async fn client(
        self,
        client: usize,
        start: Instant,
        http: &reqwest::Client,
        url: &str,
        tokens: &Arc<Tokens>,
    ) -> PhaseResult {
        let mut result = PhaseResult::new(self.phase);
        let deadline = start + self.duration;
        let mut n = 0;
        while Instant::now() < deadline {
            let kind = self.mix.kind(self.phase, client, n);
            n += 1;
            let authorization = tokens.authorization(self.phase, kind, client).await;
            let sent = Instant::now();
            let answer = send(http, url, authorization.as_deref()).await;
            let micros = sent.elapsed().as_micros().try_into().unwrap_or(u64::MAX);
            let offset = sent.duration_since(start);
            let (expected, timing_dependent) = self.phase.expected(kind);
            let verdict = judge(&answer, expected, timing_dependent, offset < self.grace);
            result.record(kind, expected, verdict, micros, offset);
        }
        result
    }
}

/// Sends one `tools/list` with `authorization`, and reads what the judge needs.
async fn send(http: &reqwest::Client, url: &str, authorization: Option<&str>) -> Answer {
    let mut request = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", PROTOCOL_VERSION)
        .timeout(REQUEST_TIMEOUT)
        .body(TOOLS_LIST);
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(error) => return Answer::Failed(error.to_string()),
    };
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    // The body is read whatever the status, so that the connection can serve the next request.
    let body = match response.bytes().await {
        Ok(body) => body,
        Err(error) => return Answer::Failed(error.to_string()),
    };
    let tool_list = status == 200 && contains(&body, b"\"whoami\"");
    Answer::Http {
        status,
        challenge,
        tool_list,
    }
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

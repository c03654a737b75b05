//! The concurrent clients: each sends one request after another for the length of a phase, and
//! every answer is timed and judged.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::dpop::{DpopClients, Prepared};
use crate::phase::{
    judge, Answer, Expectation, Expected, Key, Kind, Phase, Setting, Verdict, BAD_KINDS,
};
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
            // Bearer requests are never replays: a bearer token has no proof to reuse.
            Kind::NoToken | Kind::Replay => return None,
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
    /// One request in this many is a bad one (the bad kinds in turn); none if `None`.
    pub bad_every: Option<u64>,
    /// One good request in this many carries a fresh token; none if `None`.
    pub fresh_every: Option<u64>,
    /// One request in this many replays a request another instance accepted; none if `None`.
    pub replay_every: Option<u64>,
}

impl Mix {
    /// Good requests only, each with the client's own token: what the protection costs is
    /// measured on the common case.
    pub const REUSED_ONLY: Mix = Mix {
        bad_every: None,
        fresh_every: None,
        replay_every: None,
    };

    /// The kind of `client`'s `n`-th request in `phase`.
    pub fn kind(self, phase: Phase, client: usize, n: u64) -> Kind {
        // Clients replay at different turns, so that a phase shorter than `replay_every`
        // requests per client (Redis down: each good request waits out the bound) has some.
        if let Some(every) = self.replay_every.filter(|every| *every > 0) {
            if (n + client as u64) % every == every - 1 {
                return Kind::Replay;
            }
        }
        let mut slot = n;
        if let Some(bad_every) = self.bad_every.filter(|every| *every > 0) {
            if n % bad_every == bad_every - 1 {
                // Clients start at different kinds, so that all kinds are under way at any moment.
                let turn = (n / bad_every) as usize + client;
                return BAD_KINDS[turn % BAD_KINDS.len()];
            }
            slot = n - n / bad_every;
        }
        let key = phase.key_of(slot + client as u64);
        match self.fresh_every.filter(|every| *every > 0) {
            Some(every) if slot % every == every - 1 => Kind::Fresh(key),
            _ => Kind::Reused(key),
        }
    }
}

/// Latencies in microseconds, from 1 µs to a minute, three significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("fixed, valid histogram bounds")
}

/// What one phase measured.
#[derive(Clone)]
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
    /// Requests that must be refused, replays among them.
    pub refused: Histogram<u64>,
    /// Wrong answers, by request kind and what came back.
    pub wrong: BTreeMap<(String, String), u64>,
    /// Timing-dependent requests in the grace window that got the answer from before the change,
    /// not held against the server.
    pub graced: u64,
    /// When the last of them was sent, from the phase's start: how long the server took to pick
    /// up the change, at most.
    pub last_graced: Option<Duration>,
    /// Replays sent: requests another instance accepted, sent again.
    pub replays: u64,
    /// Replays taken (200 with the tool list).
    pub replays_taken: u64,
    /// Replay turns with nothing to replay (no request accepted by another instance yet).
    pub replays_unsent: u64,
    /// Fetches the JWKS endpoint received during the phase.
    pub jwks_fetches: u64,
    /// CPU time the server used during the phase (all instances), if known.
    pub server_cpu: Option<Duration>,
    /// CPU time the shared replay memory (Redis) used during the phase, if there is one.
    pub store_cpu: Option<Duration>,
    /// CPU time this program used during the phase, if known.
    pub load_cpu: Option<Duration>,
    /// CPU time the whole machine used during the phase, if known.
    pub machine_cpu: Option<Duration>,
}

impl PhaseResult {
    /// Nothing measured yet.
    pub fn new(phase: Phase) -> PhaseResult {
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
            replays: 0,
            replays_taken: 0,
            replays_unsent: 0,
            jwks_fetches: 0,
            server_cpu: None,
            store_cpu: None,
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
        expected: &Expectation,
        verdict: Verdict,
        micros: u64,
        offset: Duration,
    ) {
        // Values beyond the histogram's minute are dropped: the request timeout is shorter.
        let _ = self.all.record(micros);
        let _ = match kind {
            Kind::Fresh(_) if expected.right == Expected::Served => self.fresh.record(micros),
            Kind::Reused(_) if expected.right == Expected::Served => self.reused.record(micros),
            _ => self.refused.record(micros),
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

    /// Adds another client's measures (or another phase's) to these; the times and CPU times add
    /// up as well, so that a sum of phases reads as one.
    pub fn merge(&mut self, other: PhaseResult) {
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
        self.replays += other.replays;
        self.replays_taken += other.replays_taken;
        self.replays_unsent += other.replays_unsent;
        self.jwks_fetches += other.jwks_fetches;
        let add = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
            (Some(a), Some(b)) => Some(a + b),
            (a, None) => a,
            (None, b) => b,
        };
        self.server_cpu = add(self.server_cpu, other.server_cpu);
        self.store_cpu = add(self.store_cpu, other.store_cpu);
        self.load_cpu = add(self.load_cpu, other.load_cpu);
        self.machine_cpu = add(self.machine_cpu, other.machine_cpu);
        self.elapsed += other.elapsed;
    }
}

/// How the clients present their tokens.
pub enum Credentials {
    /// Bearer tokens, signed before the phases.
    Bearer(Arc<Tokens>),
    /// DPoP-bound tokens, a proof made ready for each request before its phase.
    Dpop(Arc<DpopClients>),
}

/// A request an instance accepted, which a replay sends again.
#[derive(Clone)]
struct Accepted {
    /// Its `Authorization` value.
    authorization: Arc<str>,
    /// Its proof.
    proof: Arc<str>,
    /// The phase it was accepted in.
    phase: Phase,
    /// The client's count of accepted requests at the time, to find the latest.
    serial: u64,
}

/// What a client carries from one phase to the next.
#[derive(Default)]
pub struct ClientState {
    /// The DPoP-bound requests made ready for this phase, in order.
    prepared: Vec<Prepared>,
    /// How many of them were taken.
    taken: usize,
    /// Whether they are taken again and again, in turn, once all were.
    cycled: bool,
    /// The latest request each instance accepted, by instance.
    accepted: Vec<Option<Accepted>>,
    /// Requests accepted so far.
    serial: u64,
}

impl ClientState {
    /// Fresh states for `clients` clients.
    pub fn many(clients: usize) -> Vec<ClientState> {
        (0..clients).map(|_| ClientState::default()).collect()
    }

    /// The requests made ready for the coming phase.
    pub fn ready(&mut self, prepared: Vec<Prepared>) {
        self.prepared = prepared;
        self.taken = 0;
        self.cycled = false;
    }

    /// Requests to send again and again, in turn, for a server that reads neither tokens nor
    /// proofs (the unprotected one): it costs what fresh ones would, and none need signing.
    pub fn ready_cycled(&mut self, prepared: Vec<Prepared>) {
        self.ready(prepared);
        self.cycled = true;
    }

    /// The next request made ready, if one is left.
    fn next_prepared(&mut self) -> Option<Prepared> {
        let index = match self.prepared.len() {
            0 => return None,
            len if self.cycled => self.taken % len,
            _ => self.taken,
        };
        let prepared = self.prepared.get(index)?.clone();
        self.taken += 1;
        Some(prepared)
    }

    /// The latest request accepted by an instance other than `target` in the phase that `phase`
    /// replays from.
    fn replayable(&self, target: usize, phase: Phase) -> Option<&Accepted> {
        self.accepted
            .iter()
            .enumerate()
            .filter(|(instance, _)| *instance != target)
            .filter_map(|(_, accepted)| accepted.as_ref())
            .filter(|accepted| accepted.phase == phase.replays_from())
            .max_by_key(|accepted| accepted.serial)
    }

    /// Notes that `target` accepted this request in `phase`.
    fn accepted(&mut self, target: usize, phase: Phase, authorization: Arc<str>, proof: Arc<str>) {
        if self.accepted.len() <= target {
            self.accepted.resize(target + 1, None);
        }
        self.serial += 1;
        self.accepted[target] = Some(Accepted {
            authorization,
            proof,
            phase,
            serial: self.serial,
        });
    }
}

/// One phase of load: `clients` clients, each sending one request after another for `duration`
/// to the instances in turn; timing-dependent requests sent within `grace` of the phase's start
/// are not judged.
#[derive(Debug, Clone, Copy)]
pub struct PhaseRun {
    /// The phase.
    pub phase: Phase,
    /// How long clients start new requests.
    pub duration: Duration,
    /// The window after the phase's change in which timing-dependent answers are not judged.
    pub grace: Duration,
    /// How many clients run at once.
    pub clients: usize,
    /// The request mix (of bearer requests; DPoP-bound ones are made ready with their own).
    pub mix: Mix,
    /// What the answers are judged against.
    pub setting: Setting,
    /// The requests a second all clients send together, each at its set time, or `None` for each
    /// client's next request as soon as its last is answered. With a rate, a request's latency
    /// counts from its set time, so a request held up by the one before is not flattered by it.
    pub rate: Option<u64>,
}

impl PhaseRun {
    /// Runs the phase to its end against the instances at `urls` and gathers what the clients
    /// measured; gives the clients' states back for the next phase.
    pub async fn run(
        self,
        http: &reqwest::Client,
        urls: &Arc<[String]>,
        credentials: &Credentials,
        states: Vec<ClientState>,
    ) -> (PhaseResult, Vec<ClientState>) {
        let start = Instant::now();
        let tasks: Vec<_> = states
            .into_iter()
            .chain(std::iter::repeat_with(ClientState::default))
            .take(self.clients)
            .enumerate()
            .map(|(client, state)| {
                let (http, urls) = (http.clone(), Arc::clone(urls));
                let credentials = match credentials {
                    Credentials::Bearer(tokens) => Credentials::Bearer(Arc::clone(tokens)),
                    Credentials::Dpop(clients) => Credentials::Dpop(Arc::clone(clients)),
                };
                tokio::spawn(async move {
                    self.client(client, start, &http, &urls, &credentials, state)
                        .await
                })
            })
            .collect();
        let mut total = PhaseResult::new(self.phase);
        let mut states = Vec::with_capacity(self.clients);
        for task in tasks {
            match task.await {
                Ok((result, state)) => {
                    total.merge(result);
                    states.push(state);
                }
                Err(error) => {
                    let key = ("client task".to_owned(), error.to_string());
                    *total.wrong.entry(key).or_default() += 1;
                    states.push(ClientState::default());
                }
            }
        }
        total.elapsed = start.elapsed();
        (total, states)
    }

    /// One client: a request after another, each sent once the last was answered, until the
    /// phase's end; its `n`-th to instance `(n + client) % instances`, so that the clients
    /// alternate between the instances and each instance gets every kind.
    async fn client(
        self,
        client: usize,
        start: Instant,
        http: &reqwest::Client,
        urls: &[String],
        credentials: &Credentials,
        mut state: ClientState,
    ) -> (PhaseResult, ClientState) {
        let mut result = PhaseResult::new(self.phase);
        let deadline = start + self.duration;
        // Each client's requests `clients / rate` apart, the clients spread over that interval.
        let interval = self
            .rate
            .map(|rate| Duration::from_secs_f64(self.clients as f64 / rate.max(1) as f64));
        let mut n = 0;
        while Instant::now() < deadline {
            let due = interval.map(|interval| {
                start + interval.mul_f64(n as f64 + client as f64 / self.clients.max(1) as f64)
            });
            if let Some(due) = due {
                if due >= deadline {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
            }
            let target = (n as usize + client) % urls.len().max(1);
            let (kind, authorization, proof) = match credentials {
                Credentials::Bearer(tokens) => {
                    let kind = self.mix.kind(self.phase, client, n);
                    let authorization = tokens.authorization(self.phase, kind, client).await;
                    (kind, authorization.map(Arc::from), None)
                }
                Credentials::Dpop(clients) => {
                    let prepared = match state.next_prepared() {
                        Some(prepared) => prepared,
                        None => {
                            clients.count_late();
                            let (clients, phase) = (Arc::clone(clients), self.phase);
                            let late = tokio::task::spawn_blocking(move || {
                                clients.prepare(phase, client, n)
                            });
                            match late.await {
                                Ok(prepared) => prepared,
                                Err(_) => break,
                            }
                        }
                    };
                    if prepared.kind == Kind::Replay {
                        match state.replayable(target, self.phase) {
                            Some(accepted) => (
                                Kind::Replay,
                                Some(Arc::clone(&accepted.authorization)),
                                Some(Arc::clone(&accepted.proof)),
                            ),
                            None => {
                                result.replays_unsent += 1;
                                n += 1;
                                continue;
                            }
                        }
                    } else {
                        (prepared.kind, prepared.authorization, prepared.proof)
                    }
                }
            };
            n += 1;
            let Some(url) = urls.get(target) else { break };
            let sent = Instant::now();
            let answer = send(http, url, authorization.as_deref(), proof.as_deref()).await;
            let micros = due
                .map_or(sent, |due| due.min(sent))
                .elapsed()
                .as_micros()
                .try_into()
                .unwrap_or(u64::MAX);
            let offset = sent.duration_since(start);
            let expected = self.phase.expected(kind, self.setting);
            let verdict = judge(&answer, &expected, self.setting.scheme, offset < self.grace);
            let taken = matches!(
                answer,
                Answer::Http {
                    status: 200,
                    tool_list: true,
                    ..
                }
            );
            if kind == Kind::Replay {
                result.replays += 1;
                result.replays_taken += u64::from(taken);
            } else if let (true, true, Some(authorization), Some(proof)) = (
                taken && verdict == Verdict::Right,
                expected.is_settled(),
                authorization,
                proof,
            ) {
                // Only a request whose answer did not hang on timing: its replay is then refused
                // for the proof's reuse alone, not for a key withdrawn since.
                state.accepted(target, self.phase, authorization, proof);
            }
            result.record(kind, &expected, verdict, micros, offset);
        }
        (result, state)
    }
}

/// Sends one `tools/list` with `authorization` and `proof` (the `DPoP` header), and reads what the
/// judge needs.
async fn send(
    http: &reqwest::Client,
    url: &str,
    authorization: Option<&str>,
    proof: Option<&str>,
) -> Answer {
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
    if let Some(proof) = proof {
        request = request.header("dpop", proof);
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
    let unavailable = status == 503 && contains(&body, b"\"temporarily_unavailable\"");
    Answer::Http {
        status,
        challenge,
        tool_list,
        unavailable,
    }
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_take_their_turn_and_the_rest_of_the_mix_is_unchanged() {
        let mix = Mix {
            bad_every: Some(4),
            fresh_every: Some(32),
            replay_every: Some(16),
        };
        let without = Mix {
            replay_every: None,
            ..mix
        };
        for client in [0, 3, 17] {
            let mut replays = Vec::new();
            for n in 0..64 {
                let kind = mix.kind(Phase::Steady, client, n);
                if kind == Kind::Replay {
                    replays.push(n);
                } else {
                    assert_eq!(kind, without.kind(Phase::Steady, client, n), "request {n}");
                }
            }
            assert_eq!(
                replays.len(),
                4,
                "one in 16 for client {client}: {replays:?}"
            );
            assert!(
                replays.windows(2).all(|pair| pair[1] - pair[0] == 16),
                "{replays:?}"
            );
        }
        // Clients take their turns at different requests.
        let first = |client| (0..16).find(|n| mix.kind(Phase::Steady, client, *n) == Kind::Replay);
        assert_ne!(first(0), first(3));
    }

    #[test]
    fn the_cost_mix_sends_each_client_its_own_token() {
        for n in 0..100 {
            assert_eq!(
                Mix::REUSED_ONLY.kind(Phase::Steady, 7, n),
                Kind::Reused(Key::A)
            );
        }
    }

    fn accepted(state: &mut ClientState, target: usize, phase: Phase, proof: &str) {
        state.accepted(target, phase, Arc::from("DPoP t"), Arc::from(proof));
    }

    #[test]
    fn a_replay_repeats_the_latest_request_another_instance_accepted_in_its_phase() {
        let mut state = ClientState::default();
        assert!(state.replayable(0, Phase::Steady).is_none());
        accepted(&mut state, 0, Phase::Steady, "p1");
        assert!(
            state.replayable(0, Phase::Steady).is_none(),
            "never to the instance that took it"
        );
        accepted(&mut state, 1, Phase::Steady, "p2");
        accepted(&mut state, 2, Phase::Steady, "p3");
        let proof = |state: &ClientState, target, phase| {
            state
                .replayable(target, phase)
                .map(|accepted| accepted.proof.to_string())
        };
        assert_eq!(proof(&state, 0, Phase::Steady).as_deref(), Some("p3"));
        assert_eq!(proof(&state, 2, Phase::Steady).as_deref(), Some("p2"));
        assert_eq!(
            proof(&state, 1, Phase::Overlap),
            None,
            "not from another phase"
        );
        accepted(&mut state, 0, Phase::Outage, "p4");
        assert_eq!(
            proof(&state, 1, Phase::RedisDown).as_deref(),
            Some("p4"),
            "while Redis is down, what it recorded before"
        );
        assert_eq!(proof(&state, 1, Phase::RedisBack), None);
    }
}

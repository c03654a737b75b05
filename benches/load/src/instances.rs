//! DPoP-bound load across instances of the example sharing one resource: first with each
//! instance's own replay memory, then with one Redis shared by all, side by side.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{json, Value};
use url::Url;

use crate::clients::{ClientState, Credentials, Mix, PhaseResult, PhaseRun};
use crate::dpop::{self, DpopClients, Prepared};
use crate::jwks::{Jwks, Served};
use crate::options::{DpopKeyOptions, ExampleOptions, KeyIntervalOptions, LoadOptions, MixOptions};
use crate::phase::{Phase, ReplayMemory, Scheme, Setting};
use crate::redis::Redis;
use crate::report::{self, RunInfo};
use crate::server::{self, Protection, Server, ServerSettings};
use crate::tokens::{KeyRing, Minter};

/// The least throughput the shared memory may keep of the instances' own memories': issue 36's
/// goal.
pub const THROUGHPUT_GOAL: f64 = 0.5;
/// The most the shared memory may add to p99, in milliseconds: issue 36's goal.
pub const P99_GOAL_MS: f64 = 1.0;

/// Requests a second per client to make ready for while Redis is down: each good request waits
/// out the example's 500 ms bound on the memory, the bad ones (refused before it) do not.
const REDIS_DOWN_PACE: f64 = 8.0;

/// The oldest a proof made ready may be when sent, with a margin under the example's window (60 s
/// old and 60 s of leeway): each phase's proofs are made just before it.
const LONGEST_PHASE_SECS: u64 = 60;

/// The options of `instances`.
#[derive(Args)]
pub struct InstancesOptions {
    /// The example and its logs.
    #[command(flatten)]
    example: ExampleOptions,
    /// The redis-server binary
    #[arg(long, default_value = "redis-server")]
    redis_server: PathBuf,
    /// Instances of the example, one resource on as many ports
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(2..=8))]
    instances: u64,
    /// Where to write the summary (JSON): both runs and their comparison
    #[arg(long)]
    summary: Option<PathBuf>,
    /// The JWKS, the clients, the scope.
    #[command(flatten)]
    load: LoadOptions,
    /// The clients' DPoP keys.
    #[command(flatten)]
    dpop: DpopKeyOptions,
    /// Seconds of the steady phase (key A)
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=LONGEST_PHASE_SECS))]
    steady_secs: u64,
    /// Seconds of the rotation's overlap (keys A and B served, new tokens signed by B)
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=LONGEST_PHASE_SECS))]
    overlap_secs: u64,
    /// Seconds with key A withdrawn (key B only)
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=LONGEST_PHASE_SECS))]
    withdrawn_secs: u64,
    /// Seconds of JWKS outage (500 or a dropped connection)
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=LONGEST_PHASE_SECS))]
    outage_secs: u64,
    /// Seconds with Redis killed (shared memory only)
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=LONGEST_PHASE_SECS))]
    redis_down_secs: u64,
    /// Seconds after Redis is started again (shared memory only)
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=LONGEST_PHASE_SECS))]
    redis_back_secs: u64,
    /// Seconds after Redis is back within which the instances must take requests again: the
    /// longest wait of the example's reconnection (5 s) and a second
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u64).range(1..))]
    redis_recovery_secs: u64,
    /// The servers' key intervals.
    #[command(flatten)]
    keys: KeyIntervalOptions,
    /// The bad and fresh tokens among the requests.
    #[command(flatten)]
    mix: MixOptions,
    /// One request in this many replays the latest request another instance accepted
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(2..))]
    replay_every: u64,
    /// Requests a second to make DPoP proofs ready for before each store's first phase (each
    /// later phase goes by this or the store's fastest phase so far, whichever is faster)
    #[arg(long, default_value_t = 4000)]
    dpop_rate: u64,
    /// Send this many requests a second in all, each at its set time, latency counted from it (an
    /// open loop, for p99 below saturation), instead of each client's next request as soon as its
    /// last is answered. Each client still sends one request at a time: if answers take longer
    /// than clients / rate, the clients fall behind, req/s shows less than the rate, and p99 leaves
    /// out the requests not sent by the phase's end
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    rate: Option<u64>,
}

/// One store's run: its phases.
struct StoreRun {
    /// The store.
    memory: ReplayMemory,
    /// The phases, in order.
    results: Vec<PhaseResult>,
}

impl StoreRun {
    /// The phases both stores ran, merged into one.
    fn common(&self) -> PhaseResult {
        let mut total = PhaseResult::new(Phase::Steady);
        for result in self
            .results
            .iter()
            .filter(|r| Phase::ALL.contains(&r.phase))
        {
            total.merge(result.clone());
        }
        total
    }

    /// The result of `phase`, if it ran.
    fn phase(&self, phase: Phase) -> Option<&PhaseResult> {
        self.results.iter().find(|result| result.phase == phase)
    }
}

/// The label of a store's table.
fn label(memory: ReplayMemory) -> &'static str {
    match memory {
        ReplayMemory::PerInstance => "in-memory (each instance its own)",
        ReplayMemory::Shared => "redis (shared)",
    }
}

/// The shared store against the instances' own: throughput and p99.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Versus {
    /// Requests per second, shared / own.
    pub throughput: f64,
    /// p99 shared minus p99 own, milliseconds.
    pub p99_added_ms: f64,
}

impl Versus {
    /// `shared` against `own`: `(requests/s, p99 µs)` each.
    pub fn of(shared: (f64, u64), own: (f64, u64)) -> Versus {
        let throughput = if own.0 > 0.0 { shared.0 / own.0 } else { 0.0 };
        Versus {
            throughput,
            p99_added_ms: (shared.1 as f64 - own.1 as f64) / 1000.0,
        }
    }

    /// Whether the throughput goal is met.
    pub fn throughput_met(&self) -> bool {
        self.throughput >= THROUGHPUT_GOAL
    }

    /// Whether the p99 goal is met.
    pub fn p99_met(&self) -> bool {
        self.p99_added_ms <= P99_GOAL_MS
    }
}

/// Requests per second and p99 (µs) of `result`.
fn pace(result: &PhaseResult) -> (f64, u64) {
    (report::rate(result), result.all.value_at_quantile(0.99))
}

/// Runs both stores, prints their tables and the comparison; `Ok(false)` if any answer was wrong.
///
/// Both stores' instances run throughout, and the stores take turns phase by phase (the first of a
/// phase in turn, so that each meets a key change under load): on a shared machine, what else runs
/// changes from minute to minute, and two measures made seconds apart see the same machine.
pub async fn instances(options: InstancesOptions) -> Result<bool, Box<dyn std::error::Error>> {
    let grace = options
        .keys
        .grace_within(options.overlap_secs, options.withdrawn_secs)?;
    let recovery = Duration::from_secs(options.redis_recovery_secs);
    if options.redis_back_secs <= options.redis_recovery_secs {
        return Err(format!(
            "--redis-back-secs must outlast the recovery bound ({} s) to judge anything after it",
            options.redis_recovery_secs
        )
        .into());
    }
    let clients = options.load.clients()?;
    let keys = KeyRing::load()?;
    let jwks = Jwks::start(options.load.jwks_listen, &keys.a.jwk, &keys.b.jwk).await?;
    let http = crate::http_client(clients)?;
    let machine_before = crate::cpu::machine_line();
    let mut redis = Redis::start(&options.redis_server).await?;
    jwks.serve(Served::A);
    let mut stores = Vec::new();
    for memory in [ReplayMemory::PerInstance, ReplayMemory::Shared] {
        let redis_url = (memory == ReplayMemory::Shared).then(|| redis.url());
        stores.push(Store::start(&options, &jwks, &http, memory, redis_url).await?);
    }
    let phases = Phase::ALL
        .into_iter()
        .zip([
            options.steady_secs,
            options.overlap_secs,
            options.withdrawn_secs,
            options.outage_secs,
        ])
        .chain(
            Phase::REDIS
                .into_iter()
                .zip([options.redis_down_secs, options.redis_back_secs]),
        );
    let mut stashed = None;
    for (turn, (phase, seconds)) in phases.enumerate() {
        jwks.serve(phase.served());
        let mut order: Vec<&mut Store> = stores.iter_mut().collect();
        if turn % 2 == 1 {
            order.reverse();
        }
        for store in order {
            let shared = store.setting.replay_memory == ReplayMemory::Shared;
            if Phase::REDIS.contains(&phase) && !shared {
                continue;
            }
            let prepared = match stashed.take() {
                Some(prepared) => prepared,
                None => store.prepare(phase, seconds),
            };
            store.ready(prepared);
            match phase {
                Phase::RedisDown => {
                    // Made ready before Redis goes, so that it is down for the phase's length only.
                    stashed = Some(store.prepare(Phase::RedisBack, options.redis_back_secs));
                    redis.kill().await?;
                }
                Phase::RedisBack => redis.restart().await?,
                _ => {}
            }
            let run = PhaseRun {
                phase,
                duration: Duration::from_secs(seconds),
                grace: match phase {
                    Phase::RedisBack => recovery,
                    _ => grace,
                },
                clients,
                mix: store.mix,
                setting: store.setting,
                rate: options.rate,
            };
            let states = std::mem::take(&mut store.states);
            let watched = crate::Watched {
                jwks: &jwks,
                servers: &store.servers,
                redis: shared.then_some(&redis),
            };
            let (result, states) = crate::measured(
                run,
                &http,
                &store.urls,
                &store.credentials,
                states,
                &watched,
            )
            .await;
            store.states = states;
            // The fastest phase so far: signing too many ahead costs time between phases, too
            // few costs cores during one.
            if Phase::ALL.contains(&phase) {
                store.pace = store.pace.max(report::rate(&result));
            }
            eprintln!("{}: {} done", store.label(), phase.name());
            store.results.push(result);
        }
    }
    drop(redis);

    let mut ok = true;
    let mut summaries = Vec::new();
    let mut runs = Vec::new();
    for store in stores {
        let info = RunInfo {
            label: store.label(),
            clients,
            // The JWKS fetches counted are every running instance's.
            instances: usize::try_from(options.instances)? * 2,
            grace,
            fetch_spacing: options.keys.fetch_spacing(),
            signed_late: store.dpop.signed_late(),
            late_what: "DPoP-bound requests",
        };
        let (table, summary) = report::table(&info, &store.results);
        print!("{table}");
        println!();
        ok &= crate::judged(&info, &store.results);
        summaries.push(summary);
        runs.push(StoreRun {
            memory: store.setting.replay_memory,
            results: store.results,
        });
    }
    let (table, comparison) = compare(&options, &runs, &machine_before, recovery);
    print!("{table}");
    if let Some(path) = &options.summary {
        let summary = json!({ "runs": summaries, "comparison": comparison });
        std::fs::write(path, serde_json::to_string_pretty(&summary)?)?;
    }
    Ok(ok)
}

/// One store's instances and clients, and what its phases measured.
struct Store {
    /// The instances, on a port each, one resource.
    servers: Vec<Server>,
    /// Their MCP endpoints.
    urls: Arc<[String]>,
    /// The clients.
    dpop: Arc<DpopClients>,
    /// The same, as the phases take them.
    credentials: Credentials,
    /// The clients' states between phases.
    states: Vec<ClientState>,
    /// The request mix.
    mix: Mix,
    /// What the answers are judged against.
    setting: Setting,
    /// The pace of its fastest phase (of the first four) so far, requests a second, to make the
    /// next one's requests ready for.
    pace: f64,
    /// Its phases, in order.
    results: Vec<PhaseResult>,
}

impl Store {
    /// Starts the instances of one store (each its own replay memory, or the Redis at
    /// `redis_url`) and makes their clients.
    async fn start(
        options: &InstancesOptions,
        jwks: &Jwks,
        http: &reqwest::Client,
        memory: ReplayMemory,
        redis_url: Option<String>,
    ) -> Result<Store, Box<dyn std::error::Error>> {
        let clients = options.load.clients()?;
        let keys_per_client = options.dpop.keys_per_client()?;
        let instances = usize::try_from(options.instances)?;
        let listens = (0..instances)
            .map(|_| server::free_port())
            .collect::<Result<Vec<_>, _>>()?;
        // One resource: tokens and proofs name the first instance's URL, whichever instance they
        // go to, as behind a load balancer.
        let resource = format!("http://{}/mcp", listens[0]);
        let mut more = vec!["--require-dpop".to_owned()];
        if let Some(url) = redis_url {
            more.extend(["--redis-url".to_owned(), url]);
        }
        let protection = Protection::of(
            jwks,
            &options.load.scope,
            options.keys.keys_refresh_interval,
            options.keys.keys_refetch_interval,
        )
        .with(more);
        let short = match memory {
            ReplayMemory::PerInstance => "memory",
            ReplayMemory::Shared => "redis",
        };
        let mut servers = Vec::new();
        for (index, listen) in listens.iter().enumerate() {
            let log = options
                .example
                .server_logs
                .as_ref()
                .map(|dir| dir.join(format!("instances-{short}-{index}.log")));
            let settings = ServerSettings {
                binary: &options.example.server_bin,
                listen: *listen,
                resource: &resource,
                protection: Some(&protection),
                log: log.as_deref(),
            };
            servers.push(Server::start(&settings, http).await?);
        }
        let urls: Arc<[String]> = servers.iter().map(|server| server.url.clone()).collect();
        let mix = options.mix.mix(Some(options.replay_every));
        let keys = KeyRing::load()?;
        let minter = Minter::new(&jwks.issuer(), &resource, &options.load.scope);
        let htu = Url::parse(&resource)?;
        let dpop = Arc::new(tokio::task::block_in_place(|| {
            DpopClients::new(keys, minter, htu, clients, keys_per_client, mix)
        }));
        Ok(Store {
            servers,
            urls,
            credentials: Credentials::Dpop(Arc::clone(&dpop)),
            dpop,
            states: ClientState::many(clients),
            mix,
            setting: Setting {
                scheme: Scheme::Dpop,
                replay_memory: memory,
            },
            pace: options.dpop_rate as f64,
            results: Vec::new(),
        })
    }

    /// The label of its table.
    fn label(&self) -> &'static str {
        label(self.setting.replay_memory)
    }

    /// Every client's first requests of `phase`, lasting `seconds`.
    fn prepare(&self, phase: Phase, seconds: u64) -> Vec<Vec<Prepared>> {
        let clients = self.states.len();
        prepare(&self.dpop, phase, seconds, self.pace, clients, self.label())
    }

    /// Gives each client its requests made ready.
    fn ready(&mut self, prepared: Vec<Vec<Prepared>>) {
        for (state, prepared) in self.states.iter_mut().zip(prepared) {
            state.ready(prepared);
        }
    }
}

/// Every client's first requests of `phase` (lasting `seconds`), made ready for `pace` requests a
/// second (a pace of its own while Redis is down).
fn prepare(
    dpop: &DpopClients,
    phase: Phase,
    seconds: u64,
    pace: f64,
    clients: usize,
    label: &str,
) -> Vec<Vec<Prepared>> {
    let ready = Instant::now();
    let pace = match phase {
        Phase::RedisDown => REDIS_DOWN_PACE * clients as f64,
        _ => pace,
    };
    let count = dpop::ahead(pace, seconds as f64, clients);
    let prepared = tokio::task::block_in_place(|| dpop.prepare_phase(phase, count));
    eprintln!(
        "{label}: {} DPoP-bound requests made ready for {} in {:.1} s",
        count * clients,
        phase.name(),
        ready.elapsed().as_secs_f64()
    );
    prepared
}

/// The two stores side by side, per phase both ran and over all of them; the replays each took;
/// Redis's restart. And the same as JSON.
fn compare(
    options: &InstancesOptions,
    runs: &[StoreRun],
    machine_before: &str,
    recovery: Duration,
) -> (String, Value) {
    let mut out = String::new();
    let (Some(own), Some(shared)) = (
        runs.iter()
            .find(|run| run.memory == ReplayMemory::PerInstance),
        runs.iter().find(|run| run.memory == ReplayMemory::Shared),
    ) else {
        return (out, Value::Null);
    };
    let _ = writeln!(
        out,
        "== {} instances, one resource, DPoP-bound (--require-dpop), {} clients alternating between them{}, one request in {} replaying the latest another instance accepted: redis (shared) vs in-memory (each instance its own)",
        options.instances,
        options.load.clients,
        options.rate.map_or(String::new(), |rate| format!(" at {rate} requests/s in all (open loop, latency from each request's set time)")),
        options.replay_every
    );
    let _ = writeln!(
        out,
        "{machine_before} (start); {} (end)",
        crate::cpu::machine_line()
    );
    let _ = writeln!(
        out,
        "{:<15} | {:>7} {:>7} {:>6} | {:>7} {:>7} {:>6} | {:>10} {:>8} | {:>8} {:>11} {:>11} | {:>5} {:>5}",
        "phase",
        "req/s R",
        "req/s M",
        "ratio",
        "p99 R",
        "p99 M",
        "+ms",
        "srv µs R/M",
        "redis µs",
        "replays",
        "taken R",
        "taken M",
        "wrong",
        "R/M"
    );
    let mut rows = Vec::new();
    let mut row = |name: &str, r: &PhaseResult, m: Option<&PhaseResult>| {
        let versus = m.map(|m| Versus::of(pace(r), pace(m)));
        let shown = |value: Option<f64>| value.map_or("-".into(), |value| format!("{value:.0}"));
        let _ = writeln!(
            out,
            "{:<15} | {:>7.0} {:>7} {:>6} | {:>7} {:>7} {:>6} | {:>10} {:>8} | {:>8} {:>11} {:>11} | {:>5} {:>5}",
            name,
            report::rate(r),
            m.map_or("-".into(), |m| format!("{:.0}", report::rate(m))),
            versus.map_or("-".into(), |v| format!("{:.2}x", v.throughput)),
            report::ms(r.all.value_at_quantile(0.99)),
            m.map_or("-".into(), |m| report::ms(m.all.value_at_quantile(0.99))),
            versus.map_or("-".into(), |v| format!("{:+.2}", v.p99_added_ms)),
            format!(
                "{}/{}",
                shown(report::server_per_request(r)),
                shown(m.and_then(report::server_per_request))
            ),
            shown(report::per_request(r.store_cpu, r)),
            format!("{}/{}", r.replays, m.map_or(0, |m| m.replays)),
            r.replays_taken,
            m.map_or("-".into(), |m| m.replays_taken.to_string()),
            r.wrong_total(),
            m.map_or("-".into(), |m| m.wrong_total().to_string()),
        );
        rows.push(json!({
            "phase": name,
            "rps_redis": report::rate(r),
            "rps_memory": m.map(report::rate),
            "throughput_ratio": versus.map(|v| v.throughput),
            "p99_us_redis": r.all.value_at_quantile(0.99),
            "p99_us_memory": m.map(|m| m.all.value_at_quantile(0.99)),
            "p99_added_ms": versus.map(|v| v.p99_added_ms),
            "server_cpu_us_per_request_redis": report::server_per_request(r),
            "server_cpu_us_per_request_memory": m.and_then(report::server_per_request),
            "redis_cpu_us_per_request": report::per_request(r.store_cpu, r),
            "replays_redis": r.replays,
            "replays_taken_redis": r.replays_taken,
            "replays_memory": m.map(|m| m.replays),
            "replays_taken_memory": m.map(|m| m.replays_taken),
            "wrong_redis": r.wrong_total(),
            "wrong_memory": m.map(PhaseResult::wrong_total),
        }));
        versus
    };
    for result in &shared.results {
        row(result.phase.name(), result, own.phase(result.phase));
    }
    let (shared_common, own_common) = (shared.common(), own.common());
    let overall = row("first four", &shared_common, Some(&own_common));
    let _ = writeln!(
        out,
        "  R: redis (shared), M: in-memory (each instance its own); ratio: req/s R / M; +ms: p99 R - M;\n  \
         srv µs: the instances' CPU time per request; redis µs: redis-server's; replays: sent R/M;\n  \
         taken: replays answered 200 (through the shared memory, each is a wrong answer too);\n  \
         first four: the phases both ran, together"
    );
    let replays_taken_shared: u64 = shared.results.iter().map(|r| r.replays_taken).sum();
    let replays_shared: u64 = shared.results.iter().map(|r| r.replays).sum();
    let replays_taken_own: u64 = own.results.iter().map(|r| r.replays_taken).sum();
    let replays_own: u64 = own.results.iter().map(|r| r.replays).sum();
    let _ = writeln!(
        out,
        "replays taken: redis {replays_taken_shared} of {replays_shared} (must be 0); in-memory {replays_taken_own} of {replays_own}"
    );
    if let Some(overall) = overall {
        let verdict = |met: bool| if met { "met" } else { "NOT met" };
        let _ = writeln!(
            out,
            "goals over the first four phases: throughput {:.2}x (≥ {THROUGHPUT_GOAL}x: {}), p99 {:+.2} ms (≤ +{P99_GOAL_MS} ms: {})",
            overall.throughput,
            verdict(overall.throughput_met()),
            overall.p99_added_ms,
            verdict(overall.p99_met())
        );
    }
    let down = shared.phase(Phase::RedisDown);
    let back = shared.phase(Phase::RedisBack);
    if let (Some(down), Some(back)) = (down, back) {
        let taken_down = down
            .wrong
            .iter()
            .filter(|((_, got), _)| got.starts_with("200"))
            .map(|(_, count)| count)
            .sum::<u64>();
        let recovered = match back.last_graced {
            Some(last) => format!(
                "the last 503 came for a request sent {:.2} s after",
                last.as_secs_f64()
            ),
            None => "no 503 after it".into(),
        };
        let _ = writeln!(
            out,
            "redis killed: {} requests, {taken_down} taken while it was down (must be 0); started again: {recovered} (bound {} s)",
            down.all.len(),
            recovery.as_secs()
        );
    }
    let summary = json!({
        "instances": options.instances,
        "clients": options.load.clients,
        "rate": options.rate,
        "replay_every": options.replay_every,
        "throughput_goal": THROUGHPUT_GOAL,
        "p99_goal_ms": P99_GOAL_MS,
        "rows": rows,
        "overall": overall.map(|v| json!({
            "throughput_ratio": v.throughput,
            "p99_added_ms": v.p99_added_ms,
            "throughput_met": v.throughput_met(),
            "p99_met": v.p99_met(),
        })),
        "replays_taken_redis": replays_taken_shared,
        "replays_redis": replays_shared,
        "replays_taken_memory": replays_taken_own,
        "replays_memory": replays_own,
        "recovery_bound_secs": recovery.as_secs(),
        "last_unavailable_after_restart_ms": back.and_then(|b| b.last_graced).map(|l| l.as_millis() as u64),
    });
    (out, summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_goals_are_half_the_throughput_and_a_millisecond_of_p99() {
        let close = Versus::of((1200.0, 4_500), (2000.0, 4_000));
        assert_eq!(close.throughput, 0.6);
        assert_eq!(close.p99_added_ms, 0.5);
        assert!(close.throughput_met() && close.p99_met());

        let slow = Versus::of((900.0, 5_200), (2000.0, 4_000));
        assert!(!slow.throughput_met());
        assert!(!slow.p99_met());

        let faster = Versus::of((2100.0, 3_000), (2000.0, 4_000));
        assert_eq!(faster.p99_added_ms, -1.0);
        assert!(faster.throughput_met() && faster.p99_met());
        assert_eq!(Versus::of((10.0, 1), (0.0, 1)).throughput, 0.0);
    }

    #[test]
    fn instances_takes_what_scripts_load_passes_with_its_defaults() {
        let cli = <crate::Cli as clap::Parser>::try_parse_from([
            "workos-connect-load",
            "instances",
            "--server-bin",
            "mcp-server",
            "--summary",
            "instances.json",
            "--server-logs",
            "logs",
            "--clients",
            "4",
        ])
        .unwrap();
        let crate::Command::Instances(options) = cli.command else {
            panic!("not instances");
        };
        assert_eq!(options.example.server_bin, PathBuf::from("mcp-server"));
        assert_eq!(options.summary, Some(PathBuf::from("instances.json")));
        assert_eq!(options.example.server_logs, Some(PathBuf::from("logs")));
        assert_eq!((options.load.clients, options.dpop.keys_per_client), (4, 8));
        let phases = [
            options.steady_secs,
            options.overlap_secs,
            options.withdrawn_secs,
            options.outage_secs,
            options.redis_down_secs,
            options.redis_back_secs,
        ];
        assert_eq!(phases, [5, 5, 5, 5, 4, 8]);
        assert_eq!(options.keys.grace(), Duration::from_secs(3));
        assert_eq!((options.mix.bad_every, options.mix.fresh_every), (4, 32));
        assert_eq!((options.replay_every, options.dpop_rate), (16, 4000));
    }

    #[test]
    fn the_first_four_phases_add_up_without_redis_s() {
        let phase = |phase, requests: u64, secs| {
            let mut result = PhaseResult::new(phase);
            for _ in 0..requests {
                result.all.record(1000).unwrap();
            }
            result.elapsed = Duration::from_secs(secs);
            result.replays = requests / 16;
            result
        };
        let run = StoreRun {
            memory: ReplayMemory::Shared,
            results: vec![
                phase(Phase::Steady, 1000, 1),
                phase(Phase::Outage, 3000, 1),
                phase(Phase::RedisDown, 50_000, 1),
            ],
        };
        let common = run.common();
        assert_eq!(common.all.len(), 4000);
        assert_eq!(report::rate(&common), 2000.0);
        assert_eq!(common.replays, 62 + 187);
    }
}

//! What the protection costs: the same load of good requests against the unprotected server and
//! against the example, bearer and then DPoP-bound, and the server's CPU time per request of each.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{json, Value};
use url::Url;

use crate::clients::{ClientState, Credentials, Mix, PhaseResult, PhaseRun, Tokens};
use crate::dpop::{self, DpopClients};
use crate::jwks::Jwks;
use crate::options::{DpopKeyOptions, ExampleOptions, LoadOptions};
use crate::phase::{Phase, ReplayMemory, Scheme, Setting};
use crate::report::{self, Cores};
use crate::server::{self, Protection, Server, ServerSettings};
use crate::tokens::{KeyRing, Minter};

/// The most a valid bearer request may cost the protected server, in CPU time, against the
/// unprotected one: issue 36's goal.
pub const BEARER_GOAL: f64 = 1.1;

/// DPoP-bound requests made ready per client for the unprotected server, sent in turn: it reads
/// no proof, so signing a fresh one for each request would only take cores from it.
const CYCLED: usize = 64;

/// The options of `cost`.
#[derive(Args)]
pub struct CostOptions {
    /// The example and its logs.
    #[command(flatten)]
    example: ExampleOptions,
    /// The mcp-server-unprotected binary (built with this program)
    #[arg(long)]
    unprotected_bin: PathBuf,
    /// Where to write the summary (JSON)
    #[arg(long)]
    summary: Option<PathBuf>,
    /// The JWKS, the clients, the scope.
    #[command(flatten)]
    load: LoadOptions,
    /// The clients' DPoP keys.
    #[command(flatten)]
    dpop: DpopKeyOptions,
    /// Seconds measured per server
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=60))]
    secs: u64,
    /// The servers of a scheme run at once and take turns in slices of this many milliseconds, so
    /// that both see the same machine
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(100..=60_000))]
    slice_ms: u64,
    /// Seconds of load before each measure, not counted (connections, caches, allocator)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=60))]
    warmup_secs: u64,
    /// How many times to run the four servers in turn; the ratios are over all rounds
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=20))]
    rounds: u64,
    /// Requests a second to make DPoP proofs ready for, for the protected server's warm-up; its
    /// measure goes by the warm-up's pace (and this, if the warm-up's proofs ran out)
    #[arg(long, default_value_t = 3000)]
    dpop_rate: u64,
}

/// One server measured.
struct Measured {
    /// Bearer or DPoP-bound.
    scheme: Scheme,
    /// The example (true) or the unprotected server.
    protected: bool,
    /// Which round, from 1.
    round: u64,
    /// What the measured phase gave.
    result: PhaseResult,
    /// DPoP-bound requests made ready during the phase, the proofs made ahead having run out.
    late: u64,
}

impl Measured {
    /// The row's name.
    fn name(&self) -> String {
        let protection = if self.protected {
            match self.scheme {
                Scheme::Bearer => "protected",
                Scheme::Dpop => "protected (--require-dpop)",
            }
        } else {
            "unprotected"
        };
        format!("{}, {protection}", self.scheme.name())
    }
}

/// Measures both schemes (`rounds` times), prints the table and the ratios; `Ok(false)` if any
/// answer was wrong.
pub async fn cost(options: CostOptions) -> Result<bool, Box<dyn std::error::Error>> {
    let clients = options.load.clients()?;
    let keys = KeyRing::load()?;
    let jwks = Jwks::start(options.load.jwks_listen, &keys.a.jwk, &keys.b.jwk).await?;
    jwks.serve(Phase::Steady.served());
    let http = crate::http_client(clients)?;
    let machine_before = crate::cpu::machine_line();
    let mut rows = Vec::new();
    for round in 1..=options.rounds {
        for scheme in [Scheme::Bearer, Scheme::Dpop] {
            for row in measure(&options, &jwks, &http, scheme, round).await? {
                eprintln!("cost: {} measured", row.name());
                rows.push(row);
            }
        }
    }
    let (table, summary) = table(&options, &rows, &machine_before);
    print!("{table}");
    if let Some(path) = &options.summary {
        std::fs::write(path, serde_json::to_string_pretty(&summary)?)?;
    }
    Ok(rows.iter().all(|row| row.result.wrong_total() == 0))
}

/// One server under measure, with its clients.
struct Subject {
    /// The unprotected server (false) or the example.
    protected: bool,
    /// The running server.
    servers: [Server; 1],
    /// Its MCP endpoint.
    urls: Arc<[String]>,
    /// The clients' tokens.
    credentials: Credentials,
    /// The clients' states between runs.
    states: Vec<ClientState>,
    /// What the answers are judged against.
    setting: Setting,
}

impl Subject {
    /// Starts the server (the example if `protected`, with `--require-dpop` for DPoP) and makes its
    /// clients' tokens.
    async fn start(
        options: &CostOptions,
        jwks: &Jwks,
        http: &reqwest::Client,
        scheme: Scheme,
        protected: bool,
        round: u64,
    ) -> Result<Subject, Box<dyn std::error::Error>> {
        let clients = options.load.clients()?;
        let keys_per_client = options.dpop.keys_per_client()?;
        let listen = server::free_port()?;
        let url = format!("http://{listen}/mcp");
        // Key set A throughout: no fetch but the first.
        let protection = Protection::of(jwks, &options.load.scope, 300, 60).with(match scheme {
            Scheme::Bearer => None,
            Scheme::Dpop => Some("--require-dpop".to_owned()),
        });
        let kind = if protected {
            "protected"
        } else {
            "unprotected"
        };
        let log = options.example.server_logs.as_ref().map(|dir| {
            dir.join(format!(
                "cost-{}-{kind}-{round}.log",
                scheme.name().to_lowercase()
            ))
        });
        let binary = if protected {
            &options.example.server_bin
        } else {
            &options.unprotected_bin
        };
        let settings = ServerSettings {
            binary,
            listen,
            resource: &url,
            protection: protected.then_some(&protection),
            log: log.as_deref(),
        };
        let server = Server::start(&settings, http).await?;

        let keys = KeyRing::load()?;
        let minter = Minter::new(&jwks.issuer(), &url, &options.load.scope);
        let credentials = match scheme {
            Scheme::Bearer => Credentials::Bearer(Arc::new(tokio::task::block_in_place(|| {
                Tokens::sign(keys, minter, clients, 0)
            }))),
            Scheme::Dpop => {
                let htu = Url::parse(&url)?;
                Credentials::Dpop(Arc::new(tokio::task::block_in_place(|| {
                    DpopClients::new(
                        keys,
                        minter,
                        htu,
                        clients,
                        keys_per_client,
                        Mix::REUSED_ONLY,
                    )
                })))
            }
        };
        Ok(Subject {
            protected,
            servers: [server],
            urls: Arc::from([url]),
            credentials,
            states: ClientState::many(clients),
            setting: Setting {
                scheme,
                replay_memory: ReplayMemory::PerInstance,
            },
        })
    }

    /// Makes DPoP-bound requests ready for `seconds` at `pace` requests a second; for the
    /// unprotected server, a few per client sent in turn. Nothing for bearer tokens.
    fn ready(&mut self, seconds: u64, pace: f64) {
        let Credentials::Dpop(dpop) = &self.credentials else {
            return;
        };
        let clients = self.states.len();
        let started = Instant::now();
        let count = match self.protected {
            true => dpop::ahead(pace, seconds as f64, clients),
            false => CYCLED,
        };
        let prepared = tokio::task::block_in_place(|| dpop.prepare_phase(Phase::Steady, count));
        for (state, prepared) in self.states.iter_mut().zip(prepared) {
            match self.protected {
                true => state.ready(prepared),
                false => state.ready_cycled(prepared),
            }
        }
        eprintln!(
            "cost: {} DPoP-bound requests made ready in {:.1} s",
            count * clients,
            started.elapsed().as_secs_f64()
        );
    }

    /// Loads the server for `duration`.
    async fn run(
        &mut self,
        duration: Duration,
        http: &reqwest::Client,
        jwks: &Jwks,
    ) -> PhaseResult {
        let run = PhaseRun {
            phase: Phase::Steady,
            duration,
            grace: Duration::ZERO,
            clients: self.states.len(),
            mix: Mix::REUSED_ONLY,
            setting: self.setting,
            rate: None,
        };
        let watched = crate::Watched {
            jwks,
            servers: &self.servers,
            redis: None,
        };
        let states = std::mem::take(&mut self.states);
        let (result, states) =
            crate::measured(run, http, &self.urls, &self.credentials, states, &watched).await;
        self.states = states;
        result
    }
}

/// Measures the unprotected server and the example for `scheme`: both run at once and, after a
/// warm-up each, take turns in slices (the first of a pair in turn), so that both see the same
/// machine however busy it is otherwise.
async fn measure(
    options: &CostOptions,
    jwks: &Jwks,
    http: &reqwest::Client,
    scheme: Scheme,
    round: u64,
) -> Result<Vec<Measured>, Box<dyn std::error::Error>> {
    let mut subjects = Vec::new();
    for protected in [false, true] {
        subjects.push(Subject::start(options, jwks, http, scheme, protected, round).await?);
    }
    let mut pace = options.dpop_rate as f64;
    if options.warmup_secs > 0 {
        let warmup = Duration::from_secs(options.warmup_secs);
        for subject in &mut subjects {
            subject.ready(options.warmup_secs, pace);
            let late_before = late(&subject.credentials);
            let result = subject.run(warmup, http, jwks).await;
            if subject.protected {
                // The measure goes by the warm-up's pace; by the option's too where the warm-up's
                // proofs ran out and signing under way held the pace down.
                pace = match late(&subject.credentials) - late_before {
                    0 => report::rate(&result),
                    _ => report::rate(&result).max(pace),
                };
            }
        }
    }
    let slice = Duration::from_millis(options.slice_ms);
    let slices = (options.secs * 1000).div_ceil(options.slice_ms).max(1);
    let mut rows = Vec::new();
    for subject in &mut subjects {
        subject.ready(options.secs, pace);
        rows.push(Measured {
            scheme,
            protected: subject.protected,
            round,
            result: PhaseResult::new(Phase::Steady),
            late: late(&subject.credentials),
        });
    }
    for turn in 0..slices {
        let mut order: Vec<usize> = (0..subjects.len()).collect();
        if turn % 2 == 1 {
            order.reverse();
        }
        for index in order {
            let result = subjects[index].run(slice, http, jwks).await;
            rows[index].result.merge(result);
        }
    }
    for (row, subject) in rows.iter_mut().zip(&subjects) {
        row.late = late(&subject.credentials) - row.late;
    }
    Ok(rows)
}

/// DPoP-bound requests made ready under way so far.
fn late(credentials: &Credentials) -> u64 {
    match credentials {
        Credentials::Bearer(_) => 0,
        Credentials::Dpop(dpop) => dpop.signed_late(),
    }
}

/// The server's CPU time per request over several measures: all their CPU time over all their
/// requests.
fn per_request<'a>(results: impl IntoIterator<Item = &'a PhaseResult>) -> Option<f64> {
    let (mut cpu, mut requests) = (Duration::ZERO, 0u64);
    for result in results {
        cpu += result.server_cpu?;
        requests += result.all.len();
    }
    (requests > 0).then(|| cpu.as_secs_f64() * 1e6 / requests as f64)
}

/// The protected server's CPU time per request over the unprotected one's.
fn ratio(protected: Option<f64>, unprotected: Option<f64>) -> Option<f64> {
    match (protected, unprotected) {
        (Some(protected), Some(unprotected)) if unprotected > 0.0 => Some(protected / unprotected),
        _ => None,
    }
}

/// The table, the ratios and every wrong answer; and the summary.
fn table(options: &CostOptions, rows: &[Measured], machine_before: &str) -> (String, Value) {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "== what the protection costs: {} clients, {} s measured per server in turns of {} ms after {} s of warm-up, {} round(s); good requests only, each client's own token (DPoP: a fresh proof each, made ahead)",
        options.load.clients,
        options.secs,
        options.slice_ms,
        options.warmup_secs,
        options.rounds
    );
    let _ = writeln!(
        out,
        "{machine_before} (start); {} (end)",
        crate::cpu::machine_line()
    );
    let _ = writeln!(
        out,
        "{:<34} {:>8} {:>7} {:>7} {:>7} {:>10} {:>11} {:>14} {:>5} {:>6}",
        "server",
        "requests",
        "req/s",
        "p50 ms",
        "p99 ms",
        "srv µs/req",
        "load µs/req",
        "cores s/l/o",
        "wrong",
        "late"
    );
    let mut runs = Vec::new();
    for row in rows {
        let result = &row.result;
        let name = if options.rounds > 1 {
            format!("{} #{}", row.name(), row.round)
        } else {
            row.name()
        };
        let shown =
            |micros: Option<f64>| micros.map_or("-".into(), |micros| format!("{micros:.0}"));
        let server = report::server_per_request(result);
        let load = report::per_request(result.load_cpu, result);
        let cores = Cores::of(result);
        let _ = writeln!(
            out,
            "{:<34} {:>8} {:>7.0} {:>7} {:>7} {:>10} {:>11} {:>14} {:>5} {:>6}",
            name,
            result.all.len(),
            report::rate(result),
            report::ms(result.all.value_at_quantile(0.5)),
            report::ms(result.all.value_at_quantile(0.99)),
            shown(server),
            shown(load),
            cores.shown(),
            result.wrong_total(),
            row.late,
        );
        runs.push(json!({
            "scheme": row.scheme.name(),
            "protected": row.protected,
            "round": row.round,
            "requests": result.all.len(),
            "rps": report::rate(result),
            "p50_us": result.all.value_at_quantile(0.5),
            "p99_us": result.all.value_at_quantile(0.99),
            "server_cpu_us_per_request": server,
            "load_cpu_us_per_request": load,
            "cores_server": cores.server,
            "cores_load": cores.load,
            "cores_other": cores.other,
            "wrong": result.wrong_total(),
            "made_ready_late": row.late,
        }));
    }
    let _ = writeln!(
        out,
        "  srv µs/req: the server's CPU time per request; load µs/req: this program's (DPoP proofs\n  \
         signed before the measure are not in it); cores s/l/o: the cores busy on average with the\n  \
         server, this program and other processes; late: DPoP-bound requests made ready during the\n  \
         measure (the proofs made ahead ran out)"
    );
    let _ = writeln!(
        out,
        "the protection's cost, the server's CPU time per request protected / unprotected:"
    );
    let mut ratios = serde_json::Map::new();
    for scheme in [Scheme::Bearer, Scheme::Dpop] {
        let of = |protected: bool| {
            per_request(
                rows.iter()
                    .filter(|row| row.scheme == scheme && row.protected == protected)
                    .map(|row| &row.result),
            )
        };
        let (protected, unprotected) = (of(true), of(false));
        let ratio = ratio(protected, unprotected);
        let goal = match (scheme, ratio) {
            (Scheme::Bearer, Some(ratio)) => format!(
                "; goal ≤ {BEARER_GOAL}x: {}",
                if ratio <= BEARER_GOAL {
                    "met"
                } else {
                    "NOT met"
                }
            ),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {:<6} {} ({} µs against {} µs){goal}",
            scheme.name(),
            ratio.map_or("-".into(), |ratio| format!("{ratio:.3}x")),
            protected.map_or("-".into(), |micros| format!("{micros:.0}")),
            unprotected.map_or("-".into(), |micros| format!("{micros:.0}")),
        );
        ratios.insert(
            scheme.name().to_lowercase(),
            json!({
                "protected_us_per_request": protected,
                "unprotected_us_per_request": unprotected,
                "ratio": ratio,
            }),
        );
    }
    for row in rows {
        for ((kind, got), count) in &row.result.wrong {
            let _ = writeln!(out, "WRONG {}: {kind}: {got} x{count}", row.name());
        }
    }
    let summary = json!({
        "clients": options.load.clients,
        "secs": options.secs,
        "slice_ms": options.slice_ms,
        "warmup_secs": options.warmup_secs,
        "rounds": options.rounds,
        "bearer_goal_ratio": BEARER_GOAL,
        "runs": runs,
        "ratios": ratios,
    });
    (out, summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(requests: u64, cpu_ms: u64) -> PhaseResult {
        let mut result = PhaseResult::new(Phase::Steady);
        for _ in 0..requests {
            result.all.record(100).unwrap();
        }
        result.server_cpu = Some(Duration::from_millis(cpu_ms));
        result
    }

    #[test]
    fn the_cost_per_request_is_over_all_rounds_together() {
        // 1000 requests in 100 ms and 3000 in 200 ms: 75 µs each, not the mean of 100 and 66.7.
        let rounds = [measured(1000, 100), measured(3000, 200)];
        assert_eq!(per_request(&rounds), Some(75.0));
        let mut unknown = measured(10, 1);
        unknown.server_cpu = None;
        assert_eq!(per_request([&rounds[0], &unknown]), None);
        assert_eq!(per_request(&[measured(0, 5)]), None);
    }

    #[test]
    fn cost_takes_what_scripts_load_passes_with_its_defaults() {
        let cli = <crate::Cli as clap::Parser>::try_parse_from([
            "workos-connect-load",
            "cost",
            "--server-bin",
            "mcp-server",
            "--unprotected-bin",
            "mcp-server-unprotected",
            "--summary",
            "cost.json",
            "--server-logs",
            "logs",
            "--rounds",
            "3",
        ])
        .unwrap();
        let crate::Command::Cost(options) = cli.command else {
            panic!("not cost");
        };
        assert_eq!(options.example.server_bin, PathBuf::from("mcp-server"));
        assert_eq!(
            options.unprotected_bin,
            PathBuf::from("mcp-server-unprotected")
        );
        assert_eq!(options.summary, Some(PathBuf::from("cost.json")));
        assert_eq!(options.example.server_logs, Some(PathBuf::from("logs")));
        assert_eq!(options.rounds, 3);
        assert_eq!(
            (options.load.clients, options.dpop.keys_per_client),
            (32, 8)
        );
        assert_eq!(options.load.scope, "mcp:tools");
        let timing = [options.secs, options.slice_ms, options.warmup_secs];
        assert_eq!(timing, [5, 1000, 1]);
        assert_eq!(options.dpop_rate, 3000);
    }

    #[test]
    fn the_ratio_is_protected_over_unprotected() {
        assert_eq!(ratio(Some(55.0), Some(50.0)), Some(1.1));
        assert_eq!(ratio(Some(55.0), Some(0.0)), None);
        assert_eq!(ratio(None, Some(50.0)), None);
    }
}

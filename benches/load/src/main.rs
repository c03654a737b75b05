//! A bounded load run on loopback against the MCP server example (`examples/mcp-server`): this
//! program serves the issuer's JWKS itself, starts the server pointed at it, and runs concurrent
//! clients through four phases (steady, a key rotation's overlap, the old key withdrawn, a JWKS
//! outage), holding every answer to what the phase expects. It prints a table per run and exits 1
//! if any answer was wrong.
//!
//! ```text
//! workos-connect-load run --server-bin target/release/mcp-server
//! workos-connect-load compare current.json baseline.json
//! workos-connect-load cost --server-bin target/release/mcp-server \
//!     --unprotected-bin target/release/mcp-server-unprotected
//! workos-connect-load instances --server-bin target/release/mcp-server
//! ```
//!
//! `cost` says what the protection costs: the same load of good requests against
//! `mcp-server-unprotected` (the example's rmcp service without the protection, built with this
//! program) and against the example, with bearer tokens and then with DPoP-bound ones
//! (`--require-dpop`, a fresh proof per request), and the server's CPU time per request of each
//! with the ratio protected / unprotected.
//!
//! `instances` runs DPoP-bound load against two instances of the example (one resource, two
//! ports), the clients alternating between them, one request in 16 replaying a request the other
//! instance accepted: first with each instance's own replay memory, then with one Redis shared by
//! both (`--redis-url`, a `redis-server` it starts itself), through the four phases and a Redis
//! killed and started again. Every replay the shared memory takes is a wrong answer, and so is any
//! request taken while Redis is down; the instances' own memories take the replays, which the
//! tables count. Requests per second and p99 of both stores are printed side by side.
//!
//! DPoP-bound runs are short by design: each phase's proofs are signed just before it (and must
//! be sent within the example's window of 60 s and 60 s of leeway), and an instance's own memory
//! keeps at most 5,000 open proofs of one key for two minutes (the example's default quota, then
//! 429): each client uses its keys in turn (`--keys-per-client`, 8 by default), and at 100
//! requests a second per key and instance, a run meets the quota after about 50 s.
//!
//! `scripts/load` builds the server (and a baseline revision's) and runs them.

#![forbid(unsafe_code)]

mod clients;
mod cost;
mod cpu;
mod dpop;
mod instances;
mod jwks;
mod options;
mod phase;
mod redis;
mod report;
mod server;
mod tokens;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};

use crate::clients::{ClientState, Credentials, PhaseResult, PhaseRun, Tokens};
use crate::jwks::Jwks;
use crate::options::{KeyIntervalOptions, LoadOptions, MixOptions};
use crate::phase::{Phase, Setting};
use crate::redis::Redis;
use crate::report::RunInfo;
use crate::server::{Protection, Server, ServerSettings};
use crate::tokens::{KeyRing, Minter};

/// Load on loopback against the MCP server example, every answer checked.
#[derive(Parser)]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Subcommand)]
enum Command {
    /// Serve a JWKS, start (or reach) the server, run the phases, print the table.
    Run(Box<RunOptions>),
    /// What the protection costs: the server's CPU time per request against the unprotected
    /// server's, bearer and DPoP-bound.
    Cost(Box<cost::CostOptions>),
    /// DPoP-bound load across instances: their own replay memories, then one shared Redis, side by
    /// side.
    Instances(Box<instances::InstancesOptions>),
    /// Print two runs' summaries (from `run --summary`) side by side.
    Compare {
        /// The run compared.
        current: PathBuf,
        /// The run it is compared with.
        baseline: PathBuf,
    },
}

/// The options of `run`.
#[derive(Args)]
#[command(group = clap::ArgGroup::new("target").required(true).args(["server_bin", "server_url"]))]
struct RunOptions {
    /// The mcp-server binary to start, on a free loopback port
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Instead: the MCP endpoint of a server already started by hand, which must use this run's
    /// issuer and JWKS URL (printed at start; give --jwks-listen a fixed port)
    #[arg(long)]
    server_url: Option<String>,
    /// The server's stderr (a log line per refused request); discarded if not given
    #[arg(long)]
    server_log: Option<PathBuf>,
    /// The name of this run in its table and summary
    #[arg(long, default_value = "current")]
    label: String,
    /// Where to write the run's summary (JSON), for `compare`
    #[arg(long)]
    summary: Option<PathBuf>,
    /// The JWKS, the clients, the scope.
    #[command(flatten)]
    load: LoadOptions,
    /// Seconds of the steady phase (key A)
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    steady_secs: u64,
    /// Seconds of the rotation's overlap (keys A and B served, new tokens signed by B)
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    overlap_secs: u64,
    /// Seconds with key A withdrawn (key B only)
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    withdrawn_secs: u64,
    /// Seconds of JWKS outage (500 or a dropped connection)
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    outage_secs: u64,
    /// The server's key intervals.
    #[command(flatten)]
    keys: KeyIntervalOptions,
    /// The bad and fresh tokens among the requests.
    #[command(flatten)]
    mix: MixOptions,
    /// Fresh tokens signed per key before the run; beyond them, they are signed under way
    #[arg(long, default_value_t = 6000)]
    fresh_pool: usize,
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Run(options) => exit(run(*options).await),
        Command::Cost(options) => exit(cost::cost(*options).await),
        Command::Instances(options) => exit(instances::instances(*options).await),
        Command::Compare { current, baseline } => {
            let read = |path: &PathBuf| -> Result<serde_json::Value, String> {
                let text = std::fs::read_to_string(path)
                    .map_err(|error| format!("{}: {error}", path.display()))?;
                serde_json::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))
            };
            match (read(&current), read(&baseline)) {
                (Ok(current), Ok(baseline)) => {
                    print!("{}", report::compare(&current, &baseline));
                    ExitCode::SUCCESS
                }
                (Err(error), _) | (_, Err(error)) => {
                    eprintln!("error: {error}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

/// The exit status of a run: 1 for wrong answers, 2 for a run that could not be made.
fn exit(outcome: Result<bool, Box<dyn std::error::Error>>) -> ExitCode {
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

/// Runs the phases; `Ok(false)` if any answer was wrong or the server fetched its keys more often
/// than its intervals allow.
async fn run(options: RunOptions) -> Result<bool, Box<dyn std::error::Error>> {
    let grace = options
        .keys
        .grace_within(options.overlap_secs, options.withdrawn_secs)?;
    let durations = [
        options.steady_secs,
        options.overlap_secs,
        options.withdrawn_secs,
        options.outage_secs,
    ]
    .map(Duration::from_secs);
    let clients = options.load.clients()?;
    let scope = &options.load.scope;
    let intervals = &options.keys;

    let keys = KeyRing::load()?;
    let jwks = Jwks::start(options.load.jwks_listen, &keys.a.jwk, &keys.b.jwk).await?;
    let http = http_client(clients)?;
    let (server, url) = match (&options.server_bin, &options.server_url) {
        (Some(binary), _) => {
            let listen = server::free_port()?;
            let url = format!("http://{listen}/mcp");
            let protection = Protection::of(
                &jwks,
                scope,
                intervals.keys_refresh_interval,
                intervals.keys_refetch_interval,
            );
            let settings = ServerSettings {
                binary,
                listen,
                resource: &url,
                protection: Some(&protection),
                log: options.server_log.as_deref(),
            };
            (Some(Server::start(&settings, &http).await?), url)
        }
        (None, Some(url)) => {
            eprintln!(
                "start the server with: --issuer {} --jwks-url {} --resource {url} --scope {scope} --keys-refresh-interval {} --keys-refetch-interval {}",
                jwks.issuer(),
                jwks.url(),
                intervals.keys_refresh_interval,
                intervals.keys_refetch_interval
            );
            server::wait_until_up(&http, url, true).await?;
            (None, url.clone())
        }
        (None, None) => unreachable!("clap requires --server-bin or --server-url"),
    };

    let signing = Instant::now();
    let minter = Minter::new(&jwks.issuer(), &url, scope);
    let tokens = Arc::new(tokio::task::block_in_place(|| {
        Tokens::sign(keys, minter, clients, options.fresh_pool)
    }));
    eprintln!(
        "{}: {} tokens signed in {:.1} s; server {url}; JWKS {}",
        options.label,
        tokens.count(),
        signing.elapsed().as_secs_f64(),
        jwks.url()
    );

    let mix = options.mix.mix(None);
    let urls: Arc<[String]> = Arc::from([url]);
    let credentials = Credentials::Bearer(Arc::clone(&tokens));
    let servers: Vec<Server> = server.into_iter().collect();
    let mut states = ClientState::many(clients);
    let mut results = Vec::new();
    for (phase, duration) in Phase::ALL.into_iter().zip(durations) {
        jwks.serve(phase.served());
        let run = PhaseRun {
            phase,
            duration,
            grace,
            clients,
            mix,
            setting: Setting::BEARER,
            rate: None,
        };
        let watched = Watched {
            jwks: &jwks,
            servers: &servers,
            redis: None,
        };
        let result;
        (result, states) = measured(run, &http, &urls, &credentials, states, &watched).await;
        eprintln!("{}: {} done", options.label, phase.name());
        results.push(result);
    }

    let info = RunInfo {
        label: &options.label,
        clients,
        instances: 1,
        grace,
        fetch_spacing: intervals.fetch_spacing(),
        signed_late: tokens.signed_late(),
        late_what: "fresh tokens",
    };
    let (table, summary) = report::table(&info, &results);
    print!("{table}");
    if let Some(path) = &options.summary {
        std::fs::write(path, serde_json::to_string_pretty(&summary)?)?;
    }
    Ok(judged(&info, &results))
}

/// Whether a run's answers were all right and no phase made more JWKS fetches than the key
/// intervals allow; prints the phases that did.
fn judged(info: &RunInfo<'_>, results: &[PhaseResult]) -> bool {
    let wrong: u64 = results.iter().map(PhaseResult::wrong_total).sum();
    let storms = results
        .iter()
        .filter(|result| result.jwks_fetches > info.fetch_bound(result.elapsed))
        .count();
    if storms > 0 {
        println!(
            "WRONG: {}: {storms} phase(s) made more JWKS fetches than the intervals allow",
            info.label
        );
    }
    wrong == 0 && storms == 0
}

/// The HTTP client of `clients` clients on loopback.
fn http_client(clients: usize) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(clients)
        .build()
}

/// What a phase's measures are taken of, besides the clients' answers.
struct Watched<'a> {
    /// The JWKS endpoint, whose fetches are counted.
    jwks: &'a Jwks,
    /// The servers under load, whose CPU time is added up.
    servers: &'a [Server],
    /// The shared replay memory, if any, whose CPU time is kept apart.
    redis: Option<&'a Redis>,
}

/// Runs `run` and takes the measures around it: the JWKS fetches, the CPU time of the servers
/// (all together), of Redis if watched, of this program and of the machine.
async fn measured(
    run: PhaseRun,
    http: &reqwest::Client,
    urls: &Arc<[String]>,
    credentials: &Credentials,
    states: Vec<ClientState>,
    watched: &Watched<'_>,
) -> (PhaseResult, Vec<ClientState>) {
    let Watched {
        jwks,
        servers,
        redis,
    } = *watched;
    let servers_cpu = || {
        servers
            .iter()
            .map(Server::cpu_time)
            .sum::<Option<Duration>>()
    };
    let fetches = jwks.fetches();
    let server_cpu = servers_cpu();
    let store_cpu = redis.and_then(Redis::cpu_time);
    let load_cpu = cpu::process("self");
    let machine_cpu = cpu::machine();
    let (mut result, states) = run.run(http, urls, credentials, states).await;
    result.jwks_fetches = jwks.fetches() - fetches;
    result.server_cpu = cpu::between(server_cpu, servers_cpu());
    result.store_cpu = cpu::between(store_cpu, redis.and_then(Redis::cpu_time));
    result.load_cpu = cpu::between(load_cpu, cpu::process("self"));
    result.machine_cpu = cpu::between(machine_cpu, cpu::machine());
    (result, states)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_subcommands_options_are_declared_consistently() {
        // Panics on a flag declared twice in one subcommand, as flattened options could be.
        Cli::command().debug_assert();
    }

    #[test]
    fn run_takes_what_scripts_load_passes_with_its_defaults() {
        let cli = Cli::try_parse_from([
            "workos-connect-load",
            "run",
            "--server-bin",
            "mcp-server",
            "--label",
            "baseline",
            "--summary",
            "out.json",
            "--server-log",
            "server.log",
            "--clients",
            "64",
        ])
        .unwrap();
        let Command::Run(options) = cli.command else {
            panic!("not run");
        };
        assert_eq!(options.server_bin, Some(PathBuf::from("mcp-server")));
        assert_eq!(options.label, "baseline");
        assert_eq!(options.summary, Some(PathBuf::from("out.json")));
        assert_eq!(options.server_log, Some(PathBuf::from("server.log")));
        assert_eq!(options.load.clients, 64);
        assert_eq!(options.load.scope, "mcp:tools");
        assert_eq!(options.load.jwks_listen.to_string(), "127.0.0.1:0");
        let phases = [
            options.steady_secs,
            options.overlap_secs,
            options.withdrawn_secs,
            options.outage_secs,
        ];
        assert_eq!(phases, [10; 4]);
        assert_eq!(options.keys.grace(), Duration::from_secs(3));
        assert_eq!((options.mix.bad_every, options.mix.fresh_every), (4, 32));
        assert!(Cli::try_parse_from(["workos-connect-load", "run"]).is_err());
    }
}

//! What the protection costs: the same load of good requests against the unprotected server and
//! against the example, bearer and then DPoP-bound, and the server's CPU time per request of each.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{json, Value};
use url::Url;

use crate::clients::{ClientState, Credentials, Mix, PhaseResult, PhaseRun, Tokens};
use crate::dpop::{self, DpopClients};
use crate::jwks::Jwks;
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
    /// The example's mcp-server binary
    #[arg(long)]
    server_bin: PathBuf,
    /// The mcp-server-unprotected binary (built with this program)
    #[arg(long)]
    unprotected_bin: PathBuf,
    /// Where the JWKS is served
    #[arg(long, default_value = "127.0.0.1:0")]
    jwks_listen: SocketAddr,
    /// A directory for the servers' stderr (a log line per refused request); discarded if not
    /// given
    #[arg(long)]
    server_logs: Option<PathBuf>,
    /// Where to write the summary (JSON)
    #[arg(long)]
    summary: Option<PathBuf>,
    /// Concurrent clients
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=4096))]
    clients: u64,
    /// Seconds measured per server
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=60))]
    secs: u64,
    /// Seconds of load before each measure, not counted (connections, caches, allocator)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=60))]
    warmup_secs: u64,
    /// How many times to run the four servers in turn; the ratios are over all rounds
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=20))]
    rounds: u64,
    /// The scope the example requires (the tokens carry it)
    #[arg(long, default_value = "mcp:tools")]
    scope: String,
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

/// Runs the four servers in turn (`rounds` times), prints the table and the ratios; `Ok(false)`
/// if any answer was wrong.
pub async fn cost(options: CostOptions) -> Result<bool, Box<dyn std::error::Error>> {
    let clients = usize::try_from(options.clients)?;
    let keys = KeyRing::load()?;
    let jwks = Jwks::start(options.jwks_listen, &keys.a.jwk, &keys.b.jwk).await?;
    let http = crate::http_client(clients)?;
    let machine_before = crate::cpu::machine_line();
    let mut rows = Vec::new();
    for round in 1..=options.rounds {
        for scheme in [Scheme::Bearer, Scheme::Dpop] {
            for protected in [false, true] {
                let row = measure(&options, &jwks, &http, scheme, protected, round).await?;
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

/// Starts one server, loads it for the warm-up and then for the measure, and stops it.
async fn measure(
    options: &CostOptions,
    jwks: &Jwks,
    http: &reqwest::Client,
    scheme: Scheme,
    protected: bool,
    round: u64,
) -> Result<Measured, Box<dyn std::error::Error>> {
    let clients = usize::try_from(options.clients)?;
    let listen = server::free_port()?;
    let url = format!("http://{listen}/mcp");
    let protection = Protection {
        issuer: &jwks.issuer(),
        jwks_url: &jwks.url(),
        scope: &options.scope,
        // Key set A throughout: no fetch but the first should come in the measure.
        refresh_secs: 300,
        refetch_secs: 60,
        more: match scheme {
            Scheme::Bearer => Vec::new(),
            Scheme::Dpop => vec!["--require-dpop".into()],
        },
    };
    let name = format!(
        "{}-{}-{round}",
        scheme.name().to_lowercase(),
        if protected {
            "protected"
        } else {
            "unprotected"
        }
    );
    let log = options
        .server_logs
        .as_ref()
        .map(|dir| dir.join(format!("{name}.log")));
    let binary = if protected {
        &options.server_bin
    } else {
        &options.unprotected_bin
    };
    jwks.serve(Phase::Steady.served());
    let server = Server::start(&ServerSettings {
        binary,
        listen,
        resource: &url,
        protection: protected.then_some(&protection),
        log: log.as_deref(),
    })
    .await?;
    crate::wait_until_up(http, &url, protected).await?;

    let keys = KeyRing::load()?;
    let minter = Minter::new(&jwks.issuer(), &url, &options.scope);
    let mix = Mix::REUSED_ONLY;
    let credentials = match scheme {
        Scheme::Bearer => Credentials::Bearer(Arc::new(tokio::task::block_in_place(|| {
            Tokens::sign(keys, minter, clients, 0)
        }))),
        Scheme::Dpop => {
            let htu = Url::parse(&url)?;
            Credentials::Dpop(Arc::new(tokio::task::block_in_place(|| {
                DpopClients::new(keys, minter, htu, clients, mix)
            })))
        }
    };
    let setting = Setting {
        scheme,
        replay_memory: ReplayMemory::PerInstance,
    };
    let urls: Arc<[String]> = Arc::from([url]);
    let servers = [server];
    let mut states = ClientState::many(clients);
    let mut measured = None;
    let mut dpop_rate = options.dpop_rate as f64;
    for (seconds, counted) in [(options.warmup_secs, false), (options.secs, true)] {
        if seconds == 0 {
            continue;
        }
        if let Credentials::Dpop(dpop) = &credentials {
            let ready = Instant::now();
            let count = match protected {
                true => dpop::ahead(dpop_rate, seconds as f64, clients),
                false => CYCLED,
            };
            let prepared = tokio::task::block_in_place(|| dpop.prepare_phase(Phase::Steady, count));
            for (state, prepared) in states.iter_mut().zip(prepared) {
                match protected {
                    true => state.ready(prepared),
                    false => state.ready_cycled(prepared),
                }
            }
            eprintln!(
                "cost: {} DPoP-bound requests made ready in {:.1} s",
                count * clients,
                ready.elapsed().as_secs_f64()
            );
        }
        let late_before = late(&credentials);
        let run = PhaseRun {
            phase: Phase::Steady,
            duration: Duration::from_secs(seconds),
            grace: Duration::ZERO,
            clients,
            mix,
            setting,
        };
        let watched = crate::Watched {
            jwks,
            servers: &servers,
            redis: None,
        };
        let result;
        (result, states) = crate::measured(run, http, &urls, &credentials, states, &watched).await;
        let late = late(&credentials) - late_before;
        // The measure goes by the warm-up's pace; by the option's too where the warm-up's proofs
        // ran out and signing under way held the pace down.
        dpop_rate = match late {
            0 => report::rate(&result),
            _ => report::rate(&result).max(dpop_rate),
        };
        if counted {
            measured = Some((result, late));
        }
    }
    let (result, late) = measured.ok_or("nothing measured")?;
    Ok(Measured {
        scheme,
        protected,
        round,
        result,
        late,
    })
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
        "== what the protection costs: {} clients, {} s measured per server after {} s of warm-up, {} round(s); good requests only, each client's own token (DPoP: a fresh proof each, made ahead)",
        options.clients, options.secs, options.warmup_secs, options.rounds
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
            ratio.map_or("-".into(), |ratio| format!("{ratio:.2}x")),
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
        "clients": options.clients,
        "secs": options.secs,
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
    fn the_ratio_is_protected_over_unprotected() {
        assert_eq!(ratio(Some(55.0), Some(50.0)), Some(1.1));
        assert_eq!(ratio(Some(55.0), Some(0.0)), None);
        assert_eq!(ratio(None, Some(50.0)), None);
    }
}

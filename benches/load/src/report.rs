//! The tables: one per run, and the comparison of two runs' summaries.

use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{json, Value};

use crate::clients::PhaseResult;

/// A run's settings, printed above its table and kept in its summary.
pub struct RunInfo<'a> {
    /// What the run is called in comparisons (e.g. `current`, `baseline`).
    pub label: &'a str,
    /// Concurrent clients.
    pub clients: usize,
    /// Server instances under load, each fetching keys on its own.
    pub instances: usize,
    /// The grace window after each key change.
    pub grace: Duration,
    /// The least time between two of the server's JWKS fetches: the shorter of its key intervals.
    pub fetch_spacing: Duration,
    /// Fresh tokens (or DPoP-bound requests) signed during the phases: the pool ran dry.
    pub signed_late: u64,
    /// What [`signed_late`](Self::signed_late) counts, for the legend.
    pub late_what: &'static str,
}

impl RunInfo<'_> {
    /// The most JWKS fetches a phase lasting `elapsed` may see: the key cache spaces any two by at
    /// least [`fetch_spacing`](Self::fetch_spacing); one more for a fetch under way as the phase
    /// starts, and one for a request the server's HTTP client may send again after a dropped
    /// connection.
    pub fn fetch_bound(&self, elapsed: Duration) -> u64 {
        let spacing = self.fetch_spacing.as_secs_f64().max(f64::EPSILON);
        ((elapsed.as_secs_f64() / spacing) as u64 + 1 + 2) * self.instances.max(1) as u64
    }
}

/// How many cores were busy on average during a phase, and with what.
pub struct Cores {
    /// The server's.
    pub server: Option<f64>,
    /// This program's.
    pub load: Option<f64>,
    /// Everything else on the machine.
    pub other: Option<f64>,
}

impl Cores {
    /// The cores busy during `result`'s phase.
    pub fn of(result: &PhaseResult) -> Cores {
        let seconds = result.elapsed.as_secs_f64().max(f64::EPSILON);
        let cores = |cpu: Option<Duration>| cpu.map(|cpu| cpu.as_secs_f64() / seconds);
        let (server, load) = (cores(result.server_cpu), cores(result.load_cpu));
        let other = match (cores(result.machine_cpu), server, load) {
            // Readings taken a moment apart, at a 10 ms tick: never below zero.
            (Some(machine), Some(server), Some(load)) => Some((machine - server - load).max(0.0)),
            _ => None,
        };
        Cores {
            server,
            load,
            other,
        }
    }

    /// `server/load/other`, two decimals each.
    pub fn shown(&self) -> String {
        [self.server, self.load, self.other]
            .map(|cores| cores.map_or("-".into(), |cores| format!("{cores:.2}")))
            .join("/")
    }
}

/// The server's CPU time per request (all instances'), in microseconds.
pub fn server_per_request(result: &PhaseResult) -> Option<f64> {
    per_request(result.server_cpu, result)
}

/// `cpu` per request of `result`, in microseconds.
pub fn per_request(cpu: Option<Duration>, result: &PhaseResult) -> Option<f64> {
    let cpu = cpu?;
    (!result.all.is_empty()).then(|| cpu.as_secs_f64() * 1e6 / result.all.len() as f64)
}

/// Milliseconds with two decimals, from microseconds.
pub fn ms(micros: u64) -> String {
    format!("{:.2}", micros as f64 / 1000.0)
}

/// The 99th percentile in milliseconds, or `-` where nothing was measured.
fn p99(histogram: &Histogram<u64>) -> String {
    if histogram.is_empty() {
        "-".into()
    } else {
        ms(histogram.value_at_quantile(0.99))
    }
}

/// Requests answered per second.
pub fn rate(result: &PhaseResult) -> f64 {
    result.all.len() as f64 / result.elapsed.as_secs_f64().max(f64::EPSILON)
}

/// The run's table, then every wrong answer by kind; and its summary for comparisons.
pub fn table(info: &RunInfo<'_>, results: &[PhaseResult]) -> (String, Value) {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "== {}: {} clients; grace window {:.1} s after each key change (timing-dependent answers in it not judged)",
        info.label,
        info.clients,
        info.grace.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "{:<15} {:>8} {:>7} {:>7} {:>7} {:>7} {:>10} {:>9} {:>11} {:>10} {:>14} {:>5} {:>12} {:>8} {:>9}",
        "phase",
        "requests",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "p99 reused",
        "p99 fresh",
        "p99 refused",
        "srv µs/req",
        "cores s/l/o",
        "wrong",
        "graced",
        "jwks get",
        "replays"
    );
    let mut phases = Vec::new();
    for result in results {
        let all = &result.all;
        let bound = info.fetch_bound(result.elapsed);
        let cores = Cores::of(result);
        let _ = writeln!(
            out,
            "{:<15} {:>8} {:>7.0} {:>7} {:>7} {:>7} {:>10} {:>9} {:>11} {:>10} {:>14} {:>5} {:>12} {:>8} {:>9}",
            result.phase.name(),
            all.len(),
            rate(result),
            ms(all.value_at_quantile(0.5)),
            ms(all.value_at_quantile(0.99)),
            ms(all.max()),
            p99(&result.reused),
            p99(&result.fresh),
            p99(&result.refused),
            server_per_request(result).map_or("-".into(), |micros| format!("{micros:.0}")),
            cores.shown(),
            result.wrong_total(),
            match result.last_graced {
                Some(last) => format!("{} <{:.2}s", result.graced, last.as_secs_f64()),
                None => "0".into(),
            },
            format!("{}/{bound}", result.jwks_fetches),
            if result.replays == 0 {
                "-".into()
            } else {
                format!("{}/{}", result.replays_taken, result.replays)
            },
        );
        phases.push(json!({
            "phase": result.phase.name(),
            "requests": all.len(),
            "rps": rate(result),
            "p50_us": all.value_at_quantile(0.5),
            "p99_us": all.value_at_quantile(0.99),
            "max_us": all.max(),
            "p99_reused_us": result.reused.value_at_quantile(0.99),
            "p99_fresh_us": result.fresh.value_at_quantile(0.99),
            "p99_refused_us": result.refused.value_at_quantile(0.99),
            "server_cpu_us_per_request": server_per_request(result),
            "cores_server": cores.server,
            "cores_load": cores.load,
            "cores_other": cores.other,
            "wrong": result.wrong_total(),
            "graced": result.graced,
            "last_graced_ms": result.last_graced.map(|last| last.as_millis() as u64),
            "jwks_fetches": result.jwks_fetches,
            "replays": result.replays,
            "replays_taken": result.replays_taken,
            "replays_unsent": result.replays_unsent,
            "store_cpu_us_per_request": per_request(result.store_cpu, result),
        }));
    }
    let _ = writeln!(
        out,
        "  srv µs/req: the server's CPU time per request (all instances'); cores s/l/o: the cores busy\n  \
         on average with the server, this load program, and other processes (Redis among them);\n  \
         graced: answers from before the change (a key set not fetched yet, Redis not reconnected\n  \
         yet) in the grace window, and when the last was sent; jwks get: the servers' fetches / the\n  \
         most their key intervals allow; replays: taken / sent; {} signed during the phases: {}",
        info.late_what, info.signed_late
    );
    for result in results {
        for ((kind, got), count) in &result.wrong {
            let _ = writeln!(out, "WRONG {}: {kind}: {got} x{count}", result.phase.name());
        }
    }
    let summary = json!({
        "label": info.label,
        "clients": info.clients,
        "instances": info.instances,
        "phases": phases,
    });
    (out, summary)
}

/// The figures `compare` shows: summary key, heading, and the factor to the unit shown.
const COMPARED: [(&str, &str, f64); 5] = [
    ("rps", "req/s", 1.0),
    ("p99_us", "p99 ms", 1e-3),
    ("p99_reused_us", "p99 reused ms", 1e-3),
    ("server_cpu_us_per_request", "srv µs/req", 1.0),
    // Not the servers' doing: how busy the machine was otherwise, which moves the others.
    ("cores_other", "other cores", 1.0),
];

/// Two runs' summaries side by side: per phase, each of [`COMPARED`] for both runs and the change
/// from the second (the baseline) to the first.
pub fn compare(current: &Value, baseline: &Value) -> String {
    let label = |run: &Value| run["label"].as_str().unwrap_or("?").to_owned();
    let (a, b) = (label(current), label(baseline));
    let mut out = String::new();
    let _ = writeln!(out, "== {a} vs {b} (change: {a} relative to {b})");
    let _ = write!(out, "{:<15}", "phase");
    for (_, heading, _) in COMPARED {
        let _ = write!(out, " | {:<27}", heading);
    }
    let _ = writeln!(out);
    let _ = write!(out, "{:<15}", "");
    for _ in COMPARED {
        let _ = write!(out, " | {:>9} {:>9} {:>7}", short(&a), short(&b), "change");
    }
    let _ = writeln!(out);
    let empty = Vec::new();
    let phases = |run: &Value| run["phases"].as_array().unwrap_or(&empty).clone();
    for (x, y) in phases(current).iter().zip(phases(baseline).iter()) {
        let _ = write!(out, "{:<15}", x["phase"].as_str().unwrap_or("?"));
        for (key, _, factor) in COMPARED {
            let (new, old) = (x[key].as_f64(), y[key].as_f64());
            let shown = |value: Option<f64>| {
                value.map_or("-".into(), |value| {
                    let value = value * factor;
                    if value >= 100.0 {
                        format!("{value:.0}")
                    } else {
                        format!("{value:.2}")
                    }
                })
            };
            let change = match (new, old) {
                (Some(new), Some(old)) if old > 0.0 => {
                    format!("{:+.0}%", (new / old - 1.0) * 100.0)
                }
                _ => "-".into(),
            };
            let _ = write!(out, " | {:>9} {:>9} {:>7}", shown(new), shown(old), change);
        }
        let _ = writeln!(out);
    }
    out
}

/// A label cut to fit a column heading.
fn short(label: &str) -> String {
    label.chars().take(9).collect()
}

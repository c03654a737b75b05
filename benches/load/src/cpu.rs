//! CPU time from Linux's `/proc`: the server's, this program's and the whole machine's, so that a
//! table shows how much of the machine each had (the server shares its cores with the load, and
//! perhaps with other work).

use std::time::Duration;

/// What `/proc` counts in: USER_HZ ticks, which Linux fixes at 100 a second for what it reports.
const TICK: Duration = Duration::from_millis(10);

/// The CPU time (user and system, all threads) of process `pid`, or of this one with `self`;
/// `None` where `/proc` does not tell (not Linux).
pub fn process(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces: count the fields after its end. They
    // start at the third (`state`); `utime` and `stime` are the 14th and 15th.
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .collect();
    let ticks = fields.get(11)?.parse::<u32>().ok()? + fields.get(12)?.parse::<u32>().ok()?;
    Some(TICK * ticks)
}

/// The CPU time all processes used, on all cores: everything in `/proc/stat`'s `cpu` line but
/// idle and iowait.
pub fn machine() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let busy = ticks.iter().take(8).sum::<u64>() - ticks.get(3)? - ticks.get(4)?;
    Some(TICK * u32::try_from(busy).ok()?)
}

/// CPU time used between two readings.
pub fn between(before: Option<Duration>, after: Option<Duration>) -> Option<Duration> {
    after
        .zip(before)
        .map(|(after, before)| after.saturating_sub(before))
}

/// The machine's load averages over 1, 5 and 15 minutes, as `uptime` prints them; `None` where
/// `/proc` does not tell.
pub fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let averages: Vec<&str> = text.split_whitespace().take(3).collect();
    (averages.len() == 3).then(|| averages.join(" "))
}

/// A line saying how busy the machine was: its cores and load averages.
pub fn machine_line() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    format!(
        "machine: {cores} cores, load average {}",
        load_average().unwrap_or_else(|| "unknown".into())
    )
}

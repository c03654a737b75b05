//! The options that more than one subcommand takes with the same meaning and default, each
//! declared once so that the subcommands cannot drift apart. Options whose defaults differ between
//! subcommands (the phases' lengths, `--dpop-rate`) and those whose help says what a subcommand
//! alone does (`--summary`) stay with their subcommand.

use std::net::SocketAddr;
use std::num::TryFromIntError;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::clients::Mix;

/// The slack added to the server's key intervals for the grace window: a fetch's own time, and the
/// refresh task's wake-up.
const GRACE_SLACK: Duration = Duration::from_secs(1);

/// What every load has: its JWKS, its clients and the scope their tokens carry.
#[derive(Args)]
pub struct LoadOptions {
    /// Where the JWKS is served
    #[arg(long, default_value = "127.0.0.1:0")]
    pub jwks_listen: SocketAddr,
    /// Concurrent clients
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub clients: u64,
    /// The scope the server requires (the tokens carry it, but for the bad ones that lack it)
    #[arg(long, default_value = "mcp:tools")]
    pub scope: String,
}

impl LoadOptions {
    /// The clients, as a count of tasks and buffers.
    pub fn clients(&self) -> Result<usize, TryFromIntError> {
        usize::try_from(self.clients)
    }
}

/// The example as `cost` and `instances` start it, each instance on a free loopback port.
#[derive(Args)]
pub struct ExampleOptions {
    /// The example's mcp-server binary
    #[arg(long)]
    pub server_bin: PathBuf,
    /// A directory for the servers' stderr (a log line per refused request); discarded if not
    /// given
    #[arg(long)]
    pub server_logs: Option<PathBuf>,
}

/// The DPoP keys of each client, for the loads whose requests are DPoP-bound.
#[derive(Args)]
pub struct DpopKeyOptions {
    /// DPoP keys per client, used in turn (each with its own tokens), so that no key meets the
    /// server's quota of open proofs per key (5,000 for two minutes)
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub keys_per_client: u64,
}

impl DpopKeyOptions {
    /// The keys per client, as a count of keys.
    pub fn keys_per_client(&self) -> Result<usize, TryFromIntError> {
        usize::try_from(self.keys_per_client)
    }
}

/// The server's key intervals, for the loads that rotate the issuer's keys: the server is started
/// with them, and the window after a key change in which answers depend on timing follows from
/// them.
#[derive(Args)]
pub struct KeyIntervalOptions {
    /// The server's --keys-refresh-interval, seconds; the grace window follows from it
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    pub keys_refresh_interval: u64,
    /// The server's --keys-refetch-interval, seconds
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub keys_refetch_interval: u64,
}

impl KeyIntervalOptions {
    /// The window after a key change in which timing-dependent answers are not judged: the server
    /// picks the change up at its next fetch, the scheduled one within the refresh interval and
    /// one for an unknown key within the refetch interval, whichever comes first.
    pub fn grace(&self) -> Duration {
        let refresh = Duration::from_secs(self.keys_refresh_interval);
        let refetch = Duration::from_secs(self.keys_refetch_interval);
        refresh.max(refetch) + GRACE_SLACK
    }

    /// The grace window, if both rotation phases outlast it; otherwise nothing after a key change
    /// could be judged.
    pub fn grace_within(&self, overlap_secs: u64, withdrawn_secs: u64) -> Result<Duration, String> {
        let grace = self.grace();
        if Duration::from_secs(overlap_secs) <= grace
            || Duration::from_secs(withdrawn_secs) <= grace
        {
            return Err(format!(
                "the rotation phases must outlast the grace window ({:.1} s) to judge anything after it",
                grace.as_secs_f64()
            ));
        }
        Ok(grace)
    }

    /// The least time between two fetches of one server that its intervals allow.
    pub fn fetch_spacing(&self) -> Duration {
        Duration::from_secs(self.keys_refresh_interval.min(self.keys_refetch_interval))
    }
}

/// The bad and fresh tokens among the requests, for the loads that judge the refusals.
#[derive(Args)]
pub struct MixOptions {
    /// One request in this many carries a bad token (the bad kinds in turn)
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(2..))]
    pub bad_every: u64,
    /// One good request in this many carries a token never sent before
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..))]
    pub fresh_every: u64,
}

impl MixOptions {
    /// The request mix, with replays of another instance's requests if `replay_every` is given.
    pub fn mix(&self, replay_every: Option<u64>) -> Mix {
        Mix {
            bad_every: Some(self.bad_every),
            fresh_every: Some(self.fresh_every),
            replay_every,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intervals(refresh: u64, refetch: u64) -> KeyIntervalOptions {
        KeyIntervalOptions {
            keys_refresh_interval: refresh,
            keys_refetch_interval: refetch,
        }
    }

    #[test]
    fn the_grace_window_is_the_longer_interval_and_a_second() {
        assert_eq!(intervals(2, 1).grace(), Duration::from_secs(3));
        assert_eq!(intervals(1, 5).grace(), Duration::from_secs(6));
        assert_eq!(intervals(2, 5).fetch_spacing(), Duration::from_secs(2));
    }

    #[test]
    fn rotation_phases_must_outlast_the_grace_window() {
        assert_eq!(
            intervals(2, 1).grace_within(4, 10),
            Ok(Duration::from_secs(3))
        );
        let error = intervals(2, 1).grace_within(3, 10).unwrap_err();
        assert!(error.contains("(3.0 s)"), "{error}");
        assert!(intervals(2, 1).grace_within(10, 3).is_err());
    }
}

//! Starting the MCP server example as a child process, pointed at the load's own JWKS; or the
//! unprotected server, which needs none.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::clients::PROTOCOL_VERSION;
use crate::jwks::Jwks;

/// How long the server may take to fetch its first key set and bind.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a server, once listening or started by hand, may take to answer its first request.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// What the server is started with.
pub struct ServerSettings<'a> {
    /// The `mcp-server` binary, or `mcp-server-unprotected`.
    pub binary: &'a Path,
    /// `--listen`: where it serves.
    pub listen: SocketAddr,
    /// `--resource`: the URL tokens and proofs name, which several instances share.
    pub resource: &'a str,
    /// How it is protected; `None` for the unprotected server.
    pub protection: Option<&'a Protection<'a>>,
    /// Where its stderr (one log line per refused request) goes; `None` discards it.
    pub log: Option<&'a Path>,
}

/// The example's options besides where it serves.
pub struct Protection<'a> {
    /// `--issuer`.
    pub issuer: String,
    /// `--jwks-url`.
    pub jwks_url: String,
    /// `--scope`.
    pub scope: &'a str,
    /// `--keys-refresh-interval`, seconds.
    pub refresh_secs: u64,
    /// `--keys-refetch-interval`, seconds.
    pub refetch_secs: u64,
    /// More, such as `--require-dpop` and `--redis-url`.
    pub more: Vec<String>,
}

impl<'a> Protection<'a> {
    /// The example pointed at `jwks` as its issuer's, requiring `scope`, with its key intervals
    /// (seconds) and no more options.
    pub fn of(jwks: &Jwks, scope: &'a str, refresh_secs: u64, refetch_secs: u64) -> Protection<'a> {
        Protection {
            issuer: jwks.issuer(),
            jwks_url: jwks.url(),
            scope,
            refresh_secs,
            refetch_secs,
            more: Vec::new(),
        }
    }

    /// The same with `more` options, such as `--require-dpop`.
    pub fn with(mut self, more: impl IntoIterator<Item = String>) -> Protection<'a> {
        self.more.extend(more);
        self
    }

    /// The options, as arguments.
    fn args(&self) -> Vec<String> {
        let mut args: Vec<String> = [
            "--issuer",
            &self.issuer,
            "--jwks-url",
            &self.jwks_url,
            "--scope",
            self.scope,
            "--keys-refresh-interval",
            &self.refresh_secs.to_string(),
            "--keys-refetch-interval",
            &self.refetch_secs.to_string(),
        ]
        .map(str::to_owned)
        .into();
        args.extend(self.more.iter().cloned());
        args
    }
}

/// The running server; dropping it kills the process.
pub struct Server {
    /// The process, killed on drop.
    child: Child,
    /// Its MCP endpoint, where requests go (the resource, but for a second instance).
    pub url: String,
}

/// Why the server did not start.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

impl Server {
    /// Starts the server and waits until it answers over `http`: its `listening on` line first,
    /// then a request without a token, which the example must refuse with its 401 (the unprotected
    /// server may answer anything).
    pub async fn start(
        settings: &ServerSettings<'_>,
        http: &reqwest::Client,
    ) -> Result<Server, StartError> {
        let server = Server::spawn(settings).await?;
        wait_until_up(http, &server.url, settings.protection.is_some())
            .await
            .map_err(StartError)?;
        Ok(server)
    }

    /// Starts the server and waits for its `listening on` line, which the example prints once its
    /// first key set is in.
    async fn spawn(settings: &ServerSettings<'_>) -> Result<Server, StartError> {
        let listen = settings.listen;
        let url = format!("http://{listen}/mcp");
        let stderr = match settings.log {
            Some(path) => Stdio::from(std::fs::File::create(path).map_err(|error| {
                StartError(format!("cannot create {}: {error}", path.display()))
            })?),
            None => Stdio::null(),
        };
        let mut child = Command::new(settings.binary)
            .args(["--resource", settings.resource])
            .args(["--listen", &listen.to_string()])
            .args(
                settings
                    .protection
                    .map(Protection::args)
                    .unwrap_or_default(),
            )
            // A proxy from the environment must not see (or break) loopback traffic.
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .env_remove("ALL_PROXY")
            .env_remove("all_proxy")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| {
                StartError(format!("cannot run {}: {error}", settings.binary.display()))
            })?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| StartError("no stdout".into()))?;
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = lines.next_line().await? {
                if line.starts_with("listening on") {
                    return Ok(true);
                }
            }
            Ok::<bool, std::io::Error>(false)
        })
        .await;
        match ready {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => {
                let status = child.wait().await.ok();
                return Err(StartError(format!(
                    "the server exited before listening ({status:?}); see its log"
                )));
            }
            Ok(Err(error)) => return Err(StartError(format!("reading its stdout: {error}"))),
            Err(_) => return Err(StartError(format!("not listening after {START_TIMEOUT:?}"))),
        }
        // Nothing more is read from stdout; keep draining it so that the server never blocks on
        // a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Server { child, url })
    }

    /// The CPU time the server has used so far, all its threads; `None` where `/proc` does not
    /// tell.
    pub fn cpu_time(&self) -> Option<Duration> {
        crate::cpu::process(&self.child.id()?.to_string())
    }
}

/// A loopback port nobody listens on now. Another process could take it before the server binds
/// it; on a quiet machine that does not happen, and the start then fails plainly.
pub fn free_port() -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    listener.local_addr()
}

/// Waits (up to a minute) for the server at `url` to answer a request without a token: with its
/// 401 if `protected`, with anything if not.
pub async fn wait_until_up(
    http: &reqwest::Client,
    url: &str,
    protected: bool,
) -> Result<(), String> {
    let until = Instant::now() + ANSWER_TIMEOUT;
    loop {
        let answer = http
            .post(url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-protocol-version", PROTOCOL_VERSION)
            .body("{}")
            .send()
            .await;
        match answer {
            Ok(response) if response.status() == 401 || !protected => return Ok(()),
            _ if Instant::now() > until => return Err(format!("{url} does not answer")),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

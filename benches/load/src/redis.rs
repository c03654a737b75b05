//! A real Redis server for the instances' shared replay memory, as a child process on a loopback
//! port: started, killed (as a crash would), and started again on the same port.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::server::StartError;

/// How long Redis may take to answer its first `PING`.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// The running Redis; dropping it kills the process and removes its directory.
pub struct Redis {
    /// The `redis-server` binary.
    binary: PathBuf,
    /// Its port, kept across restarts: the instances reconnect to it.
    port: u16,
    /// Its working directory (it saves nothing there: `--save ""`, no append-only file).
    dir: PathBuf,
    /// The process, while it runs.
    child: Option<Child>,
}

impl Redis {
    /// Starts `binary` on a free loopback port and waits until it answers.
    pub async fn start(binary: &Path) -> Result<Redis, StartError> {
        let port = crate::server::free_port()
            .map_err(|error| StartError(format!("no free port: {error}")))?
            .port();
        let dir = std::env::temp_dir().join(format!(
            "workos-connect-load-redis-{}-{port}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|error| StartError(format!("cannot create {}: {error}", dir.display())))?;
        let mut redis = Redis {
            binary: binary.to_owned(),
            port,
            dir,
            child: None,
        };
        redis.restart().await?;
        Ok(redis)
    }

    /// Where the instances reach it.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it at once (SIGKILL, as a crash would) and waits for the process to be gone, so that
    /// nothing sent afterwards can be recorded.
    pub async fn kill(&mut self) -> std::io::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().await?;
        }
        Ok(())
    }

    /// Starts it (again) on its port, empty, and waits until it answers `PING`.
    pub async fn restart(&mut self) -> Result<(), StartError> {
        let child = Command::new(&self.binary)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| {
                StartError(format!(
                    "cannot run {}: {error} (install it with `apt-get install redis-server`, or give --redis-server)",
                    self.binary.display()
                ))
            })?;
        self.child = Some(child);
        let until = Instant::now() + START_TIMEOUT;
        while !ping(self.port).await {
            if Instant::now() > until {
                return Err(StartError(format!(
                    "redis-server did not answer on port {} within {START_TIMEOUT:?}",
                    self.port
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// The CPU time it has used so far, if it runs and `/proc` tells.
    pub fn cpu_time(&self) -> Option<Duration> {
        crate::cpu::process(&self.child.as_ref()?.id()?.to_string())
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether Redis answers `PING` on `port`.
async fn ping(port: u16) -> bool {
    let exchange = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.write_all(b"PING\r\n").await?;
        let mut answer = [0u8; 7];
        stream.read_exact(&mut answer).await?;
        Ok::<bool, std::io::Error>(&answer == b"+PONG\r\n")
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(1), exchange).await,
        Ok(Ok(true))
    )
}

//! The browser's way back to a native app: a loopback listener for the redirect (RFC 8252 section
//! 7.3).

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use url::Url;
use workos_connect::RedirectUri;

/// How long one connection may take to send its request line.
const REQUEST_LINE_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest request line read: a callback's is well under it.
const MAX_REQUEST_LINE: u64 = 16 * 1024;

/// A listener on `127.0.0.1` waiting for the browser's redirect.
#[derive(Debug)]
pub struct LoopbackRedirect {
    listener: TcpListener,
    redirect_uri: RedirectUri,
    path: String,
}

impl LoopbackRedirect {
    /// Listens on `127.0.0.1:port` (0: any free port) for `GET /callback`.
    pub async fn bind(port: u16) -> std::io::Result<LoopbackRedirect> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let port = listener.local_addr()?.port();
        let redirect_uri = format!("http://127.0.0.1:{port}/callback")
            .parse()
            .map_err(std::io::Error::other)?;
        Ok(LoopbackRedirect {
            listener,
            redirect_uri,
            path: "/callback".to_owned(),
        })
    }

    /// The redirect URI to register and send: `http://127.0.0.1:{port}/callback`.
    pub fn redirect_uri(&self) -> &RedirectUri {
        &self.redirect_uri
    }

    /// Waits for the browser's redirect and answers it with a page saying the login is done.
    ///
    /// Other requests (a favicon, a probe from another local program, a connection that sends
    /// nothing, an absolute-form target naming another host) are answered `404` or dropped, and the
    /// wait goes on: only a `GET` of the redirect URI's path is the callback.
    pub async fn callback(&self) -> std::io::Result<Url> {
        loop {
            let (stream, _) = self.listener.accept().await?;
            let (read, mut write) = stream.into_split();
            let mut line = String::new();
            let mut reader = BufReader::new(read.take(MAX_REQUEST_LINE));
            let read =
                tokio::time::timeout(REQUEST_LINE_TIMEOUT, reader.read_line(&mut line)).await;
            if !matches!(read, Ok(Ok(_))) {
                continue;
            }
            let Some(url) = self.callback_url(&line) else {
                let _ = write
                    .write_all(
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    )
                    .await;
                continue;
            };
            let page = "Logged in; you can close this tab.";
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                page.len()
            );
            write.write_all(answer.as_bytes()).await?;
            return Ok(url);
        }
    }

    fn callback_url(&self, request_line: &str) -> Option<Url> {
        let mut parts = request_line.split(' ');
        let (method, target) = (parts.next()?, parts.next()?);
        // Only origin-form targets (`/callback?...`): an absolute one could name another host.
        if method != "GET" || !target.starts_with('/') {
            return None;
        }
        let url = Url::parse(self.redirect_uri.as_str())
            .ok()?
            .join(target)
            .ok()?;
        (url.path() == self.path).then_some(url)
    }
}

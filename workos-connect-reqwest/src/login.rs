//! The whole MCP login, driven: each request sent with reqwest, the browser step handed to a
//! [`Browser`].

use workos_connect::mcp::{McpAuthorization, McpLogin, McpLoginError, McpLoginStep};

use crate::browser::{Browser, BrowserError};
use crate::send::{send_for_answer, SendError};

/// Why a driven login stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// A step was refused (metadata, registration, callback, token...).
    #[error(transparent)]
    Login(#[from] McpLoginError),
    /// A request got no answer.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The browser step gave no callback.
    #[error(transparent)]
    Browser(#[from] BrowserError),
}

/// Runs `login` to its end: every request sent with `client`, the browser step through `browser`.
pub async fn log_in(
    client: &reqwest::Client,
    mut login: McpLogin,
    browser: &mut impl Browser,
) -> Result<McpAuthorization, LoginError> {
    loop {
        match login.step() {
            McpLoginStep::Send(request) => {
                let request = request.clone();
                let answer = send_for_answer(client, &request).await?;
                login.answer_with_dpop_nonce(answer.status, answer.dpop_nonce(), &answer.body)?;
            }
            McpLoginStep::Authorize(url) => {
                let url = url.clone();
                let callback = browser.authorize(&url).await?;
                login.callback(&callback)?;
            }
            McpLoginStep::Done(authorization) => return Ok(authorization.clone()),
            // `answer` and `callback` return the error that stops a login, so no loop reaches
            // a stopped one; a future step kind is refused rather than spun on.
            _ => return Err(McpLoginError::OutOfOrder("a step this driver knows").into()),
        }
    }
}

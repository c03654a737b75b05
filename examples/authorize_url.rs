//! Prints a WorkOS Connect authorize URL and what the app keeps until the callback.
//!
//! ```text
//! cargo run --example authorize_url -- --scope "openid profile email" --pkce
//! ```
//!
//! Stdout: the URL alone on the first line, then the pending authorization as one JSON object. A bad
//! option exits with 2, a value the crate refuses with 1; either way the reason goes to stderr and
//! nothing to stdout.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use workos_connect::{AuthKitDomain, ClientId, ConnectClient, RedirectUri, Scopes};

/// Prints a WorkOS Connect authorize URL, then the pending authorization (JSON) to keep until the
/// callback.
#[derive(Parser)]
#[command(after_help = "An option given on the command line wins over its environment variable.")]
struct Options {
    /// AuthKit domain
    #[arg(
        long,
        env = "WORKOS_AUTHKIT_DOMAIN",
        default_value = "https://demo.authkit.app"
    )]
    domain: String,
    /// Client ID
    #[arg(
        long,
        env = "WORKOS_CLIENT_ID",
        default_value = "client_01DEMO000000000000000000"
    )]
    client_id: String,
    /// Redirect URI
    #[arg(
        long,
        env = "WORKOS_REDIRECT_URI",
        default_value = "http://localhost:3000/callback"
    )]
    redirect_uri: String,
    /// Space-separated scopes, e.g. "openid profile"
    #[arg(long, default_value = "openid")]
    scope: String,
    /// Add PKCE (S256); WorkOS supports it for apps made by Dynamic Client Registration
    #[arg(long)]
    pkce: bool,
}

// Values are taken as text and checked by the crate, whose messages say what to fix.
fn run(options: Options) -> Result<String, Box<dyn std::error::Error>> {
    let client = ConnectClient::new(
        AuthKitDomain::parse(&options.domain)?,
        ClientId::new(&options.client_id)?,
        RedirectUri::new(&options.redirect_uri)?,
    );
    let mut request = client.authorize().scopes(options.scope.parse::<Scopes>()?);
    if options.pkce {
        request = request.with_pkce();
    }
    let (redirect, pending) = request.build()?;
    Ok(format!(
        "{}\n{}\n",
        redirect.as_str(),
        serde_json::to_string(&pending)?
    ))
}

fn main() -> ExitCode {
    let output = match run(Options::parse()) {
        Ok(output) => output,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    };
    // A closed pipe (`| head`) is the reader's choice, not a failure worth a panic.
    if let Err(error) = std::io::stdout().lock().write_all(output.as_bytes()) {
        eprintln!("error: could not write to stdout: {error}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

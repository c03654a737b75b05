//! Prints a WorkOS Connect authorize URL and what the app keeps until the callback.
//!
//! ```text
//! cargo run --example authorize_url -- --scope "openid profile email" --pkce
//! ```
//!
//! Stdout: the URL alone on the first line, then the pending authorization as one JSON object. Any bad
//! input exits non-zero with the reason on stderr and nothing on stdout.

use std::env::VarError;
use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use workos_connect::{AuthKitDomain, ClientId, ConnectClient, RedirectUri, Scopes};

const HELP: &str = "\
Prints a WorkOS Connect authorize URL, then the pending authorization (JSON) to keep until the callback.

Usage: authorize_url [OPTIONS]

Options:
  --domain <URL>         AuthKit domain [env: WORKOS_AUTHKIT_DOMAIN] [default: https://demo.authkit.app]
  --client-id <ID>       client ID [env: WORKOS_CLIENT_ID] [default: client_01DEMO000000000000000000]
  --redirect-uri <URI>   redirect URI [env: WORKOS_REDIRECT_URI] [default: http://localhost:3000/callback]
  --scope <SCOPES>       space-separated scopes, e.g. \"openid profile\" [default: openid]
  --pkce                 add PKCE (S256); WorkOS supports it for apps made by Dynamic Client Registration
  -h, --help             print this help

An option given on the command line wins over its environment variable; an empty variable counts as unset.
";

struct Options {
    domain: String,
    client_id: String,
    redirect_uri: String,
    scope: Option<String>,
    pkce: bool,
}

enum Command {
    Run(Options),
    Help,
}

/// Reads an environment variable, taking an empty one as unset, as `.env` templates leave them.
fn env_or(name: &str, default: &str) -> Result<String, String> {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => Ok(value),
        Ok(_) | Err(VarError::NotPresent) => Ok(default.to_owned()),
        Err(VarError::NotUnicode(_)) => Err(format!("{name} is not valid UTF-8")),
    }
}

fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    let mut options = Options {
        domain: env_or("WORKOS_AUTHKIT_DOMAIN", "https://demo.authkit.app")?,
        client_id: env_or("WORKOS_CLIENT_ID", "client_01DEMO000000000000000000")?,
        redirect_uri: env_or("WORKOS_REDIRECT_URI", "http://localhost:3000/callback")?,
        scope: None,
        pkce: false,
    };
    let mut args = args.into_iter().map(|arg| {
        arg.into_string()
            .map_err(|arg| format!("argument {arg:?} is not valid UTF-8"))
    });
    while let Some(arg) = args.next() {
        let arg = arg?;
        let (name, inline_value) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--pkce" if inline_value.is_none() => options.pkce = true,
            "--domain" | "--client-id" | "--redirect-uri" | "--scope" => {
                let value = match inline_value {
                    Some(value) => value,
                    None => args
                        .next()
                        .ok_or_else(|| format!("{name} needs a value; see --help"))??,
                };
                match name.as_str() {
                    "--domain" => options.domain = value,
                    "--client-id" => options.client_id = value,
                    "--redirect-uri" => options.redirect_uri = value,
                    _ => options.scope = Some(value),
                }
            }
            _ => return Err(format!("unknown argument `{name}`; see --help")),
        }
    }
    Ok(Command::Run(options))
}

fn run(options: Options) -> Result<String, Box<dyn std::error::Error>> {
    let client = ConnectClient::new(
        AuthKitDomain::parse(&options.domain)?,
        ClientId::new(&options.client_id)?,
        RedirectUri::new(&options.redirect_uri)?,
    );
    let scopes = match &options.scope {
        Some(scope) => scope.parse::<Scopes>()?,
        None => Scopes::default(),
    };
    let mut request = client.authorize().scopes(scopes);
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
    let outcome = parse_args(std::env::args_os().skip(1)).map_err(|usage| (usage, 2));
    let outcome = outcome.and_then(|command| match command {
        Command::Help => Ok(HELP.to_owned()),
        Command::Run(options) => run(options).map_err(|error| (error.to_string(), 1)),
    });
    match outcome {
        Ok(stdout) => match std::io::stdout().lock().write_all(stdout.as_bytes()) {
            Ok(()) => ExitCode::SUCCESS,
            // A closed pipe (`| head`) is the reader's choice, not a failure worth a panic.
            Err(error) => {
                eprintln!("error: could not write to stdout: {error}");
                ExitCode::from(1)
            }
        },
        Err((message, code)) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}

//! A command-line login like `gh auth login`, with AuthKit's CLI Auth (the device authorization
//! grant, RFC 8628): it shows a one-time code and the page where the user types it, offers to open
//! that page in the browser, prints a QR code of it for a phone, and polls until the user has
//! logged in, refused, or let the code expire. Then it asks the userinfo endpoint who logged in.
//!
//! ```text
//! cargo run -p device-login -- --domain https://example.authkit.app --client-id client_01
//! ```
//!
//! A real command would keep the refresh token (`offline_access`) in the system's keychain; this
//! one only shows who logged in, and never prints a token.

use std::io::{self, IsTerminal};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use clap::Parser;
use console::style;
use indicatif::ProgressBar;
use qrcode::render::unicode::Dense1x2;
use qrcode::{EcLevel, QrCode};
use workos_connect::device::{DeviceClient, DeviceError, DeviceLogin, Poll};
use workos_connect::{
    authkit::{Userinfo, UserinfoError, UserinfoRequest},
    jose::{KeySet, KeySetError},
    oauth::{Clock, ScopeList, SystemClock, TokenRequest},
    AuthKitDomain, ClientId, IdTokenError, TokenResponse,
};

/// Log in to WorkOS AuthKit from the command line with a one-time code.
#[derive(Parser)]
struct Options {
    /// The AuthKit domain, e.g. https://example.authkit.app
    #[arg(long, env = "WORKOS_AUTHKIT_DOMAIN")]
    domain: AuthKitDomain,
    /// The client ID of the application, with CLI Auth enabled
    #[arg(long, env = "WORKOS_CLIENT_ID")]
    client_id: ClientId,
    /// The scopes to ask for, separated by spaces; custom scopes too
    #[arg(long, default_value = "openid profile email offline_access")]
    scope: ScopeList,
    /// Do not offer to open the browser; only print the page's URL
    #[arg(long)]
    no_browser: bool,
    /// Do not print a QR code of the page
    #[arg(long)]
    no_qr: bool,
}

#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    #[error("{0}")]
    Device(#[from] DeviceError),
    #[error("{0}")]
    Userinfo(#[from] UserinfoError),
    #[error("the ID token: {0}")]
    IdToken(#[from] IdTokenError),
    #[error("the signing keys: {0}")]
    Keys(#[from] KeySetError),
    #[error("Ctrl-C handler: {0}")]
    Signal(#[from] ctrlc::Error),
}

fn main() -> ExitCode {
    let options = Options::parse();
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: &Options) -> Result<(), Failure> {
    // Whatever it is doing (waiting, polling, asking userinfo), Ctrl-C ends the login at once;
    // nothing is left to undo, and the device code expires on its own.
    ctrlc::set_handler(|| {
        eprintln!("\nLogin cancelled.");
        // What a shell reports for a program that SIGINT stopped: 128 + 2.
        std::process::exit(130);
    })?;
    let http = reqwest::blocking::Client::builder()
        // A 307 would send the form, with the device code, wherever the answer points.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()?;

    let client = DeviceClient::new(&options.domain, options.client_id.clone());
    let (status, body) = post(&http, &client.authorization_request(&options.scope))?;
    let mut login = client.read_authorization(status, &body, SystemClock.now())?;
    show(&login, options);

    let spinner = ProgressBar::new_spinner().with_message("Waiting for the login in the browser…");
    spinner.enable_steady_tick(Duration::from_millis(100));
    let tokens = poll(&http, &mut login, &spinner);
    spinner.finish_and_clear();
    let tokens = tokens?;

    let check = style("✓").green().for_stdout();
    match who(&http, &client, &options.domain, &tokens) {
        // Userinfo refuses claims with control or bidirectional formatting characters, so they are
        // safe to print.
        Ok(user) => match user.email.as_ref().or(user.name.as_ref()) {
            Some(name) => println!("{check} Logged in as {name} ({})", user.sub),
            None => println!("{check} Logged in as {}", user.sub),
        },
        Err(failure) => {
            eprintln!("! Could not tell who logged in: {failure}");
            // No `scope` in the answer means the scopes asked for (RFC 6749 section 5.1); a
            // `ScopeList` holds no control characters.
            let scope = tokens
                .scope
                .as_deref()
                .and_then(|granted| granted.parse::<ScopeList>().ok())
                .unwrap_or_else(|| options.scope.clone());
            println!("{check} Logged in, with the scopes {scope}");
        }
    }
    Ok(())
}

/// The code, the page, the QR code, and the offer to open the browser, which polling does not
/// wait for: the user may log in on a phone instead.
fn show(login: &DeviceLogin, options: &Options) {
    eprintln!(
        "{} First copy your one-time code: {}",
        style("!").yellow().for_stderr(),
        style(login.user_code()).bold().for_stderr()
    );
    let interactive =
        !options.no_browser && io::stdin().is_terminal() && io::stderr().is_terminal();
    // The page with the code filled in; in a log a QR code is only noise.
    let complete = login.verification_uri_complete();
    if let Some(url) = complete.filter(|_| !options.no_qr && io::stderr().is_terminal()) {
        if let Ok(code) = QrCode::with_error_correction_level(url.as_str(), EcLevel::L) {
            let image = code
                .render::<Dense1x2>()
                .dark_color(Dense1x2::Light)
                .light_color(Dense1x2::Dark)
                .build();
            eprintln!("Scan this with your phone:\n{image}");
        }
    }
    if !interactive {
        eprintln!(
            "Open {} in your browser and enter the code.",
            login.verification_uri()
        );
        return;
    }
    eprintln!(
        "Press Enter to open {} in your browser...",
        login.verification_uri()
    );
    let page = complete.unwrap_or(login.verification_uri()).clone();
    thread::spawn(move || {
        // End of input (Ctrl-D) is not Enter.
        if io::stdin()
            .read_line(&mut String::new())
            .is_ok_and(|read| read > 0)
        {
            if let Err(error) = webbrowser::open(page.as_str()) {
                eprintln!("! Could not open a browser ({error}); open the page yourself.");
            }
        }
    });
}

/// Polls the token endpoint until the user has finished, never before the poll is due.
fn poll(
    http: &reqwest::blocking::Client,
    login: &mut DeviceLogin,
    spinner: &ProgressBar,
) -> Result<TokenResponse, Failure> {
    loop {
        // Nothing once the poll is due.
        thread::sleep(
            login
                .next_poll_at()
                .duration_since(SystemClock.now())
                .unwrap_or_default(),
        );
        let answer = post(http, &login.poll_request()).map_err(Failure::from);
        let outcome = answer
            .and_then(|(status, body)| Ok(login.read_poll(status, &body, SystemClock.now())?));
        match outcome {
            Ok(Poll::Pending { .. }) => {}
            Ok(Poll::Done(tokens)) => return Ok(tokens),
            // A network failure or a busy server: wait longer, as RFC 8628 section 3.5 asks.
            Err(Failure::Http(error)) => retry(login, spinner, &error)?,
            Err(Failure::Device(error)) if error.is_transient() => retry(login, spinner, &error)?,
            Err(failure) => return Err(failure),
        }
    }
}

fn retry(
    login: &mut DeviceLogin,
    spinner: &ProgressBar,
    error: &dyn std::error::Error,
) -> Result<(), Failure> {
    login.back_off(SystemClock.now())?;
    spinner.println(format!(
        "! {error}; trying again in {} s",
        login.interval().as_secs()
    ));
    Ok(())
}

fn post(
    http: &reqwest::blocking::Client,
    request: &TokenRequest,
) -> Result<(u16, Vec<u8>), reqwest::Error> {
    let response = http
        .post(request.url().clone())
        .header("content-type", TokenRequest::CONTENT_TYPE)
        .header("accept", "application/json")
        .body(request.body())
        .send()?;
    Ok((response.status().as_u16(), response.bytes()?.to_vec()))
}

/// Who logged in: userinfo's claims, about the user of the validated ID token when there is one
/// (OpenID Connect Core section 5.3.2).
fn who(
    http: &reqwest::blocking::Client,
    client: &DeviceClient,
    domain: &AuthKitDomain,
    tokens: &TokenResponse,
) -> Result<Userinfo, Failure> {
    let request = UserinfoRequest::for_domain(domain, &tokens.access_token);
    let response = http
        .get(request.url().clone())
        .header("authorization", request.authorization())
        .header("accept", "application/json")
        .send()?;
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let user = Userinfo::parse(status, challenge.as_deref(), &response.bytes()?)?;
    if let Some(id_token) = &tokens.id_token {
        let jwks = http
            .get(domain.jwks_endpoint())
            .send()?
            .error_for_status()?;
        let keys = KeySet::parse(&jwks.bytes()?)?;
        let claims = client.id_token().validate(id_token, &keys)?;
        user.check_subject(&claims.sub)?;
    }
    Ok(user)
}

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
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use console::style;
use indicatif::ProgressBar;
use qrcode::render::unicode::Dense1x2;
use qrcode::{EcLevel, QrCode};
use workos_connect::device::{DeviceClient, DeviceError, DeviceLogin, Poll};
use workos_connect::{
    AuthKitDomain, ClientId, ScopeList, TokenRequest, TokenResponse, Userinfo, UserinfoError,
    UserinfoRequest,
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
    #[error("Ctrl-C handler: {0}")]
    Signal(#[from] ctrlc::Error),
    #[error("login cancelled")]
    Interrupted,
}

/// What the main thread waits for besides time.
enum Event {
    Enter,
    Interrupt,
}

fn main() -> ExitCode {
    let options = Options::parse();
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Interrupted) => {
            eprintln!("Login cancelled.");
            // What a shell reports for a program that SIGINT stopped: 128 + 2.
            ExitCode::from(130)
        }
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: &Options) -> Result<(), Failure> {
    // Ctrl-C arrives as an event, so that the waits (for Enter, between polls) end at once on it.
    let (events, received) = mpsc::channel();
    let interrupts = events.clone();
    ctrlc::set_handler(move || {
        let _ = interrupts.send(Event::Interrupt);
    })?;
    let http = reqwest::blocking::Client::builder()
        // A 307 would send the form, with the device code, wherever the answer points.
        .redirect(reqwest::redirect::Policy::none())
        // Short, so that a server that hangs does not hold up a Ctrl-C for long either.
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()?;

    let client = DeviceClient::new(&options.domain, options.client_id.clone());
    let (status, body) = post(&http, &client.authorization_request(&options.scope))?;
    let mut login = client.read_authorization(status, &body, Instant::now())?;
    show(&login, options, events, &received)?;

    let spinner = ProgressBar::new_spinner().with_message("Waiting for the login in the browser…");
    spinner.enable_steady_tick(Duration::from_millis(100));
    let tokens = poll(&http, &mut login, &received);
    spinner.finish_and_clear();
    let tokens = tokens?;

    let check = style("✓").green().for_stdout();
    match who(&http, &options.domain, &tokens) {
        // Userinfo refuses claims with control characters, so they are safe to print.
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

/// The code, the page, the QR code, and the offer to open the browser.
fn show(
    login: &DeviceLogin,
    options: &Options,
    events: Sender<Event>,
    received: &Receiver<Event>,
) -> Result<(), Failure> {
    eprintln!(
        "{} First copy your one-time code: {}",
        style("!").yellow().for_stderr(),
        style(login.user_code()).bold().for_stderr()
    );
    let interactive =
        !options.no_browser && io::stdin().is_terminal() && io::stderr().is_terminal();
    if !interactive {
        eprintln!(
            "Open {} in your browser and enter the code.",
            login.verification_uri()
        );
    }
    // The page with the code filled in; in a log a QR code is only noise.
    let complete = login.verification_uri_complete();
    if let Some(url) = complete.filter(|_| !options.no_qr && io::stderr().is_terminal()) {
        if let Ok(code) = QrCode::with_error_correction_level(url.as_str(), EcLevel::L) {
            let image = code
                .render::<Dense1x2>()
                .dark_color(Dense1x2::Light)
                .light_color(Dense1x2::Dark)
                .build();
            eprintln!("Or scan this with your phone:\n{image}");
        }
    }
    if !interactive {
        return Ok(());
    }
    eprint!(
        "Press Enter to open {} in your browser... ",
        login.verification_uri()
    );
    // Read on a thread of its own: a Ctrl-C does not interrupt a read of the terminal.
    thread::spawn(move || {
        let _ = io::stdin().read_line(&mut String::new());
        let _ = events.send(Event::Enter);
    });
    if let Ok(Event::Interrupt) = received.recv() {
        eprintln!();
        return Err(Failure::Interrupted);
    }
    let page = complete.unwrap_or(login.verification_uri());
    if let Err(error) = webbrowser::open(page.as_str()) {
        eprintln!("! Could not open a browser ({error}); open the page yourself.");
    }
    Ok(())
}

/// Polls the token endpoint until the user has finished.
fn poll(
    http: &reqwest::blocking::Client,
    login: &mut DeviceLogin,
    received: &Receiver<Event>,
) -> Result<TokenResponse, Failure> {
    loop {
        // Never before `next_poll_at`: a poll sooner earns `slow_down`, a longer interval for good.
        while Instant::now() < login.next_poll_at() {
            let wait = login
                .next_poll_at()
                .saturating_duration_since(Instant::now());
            if let Ok(Event::Interrupt) = received.recv_timeout(wait) {
                return Err(Failure::Interrupted);
            }
        }
        let (status, body) = post(http, &login.poll_request())?;
        // Still pending otherwise, and `login.next_poll_at()` has moved on.
        if let Poll::Done(tokens) = login.read_poll(status, &body, Instant::now())? {
            return Ok(tokens);
        }
    }
}

fn post(
    http: &reqwest::blocking::Client,
    request: &TokenRequest,
) -> Result<(u16, Vec<u8>), Failure> {
    let response = http
        .post(request.url().clone())
        .header("content-type", TokenRequest::CONTENT_TYPE)
        .header("accept", "application/json")
        .body(request.body())
        .send()?;
    Ok((response.status().as_u16(), response.bytes()?.to_vec()))
}

fn who(
    http: &reqwest::blocking::Client,
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
    Ok(Userinfo::parse(
        status,
        challenge.as_deref(),
        &response.bytes()?,
    )?)
}

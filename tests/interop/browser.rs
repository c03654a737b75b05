//! The web login and the MCP client's browser login in a real browser: headless Chromium, driven by
//! browser.mjs (puppeteer-core, pinned by package-lock.json), where every other scenario posts the
//! provider's forms and carries cookies by hand. What a browser does of its own is what is tested:
//! the `SameSite=Lax` session cookie coming back on the provider's cross-site redirect, the
//! `__Host-` prefix and `Secure` over https, requests other sites' pages make it send, two tabs,
//! the back button after logout.
//!
//! The app is the axum-login example at `localhost`, over http and over https (a certificate the
//! test makes with `openssl`, trusted by Chromium for its key alone); the provider, a provider of
//! these scenarios' own, is at `127.0.0.1`: another site, as AuthKit is for an app. Each scenario
//! has its own client at the provider (`browser-<port>`), whose refresh_token grants it counts.
//!
//! On a failure, browser.mjs saves a screenshot of each open page, its URL and its text in
//! `<target tmp>/browser/<scenario>/`; the failure message names the folder.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use super::mcp_client;
use super::{
    built, first_line, free_port, missing_provider, provider, provider_dir, start_provider_with,
    stop_after, ProcessGuard, Provider, ResourceServer, Served,
};

/// The apps a browser scenario runs, each on its own port with its own client at the provider.
#[derive(Clone, Copy)]
enum App {
    WebLoginHttp,
    WebLoginHttps,
    AttacksHttp,
    AttacksHttps,
}

impl App {
    const ALL: [App; 4] = [
        App::WebLoginHttp,
        App::WebLoginHttps,
        App::AttacksHttp,
        App::AttacksHttps,
    ];

    fn https(self) -> bool {
        matches!(self, App::WebLoginHttps | App::AttacksHttps)
    }
}

/// The browser scenarios' own provider, and the port of each app (see [`App`]).
struct BrowserProvider {
    provider: Provider,
    ports: [u16; 4],
}

impl BrowserProvider {
    fn port(&self, app: App) -> u16 {
        self.ports[app as usize]
    }

    /// The app's origin: `localhost`, another site than the provider's `127.0.0.1`.
    fn origin(&self, app: App) -> String {
        let scheme = if app.https() { "https" } else { "http" };
        format!("{scheme}://localhost:{}", self.port(app))
    }

    fn client_id(&self, app: App) -> String {
        format!("browser-{}", self.port(app))
    }
}

fn browser_provider() -> &'static BrowserProvider {
    static PROVIDER: OnceLock<Result<BrowserProvider, String>> = OnceLock::new();
    let started = PROVIDER.get_or_init(|| {
        let ports = App::ALL.map(|_| free_port());
        let uris: Vec<String> = App::ALL
            .iter()
            .zip(ports)
            .map(|(app, port)| {
                let scheme = if app.https() { "https" } else { "http" };
                format!("{scheme}://localhost:{port}/callback")
            })
            .collect();
        let env = [("BROWSER_REDIRECT_URIS", uris.join(" "))];
        let provider = start_provider_with("interop-provider-browser.log", &env)?;
        Ok(BrowserProvider { provider, ports })
    });
    match started {
        Ok(provider) => provider,
        Err(reason) => panic!("the browser scenarios' provider did not start: {reason}"),
    }
}

/// The Chromium to drive: `CHROMIUM`, or `chromium` on the PATH (Debian's package).
fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".to_owned())
}

/// Why the browser scenarios cannot run here, if they cannot.
pub(super) fn missing_browser() -> Option<String> {
    if let Some(reason) = missing_provider() {
        return Some(reason);
    }
    if !provider_dir().join("node_modules/puppeteer-core").is_dir() {
        return Some("tests/interop/node_modules is missing puppeteer-core: run `npm ci`".into());
    }
    let runs = |program: &str, arg: &str| {
        Command::new(program)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    if !runs(&chromium(), "--version") {
        return Some(format!(
            "`{}` does not run (set CHROMIUM, or `apt-get install chromium`)",
            chromium()
        ));
    }
    if !runs("openssl", "version") {
        return Some("`openssl` is not on the PATH (`apt-get install openssl`)".into());
    }
    None
}

/// A self-signed certificate for `localhost` and its key, made once for the run: their paths.
fn certificate() -> &'static (PathBuf, PathBuf) {
    static MADE: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    MADE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
        std::fs::create_dir_all(&dir).expect("the browser scenarios' folder");
        let (cert, key) = (dir.join("localhost.pem"), dir.join("localhost-key.pem"));
        let output = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
            .args([
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("openssl runs");
        assert!(
            output.status.success(),
            "openssl made no certificate: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        (cert, key)
    })
}

/// The axum-login example for `app`, listening on loopback under its `localhost` origin.
fn start_app(browser: &BrowserProvider, app: App, refresh_margin: u64) -> ProcessGuard {
    let origin = browser.origin(app);
    let mut command = Command::new(built("axum-login"));
    command
        .args(["--domain", &browser.provider.issuer])
        .args(["--client-id", &browser.client_id(app)])
        .args(["--redirect-uri", &format!("{origin}/callback")])
        .args(["--listen", &format!("127.0.0.1:{}", browser.port(app))])
        .args(["--refresh-margin", &refresh_margin.to_string()])
        .env_remove("WORKOS_CLIENT_SECRET")
        .env_remove("REDIS_URL")
        .stderr(Stdio::piped());
    if app.https() {
        let (cert, key) = certificate();
        command
            .arg("--tls-cert")
            .arg(cert)
            .arg("--tls-key")
            .arg(key);
    }
    let mut child = command.spawn().expect("axum-login starts");
    let stderr = child.stderr.take().expect("its stderr");
    let guard = ProcessGuard(child);
    let ready = if app.https() {
        "serving https"
    } else {
        "serving http"
    };
    first_line(stderr, "axum-login", ready);
    guard
}

/// Runs browser.mjs's `scenario` with `arguments` (plus the browser, the certificate and the
/// folder for screenshots); what it measured, as JSON. Fails with its messages and the folder.
fn drive(name: &str, scenario: &str, mut arguments: serde_json::Value) -> serde_json::Value {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("browser")
        .join(name);
    let _ = std::fs::remove_dir_all(&out);
    arguments["chromium"] = chromium_path().into();
    arguments["out"] = out.display().to_string().into();
    let mut child = Command::new("node")
        .arg("browser.mjs")
        .arg(scenario)
        .arg(arguments.to_string())
        .current_dir(provider_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node starts");
    stop_after(child.id(), "browser.mjs");
    let mut stderr = child.stderr.take().expect("its stderr");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut printed = String::new();
    child
        .stdout
        .take()
        .expect("its stdout")
        .read_to_string(&mut printed)
        .expect("its output");
    let status = child.wait().expect("browser.mjs ends");
    let errors = errors.join().expect("its stderr's reader");
    assert!(
        status.success(),
        "the browser's part failed ({status}); what it saw is in {}:\n{errors}{printed}",
        out.display()
    );
    let last = printed.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|error| panic!("{error}: {printed}"))
}

/// The Chromium executable itself: puppeteer needs a path, not a name on the PATH.
fn chromium_path() -> String {
    let name = chromium();
    if Path::new(&name).is_absolute() {
        return name;
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(&name))
        .find(|path| path.is_file())
        .map(|path| path.display().to_string())
        .unwrap_or(name)
}

/// The app's arguments for browser.mjs.
fn app_arguments(browser: &BrowserProvider, app: App, refresh_margin: u64) -> serde_json::Value {
    let mut arguments = serde_json::json!({
        "app": browser.origin(app),
        "issuer": browser.provider.issuer,
        "clientId": browser.client_id(app),
        "refreshMargin": refresh_margin,
    });
    if app.https() {
        arguments["certificate"] = certificate().0.display().to_string().into();
    }
    arguments
}

/// Logs in through the provider's pages, reloads past the renewal margin (renewed once, still
/// signed in), starts a login in each of two tabs (the newer one wins, the older is refused with
/// `state_mismatch`), logs out in one tab (the other is signed out too, no cookie left), and goes
/// back twice: no page shows the user.
fn web_login(name: &str, app: App) {
    let browser = browser_provider();
    // The login's access token lasts 30 seconds: renewed 5 seconds after the login.
    let margin = 25;
    let _app = start_app(browser, app, margin);
    let measured = drive(name, "web-login", app_arguments(browser, app, margin));
    assert_eq!(measured["renewed"], true, "{measured}");
}

pub(super) fn browser_axum_login_over_http_signs_in_renews_and_signs_out() {
    web_login(
        "browser_axum_login_over_http_signs_in_renews_and_signs_out",
        App::WebLoginHttp,
    );
}

/// Over https the session cookie is `Secure` and `__Host-session`.
pub(super) fn browser_axum_login_over_https_signs_in_renews_and_signs_out() {
    web_login(
        "browser_axum_login_over_https_signs_in_renews_and_signs_out",
        App::WebLoginHttps,
    );
}

/// Pages of another site (`127.0.0.1`, the app being `localhost`): a forged callback loaded while
/// a login is in progress (400, the genuine callback after it succeeds), forms posted to /logout
/// and /refresh (403 `cross_site_request`, still signed in, the same session cookie, nothing
/// renewed), an image, frame and fetch of the app past the renewal margin (no cookie: nothing
/// renewed), and a link followed to it (a visit: renewed once, still signed in).
fn attacks(name: &str, app: App) {
    let browser = browser_provider();
    // 12 seconds after the login for the refused posts, before the renewal is due.
    let margin = 18;
    let _app = start_app(browser, app, margin);
    let measured = drive(name, "attacks", app_arguments(browser, app, margin));
    let cookie = if app.https() {
        "__Host-session"
    } else {
        "session"
    };
    assert_eq!(measured["cookie"], cookie, "{measured}");
}

pub(super) fn browser_axum_login_over_http_refuses_other_sites() {
    attacks(
        "browser_axum_login_over_http_refuses_other_sites",
        App::AttacksHttp,
    );
}

pub(super) fn browser_axum_login_over_https_refuses_other_sites() {
    attacks(
        "browser_axum_login_over_https_refuses_other_sites",
        App::AttacksHttps,
    );
}

/// The mcp-client example's interactive login: the example opens its login URL with its
/// `--browser` command, here browser.mjs, which completes the provider's pages in Chromium and is
/// sent back to the example's loopback port; the example then calls the tool with the token.
pub(super) fn browser_mcp_client_logs_in_in_chromium() {
    let provider = provider();
    let server = ResourceServer::start_with(provider, Served::McpServer, &[]);
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("browser")
        .join("browser_mcp_client_logs_in_in_chromium");
    let _ = std::fs::remove_dir_all(&out);
    let arguments = serde_json::json!({
        "issuer": provider.issuer,
        "chromium": chromium_path(),
        "out": out.display().to_string(),
    });
    let script = provider_dir().join("browser.mjs");
    let mut child = mcp_client(&[&server.url, "--tool", "whoami", "--browser"])
        .arg(format!("node {} mcp-login", script.display()))
        .env("BROWSER_MJS_ARGUMENTS", arguments.to_string())
        .spawn()
        .expect("mcp-client starts");
    stop_after(child.id(), "mcp-client");
    let mut stderr = child.stderr.take().expect("its stderr");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut printed = String::new();
    let mut client = ProcessGuard(child);
    client
        .0
        .stdout
        .take()
        .expect("its stdout")
        .read_to_string(&mut printed)
        .expect("its output");
    let status = client.0.wait().expect("mcp-client ends");
    let errors = errors.join().expect("its stderr's reader");
    // The script writes its outcome before closing the browser, after the example is served.
    let outcome = (0..100).find_map(|_| {
        let read = |name: &str| std::fs::read_to_string(out.join(name)).ok();
        let found = read("result.json")
            .map(Ok)
            .or_else(|| read("error.txt").map(Err));
        if found.is_none() {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        found
    });
    let measured = match outcome {
        Some(Ok(result)) => serde_json::from_str::<serde_json::Value>(&result).unwrap(),
        Some(Err(error)) => panic!(
            "the browser's part failed; what it saw is in {}:\n{error}\nmcp-client: {errors}",
            out.display()
        ),
        None => panic!(
            "the browser command left no outcome in {}: {errors}",
            out.display()
        ),
    };
    assert!(
        errors.contains("Open this URL to log in:"),
        "the URL is printed too: {errors}"
    );
    assert_eq!(
        measured["page"], "Logged in; you can close this tab.",
        "{measured}"
    );
    assert!(status.success(), "{errors}{printed}");
    assert!(
        printed.contains("whoami: ") && printed.contains("sub user_01 (organization none)"),
        "{printed}"
    );
}

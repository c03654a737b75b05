//! Runs the main example as a user would (`cargo run --example authorize_url`) and checks its output.

use std::ffi::OsString;
use std::process::{Command, Output, Stdio};

use url::Url;

/// Runs the example through the same cargo that runs this test, with a clean WorkOS environment.
fn run_example(args: &[&str], env: &[(&str, &str)]) -> Output {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    let env: Vec<(&str, OsString)> = env
        .iter()
        .map(|(name, value)| (*name, OsString::from(value)))
        .collect();
    run_example_os(&args, &env)
}

fn run_example_os(args: &[OsString], env: &[(&str, OsString)]) -> Output {
    let mut command = Command::new(env!("CARGO"));
    command
        .args(["run", "--quiet", "--example", "authorize_url", "--"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("WORKOS_AUTHKIT_DOMAIN")
        .env_remove("WORKOS_CLIENT_ID")
        .env_remove("WORKOS_REDIRECT_URI")
        .env_remove("RUST_BACKTRACE");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("cargo runs")
}

fn stdout_lines(output: &Output) -> Vec<String> {
    assert!(
        output.status.success(),
        "example failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone())
        .expect("UTF-8 stdout")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn default_run_prints_a_url_then_the_pending_json() {
    let output = run_example(&[], &[]);
    let lines = stdout_lines(&output);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let url = Url::parse(&lines[0]).expect("first line is a URL");
    assert_eq!(
        url.origin().ascii_serialization(),
        "https://demo.authkit.app"
    );
    assert_eq!(url.path(), "/oauth2/authorize");
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let names: Vec<&str> = pairs.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "nonce"
        ]
    );
    let pending: serde_json::Value = serde_json::from_str(&lines[1]).expect("second line is JSON");
    assert_eq!(pending["state"].as_str(), Some(pairs[4].1.as_str()));
    assert_eq!(pending["nonce"].as_str(), Some(pairs[5].1.as_str()));
    assert_eq!(pending["client_id"].as_str(), Some(pairs[1].1.as_str()));
    assert_eq!(pending["redirect_uri"].as_str(), Some(pairs[2].1.as_str()));
    assert!(pending.get("code_verifier").is_none());
}

#[test]
fn options_and_environment_are_used() {
    let output = run_example(
        &["--scope", "openid profile email offline_access", "--pkce"],
        &[
            ("WORKOS_AUTHKIT_DOMAIN", "https://acme.authkit.app/"),
            ("WORKOS_CLIENT_ID", "client_ACME"),
            ("WORKOS_REDIRECT_URI", "https://acme.example/cb"),
        ],
    );
    let lines = stdout_lines(&output);
    let url = Url::parse(&lines[0]).unwrap();
    assert_eq!(url.host_str(), Some("acme.authkit.app"));
    let pairs: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(pairs["client_id"], "client_ACME");
    assert_eq!(pairs["redirect_uri"], "https://acme.example/cb");
    assert_eq!(pairs["scope"], "openid profile email offline_access");
    assert_eq!(pairs["code_challenge_method"], "S256");
    let pending: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    let verifier = pending["code_verifier"]
        .as_str()
        .expect("code_verifier kept");
    let challenge = workos_connect::PkceVerifier::new(verifier)
        .unwrap()
        .challenge();
    assert_eq!(pairs["code_challenge"], challenge.as_str());

    // A flag beats the environment.
    let output = run_example(
        &["--client-id=client_FLAG"],
        &[("WORKOS_CLIENT_ID", "client_ENV")],
    );
    let lines = stdout_lines(&output);
    assert!(lines[0].contains("client_id=client_FLAG&"), "{}", lines[0]);
}

#[test]
fn bad_input_fails_cleanly_with_the_library_message() {
    for (args, env, message) in [
        (
            vec!["--scope", "profile"],
            vec![],
            "scope `profile` requires `openid`",
        ),
        (
            vec!["--redirect-uri", "http://app.example.com/cb"],
            vec![],
            "redirect_uri uses http on non-loopback host `app.example.com`",
        ),
        (
            vec![],
            vec![("WORKOS_AUTHKIT_DOMAIN", "acme.authkit.app")],
            "has no scheme; write it as `https://acme.authkit.app`",
        ),
        (
            vec!["--scope", "openid Email"],
            vec![],
            "unknown scope \"Email\"",
        ),
    ] {
        let output = run_example(&args, &env);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} should fail");
        assert!(output.stdout.is_empty(), "{args:?} printed to stdout");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn bad_options_are_usage_errors() {
    for (args, message) in [
        (vec!["--nope"], "--nope"),
        (vec!["--client-id"], "--client-id"),
    ] {
        let output = run_example(&args, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?} printed to stdout");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[cfg(unix)]
#[test]
fn text_that_is_not_utf8_is_refused_not_ignored() {
    use std::os::unix::ffi::OsStringExt;

    let not_utf8 = OsString::from_vec(vec![b'h', 0xff]);
    let cases = [
        (
            vec![OsString::from("--client-id"), not_utf8.clone()],
            vec![],
        ),
        (vec![], vec![("WORKOS_AUTHKIT_DOMAIN", not_utf8.clone())]),
    ];
    for (args, env) in cases {
        let output = run_example_os(&args, &env);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} {env:?}");
        assert!(output.stdout.is_empty());
        assert!(stderr.contains("UTF-8"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn a_closed_stdout_is_an_error_not_a_panic() {
    let mut child = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--example", "authorize_url"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cargo runs");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("example ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn help_lists_every_option() {
    let output = run_example(&["--help"], &[]);
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success());
    for option in [
        "--domain",
        "--client-id",
        "--redirect-uri",
        "--scope",
        "--pkce",
        "--help",
    ] {
        assert!(help.contains(option), "{option} missing from --help");
    }
    for variable in [
        "WORKOS_AUTHKIT_DOMAIN",
        "WORKOS_CLIENT_ID",
        "WORKOS_REDIRECT_URI",
    ] {
        assert!(help.contains(variable), "{variable} missing from --help");
    }
}

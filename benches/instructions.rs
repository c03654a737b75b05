//! Runs one login case a given number of times, for instruction counts under callgrind.
//!
//! `instructions <case> <iterations>`, where case is `workos-connect/url_from_given_secrets`,
//! `workos-connect/fresh_login`, `oauth2/url_from_given_secrets` or `oauth2/fresh_login`. Only the
//! functions named `measured_*` are meant to be counted (`--toggle-collect`), so that making the given
//! secrets is left out; `scripts/instructions` takes the difference of two runs, which cancels one-time
//! costs such as seeding the thread's random generator.

use std::hint::black_box;
use std::process::ExitCode;

use oauth2::basic::BasicClient;
use oauth2::{AuthUrl, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl};
use workos_connect::{
    AuthorizeResponse, ConnectClient, Nonce, PendingAuthorization, PkceVerifier, Scopes, State,
};

const DOMAIN: &str = "https://example.authkit.app";
const CLIENT_ID: &str = "client_01HZ8Q3KX7V5N2M4P6R8T0W2Y4";
const REDIRECT_URI: &str = "https://app.example.com/auth/callback";
const STATE: &str = "af0ifjsldkj-JT3e9x_Qm2lZ7bqRvW0pYcN5sUoKd4E";
const NONCE: &str = "n-0S6_WzA2Mj-pL8vQx3Rt7Yb1Kc9Ue5Hf2Jg4Dm6Na";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

type OAuth2Client = BasicClient<
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
>;

type Built = (AuthorizeResponse, PendingAuthorization);

#[inline(never)]
fn measured_ours_url(
    client: &ConnectClient,
    state: State,
    nonce: Nonce,
    verifier: PkceVerifier,
) -> Built {
    client
        .authorize()
        .scopes(Scopes::ALL)
        .state(state)
        .nonce(nonce)
        .pkce(verifier)
        .build()
        .expect("valid request")
}

#[inline(never)]
fn measured_ours_login(client: &ConnectClient) -> Built {
    client
        .authorize()
        .scopes(Scopes::ALL)
        .with_pkce()
        .build()
        .expect("valid request")
}

fn oauth2_url(
    client: &OAuth2Client,
    state: CsrfToken,
    nonce: String,
    challenge: PkceCodeChallenge,
) -> (url::Url, CsrfToken) {
    SCOPES
        .iter()
        .fold(client.authorize_url(move || state), |request, scope| {
            request.add_scope(oauth2::Scope::new((*scope).to_owned()))
        })
        .add_extra_param("nonce", nonce)
        .set_pkce_challenge(challenge)
        .url()
}

#[inline(never)]
fn measured_oauth2_url(
    client: &OAuth2Client,
    state: CsrfToken,
    nonce: String,
    challenge: PkceCodeChallenge,
) -> (url::Url, CsrfToken) {
    oauth2_url(client, state, nonce, challenge)
}

#[inline(never)]
fn measured_oauth2_login(
    client: &OAuth2Client,
) -> (url::Url, CsrfToken, CsrfToken, PkceCodeVerifier) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let nonce = CsrfToken::new_random();
    let (url, state) = oauth2_url(
        client,
        CsrfToken::new_random(),
        nonce.secret().clone(),
        challenge,
    );
    (url, state, nonce, verifier)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(case), Some(Ok(iterations))) = (args.first(), args.get(1).map(|n| n.parse::<u64>()))
    else {
        eprintln!("usage: instructions <case> <iterations>");
        return ExitCode::from(2);
    };
    let ours = ConnectClient::new(
        DOMAIN.parse().expect("domain"),
        CLIENT_ID.parse().expect("client_id"),
        REDIRECT_URI.parse().expect("redirect_uri"),
    );
    let theirs: OAuth2Client = BasicClient::new(oauth2::ClientId::new(CLIENT_ID.to_owned()))
        .set_auth_uri(AuthUrl::new(format!("{DOMAIN}/oauth2/authorize")).expect("auth url"))
        .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.to_owned()).expect("redirect url"));
    for _ in 0..iterations {
        match case.as_str() {
            "workos-connect/url_from_given_secrets" => {
                let secrets = (
                    State::new(STATE).expect("state"),
                    Nonce::new(NONCE).expect("nonce"),
                    PkceVerifier::new(VERIFIER).expect("verifier"),
                );
                let _kept = black_box(measured_ours_url(&ours, secrets.0, secrets.1, secrets.2));
            }
            "workos-connect/fresh_login" => {
                let _kept = black_box(measured_ours_login(&ours));
            }
            "oauth2/url_from_given_secrets" => {
                let challenge = PkceCodeChallenge::from_code_verifier_sha256(
                    &PkceCodeVerifier::new(VERIFIER.to_owned()),
                );
                let _kept = black_box(measured_oauth2_url(
                    &theirs,
                    CsrfToken::new(STATE.to_owned()),
                    NONCE.to_owned(),
                    challenge,
                ));
            }
            "oauth2/fresh_login" => {
                let _kept = black_box(measured_oauth2_login(&theirs));
            }
            other => {
                eprintln!("unknown case `{other}`");
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}

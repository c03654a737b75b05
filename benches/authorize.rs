//! One login's authorize URL, built by this crate and by the `oauth2` crate in the same run.
//!
//! The request is the same on both sides: four scopes, `state`, `nonce` (an extra parameter for
//! `oauth2`, which has no notion of one) and PKCE `S256`. `scripts/bench-summary` prints the ratios.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use oauth2::basic::BasicClient;
use oauth2::{AuthUrl, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl};
use workos_connect::{ConnectClient, Nonce, PkceVerifier, Scopes, State};

const DOMAIN: &str = "https://example.authkit.app";
const CLIENT_ID: &str = "client_01HZ8Q3KX7V5N2M4P6R8T0W2Y4";
const REDIRECT_URI: &str = "https://app.example.com/auth/callback";
const STATE: &str = "af0ifjsldkj-JT3e9x_Qm2lZ7bqRvW0pYcN5sUoKd4E";
const NONCE: &str = "n-0S6_WzA2Mj-pL8vQx3Rt7Yb1Kc9Ue5Hf2Jg4Dm6Na";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

fn ours(redirect_uri: &str) -> ConnectClient {
    ConnectClient::new(
        DOMAIN.parse().unwrap(),
        CLIENT_ID.parse().unwrap(),
        redirect_uri.parse().unwrap(),
    )
}

type OAuth2Client = BasicClient<
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
>;

fn theirs(redirect_uri: &str) -> OAuth2Client {
    BasicClient::new(oauth2::ClientId::new(CLIENT_ID.to_owned()))
        .set_auth_uri(AuthUrl::new(format!("{DOMAIN}/oauth2/authorize")).unwrap())
        .set_redirect_uri(RedirectUrl::new(redirect_uri.to_owned()).unwrap())
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

fn authorize(c: &mut Criterion) {
    let ours_client = ours(REDIRECT_URI);
    let their_client = theirs(REDIRECT_URI);
    let mut group = c.benchmark_group("authorize");

    group.bench_function("workos-connect/url_from_given_secrets", |b| {
        b.iter_batched(
            || {
                (
                    State::new(STATE).unwrap(),
                    Nonce::new(NONCE).unwrap(),
                    PkceVerifier::new(VERIFIER).unwrap(),
                )
            },
            |(state, nonce, verifier)| {
                ours_client
                    .authorize()
                    .scopes(Scopes::ALL)
                    .state(state)
                    .nonce(nonce)
                    .pkce(verifier)
                    .build()
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("oauth2/url_from_given_secrets", |b| {
        b.iter_batched(
            || {
                (
                    CsrfToken::new(STATE.to_owned()),
                    NONCE.to_owned(),
                    PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
                        VERIFIER.to_owned(),
                    )),
                )
            },
            |(state, nonce, challenge)| oauth2_url(&their_client, state, nonce, challenge),
            BatchSize::SmallInput,
        )
    });

    group.bench_function("workos-connect/fresh_login", |b| {
        b.iter(|| {
            ours_client
                .authorize()
                .scopes(black_box(Scopes::ALL))
                .with_pkce()
                .build()
        })
    });
    group.bench_function("oauth2/fresh_login", |b| {
        b.iter(|| {
            let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
            let nonce = CsrfToken::new_random();
            let (url, state) = oauth2_url(
                &their_client,
                CsrfToken::new_random(),
                nonce.secret().clone(),
                challenge,
            );
            (url, state, nonce, verifier)
        })
    });

    group.bench_function("workos-connect/state_and_pkce_pair", |b| {
        b.iter(|| {
            let state = State::generate();
            let verifier = PkceVerifier::generate();
            let challenge = verifier.challenge();
            (state, verifier, challenge)
        })
    });
    group.bench_function("oauth2/state_and_pkce_pair", |b| {
        b.iter(|| {
            let state = CsrfToken::new_random();
            let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
            (state, challenge, verifier)
        })
    });
    group.finish();
}

/// The URL's cost should grow only with what it carries: a 20-byte and a 2 kB `redirect_uri`.
fn redirect_uri_length(c: &mut Criterion) {
    let mut group = c.benchmark_group("redirect_uri_length");
    let short = "https://a.example/cb";
    let long = format!("https://app.example.com/{}", "a/b-c".repeat(395));
    for (label, redirect_uri) in [("20B", short.to_owned()), ("2kB", long)] {
        let client = ours(&redirect_uri);
        group.bench_with_input(
            BenchmarkId::new("workos-connect/fresh_login", label),
            &client,
            |b, client| b.iter(|| client.authorize().scopes(Scopes::ALL).with_pkce().build()),
        );
        let their_client = theirs(&redirect_uri);
        group.bench_with_input(
            BenchmarkId::new("oauth2/fresh_login", label),
            &their_client,
            |b, client| {
                b.iter(|| {
                    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
                    let nonce = CsrfToken::new_random();
                    let (url, state) = oauth2_url(
                        client,
                        CsrfToken::new_random(),
                        nonce.secret().clone(),
                        challenge,
                    );
                    (url, state, nonce, verifier)
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, authorize, redirect_uri_length);
criterion_main!(benches);

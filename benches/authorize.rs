//! One login's authorize URL, built by this crate and by the `oauth2` crate in the same run.
//!
//! The request is the same on both sides: four scopes, `state`, `nonce` (an extra parameter for
//! `oauth2`, which has no notion of one) and PKCE `S256`. `scripts/bench-summary` prints the ratios.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use oauth2::{CsrfToken, PkceCodeChallenge};
use workos_connect::{PkceVerifier, State};
use workos_connect_benches::{
    oauth2_fresh_login, oauth2_url, our_given_secrets, ours, ours_fresh_login, ours_url,
    their_given_secrets, theirs, REDIRECT_URI,
};

/// Given secrets are made outside the timing, in batches of this many for both crates. Criterion's
/// `SmallInput` sizes a batch from the time per call, setup included, so it gives this crate batches of
/// tens of thousands of inputs and outputs (megabytes, first touched inside the timed loop) and
/// `oauth2` batches about a third as large. For a call this short, the allocator's slow paths and cache
/// misses on the harness's own vectors then add about a third to this crate's time, and little to
/// `oauth2`'s. A fixed 256 keeps the working set of a server with that many logins in flight; taking
/// that overhead out of both sides raises the ratio to `oauth2`.
const GIVEN_SECRETS_BATCH: BatchSize = BatchSize::NumIterations(256);

fn authorize(c: &mut Criterion) {
    let ours_client = ours(REDIRECT_URI);
    let their_client = theirs(REDIRECT_URI);
    let mut group = c.benchmark_group("authorize");

    group.bench_function("workos-connect/url_from_given_secrets", |b| {
        b.iter_batched(
            our_given_secrets,
            |(state, nonce, verifier)| ours_url(&ours_client, state, nonce, verifier),
            GIVEN_SECRETS_BATCH,
        )
    });
    group.bench_function("oauth2/url_from_given_secrets", |b| {
        b.iter_batched(
            their_given_secrets,
            |(state, nonce, challenge)| oauth2_url(&their_client, state, nonce, challenge),
            GIVEN_SECRETS_BATCH,
        )
    });

    group.bench_function("workos-connect/fresh_login", |b| {
        b.iter(|| ours_fresh_login(&ours_client))
    });
    group.bench_function("oauth2/fresh_login", |b| {
        b.iter(|| oauth2_fresh_login(&their_client))
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
            |b, client| b.iter(|| ours_fresh_login(client)),
        );
        let their_client = theirs(&redirect_uri);
        group.bench_with_input(
            BenchmarkId::new("oauth2/fresh_login", label),
            &their_client,
            |b, client| b.iter(|| oauth2_fresh_login(client)),
        );
    }
    group.finish();
}

criterion_group!(benches, authorize, redirect_uri_length);
criterion_main!(benches);

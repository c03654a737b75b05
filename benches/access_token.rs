//! An access token check against a key set parsed once, side by side in one run with what it is
//! compared with: the check of a token seen for the first time (one signature verified) and of a
//! token verified before (remembered); `jsonwebtoken::decode` with a prepared key; and the floor,
//! one RSA-2048 PKCS#1 v1.5 SHA-256 verification by `aws-lc-rs` with a key parsed once (and with
//! the key built from `n` and `e` for each call, as `jsonwebtoken` does).

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use workos_connect_benches::access_token_case::AccessTokenCase;

fn access_token(c: &mut Criterion) {
    let case = AccessTokenCase::new();
    let mut group = c.benchmark_group("access_token");
    group.bench_function("workos-connect/first check", |b| {
        b.iter(|| black_box(&case).ours())
    });
    group.bench_function("workos-connect/repeat check", |b| {
        b.iter(|| black_box(&case).ours_again())
    });
    group.bench_function("workos-connect/bearer request, repeat", |b| {
        b.iter(|| black_box(&case).request())
    });
    group.bench_function("jsonwebtoken/decode", |b| {
        b.iter(|| black_box(&case).decode())
    });
    group.bench_function("aws-lc-rs/verify, parsed key (floor)", |b| {
        b.iter(|| black_box(&case).floor())
    });
    group.bench_function("aws-lc-rs/verify, key from n and e", |b| {
        b.iter(|| black_box(&case).verify_from_components())
    });
    group.finish();
}

criterion_group!(benches, access_token);
criterion_main!(benches);

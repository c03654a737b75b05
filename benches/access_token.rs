//! An access token check against a key set parsed once, beside the floor: `jsonwebtoken::decode`
//! with a prepared `DecodingKey` and a `Validation` for the same issuer and audience. Both verify
//! the same RS256 signature; the difference is what the crate adds (the `kid` look-up, the claims
//! it types, the scope check).

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use workos_connect_benches::access_token_case::AccessTokenCase;

fn access_token(c: &mut Criterion) {
    let case = AccessTokenCase::new();
    let mut group = c.benchmark_group("access_token");
    group.bench_function("workos-connect/validate", |b| {
        b.iter(|| black_box(&case).ours())
    });
    group.bench_function("jsonwebtoken/decode (floor)", |b| {
        b.iter(|| black_box(&case).floor())
    });
    group.finish();
}

criterion_group!(benches, access_token);
criterion_main!(benches);

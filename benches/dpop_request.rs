//! A DPoP-bound request at a resource server, side by side in one run with what it is compared
//! with: the whole `RequestCheck` decision on a request whose access token was verified before,
//! with a fresh proof each time; the proof check alone; and the floor, one ES256 verification by
//! `aws-lc-rs` with the key parsed from the proof's point for each proof (and the same with
//! RustCrypto's `p256`). The floor runs on one proof again and again, as the access token bench's
//! does, and on a fresh proof each time, made as the checks' are, so that both sides find the
//! caches as a proof's signing left them.
//!
//! Each proof is signed in the setup of its iteration, outside the measured time, at a simulated
//! time that advances by a second every `PROOFS_PER_SECOND` proofs; the replay memories are
//! filled to their steady state first, so that every check adds one proof and forgets one.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use std::hint::black_box;
use workos_connect_benches::dpop_request_case::{DpopRequestCase, PROOFS_PER_SECOND};

fn dpop_request(c: &mut Criterion) {
    let case = DpopRequestCase::new(PROOFS_PER_SECOND);
    case.fill();
    let mut group = c.benchmark_group("dpop_request");
    group.bench_function("workos-connect/request check, token seen before", |b| {
        b.iter_batched(
            || case.fresh_proof(),
            |proof| black_box(&case).request(&proof),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("workos-connect/DpopProofCheck alone", |b| {
        b.iter_batched(
            || case.fresh_proof(),
            |proof| black_box(&case).proof_alone(&proof),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("aws-lc-rs/verify, key parsed per proof (floor)", |b| {
        b.iter(|| black_box(&case).floor())
    });
    group.bench_function(
        "aws-lc-rs/verify, key parsed per proof, fresh proofs",
        |b| {
            b.iter_batched(
                || case.fresh_floor(),
                |floor| floor.verify(),
                BatchSize::SmallInput,
            )
        },
    );
    group.bench_function("p256/verify, key parsed per proof", |b| {
        b.iter(|| black_box(&case).p256())
    });
    group.finish();
}

criterion_group!(benches, dpop_request);
criterion_main!(benches);

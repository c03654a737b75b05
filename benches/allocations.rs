//! Heap allocations per login, counted exactly by a counting global allocator.
//!
//! A fresh login allocates the URL and one buffer per secret drawn (state, nonce, PKCE verifier with
//! its challenge); per-app values are shared with the pending authorization, never copied. A URL from
//! given secrets allocates the URL alone.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use workos_connect::{Nonce, PkceVerifier, State};

/// The request the benchmarks build, with this crate and with `oauth2` for the README's comparison.
use workos_connect_benches as common;

struct Counting;

thread_local! {
    // Per thread, so that the test harness's other threads do not disturb a count.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is passed on unchanged to the system allocator; counting has no effect on memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCATIONS.with(Cell::get);
    let value = f();
    (ALLOCATIONS.with(Cell::get) - before, value)
}

#[test]
fn fresh_login_allocates_the_url_and_the_three_secrets() {
    let client = common::ours(common::REDIRECT_URI);
    // The first draw seeds the thread's generator, which allocates once per thread.
    drop(State::generate());
    for _ in 0..100 {
        let (count, built) = allocations_during(|| common::ours_fresh_login(&client).unwrap());
        assert_eq!(count, 4, "URL, state, nonce, verifier");
        drop(built);
    }
}

#[test]
fn url_from_given_secrets_allocates_once() {
    let client = common::ours(common::REDIRECT_URI);
    for given_state in [
        "af0ifjsldkj-JT3e9x_Qm2lZ7bqRvW0pYcN5sUoKd4E",
        "needs encoding: &=+ %",
    ] {
        let state = State::new(given_state).unwrap();
        let nonce = Nonce::new("n-0S6_WzA2Mj").unwrap();
        let verifier = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        let (count, (redirect, pending)) =
            allocations_during(|| common::ours_url(&client, state, nonce, verifier).unwrap());
        // One, not more: the URL was sized once, so nothing was reallocated while it was written.
        assert_eq!(count, 1, "the URL alone");
        assert!(redirect.as_str().ends_with("&code_challenge_method=S256"));
        assert_eq!(pending.nonce().secret(), "n-0S6_WzA2Mj");
    }
}

#[test]
fn long_redirect_uri_still_allocates_once_per_url() {
    let long = format!("https://app.example.com/{}", "a/b-c".repeat(400));
    let client = common::ours(&long);
    let state = State::new("s").unwrap();
    let nonce = Nonce::new("n").unwrap();
    let (count, _) = allocations_during(|| {
        client
            .authorize()
            .state(state)
            .nonce(nonce)
            .build()
            .unwrap()
    });
    assert_eq!(count, 1);
}

#[test]
fn pending_authorization_shares_per_app_values() {
    let client = common::ours(common::REDIRECT_URI);
    let (_, pending) = client.authorize().build().unwrap();
    assert!(std::ptr::eq(
        pending.client_id().as_str(),
        client.client_id().as_str()
    ));
    assert!(std::ptr::eq(
        pending.redirect_uri().as_str(),
        client.redirect_uri().as_str()
    ));
}

/// The same fresh login with the `oauth2` crate, for the README's comparison: printed with
/// `cargo test -p workos-connect-benches --test allocations -- --nocapture`.
#[test]
fn oauth2_allocates_several_times_more_for_the_same_login() {
    let theirs = common::theirs(common::REDIRECT_URI);
    drop(common::oauth2_fresh_login(&theirs));
    let (theirs_count, _) = allocations_during(|| common::oauth2_fresh_login(&theirs));

    let ours = common::ours(common::REDIRECT_URI);
    drop(State::generate());
    let (ours_count, _) = allocations_during(|| common::ours_fresh_login(&ours));
    println!("allocations per fresh login: workos-connect {ours_count}, oauth2 {theirs_count}");
    assert!(
        theirs_count >= 5 * ours_count,
        "{theirs_count} vs {ours_count}"
    );

    let (state, nonce, challenge) = common::their_given_secrets();
    let (theirs_url_count, _) =
        allocations_during(|| common::oauth2_url(&theirs, state, nonce, challenge));
    let (state, nonce, verifier) = common::our_given_secrets();
    let (ours_url_count, _) =
        allocations_during(|| common::ours_url(&ours, state, nonce, verifier));
    println!(
        "allocations per URL from given secrets: workos-connect {ours_url_count}, oauth2 {theirs_url_count}"
    );
    assert!(theirs_url_count > ours_url_count);
}

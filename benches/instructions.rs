//! Runs one case a given number of times, for instruction counts under callgrind.
//!
//! `instructions <case> <iterations>`, where case is `workos-connect/url_from_given_secrets`,
//! `workos-connect/fresh_login`, `oauth2/url_from_given_secrets`, `oauth2/fresh_login`,
//! `workos-connect/access_token_check`, `workos-connect/access_token_repeat`,
//! `workos-connect/bearer_request_check`,
//! `jsonwebtoken/access_token_decode`, `aws-lc-rs/access_token_verify`,
//! `workos-connect/dpop_request_check`, `workos-connect/dpop_proof_check`,
//! `aws-lc-rs/dpop_proof_verify` or `p256/dpop_proof_verify`. Only the
//! functions named `measured_*` are meant to be counted (`--toggle-collect`), so that making the given
//! secrets (and signing each DPoP proof) is left out; `scripts/instructions` takes the difference of
//! two runs, which cancels one-time costs such as seeding the thread's random generator.

use std::hint::black_box;
use std::process::ExitCode;

use oauth2::{CsrfToken, PkceCodeChallenge, PkceCodeVerifier};
use workos_connect::dpop::{DpopProofError, VerifiedDpopProof};
use workos_connect::resource_server::{AccessTokenClaims, AccessTokenError};
use workos_connect::{
    AuthorizeResponse, ConnectClient, Nonce, PendingAuthorization, PkceVerifier, State,
};
use workos_connect_benches::access_token_case::AccessTokenCase;
use workos_connect_benches::dpop_request_case::{DpopRequestCase, FreshProof};
use workos_connect_benches::{
    oauth2_fresh_login, oauth2_url, our_given_secrets, ours, ours_fresh_login, ours_url,
    their_given_secrets, theirs, OAuth2Client, REDIRECT_URI,
};

type Built = (AuthorizeResponse, PendingAuthorization);

#[inline(never)]
fn measured_ours_url(
    client: &ConnectClient,
    state: State,
    nonce: Nonce,
    verifier: PkceVerifier,
) -> Built {
    ours_url(client, state, nonce, verifier).expect("valid request")
}

#[inline(never)]
fn measured_ours_login(client: &ConnectClient) -> Built {
    ours_fresh_login(client).expect("valid request")
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
    oauth2_fresh_login(client)
}

#[inline(never)]
fn measured_ours_access_token(
    case: &AccessTokenCase,
) -> Result<AccessTokenClaims, AccessTokenError> {
    case.ours()
}

#[inline(never)]
fn measured_ours_access_token_repeat(
    case: &AccessTokenCase,
) -> Result<AccessTokenClaims, AccessTokenError> {
    case.ours_again()
}

#[inline(never)]
fn measured_ours_bearer_request(case: &AccessTokenCase) -> bool {
    case.request()
}

#[inline(never)]
fn measured_jsonwebtoken_decode(
    case: &AccessTokenCase,
) -> jsonwebtoken::errors::Result<jsonwebtoken::TokenData<serde_json::Value>> {
    case.decode()
}

#[inline(never)]
fn measured_aws_lc_verify(case: &AccessTokenCase) -> bool {
    case.floor()
}

#[inline(never)]
fn measured_ours_dpop_request(case: &DpopRequestCase, proof: &FreshProof) -> bool {
    case.request(proof)
}

#[inline(never)]
fn measured_ours_dpop_proof(
    case: &DpopRequestCase,
    proof: &FreshProof,
) -> Result<VerifiedDpopProof, DpopProofError> {
    case.proof_alone(proof)
}

#[inline(never)]
fn measured_aws_lc_dpop_verify(case: &DpopRequestCase) -> bool {
    case.floor()
}

#[inline(never)]
fn measured_p256_dpop_verify(case: &DpopRequestCase) -> bool {
    case.p256()
}

/// The simulated rate of the DPoP cases: a window of 121 proofs in the replay memory, few enough
/// to fill under callgrind; each record still adds one and forgets one.
const DPOP_PROOFS_PER_SECOND: u64 = 1;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(case), Some(Ok(iterations))) = (args.first(), args.get(1).map(|n| n.parse::<u64>()))
    else {
        eprintln!("usage: instructions <case> <iterations>");
        return ExitCode::from(2);
    };
    let ours = ours(REDIRECT_URI);
    let theirs = theirs(REDIRECT_URI);
    let access_token = (case.contains("access_token") || case.contains("bearer_request"))
        .then(AccessTokenCase::new);
    let dpop = case.contains("dpop").then(|| {
        let prepared = DpopRequestCase::new(DPOP_PROOFS_PER_SECOND);
        prepared.fill();
        prepared
    });
    for _ in 0..iterations {
        match case.as_str() {
            "workos-connect/url_from_given_secrets" => {
                let (state, nonce, verifier) = our_given_secrets();
                let _kept = black_box(measured_ours_url(&ours, state, nonce, verifier));
            }
            "workos-connect/fresh_login" => {
                let _kept = black_box(measured_ours_login(&ours));
            }
            "oauth2/url_from_given_secrets" => {
                let (state, nonce, challenge) = their_given_secrets();
                let _kept = black_box(measured_oauth2_url(&theirs, state, nonce, challenge));
            }
            "oauth2/fresh_login" => {
                let _kept = black_box(measured_oauth2_login(&theirs));
            }
            "workos-connect/access_token_check" => {
                if let Some(prepared) = &access_token {
                    let _kept = black_box(measured_ours_access_token(black_box(prepared)));
                }
            }
            "workos-connect/access_token_repeat" => {
                if let Some(prepared) = &access_token {
                    let _kept = black_box(measured_ours_access_token_repeat(black_box(prepared)));
                }
            }
            "workos-connect/bearer_request_check" => {
                if let Some(prepared) = &access_token {
                    let _kept = black_box(measured_ours_bearer_request(black_box(prepared)));
                }
            }
            "aws-lc-rs/access_token_verify" => {
                if let Some(prepared) = &access_token {
                    let _kept = black_box(measured_aws_lc_verify(black_box(prepared)));
                }
            }
            "jsonwebtoken/access_token_decode" => {
                if let Some(prepared) = &access_token {
                    let _kept = black_box(measured_jsonwebtoken_decode(black_box(prepared)));
                }
            }
            "workos-connect/dpop_request_check" => {
                if let Some(prepared) = &dpop {
                    let proof = prepared.fresh_proof();
                    let accepted = measured_ours_dpop_request(black_box(prepared), &proof);
                    assert!(black_box(accepted), "the request is accepted");
                }
            }
            "workos-connect/dpop_proof_check" => {
                if let Some(prepared) = &dpop {
                    let proof = prepared.fresh_proof();
                    let verified = measured_ours_dpop_proof(black_box(prepared), &proof);
                    assert!(black_box(verified).is_ok(), "the proof is accepted");
                }
            }
            "aws-lc-rs/dpop_proof_verify" => {
                if let Some(prepared) = &dpop {
                    let _kept = black_box(measured_aws_lc_dpop_verify(black_box(prepared)));
                }
            }
            "p256/dpop_proof_verify" => {
                if let Some(prepared) = &dpop {
                    let _kept = black_box(measured_p256_dpop_verify(black_box(prepared)));
                }
            }
            other => {
                eprintln!("unknown case `{other}`");
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}

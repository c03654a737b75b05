//! A DPoP-bound request and what it is compared with, prepared once for the criterion bench and
//! the instruction counts: an RS256 access token bound to a DPoP key (`cnf.jkt`), a
//! `RequestCheck` that has verified that token before, and a fresh proof for each request.
//!
//! The floor is one ES256 verification by `aws-lc-rs` of a proof's signature with the key parsed
//! from its point for each proof, as a server must (every proof may carry another key); RustCrypto's
//! `p256` does the same for comparison.
//!
//! Time is simulated: a given number of proofs are signed and checked in each second
//! ([`PROOFS_PER_SECOND`] in the criterion bench), so that the replay memory holds its steady
//! state, the proofs of the last window (`max_age` plus the leeway, 120 seconds by default), once
//! [`DpopRequestCase::fill`] has run. Each record then adds one proof and forgets one whose window
//! closed, as in a server that has been up for a while.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::ecdsa::signature::Verifier as _;
use url::Url;
use workos_connect::dpop::{DpopKey, DpopProofCheck, DpopProofError, VerifiedDpopProof};
use workos_connect::jose::KeySet;
use workos_connect::oauth::{AccessToken, Clock, FixedClock};
use workos_connect::resource_server::{
    AccessTokenCheck, RequestCheck, RequestDecision, ResourceRequest,
};

const KEY: &[u8] = include_bytes!("../tests/data/id_token_test_key.pem");
const ISSUER: &str = "https://example.authkit.app";
const RESOURCE: &str = "https://api.example.com/mcp";
/// The simulated start, in Unix seconds.
const START: u64 = 1_700_000_000;

/// The simulated rate of the criterion bench: its replay memories' steady state holds this many
/// proofs per second of the window, 12,100 in all. One key signs them all, so its quota is lifted
/// to the whole memory.
pub const PROOFS_PER_SECOND: u64 = 100;

/// The seconds of proofs an open window holds: `max_age` and the leeway (60 seconds each by
/// default), and the second under way.
const WINDOW_SECONDS: u64 = 121;

/// One request's fresh proof and the moment it is checked at.
pub struct FreshProof {
    pub proof: String,
    pub now: u64,
}

/// One fresh proof's parts as the floor takes them: the signed part, the signature and the key's
/// point, decoded.
pub struct FloorInput {
    pub message: Vec<u8>,
    pub signature: Vec<u8>,
    pub point: Vec<u8>,
}

impl FloorInput {
    fn of(proof: &str) -> FloorInput {
        let (message, signature) = proof.rsplit_once('.').expect("three parts");
        let header = message.split('.').next().expect("a header");
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("base64url"))
                .expect("JSON");
        let coordinate = |name: &str| {
            URL_SAFE_NO_PAD
                .decode(header["jwk"][name].as_str().expect("a coordinate"))
                .expect("base64url")
        };
        FloorInput {
            message: message.as_bytes().to_vec(),
            signature: URL_SAFE_NO_PAD.decode(signature).expect("a signature"),
            point: [vec![0x04], coordinate("x"), coordinate("y")].concat(),
        }
    }

    /// The floor on this proof: its signature verified by `aws-lc-rs`, the key parsed from its
    /// point for the call.
    pub fn verify(&self) -> bool {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.point)
            .verify(&self.message, &self.signature)
            .is_ok()
    }
}

/// A clock the bench sets before each check, for the proof check used alone.
#[derive(Debug, Default)]
pub struct SetClock(AtomicU64);

impl Clock for SetClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0.load(Ordering::Relaxed))
    }
}

/// Both sides of the comparison, ready to check a fresh proof.
pub struct DpopRequestCase {
    pub key: DpopKey,
    pub access_token: AccessToken,
    pub authorization: String,
    pub keys: KeySet,
    /// The resource's URL, which the proofs name.
    pub url: Url,
    /// The whole decision; it has verified `access_token` before.
    pub request_check: RequestCheck,
    /// The proof check alone, with a memory of its own.
    pub proof_check: DpopProofCheck,
    clock: Arc<SetClock>,
    /// Proofs signed so far: the simulated time is `START + signed / rate`.
    signed: AtomicU64,
    /// Proofs signed in each simulated second.
    rate: u64,
    /// One proof's parts, which the floors verify again and again.
    pub sample: FloorInput,
}

impl DpopRequestCase {
    /// The case at `rate` proofs a second, with its token verified once and the memories empty:
    /// [`fill`](Self::fill) them before measuring.
    pub fn new(rate: u64) -> DpopRequestCase {
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
        let rsa = EncodingKey::from_rsa_pem(KEY).expect("the test key");
        let mut jwk = Jwk::from_encoding_key(&rsa, Algorithm::RS256).expect("a JWK");
        jwk.common.key_id = Some("current".into());
        let keys = KeySet::parse(&serde_json::to_vec(&JwkSet { keys: vec![jwk] }).expect("JWKS"))
            .expect("a key set");

        let key = DpopKey::generate();
        let claims = serde_json::json!({
            "iss": ISSUER, "aud": RESOURCE,
            "sub": "user_01", "client_id": "client_01", "org_id": "org_01", "sid": "session_01",
            "scope": "openid mcp:tools", "jti": "01JDKQ2V0TQ5C8M4X9Z6W1YB3N",
            // Valid for as long as any run lasts, in simulated time.
            "exp": START + 100_000_000, "iat": START,
            "permissions": ["posts:read", "posts:write"],
            "cnf": { "jkt": key.thumbprint() },
        });
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("current".into());
        header.typ = Some("at+jwt".into());
        let token = jsonwebtoken::encode(&header, &claims, &rsa).expect("a token");
        let access_token = AccessToken::new(token.clone()).expect("a token");

        let rate = rate.max(1);
        let memory = usize::try_from(rate * WINDOW_SECONDS * 2).expect("a memory size");
        let proofs = || {
            DpopProofCheck::new()
                .replay_capacity(memory)
                .replay_capacity_per_key(memory)
        };
        let tokens = AccessTokenCheck::new(
            ISSUER.parse().expect("issuer"),
            RESOURCE.parse().expect("resource"),
        )
        .require_scopes("mcp:tools".parse().expect("scope"))
        .dpop(proofs())
        .require_dpop();
        let request_check = RequestCheck::api(tokens).expect("a request check");
        let clock = Arc::new(SetClock::default());
        let proof_check = proofs().clock(Arc::clone(&clock));

        let mut case = DpopRequestCase {
            key,
            authorization: format!("DPoP {token}"),
            access_token,
            keys,
            url: RESOURCE.parse().expect("url"),
            request_check,
            proof_check,
            clock,
            signed: AtomicU64::new(0),
            rate,
            sample: FloorInput {
                message: Vec::new(),
                signature: Vec::new(),
                point: Vec::new(),
            },
        };
        let sample = case.fresh_proof();
        case.sample = FloorInput::of(&sample.proof);
        assert!(case.request(&sample), "the request is accepted");
        let again = case.request_check.check(
            &case.request_of(&sample.proof),
            Some(&case.keys),
            at(sample.now),
        );
        assert!(matches!(again, RequestDecision::Refuse(_)), "and not twice");
        assert!(case.proof_alone(&case.fresh_proof()).is_ok());
        assert!(case.floor(), "aws-lc-rs verifies the signature");
        assert!(case.p256(), "p256 verifies the signature");
        case
    }

    /// Checks a window's worth of proofs with each memory, so that both hold as many as they
    /// ever will and forget one for each they learn.
    pub fn fill(&self) {
        for _ in 0..self.rate * WINDOW_SECONDS {
            let proof = self.fresh_proof();
            assert!(self.request(&proof));
            assert!(self.proof_alone(&proof).is_ok());
        }
    }

    /// A fresh proof's parts, for the floor, as [`fresh_proof`](Self::fresh_proof) would make it.
    pub fn fresh_floor(&self) -> FloorInput {
        FloorInput::of(&self.fresh_proof().proof)
    }

    /// A proof of the next request, with a `jti` never used, at the simulated time.
    pub fn fresh_proof(&self) -> FreshProof {
        let signed = self.signed.fetch_add(1, Ordering::Relaxed);
        let now = START + signed / self.rate;
        let proof = self
            .key
            .proof("POST", &self.url)
            .access_token(&self.access_token)
            .clock(FixedClock(at(now)))
            .sign()
            .expect("a proof");
        FreshProof {
            proof: proof.as_str().to_owned(),
            now,
        }
    }

    fn request_of<'a>(&'a self, proof: &'a str) -> ResourceRequest<'a> {
        ResourceRequest::new("POST", "/mcp")
            .header("authorization", self.authorization.as_bytes())
            .header("dpop", proof.as_bytes())
    }

    /// The whole decision on the request, its `ResourceRequest` read from the headers included:
    /// whether it is accepted.
    pub fn request(&self, fresh: &FreshProof) -> bool {
        let request = self.request_of(&fresh.proof);
        matches!(
            self.request_check
                .check(&request, Some(&self.keys), at(fresh.now)),
            RequestDecision::Accept(_)
        )
    }

    /// The proof check alone, for the token the proof is bound to.
    pub fn proof_alone(&self, fresh: &FreshProof) -> Result<VerifiedDpopProof, DpopProofError> {
        self.clock.0.store(fresh.now, Ordering::Relaxed);
        self.proof_check.check_resource_request(
            [fresh.proof.as_bytes()],
            "POST",
            &self.url,
            &self.access_token,
            self.key.thumbprint(),
        )
    }

    /// The floor: one proof's ES256 signature verified by `aws-lc-rs`, the key parsed from its
    /// point for the call.
    pub fn floor(&self) -> bool {
        self.sample.verify()
    }

    /// The same with RustCrypto's `p256`.
    pub fn p256(&self) -> bool {
        let FloorInput {
            message,
            signature,
            point,
        } = &self.sample;
        let Ok(key) = p256::ecdsa::VerifyingKey::from_sec1_bytes(point) else {
            return false;
        };
        let Ok(signature) = p256::ecdsa::Signature::from_slice(signature) else {
            return false;
        };
        key.verify(message, &signature).is_ok()
    }
}

fn at(unix_seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix_seconds)
}

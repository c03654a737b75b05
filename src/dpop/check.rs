//! The resource server's check of a request's proof (RFC 9449 §4.3, §7.1): its form, its
//! signature by the key it carries, the request it names, its age, its first use, and, with an
//! access token, the token's hash and the key the token is bound to.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use subtle::ConstantTimeEq as _;
use url::Url;

use super::check_error::DpopProofError;
use super::dated_nonces::DatedNonces;
use super::jwk::{parse_header_jwk, HeaderJwkFault};
use super::names::{DPOP_ALGORITHM, PROOF_TYPE};
use super::nonce::DpopNonce;
use super::replay::{Recorded, SeenProofs};
use super::target_uri::{htu, same_target};
use crate::oauth::clock::{Clock, ClockHandle};
use crate::oauth::credential::AccessToken;
use crate::oauth::encoding::base64url_32;
use crate::oauth::secret::constant_time_eq;

/// How old a proof may be, by its `iat`, unless a check is told otherwise: RFC 9449 §11.1 wants
/// a short window, and a client makes a proof just before each request.
pub const DEFAULT_PROOF_MAX_AGE_SECS: u64 = 60;

/// Clock skew allowed on `iat` both ways, unless a check is told otherwise.
pub const DEFAULT_PROOF_LEEWAY_SECS: u64 = 60;

/// Proofs remembered against replay, unless a check is told otherwise. Each is remembered while
/// its window is open (with the default window and leeway, at most three minutes), in about
/// 60 bytes: 500,000 of them, some 30 MB at most, take 2,700 proofs a second.
pub const DEFAULT_REPLAY_CAPACITY: usize = 500_000;

/// Proofs of one key remembered at once with the default capacity, unless a check is told
/// otherwise: 1% of [`DEFAULT_REPLAY_CAPACITY`], some 27 proofs a second for one client. With
/// another [`replay_capacity`](DpopProofCheck::replay_capacity), the default is 1% of it (at least
/// one), so that it always takes a hundred keys, not one, to fill the memory for everyone.
///
/// At a resource server that is a hundred keys bound to tokens the authorization server issued.
/// At a token endpoint nothing binds a key yet, and a hundred throwaway keys cost nothing: see
/// [`DpopProofCheck`] for how to check proofs there.
pub const DEFAULT_REPLAY_CAPACITY_PER_KEY: usize = DEFAULT_REPLAY_CAPACITY / 100;

/// The longest `jti` taken, in bytes. RFC 9449 §4.2 asks for a unique identifier with enough
/// entropy (a UUID is 36 characters, this crate's 43); a longer one is no more unique, and a
/// server has no reason to hash kilobytes of it.
pub const MAX_PROOF_JTI_LEN: usize = 256;

/// The longest age or leeway taken, so that a huge one cannot hide a clock error.
const MAX_WINDOW_SECS: u64 = 24 * 60 * 60;

/// The longest `DPoP` header read: an ES256 proof is about 500 bytes, and a nonce adds at most a
/// kilobyte.
const MAX_PROOF_LEN: usize = 8 * 1024;

/// Checks the `DPoP` proofs of requests, for a resource server (or a token endpoint).
///
/// Made once and shared: its clones share one memory of accepted proofs, so that a proof replayed
/// to another worker is refused too. Its [server nonces](Self::require_nonce) need no sharing: any
/// check given the same secrets, in this process or another, accepts them. Only ES256 proofs are
/// accepted.
///
/// A token endpoint needs a check of its own, not a clone of the resource server's, sized for
/// its own rate: there the proof's key is bound to nothing yet, so the quota per key does not
/// hold back a client that signs each proof with a fresh key, and a check shared with resource
/// requests would let it fill their memory too ([`DpopProofError::ReplayMemoryFull`], 503 for
/// everyone). Check its proofs with [`check_proof_unrecorded`](Self::check_proof_unrecorded),
/// authenticate the client and check the grant, and only then [`record`](Self::record) the
/// proof, so that only a client that got that far takes room.
///
/// ```
/// use workos_connect::dpop::{DpopKey, DpopProofCheck, DpopProofError};
/// use workos_connect::oauth::AccessToken;
///
/// let check = DpopProofCheck::new();
/// // The client's side: a key, a token bound to it, a proof for the request.
/// let key = DpopKey::generate();
/// let token = AccessToken::new("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")?;
/// let url = "https://mcp.example.com/mcp".parse()?;
/// let proof = key.proof("POST", &url).access_token(&token).sign()?;
///
/// // The server's: `cnf.jkt` comes from the checked access token's claims.
/// let jkt = key.thumbprint();
/// let dpop = [proof.as_str().as_bytes()];
/// check.check_resource_request(dpop, "POST", &url, &token, jkt)?;
/// // The same proof again is a replay.
/// let again = check.check_resource_request(dpop, "POST", &url, &token, jkt).unwrap_err();
/// assert_eq!(again, DpopProofError::Replayed);
/// assert_eq!(again.status(), 401);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct DpopProofCheck {
    max_age_secs: u64,
    leeway_secs: u64,
    /// The server nonces required, if any: the same on every clone, and on every check given the
    /// same secrets.
    nonces: Option<Arc<DatedNonces>>,
    seen: SeenProofs,
    clock: ClockHandle,
}

/// A proof that passed the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedDpopProof {
    jkt: String,
    jti: String,
    iat: u64,
    /// The next server nonce, when the proof's is past half its lifetime.
    next_nonce: Option<DpopNonce>,
}

impl VerifiedDpopProof {
    /// The RFC 7638 thumbprint of the proof's key: at a token endpoint, the `cnf.jkt` to bind the
    /// token to.
    pub fn jkt(&self) -> &str {
        &self.jkt
    }

    /// The thumbprint, moved out.
    #[cfg(feature = "access-token")]
    pub(crate) fn into_jkt(self) -> String {
        self.jkt
    }

    /// The proof's `jti`.
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// The proof's `iat`, in Unix seconds.
    pub fn iat(&self) -> u64 {
        self.iat
    }

    /// The nonce to send as `DPoP-Nonce` with the answer, when the check requires nonces and the
    /// proof's is past half its [lifetime](super::DatedNonces::lifetime): RFC 9449 §8.2 lets a
    /// server hand out the next nonce on any answer, so that the client signs its next proof
    /// with it rather than be refused once the one it holds expires. `None` otherwise.
    pub fn dpop_nonce(&self) -> Option<&DpopNonce> {
        self.next_nonce.as_ref()
    }
}

/// A proof that passed every check but its first use, from
/// [`DpopProofCheck::check_proof_unrecorded`]: until [recorded](DpopProofCheck::record) it may be
/// a replay, so take the request only with what `record` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "record it with DpopProofCheck::record before taking the request: until then it may be a replay"]
pub struct UnrecordedDpopProof {
    proof: VerifiedDpopProof,
    /// The key's thumbprint, as bytes.
    digest: [u8; 32],
    /// How long after its `iat` the proof was taken, in seconds.
    window: u64,
    /// When it was checked, in Unix seconds.
    now: u64,
    /// The clock skew the check allows, in seconds.
    leeway: u64,
}

impl UnrecordedDpopProof {
    /// The RFC 7638 thumbprint of the proof's key, as [`VerifiedDpopProof::jkt`]: to check
    /// against an authorization code's `dpop_jkt` or a refresh token's binding before recording.
    pub fn jkt(&self) -> &str {
        self.proof.jkt()
    }

    /// The proof's name in a replay memory shared by several instances (Redis, say): the
    /// SHA-256 of its key's thumbprint and its `jti`, base64url (43 characters). It holds no token
    /// and nothing of the proof a client could reuse; two proofs share it only if they are one.
    ///
    /// Record it there with an atomic "set if absent" that expires after
    /// [`replay_window`](Self::replay_window) (Redis: `SET key 1 NX PX <ms>`); the first to set it
    /// took the proof's one use, and the proof is then [`recorded_elsewhere`](Self::recorded_elsewhere).
    pub fn replay_key(&self) -> String {
        let mut hasher = Sha256::new();
        // The thumbprint has a fixed length: no two pairs hash alike.
        hasher.update(self.digest);
        hasher.update(self.proof.jti.as_bytes());
        URL_SAFE_NO_PAD.encode(hasher.finalize())
    }

    /// How long a shared replay memory must remember the proof, from the moment it was checked:
    /// until its window closes on every instance, after which any check refuses it as stale. The
    /// check reads whole seconds, so the window's last second counts in full; and another
    /// instance's clock may run behind this one's by up to the check's leeway.
    pub fn replay_window(&self) -> Duration {
        let closes = self.proof.iat.saturating_add(self.window);
        let left = closes.saturating_sub(self.now).saturating_add(1);
        Duration::from_secs(left.saturating_add(self.leeway))
    }

    /// The proof, once a replay memory shared by several instances took its first use (its
    /// [`replay_key`](Self::replay_key) was absent, and is now set): what
    /// [`DpopProofCheck::record`] gives for this check's own memory.
    pub fn recorded_elsewhere(self) -> VerifiedDpopProof {
        self.proof
    }
}

impl Default for DpopProofCheck {
    fn default() -> Self {
        DpopProofCheck::new()
    }
}

impl DpopProofCheck {
    /// A check with the default window ([`DEFAULT_PROOF_MAX_AGE_SECS`] old,
    /// [`DEFAULT_PROOF_LEEWAY_SECS`] of skew), no nonce, and a replay memory of
    /// [`DEFAULT_REPLAY_CAPACITY`] proofs.
    pub fn new() -> Self {
        DpopProofCheck {
            max_age_secs: DEFAULT_PROOF_MAX_AGE_SECS,
            leeway_secs: DEFAULT_PROOF_LEEWAY_SECS,
            nonces: None,
            seen: SeenProofs::new(DEFAULT_REPLAY_CAPACITY, None),
            clock: ClockHandle::default(),
        }
    }

    /// How old a proof may be, in seconds (at most a day).
    pub fn max_age(mut self, seconds: u64) -> Self {
        self.max_age_secs = seconds.min(MAX_WINDOW_SECS);
        self
    }

    /// Clock skew allowed on `iat`, in seconds (at most a day).
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.leeway_secs = seconds.min(MAX_WINDOW_SECS);
        self
    }

    /// Remembers up to `proofs` accepted proofs against replay, in a new memory (not shared with
    /// the clones made before). A proof is never forgotten while its window is open: when that
    /// many are, a new one is refused with [`DpopProofError::ReplayMemoryFull`] until the oldest
    /// windows close. Size it for the proofs a second you take times the window, `max_age` plus
    /// twice the leeway. One key's share is 1% of `proofs` (at least one), unless
    /// [`replay_capacity_per_key`](Self::replay_capacity_per_key) set another, which is kept.
    pub fn replay_capacity(mut self, proofs: usize) -> Self {
        self.seen = SeenProofs::new(proofs, self.seen.per_key_set());
        self
    }

    /// Remembers at most `proofs` open proofs of any one key (at least one; unless set, 1% of the
    /// capacity), so that a client holding one bound token cannot fill the memory for all the
    /// others: its next proof is refused with [`DpopProofError::KeyReplayQuota`] (429) until its
    /// oldest windows close, while other keys' proofs are still taken. The quota belongs to the
    /// memory: it applies to every clone sharing it, those made before included.
    pub fn replay_capacity_per_key(self, proofs: usize) -> Self {
        self.seen.set_per_key(proofs);
        self
    }

    /// Requires proofs to carry a server nonce of `nonces` (RFC 9449 §9), within its lifetime: a
    /// proof without one, with an expired one, or with one that no secret of `nonces` made, is
    /// refused with [`DpopProofError::UseNonce`], which hands out the current one. An accepted
    /// proof whose nonce is past half its lifetime hands out the next
    /// ([`VerifiedDpopProof::dpop_nonce`]).
    ///
    /// Every instance of a server given the same secrets accepts the nonces of the others, with
    /// nothing shared but the secrets: a client that a load balancer sends to another instance is
    /// not asked for a new nonce. A nonce retires itself once its lifetime has passed; to replace
    /// a secret, see [`DatedNonces`]. The replay memory is kept: a proof already taken is still a
    /// replay.
    ///
    /// ```
    /// use workos_connect::dpop::{DatedNonces, DpopKey, DpopNonceSecret, DpopProofCheck};
    ///
    /// // Two instances, each with the secret their operator shares between them.
    /// let secret: DpopNonceSecret = "q1Rk0F5Kx9mWQvYH7C2sJ8bZpL4nT6uE3gR5aD0fV1c".parse()?;
    /// let a = DpopProofCheck::new().require_nonce(DatedNonces::new(secret.clone()));
    /// let b = DpopProofCheck::new().require_nonce(DatedNonces::new(secret));
    ///
    /// let key = DpopKey::generate();
    /// let url = "https://as.example.com/token".parse()?;
    /// let first = key.proof("POST", &url).sign()?;
    /// let refused = a.check_proof([first.as_str().as_bytes()], "POST", &url).unwrap_err();
    /// let nonce = refused.dpop_nonce().expect("the nonce to send as DPoP-Nonce");
    /// // The retry, with the nonce, reaches the other instance.
    /// let retry = key.proof("POST", &url).nonce(nonce).sign()?;
    /// assert!(b.check_proof([retry.as_str().as_bytes()], "POST", &url).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn require_nonce(mut self, nonces: DatedNonces) -> Self {
        self.nonces = Some(Arc::new(nonces));
        self
    }

    /// The nonce handed out now, by this check's [clock](Self::clock), when one is required: to
    /// send as `DPoP-Nonce` with any answer (RFC 9449 §8.2), so that clients learn a new one
    /// before their proofs are refused.
    pub fn nonce(&self) -> Option<DpopNonce> {
        let now = self.now_secs();
        self.nonces.as_ref().map(|nonces| nonces.nonce_at_secs(now))
    }

    /// Reads the time from `clock` rather than the system clock; a
    /// [`FixedClock`](crate::oauth::FixedClock) in tests. Clones share it.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = ClockHandle::new(clock);
        self
    }

    /// Checks a proof sent without an access token, as at a token endpoint: all `DPoP` header
    /// values of the request (exactly one is taken), its method and its URL. The proof is
    /// recorded at once; at a token endpoint, prefer
    /// [`check_proof_unrecorded`](Self::check_proof_unrecorded) (see [`DpopProofCheck`]).
    pub fn check_proof<'a>(
        &self,
        dpop: impl IntoIterator<Item = &'a [u8]>,
        method: &str,
        url: &Url,
    ) -> Result<VerifiedDpopProof, DpopProofError> {
        self.check(dpop, method, url, None, self.now_secs())
    }

    /// Checks a proof as [`check_proof`](Self::check_proof) does, all but its first use: nothing
    /// is recorded, so a client not yet authenticated takes no room in the replay memory. Once
    /// the client is authenticated and its grant checked, and before the token is issued, give
    /// the proof to [`record`](Self::record), which refuses a replay.
    ///
    /// ```
    /// use workos_connect::dpop::{DpopKey, DpopProofCheck, DpopProofError};
    ///
    /// // The token endpoint's own check, sized for it.
    /// let token_endpoint = DpopProofCheck::new().replay_capacity(10_000);
    /// let key = DpopKey::generate();
    /// let url = "https://as.example.com/token".parse()?;
    /// let proof = key.proof("POST", &url).sign()?;
    /// let dpop = [proof.as_str().as_bytes()];
    /// let unrecorded = token_endpoint.check_proof_unrecorded(dpop, "POST", &url)?;
    /// // ... authenticate the client and check the code, the refresh token or the assertion ...
    /// let verified = token_endpoint.record(unrecorded)?;
    /// assert_eq!(verified.jkt(), key.thumbprint());
    /// let again = token_endpoint.check_proof_unrecorded(dpop, "POST", &url)?;
    /// assert_eq!(token_endpoint.record(again).unwrap_err(), DpopProofError::Replayed);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_proof_unrecorded<'a>(
        &self,
        dpop: impl IntoIterator<Item = &'a [u8]>,
        method: &str,
        url: &Url,
    ) -> Result<UnrecordedDpopProof, DpopProofError> {
        self.verify(dpop, method, url, None, self.now_secs())
    }

    /// Records a proof from [`check_proof_unrecorded`](Self::check_proof_unrecorded) in this
    /// check's replay memory: the proof passes unless it was taken before
    /// ([`DpopProofError::Replayed`]) or the memory, or the key's quota, is full.
    pub fn record(&self, proof: UnrecordedDpopProof) -> Result<VerifiedDpopProof, DpopProofError> {
        let UnrecordedDpopProof {
            proof,
            digest,
            window,
            now,
            ..
        } = proof;
        match self
            .seen
            .record(&digest, &proof.jti, proof.iat, window, now)
        {
            Recorded::First => Ok(proof),
            Recorded::Again => Err(DpopProofError::Replayed),
            Recorded::Full => Err(DpopProofError::ReplayMemoryFull),
            Recorded::KeyFull => Err(DpopProofError::KeyReplayQuota),
            Recorded::Closed { now } => Err(DpopProofError::Stale {
                iat: proof.iat,
                now,
                max_age: window,
            }),
        }
    }

    /// Checks a resource request's proof: as [`check_proof`](Self::check_proof), and its `ath`
    /// is the hash of `access_token` and its key the one the token is bound to, `cnf_jkt` (the
    /// `cnf.jkt` of the token's claims, checked by the access token check).
    pub fn check_resource_request<'a>(
        &self,
        dpop: impl IntoIterator<Item = &'a [u8]>,
        method: &str,
        url: &Url,
        access_token: &AccessToken,
        cnf_jkt: &str,
    ) -> Result<VerifiedDpopProof, DpopProofError> {
        let token_hash = Sha256::digest(access_token.secret().as_bytes()).into();
        self.check(
            dpop,
            method,
            url,
            Some((&token_hash, cnf_jkt)),
            self.now_secs(),
        )
    }

    /// [`check_resource_request`](Self::check_resource_request) at `now` (Unix seconds, the access
    /// token check's moment), with `token_hash`, the SHA-256 of the access token, which that check
    /// computed already, and without recording the proof: the caller records it, in this check's
    /// memory or in one shared by several instances.
    #[cfg(feature = "access-token")]
    pub(crate) fn check_resource_request_unrecorded_at<'a>(
        &self,
        dpop: impl IntoIterator<Item = &'a [u8]>,
        method: &str,
        url: &Url,
        token_hash: &[u8; 32],
        cnf_jkt: &str,
        now: u64,
    ) -> Result<UnrecordedDpopProof, DpopProofError> {
        self.verify(dpop, method, url, Some((token_hash, cnf_jkt)), now)
    }

    /// Now in Unix seconds, by the clock chosen with [`clock`](Self::clock).
    fn now_secs(&self) -> u64 {
        self.clock.now_secs()
    }

    fn check<'a>(
        &self,
        dpop: impl IntoIterator<Item = &'a [u8]>,
        method: &str,
        url: &Url,
        token: Option<(&[u8; 32], &str)>,
        now: u64,
    ) -> Result<VerifiedDpopProof, DpopProofError> {
        // The replay check last, so that a refused proof takes no room and can be mended and
        // sent again.
        self.record(self.verify(dpop, method, url, token, now)?)
    }

    /// Every check but the first use, at `now`; with a token, its SHA-256 and the thumbprint it
    /// is bound to.
    fn verify<'a>(
        &self,
        dpop: impl IntoIterator<Item = &'a [u8]>,
        method: &str,
        url: &Url,
        token: Option<(&[u8; 32], &str)>,
        now: u64,
    ) -> Result<UnrecordedDpopProof, DpopProofError> {
        let proof = one_proof(dpop)?;
        let (digest, claims) = verify_signed(proof)?;
        if claims.jti.is_empty() || claims.jti.len() > MAX_PROOF_JTI_LEN {
            return Err(DpopProofError::Malformed {
                reason: "the DPoP proof's `jti` is empty or longer than 256 bytes",
            });
        }
        if claims.htm != method {
            return Err(DpopProofError::MethodMismatch {
                method: method.chars().take(32).collect(),
            });
        }
        if !same_target(&claims.htu, url) {
            return Err(DpopProofError::UrlMismatch {
                url: htu(url).unwrap_or_default(),
            });
        }
        let max_age = self.max_age_secs.saturating_add(self.leeway_secs);
        if claims.iat.saturating_add(max_age) < now {
            return Err(DpopProofError::Stale {
                iat: claims.iat,
                now,
                max_age,
            });
        }
        if claims.iat > now.saturating_add(self.leeway_secs) {
            return Err(DpopProofError::IssuedInFuture {
                iat: claims.iat,
                now,
            });
        }
        let jkt = URL_SAFE_NO_PAD.encode(digest);
        if let Some((token_hash, cnf_jkt)) = token {
            // `ath` is the token's SHA-256 in base64url (RFC 9449 §4.2).
            let hash_matches = claims
                .ath
                .as_deref()
                .is_some_and(|ath| bool::from(ath.as_bytes().ct_eq(&base64url_32(token_hash))));
            if !hash_matches {
                return Err(DpopProofError::AccessTokenHashMismatch);
            }
            if !constant_time_eq(&jkt, cnf_jkt) {
                return Err(DpopProofError::KeyBindingMismatch);
            }
        }
        // A proof may carry a nonce the server never asked for (a client that kept one from
        // before a restart, say): it is then ignored, as RFC 9449 §4.3 checks the claim only
        // against a nonce the server provided.
        let mut next_nonce = None;
        if let Some(nonces) = &self.nonces {
            match claims
                .nonce
                .as_deref()
                .map(|nonce| nonces.check(nonce, now))
            {
                Some(Ok(taken)) => {
                    if taken.renew {
                        next_nonce = Some(nonces.nonce_at_secs(now));
                    }
                }
                // Missing, malformed, forged or expired alike: the client can only retry.
                _ => {
                    return Err(DpopProofError::UseNonce {
                        nonce: nonces.nonce_at_secs(now),
                    })
                }
            }
        }
        Ok(UnrecordedDpopProof {
            proof: VerifiedDpopProof {
                jkt,
                jti: claims.jti,
                iat: claims.iat,
                next_nonce,
            },
            digest,
            window: max_age,
            now,
            leeway: self.leeway_secs,
        })
    }
}

/// The one proof of a request (RFC 9449 §4.3, check 1). A list in one header, as a proxy joins
/// repeated headers, counts as several: a JWT holds no comma.
fn one_proof<'a>(dpop: impl IntoIterator<Item = &'a [u8]>) -> Result<&'a str, DpopProofError> {
    let mut values = dpop.into_iter();
    let first = values.next().ok_or(DpopProofError::Missing)?;
    let extra = values.count();
    let in_first = first.iter().filter(|b| **b == b',').count();
    let count = extra.saturating_add(in_first).saturating_add(1);
    if count > 1 {
        return Err(DpopProofError::Duplicated { count });
    }
    let value = first.trim_ascii();
    if value.is_empty() {
        return Err(DpopProofError::Missing);
    }
    if value.len() > MAX_PROOF_LEN {
        return Err(DpopProofError::Malformed {
            reason: "the DPoP header is longer than 8 KiB",
        });
    }
    std::str::from_utf8(value).map_err(|_| DpopProofError::Malformed {
        reason: "the DPoP header is not a compact JWS (three base64url parts joined by `.`)",
    })
}

/// The JOSE header of a proof, as read. Derived, so that a member given twice refuses the proof.
#[derive(Deserialize)]
#[serde(remote = "Self")]
struct ProofHeader<'a> {
    #[serde(default)]
    typ: Option<String>,
    alg: String,
    /// Kept as text, so that the key's own members are read by a reader that refuses one given
    /// twice.
    #[serde(default, borrow)]
    jwk: Option<&'a serde_json::value::RawValue>,
    /// Any value at all: no extension this check would have to understand is accepted.
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

impl<'de: 'a, 'a> Deserialize<'de> for ProofHeader<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ProofHeader::deserialize(crate::oauth::json_object::ObjectOnly(deserializer))
    }
}

/// The claims of a proof, as read.
#[derive(Deserialize)]
#[serde(remote = "Self")]
struct ProofClaims {
    jti: String,
    htm: String,
    htu: String,
    iat: u64,
    #[serde(default)]
    ath: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}
crate::oauth::json_object::object_only!(ProofClaims);

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer).map(|_| true)
}

const NOT_A_JWS: DpopProofError = DpopProofError::Malformed {
    reason: "the DPoP header is not a compact JWS (three base64url parts joined by `.`)",
};

/// The RFC 7638 thumbprint of the proof's key, and its claims, once its header is a DPoP proof's
/// (RFC 9449 §4.3, checks 2 to 7) and its signature that key's.
fn verify_signed(proof: &str) -> Result<([u8; 32], ProofClaims), DpopProofError> {
    let mut parts = proof.split('.');
    let (Some(header_part), Some(claims_part), Some(signature_part), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(NOT_A_JWS);
    };
    let header_json = URL_SAFE_NO_PAD.decode(header_part).ok();
    let header: ProofHeader<'_> = header_json
        .as_deref()
        .and_then(|json| crate::oauth::json_object::from_slice(json).ok())
        .ok_or(DpopProofError::Malformed {
            reason: "the DPoP proof's header is not a JSON object with an `alg`",
        })?;
    if header.typ.as_deref() != Some(PROOF_TYPE) {
        return Err(DpopProofError::WrongType);
    }
    if header.alg != DPOP_ALGORITHM {
        return Err(DpopProofError::UnsupportedAlgorithm {
            alg: header.alg.chars().take(32).collect(),
        });
    }
    if header.crit {
        return Err(DpopProofError::Malformed {
            reason: "the DPoP proof has a `crit` header, which this server does not support",
        });
    }
    let header_key = header
        .jwk
        .as_ref()
        .ok_or(DpopProofError::UnsupportedKey)
        .and_then(|jwk| {
            parse_header_jwk(jwk.get()).map_err(|fault| match fault {
                HeaderJwkFault::Private => DpopProofError::PrivateKey,
                HeaderJwkFault::Unsupported => DpopProofError::UnsupportedKey,
            })
        })?;
    let mut signature = [0u8; 64];
    match URL_SAFE_NO_PAD.decode_slice(signature_part, &mut signature) {
        Ok(64) => {}
        _ => return Err(DpopProofError::BadSignature),
    }
    let message_len = header_part
        .len()
        .saturating_add(1)
        .saturating_add(claims_part.len());
    let message = proof.get(..message_len).ok_or(NOT_A_JWS)?;
    if !header_key.key().verifies(message.as_bytes(), &signature) {
        return Err(DpopProofError::BadSignature);
    }
    let claims: ProofClaims = decode_json(claims_part).ok_or(DpopProofError::Malformed {
        reason: "the DPoP proof's claims lack `jti`, `htm`, `htu` or a whole-second `iat`",
    })?;
    Ok((header_key.thumbprint_digest(), claims))
}

fn decode_json<T: DeserializeOwned>(part: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    crate::oauth::json_object::from_slice(&bytes).ok()
}

//! Server nonces (RFC 9449 §8, §9) that date themselves: any instance holding the secret that
//! made one accepts it, with no list to look it up in, and each retires itself once its lifetime
//! has passed.
//!
//! A nonce is base64url of `format (1) || key id (4) || issued-at (8, Unix seconds, big-endian) ||
//! tag (16)`, 39 characters, the tag the first 16 bytes of HMAC-SHA256 under the secret over all
//! that comes before it. The issued-at time is not secret, only unforgeable, which a MAC gives:
//! an AEAD would hide what needs no hiding, and make each nonce longer for it.

use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, NO_PAD_INDIFFERENT, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::digest::Key;
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;
use zeroize::{Zeroize as _, Zeroizing};

use super::nonce::DpopNonce;
use crate::oauth::clock::unix_seconds;

type HmacSha256 = Hmac<Sha256>;

/// The first byte of every nonce: a later format gets another, and the nonces of this one are
/// refused rather than misread.
const FORMAT: u8 = 1;

/// Bytes of the key id: enough to tell a handful of secrets apart without trying each.
const KEY_ID_LEN: usize = 4;

/// Bytes of the tag: 128 bits, beyond guessing within any nonce's lifetime.
const TAG_LEN: usize = 16;

/// Bytes the tag covers: the format, the key id and the issued-at time.
const SIGNED_LEN: usize = 1 + KEY_ID_LEN + 8;

/// Bytes of a nonce before base64url.
const NONCE_BYTES: usize = SIGNED_LEN + TAG_LEN;

/// Characters of a nonce: base64url of [`NONCE_BYTES`] without padding.
const NONCE_LEN: usize = (NONCE_BYTES * 4).div_ceil(3);

/// What a secret's key id is the MAC of, so that the id says nothing of the secret and never
/// equals a nonce's tag.
const KEY_ID_LABEL: &[u8] = b"workos-connect DPoP nonce key id";

/// Standard base64 with or without padding, as `openssl rand -base64 32` prints a secret.
const STANDARD_INDIFFERENT: GeneralPurpose =
    GeneralPurpose::new(&alphabet::STANDARD, NO_PAD_INDIFFERENT);

/// Base64url with or without padding.
const URL_SAFE_INDIFFERENT: GeneralPurpose =
    GeneralPurpose::new(&alphabet::URL_SAFE, NO_PAD_INDIFFERENT);

/// The secret that makes and checks server nonces, shared by every instance of a server that
/// should accept the nonces of the others: 32 to 64 random bytes, read from base64url (or base64)
/// text with [`FromStr`], or [generated](Self::generate) for a server that runs one instance.
///
/// Its `Debug` shows only its key id ([`id`](Self::id)), a MAC of the secret that the nonces it
/// makes carry, so that several secrets can be told apart, in nonces and in logs; there is no
/// `Display`. Its bytes are wiped from memory when dropped (the HMAC key state prepared from them,
/// kept to check each nonce with two compressions, is not).
///
/// ```
/// use workos_connect::dpop::DpopNonceSecret;
///
/// // As an operator shares it with every instance, e.g. from `openssl rand -base64 32`.
/// let secret: DpopNonceSecret = "q1Rk0F5Kx9mWQvYH7C2sJ8bZpL4nT6uE3gR5aD0fV1c".parse()?;
/// assert_eq!(secret.id().len(), 8);
/// assert!(!format!("{secret:?}").contains("q1Rk0F5K"));
/// assert!("too short".parse::<DpopNonceSecret>().is_err());
/// # Ok::<(), workos_connect::dpop::DpopNonceSecretError>(())
/// ```
#[derive(Clone)]
pub struct DpopNonceSecret {
    bytes: Zeroizing<Vec<u8>>,
    /// HMAC-SHA256 keyed with the secret once, cloned for each nonce made or checked, so that
    /// checking one costs the two compressions of its message and no more.
    mac: HmacSha256,
    id: [u8; KEY_ID_LEN],
}

/// Why a [`DpopNonceSecret`] was refused. Neither variant quotes the text, which is a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DpopNonceSecretError {
    /// Not base64url (nor base64) text.
    #[error("the DPoP nonce secret is not base64url or base64 text; generate 32 random bytes, e.g. with `openssl rand -base64 32`")]
    NotBase64,
    /// Shorter than [`DpopNonceSecret::MIN_LEN`] or longer than [`DpopNonceSecret::MAX_LEN`].
    #[error("the DPoP nonce secret has {len} bytes; it takes {min} to {max} random bytes, e.g. from `openssl rand -base64 32`", min = DpopNonceSecret::MIN_LEN, max = DpopNonceSecret::MAX_LEN)]
    Length {
        /// Its length in bytes, once decoded.
        len: usize,
    },
}

impl DpopNonceSecret {
    /// The fewest bytes taken: 256 bits, HMAC-SHA256's strength.
    pub const MIN_LEN: usize = 32;

    /// The most bytes taken: SHA-256's block, beyond which HMAC would use a hash of the key
    /// rather than the key.
    pub const MAX_LEN: usize = 64;

    /// A fresh secret of 32 bytes from the CSPRNG, for a server that runs one instance (or that
    /// hands it to the others with [`secret`](Self::secret)).
    pub fn generate() -> DpopNonceSecret {
        let mut bytes = Zeroizing::new(vec![0u8; Self::MIN_LEN]);
        rand::fill(bytes.as_mut_slice());
        DpopNonceSecret::keyed(bytes)
    }

    /// The secret `bytes`, 32 to 64 of them.
    pub fn from_bytes(bytes: &[u8]) -> Result<DpopNonceSecret, DpopNonceSecretError> {
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&bytes.len()) {
            return Err(DpopNonceSecretError::Length { len: bytes.len() });
        }
        Ok(DpopNonceSecret::keyed(Zeroizing::new(bytes.to_vec())))
    }

    /// The secret as base64url text without padding, which [`FromStr`] reads back: to hand a
    /// [generated](Self::generate) secret to the other instances. Keep it out of logs.
    pub fn secret(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.bytes.as_slice())
    }

    /// The key id, as 8 hexadecimal digits: the same on every instance given this secret, and
    /// different for another, to check a configuration without showing the secret.
    pub fn id(&self) -> String {
        self.id.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// `bytes` (at most [`MAX_LEN`](Self::MAX_LEN)) keyed into HMAC-SHA256, and the key id.
    fn keyed(bytes: Zeroizing<Vec<u8>>) -> DpopNonceSecret {
        // HMAC pads a key shorter than the block with zeros: padding it here keeps `new`
        // infallible, and the MAC the same.
        let mut key = Key::<HmacSha256>::default();
        for (slot, byte) in key.iter_mut().zip(bytes.iter()) {
            *slot = *byte;
        }
        let mac = HmacSha256::new(&key);
        key.as_mut_slice().zeroize();
        let tag = mac
            .clone()
            .chain_update(KEY_ID_LABEL)
            .finalize()
            .into_bytes();
        let id = tag.first_chunk().copied().unwrap_or_default();
        DpopNonceSecret { bytes, mac, id }
    }

    /// The tag of `signed` under this secret, checked in constant time.
    fn tags(&self, signed: &[u8; SIGNED_LEN], tag: &[u8; TAG_LEN]) -> bool {
        self.mac
            .clone()
            .chain_update(signed)
            .verify_truncated_left(tag)
            .is_ok()
    }

    /// The tag of `signed` under this secret.
    fn tag(&self, signed: &[u8; SIGNED_LEN]) -> [u8; TAG_LEN] {
        let full = self
            .mac
            .clone()
            .chain_update(signed)
            .finalize()
            .into_bytes();
        full.first_chunk().copied().unwrap_or_default()
    }
}

/// Reads base64url (or standard base64, as `openssl rand -base64 32` prints it), padded or
/// not, surrounding spaces and line ends ignored.
impl FromStr for DpopNonceSecret {
    type Err = DpopNonceSecretError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let engine = if text.contains(['+', '/']) {
            STANDARD_INDIFFERENT
        } else {
            URL_SAFE_INDIFFERENT
        };
        let bytes = Zeroizing::new(
            engine
                .decode(text)
                .map_err(|_| DpopNonceSecretError::NotBase64)?,
        );
        DpopNonceSecret::from_bytes(&bytes)
    }
}

impl fmt::Debug for DpopNonceSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopNonceSecret")
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

/// The server nonces a [`DpopProofCheck`](super::DpopProofCheck) requires
/// ([`require_nonce`](super::DpopProofCheck::require_nonce)): made with the current secret, and
/// accepted when made with it or with a secret still [accepted](Self::also_accepting), for their
/// [lifetime](Self::lifetime).
///
/// Every instance of a server given the same secrets hands out the same nonce at the same time,
/// and accepts the nonces of the others, with nothing shared between them but the secrets and a
/// clock: a client sent to another instance behind a load balancer keeps its nonce. A nonce is
/// [issued](Self::nonce_at) at the start of a step of a quarter of the lifetime, so that all
/// requests in that step get the same one; it is accepted for the lifetime (plus the
/// [leeway](Self::leeway)) after that start. Past half its lifetime, an accepted proof's answer
/// carries the next nonce ([`VerifiedDpopProof::dpop_nonce`](super::VerifiedDpopProof::dpop_nonce)),
/// so that a client that reads `DPoP-Nonce` on every answer (RFC 9449 §8.2) is never refused for
/// an old one; a client that does not gets one `use_dpop_nonce` refusal a lifetime, with the new
/// nonce.
///
/// To replace a secret without refusing any client: first give every instance the new secret as
/// [`also_accepting`](Self::also_accepting); once all have it, make it the current one, with the
/// old one accepted; once a lifetime and the leeway have passed, drop the old one. A secret that
/// leaked is dropped at once instead: clients holding its nonces are refused once, with a new
/// nonce, and go on.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use workos_connect::dpop::{DatedNonces, DpopNonceSecret};
///
/// let secret: DpopNonceSecret = "q1Rk0F5Kx9mWQvYH7C2sJ8bZpL4nT6uE3gR5aD0fV1c".parse()?;
/// let previous = DpopNonceSecret::generate();
/// // Two instances, configured alike, share nothing else.
/// let a = DatedNonces::new(secret.clone()).also_accepting(previous.clone());
/// let b = DatedNonces::new(secret).also_accepting(previous);
/// let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// assert_eq!(a.nonce_at(now), b.nonce_at(now));
/// assert_eq!(a.nonce_at(now).as_str().len(), 39);
/// # Ok::<(), workos_connect::dpop::DpopNonceSecretError>(())
/// ```
#[derive(Clone)]
pub struct DatedNonces {
    current: DpopNonceSecret,
    also_accepted: Vec<DpopNonceSecret>,
    lifetime_secs: u64,
    leeway_secs: u64,
}

/// Why a nonce was refused: the proof is refused alike for each, with a fresh nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NonceFault {
    /// Not 39 base64url characters, or not of this format.
    Malformed,
    /// Made with no secret accepted, or altered.
    Forged,
    /// Issued more than the lifetime and the leeway ago.
    Expired,
    /// Issued after now plus the leeway: by an instance whose clock is ahead.
    FromFuture,
}

/// A nonce accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NonceTaken {
    /// Whether it is past half its lifetime, so that the answer should carry the next one.
    pub(crate) renew: bool,
}

impl DatedNonces {
    /// How long a nonce is accepted unless told otherwise: five minutes. A server nonce bounds
    /// how long a proof made in advance stays usable (RFC 9449 §11.1: one made by an attacker
    /// while it briefly held the key, say); five minutes keeps that short, while a client that
    /// ignores the renewals is refused for an old nonce at most once every few minutes.
    pub const DEFAULT_LIFETIME_SECS: u64 = 300;

    /// The shortest lifetime taken, so that a step (a quarter of it) is a whole second.
    pub const MIN_LIFETIME_SECS: u64 = 4;

    /// The longest lifetime taken: a nonce that lives longer no longer bounds a proof made in
    /// advance.
    pub const MAX_LIFETIME_SECS: u64 = 60 * 60;

    /// Clock difference allowed between the instances, both ways, unless told otherwise.
    pub const DEFAULT_LEEWAY_SECS: u64 = 60;

    /// Nonces made with `current`, and accepted when made with it, for
    /// [`DEFAULT_LIFETIME_SECS`](Self::DEFAULT_LIFETIME_SECS) with
    /// [`DEFAULT_LEEWAY_SECS`](Self::DEFAULT_LEEWAY_SECS).
    pub fn new(current: DpopNonceSecret) -> DatedNonces {
        DatedNonces {
            current,
            also_accepted: Vec::new(),
            lifetime_secs: Self::DEFAULT_LIFETIME_SECS,
            leeway_secs: Self::DEFAULT_LEEWAY_SECS,
        }
    }

    /// Also accepts the nonces `secret` made, without making any with it: the secret being
    /// replaced, or the one about to replace it (see [`DatedNonces`]). Call it once for each.
    pub fn also_accepting(mut self, secret: DpopNonceSecret) -> DatedNonces {
        self.also_accepted.push(secret);
        self
    }

    /// How long a nonce is accepted after its step began, in seconds:
    /// [`MIN_LIFETIME_SECS`](Self::MIN_LIFETIME_SECS) to
    /// [`MAX_LIFETIME_SECS`](Self::MAX_LIFETIME_SECS), a value outside taken as the nearest. Give
    /// every instance the same, so that they hand out the same nonce.
    pub fn lifetime(mut self, seconds: u64) -> DatedNonces {
        self.lifetime_secs = seconds.clamp(Self::MIN_LIFETIME_SECS, Self::MAX_LIFETIME_SECS);
        self
    }

    /// Clock difference allowed between the instances, both ways, in seconds (at most
    /// [`MAX_LIFETIME_SECS`](Self::MAX_LIFETIME_SECS)): a nonce is accepted that long past its
    /// lifetime, and that long before it was issued by the reading instance's clock.
    pub fn leeway(mut self, seconds: u64) -> DatedNonces {
        self.leeway_secs = seconds.min(Self::MAX_LIFETIME_SECS);
        self
    }

    /// The nonce handed out at `now`: the same for every call and every instance with the same
    /// current secret and lifetime during a step, a quarter of the lifetime.
    pub fn nonce_at(&self, now: SystemTime) -> DpopNonce {
        self.nonce_at_secs(unix_seconds(now))
    }

    /// [`nonce_at`](Self::nonce_at), `now` in Unix seconds.
    pub(crate) fn nonce_at_secs(&self, now: u64) -> DpopNonce {
        let step = self.step_secs();
        let issued_at = now.saturating_sub(now.checked_rem(step).unwrap_or(0));
        let signed = signed_part(self.current.id, issued_at);
        let tag = self.current.tag(&signed);
        let mut raw = [0u8; NONCE_BYTES];
        for (slot, byte) in raw.iter_mut().zip(signed.iter().chain(tag.iter())) {
            *slot = *byte;
        }
        DpopNonce::from_base64url(URL_SAFE_NO_PAD.encode(raw))
    }

    /// Whether `nonce` is one of these secrets' and alive at `now` (Unix seconds): one HMAC, and
    /// nothing allocated.
    pub(crate) fn check(&self, nonce: &str, now: u64) -> Result<NonceTaken, NonceFault> {
        if nonce.len() != NONCE_LEN {
            return Err(NonceFault::Malformed);
        }
        // One byte more than a nonce, as the decoder wants room for its estimate.
        let mut raw = [0u8; NONCE_BYTES + 1];
        match URL_SAFE_NO_PAD.decode_slice(nonce, &mut raw) {
            Ok(NONCE_BYTES) => {}
            _ => return Err(NonceFault::Malformed),
        }
        let Some((signed, rest)) = raw.split_first_chunk::<SIGNED_LEN>() else {
            return Err(NonceFault::Malformed);
        };
        let Some(tag) = rest.first_chunk::<TAG_LEN>() else {
            return Err(NonceFault::Malformed);
        };
        let [format, k0, k1, k2, k3, t0, t1, t2, t3, t4, t5, t6, t7] = *signed;
        if format != FORMAT {
            return Err(NonceFault::Malformed);
        }
        let id = [k0, k1, k2, k3];
        let issued_at = u64::from_be_bytes([t0, t1, t2, t3, t4, t5, t6, t7]);
        // The ids are public (every nonce shows one): only the tag is compared in constant time.
        let tagged = self
            .secrets()
            .filter(|secret| secret.id == id)
            .any(|secret| secret.tags(signed, tag));
        if !tagged {
            return Err(NonceFault::Forged);
        }
        if issued_at > now.saturating_add(self.leeway_secs) {
            return Err(NonceFault::FromFuture);
        }
        let age = now.saturating_sub(issued_at);
        if age > self.lifetime_secs.saturating_add(self.leeway_secs) {
            return Err(NonceFault::Expired);
        }
        Ok(NonceTaken {
            renew: age > self.lifetime_secs.checked_div(2).unwrap_or(0),
        })
    }

    /// A quarter of the lifetime: at least a second, as the lifetime is at least four.
    fn step_secs(&self) -> u64 {
        self.lifetime_secs.checked_div(4).unwrap_or(1).max(1)
    }

    fn secrets(&self) -> impl Iterator<Item = &DpopNonceSecret> {
        std::iter::once(&self.current).chain(&self.also_accepted)
    }
}

/// Shows the key ids, never the secrets.
impl fmt::Debug for DatedNonces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let also: Vec<String> = self.also_accepted.iter().map(DpopNonceSecret::id).collect();
        f.debug_struct("DatedNonces")
            .field("current", &self.current.id())
            .field("also_accepting", &also)
            .field("lifetime_secs", &self.lifetime_secs)
            .field("leeway_secs", &self.leeway_secs)
            .finish()
    }
}

/// What the tag covers: the format, the key id and the issued-at time.
fn signed_part(id: [u8; KEY_ID_LEN], issued_at: u64) -> [u8; SIGNED_LEN] {
    let [k0, k1, k2, k3] = id;
    let [t0, t1, t2, t3, t4, t5, t6, t7] = issued_at.to_be_bytes();
    [FORMAT, k0, k1, k2, k3, t0, t1, t2, t3, t4, t5, t6, t7]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: u64 = 1_700_000_000;

    fn secret(byte: u8) -> DpopNonceSecret {
        DpopNonceSecret::from_bytes(&[byte; 32]).unwrap()
    }

    #[test]
    fn a_nonce_is_39_base64url_characters_and_dates_itself() {
        let nonces = DatedNonces::new(secret(1));
        let nonce = nonces.nonce_at_secs(NOW);
        assert_eq!(nonce.as_str().len(), NONCE_LEN);
        assert_eq!(NONCE_LEN, 39);
        let raw = URL_SAFE_NO_PAD.decode(nonce.as_str()).unwrap();
        assert_eq!(raw.first(), Some(&FORMAT));
        assert_eq!(raw.get(1..5), Some(secret(1).id.as_slice()));
        // Issued at the start of its step: a quarter of five minutes.
        let issued_at = u64::from_be_bytes(raw[5..13].try_into().unwrap());
        assert_eq!(issued_at, NOW - NOW % 75);
        assert_eq!(
            nonces.check(nonce.as_str(), NOW),
            Ok(NonceTaken { renew: false })
        );
    }

    #[test]
    fn the_same_nonce_within_a_step_and_another_after_it() {
        let nonces = DatedNonces::new(secret(1));
        let start = NOW - NOW % 75;
        let first = nonces.nonce_at_secs(start);
        assert_eq!(nonces.nonce_at_secs(start + 74), first);
        assert_ne!(nonces.nonce_at_secs(start + 75), first);
        assert_ne!(nonces.nonce_at_secs(start - 1), first);
        // Another lifetime, another step.
        let short = DatedNonces::new(secret(1)).lifetime(8);
        assert_eq!(short.nonce_at_secs(start), short.nonce_at_secs(start + 1));
        assert_ne!(short.nonce_at_secs(start), short.nonce_at_secs(start + 2));
    }

    #[test]
    fn a_nonce_lives_its_lifetime_and_the_leeway_and_is_renewed_past_half_of_it() {
        let nonces = DatedNonces::new(secret(1));
        let start = NOW - NOW % 75;
        let nonce = nonces.nonce_at_secs(start);
        let at = |now| nonces.check(nonce.as_str(), now);
        assert_eq!(at(start + 150), Ok(NonceTaken { renew: false }));
        assert_eq!(at(start + 151), Ok(NonceTaken { renew: true }));
        assert_eq!(at(start + 360), Ok(NonceTaken { renew: true }));
        assert_eq!(at(start + 361), Err(NonceFault::Expired));
        // Issued by an instance whose clock is ahead: taken within the leeway only.
        assert!(at(start - 60).is_ok());
        assert_eq!(at(start - 61), Err(NonceFault::FromFuture));
        let strict = DatedNonces::new(secret(1)).leeway(0);
        assert_eq!(
            strict.check(nonce.as_str(), start + 301),
            Err(NonceFault::Expired)
        );
    }

    #[test]
    fn the_lifetime_and_leeway_are_bounded() {
        assert_eq!(DatedNonces::new(secret(1)).lifetime(0).lifetime_secs, 4);
        assert_eq!(DatedNonces::new(secret(1)).lifetime(0).step_secs(), 1);
        assert_eq!(
            DatedNonces::new(secret(1)).lifetime(u64::MAX).lifetime_secs,
            3600
        );
        assert_eq!(
            DatedNonces::new(secret(1)).leeway(u64::MAX).leeway_secs,
            3600
        );
        // At the far ends of time, nothing overflows.
        let nonces = DatedNonces::new(secret(1));
        for now in [0, u64::MAX] {
            let nonce = nonces.nonce_at_secs(now);
            assert!(nonces.check(nonce.as_str(), now).is_ok(), "{now}");
        }
    }

    #[test]
    fn each_altered_byte_and_each_other_secret_is_refused() {
        let nonces = DatedNonces::new(secret(1));
        let nonce = nonces.nonce_at_secs(NOW);
        let raw = URL_SAFE_NO_PAD.decode(nonce.as_str()).unwrap();
        for index in 0..raw.len() {
            let mut altered = raw.clone();
            altered[index] ^= 0x01;
            let text = URL_SAFE_NO_PAD.encode(&altered);
            let expected = if index == 0 {
                NonceFault::Malformed
            } else {
                NonceFault::Forged
            };
            assert_eq!(nonces.check(&text, NOW), Err(expected), "byte {index}");
        }
        let other = DatedNonces::new(secret(2)).nonce_at_secs(NOW);
        assert_eq!(nonces.check(other.as_str(), NOW), Err(NonceFault::Forged));
        // A later date under the same key id, without the secret, is a forgery too.
        let mut later = raw.clone();
        later[5..13].copy_from_slice(&(NOW + 600).to_be_bytes());
        let later = URL_SAFE_NO_PAD.encode(&later);
        assert_eq!(nonces.check(&later, NOW + 600), Err(NonceFault::Forged));
        // Not canonical base64url (the last character's spare bits set), or padded.
        let mut loose = nonce.as_str().to_owned();
        let last = loose.pop().unwrap();
        let spare = if last == 'A' { 'B' } else { 'A' };
        loose.push(spare);
        assert!(nonces.check(&loose, NOW).is_err());
        assert_eq!(
            nonces.check(&format!("{}=", &nonce.as_str()[..38]), NOW),
            Err(NonceFault::Malformed)
        );
    }

    #[test]
    fn a_listed_secret_is_accepted_and_only_the_current_one_makes_nonces() {
        let old = secret(1);
        let new = secret(2);
        let before = DatedNonces::new(old.clone()).nonce_at_secs(NOW);
        let rotated = DatedNonces::new(new.clone()).also_accepting(old.clone());
        assert!(rotated.check(before.as_str(), NOW).is_ok());
        assert_eq!(
            rotated.nonce_at_secs(NOW),
            DatedNonces::new(new.clone()).nonce_at_secs(NOW)
        );
        let dropped = DatedNonces::new(new);
        assert_eq!(dropped.check(before.as_str(), NOW), Err(NonceFault::Forged));
    }

    #[test]
    fn secrets_read_base64url_and_base64_and_show_only_their_id() {
        let bytes = [0xfbu8; 32];
        let url = URL_SAFE_NO_PAD.encode(bytes);
        let standard = base64::engine::general_purpose::STANDARD.encode(bytes);
        assert!(url.contains('-') && standard.contains('+') && standard.ends_with('='));
        let from_url: DpopNonceSecret = url.parse().unwrap();
        let from_standard: DpopNonceSecret = format!(" {standard}\n").parse().unwrap();
        assert_eq!(from_url.id(), from_standard.id());
        assert_eq!(from_url.secret(), url);
        assert_eq!(
            from_url.id(),
            DpopNonceSecret::from_bytes(&bytes).unwrap().id()
        );
        assert_ne!(from_url.id(), secret(1).id());
        let shown = format!("{from_url:?} {:?}", DatedNonces::new(from_url.clone()));
        assert!(
            !shown.contains(&url) && !shown.contains(&standard[..20]),
            "{shown}"
        );
        assert!(shown.contains(&from_url.id()), "{shown}");

        assert_eq!(
            URL_SAFE_NO_PAD
                .encode([0u8; 31])
                .parse::<DpopNonceSecret>()
                .unwrap_err(),
            DpopNonceSecretError::Length { len: 31 }
        );
        assert_eq!(
            URL_SAFE_NO_PAD
                .encode([0u8; 65])
                .parse::<DpopNonceSecret>()
                .unwrap_err(),
            DpopNonceSecretError::Length { len: 65 }
        );
        assert!(DpopNonceSecret::from_bytes(&[7; 64]).is_ok());
        for bad in ["not base64!", "ab+c-d", ""] {
            assert!(bad.parse::<DpopNonceSecret>().is_err(), "{bad:?}");
        }
        let generated = DpopNonceSecret::generate();
        assert_eq!(generated.secret().len(), 43);
        assert_ne!(generated.id(), DpopNonceSecret::generate().id());
        assert_eq!(
            generated.secret().parse::<DpopNonceSecret>().unwrap().id(),
            generated.id()
        );
    }

    #[test]
    fn the_key_id_is_hmac_of_a_label_and_a_short_secret_is_padded_as_hmac_pads_it() {
        // Keying with the secret padded to the block is HMAC with the secret itself.
        let bytes = [9u8; 40];
        let padded = DpopNonceSecret::from_bytes(&bytes).unwrap();
        let plain = HmacSha256::new_from_slice(&bytes).unwrap();
        let expected = plain.chain_update(KEY_ID_LABEL).finalize().into_bytes();
        assert_eq!(padded.id.as_slice(), &expected[..KEY_ID_LEN]);
    }

    proptest! {
        #[test]
        fn any_text_is_refused_without_a_panic(text in ".{0,80}", bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let nonces = DatedNonces::new(secret(1));
            prop_assert!(nonces.check(&text, NOW).is_err());
            let encoded = URL_SAFE_NO_PAD.encode(&bytes);
            prop_assert!(nonces.check(&encoded, NOW).is_err());
            let _ = text.parse::<DpopNonceSecret>();
        }
    }
}

//! The AuthKit domain's signing keys (`/oauth2/jwks`), parsed once and shared by every validation.

use std::fmt;
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations};
use jsonwebtoken::jwk::{PublicKeyUse, RSAKeyParameters};
use jsonwebtoken::Algorithm;
#[cfg(not(feature = "aws-lc-rs"))]
use jsonwebtoken::DecodingKey;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::jose::thumbprint::jwk_thumbprint;
use crate::oauth::clock::{unix_seconds, Clock, SystemClock};
use sha2::{Digest, Sha256};

/// The smallest RSA modulus accepted, in bits (RFC 7518 section 3.3 requires 2048).
const MIN_RSA_BITS: usize = 2048;

/// The signature algorithm a key is used for when it names none: WorkOS signs with RS256. Pinning one
/// keeps an RSA key from verifying six algorithms (OpenID Connect Core section 3.1.3.7, step 7).
const DEFAULT_RSA_ALGORITHM: Algorithm = Algorithm::RS256;

/// A JSON Web Key Set, parsed and checked once: validating a token against it parses no JSON.
///
/// Fetch the set from [`AuthKitDomain::jwks_endpoint`](crate::AuthKitDomain::jwks_endpoint) and
/// share it (it is `Send + Sync`). To keep it current, let a [`KeyCache`](crate::jose::KeyCache) hold it:
/// the cache fetches on a schedule, so that a withdrawn key stops being trusted, and when a token
/// names a key the set lacks (validation answers [`IdTokenError::UnknownKey`]) it allows one fetch
/// at a time and at most one per interval, whether the fetch works or fails. The set alone limits
/// nothing: its `refetch` flag is worked out from its own age, so made-up key IDs would make an app
/// that fetches on that flag alone hammer the JWKS endpoint.
///
/// Keys this crate cannot use are left out rather than spoiling the set: keys for encryption
/// (`use` other than `sig`, or `key_ops` without `verify`), symmetric and EdDSA keys, RSA keys under
/// 2048 bits, EC keys whose point is not on their curve, and keys whose JSON is malformed or names a
/// member twice. A set left with no usable key is refused.
///
/// [`IdTokenError::UnknownKey`]: crate::IdTokenError::UnknownKey
///
/// ```
/// use workos_connect::jose::KeySet;
///
/// let jwks = br#"{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"hmac"}]}"#;
/// assert!(KeySet::parse(jwks).is_err()); // a shared secret is never a signing key here
/// ```
#[derive(Clone)]
pub struct KeySet {
    keys: Vec<VerifyingKey>,
    skipped: usize,
    fetched_at: SystemTime,
    refetch_interval: Duration,
}

/// One usable key: what it is called, the one algorithm it verifies, the key itself, and an
/// identity that tells whether a later set still holds this very key, under the same `kid`, for
/// the same algorithm.
#[derive(Clone)]
pub(crate) struct VerifyingKey {
    pub(crate) kid: Option<String>,
    pub(crate) algorithm: Algorithm,
    #[cfg(not(feature = "aws-lc-rs"))]
    pub(crate) key: DecodingKey,
    pub(crate) identity: [u8; 32],
    /// The key as AWS-LC verifies with it, parsed once here rather than for every signature as
    /// `jsonwebtoken` would.
    #[cfg(feature = "aws-lc-rs")]
    pub(crate) parsed: aws_lc_rs::signature::ParsedPublicKey,
}

/// Why a JSON Web Key Set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeySetError {
    /// Not a JSON object with a `keys` array.
    #[error("the JWKS is not a JSON object with a `keys` array")]
    Malformed,
    /// Not one key in the set can verify a signature.
    #[error(
        "the JWKS has no key that can verify signatures ({skipped} left out: encryption, symmetric, \
         EdDSA, RSA under 2048 bits or malformed)"
    )]
    NoUsableKey {
        /// How many keys were left out.
        skipped: usize,
    },
}

/// The document as read. Serde's derive already refuses `keys` named twice.
#[derive(Deserialize)]
#[serde(remote = "Self")]
struct Document {
    keys: Vec<Entry>,
}
crate::oauth::json_object::object_only!(Document);

/// One entry of `keys`: its members when it is a JSON object naming each once, `None` otherwise.
///
/// A generic JSON map keeps the last of repeated members, while another reader may keep the first,
/// so two verifiers could read one key differently; such a key is left out like a malformed one.
/// Anything else is read past and left out too, so that one bad entry does not spoil the set.
struct Entry(Option<Map<String, Value>>);

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(EntryVisitor)
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = Entry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON Web Key")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entry, A::Error> {
        let mut members = Map::new();
        let mut repeated = false;
        // Names arrive unescaped, so `k\u0069d` is caught as a second `kid`.
        while let Some(name) = map.next_key::<String>()? {
            let value = map.next_value::<Value>()?;
            repeated |= members.insert(name, value).is_some();
        }
        Ok(Entry((!repeated).then_some(members)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Entry, A::Error> {
        IgnoredAny.visit_seq(seq).map(|_| Entry(None))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Entry, E> {
        Ok(Entry(None))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Entry, E> {
        Ok(Entry(None))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Entry, E> {
        Ok(Entry(None))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Entry, E> {
        Ok(Entry(None))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Entry, E> {
        Ok(Entry(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Entry, E> {
        Ok(Entry(None))
    }
}

impl KeySet {
    /// How long after a set was fetched a token with an unknown key may ask for it to be fetched
    /// again, unless set otherwise.
    pub const DEFAULT_REFETCH_INTERVAL: Duration = Duration::from_secs(60);

    /// Parses the JWKS document, fetched now by the system clock.
    pub fn parse(jwks: &[u8]) -> Result<KeySet, KeySetError> {
        Self::parse_fetched_at(jwks, SystemClock.now())
    }

    /// Parses the JWKS document, fetched at `fetched_at` (by the caller's clock, a set kept in a
    /// cache, or a fixed moment in tests).
    pub fn parse_fetched_at(jwks: &[u8], fetched_at: SystemTime) -> Result<KeySet, KeySetError> {
        let document: Document =
            crate::oauth::json_object::from_slice(jwks).map_err(|_| KeySetError::Malformed)?;
        let total = document.keys.len();
        let keys: Vec<VerifyingKey> = document
            .keys
            .into_iter()
            .filter_map(|entry| entry.0)
            .filter_map(|members| serde_json::from_value::<Jwk>(Value::Object(members)).ok())
            .filter_map(|jwk| usable_key(&jwk))
            .collect();
        let skipped = total.saturating_sub(keys.len());
        if keys.is_empty() {
            return Err(KeySetError::NoUsableKey { skipped });
        }
        Ok(KeySet {
            keys,
            skipped,
            fetched_at,
            refetch_interval: Self::DEFAULT_REFETCH_INTERVAL,
        })
    }

    /// The least time between two fetches that unknown keys may ask for.
    pub fn refetch_interval(mut self, interval: Duration) -> Self {
        self.refetch_interval = interval;
        self
    }

    /// When the set was fetched.
    pub fn fetched_at(&self) -> SystemTime {
        self.fetched_at
    }

    /// How many usable keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Never true for a parsed set, which holds at least one usable key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// How many keys of the document were left out as unusable.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Whether a token with an unknown key, seen at `now` (Unix seconds), may ask for the set to be
    /// fetched again: the interval has passed since the fetch, or the clock was stepped back by as
    /// much (a set dated an hour ahead of a clock set back would otherwise keep every new key out
    /// for that hour; counting it passed costs one fetch, and the new set is dated by the stepped
    /// clock). A `now` a little behind the fetch, as readings racing each other are, is no time.
    pub(crate) fn may_refetch(&self, now: u64) -> bool {
        now.abs_diff(unix_seconds(self.fetched_at)) >= self.refetch_interval.as_secs()
    }

    pub(crate) fn keys(&self) -> &[VerifyingKey] {
        &self.keys
    }

    /// Whether the set still holds the key of this [identity](VerifyingKey::identity).
    #[cfg(feature = "access-token")]
    pub(crate) fn holds(&self, identity: &[u8; 32]) -> bool {
        self.keys.iter().any(|key| key.identity == *identity)
    }
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<String> = self
            .keys
            .iter()
            .map(|key| {
                format!(
                    "{:?} {:?}",
                    key.kid.as_deref().unwrap_or("-"),
                    key.algorithm
                )
            })
            .collect();
        f.debug_struct("KeySet")
            .field("keys", &keys)
            .field("skipped", &self.skipped)
            .field("fetched_at", &self.fetched_at)
            .field("refetch_interval", &self.refetch_interval)
            .finish()
    }
}

/// The key as this crate uses it, or `None` when it cannot verify signatures safely.
fn usable_key(jwk: &Jwk) -> Option<VerifyingKey> {
    let common = &jwk.common;
    if !matches!(common.public_key_use, None | Some(PublicKeyUse::Signature)) {
        return None;
    }
    if let Some(operations) = &common.key_operations {
        if !operations.contains(&KeyOperations::Verify) {
            return None;
        }
    }
    let named = common.key_algorithm;
    let (algorithm, thumbprint) = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            if modulus_bits(rsa)? < MIN_RSA_BITS {
                return None;
            }
            let thumbprint = jwk_thumbprint(&mut [("e", &rsa.e), ("kty", "RSA"), ("n", &rsa.n)]);
            let algorithm = match named {
                None => DEFAULT_RSA_ALGORITHM,
                Some(KeyAlgorithm::RS256) => Algorithm::RS256,
                Some(KeyAlgorithm::RS384) => Algorithm::RS384,
                Some(KeyAlgorithm::RS512) => Algorithm::RS512,
                Some(KeyAlgorithm::PS256) => Algorithm::PS256,
                Some(KeyAlgorithm::PS384) => Algorithm::PS384,
                Some(KeyAlgorithm::PS512) => Algorithm::PS512,
                Some(_) => return None,
            };
            (algorithm, thumbprint)
        }
        // The curve fixes the algorithm, so a key can never verify under another curve's.
        AlgorithmParameters::EllipticCurve(ec) => {
            let point = uncompressed_point(&ec.x, &ec.y)?;
            let algorithm = match (&ec.curve, named) {
                (EllipticCurve::P256, None | Some(KeyAlgorithm::ES256))
                    if p256::PublicKey::from_sec1_bytes(&point).is_ok() =>
                {
                    Algorithm::ES256
                }
                (EllipticCurve::P384, None | Some(KeyAlgorithm::ES384))
                    if p384::PublicKey::from_sec1_bytes(&point).is_ok() =>
                {
                    Algorithm::ES384
                }
                _ => return None,
            };
            let curve = if algorithm == Algorithm::ES256 {
                "P-256"
            } else {
                "P-384"
            };
            let members = &mut [("crv", curve), ("kty", "EC"), ("x", &ec.x), ("y", &ec.y)];
            (algorithm, jwk_thumbprint(members))
        }
        // EdDSA is left out: a malformed Ed25519 key makes the verifier panic. HMAC keys are
        // shared secrets, never published signing keys.
        _ => return None,
    };
    Some(VerifyingKey {
        kid: common.key_id.clone(),
        algorithm,
        #[cfg(not(feature = "aws-lc-rs"))]
        key: DecodingKey::from_jwk(jwk).ok()?,
        identity: key_identity(&thumbprint, algorithm, common.key_id.as_deref()),
        #[cfg(feature = "aws-lc-rs")]
        parsed: aws_lc::parse(&jwk.algorithm, algorithm)?,
    })
}

/// The SHA-256 of the key's RFC 7638 thumbprint, its algorithm and its `kid`: the same key
/// republished under another `kid` is another key here, as it is to a token naming the old one.
fn key_identity(thumbprint: &[u8; 32], algorithm: Algorithm, kid: Option<&str>) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(thumbprint);
    hash.update(format!("{algorithm:?}").as_bytes());
    match kid {
        // A length first, so that no two (algorithm, kid) pairs run together alike.
        Some(kid) => {
            hash.update((kid.len() as u64).to_be_bytes());
            hash.update(kid.as_bytes());
        }
        None => hash.update([0xff]),
    }
    hash.finalize().into()
}

/// Parsing keys for AWS-LC, and the verification algorithm of each JWS algorithm accepted.
#[cfg(feature = "aws-lc-rs")]
mod aws_lc {
    use aws_lc_rs::signature::{self, ParsedPublicKey, RsaParameters, RsaPublicKeyComponents};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use jsonwebtoken::jwk::AlgorithmParameters;
    use jsonwebtoken::Algorithm;

    use super::uncompressed_point;

    pub(super) fn parse(
        parameters: &AlgorithmParameters,
        algorithm: Algorithm,
    ) -> Option<ParsedPublicKey> {
        match parameters {
            AlgorithmParameters::RSA(rsa) => {
                let n = URL_SAFE_NO_PAD.decode(rsa.n.trim_end_matches('=')).ok()?;
                let e = URL_SAFE_NO_PAD.decode(rsa.e.trim_end_matches('=')).ok()?;
                let components = RsaPublicKeyComponents {
                    n: without_leading_zeros(&n),
                    e: without_leading_zeros(&e),
                };
                components
                    .to_parsed_public_key(rsa_parameters(algorithm)?)
                    .ok()
            }
            AlgorithmParameters::EllipticCurve(ec) => {
                let point = uncompressed_point(&ec.x, &ec.y)?;
                let verification: &'static signature::EcdsaVerificationAlgorithm = match algorithm {
                    Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
                    Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
                    _ => return None,
                };
                ParsedPublicKey::new(verification, point).ok()
            }
            _ => None,
        }
    }

    fn rsa_parameters(algorithm: Algorithm) -> Option<&'static RsaParameters> {
        Some(match algorithm {
            Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
            Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
            Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
            Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
            _ => return None,
        })
    }

    /// AWS-LC takes `n` and `e` without leading zero bytes, which a JWK may carry.
    fn without_leading_zeros(bytes: &[u8]) -> &[u8] {
        let first = bytes
            .iter()
            .position(|byte| *byte != 0)
            .unwrap_or(bytes.len());
        bytes.get(first..).unwrap_or_default()
    }
}

/// An EC public key's coordinates as an uncompressed SEC1 point, to check that it lies on its curve.
fn uncompressed_point(x: &str, y: &str) -> Option<Vec<u8>> {
    let mut point = vec![0x04];
    point.extend(URL_SAFE_NO_PAD.decode(x).ok()?);
    point.extend(URL_SAFE_NO_PAD.decode(y).ok()?);
    Some(point)
}

/// The size of an RSA key's modulus in bits, or `None` when `n` is not base64url.
fn modulus_bits(rsa: &RSAKeyParameters) -> Option<usize> {
    let modulus = URL_SAFE_NO_PAD.decode(rsa.n.trim_end_matches('=')).ok()?;
    let first = modulus.iter().position(|byte| *byte != 0)?;
    let significant = modulus.get(first..)?;
    let leading = significant.first().map_or(0, |byte| byte.leading_zeros());
    let bits = significant.len().checked_mul(8)?;
    bits.checked_sub(usize::try_from(leading).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rsa(bits: usize, extra: &str) -> String {
        let mut n = vec![0xffu8; bits / 8];
        n[0] = 0x80;
        format!(
            r#"{{"kty":"RSA","n":"{}","e":"AQAB"{extra}}}"#,
            URL_SAFE_NO_PAD.encode(&n)
        )
    }

    #[test]
    fn unusable_keys_are_left_out_not_fatal() {
        let good = rsa(2048, r#","kid":"good""#);
        let jwks = format!(
            r#"{{"keys":[{good},{},{},{},{},{{"kty":"RSA","n":"!!","e":"AQAB"}},{{"kty":"oct","k":"c2VjcmV0"}},{{"kty":"weird"}}]}}"#,
            rsa(512, r#","kid":"small""#),
            rsa(2048, r#","kid":"enc","use":"enc""#),
            rsa(2048, r#","kid":"ops","key_ops":["encrypt"]"#),
            rsa(2048, r#","kid":"alg","alg":"ES256""#),
        );
        let set = KeySet::parse(jwks.as_bytes()).unwrap();
        assert_eq!(set.len(), 1);
        assert_eq!(set.skipped(), 7);
        assert_eq!(set.keys()[0].kid.as_deref(), Some("good"));
        assert_eq!(set.keys()[0].algorithm, Algorithm::RS256);
        let verify_ops = rsa(2048, r#","key_ops":["verify"],"alg":"PS384""#);
        let set = KeySet::parse(format!(r#"{{"keys":[{verify_ops}]}}"#).as_bytes()).unwrap();
        assert_eq!(set.keys()[0].algorithm, Algorithm::PS384);
    }

    #[test]
    fn a_key_that_names_a_member_twice_is_left_out() {
        let other_n = URL_SAFE_NO_PAD.encode([0xc0u8; 256]);
        // Each would be usable were the last copy taken, as a generic JSON map does.
        let repeated = [
            ("n", format!(r#","n":"{other_n}""#)),
            ("kid", r#","kid":"a","kid":"b""#.to_owned()),
            ("alg", r#","alg":"RS256","alg":"PS256""#.to_owned()),
            ("use", r#","use":"enc","use":"sig""#.to_owned()),
            ("e", r#","e":"AQAB""#.to_owned()),
            ("kty", r#","kty":"RSA""#.to_owned()),
            ("escaped kid", r#","kid":"a","k\u0069d":"b""#.to_owned()),
        ];
        let good = rsa(2048, r#","kid":"good""#);
        for (member, extra) in &repeated {
            let twice = rsa(2048, extra);
            assert_eq!(
                KeySet::parse(format!(r#"{{"keys":[{twice}]}}"#).as_bytes()).unwrap_err(),
                KeySetError::NoUsableKey { skipped: 1 },
                "{member}"
            );
            let set = KeySet::parse(format!(r#"{{"keys":[{twice},{good}]}}"#).as_bytes())
                .unwrap_or_else(|error| panic!("{member}: {error}"));
            assert_eq!((set.len(), set.skipped()), (1, 1), "{member}");
            assert_eq!(set.keys()[0].kid.as_deref(), Some("good"), "{member}");
        }
        // Entries that are no object at all are left out the same way, and reading goes on.
        let set = KeySet::parse(
            format!(r#"{{"keys":[3,-1,1.5,"k",null,true,[1,{{}}],{good}]}}"#).as_bytes(),
        )
        .unwrap();
        assert_eq!((set.len(), set.skipped()), (1, 7));
    }

    #[test]
    fn a_document_that_names_keys_twice_is_refused() {
        let good = rsa(2048, "");
        assert_eq!(
            KeySet::parse(format!(r#"{{"keys":[{good}],"keys":[{good}]}}"#).as_bytes())
                .unwrap_err(),
            KeySetError::Malformed
        );
        assert_eq!(
            KeySet::parse(format!(r#"{{"keys":[],"keys":[{good}]}}"#).as_bytes()).unwrap_err(),
            KeySetError::Malformed
        );
    }

    #[test]
    fn modulus_size_counts_significant_bits() {
        let params = |bytes: Vec<u8>| RSAKeyParameters {
            key_type: Default::default(),
            n: URL_SAFE_NO_PAD.encode(bytes),
            e: "AQAB".into(),
        };
        assert_eq!(modulus_bits(&params(vec![0, 0x80, 0])), Some(16));
        assert_eq!(modulus_bits(&params(vec![0x01, 0])), Some(9));
        assert_eq!(modulus_bits(&params(vec![0, 0])), None);
    }

    #[test]
    fn an_ec_point_off_its_curve_is_left_out() {
        let off_curve = r#"{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA","kid":"e"}"#;
        assert_eq!(
            KeySet::parse(format!(r#"{{"keys":[{off_curve}]}}"#).as_bytes()).unwrap_err(),
            KeySetError::NoUsableKey { skipped: 1 }
        );
    }

    #[test]
    fn refused_documents() {
        assert_eq!(
            KeySet::parse(b"{\"keys\": 3}").unwrap_err(),
            KeySetError::Malformed
        );
        assert_eq!(KeySet::parse(b"[]").unwrap_err(), KeySetError::Malformed);
        assert_eq!(
            KeySet::parse(br#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#).unwrap_err(),
            KeySetError::NoUsableKey { skipped: 1 }
        );
    }

    #[test]
    fn refetch_waits_for_the_interval() {
        let set = KeySet::parse_fetched_at(
            format!(r#"{{"keys":[{}]}}"#, rsa(2048, "")).as_bytes(),
            crate::oauth::clock::at_unix(1000),
        )
        .unwrap()
        .refetch_interval(Duration::from_secs(30));
        assert_eq!(set.fetched_at(), crate::oauth::clock::at_unix(1000));
        assert!(!set.may_refetch(1029));
        assert!(set.may_refetch(1030));
        // A clock a few seconds behind the fetch: no time passed; stepped back by the interval or
        // more: as if it had, rather than waiting for the clock to catch up.
        assert!(!set.may_refetch(995));
        assert!(set.may_refetch(970));
        assert!(set.may_refetch(0));
        assert!(format!("{set:?}").contains("RS256"));
    }
}

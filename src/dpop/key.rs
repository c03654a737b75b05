//! The client's proof key: an ES256 (P-256) key pair, generated from the operating system's
//! randomness, kept as its private JWK, wiped from memory when dropped.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::FieldBytes;
use serde::ser::SerializeStruct as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::{Zeroize, Zeroizing};

use super::jwk::PublicJwk;

/// A DPoP proof key: an ES256 (P-256) key pair that the client keeps for as long as the tokens
/// bound to it (RFC 9449 §2).
///
/// Serde writes and reads its private JWK, `{"kty":"EC","crv":"P-256","x":…,"y":…,"d":…}`, so that
/// it can be stored with the tokens; reading checks that `d` is a valid scalar and that `x` and `y`
/// are its public key. Store it as a secret: whoever has it can use the tokens.
///
/// Its `Debug` shows the thumbprint only, never `d`; the private scalar is wiped when the key is
/// dropped (RustCrypto's signing key zeroizes itself).
///
/// ```
/// use workos_connect::dpop::DpopKey;
///
/// let key = DpopKey::generate();
/// let stored = serde_json::to_string(&key)?;
/// let restored: DpopKey = serde_json::from_str(&stored)?;
/// assert_eq!(restored.thumbprint(), key.thumbprint());
/// assert!(!format!("{key:?}").contains("\"d\""));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone)]
pub struct DpopKey {
    signing: SigningKey,
    public: PublicJwk,
    /// Computed once: every proof check and authorization request compares it.
    thumbprint: String,
}

/// Why a stored private JWK was refused as a [`DpopKey`]. No message quotes `d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DpopKeyError {
    /// Not `"kty":"EC"` with `"crv":"P-256"`: only ES256 keys are made and read.
    #[error("the DPoP key is not an EC P-256 JWK; store the key that DpopKey wrote")]
    NotP256,
    /// `d` is not 32 bytes of base64url, or not a scalar in the curve's range.
    #[error(
        "the DPoP key's private member `d` is not a P-256 private key (32 bytes of base64url)"
    )]
    InvalidPrivateKey,
    /// `x` and `y` are not the public key of `d`: the stored key was altered or mixed up.
    #[error(
        "the DPoP key's `x` and `y` are not the public key of its `d`; the stored key was altered"
    )]
    PublicKeyMismatch,
}

impl DpopKey {
    /// A fresh key: 32 bytes from the thread-local CSPRNG (seeded from the operating system; see
    /// [`reseed_after_fork`](crate::oauth::reseed_after_fork)), drawn again in the rare case (about
    /// 2^-32) that they are not a valid scalar.
    pub fn generate() -> DpopKey {
        loop {
            // p256's own random traits are another rand_core's, so the crate's generator draws
            // the bytes instead.
            let mut bytes = Zeroizing::new([0u8; 32]);
            rand::fill(bytes.as_mut_slice());
            if let Ok(signing) = SigningKey::from_bytes(&FieldBytes::from(*bytes)) {
                return DpopKey::from_signing_key(signing);
            }
        }
    }

    fn from_signing_key(signing: SigningKey) -> DpopKey {
        let public = PublicJwk::from_verifying_key(*signing.verifying_key());
        let thumbprint = public.thumbprint();
        DpopKey {
            signing,
            public,
            thumbprint,
        }
    }

    /// The public key, as a proof's `jwk` header carries it.
    pub fn public_jwk(&self) -> &PublicJwk {
        &self.public
    }

    /// The key's RFC 7638 thumbprint, base64url: the `jkt` that a token bound to it carries in its
    /// `cnf` claim, and the `dpop_jkt` authorization request parameter (RFC 9449 §6.1, §10).
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// An ES256 signature over `message`: `r || s`, 64 bytes (RFC 7518 §3.4). The nonce is derived
    /// from the key and message (RFC 6979), so signing needs no randomness.
    pub(super) fn sign(&self, message: &[u8]) -> [u8; 64] {
        let signature: Signature = self.signing.sign(message);
        signature.to_bytes().into()
    }

    fn from_private_jwk(jwk: &PrivateJwk) -> Result<DpopKey, DpopKeyError> {
        if jwk.kty != "EC" || jwk.crv != "P-256" {
            return Err(DpopKeyError::NotP256);
        }
        let mut d = Zeroizing::new([0u8; 32]);
        match URL_SAFE_NO_PAD.decode_slice(jwk.d.as_bytes(), d.as_mut_slice()) {
            Ok(32) => {}
            _ => return Err(DpopKeyError::InvalidPrivateKey),
        }
        let signing = SigningKey::from_bytes(&FieldBytes::from(*d))
            .map_err(|_| DpopKeyError::InvalidPrivateKey)?;
        let key = DpopKey::from_signing_key(signing);
        if key.public.x() != jwk.x || key.public.y() != jwk.y {
            return Err(DpopKeyError::PublicKeyMismatch);
        }
        Ok(key)
    }
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopKey")
            .field("jkt", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

/// Two keys are equal when their public keys are: a public key has one private key.
impl PartialEq for DpopKey {
    fn eq(&self, other: &Self) -> bool {
        self.public == other.public
    }
}

impl Eq for DpopKey {}

/// A stored private JWK as read: `d` is wiped when it is dropped.
#[derive(Deserialize)]
#[serde(remote = "Self")]
struct PrivateJwk {
    kty: String,
    crv: String,
    x: String,
    y: String,
    d: String,
}
crate::oauth::json_object::object_only!(PrivateJwk);

impl Drop for PrivateJwk {
    fn drop(&mut self) {
        self.d.zeroize();
    }
}

/// Writes the private JWK, `d` included: store it as a secret.
impl Serialize for DpopKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let scalar = Zeroizing::new(<[u8; 32]>::from(self.signing.to_bytes()));
        let mut d = Zeroizing::new(String::new());
        URL_SAFE_NO_PAD.encode_string(scalar.as_slice(), &mut d);
        let mut jwk = serializer.serialize_struct("DpopKey", 5)?;
        jwk.serialize_field("kty", "EC")?;
        jwk.serialize_field("crv", "P-256")?;
        jwk.serialize_field("x", self.public.x())?;
        jwk.serialize_field("y", self.public.y())?;
        jwk.serialize_field("d", d.as_str())?;
        jwk.end()
    }
}

/// Reads a private JWK and checks it as a P-256 key whose `x` and `y` are `d`'s public key.
impl<'de> Deserialize<'de> for DpopKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let jwk = <PrivateJwk as Deserialize>::deserialize(deserializer)?;
        DpopKey::from_private_jwk(&jwk).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_differ_and_round_trip() {
        let key = DpopKey::generate();
        assert_ne!(DpopKey::generate(), key);
        let stored = serde_json::to_value(&key).unwrap();
        assert_eq!(stored["kty"], "EC");
        assert_eq!(stored["crv"], "P-256");
        assert_eq!(stored["d"].as_str().unwrap().len(), 43);
        let restored: DpopKey = serde_json::from_value(stored).unwrap();
        assert_eq!(restored, key);
        assert_eq!(restored.thumbprint(), key.thumbprint());
        assert_eq!(restored.thumbprint().len(), 43);
    }

    #[test]
    fn debug_shows_no_private_key() {
        let key = DpopKey::generate();
        let stored = serde_json::to_value(&key).unwrap();
        let d = stored["d"].as_str().unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains(d), "{shown}");
        assert!(shown.contains(key.thumbprint()), "{shown}");
    }

    #[test]
    fn altered_keys_are_refused() {
        let key = DpopKey::generate();
        let stored = serde_json::to_value(&key).unwrap();
        let with = |name: &str, value: &str| {
            let mut altered = stored.clone();
            altered[name] = serde_json::Value::from(value);
            let error = serde_json::from_value::<DpopKey>(altered)
                .unwrap_err()
                .to_string();
            assert!(!error.contains(stored["d"].as_str().unwrap()), "{error}");
            error
        };
        assert!(with("crv", "P-384").contains("not an EC P-256"));
        assert!(with("kty", "RSA").contains("not an EC P-256"));
        assert!(with("d", "AAAA").contains("`d`"));
        // Zero and the group order are not private keys.
        assert!(with("d", &URL_SAFE_NO_PAD.encode([0u8; 32])).contains("`d`"));
        let order = "_____wAAAAD__________7zm-q2nF56E87nKwvxjJVE";
        assert!(with("d", order).contains("`d`"));
        let other = serde_json::to_value(DpopKey::generate()).unwrap();
        assert!(with("x", other["x"].as_str().unwrap()).contains("altered"));
        assert!(serde_json::from_str::<DpopKey>(r#"{"kty":"EC","crv":"P-256"}"#).is_err());
    }
}

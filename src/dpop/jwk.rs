//! The public key a proof carries in its header: an EC P-256 JWK (RFC 7517, RFC 7518 §6.2.1),
//! checked to be a point on the curve, and its RFC 7638 thumbprint; and the client's own public
//! key as the proofs it signs carry it.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use p256::ecdsa::VerifyingKey;
use p256::FieldBytes;
use serde::ser::SerializeStruct as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::es256::ProofKey;
use crate::jose::thumbprint::jwk_thumbprint;
use crate::oauth::encoding::base64url_32;

/// An EC P-256 public key as a JWK: `{"kty":"EC","crv":"P-256","x":…,"y":…}`, a point on the
/// curve. Serializes as that object, which is what a proof's `jwk` header holds.
#[derive(Clone)]
pub struct PublicJwk {
    x: String,
    y: String,
}

impl PublicJwk {
    pub(super) fn from_verifying_key(key: VerifyingKey) -> PublicJwk {
        let point = key.to_encoded_point(false);
        let coordinate = |bytes: Option<&FieldBytes>| {
            bytes
                .map(|bytes| {
                    let array: [u8; 32] = (*bytes).into();
                    String::from_utf8_lossy(&base64url_32(&array)).into_owned()
                })
                .unwrap_or_default()
        };
        PublicJwk {
            x: coordinate(point.x()),
            y: coordinate(point.y()),
        }
    }

    /// `x`, base64url.
    pub fn x(&self) -> &str {
        &self.x
    }

    /// `y`, base64url.
    pub fn y(&self) -> &str {
        &self.y
    }

    /// The RFC 7638 SHA-256 thumbprint in base64url: the `jkt` that a DPoP-bound token's
    /// `cnf` claim and an authorization request's `dpop_jkt` carry (RFC 9449 §6.1, §10).
    pub fn thumbprint(&self) -> String {
        let digest = jwk_thumbprint(&mut [
            ("crv", "P-256"),
            ("kty", "EC"),
            ("x", &self.x),
            ("y", &self.y),
        ]);
        String::from_utf8_lossy(&base64url_32(&digest)).into_owned()
    }
}

/// The key of a proof's `jwk` header: its coordinates, and the key parsed from them for the
/// proof's one signature.
pub(super) struct HeaderKey {
    x: [u8; 32],
    y: [u8; 32],
    key: ProofKey,
}

impl HeaderKey {
    /// The key, to check the proof's signature with.
    pub(super) fn key(&self) -> &ProofKey {
        &self.key
    }

    /// The RFC 7638 SHA-256 thumbprint, as bytes: the hash of
    /// `{"crv":"P-256","kty":"EC","x":…,"y":…}`, its members in that order. The coordinates were
    /// read from exactly 43 base64url symbols each, which their encoding gives back and which need
    /// no escaping in JSON.
    pub(super) fn thumbprint_digest(&self) -> [u8; 32] {
        let mut hash = Sha256::new();
        hash.update(br#"{"crv":"P-256","kty":"EC","x":""#);
        hash.update(base64url_32(&self.x));
        hash.update(br#"","y":""#);
        hash.update(base64url_32(&self.y));
        hash.update(br#""}"#);
        hash.finalize().into()
    }
}

impl fmt::Debug for HeaderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeaderKey")
            .field("crv", &"P-256")
            .field("x", &URL_SAFE_NO_PAD.encode(self.x))
            .field("y", &URL_SAFE_NO_PAD.encode(self.y))
            .finish()
    }
}

fn decode_32(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    // 43 symbols hold exactly 32 bytes; anything longer fails to fit, anything shorter is caught
    // by the length. Unpadded and with no stray bits, so that one key has one text.
    match URL_SAFE_NO_PAD.decode_slice(text, &mut out) {
        Ok(32) => Some(out),
        _ => None,
    }
}

impl PartialEq for PublicJwk {
    fn eq(&self, other: &Self) -> bool {
        self.x == other.x && self.y == other.y
    }
}

impl Eq for PublicJwk {}

impl fmt::Debug for PublicJwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicJwk")
            .field("crv", &"P-256")
            .field("x", &self.x)
            .field("y", &self.y)
            .finish()
    }
}

impl Serialize for PublicJwk {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut jwk = serializer.serialize_struct("PublicJwk", 4)?;
        jwk.serialize_field("kty", "EC")?;
        jwk.serialize_field("crv", "P-256")?;
        jwk.serialize_field("x", &self.x)?;
        jwk.serialize_field("y", &self.y)?;
        jwk.end()
    }
}

/// Why a proof's `jwk` header was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HeaderJwkFault {
    /// It holds a private member (`d`, or an RSA or symmetric key's).
    Private,
    /// It is not an EC P-256 key on the curve.
    Unsupported,
}

/// The `jwk` header's members this crate reads, and the private ones whose mere presence refuses
/// it. Derived, so that a member given twice is refused rather than one of them silently chosen.
#[derive(Deserialize)]
#[serde(remote = "Self")]
struct HeaderJwk {
    kty: String,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[serde(default, deserialize_with = "present")]
    d: bool,
    #[serde(default, deserialize_with = "present")]
    p: bool,
    #[serde(default, deserialize_with = "present")]
    q: bool,
    #[serde(default, deserialize_with = "present")]
    dp: bool,
    #[serde(default, deserialize_with = "present")]
    dq: bool,
    #[serde(default, deserialize_with = "present")]
    qi: bool,
    #[serde(default, deserialize_with = "present")]
    oth: bool,
    #[serde(default, deserialize_with = "present")]
    k: bool,
}
crate::oauth::json_object::object_only!(HeaderJwk);

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// Reads a proof header's `jwk` value: a public EC P-256 key on the curve, never one with private
/// members (RFC 9449 §4.3, check 7).
pub(super) fn parse_header_jwk(json: &str) -> Result<HeaderKey, HeaderJwkFault> {
    let jwk: HeaderJwk = crate::oauth::json_object::from_slice(json.as_bytes())
        .map_err(|_| HeaderJwkFault::Unsupported)?;
    if jwk.d || jwk.p || jwk.q || jwk.dp || jwk.dq || jwk.qi || jwk.oth || jwk.k {
        return Err(HeaderJwkFault::Private);
    }
    if jwk.kty != "EC" || jwk.crv.as_deref() != Some("P-256") {
        return Err(HeaderJwkFault::Unsupported);
    }
    let (Some(x), Some(y)) = (jwk.x, jwk.y) else {
        return Err(HeaderJwkFault::Unsupported);
    };
    let (Some(x), Some(y)) = (decode_32(&x), decode_32(&y)) else {
        return Err(HeaderJwkFault::Unsupported);
    };
    let key = ProofKey::from_coordinates(&x, &y).ok_or(HeaderJwkFault::Unsupported)?;
    Ok(HeaderKey { x, y, key })
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: &str = "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs";
    const Y: &str = "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA";

    /// RFC 9449 §6.1: the thumbprint of the example key of §4.1, as the server computes it from a
    /// proof's header and as the client does from its own key.
    #[test]
    fn rfc_9449_thumbprint() {
        let json = format!(r#"{{"kty":"EC","crv":"P-256","x":"{X}","y":"{Y}"}}"#);
        let header_key = parse_header_jwk(&json).unwrap();
        let expected = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
        assert_eq!(
            URL_SAFE_NO_PAD.encode(header_key.thumbprint_digest()),
            expected
        );
        let jwk = PublicJwk {
            x: X.to_owned(),
            y: Y.to_owned(),
        };
        assert_eq!(jwk.thumbprint(), expected);
        assert_eq!(serde_json::to_string(&jwk).unwrap(), json);
    }

    #[test]
    fn a_header_keys_thumbprint_is_the_general_one() {
        for _ in 0..8 {
            let key = super::super::DpopKey::generate();
            let public = key.public_jwk();
            let json = serde_json::to_string(public).unwrap();
            let header_key = parse_header_jwk(&json).unwrap();
            assert_eq!(
                URL_SAFE_NO_PAD.encode(header_key.thumbprint_digest()),
                key.thumbprint()
            );
        }
    }

    #[test]
    fn header_keys_must_be_public_p256_points() {
        let read = |value: serde_json::Value| parse_header_jwk(&value.to_string());
        assert!(read(serde_json::json!({"kty":"EC","crv":"P-256","x":X,"y":Y})).is_ok());
        assert_eq!(
            read(serde_json::json!({"kty":"EC","crv":"P-256","x":X,"y":Y,"d":"AAAA"})).unwrap_err(),
            HeaderJwkFault::Private
        );
        assert_eq!(
            read(serde_json::json!({"kty":"oct","k":"c2VjcmV0"})).unwrap_err(),
            HeaderJwkFault::Private
        );
        for refused in [
            serde_json::json!({"kty":"EC","crv":"P-384","x":X,"y":Y}),
            serde_json::json!({"kty":"RSA","n":"AQAB","e":"AQAB"}),
            serde_json::json!({"kty":"EC","crv":"P-256","x":X}),
            // Off the curve: y changed.
            serde_json::json!({"kty":"EC","crv":"P-256","x":X,"y":X}),
            // A coordinate one byte short.
            serde_json::json!({"kty":"EC","crv":"P-256","x":&X[..42],"y":Y}),
            serde_json::json!("not an object"),
            serde_json::json!(["EC", "P-256", X, Y]),
        ] {
            assert_eq!(
                read(refused.clone()).unwrap_err(),
                HeaderJwkFault::Unsupported,
                "{refused}"
            );
        }
    }

    #[test]
    fn a_header_key_member_given_twice_is_refused() {
        // Another reader might take the other `x`, and with it another key and thumbprint.
        let twice = format!(r#"{{"kty":"EC","crv":"P-256","x":"{Y}","x":"{X}","y":"{Y}"}}"#);
        assert_eq!(
            parse_header_jwk(&twice).unwrap_err(),
            HeaderJwkFault::Unsupported
        );
        let once = format!(r#"{{"kty":"EC","crv":"P-256","x":"{X}","y":"{Y}"}}"#);
        assert!(parse_header_jwk(&once).is_ok());
    }
}

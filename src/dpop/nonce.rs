//! Server-provided nonces (RFC 9449 §8, §9): a server that wants proofs it can date itself
//! refuses a request with `use_dpop_nonce` and a `DPoP-Nonce` header; the client signs the next
//! proof with that nonce, and keeps using it until the server hands out another.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::challenge::{DpopChallenge, DpopErrorCode};
use crate::oauth::encoding::is_nqschar;

/// A `DPoP-Nonce` value: 1 or more NQCHAR (printable ASCII but space, `"` and `\`, RFC 9449 §8.1),
/// at most [`DpopNonce::MAX_LEN`] characters.
///
/// A nonce is not a secret; its `Debug` shows it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DpopNonce(String);

/// Why a `DPoP-Nonce` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DpopNonceError {
    /// Empty, or longer than [`DpopNonce::MAX_LEN`].
    #[error("a DPoP nonce has {len} characters; it takes 1 to {max}", max = DpopNonce::MAX_LEN)]
    Length {
        /// Its length in bytes.
        len: usize,
    },
    /// A character outside NQCHAR: a space, `"`, `\`, a control or a non-ASCII character.
    #[error("a DPoP nonce has a character outside NQCHAR (printable ASCII but space, `\"` and `\\`) at byte {index}")]
    InvalidCharacter {
        /// Its byte offset.
        index: usize,
    },
}

impl DpopNonce {
    /// The longest nonce taken: servers send short ones, and a proof carries it on every request.
    pub const MAX_LEN: usize = 1024;

    /// Checks and takes a nonce.
    pub fn new(value: impl Into<String>) -> Result<DpopNonce, DpopNonceError> {
        let value = value.into();
        if value.is_empty() || value.len() > Self::MAX_LEN {
            return Err(DpopNonceError::Length { len: value.len() });
        }
        if let Some(index) = value.bytes().position(|b| !is_nqchar(b)) {
            return Err(DpopNonceError::InvalidCharacter { index });
        }
        Ok(DpopNonce(value))
    }

    /// A `DPoP-Nonce` header value, as an HTTP library gives it, surrounding spaces trimmed.
    pub fn from_header(value: &[u8]) -> Result<DpopNonce, DpopNonceError> {
        let value = value.trim_ascii();
        if let Some(index) = value.iter().position(|b| !is_nqchar(*b)) {
            return Err(DpopNonceError::InvalidCharacter { index });
        }
        // All ASCII now.
        DpopNonce::new(String::from_utf8_lossy(value).into_owned())
    }

    /// A fresh nonce for a server to hand out: 256 bits from the CSPRNG, 43 base64url characters.
    /// (A server may as well make nonces that date themselves; any NQCHAR text will do.)
    pub fn generate() -> DpopNonce {
        DpopNonce(crate::oauth::secret::generate_token())
    }

    /// A nonce this crate made of base64url characters, all NQCHAR.
    pub(super) fn from_base64url(value: String) -> DpopNonce {
        debug_assert!(DpopNonce::new(value.as_str()).is_ok());
        DpopNonce(value)
    }

    /// The nonce.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// NQCHAR of RFC 6749 Appendix A: NQSCHAR without the space.
fn is_nqchar(b: u8) -> bool {
    b != b' ' && is_nqschar(b)
}

impl fmt::Debug for DpopNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DpopNonce").field(&self.0).finish()
    }
}

impl fmt::Display for DpopNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for DpopNonce {
    type Err = DpopNonceError;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        DpopNonce::new(value)
    }
}

impl Serialize for DpopNonce {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for DpopNonce {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        DpopNonce::new(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// The one `DPoP-Nonce` header of a response (RFC 9449 §8: never more than one); none when it
/// sent none, several, or an invalid one.
pub(crate) fn one_nonce<'a>(headers: impl IntoIterator<Item = &'a [u8]>) -> Option<DpopNonce> {
    let mut headers = headers.into_iter();
    let first = headers.next()?;
    if headers.next().is_some() {
        return None;
    }
    DpopNonce::from_header(first).ok()
}

/// The nonce a token endpoint demands, when its response is one (RFC 9449 §8): a `400` whose JSON
/// error is `use_dpop_nonce`, with one valid `DPoP-Nonce` header. Sign the retried request's proof
/// with it ([`DpopProofBuilder::nonce`](super::DpopProofBuilder::nonce)); any other response is
/// `None`, to read as usual.
///
/// ```
/// use workos_connect::dpop::nonce_demanded_by_token_endpoint;
///
/// let body = br#"{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}"#;
/// let nonce = nonce_demanded_by_token_endpoint(400, body, [b"eyJ7S_zG.eyJH0-Z.HX4w-7v".as_slice()]);
/// assert_eq!(nonce.unwrap().as_str(), "eyJ7S_zG.eyJH0-Z.HX4w-7v");
/// assert!(nonce_demanded_by_token_endpoint(400, br#"{"error":"invalid_grant"}"#, [b"n".as_slice()]).is_none());
/// ```
pub fn nonce_demanded_by_token_endpoint<'a>(
    status: u16,
    body: &[u8],
    dpop_nonce: impl IntoIterator<Item = &'a [u8]>,
) -> Option<DpopNonce> {
    #[derive(Deserialize)]
    #[serde(remote = "Self")]
    struct ErrorBody {
        error: String,
    }
    crate::oauth::json_object::object_only!(ErrorBody);

    if status != 400 {
        return None;
    }
    let error: ErrorBody = crate::oauth::json_object::from_slice(body).ok()?;
    if error.error != "use_dpop_nonce" {
        return None;
    }
    one_nonce(dpop_nonce)
}

/// The nonce a resource demands, when its response is one (RFC 9449 §9): a `401` with a `DPoP`
/// challenge whose `error` is `use_dpop_nonce`, and one valid `DPoP-Nonce` header. Retry the
/// request with a new proof signed with it; any other response is `None`.
///
/// ```
/// use workos_connect::dpop::nonce_demanded_by_resource;
///
/// let challenge = br#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#;
/// let nonce = nonce_demanded_by_resource(401, [challenge.as_slice()], [b"eyJ7S_zG.eyJH0-Z.HX4w-7v".as_slice()]);
/// assert_eq!(nonce.unwrap().as_str(), "eyJ7S_zG.eyJH0-Z.HX4w-7v");
/// ```
pub fn nonce_demanded_by_resource<'a, 'b>(
    status: u16,
    www_authenticate: impl IntoIterator<Item = &'a [u8]>,
    dpop_nonce: impl IntoIterator<Item = &'b [u8]>,
) -> Option<DpopNonce> {
    if status != 401 {
        return None;
    }
    let demanded = www_authenticate.into_iter().any(|header| {
        std::str::from_utf8(header)
            .ok()
            .and_then(|header| DpopChallenge::parse(header).ok())
            .is_some_and(|challenge| challenge.error == Some(DpopErrorCode::UseDpopNonce))
    });
    if demanded {
        one_nonce(dpop_nonce)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_nqchar() {
        assert!(DpopNonce::new("eyJ7S_zG.eyJH0-Z.HX4w-7v").is_ok());
        assert!(DpopNonce::new("conformance-as-dpop-nonce").is_ok());
        assert_eq!(DpopNonce::new(""), Err(DpopNonceError::Length { len: 0 }));
        for (bad, index) in [("a b", 1), ("a\"", 1), ("\\", 0), ("a\r\n", 1), ("é", 0)] {
            assert_eq!(
                DpopNonce::new(bad),
                Err(DpopNonceError::InvalidCharacter { index }),
                "{bad:?}"
            );
        }
        assert!(DpopNonce::new("a".repeat(DpopNonce::MAX_LEN + 1)).is_err());
        assert_eq!(DpopNonce::from_header(b" abc\t").unwrap().as_str(), "abc");
        assert_eq!(DpopNonce::generate().as_str().len(), 43);
    }

    #[test]
    fn only_a_nonce_demand_yields_a_nonce() {
        let demand = br#"{"error":"use_dpop_nonce"}"#.as_slice();
        let nonce = [b"n-1".as_slice()];
        assert!(nonce_demanded_by_token_endpoint(400, demand, nonce).is_some());
        assert!(nonce_demanded_by_token_endpoint(401, demand, nonce).is_none());
        assert!(nonce_demanded_by_token_endpoint(400, b"not json", nonce).is_none());
        assert!(nonce_demanded_by_token_endpoint(400, demand, []).is_none());
        assert!(nonce_demanded_by_token_endpoint(400, demand, [b"a".as_slice(), b"b"]).is_none());
        assert!(nonce_demanded_by_token_endpoint(400, demand, [b"a b".as_slice()]).is_none());

        let challenge = br#"DPoP error="use_dpop_nonce", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#;
        assert!(nonce_demanded_by_resource(401, [challenge.as_slice()], nonce).is_some());
        assert!(nonce_demanded_by_resource(403, [challenge.as_slice()], nonce).is_none());
        // A Bearer challenge first, then the DPoP one, in one header or in two.
        let both = br#"Bearer error="invalid_token", DPoP error="use_dpop_nonce""#;
        assert!(nonce_demanded_by_resource(401, [both.as_slice()], nonce).is_some());
        let bearer = br#"Bearer error="use_dpop_nonce""#.as_slice();
        assert!(nonce_demanded_by_resource(401, [bearer], nonce).is_none());
        assert!(nonce_demanded_by_resource(401, [bearer, challenge.as_slice()], nonce).is_some());
        let other = br#"DPoP error="invalid_dpop_proof""#.as_slice();
        assert!(nonce_demanded_by_resource(401, [other], nonce).is_none());
    }
}

//! PKCE (RFC 7636) with the one method WorkOS supports, `S256`.
//!
//! PKCE is opt-in: WorkOS Connect supports it only for applications created through Dynamic Client
//! Registration, which MCP (Model Context Protocol) authorization uses. There is no `plain` method.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use crate::oauth::encoding::{base64url_32, is_unreserved, BASE64URL_32_LEN};
use crate::oauth::error::{Error, Field};
use crate::oauth::secret::{
    check_secret, constant_time_eq, generate_token, token_from, SecretBits,
};

/// The PKCE `code_verifier`: a secret the app keeps until it redeems the code (RFC 7636 section 4.1).
///
/// Only apps created through WorkOS Dynamic Client Registration (as MCP authorization uses) can use PKCE.
/// Its `Debug` shows `PkceVerifier(..)`; there is no `Display`, only [`PkceVerifier::secret`]. It is
/// wiped from memory when dropped, and compared in constant time.
///
/// ```
/// use workos_connect::PkceVerifier;
///
/// // RFC 7636 Appendix B.
/// let verifier = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")?;
/// assert_eq!(verifier.challenge().as_str(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
/// # Ok::<(), workos_connect::Error>(())
/// ```
#[derive(Clone)]
pub struct PkceVerifier {
    verifier: String,
    /// Computed once, when the verifier is made.
    challenge: S256Challenge,
}

impl PkceVerifier {
    /// The shortest verifier RFC 7636 allows.
    pub const MIN_LEN: usize = 43;
    /// The longest verifier RFC 7636 allows.
    pub const MAX_LEN: usize = 128;

    /// A fresh verifier: 256 bits from the operating-system-seeded CSPRNG, 43 base64url characters, as
    /// RFC 7636 section 4.1 recommends.
    pub fn generate() -> Self {
        Self::with_challenge(generate_token())
    }

    /// A verifier made from bits the caller drew.
    pub(crate) fn from_bits(bits: &SecretBits) -> Self {
        Self::with_challenge(token_from(bits))
    }

    fn with_challenge(verifier: String) -> Self {
        let digest: [u8; 32] = Sha256::digest(verifier.as_bytes()).into();
        let challenge = S256Challenge {
            encoded: base64url_32(&digest),
        };
        PkceVerifier {
            verifier,
            challenge,
        }
    }

    /// Takes a verifier from the caller, checked against RFC 7636 section 4.1: 43 to 128 characters of
    /// `A-Z a-z 0-9 - . _ ~`.
    pub fn new(value: impl Into<String>) -> Result<Self, Error> {
        let mut value = value.into();
        let checked = check_secret(
            Field::CodeVerifier,
            &value,
            is_unreserved,
            Self::MIN_LEN,
            Self::MAX_LEN,
        );
        if let Err(error) = checked {
            value.zeroize();
            return Err(error);
        }
        Ok(Self::with_challenge(value))
    }

    /// The verifier itself, sent as `code_verifier` in the token request.
    pub fn secret(&self) -> &str {
        &self.verifier
    }

    /// Its `S256` challenge, sent in the authorize URL.
    pub fn challenge(&self) -> S256Challenge {
        self.challenge
    }
}

/// Wipes the verifier from memory.
impl Drop for PkceVerifier {
    fn drop(&mut self) {
        self.verifier.zeroize();
    }
}

/// Compares in constant time (for a given length).
impl PartialEq for PkceVerifier {
    fn eq(&self, other: &Self) -> bool {
        constant_time_eq(self.secret(), other.secret())
    }
}

impl Eq for PkceVerifier {}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier(..)")
    }
}

impl FromStr for PkceVerifier {
    type Err = Error;
    fn from_str(value: &str) -> Result<Self, Error> {
        Self::new(value)
    }
}

impl TryFrom<String> for PkceVerifier {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Error> {
        Self::new(value)
    }
}

impl TryFrom<&str> for PkceVerifier {
    type Error = Error;
    fn try_from(value: &str) -> Result<Self, Error> {
        Self::new(value)
    }
}

/// Writes the verifier itself, so that the app can keep it in its session.
impl Serialize for PkceVerifier {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.secret())
    }
}

/// Reads a verifier and checks it as [`PkceVerifier::new`] does.
impl<'de> Deserialize<'de> for PkceVerifier {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Self::new(value).map_err(serde::de::Error::custom)
    }
}

/// The `S256` code challenge: BASE64URL-NOPAD(SHA-256(verifier)), always 43 characters. Not a secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct S256Challenge {
    encoded: [u8; BASE64URL_32_LEN],
}

impl S256Challenge {
    /// The value of `code_challenge_method` that goes with it.
    pub const METHOD: &'static str = "S256";

    /// The challenge of `verifier`.
    pub fn from_verifier(verifier: &PkceVerifier) -> Self {
        verifier.challenge()
    }

    /// The challenge as sent in `code_challenge`.
    pub fn as_str(&self) -> &str {
        // Base64url output is ASCII, so this never falls back.
        std::str::from_utf8(&self.encoded).unwrap_or_default()
    }
}

impl fmt::Debug for S256Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("S256Challenge")
            .field(&self.as_str())
            .finish()
    }
}

impl fmt::Display for S256Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for S256Challenge {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b() {
        let verifier = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        assert_eq!(
            verifier.challenge().as_str(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn verifier_length_and_alphabet() {
        assert!(PkceVerifier::new("a".repeat(43)).is_ok());
        assert!(PkceVerifier::new("~".repeat(128)).is_ok());
        assert_eq!(
            PkceVerifier::new("a".repeat(42)).unwrap_err(),
            Error::Length {
                field: Field::CodeVerifier,
                len: 42,
                min: 43,
                max: 128
            }
        );
        assert!(PkceVerifier::new("a".repeat(129)).is_err());
        let mut with_plus = "a".repeat(50);
        with_plus.insert(7, '+');
        assert_eq!(
            PkceVerifier::new(with_plus).unwrap_err(),
            Error::InvalidCharacter {
                field: Field::CodeVerifier,
                index: 7
            }
        );
    }

    #[test]
    fn generated_verifier_is_valid_and_fresh() {
        let verifier = PkceVerifier::generate();
        assert!(PkceVerifier::new(verifier.secret()).is_ok());
        assert_ne!(PkceVerifier::generate().secret(), verifier.secret());
        assert_eq!(format!("{verifier:?}"), "PkceVerifier(..)");
    }
}

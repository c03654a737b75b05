//! `state` and `nonce`: random values the app keeps secret until the callback.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::oauth::encoding::{
    base64url_32, is_unreserved, is_vschar, push_query_value, query_value_len, BASE64URL_32_LEN,
};
use crate::oauth::error::{reject_control_characters, Error, Field};

/// Bytes drawn for each generated secret: 256 bits, which base64url writes as 43 characters.
pub(crate) const GENERATED_BYTES: usize = 32;

/// Length of a generated secret in characters.
pub const GENERATED_LEN: usize = BASE64URL_32_LEN;

/// 256 random bits for one secret.
pub(crate) type SecretBits = [u8; GENERATED_BYTES];

/// Fills `bits` from the thread-local CSPRNG (ChaCha12, seeded and periodically reseeded from the
/// operating system). Each thread has its own generator, so logins on different threads share no lock;
/// see [`reseed_after_fork`] for forking servers. A login draws all its secrets in one call.
pub(crate) fn draw(bits: &mut [SecretBits]) {
    rand::fill(bits.as_flattened_mut());
}

/// A generated secret's text: `bits` as 43 base64url characters.
pub(crate) fn token_from(bits: &SecretBits) -> String {
    let mut symbols = base64url_32(bits);
    // Base64url symbols are ASCII, so this never falls back.
    let token = String::from(std::str::from_utf8(&symbols).unwrap_or_default());
    symbols.zeroize();
    token
}

/// A fresh secret's text, drawn on its own; see [`draw`].
pub(crate) fn generate_token() -> String {
    let mut bits = [[0u8; GENERATED_BYTES]];
    draw(&mut bits);
    let [bits] = &mut bits;
    let token = token_from(bits);
    bits.zeroize();
    token
}

/// Compares two secrets in time that depends on their lengths only, not on where they differ.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// Reseeds the calling thread's generator from the operating system.
///
/// Generated secrets come from a per-thread generator seeded by the operating system. A child process
/// made by `fork` inherits its parent's generator state, so a server that forks workers after drawing
/// secrets must call this in each child before its first login, or children could draw the same
/// `state`, `nonce` and verifier. Servers that start threads rather than processes need nothing.
///
/// Fails only when the operating system's random source does.
pub fn reseed_after_fork() -> std::io::Result<()> {
    rand::rng().reseed().map_err(std::io::Error::other)
}

/// Checks a caller-supplied secret: no control characters, only characters `allowed` accepts, and a
/// length within `min..=max`. Errors give positions, never characters, since the input is a secret.
pub(crate) fn check_secret(
    field: Field,
    input: &str,
    allowed: impl Fn(u8) -> bool,
    min: usize,
    max: usize,
) -> Result<(), Error> {
    // Printable ASCII that `allowed` takes is what nearly every input is, and needs no other
    // check: one pass over the bytes, rather than the character-by-character search for the first
    // fault, which each request's access token would otherwise go through.
    let plain = input
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && allowed(b));
    if !plain {
        reject_control_characters(field, input)?;
        if let Some(index) = input.bytes().position(|b| !allowed(b)) {
            return Err(Error::InvalidCharacter { field, index });
        }
    }
    // Every byte is ASCII now, so bytes count characters.
    let len = input.len();
    if len < min || len > max {
        return Err(Error::Length {
            field,
            len,
            min,
            max,
        });
    }
    Ok(())
}

/// Defines a `state`-like secret: generated, or given by the caller and checked against VSCHAR with a
/// length of 1 to 512.
macro_rules! vschar_secret {
    ($(#[$doc:meta])* $name:ident, $field:expr) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name {
            value: String,
            /// Whether the value is all RFC 3986 unreserved characters, which a query carries as they
            /// are: known when the value is made, so that building a URL need not scan it again.
            query_safe: bool,
        }

        impl $name {
            /// The shortest value accepted from a caller.
            pub const MIN_LEN: usize = 1;
            /// The longest value accepted from a caller.
            pub const MAX_LEN: usize = 512;

            /// A fresh value: 256 bits from the operating-system-seeded CSPRNG, 43 base64url characters.
            pub fn generate() -> Self {
                $name {
                    value: generate_token(),
                    query_safe: true,
                }
            }

            /// A value made from bits the caller drew; see [`draw`].
            pub(crate) fn from_bits(bits: &SecretBits) -> Self {
                $name {
                    value: token_from(bits),
                    query_safe: true,
                }
            }

            /// Takes a value from the caller, checked against RFC 6749 Appendix A: 1 to 512 characters of
            /// VSCHAR (printable ASCII, `%x20-7E`).
            pub fn new(value: impl Into<String>) -> Result<Self, Error> {
                let mut value = value.into();
                if let Err(error) =
                    check_secret($field, &value, is_vschar, Self::MIN_LEN, Self::MAX_LEN)
                {
                    value.zeroize();
                    return Err(error);
                }
                let query_safe = value.bytes().all(is_unreserved);
                Ok($name { value, query_safe })
            }

            /// Whether `received` is this value, compared in constant time (for a given length), so
            /// that response timing tells an attacker nothing about how much of a guess was right.
            pub fn matches(&self, received: &str) -> bool {
                constant_time_eq(&self.value, received)
            }

            /// The value itself. Handle with care: it is a secret until the callback.
            #[inline]
            pub fn secret(&self) -> &str {
                &self.value
            }

            /// Its length once percent-encoded as a query value.
            #[inline]
            pub(crate) fn query_len(&self) -> usize {
                if self.query_safe {
                    self.value.len()
                } else {
                    query_value_len(&self.value)
                }
            }

            /// Appends it, percent-encoded as a query value, to `out`.
            #[inline]
            pub(crate) fn push_query(&self, out: &mut String) {
                if self.query_safe {
                    out.push_str(&self.value);
                } else {
                    push_query_value(out, &self.value);
                }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(..)"))
            }
        }

        /// Wipes the value from memory.
        impl Drop for $name {
            fn drop(&mut self) {
                self.value.zeroize();
            }
        }

        /// Compares in constant time (for a given length); see [`matches`](Self::matches).
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                constant_time_eq(&self.value, &other.value)
            }
        }

        impl Eq for $name {}

        impl FromStr for $name {
            type Err = Error;
            fn from_str(value: &str) -> Result<Self, Error> {
                Self::new(value)
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(value: String) -> Result<Self, Error> {
                Self::new(value)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = Error;
            fn try_from(value: &str) -> Result<Self, Error> {
                Self::new(value)
            }
        }

        /// Writes the value itself, so that the app can keep it in its session.
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.value)
            }
        }

        /// Reads a value and checks it as [`new`](Self::new) does.
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = String::deserialize(deserializer)?;
                Self::new(value).map_err(serde::de::Error::custom)
            }
        }
    };
}

vschar_secret!(
    /// The OAuth 2.0 `state` parameter: ties the callback to the browser that started the login, against
    /// cross-site request forgery (RFC 6749 section 10.12, RFC 9700 section 2.1).
    ///
    /// Its `Debug` shows `State(..)`, never the value; there is no `Display`, only [`State::secret`].
    /// It is wiped from memory when dropped, and compared in constant time ([`State::matches`]).
    ///
    /// ```
    /// use workos_connect::State;
    ///
    /// let state = State::generate();
    /// assert_eq!(state.secret().len(), 43);
    /// assert_eq!(format!("{state:?}"), "State(..)");
    /// assert!(State::new("").is_err());
    /// ```
    State,
    Field::State
);

vschar_secret!(
    /// The OpenID Connect `nonce`: echoed in the ID token, so that a token cannot be replayed into another
    /// login (OpenID Connect Core section 3.1.2.1). WorkOS Connect requires it.
    ///
    /// Its `Debug` shows `Nonce(..)`, never the value; there is no `Display`, only [`Nonce::secret`].
    /// It is wiped from memory when dropped, and compared in constant time ([`Nonce::matches`]).
    ///
    /// ```
    /// use workos_connect::Nonce;
    ///
    /// let nonce = Nonce::new("n-0S6_WzA2Mj")?;
    /// assert_eq!(nonce.secret(), "n-0S6_WzA2Mj");
    /// assert_eq!(format!("{nonce:?}"), "Nonce(..)");
    /// # Ok::<(), workos_connect::Error>(())
    /// ```
    Nonce,
    Field::Nonce
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_values_are_43_base64url_characters() {
        let state = State::generate();
        assert_eq!(state.secret().len(), GENERATED_LEN);
        assert!(state
            .secret()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_ne!(State::generate().secret(), state.secret());
    }

    #[test]
    fn reseeding_keeps_generating_distinct_values() {
        let before = State::generate();
        reseed_after_fork().unwrap();
        let after = State::generate();
        assert_eq!(after.secret().len(), GENERATED_LEN);
        assert_ne!(before.secret(), after.secret());
    }

    #[test]
    fn caller_values_follow_vschar_and_length() {
        assert!(Nonce::new(" ~").is_ok());
        assert_eq!(
            Nonce::new("a".repeat(513)).unwrap_err(),
            Error::Length {
                field: Field::Nonce,
                len: 513,
                min: 1,
                max: 512
            }
        );
        assert!(Nonce::new("a".repeat(512)).is_ok());
        assert_eq!(
            State::new("ab\u{e9}").unwrap_err(),
            Error::InvalidCharacter {
                field: Field::State,
                index: 2
            }
        );
        assert_eq!(
            State::new("a\nb").unwrap_err(),
            Error::ControlCharacter {
                field: Field::State,
                index: 1
            }
        );
    }

    #[test]
    fn query_form_is_the_value_or_its_percent_encoding() {
        for (value, expected) in [("abc-._~", "abc-._~"), ("a b+c&", "a%20b%2Bc%26")] {
            let state = State::new(value).unwrap();
            let mut out = String::new();
            state.push_query(&mut out);
            assert_eq!(out, expected);
            assert_eq!(state.query_len(), expected.len());
        }
        let generated = Nonce::generate();
        let mut out = String::new();
        generated.push_query(&mut out);
        assert_eq!(out, generated.secret());
    }

    #[test]
    fn serde_writes_the_value_and_checks_it_on_read() {
        let state = State::new("xyz").unwrap();
        assert_eq!(serde_json::to_string(&state).unwrap(), "\"xyz\"");
        let back: State = serde_json::from_str("\"xyz\"").unwrap();
        assert_eq!(back.secret(), "xyz");
        assert!(serde_json::from_str::<State>("\"\"").is_err());
    }
}

//! `state` and `nonce`: random values the app keeps secret until the callback.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{reject_control_characters, Error, Field};

/// Bytes drawn for each generated secret: 256 bits, which base64url writes as 43 characters.
pub(crate) const GENERATED_BYTES: usize = 32;

/// Length of a generated secret in characters.
pub const GENERATED_LEN: usize = 43;

/// Draws 256 bits from the thread-local CSPRNG (ChaCha12, seeded and periodically reseeded from the
/// operating system) and writes them as base64url without padding.
pub(crate) fn generate_token() -> String {
    let mut bytes = [0u8; GENERATED_BYTES];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
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
    reject_control_characters(field, input)?;
    if let Some(index) = input.bytes().position(|b| !allowed(b)) {
        return Err(Error::InvalidCharacter { field, index });
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

/// VSCHAR of RFC 6749 Appendix A: printable ASCII, space included.
pub(crate) const fn is_vschar(b: u8) -> bool {
    matches!(b, 0x20..=0x7e)
}

/// Defines a `state`-like secret: generated, or given by the caller and checked against VSCHAR with a
/// length of 1 to 512.
macro_rules! vschar_secret {
    ($(#[$doc:meta])* $name:ident, $field:expr) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(String);

        impl $name {
            /// The shortest value accepted from a caller.
            pub const MIN_LEN: usize = 1;
            /// The longest value accepted from a caller.
            pub const MAX_LEN: usize = 512;

            /// A fresh value: 256 bits from the operating-system-seeded CSPRNG, 43 base64url characters.
            pub fn generate() -> Self {
                $name(generate_token())
            }

            /// Takes a value from the caller, checked against RFC 6749 Appendix A: 1 to 512 characters of
            /// VSCHAR (printable ASCII, `%x20-7E`).
            pub fn new(value: impl Into<String>) -> Result<Self, Error> {
                let value = value.into();
                check_secret($field, &value, is_vschar, Self::MIN_LEN, Self::MAX_LEN)?;
                Ok($name(value))
            }

            /// The value itself. Handle with care: it is a secret until the callback.
            pub fn secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(..)"))
            }
        }

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
                serializer.serialize_str(&self.0)
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
    fn serde_writes_the_value_and_checks_it_on_read() {
        let state = State::new("xyz").unwrap();
        assert_eq!(serde_json::to_string(&state).unwrap(), "\"xyz\"");
        let back: State = serde_json::from_str("\"xyz\"").unwrap();
        assert_eq!(back.secret(), "xyz");
        assert!(serde_json::from_str::<State>("\"\"").is_err());
    }
}

//! The `client_id` a client is known by at an authorization server (RFC 6749 section 2.2).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::oauth::encoding::is_vschar;
use crate::oauth::error::{reject_control_characters, Error, Field};

/// The `client_id` of a WorkOS Connect application: one or more printable ASCII characters (RFC 6749
/// Appendix A). Cheap to clone: copies share one allocation.
///
/// ```
/// use workos_connect::ClientId;
///
/// let id: ClientId = "client_01HXYZ".parse()?;
/// assert_eq!(id.as_str(), "client_01HXYZ");
/// assert!("".parse::<ClientId>().is_err());
/// # Ok::<(), workos_connect::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClientId(Arc<str>);

impl ClientId {
    /// Checks and takes a client ID.
    pub fn new(value: &str) -> Result<Self, Error> {
        if value.is_empty() {
            return Err(Error::EmptyClientId);
        }
        reject_control_characters(Field::ClientId, value)?;
        if let Some(index) = value.bytes().position(|b| !is_vschar(b)) {
            return Err(Error::InvalidCharacter {
                field: Field::ClientId,
                index,
            });
        }
        Ok(ClientId(Arc::from(value)))
    }

    /// The client ID as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Implements the string-like traits shared by [`ClientId`] and [`RedirectUri`]: they are not secrets,
/// so `Debug` and `Display` show them, and serde reads them through the same checks as `new`.
macro_rules! public_text {
    ($name:ident) => {
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name))
                    .field(&self.as_str())
                    .finish()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(value: &str) -> Result<Self, Error> {
                Self::new(value)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = Error;
            fn try_from(value: &str) -> Result<Self, Error> {
                Self::new(value)
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(value: String) -> Result<Self, Error> {
                Self::new(&value)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = String::deserialize(deserializer)?;
                Self::new(&value).map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use public_text;

public_text!(ClientId);

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn client_id_rules() {
        assert_eq!(ClientId::new(""), Err(Error::EmptyClientId));
        assert_eq!(
            ClientId::new("client_\u{202e}x"),
            Err(Error::InvalidCharacter {
                field: Field::ClientId,
                index: 7
            })
        );
    }
}

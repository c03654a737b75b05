//! Credentials issued by the authorization server or the WorkOS dashboard: the tokens of a token
//! response, a device login's device code and a confidential application's client secret. All are
//! secrets: redacted `Debug`, no `Display`, wiped on drop.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroize;

use crate::oauth::encoding::is_vschar;
use crate::oauth::error::{Error, Field};
use crate::oauth::secret::{check_secret, constant_time_eq};

/// Defines an opaque secret issued by the server or the dashboard: redacted `Debug`, no `Display`,
/// wiped on drop, compared in constant time, serde as the plain string, and held to RFC 6749's
/// `1*VSCHAR` (Appendix A) when made, read from a response or deserialized, since it is sent in a
/// header (`Authorization: Bearer`) or a form where a line break would start another header or
/// field.
macro_rules! opaque_secret {
    ($(#[$doc:meta])* $name:ident, $field:expr) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(String);

        impl $name {
            /// Checks and takes a value, e.g. one kept from an earlier response: 1 or more
            /// printable ASCII characters, `%x20-7E` (RFC 6749 Appendix A). A refused value is wiped,
            /// and the error gives a position, never the value.
            pub fn new(value: impl Into<String>) -> Result<Self, Error> {
                let mut value = value.into();
                if let Err(error) = check_secret($field, &value, is_vschar, 1, usize::MAX) {
                    value.zeroize();
                    return Err(error);
                }
                Ok($name(value))
            }

            /// The value itself.
            pub fn secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(..)"))
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                self.0.zeroize();
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                constant_time_eq(&self.0, &other.0)
            }
        }

        impl Eq for $name {}

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $name::new(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
            }
        }
    };
}

opaque_secret!(
    /// An OAuth 2.0 access token, for calls to the resource server.
    AccessToken,
    Field::AccessToken
);

impl AccessToken {
    /// Takes a value its caller already held to a narrower set than `1*VSCHAR` (RFC 6750's
    /// `b64token`, which `Authorization` is read by): the check of [`AccessToken::new`] again
    /// would be a second pass over every request's token.
    pub(crate) fn from_b64token(value: String) -> Self {
        debug_assert!(!value.is_empty() && value.bytes().all(is_vschar));
        AccessToken(value)
    }
}
opaque_secret!(
    /// The device code of a device login (RFC 8628 section 3.2): what each poll sends to prove it
    /// is the device that asked.
    DeviceCode,
    Field::DeviceCode
);
opaque_secret!(
    /// A refresh token, given when `offline_access` was requested; redeem it with
    /// [`ConnectClient::refresh_request`](crate::ConnectClient::refresh_request).
    RefreshToken,
    Field::RefreshToken
);
opaque_secret!(
    /// An OpenID Connect ID token (a JWT), not yet validated: validate it before trusting any claim in
    /// it (see the `id-token` feature).
    IdToken,
    Field::IdToken
);

/// A confidential application's client secret, from the WorkOS dashboard. Sent in the token request
/// body (`client_secret_post`), never in a URL, and never kept in a pending login.
#[derive(Clone)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Checks and takes a client secret: not empty, printable ASCII (RFC 6749 Appendix A).
    pub fn new(value: impl Into<String>) -> Result<Self, Error> {
        let mut value = value.into();
        if value.is_empty() {
            return Err(Error::EmptyClientSecret);
        }
        let checked = check_secret(Field::ClientSecret, &value, is_vschar, 1, usize::MAX);
        if let Err(error) = checked {
            value.zeroize();
            return Err(error);
        }
        Ok(ClientSecret(value))
    }

    /// The secret itself.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(..)")
    }
}

impl Drop for ClientSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_secrets_are_checked() {
        assert_eq!(ClientSecret::new("").unwrap_err(), Error::EmptyClientSecret);
        assert_eq!(
            ClientSecret::new("sk\n1").unwrap_err(),
            Error::ControlCharacter {
                field: Field::ClientSecret,
                index: 2
            }
        );
        assert_eq!(
            ClientSecret::new("sk_é").unwrap_err(),
            Error::InvalidCharacter {
                field: Field::ClientSecret,
                index: 3
            }
        );
        assert!(!format!("{:?}", ClientSecret::new("sk_1").unwrap()).contains("sk_1"));
    }

    #[test]
    fn tokens_are_held_to_vschar_since_they_reach_headers() {
        // A line break in a token would end the `Authorization` header and start another.
        assert_eq!(
            AccessToken::new("at\r\nX-Injected: 1").unwrap_err(),
            Error::ControlCharacter {
                field: Field::AccessToken,
                index: 2
            }
        );
        assert!(matches!(
            RefreshToken::new(""),
            Err(Error::Length {
                field: Field::RefreshToken,
                ..
            })
        ));
        assert!(matches!(
            IdToken::new("a.b\u{2028}.c"),
            Err(Error::InvalidCharacter {
                field: Field::IdToken,
                index: 3
            })
        ));
        assert!(DeviceCode::new("GmRh mJVv").is_ok());
        assert_eq!(AccessToken::new("a b~").unwrap().secret(), "a b~");
        let stored: Result<AccessToken, _> = serde_json::from_str("\"at\\r\\nX: 1\"");
        let error = stored.err().unwrap().to_string();
        assert!(error.contains("control character"), "{error}");
        assert!(!error.contains("X: 1"), "{error}");
    }
}

//! `login_hint` (OpenID Connect Core section 3.1.2.1): who the app thinks is logging in.

use std::fmt;
use std::str::FromStr;

use serde_with::{DeserializeFromStr, SerializeDisplay};

use crate::oauth::encoding::{is_unsafe_to_show, push_query_value, query_value_len};
use crate::oauth::error::{reject_control_characters, Error, Field};

/// A hint to the authorization server about the user logging in, usually the email address the
/// user typed into the app: the server may fill its login form with it, or pick the account.
///
/// One to [`MAX_LEN`](Self::MAX_LEN) characters of text a person could type: no control
/// characters, and none that reorder or hide what is shown (bidirectional overrides, zero-width
/// characters), since the server may show it on its login page. Errors give positions, never the
/// hint.
///
/// It names a user, so its `Debug` does not show it (nor does an
/// [`AuthorizeResponse`](crate::AuthorizeResponse)'s); [`as_str`](Self::as_str) and `Display`
/// give it.
///
/// ```
/// use workos_connect::oauth::LoginHint;
///
/// let hint: LoginHint = "ada@example.com".parse()?;
/// assert_eq!(hint.as_str(), "ada@example.com");
/// assert_eq!(format!("{hint:?}"), "LoginHint(..)");
/// assert!("".parse::<LoginHint>().is_err());
/// assert!("ada\n@example.com".parse::<LoginHint>().is_err());
/// # Ok::<(), workos_connect::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, SerializeDisplay, DeserializeFromStr)]
pub struct LoginHint(Box<str>);

impl LoginHint {
    /// The longest hint accepted, in characters: an email address is at most 254.
    pub const MAX_LEN: usize = 256;

    /// Checks and takes a hint.
    pub fn new(value: &str) -> Result<Self, Error> {
        Self::check(value)?;
        Ok(LoginHint(value.into()))
    }

    fn check(value: &str) -> Result<(), Error> {
        reject_control_characters(Field::LoginHint, value)?;
        if let Some((index, _)) = value.char_indices().find(|(_, c)| is_unsafe_to_show(*c)) {
            return Err(Error::InvalidCharacter {
                field: Field::LoginHint,
                index,
            });
        }
        let len = value.chars().count();
        if len == 0 || len > Self::MAX_LEN {
            return Err(Error::Length {
                field: Field::LoginHint,
                len,
                min: 1,
                max: Self::MAX_LEN,
            });
        }
        Ok(())
    }

    /// The hint as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The length of the hint once percent-encoded as a query value.
    pub(crate) fn query_len(&self) -> usize {
        query_value_len(&self.0)
    }

    /// Appends the hint, percent-encoded as a query value.
    pub(crate) fn push_query(&self, out: &mut String) {
        push_query_value(out, &self.0);
    }
}

impl fmt::Debug for LoginHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LoginHint(..)")
    }
}

impl fmt::Display for LoginHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for LoginHint {
    type Err = Error;

    fn from_str(value: &str) -> Result<Self, Error> {
        LoginHint::new(value)
    }
}

impl TryFrom<&str> for LoginHint {
    type Error = Error;

    fn try_from(value: &str) -> Result<Self, Error> {
        LoginHint::new(value)
    }
}

impl TryFrom<String> for LoginHint {
    type Error = Error;

    /// Takes the string without copying it once checked.
    fn try_from(value: String) -> Result<Self, Error> {
        Self::check(&value)?;
        Ok(LoginHint(value.into_boxed_str()))
    }
}

impl AsRef<str> for LoginHint {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_what_a_person_types() {
        for good in [
            "ada@example.com",
            "Ada Lovelace",
            "josé@exämple.com",
            "user_01",
            "a+b&c=d%",
        ] {
            assert_eq!(LoginHint::new(good).unwrap().as_str(), good);
            assert_eq!(LoginHint::try_from(good.to_owned()).unwrap().as_str(), good);
        }
        let longest = "é".repeat(LoginHint::MAX_LEN);
        assert!(LoginHint::new(&longest).is_ok(), "counted in characters");
    }

    #[test]
    fn refusals_say_where_and_never_quote_the_hint() {
        let length = |len| Error::Length {
            field: Field::LoginHint,
            len,
            min: 1,
            max: LoginHint::MAX_LEN,
        };
        assert_eq!(LoginHint::new(""), Err(length(0)));
        assert_eq!(LoginHint::new(&"a".repeat(257)), Err(length(257)));
        assert_eq!(
            LoginHint::new("ada\r\n@example.com"),
            Err(Error::ControlCharacter {
                field: Field::LoginHint,
                index: 3
            })
        );
        assert_eq!(
            LoginHint::try_from("ada\u{0}".to_owned()),
            Err(Error::ControlCharacter {
                field: Field::LoginHint,
                index: 3
            })
        );
        for (bad, index) in [("ada\u{202e}moc.elpmaxe@", 3), ("\u{200b}ada", 0)] {
            let error = LoginHint::new(bad).unwrap_err();
            assert_eq!(
                error,
                Error::InvalidCharacter {
                    field: Field::LoginHint,
                    index
                }
            );
            assert!(!error.to_string().contains("ada"), "{error}");
            assert!(error.to_string().contains("login_hint"), "{error}");
        }
    }

    #[test]
    fn debug_hides_it_and_the_query_value_is_sized_exactly() {
        let hint = LoginHint::new("ada lovelace+x@example.com").unwrap();
        assert_eq!(format!("{hint:?}"), "LoginHint(..)");
        assert_eq!(hint.to_string(), "ada lovelace+x@example.com");
        let mut query = String::new();
        hint.push_query(&mut query);
        assert_eq!(query, "ada%20lovelace%2Bx%40example.com");
        assert_eq!(query.len(), hint.query_len());
    }

    #[test]
    fn serde_checks_what_it_reads() {
        let hint: LoginHint = serde_json::from_str("\"ada@example.com\"").unwrap();
        assert_eq!(serde_json::to_string(&hint).unwrap(), "\"ada@example.com\"");
        assert!(serde_json::from_str::<LoginHint>("\"\"").is_err());
    }
}

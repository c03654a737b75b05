//! A security token the caller hands over for a grant: the assertion of a JWT bearer grant (RFC
//! 7523 section 2.1), the subject or actor token of a token exchange (RFC 8693), or the token a
//! token exchange issued. A secret: redacted `Debug`, no `Display`, wiped on drop.

use std::fmt;

use zeroize::Zeroize;

use crate::oauth::encoding::is_vschar;
use crate::oauth::secret::constant_time_eq;

/// A security token (a JWT, a SAML assertion in base64url, an opaque token), not read by this
/// crate: it is sent as given, in a form field, so it must be 1 or more printable ASCII
/// characters (RFC 6749 Appendix A's VSCHAR), which keeps a line break from starting another field
/// or header.
///
/// ```
/// use workos_connect::oauth::SecurityToken;
///
/// let token = SecurityToken::new("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ3b3JrbG9hZCJ9.c2ln")?;
/// assert_eq!(format!("{token:?}"), "SecurityToken(..)");
/// assert!(SecurityToken::new("a\r\nb").is_err());
/// # Ok::<(), workos_connect::oauth::SecurityTokenError>(())
/// ```
#[derive(Clone)]
pub struct SecurityToken(String);

/// Why a security token was refused; it gives a position, never the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecurityTokenError {
    /// An empty token.
    #[error("the security token is empty")]
    Empty,
    /// A character outside printable ASCII.
    #[error(
        "the security token has a character outside printable ASCII at byte {index} (RFC 6749 \
         Appendix A: 1*VSCHAR); pass the token itself, without a line break or surrounding \
         whitespace"
    )]
    InvalidCharacter {
        /// The byte offset of the first such character.
        index: usize,
    },
}

impl SecurityToken {
    /// Checks and takes a token. A refused value is wiped.
    pub fn new(value: impl Into<String>) -> Result<Self, SecurityTokenError> {
        let mut value = value.into();
        let fault = if value.is_empty() {
            Some(SecurityTokenError::Empty)
        } else {
            value
                .bytes()
                .position(|b| !is_vschar(b))
                .map(|index| SecurityTokenError::InvalidCharacter { index })
        };
        if let Some(fault) = fault {
            value.zeroize();
            return Err(fault);
        }
        Ok(SecurityToken(value))
    }

    /// The token itself.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecurityToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecurityToken(..)")
    }
}

impl Drop for SecurityToken {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl PartialEq for SecurityToken {
    fn eq(&self, other: &Self) -> bool {
        constant_time_eq(&self.0, &other.0)
    }
}

impl Eq for SecurityToken {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_vschar_and_refusals_give_positions() {
        assert_eq!(
            SecurityToken::new("").unwrap_err(),
            SecurityTokenError::Empty
        );
        assert_eq!(
            SecurityToken::new("ab\ncd").unwrap_err(),
            SecurityTokenError::InvalidCharacter { index: 2 }
        );
        assert_eq!(
            SecurityToken::new("é").unwrap_err(),
            SecurityTokenError::InvalidCharacter { index: 0 }
        );
        let token = SecurityToken::new("a.b.c").unwrap();
        assert_eq!(token.secret(), "a.b.c");
        assert!(!format!("{token:?}").contains("a.b.c"));
    }
}

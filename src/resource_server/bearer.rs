//! Reading the access token of a request (RFC 6750 section 2.1): the `Authorization: Bearer`
//! header, and nothing else.

use crate::challenge::BearerError;
use crate::credential::AccessToken;

/// Why a request carries no usable bearer token. Each maps to the status and `error` RFC 6750
/// section 3.1 gives it; none quotes the header, which may hold a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BearerTokenError {
    /// No `Authorization` header: answer 401 with a challenge and no `error` (RFC 6750 section 3.1).
    #[error("the request has no Authorization header")]
    Missing,
    /// An `Authorization` header of another scheme (`Basic`, ...): for this resource, no credential.
    #[error("the Authorization header is not a Bearer credential")]
    OtherScheme,
    /// More than one `Authorization` header: which one counts is ambiguous, so neither does.
    #[error("the request has {count} Authorization headers; send exactly one")]
    Duplicated {
        /// How many.
        count: usize,
    },
    /// `Bearer` without a token, with several, or with characters outside RFC 6750's `b64token`.
    #[error("the Bearer credential is malformed: {reason}")]
    Malformed {
        /// What is wrong, without the token's text.
        reason: &'static str,
    },
}

impl BearerTokenError {
    /// The `error` to put in the challenge: none for a request without credentials,
    /// `invalid_request` for a malformed or repeated one.
    pub fn bearer_error(&self) -> Option<BearerError> {
        match self {
            BearerTokenError::Missing | BearerTokenError::OtherScheme => None,
            BearerTokenError::Duplicated { .. } | BearerTokenError::Malformed { .. } => {
                Some(BearerError::InvalidRequest)
            }
        }
    }

    /// The `error_description` for the challenge: fixed text saying what to fix in a malformed or
    /// repeated header, never the header itself; none for a request without credentials.
    pub fn description(&self) -> Option<&'static str> {
        match self {
            BearerTokenError::Missing | BearerTokenError::OtherScheme => None,
            BearerTokenError::Duplicated { .. } => {
                Some("the request has more than one Authorization header; send exactly one")
            }
            BearerTokenError::Malformed { reason } => Some(reason),
        }
    }

    /// The HTTP status to answer with: 401 without credentials, 400 for a malformed request.
    pub fn status(&self) -> u16 {
        self.bearer_error().map_or(401, |error| error.status())
    }
}

/// The access token of a request, from all of its `Authorization` header values (as an HTTP
/// library gives them, e.g. `headers.get_all(AUTHORIZATION)`).
///
/// The scheme is case-insensitive; one or more spaces follow it, then exactly one `b64token`
/// (letters, digits, `-._~+/`, then any `=`). A token in the query string or the body is never
/// read: RFC 9700 and the MCP specification forbid the query, and a form body is the app's to
/// parse.
///
/// ```
/// use workos_connect::resource_server::{bearer_token, BearerTokenError};
///
/// let token = bearer_token([b"Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln".as_slice()])?;
/// assert_eq!(token.secret(), "eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
/// assert_eq!(bearer_token(std::iter::empty::<&[u8]>()), Err(BearerTokenError::Missing));
/// assert_eq!(bearer_token([b"Basic dXNlcjpwYXNz".as_slice()]).unwrap_err().status(), 401);
/// assert_eq!(bearer_token([b"Bearer a b".as_slice()]).unwrap_err().status(), 400);
/// # Ok::<(), BearerTokenError>(())
/// ```
pub fn bearer_token<'a>(
    authorization: impl IntoIterator<Item = &'a [u8]>,
) -> Result<AccessToken, BearerTokenError> {
    let mut values = authorization.into_iter();
    let Some(value) = values.next() else {
        return Err(BearerTokenError::Missing);
    };
    let extra = values.count();
    if extra > 0 {
        return Err(BearerTokenError::Duplicated {
            count: extra.saturating_add(1),
        });
    }
    let value = value.trim_ascii();
    let scheme_end = value.iter().position(|b| *b == b' ').unwrap_or(value.len());
    let (scheme, rest) = value.split_at(scheme_end);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return Err(BearerTokenError::OtherScheme);
    }
    let token = rest.trim_ascii_start();
    if token.is_empty() {
        return Err(BearerTokenError::Malformed {
            reason: "no token after `Bearer`",
        });
    }
    let body_end = token
        .iter()
        .position(|b| !is_b64token_char(*b))
        .unwrap_or(token.len());
    let (body, padding) = token.split_at(body_end);
    if body.is_empty() || !padding.iter().all(|b| *b == b'=') {
        return Err(BearerTokenError::Malformed {
            reason: if token.contains(&b' ') {
                "more than one token after `Bearer`"
            } else {
                "a character outside RFC 6750's b64token (letters, digits, `-._~+/`, then `=`)"
            },
        });
    }
    // A b64token is VSCHAR, so the token's own check cannot refuse it; the error is mapped all the same.
    let text = String::from_utf8_lossy(token).into_owned();
    AccessToken::new(text).map_err(|_| BearerTokenError::Malformed {
        reason: "a character outside RFC 6750's b64token (letters, digits, `-._~+/`, then `=`)",
    })
}

fn is_b64token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(value: &str) -> Result<AccessToken, BearerTokenError> {
        bearer_token([value.as_bytes()])
    }

    #[test]
    fn the_scheme_is_case_insensitive_and_the_token_exact() {
        for value in ["Bearer abc", "bearer abc", "BEARER   abc", " Bearer abc \t"] {
            assert_eq!(one(value).unwrap().secret(), "abc", "{value:?}");
        }
        assert_eq!(one("Bearer a-._~+/b==").unwrap().secret(), "a-._~+/b==");
    }

    #[test]
    fn each_fault_has_its_status() {
        let malformed = |value: &str| one(value).unwrap_err();
        for value in [
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearer a=b",
            "Bearer =",
            "Bearer a\"",
            "Bearer é",
        ] {
            let error = malformed(value);
            assert!(
                matches!(error, BearerTokenError::Malformed { .. }),
                "{value:?}: {error:?}"
            );
            assert_eq!(error.status(), 400);
            assert_eq!(error.bearer_error(), Some(BearerError::InvalidRequest));
        }
        assert_eq!(one("Basic abc"), Err(BearerTokenError::OtherScheme));
        assert_eq!(one("Bearerabc"), Err(BearerTokenError::OtherScheme));
        assert_eq!(one("").unwrap_err().status(), 401);
        let twice = bearer_token([b"Bearer a".as_slice(), b"Bearer b".as_slice()]).unwrap_err();
        assert_eq!(twice, BearerTokenError::Duplicated { count: 2 });
        assert_eq!(twice.status(), 400);
        assert!(!format!(
            "{:?} {}",
            malformed("Bearer secret-token x"),
            malformed("Bearer secret-token x")
        )
        .contains("secret"));
    }
}

//! Reading the access token of a request: the `Authorization` header, `Bearer` (RFC 6750 section
//! 2.1) or `DPoP` (RFC 9449 section 7.1), and nothing else.

use crate::oauth::challenge::BearerError;
use crate::oauth::credential::AccessToken;

/// Why a request carries no usable bearer (or DPoP) token. Each maps to the status and `error` RFC 6750
/// section 3.1 gives it; none quotes the header, which may hold a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BearerTokenError {
    /// No `Authorization` header: answer 401 with a challenge and no `error` (RFC 6750 section 3.1).
    #[error("the request has no Authorization header")]
    Missing,
    /// An `Authorization` header of another scheme (`Basic`, ...; `DPoP` for [`bearer_token`]):
    /// for this resource, no credential.
    #[error("the Authorization header is not a Bearer credential")]
    OtherScheme,
    /// More than one `Authorization` header: which one counts is ambiguous, so neither does.
    #[error("the request has {count} Authorization headers; send exactly one")]
    Duplicated {
        /// How many.
        count: usize,
    },
    /// `Bearer` (or `DPoP`) without a token, with several, or with characters outside RFC 6750's
    /// `b64token`.
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
    match authorization_token(authorization)? {
        AuthorizationToken {
            scheme: TokenScheme::Bearer,
            token,
        } => Ok(token),
        AuthorizationToken { .. } => Err(BearerTokenError::OtherScheme),
    }
}

/// The scheme an access token was sent with in `Authorization`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenScheme {
    /// `Bearer` (RFC 6750 §2.1): whoever holds the token may use it.
    Bearer,
    /// `DPoP` (RFC 9449 §7.1): the token is bound to a key, and the request's `DPoP` proof shows
    /// the sender holds it.
    Dpop,
}

impl TokenScheme {
    /// The scheme's name as written in `Authorization` and `WWW-Authenticate`.
    pub fn as_str(&self) -> &'static str {
        match self {
            TokenScheme::Bearer => "Bearer",
            TokenScheme::Dpop => "DPoP",
        }
    }
}

/// The access token of a request's `Authorization` header, with the scheme it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationToken {
    scheme: TokenScheme,
    token: AccessToken,
}

impl AuthorizationToken {
    /// The scheme: `Bearer` or `DPoP`.
    pub fn scheme(&self) -> TokenScheme {
        self.scheme
    }

    /// The access token.
    pub fn token(&self) -> &AccessToken {
        &self.token
    }

    /// The access token, taken out.
    pub fn into_token(self) -> AccessToken {
        self.token
    }
}

/// The access token of a request sent as `Bearer` (RFC 6750 §2.1) or as `DPoP` (RFC 9449 §7.1),
/// from all of its `Authorization` header values, for a resource that takes both.
///
/// The same rules as [`bearer_token`] for both schemes (a DPoP token is a `token68`, the same
/// characters as a `b64token`). A request with two `Authorization` headers, say one of each
/// scheme, is refused as [`BearerTokenError::Duplicated`]: which one counts would be ambiguous.
///
/// ```
/// use workos_connect::resource_server::{authorization_token, TokenScheme};
///
/// let sent = authorization_token([b"DPoP Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU".as_slice()])?;
/// assert_eq!(sent.scheme(), TokenScheme::Dpop);
/// assert_eq!(sent.token().secret(), "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU");
/// # Ok::<(), workos_connect::resource_server::BearerTokenError>(())
/// ```
pub fn authorization_token<'a>(
    authorization: impl IntoIterator<Item = &'a [u8]>,
) -> Result<AuthorizationToken, BearerTokenError> {
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
    let scheme = if scheme.eq_ignore_ascii_case(b"bearer") {
        TokenScheme::Bearer
    } else if scheme.eq_ignore_ascii_case(b"dpop") {
        TokenScheme::Dpop
    } else {
        return Err(BearerTokenError::OtherScheme);
    };
    let (none, several) = match scheme {
        TokenScheme::Bearer => (
            "no token after `Bearer`",
            "more than one token after `Bearer`",
        ),
        TokenScheme::Dpop => ("no token after `DPoP`", "more than one token after `DPoP`"),
    };
    let token = rest.trim_ascii_start();
    if token.is_empty() {
        return Err(BearerTokenError::Malformed { reason: none });
    }
    let body_end = token
        .iter()
        .position(|b| !is_b64token_char(*b))
        .unwrap_or(token.len());
    let (body, padding) = token.split_at(body_end);
    if body.is_empty() || !padding.iter().all(|b| *b == b'=') {
        return Err(BearerTokenError::Malformed {
            reason: if token.contains(&b' ') {
                several
            } else {
                OUTSIDE_B64TOKEN
            },
        });
    }
    // A b64token is ASCII, and within `1*VSCHAR`, the set `AccessToken::new` holds a token to.
    let malformed = BearerTokenError::Malformed {
        reason: OUTSIDE_B64TOKEN,
    };
    let text = std::str::from_utf8(token).map_err(|_| malformed)?;
    let token = AccessToken::from_b64token(text.to_owned());
    Ok(AuthorizationToken { scheme, token })
}

const OUTSIDE_B64TOKEN: &str =
    "a character outside RFC 6750's b64token (letters, digits, `-._~+/`, then `=`)";

/// The bytes of RFC 6750's `b64token` before its `=` padding, `ALPHA / DIGIT / "-" / "." / "_" /
/// "~" / "+" / "/"`, as a table: one load per byte in the scan of every request's token (half the
/// instructions of testing the ranges).
// The index runs below 256, the table's length.
#[allow(clippy::indexing_slicing)]
const B64TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] =
            c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        b += 1;
    }
    table
};

fn is_b64token_char(b: u8) -> bool {
    // Never `None`: a `u8` indexes 256 entries.
    B64TOKEN.get(usize::from(b)).copied().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(value: &str) -> Result<AccessToken, BearerTokenError> {
        bearer_token([value.as_bytes()])
    }

    #[test]
    fn the_bit_set_holds_rfc_6750s_b64token_characters() {
        for b in 0..=255u8 {
            let listed =
                matches!(b, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9') || b"-._~+/".contains(&b);
            assert_eq!(is_b64token_char(b), listed, "byte {b:#04x}");
        }
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
        assert_eq!(one("DPoP abc"), Err(BearerTokenError::OtherScheme));
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

    #[test]
    fn dpop_tokens_are_read_beside_bearer_ones() {
        let read = |value: &str| authorization_token([value.as_bytes()]);
        // RFC 9449 §7.1's example request.
        let sent = read("DPoP Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU").unwrap();
        assert_eq!(sent.scheme(), TokenScheme::Dpop);
        assert_eq!(
            sent.into_token().secret(),
            "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
        );
        for value in ["dpop abc", "DPOP   abc", " DPoP abc "] {
            let sent = read(value).unwrap();
            assert_eq!(sent.scheme(), TokenScheme::Dpop, "{value:?}");
            assert_eq!(sent.token().secret(), "abc");
        }
        assert_eq!(read("Bearer abc").unwrap().scheme(), TokenScheme::Bearer);
        assert_eq!(read("Basic abc"), Err(BearerTokenError::OtherScheme));
        assert_eq!(read("DPoPabc"), Err(BearerTokenError::OtherScheme));
        assert_eq!(
            read("DPoP a b"),
            Err(BearerTokenError::Malformed {
                reason: "more than one token after `DPoP`"
            })
        );
        assert_eq!(
            read("DPoP"),
            Err(BearerTokenError::Malformed {
                reason: "no token after `DPoP`"
            })
        );
        assert!(matches!(
            read("DPoP a,b"),
            Err(BearerTokenError::Malformed { .. })
        ));
        // Both schemes at once: neither counts.
        let both = authorization_token([b"Bearer abc".as_slice(), b"DPoP abc".as_slice()]);
        assert_eq!(both, Err(BearerTokenError::Duplicated { count: 2 }));
        assert!(!format!("{:?}", read("DPoP secret-token").unwrap()).contains("secret"));
    }
}

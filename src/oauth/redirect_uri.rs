//! The `redirect_uri` a login comes back to (RFC 6749 section 3.1.2), checked once and sent exactly
//! as given.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

use crate::oauth::client_id::public_text;
use crate::oauth::encoding::{is_uri_character, split_authority};
use crate::oauth::error::{reject_control_characters, Error, Field};
use crate::oauth::host_rules::is_loopback;

/// The `redirect_uri` a login comes back to, sent exactly as given and checked first:
///
/// - an absolute URI in the characters RFC 3986 allows (printable ASCII without spaces, quotes, angle
///   brackets, backslash, caret, backtick, braces or pipe; `%` only in `%HH` escapes), with no fragment
///   (RFC 6749 section 3.1.2) and no user name or password;
/// - `https`, or `http` only on a loopback host (127.0.0.0/8, `[::1]`, `localhost`; RFC 9700 section 2.6,
///   RFC 8252 section 7.3), always with `//` and a host in canonical form (`127.0.0.1`, not `127.1`), so
///   that the host checked here is the host every browser is sent to;
/// - or, for native apps, a private-use scheme named after a domain in reverse order, such as
///   `com.example.app:/callback` (RFC 8252 section 7.1): two or more dot-separated labels of letters,
///   digits and `-`, none empty or starting or ending with `-`, the first starting with a letter.
///   Other schemes (`javascript:`, `data:`, `mailto:`, `a.:`, ...) are refused;
/// - and a query without the parameters the authorization server adds to the callback (`code`,
///   `state`, `iss`, `error`, `error_description`, `error_uri`), which the callback could not tell
///   from the server's own.
///
/// Errors that quote the input show it redacted when it has an `@`, so that no password reaches a
/// message.
///
/// RFC 8252 section 8.3 prefers the loopback IP literals to `localhost`, which a misconfigured resolver
/// could send elsewhere; both are accepted.
///
/// The string is kept as given rather than normalised, because the token request must repeat it
/// identically (RFC 6749 section 4.1.3). Cheap to clone.
///
/// ```
/// use workos_connect::RedirectUri;
///
/// assert!("https://app.example.com/callback".parse::<RedirectUri>().is_ok());
/// assert!("http://127.0.0.1:3000/callback".parse::<RedirectUri>().is_ok());
/// assert!("com.example.app:/callback".parse::<RedirectUri>().is_ok());
/// assert!("http://app.example.com/callback".parse::<RedirectUri>().is_err());
/// assert!("https://app.example.com/callback#x".parse::<RedirectUri>().is_err());
/// assert!("javascript:alert(1)".parse::<RedirectUri>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RedirectUri(Arc<str>);

/// The parameters the authorization server adds to the redirect URI and the callback reads. A
/// redirect URI that already carried one would give every callback two of it.
const RESPONSE_PARAMETERS: [&str; 6] = [
    "code",
    "state",
    "iss",
    "error",
    "error_description",
    "error_uri",
];

/// The first response parameter in `query`, its name decoded by the parser the callback uses, so that
/// `%73tate` counts as `state`.
fn response_parameter(query: &str) -> Option<&'static str> {
    url::form_urlencoded::parse(query.as_bytes())
        .find_map(|(name, _)| RESPONSE_PARAMETERS.into_iter().find(|known| *known == name))
}

/// The scheme at the start of `value`, if the text before its first `:` has the syntax of one (RFC
/// 3986 section 3.1). User information comes after a scheme's `:`, so a scheme never holds a password.
fn raw_scheme(value: &str) -> Option<&str> {
    let (scheme, _) = value.split_once(':')?;
    let mut bytes = scheme.bytes();
    let valid = bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    valid.then_some(scheme)
}

/// Whether the raw text has user information: an `@` in the authority after `//`, or, for `http`
/// and `https`, which URL parsers read as having an authority with any number of slashes or none,
/// right after the scheme's `:`.
fn has_raw_userinfo(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let authority = if scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http") {
        rest.trim_start_matches('/')
    } else if let Some(authority) = rest.strip_prefix("//") {
        authority
    } else {
        return false;
    };
    split_authority(authority).0.contains('@')
}

/// `value` as an error message may quote it: as given, unless it has an `@`, which may follow a
/// password; then its scheme, `…` and the text from its last `@`, which a URL parser takes as the
/// end of user information.
fn redacted(value: &str) -> String {
    let Some(at) = value.rfind('@') else {
        return value.to_owned();
    };
    let after = value.get(at..).unwrap_or_default();
    match raw_scheme(value) {
        Some(scheme) => format!("{scheme}:…{after}"),
        None => format!("…{after}"),
    }
}

/// Whether a private-use scheme is a domain name in reverse order (RFC 8252 section 7.1): two or more
/// labels, none empty, of letters, digits and `-`, none starting or ending with `-`, the first
/// starting with a letter. A bare dot (`a.`, `https.`) names no domain the app could control.
fn is_reversed_domain(scheme: &str) -> bool {
    let mut labels = scheme.split('.');
    let first_is_letter = scheme.starts_with(|c: char| c.is_ascii_alphabetic());
    let two_or_more = labels.clone().nth(1).is_some();
    first_is_letter
        && two_or_more
        && labels.all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The byte offset of the first `%` that does not start a `%HH` escape.
fn bad_percent_escape(value: &str) -> Option<usize> {
    let bytes = value.as_bytes();
    bytes.iter().enumerate().find_map(|(index, b)| {
        let escape = bytes.get(index.saturating_add(1)..index.saturating_add(3));
        let valid = escape.is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit));
        (*b == b'%' && !valid).then_some(index)
    })
}

impl RedirectUri {
    /// Checks and takes a redirect URI; see the type's documentation for the rules.
    pub fn new(value: &str) -> Result<Self, Error> {
        reject_control_characters(Field::RedirectUri, value)?;
        if let Some(index) = value.bytes().position(|b| !is_uri_character(b)) {
            return Err(Error::InvalidCharacter {
                field: Field::RedirectUri,
                index,
            });
        }
        if let Some(index) = bad_percent_escape(value) {
            return Err(Error::RedirectUriPercentEncoding { index });
        }
        // Checked on the raw text, before any message quotes the input: it may hold a password.
        if has_raw_userinfo(value) {
            return Err(Error::RedirectUriUserinfo);
        }
        let url = Url::parse(value).map_err(|reason| Error::RedirectUriNotAbsolute {
            input: redacted(value),
            reason,
        })?;
        if url.fragment().is_some() {
            return Err(Error::RedirectUriFragment {
                input: redacted(value),
            });
        }
        let scheme = url.scheme();
        // The scheme is ASCII, so its length is a byte offset into `value`.
        let after_scheme = value
            .get(scheme.len().saturating_add(1)..)
            .unwrap_or_default();
        let raw_authority = after_scheme
            .strip_prefix("//")
            .map(|rest| split_authority(rest).0);
        if raw_authority.is_some_and(|authority| authority.contains('@'))
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(Error::RedirectUriUserinfo);
        }
        match scheme {
            "https" | "http" => {
                let Some(authority) = raw_authority else {
                    return Err(Error::RedirectUriMissingAuthority {
                        input: redacted(value),
                        scheme: scheme.to_owned(),
                    });
                };
                let host = url.host().ok_or_else(|| Error::RedirectUriNotAbsolute {
                    input: redacted(value),
                    reason: url::ParseError::EmptyHost,
                })?;
                let canonical = host.to_string();
                let raw_host = raw_host(authority);
                if !raw_host.eq_ignore_ascii_case(&canonical) {
                    return Err(Error::RedirectUriHostNotCanonical {
                        host: raw_host.to_owned(),
                        canonical,
                    });
                }
                if scheme == "http" && !is_loopback(&host) {
                    return Err(Error::RedirectUriInsecureHttp { host: canonical });
                }
            }
            private_use if is_reversed_domain(private_use) => {}
            other => {
                return Err(Error::RedirectUriScheme {
                    scheme: other.to_owned(),
                })
            }
        }
        if let Some(name) = url.query().and_then(response_parameter) {
            return Err(Error::RedirectUriResponseParameter { name });
        }
        Ok(RedirectUri(Arc::from(value)))
    }

    /// The redirect URI exactly as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The host part of a raw authority without user information: everything but a trailing `:port`.
fn raw_host(authority: &str) -> &str {
    match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !host.ends_with(':') => {
            host
        }
        _ => authority,
    }
}

public_text!(RedirectUri);

impl RedirectUri {
    /// The path the authorization server redirects to, as given (percent-escapes kept): the route a
    /// web app serves its callback on. `/` when the URI has no path.
    ///
    /// ```
    /// use workos_connect::RedirectUri;
    ///
    /// let uri: RedirectUri = "https://app.example.com/auth/callback?from=login".parse()?;
    /// assert_eq!(uri.path(), "/auth/callback");
    /// assert_eq!("http://127.0.0.1:3000".parse::<RedirectUri>()?.path(), "/");
    /// # Ok::<(), workos_connect::Error>(())
    /// ```
    pub fn path(&self) -> &str {
        let value = self.as_str();
        // The scheme ends at the first `:`; an authority, if any, follows `//` up to the path.
        let after_scheme = value.split_once(':').map_or(value, |(_, rest)| rest);
        let hierarchical = match after_scheme.strip_prefix("//") {
            Some(rest) => split_authority(rest).1,
            None => after_scheme,
        };
        let path = hierarchical.split(['?', '#']).next().unwrap_or_default();
        if path.is_empty() {
            "/"
        } else {
            path
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn redirect_uri_rules() {
        for ok in [
            "https://app.example.com/cb?x=1",
            "http://localhost/cb",
            "http://[::1]:8080/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(RedirectUri::new(ok).is_ok(), "{ok}");
        }
        assert!(matches!(
            RedirectUri::new("/callback"),
            Err(Error::RedirectUriNotAbsolute { .. })
        ));
        assert!(matches!(
            RedirectUri::new("javascript:alert(1)"),
            Err(Error::RedirectUriScheme { .. })
        ));
        assert_eq!(
            RedirectUri::new("http://10.0.0.1/cb").unwrap_err(),
            Error::RedirectUriInsecureHttp {
                host: "10.0.0.1".into()
            }
        );
        for (input, expected) in [
            (
                "http://localhost\\@evil.com/cb",
                Error::InvalidCharacter {
                    field: Field::RedirectUri,
                    index: 16,
                },
            ),
            ("http://user@localhost/cb", Error::RedirectUriUserinfo),
            ("https://@app.example/cb", Error::RedirectUriUserinfo),
            (
                "https:app.example/cb",
                Error::RedirectUriMissingAuthority {
                    input: "https:app.example/cb".into(),
                    scheme: "https".into(),
                },
            ),
            (
                "http:/localhost/cb",
                Error::RedirectUriMissingAuthority {
                    input: "http:/localhost/cb".into(),
                    scheme: "http".into(),
                },
            ),
            (
                "http://127.1/cb",
                Error::RedirectUriHostNotCanonical {
                    host: "127.1".into(),
                    canonical: "127.0.0.1".into(),
                },
            ),
            (
                "http://%6cocalhost/cb",
                Error::RedirectUriHostNotCanonical {
                    host: "%6cocalhost".into(),
                    canonical: "localhost".into(),
                },
            ),
            (
                "https://app.example/%zz",
                Error::RedirectUriPercentEncoding { index: 20 },
            ),
            (
                "https://app.example/%4",
                Error::RedirectUriPercentEncoding { index: 20 },
            ),
            (
                "mailto:a@b.example",
                Error::RedirectUriScheme {
                    scheme: "mailto".into(),
                },
            ),
            (
                "view-source:https://x.example/",
                Error::RedirectUriScheme {
                    scheme: "view-source".into(),
                },
            ),
        ] {
            assert_eq!(RedirectUri::new(input), Err(expected), "{input}");
        }
        for ok in [
            "http://LOCALHOST:8080/cb",
            "http://[::1]/cb",
            "https://app.example.com:443/cb?next=%2F",
            "com.example.app://callback/path",
        ] {
            assert!(RedirectUri::new(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            RedirectUri::new("https://a.example/c\tb").unwrap_err(),
            Error::ControlCharacter {
                field: Field::RedirectUri,
                index: 19
            }
        );
    }

    #[test]
    fn the_callback_path_of_each_form() {
        for (uri, path) in [
            ("https://app.example.com/cb?x=1", "/cb"),
            ("https://app.example.com", "/"),
            ("https://app.example.com?x=1", "/"),
            ("https://app.example.com?next=/cb", "/"),
            ("http://[::1]:8080/a/b%20c", "/a/b%20c"),
            ("com.example.app:/oauth2redirect", "/oauth2redirect"),
            ("com.example.app://callback/path", "/path"),
        ] {
            assert_eq!(RedirectUri::new(uri).unwrap().path(), path, "{uri}");
        }
    }

    #[test]
    fn no_password_reaches_a_message() {
        for input in [
            "https://user:pw@app.example.com/cb#x",
            "https://user:pw@app.example.com/cb",
            "https:user:pw@host/cb",
            "https:user:pw@host/cb#x",
            "https:/user:pw@host/cb#x",
            "http:user:pw@",
            "https://user:pw@",
            "https://user:pw@/cb",
            "https://:pw@app.example.com/cb",
            "https://user:pw@x@app.example.com/cb#x",
            "com.example.app://user:pw@host/cb#x",
            "com.example.app:user:pw@host/cb#x",
            "user:pw@host",
            "user:pw@host#x",
            "pw@host",
            "//user:pw@host/cb",
            "/cb?pw@x",
            "https:pw@",
            "https://app.example.com/cb?u=user:pw@x#y",
        ] {
            let error = RedirectUri::new(input).unwrap_err();
            for shown in [
                error.to_string(),
                format!("{error:?}"),
                format!("{error:#?}"),
            ] {
                assert!(!shown.contains("pw"), "{input} -> {shown}");
            }
        }
        assert_eq!(
            RedirectUri::new("https://user:pw@app.example.com/cb#x"),
            Err(Error::RedirectUriUserinfo)
        );
        assert_eq!(
            RedirectUri::new("https://user:pw@"),
            Err(Error::RedirectUriUserinfo)
        );
        assert_eq!(
            RedirectUri::new("https:user:pw@host/cb#x"),
            Err(Error::RedirectUriUserinfo)
        );
        assert_eq!(
            RedirectUri::new("https://app.example.com/cb?u=user:pw@x#y"),
            Err(Error::RedirectUriFragment {
                input: "https:…@x#y".into()
            })
        );
        assert_eq!(
            RedirectUri::new("/cb?pw@x"),
            Err(Error::RedirectUriNotAbsolute {
                input: "…@x".into(),
                reason: url::ParseError::RelativeUrlWithoutBase
            })
        );
        // Without an `@`, the input is quoted as given.
        assert_eq!(
            RedirectUri::new("https://app.example.com/cb#x"),
            Err(Error::RedirectUriFragment {
                input: "https://app.example.com/cb#x".into()
            })
        );
    }

    #[test]
    fn private_use_schemes_are_reversed_domain_names() {
        for bad in [
            "a.:/x",
            "https.://x",
            ".:/x",
            "com..example:/x",
            "com.-example:/x",
            "com.example-:/x",
            "-com.example:/x",
            "com+x.app:/cb",
            "com.ex+ample:/cb",
            "com.exa_mple:/cb",
        ] {
            let error = RedirectUri::new(bad).unwrap_err();
            match error {
                Error::RedirectUriScheme { .. } | Error::RedirectUriNotAbsolute { .. } => {}
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert_eq!(
            RedirectUri::new("a.:/x"),
            Err(Error::RedirectUriScheme {
                scheme: "a.".into()
            })
        );
        assert_eq!(
            RedirectUri::new("https.://x"),
            Err(Error::RedirectUriScheme {
                scheme: "https.".into()
            })
        );
        for ok in [
            "com.example.app:/callback",
            "com.example.app://callback/path",
            "COM.Example.App:/cb",
            "io.x-y.a1:/cb",
            "app.example:/cb",
        ] {
            assert!(RedirectUri::new(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn the_query_cannot_hold_a_callback_parameter() {
        for (input, name) in [
            ("https://app.example.com/cb?state=x", "state"),
            ("https://app.example.com/cb?%73tate=x", "state"),
            ("https://app.example.com/cb?a=1&code", "code"),
            ("https://app.example.com/cb?iss=https%3A%2F%2Fx", "iss"),
            ("http://127.0.0.1:3000/cb?next=%2F&error=", "error"),
            (
                "https://app.example.com/cb?error%5Fdescription=x",
                "error_description",
            ),
            ("com.example.app:/cb?error_uri=x", "error_uri"),
        ] {
            let error = RedirectUri::new(input).unwrap_err();
            assert_eq!(
                error,
                Error::RedirectUriResponseParameter { name },
                "{input}"
            );
            let message = error.to_string();
            assert!(message.contains(&format!("`{name}`")), "{message}");
            assert!(message.contains("authorization server adds"), "{message}");
        }
        for ok in [
            "https://app.example.com/cb?next=%2Fstate%3Dx",
            "https://app.example.com/cb?codes=1&state_x=2&x=code",
            "https://app.example.com/cb?",
            "https://app.example.com/cb/code/state",
        ] {
            assert!(RedirectUri::new(ok).is_ok(), "{ok}");
        }
    }
}

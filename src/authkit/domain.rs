//! The AuthKit domain: where a WorkOS Connect application's endpoints live, and who issues its tokens.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde_with::{DeserializeFromStr, SerializeDisplay};
use url::{Host, Url};

use crate::oauth::encoding::{is_uri_character, split_authority};
use crate::oauth::error::{reject_control_characters, Error, Field};
use crate::oauth::host_rules::is_loopback;

/// The path of the authorize endpoint on an AuthKit domain.
pub(crate) const AUTHORIZE_PATH: &str = "/oauth2/authorize";
const TOKEN_PATH: &str = "/oauth2/token";
const JWKS_PATH: &str = "/oauth2/jwks";
const DEVICE_AUTHORIZATION_PATH: &str = "/oauth2/device_authorization";
const USERINFO_PATH: &str = "/oauth2/userinfo";
/// The longest DNS label (RFC 1035 section 2.3.4).
const MAX_LABEL_LEN: usize = 63;

/// An application's AuthKit domain, `https://<subdomain>.authkit.app` or a custom domain.
///
/// Parsed from the origin, with or without a trailing slash, or from the full `/oauth2/authorize` URL.
/// It must be `https`; plain `http` is accepted only on loopback hosts (127.0.0.0/8, `[::1]`,
/// `localhost`) for local development and tests. A user name, password, query, fragment, other path or
/// port 0 is refused, and so is a host name that is not a DNS name: an empty label (`a..b`), a label
/// that starts or ends with `-`, or one longer than 63 characters. The endpoints are derived from it,
/// and it is the `iss` of the tokens the domain issues.
///
/// ```
/// use workos_connect::AuthKitDomain;
///
/// let domain: AuthKitDomain = "https://example.authkit.app/".parse()?;
/// assert_eq!(domain.issuer(), "https://example.authkit.app");
/// assert_eq!(domain.token_endpoint().as_str(), "https://example.authkit.app/oauth2/token");
/// assert!("http://example.authkit.app".parse::<AuthKitDomain>().is_err());
/// # Ok::<(), workos_connect::Error>(())
/// ```
///
/// Cheap to clone: copies share one allocation, so every pending login can carry its issuer.
#[derive(Clone, SerializeDisplay, DeserializeFromStr)]
pub struct AuthKitDomain {
    inner: Arc<Inner>,
}

struct Inner {
    /// The origin with path `/`, from which every endpoint is derived without a fallible parse.
    base: Url,
    /// The origin without a trailing slash: the token issuer.
    issuer: String,
}

impl AuthKitDomain {
    /// Parses and checks an AuthKit domain; see the type's documentation for the rules.
    pub fn parse(input: &str) -> Result<Self, Error> {
        reject_control_characters(Field::Domain, input)?;
        // Only characters RFC 3986 allows: a parser reads `\` as `/`, which would hide a path.
        // No `%` either: an AuthKit domain needs no escapes, and a parser would decode them in the host.
        if let Some(index) = input
            .bytes()
            .position(|b| !is_uri_character(b) || b == b'%')
        {
            return Err(Error::InvalidCharacter {
                field: Field::Domain,
                index,
            });
        }
        // Checked on the raw text, before any message echoes the input: it may hold a password.
        if input.contains('@') {
            return Err(Error::DomainUserinfo);
        }
        // Without this, `localhost:3000` would parse as the scheme `localhost`.
        let Some((_, after_scheme)) = input.split_once("://") else {
            return Err(Error::DomainMissingScheme {
                input: input.to_owned(),
            });
        };
        let url = Url::parse(input).map_err(|reason| Error::DomainNotUrl {
            input: input.to_owned(),
            reason,
        })?;
        let host = url.host().ok_or_else(|| Error::DomainNotUrl {
            input: input.to_owned(),
            reason: url::ParseError::EmptyHost,
        })?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&host) => {}
            "http" => {
                return Err(Error::DomainInsecureHttp {
                    host: host.to_string(),
                })
            }
            other => {
                return Err(Error::DomainScheme {
                    scheme: other.to_owned(),
                })
            }
        }
        if let Some(query) = url.query() {
            return Err(Error::DomainQuery {
                query: query.to_owned(),
            });
        }
        if let Some(fragment) = url.fragment() {
            return Err(Error::DomainFragment {
                fragment: fragment.to_owned(),
            });
        }
        // Parsers differ on odd forms (`https:///x` has host `x` to one, no host to another), so the
        // raw text must have an authority, and both its path and the parsed one must be allowed: the
        // parsed path has `..` and `.` segments resolved away.
        let (authority, raw_path) = split_authority(after_scheme);
        if authority.is_empty() {
            return Err(Error::DomainNotUrl {
                input: input.to_owned(),
                reason: url::ParseError::EmptyHost,
            });
        }
        let raw_path = raw_path.split(['?', '#']).next().unwrap_or_default();
        if !matches!(raw_path, "" | "/" | AUTHORIZE_PATH)
            || !matches!(url.path(), "/" | AUTHORIZE_PATH)
        {
            return Err(Error::DomainPath {
                path: raw_path.to_owned(),
            });
        }
        if let Host::Domain(name) = &host {
            if !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            {
                return Err(Error::DomainHost {
                    host: (*name).to_owned(),
                });
            }
            if name.ends_with('.') {
                return Err(Error::DomainTrailingDot {
                    host: (*name).to_owned(),
                });
            }
            check_labels(name)?;
        }
        // A URL parser keeps port 0, but nothing listens there: a typo, not a domain.
        if url.port() == Some(0) {
            return Err(Error::DomainPort);
        }
        let issuer = url.origin().ascii_serialization();
        let mut base = url;
        base.set_path("/");
        Ok(AuthKitDomain {
            inner: Arc::new(Inner { base, issuer }),
        })
    }

    /// The origin without a trailing slash, e.g. `https://example.authkit.app`: the `iss` of its tokens.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// `GET /oauth2/authorize`, where users are sent to log in.
    pub fn authorize_endpoint(&self) -> Url {
        self.endpoint(AUTHORIZE_PATH)
    }

    /// `POST /oauth2/token`, where codes and refresh tokens are redeemed.
    pub fn token_endpoint(&self) -> Url {
        self.endpoint(TOKEN_PATH)
    }

    /// `GET /oauth2/jwks`, the keys that sign ID tokens.
    pub fn jwks_endpoint(&self) -> Url {
        self.endpoint(JWKS_PATH)
    }

    /// `POST /oauth2/device_authorization`, where a command-line login starts (RFC 8628).
    pub fn device_authorization_endpoint(&self) -> Url {
        self.endpoint(DEVICE_AUTHORIZATION_PATH)
    }

    /// `GET /oauth2/userinfo`, the claims of the user an access token was issued to.
    pub fn userinfo_endpoint(&self) -> Url {
        self.endpoint(USERINFO_PATH)
    }

    fn endpoint(&self, path: &str) -> Url {
        let mut url = self.inner.base.clone();
        url.set_path(path);
        url
    }
}

/// Checks each label of a host name already known to hold only letters, digits, `-` and `.`: a URL
/// parser accepts `a..b`, `-a` and 64-letter labels, which no DNS name has, so the issuer built from
/// them would name no server.
fn check_labels(name: &str) -> Result<(), Error> {
    for label in name.split('.') {
        if label.is_empty() {
            return Err(Error::DomainEmptyLabel {
                host: name.to_owned(),
            });
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(Error::DomainLabelHyphen {
                host: name.to_owned(),
                label: label.to_owned(),
            });
        }
        // ASCII only by now, so bytes count characters.
        if label.len() > MAX_LABEL_LEN {
            return Err(Error::DomainLabelLength {
                host: name.to_owned(),
                len: label.len(),
                max: MAX_LABEL_LEN,
            });
        }
    }
    Ok(())
}

impl PartialEq for AuthKitDomain {
    fn eq(&self, other: &Self) -> bool {
        self.issuer() == other.issuer()
    }
}

impl Eq for AuthKitDomain {}

impl std::hash::Hash for AuthKitDomain {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.issuer().hash(state);
    }
}

impl fmt::Debug for AuthKitDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AuthKitDomain")
            .field(&self.issuer())
            .finish()
    }
}

impl fmt::Display for AuthKitDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.issuer())
    }
}

impl FromStr for AuthKitDomain {
    type Err = Error;
    fn from_str(input: &str) -> Result<Self, Error> {
        Self::parse(input)
    }
}

impl TryFrom<&str> for AuthKitDomain {
    type Error = Error;
    fn try_from(input: &str) -> Result<Self, Error> {
        Self::parse(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms_give_one_issuer() {
        for input in [
            "https://example.authkit.app",
            "https://example.authkit.app/",
            "https://example.authkit.app/oauth2/authorize",
            "https://EXAMPLE.authkit.app:443",
        ] {
            let domain = AuthKitDomain::parse(input).unwrap();
            assert_eq!(domain.issuer(), "https://example.authkit.app", "{input}");
            assert_eq!(
                domain.authorize_endpoint().as_str(),
                "https://example.authkit.app/oauth2/authorize"
            );
            assert_eq!(
                domain.jwks_endpoint().as_str(),
                "https://example.authkit.app/oauth2/jwks"
            );
        }
    }

    #[test]
    fn http_only_on_loopback() {
        for input in [
            "http://localhost:3000",
            "http://127.0.0.1:8080/",
            "http://127.3.4.5",
            "http://[::1]:9000",
        ] {
            assert!(AuthKitDomain::parse(input).is_ok(), "{input}");
        }
        assert_eq!(
            AuthKitDomain::parse("http://127.0.0.1:8080")
                .unwrap()
                .issuer(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            AuthKitDomain::parse("http://example.authkit.app").unwrap_err(),
            Error::DomainInsecureHttp {
                host: "example.authkit.app".into()
            }
        );
        assert_eq!(
            AuthKitDomain::parse("http://localhost.evil.com").unwrap_err(),
            Error::DomainInsecureHttp {
                host: "localhost.evil.com".into()
            }
        );
    }

    #[test]
    fn hosts_must_be_dns_names_and_ports_reachable() {
        let long = "a".repeat(64);
        for (input, expected) in [
            (
                "https://a..b.com".to_owned(),
                Error::DomainEmptyLabel {
                    host: "a..b.com".into(),
                },
            ),
            (
                "https://.a.com".to_owned(),
                Error::DomainEmptyLabel {
                    host: ".a.com".into(),
                },
            ),
            (
                "https://-a.com".to_owned(),
                Error::DomainLabelHyphen {
                    host: "-a.com".into(),
                    label: "-a".into(),
                },
            ),
            (
                "https://x.a-.com".to_owned(),
                Error::DomainLabelHyphen {
                    host: "x.a-.com".into(),
                    label: "a-".into(),
                },
            ),
            (
                format!("https://{long}.authkit.app"),
                Error::DomainLabelLength {
                    host: format!("{long}.authkit.app"),
                    len: 64,
                    max: 63,
                },
            ),
            ("https://x.authkit.app:0".to_owned(), Error::DomainPort),
            ("https://x.authkit.app:000".to_owned(), Error::DomainPort),
            ("http://localhost:0".to_owned(), Error::DomainPort),
        ] {
            assert_eq!(AuthKitDomain::parse(&input), Err(expected), "{input}");
        }
        for message in [
            AuthKitDomain::parse("https://a..b.com")
                .unwrap_err()
                .to_string(),
            AuthKitDomain::parse("https://a-.com")
                .unwrap_err()
                .to_string(),
            AuthKitDomain::parse(&format!("https://{long}.com"))
                .unwrap_err()
                .to_string(),
            AuthKitDomain::parse("https://x.authkit.app:0")
                .unwrap_err()
                .to_string(),
        ] {
            assert!(message.contains("; "), "says what to fix: {message}");
        }
        let longest = "a".repeat(63);
        for ok in [
            format!("https://{longest}.authkit.app"),
            "https://a-b.x--y.authkit.app".to_owned(),
            "https://1.authkit.app:1".to_owned(),
            "https://auth.example.com:65535".to_owned(),
        ] {
            assert!(AuthKitDomain::parse(&ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refused_forms() {
        assert!(matches!(
            AuthKitDomain::parse("example.authkit.app"),
            Err(Error::DomainMissingScheme { .. })
        ));
        assert!(matches!(
            AuthKitDomain::parse("ftp://example.authkit.app"),
            Err(Error::DomainScheme { .. })
        ));
        assert_eq!(
            AuthKitDomain::parse("https://u:p@example.authkit.app"),
            Err(Error::DomainUserinfo)
        );
        assert!(matches!(
            AuthKitDomain::parse("https://example.authkit.app/?a=b"),
            Err(Error::DomainQuery { .. })
        ));
        assert!(matches!(
            AuthKitDomain::parse("https://example.authkit.app/#x"),
            Err(Error::DomainFragment { .. })
        ));
        assert!(matches!(
            AuthKitDomain::parse("https://example.authkit.app/oauth2/token"),
            Err(Error::DomainPath { .. })
        ));
        assert!(matches!(
            AuthKitDomain::parse("https://"),
            Err(Error::DomainNotUrl { .. })
        ));
        assert!(matches!(
            AuthKitDomain::parse("https://example.authkit.app/oauth2/../"),
            Err(Error::DomainPath { .. })
        ));
        assert_eq!(
            AuthKitDomain::parse("https://example.authkit.app."),
            Err(Error::DomainTrailingDot {
                host: "example.authkit.app.".into()
            })
        );
        assert_eq!(
            AuthKitDomain::parse("https://a_b.authkit.app"),
            Err(Error::DomainHost {
                host: "a_b.authkit.app".into()
            })
        );
        assert!(matches!(
            AuthKitDomain::parse("https://%60"),
            Err(Error::InvalidCharacter { index: 8, .. })
        ));
        for input in ["https:///oauth2/authorize", "https:///"] {
            assert!(
                matches!(AuthKitDomain::parse(input), Err(Error::DomainNotUrl { .. })),
                "{input}"
            );
        }
        assert_eq!(
            AuthKitDomain::parse("https://a.authkit.app\\x"),
            Err(Error::InvalidCharacter {
                field: Field::Domain,
                index: 21
            })
        );
        // A password never reaches an error message, whatever else is wrong with the input.
        for input in [
            "https://user:hunter2@",
            "user:hunter2@host",
            "https://@example.authkit.app",
        ] {
            assert_eq!(AuthKitDomain::parse(input), Err(Error::DomainUserinfo));
        }
    }
}

//! One WorkOS Connect application as this crate sees it: its domain, `client_id` and `redirect_uri`.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

use crate::domain::{is_loopback, AuthKitDomain};
use crate::error::{reject_control_characters, Error, Field};
use crate::request::{push_query_value, query_value_len, AuthorizeRequest};
use crate::secret::is_vschar;

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

/// The `redirect_uri` a login comes back to, sent exactly as given and checked first:
///
/// - an absolute URI of printable ASCII without spaces, with no fragment (RFC 6749 section 3.1.2);
/// - `https`, or `http` only on a loopback host (127.0.0.0/8, `[::1]`, `localhost`; RFC 9700 section 2.6,
///   RFC 8252 section 7.3), or a private-use scheme for native apps such as `com.example.app:/callback`
///   (RFC 8252 section 7.1);
/// - never `javascript:`, `data:`, `vbscript:`, `file:`, `blob:` or `about:`, which a browser would not
///   navigate to a server with.
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
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RedirectUri(Arc<str>);

/// Schemes that execute or read locally in a browser instead of carrying a response to a server.
const FORBIDDEN_SCHEMES: [&str; 6] = ["javascript", "data", "vbscript", "file", "blob", "about"];

impl RedirectUri {
    /// Checks and takes a redirect URI; see the type's documentation for the rules.
    pub fn new(value: &str) -> Result<Self, Error> {
        reject_control_characters(Field::RedirectUri, value)?;
        if let Some(index) = value.bytes().position(|b| b == b' ' || !b.is_ascii()) {
            return Err(Error::InvalidCharacter {
                field: Field::RedirectUri,
                index,
            });
        }
        let url = Url::parse(value).map_err(|reason| Error::RedirectUriNotAbsolute {
            input: value.to_owned(),
            reason,
        })?;
        if url.fragment().is_some() {
            return Err(Error::RedirectUriFragment {
                input: value.to_owned(),
            });
        }
        let scheme = url.scheme();
        if FORBIDDEN_SCHEMES.contains(&scheme) {
            return Err(Error::RedirectUriScheme {
                scheme: scheme.to_owned(),
            });
        }
        if scheme == "http" {
            match url.host() {
                Some(host) if is_loopback(&host) => {}
                host => {
                    return Err(Error::RedirectUriInsecureHttp {
                        host: host.map(|h| h.to_string()).unwrap_or_default(),
                    })
                }
            }
        }
        Ok(RedirectUri(Arc::from(value)))
    }

    /// The redirect URI exactly as given.
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

public_text!(ClientId);
public_text!(RedirectUri);

/// A WorkOS Connect application's fixed settings, checked once and reused for every login.
///
/// Build it at start-up and share it (it is `Send + Sync`); each login then calls
/// [`authorize`](Self::authorize). The fixed part of the authorize URL is encoded here once, so a login
/// only appends its scopes and secrets.
///
/// ```
/// use workos_connect::{ConnectClient, Scope};
///
/// let client = ConnectClient::new(
///     "https://example.authkit.app".parse()?,
///     "client_01HXYZ".parse()?,
///     "https://app.example.com/callback".parse()?,
/// );
/// let (redirect, pending) = client.authorize().scopes(Scope::OpenId | Scope::Email).build()?;
/// assert!(redirect.as_str().starts_with("https://example.authkit.app/oauth2/authorize?response_type=code&"));
/// assert_eq!(pending.redirect_uri().as_str(), "https://app.example.com/callback");
/// # Ok::<(), workos_connect::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ConnectClient {
    domain: AuthKitDomain,
    client_id: ClientId,
    redirect_uri: RedirectUri,
    /// `<authorize endpoint>?response_type=code&client_id=..&redirect_uri=..&scope=`, encoded once.
    url_prefix: Box<str>,
}

impl ConnectClient {
    /// The application with these settings. Each part was checked when it was made.
    pub fn new(domain: AuthKitDomain, client_id: ClientId, redirect_uri: RedirectUri) -> Self {
        let endpoint = domain.authorize_endpoint();
        let [before_client_id, before_redirect_uri, before_scope] = [
            "?response_type=code&client_id=",
            "&redirect_uri=",
            "&scope=",
        ];
        let len = endpoint.as_str().len()
            + before_client_id.len()
            + query_value_len(client_id.as_str())
            + before_redirect_uri.len()
            + query_value_len(redirect_uri.as_str())
            + before_scope.len();
        let mut prefix = String::with_capacity(len);
        prefix.push_str(endpoint.as_str());
        prefix.push_str(before_client_id);
        push_query_value(&mut prefix, client_id.as_str());
        prefix.push_str(before_redirect_uri);
        push_query_value(&mut prefix, redirect_uri.as_str());
        prefix.push_str(before_scope);
        ConnectClient {
            domain,
            client_id,
            redirect_uri,
            url_prefix: prefix.into_boxed_str(),
        }
    }

    /// Starts an authorize request for one login: by default scope `openid`, a fresh `state` and a fresh
    /// `nonce`, no PKCE.
    pub fn authorize(&self) -> AuthorizeRequest<'_> {
        AuthorizeRequest::new(self)
    }

    /// The AuthKit domain.
    pub fn domain(&self) -> &AuthKitDomain {
        &self.domain
    }

    /// The `client_id`.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The `redirect_uri`.
    pub fn redirect_uri(&self) -> &RedirectUri {
        &self.redirect_uri
    }

    pub(crate) fn url_prefix(&self) -> &str {
        &self.url_prefix
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
        assert_eq!(
            RedirectUri::new("https://a.example/c\tb").unwrap_err(),
            Error::ControlCharacter {
                field: Field::RedirectUri,
                index: 19
            }
        );
    }

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

    #[test]
    fn prefix_encodes_the_fixed_part_once() {
        let client = ConnectClient::new(
            "https://example.authkit.app".parse().unwrap(),
            "client a&b".parse().unwrap(),
            "https://app.example.com/cb?x=1".parse().unwrap(),
        );
        assert_eq!(
            client.url_prefix(),
            "https://example.authkit.app/oauth2/authorize?response_type=code&client_id=client%20a%26b\
             &redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb%3Fx%3D1&scope="
        );
    }
}

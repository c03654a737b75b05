//! The two URLs MCP authorization names things by: an authorization server's issuer (RFC 8414) and
//! a protected resource's identifier (RFC 8707, RFC 9728). Each keeps the text it was given, which
//! is what goes on the wire and what string comparisons (RFC 9207's `iss`) use, beside the parsed
//! URL that other comparisons use.

use std::fmt;
use std::str::FromStr;

use serde_with::{DeserializeFromStr, SerializeDisplay};
use url::Url;

use crate::domain::is_https_or_loopback;

/// Why a text is not an issuer or resource identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentifierError {
    /// Not an absolute URL.
    #[error("the {kind} {input:?} is not an absolute URL: {reason}")]
    NotUrl {
        /// `issuer` or `resource`.
        kind: &'static str,
        /// The text given.
        input: String,
        /// The parser's reason.
        reason: url::ParseError,
    },
    /// Neither `https` nor `http` on a loopback host.
    #[error("the {kind} {input:?} is not https (plain http is accepted only on loopback hosts)")]
    Insecure {
        /// `issuer` or `resource`.
        kind: &'static str,
        /// The text given.
        input: String,
    },
    /// It has a fragment, which neither an issuer (RFC 8414 section 2) nor a resource (RFC 8707
    /// section 2) may have.
    #[error("the {kind} {input:?} has a fragment; remove the part from `#`")]
    Fragment {
        /// `issuer` or `resource`.
        kind: &'static str,
        /// The text given.
        input: String,
    },
    /// An issuer with a query, which RFC 8414 section 2 forbids.
    #[error("the issuer {input:?} has a query; an issuer has none (RFC 8414 section 2)")]
    Query {
        /// The text given.
        input: String,
    },
    /// A space or control character, which the URL parser would drop or encode while the text
    /// kept and sent would still hold it.
    #[error("the {kind} has a space or control character at byte {index}; an identifier has none")]
    InvalidCharacter {
        /// `issuer` or `resource`.
        kind: &'static str,
        /// Byte offset of the character.
        index: usize,
    },
    /// A user name or password in the URL.
    #[error("the {kind} has a user name or password; remove the part before `@`")]
    Userinfo {
        /// `issuer` or `resource`.
        kind: &'static str,
    },
}

fn checked(kind: &'static str, input: &str) -> Result<Url, IdentifierError> {
    // The parser silently drops tabs and line breaks, and spaces and control characters at either
    // end, so the parsed URL would not show them; the text kept (sent, compared as `iss`, shown in
    // messages) would, and could forge a log line.
    if let Some(index) = input
        .char_indices()
        .find(|(_, c)| *c == ' ' || c.is_control())
        .map(|(index, _)| index)
    {
        return Err(IdentifierError::InvalidCharacter { kind, index });
    }
    let url = Url::parse(input).map_err(|reason| IdentifierError::NotUrl {
        kind,
        input: input.to_owned(),
        reason,
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(IdentifierError::Userinfo { kind });
    }
    if !is_https_or_loopback(&url) {
        return Err(IdentifierError::Insecure {
            kind,
            input: input.to_owned(),
        });
    }
    if url.fragment().is_some() {
        return Err(IdentifierError::Fragment {
            kind,
            input: input.to_owned(),
        });
    }
    Ok(url)
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $extra:expr) => {
        $(#[$doc])*
        #[derive(Clone, SerializeDisplay, DeserializeFromStr)]
        pub struct $name {
            text: Box<str>,
            url: Url,
        }

        impl $name {
            /// Checks and takes the identifier; see the type's documentation for the rules.
            pub fn new(input: &str) -> Result<Self, IdentifierError> {
                let url = checked($kind, input)?;
                let extra: fn(&str, &Url) -> Result<(), IdentifierError> = $extra;
                extra(input, &url)?;
                Ok($name {
                    text: input.into(),
                    url,
                })
            }

            /// The identifier exactly as given, as it is sent.
            pub fn as_str(&self) -> &str {
                &self.text
            }

            /// The identifier parsed.
            pub fn url(&self) -> &Url {
                &self.url
            }
        }

        /// Equal when the parsed URLs are, so `https://h` and `https://h/` are the same.
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.url == other.url
            }
        }

        impl Eq for $name {}

        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.url.hash(state);
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.text, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.text)
            }
        }

        impl FromStr for $name {
            type Err = IdentifierError;

            fn from_str(input: &str) -> Result<Self, IdentifierError> {
                $name::new(input)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdentifierError;

            fn try_from(input: &str) -> Result<Self, IdentifierError> {
                $name::new(input)
            }
        }

        impl TryFrom<&Url> for $name {
            type Error = IdentifierError;

            fn try_from(url: &Url) -> Result<Self, IdentifierError> {
                $name::new(url.as_str())
            }
        }
    };
}

identifier!(
    /// An authorization server's issuer identifier (RFC 8414 section 2): an `https` URL (or `http` on
    /// loopback) without query or fragment. Its metadata is found from it, its tokens and RFC 9207
    /// `iss` parameters name it, and a client's registration belongs to it.
    ///
    /// ```
    /// use workos_connect::mcp::Issuer;
    ///
    /// let issuer: Issuer = "https://example.authkit.app".parse()?;
    /// assert_eq!(issuer.as_str(), "https://example.authkit.app");
    /// assert_eq!(issuer, "https://example.authkit.app/".parse()?);
    /// assert!("http://example.authkit.app".parse::<Issuer>().is_err());
    /// assert!("https://a.example/?x=1".parse::<Issuer>().is_err());
    /// # Ok::<(), workos_connect::mcp::IdentifierError>(())
    /// ```
    Issuer,
    "issuer",
    |input, url| match url.query() {
        Some(_) => Err(IdentifierError::Query {
            input: input.to_owned(),
        }),
        None => Ok(()),
    }
);

identifier!(
    /// A protected resource's identifier, the `resource` indicator of RFC 8707: an `https` URL (or
    /// `http` on loopback) without fragment, such as an MCP server's URL. Tokens requested with it
    /// are for that resource alone (their audience).
    ///
    /// The text is kept as given (an AuthKit environment refuses `resource` values it does not know
    /// letter for letter), and compared as a parsed URL.
    ///
    /// ```
    /// use workos_connect::mcp::Resource;
    ///
    /// let resource: Resource = "https://mcp.example.com/mcp".parse()?;
    /// assert_eq!(resource.as_str(), "https://mcp.example.com/mcp");
    /// assert!("https://mcp.example.com/mcp#tools".parse::<Resource>().is_err());
    /// # Ok::<(), workos_connect::mcp::IdentifierError>(())
    /// ```
    Resource,
    "resource",
    |_, _| Ok(())
);

impl Resource {
    /// The resource identifier of a server URL as a client met it: the URL without its fragment.
    /// Use it when no protected resource metadata names the resource (servers of the 2025-03-26
    /// specification).
    pub fn from_server_url(url: &Url) -> Result<Resource, IdentifierError> {
        let mut url = url.clone();
        url.set_fragment(None);
        Resource::new(url.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_text_and_compares_the_url() {
        let bare = Resource::new("http://localhost:3000").unwrap();
        assert_eq!(bare.as_str(), "http://localhost:3000");
        assert_eq!(bare, Resource::new("http://localhost:3000/").unwrap());
        assert_eq!(
            serde_json::to_string(&bare).unwrap(),
            "\"http://localhost:3000\""
        );
    }

    #[test]
    fn refuses_what_a_url_parser_would_silently_drop() {
        // The URL parser drops tabs and line breaks anywhere, and spaces and control characters at
        // either end; the text kept would still hold them, and print them in messages.
        for text in [
            "https://a.example/\nforged log line",
            "https://a.exa\tmple",
            " https://a.example",
            "https://a.example\r",
            "https://a.example/\u{7f}",
        ] {
            assert!(
                matches!(
                    Issuer::new(text),
                    Err(IdentifierError::InvalidCharacter { .. })
                ),
                "{text:?}"
            );
            assert!(Resource::new(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn refuses_what_rfc_8414_and_8707_forbid() {
        assert!(matches!(
            Issuer::new("https://u:p@a.example"),
            Err(IdentifierError::Userinfo { .. })
        ));
        assert!(matches!(
            Resource::new("http://mcp.example.com/mcp"),
            Err(IdentifierError::Insecure { .. })
        ));
        assert!(matches!(
            Resource::new("mcp.example.com"),
            Err(IdentifierError::NotUrl { .. })
        ));
        assert!(matches!(
            Issuer::new("https://a.example/#f"),
            Err(IdentifierError::Fragment { .. })
        ));
        assert!(Resource::new("https://mcp.example.com/mcp?tenant=1").is_ok());
        let server = Url::parse("http://127.0.0.1:9/mcp#x").unwrap();
        assert_eq!(
            Resource::from_server_url(&server).unwrap().as_str(),
            "http://127.0.0.1:9/mcp"
        );
    }
}

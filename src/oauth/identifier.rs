//! The two URLs MCP authorization names things by: an authorization server's issuer (RFC 8414) and
//! a protected resource's identifier (RFC 8707, RFC 9728). Each keeps the text it was given, which
//! is what goes on the wire and what string comparisons (RFC 9207's `iss`) use, beside the parsed
//! URL that other comparisons use.

use std::fmt;
use std::str::FromStr;

use serde_with::{DeserializeFromStr, SerializeDisplay};
use url::Url;

use crate::oauth::encoding::is_uri_character;
use crate::oauth::host_rules::is_https_or_loopback;

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
    /// A character RFC 3986 does not allow in a URI (a space, a control character, any non-ASCII
    /// character, `"`, `<`, `\\`, ...), which the URL parser would drop or encode while the text kept
    /// and sent would still hold it. Write an international host name in its `xn--` form and
    /// percent-encode the rest.
    #[error(
        "the {kind} has a character a URI does not allow at byte {index}; percent-encode it, \
         or write an international host name in its `xn--` form"
    )]
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
    /// Not written as a URL parser writes it: an upper-case scheme or host, a default port, `.` or
    /// `..` segments, no `//` (`https:a.example`), a host in another form (`127.1`). Identifiers
    /// are compared and sent as text (RFC 8414 section 3.3, RFC 9728 section 3.3 and the MCP
    /// specification ask for the identical value, without normalising), so one that a parser
    /// would read as another text could name the same server twice, or be sent as a value the
    /// server never issued.
    #[error("the {kind} {input:?} is not in canonical form; write it as {canonical:?}")]
    NotCanonical {
        /// `issuer` or `resource`.
        kind: &'static str,
        /// The text given.
        input: String,
        /// The same URL as a parser writes it.
        canonical: String,
    },
}

fn checked(kind: &'static str, input: &str) -> Result<Url, IdentifierError> {
    // The parser silently drops tabs and line breaks, and spaces and control characters at either
    // end, so the parsed URL would not show them; the text kept (sent, compared as `iss`, shown in
    // messages) would, and could forge a log line or, with bidirectional controls, reorder it.
    if let Some(index) = input.bytes().position(|b| !is_uri_character(b)) {
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
    if !is_canonical(input, &url) {
        return Err(IdentifierError::NotCanonical {
            kind,
            input: input.to_owned(),
            canonical: url.to_string(),
        });
    }
    Ok(url)
}

/// Whether `input` is the text the parser writes for `url`, but for the `/` it adds to an empty
/// path (`https://a.example` for `https://a.example/`), which issuers are written without (RFC
/// 8414's examples, AuthKit's own). So the two forms of one URL a parser reads alike are the only
/// two texts an identifier can have, and comparing the parsed URLs tells exactly those apart.
fn is_canonical(input: &str, url: &Url) -> bool {
    let written = url.as_str();
    if input == written {
        return true;
    }
    // Only a bare origin may drop the slash: `https://a.example?x` is not the text of any URL.
    url.path() == "/" && url.query().is_none() && written.strip_suffix('/') == Some(input)
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

        /// Equal when the parsed URLs are. Only canonical texts are taken, so this tells apart
        /// exactly the texts that differ, but for the `/` of an empty path: `https://h` and
        /// `https://h/` are the same.
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
    /// use workos_connect::oauth::Issuer;
    ///
    /// let issuer: Issuer = "https://example.authkit.app".parse()?;
    /// assert_eq!(issuer.as_str(), "https://example.authkit.app");
    /// assert_eq!(issuer, "https://example.authkit.app/".parse()?);
    /// assert!("http://example.authkit.app".parse::<Issuer>().is_err());
    /// assert!("https://a.example/?x=1".parse::<Issuer>().is_err());
    /// # Ok::<(), workos_connect::oauth::IdentifierError>(())
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
    /// use workos_connect::oauth::Resource;
    ///
    /// let resource: Resource = "https://mcp.example.com/mcp".parse()?;
    /// assert_eq!(resource.as_str(), "https://mcp.example.com/mcp");
    /// assert!("https://mcp.example.com/mcp#tools".parse::<Resource>().is_err());
    /// # Ok::<(), workos_connect::oauth::IdentifierError>(())
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
    fn takes_only_the_text_a_parser_writes() {
        // Each would be read as another text, so sending or comparing the text given would not
        // say what the parsed URL does (RFC 9728 section 3.3, RFC 8414 section 3.3).
        for (text, canonical) in [
            ("https://MCP.example.com/mcp", "https://mcp.example.com/mcp"),
            ("HTTPS://mcp.example.com/mcp", "https://mcp.example.com/mcp"),
            (
                "https://mcp.example.com/x/../mcp",
                "https://mcp.example.com/mcp",
            ),
            (
                "https://mcp.example.com/./mcp",
                "https://mcp.example.com/mcp",
            ),
            (
                "https://mcp.example.com/x/%2e%2e/mcp",
                "https://mcp.example.com/mcp",
            ),
            (
                "https://mcp.example.com:443/mcp",
                "https://mcp.example.com/mcp",
            ),
            ("http://127.1:3000/mcp", "http://127.0.0.1:3000/mcp"),
            ("https:a.example", "https://a.example/"),
            ("https:/a.example", "https://a.example/"),
            ("https:///a.example", "https://a.example/"),
            ("https://a.example:/mcp", "https://a.example/mcp"),
            ("https://a.example?x=1", "https://a.example/?x=1"),
        ] {
            assert_eq!(
                Resource::new(text).unwrap_err(),
                IdentifierError::NotCanonical {
                    kind: "resource",
                    input: text.to_owned(),
                    canonical: canonical.to_owned()
                },
                "{text}"
            );
        }
        assert!(matches!(
            Issuer::new("https:a.example"),
            Err(IdentifierError::NotCanonical { .. })
        ));
        // The two texts of a bare origin, and what a parser leaves as it is.
        for text in [
            "https://a.example",
            "https://a.example/",
            "https://a.example/tenant/",
            "https://mcp.example.com/mcp?tenant=1",
            "https://mcp.example.com/%7Euser",
            "http://[::1]:3000/mcp",
            "https://xn--bcher-kva.example/mcp",
        ] {
            assert_eq!(Resource::new(text).unwrap().as_str(), text);
        }
        // Not ASCII, or not a URI character: an international host goes in its `xn--` form, and
        // a bidirectional control could reorder what a log shows.
        for text in [
            "https://bücher.example/mcp",
            "https://a.example/\u{202e}pm",
            "https://a.example/\"x\"",
            "https://a.example/a\\b",
        ] {
            assert!(
                matches!(
                    Resource::new(text),
                    Err(IdentifierError::InvalidCharacter { .. })
                ),
                "{text:?}"
            );
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

//! Token type identifiers (RFC 8693 section 3): what a subject, actor, requested or issued token
//! is, named by a URI.

use std::fmt;
use std::str::FromStr;

use url::Url;

/// A token type identifier (RFC 8693 section 3): what a subject, actor, requested or issued token
/// is.
///
/// ```
/// use workos_connect::oauth::TokenType;
///
/// let id_jag: TokenType = "urn:ietf:params:oauth:token-type:id-jag".parse()?;
/// assert_eq!(id_jag, TokenType::IdJag);
/// // The `urn` scheme and the NID are case-insensitive (RFC 8141 §3.1).
/// assert_eq!("URN:IETF:params:oauth:token-type:id-jag".parse::<TokenType>()?, TokenType::IdJag);
/// assert_eq!(TokenType::IdToken.as_str(), "urn:ietf:params:oauth:token-type:id_token");
/// assert!("id_token".parse::<TokenType>().is_err());
/// assert!("https://trusted@evil.example/type".parse::<TokenType>().is_err());
/// # Ok::<(), workos_connect::oauth::TokenTypeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenType {
    /// `urn:ietf:params:oauth:token-type:access_token`: an OAuth 2.0 access token.
    AccessToken,
    /// `urn:ietf:params:oauth:token-type:refresh_token`: an OAuth 2.0 refresh token.
    RefreshToken,
    /// `urn:ietf:params:oauth:token-type:id_token`: an OpenID Connect ID token.
    IdToken,
    /// `urn:ietf:params:oauth:token-type:jwt`: a JWT of any kind.
    Jwt,
    /// `urn:ietf:params:oauth:token-type:saml1`: a base64url SAML 1.1 assertion.
    Saml1,
    /// `urn:ietf:params:oauth:token-type:saml2`: a base64url SAML 2.0 assertion.
    Saml2,
    /// `urn:ietf:params:oauth:token-type:id-jag`: an Identity Assertion JWT Authorization Grant,
    /// redeemed with the JWT bearer grant at the resource's authorization server (MCP
    /// enterprise-managed authorization, SEP-990).
    IdJag,
    /// Another URN, or an `https` or `http` URL, as given: made only by the parser.
    Other(OtherTokenType),
}

/// A token type identifier that is not one of [`TokenType`]'s registered ones: a URN or an
/// `http(s)` URL of at most [`TokenType::MAX_LEN`] bytes, as the parser took it. It cannot be made
/// otherwise, so that every `TokenType` held passed the parser's checks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OtherTokenType(Box<str>);

impl OtherTokenType {
    /// The identifier as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OtherTokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) const KNOWN: [(TokenType, &str); 7] = [
    (
        TokenType::AccessToken,
        "urn:ietf:params:oauth:token-type:access_token",
    ),
    (
        TokenType::RefreshToken,
        "urn:ietf:params:oauth:token-type:refresh_token",
    ),
    (
        TokenType::IdToken,
        "urn:ietf:params:oauth:token-type:id_token",
    ),
    (TokenType::Jwt, "urn:ietf:params:oauth:token-type:jwt"),
    (TokenType::Saml1, "urn:ietf:params:oauth:token-type:saml1"),
    (TokenType::Saml2, "urn:ietf:params:oauth:token-type:saml2"),
    (TokenType::IdJag, "urn:ietf:params:oauth:token-type:id-jag"),
];

impl TokenType {
    /// The longest identifier taken, in bytes: the registered ones are under 50, and a server's
    /// longer one would only bloat the errors that name it.
    pub const MAX_LEN: usize = 256;

    /// The identifier as sent.
    pub fn as_str(&self) -> &str {
        if let TokenType::Other(uri) = self {
            return uri.as_str();
        }
        KNOWN
            .iter()
            .find(|(kind, _)| kind == self)
            .map_or("", |(_, uri)| uri)
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TokenType {
    type Err = TokenTypeError;

    /// A registered URN, or another identifier of printable ASCII (RFC 8693 section 3), at most
    /// [`MAX_LEN`](TokenType::MAX_LEN) bytes, that is a URN (`urn:<NID>:<NSS>`, RFC 8141) or an
    /// `https` or `http` URL with a host and no user information. Other schemes are refused: a
    /// token type names a kind of token, and `javascript:`, `data:` or `file:` name none, but
    /// would be live if a page ever showed or linked the value. A registered URN is recognised
    /// whatever the case of its `urn` scheme and NID, which RFC 8141 section 3.1 compares
    /// case-insensitively; its NSS is compared exactly.
    fn from_str(uri: &str) -> Result<Self, TokenTypeError> {
        if let Some((kind, _)) = KNOWN.iter().find(|(_, known)| same_urn(known, uri)) {
            return Ok(kind.clone());
        }
        let printable = !uri.is_empty() && uri.bytes().all(|b| b.is_ascii_graphic());
        if uri.len() > TokenType::MAX_LEN || !printable || !is_token_type_uri(uri) {
            return Err(TokenTypeError {
                uri: uri.chars().filter(|c| !c.is_control()).take(100).collect(),
            });
        }
        Ok(TokenType::Other(OtherTokenType(uri.into())))
    }
}

/// Whether `uri` is the registered `known` URN (`urn:ietf:...`), the scheme and NID in any case.
fn same_urn(known: &str, uri: &str) -> bool {
    const PREFIX: usize = "urn:ietf:".len();
    match (known.split_at_checked(PREFIX), uri.split_at_checked(PREFIX)) {
        (Some((known_prefix, known_nss)), Some((prefix, nss))) => {
            prefix.eq_ignore_ascii_case(known_prefix) && nss == known_nss
        }
        _ => false,
    }
}

/// A URN with a namespace identifier and a specific string (RFC 8141 section 2), or an `http(s)`
/// URL with a host and no user information (RFC 3986 section 3; RFC 9110 section 4.2).
fn is_token_type_uri(uri: &str) -> bool {
    let Some((scheme, rest)) = uri.split_once(':') else {
        return false;
    };
    if scheme.eq_ignore_ascii_case("urn") {
        let Some((nid, nss)) = rest.split_once(':') else {
            return false;
        };
        let nid_bytes = nid.as_bytes();
        return (2..=32).contains(&nid_bytes.len())
            && nid_bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            && nid_bytes.first().is_some_and(u8::is_ascii_alphanumeric)
            && nid_bytes.last().is_some_and(u8::is_ascii_alphanumeric)
            && is_nss(nss);
    }
    // The URL parser would read `https:host` and `https:///host` as `https://host/`. User
    // information is refused in the text, not only in the parsed URL: `https://trusted@evil`
    // reads as `trusted` to a person, and `https://@evil` parses with an empty user.
    (scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http"))
        && rest.strip_prefix("//").is_some_and(|after| {
            let authority = after.split(['/', '?', '#']).next().unwrap_or_default();
            !authority.is_empty() && !authority.contains('@')
        })
        && Url::parse(uri).is_ok_and(|url| {
            url.host().is_some() && url.username().is_empty() && url.password().is_none()
        })
}

/// An RFC 8141 NSS: `pchar *(pchar / "/")`, a `pchar` being an unreserved character, a
/// sub-delimiter, `:`, `@` or a `%` and two hex digits (RFC 3986 section 3.3). No `?` or `#`: a
/// token type is a name, with no query or fragment components.
fn is_nss(nss: &str) -> bool {
    let bytes = nss.as_bytes();
    if bytes.first().is_none_or(|first| *first == b'/') {
        return false;
    }
    let mut rest = bytes;
    while let Some((&byte, tail)) = rest.split_first() {
        rest = tail;
        match byte {
            b'%' => match rest {
                [high, low, tail @ ..] if high.is_ascii_hexdigit() && low.is_ascii_hexdigit() => {
                    rest = tail;
                }
                _ => return false,
            },
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => {}
            b'-' | b'.' | b'_' | b'~' => {}
            b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' => {}
            b':' | b'@' | b'/' => {}
            _ => return false,
        }
    }
    true
}

/// A token type identifier that is not a URN or an `http(s)` URL with a host (RFC 8693 section 3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "token type {uri:?} is not a URN or an http(s) URL; use one of RFC 8693's \
     urn:ietf:params:oauth:token-type:... identifiers"
)]
#[non_exhaustive]
pub struct TokenTypeError {
    /// The text given, without control characters, at most 100 of its characters.
    pub uri: String,
}

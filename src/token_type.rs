//! Token type identifiers (RFC 8693 section 3): what a subject, actor, requested or issued token
//! is, named by a URI.

use std::fmt;
use std::str::FromStr;

use url::Url;

/// A token type identifier (RFC 8693 section 3): what a subject, actor, requested or issued token
/// is.
///
/// ```
/// use workos_connect::TokenType;
///
/// let id_jag: TokenType = "urn:ietf:params:oauth:token-type:id-jag".parse()?;
/// assert_eq!(id_jag, TokenType::IdJag);
/// assert_eq!(TokenType::IdToken.as_str(), "urn:ietf:params:oauth:token-type:id_token");
/// assert!("id_token".parse::<TokenType>().is_err());
/// # Ok::<(), workos_connect::TokenTypeError>(())
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
    /// Another URN, or an `https` or `http` URL, as given.
    Other(Box<str>),
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
    /// The identifier as sent.
    pub fn as_str(&self) -> &str {
        if let TokenType::Other(uri) = self {
            return uri;
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

    /// A registered URN, or another identifier of printable ASCII (RFC 8693 section 3) that is a
    /// URN (`urn:<NID>:<NSS>`, RFC 8141) or an `https` or `http` URL with a host. Other schemes
    /// are refused: a token type names a kind of token, and `javascript:`, `data:` or `file:`
    /// name none, but would be live if a page ever showed or linked the value.
    fn from_str(uri: &str) -> Result<Self, TokenTypeError> {
        if let Some((kind, _)) = KNOWN.iter().find(|(_, known)| *known == uri) {
            return Ok(kind.clone());
        }
        let printable = !uri.is_empty() && uri.bytes().all(|b| b.is_ascii_graphic());
        if !printable || !is_token_type_uri(uri) {
            return Err(TokenTypeError {
                uri: uri.chars().filter(|c| !c.is_control()).take(100).collect(),
            });
        }
        Ok(TokenType::Other(uri.into()))
    }
}

/// A URN with a namespace identifier and a specific string (RFC 8141 section 2), or an `http(s)`
/// URL with a host (RFC 3986 section 3; RFC 9110 section 4.2).
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
            && !nss.is_empty();
    }
    // The URL parser would read `https:host` and `https:///host` as `https://host/`.
    (scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http"))
        && rest
            .strip_prefix("//")
            .is_some_and(|authority| !authority.starts_with('/'))
        && Url::parse(uri).is_ok_and(|url| url.host().is_some())
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

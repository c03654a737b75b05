//! `WWW-Authenticate` challenges (RFC 9110 section 11.6.1), and the `Bearer` one a protected
//! resource answers a request without a valid token with (RFC 6750 section 3, RFC 9728 section 5.1).

use std::fmt;

use url::Url;

use crate::oauth::host_rules::is_https_or_loopback;

/// One challenge of a `WWW-Authenticate` header: its scheme, then either a token68 or parameters.
///
/// Parameter names are kept in lower case (they are case-insensitive); values are unquoted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Challenge {
    /// The authentication scheme, as sent (`Bearer`, `Basic`, ...).
    pub scheme: String,
    /// The token68 that some schemes carry instead of parameters.
    pub token68: Option<String>,
    /// The parameters, in order, names in lower case.
    pub params: Vec<(String, String)>,
}

/// Why a `WWW-Authenticate` header or its `Bearer` challenge was refused. Positions are byte offsets
/// into the header; untrusted text is shown escaped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChallengeError {
    /// The header holds no challenge at all.
    #[error("the WWW-Authenticate header holds no challenge")]
    Empty,
    /// A character the grammar does not allow where it stands.
    #[error("the WWW-Authenticate header has an unexpected character at byte {index}")]
    UnexpectedCharacter {
        /// Its byte offset.
        index: usize,
    },
    /// A quoted string that never ends.
    #[error(
        "the WWW-Authenticate header has a quoted string from byte {index} that is never closed"
    )]
    UnterminatedQuote {
        /// Where the string starts.
        index: usize,
    },
    /// A parameter with `=` but no value.
    #[error("the WWW-Authenticate parameter {name:?} has no value")]
    MissingValue {
        /// The parameter.
        name: String,
    },
    /// The challenge carries a token68 (such as `error=`) where RFC 6750 and RFC 9449 have
    /// parameters.
    #[error("the {scheme} challenge carries a bare token where parameters (`name=value`) belong")]
    UnexpectedToken68 {
        /// The scheme, `Bearer` or `DPoP`.
        scheme: &'static str,
    },
    /// No challenge uses the scheme asked for.
    #[error("the WWW-Authenticate header has no {scheme} challenge")]
    NoChallenge {
        /// The scheme, `Bearer` or `DPoP`.
        scheme: &'static str,
    },
    /// A parameter given twice (RFC 6750 section 3: each at most once).
    #[error("the {scheme} challenge carries {name:?} more than once")]
    DuplicateParameter {
        /// The scheme, `Bearer` or `DPoP`.
        scheme: &'static str,
        /// The parameter.
        name: String,
    },
    /// `resource_metadata` is not an absolute `https` URL (or `http` on loopback).
    #[error("the {scheme} challenge's resource_metadata {value:?} is not an https URL")]
    InvalidResourceMetadata {
        /// The scheme, `Bearer` or `DPoP`.
        scheme: &'static str,
        /// The value received.
        value: String,
    },
}

/// The `error` of a `Bearer` challenge (RFC 6750 section 3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BearerError {
    /// `invalid_request`: the request is malformed.
    InvalidRequest,
    /// `invalid_token`: the token is missing, expired, revoked or otherwise invalid.
    InvalidToken,
    /// `insufficient_scope`: the token lacks scopes; the challenge's `scope` says which are needed.
    InsufficientScope,
    /// Any other code, as received.
    Other(String),
}

impl BearerError {
    /// The code as sent.
    pub fn as_str(&self) -> &str {
        match self {
            BearerError::InvalidRequest => "invalid_request",
            BearerError::InvalidToken => "invalid_token",
            BearerError::InsufficientScope => "insufficient_scope",
            BearerError::Other(code) => code,
        }
    }

    /// The HTTP status RFC 6750 section 3.1 gives the error: 400, 401 or 403 (401 for codes it does
    /// not define).
    pub fn status(&self) -> u16 {
        match self {
            BearerError::InvalidRequest => 400,
            BearerError::InsufficientScope => 403,
            BearerError::InvalidToken | BearerError::Other(_) => 401,
        }
    }

    pub(crate) fn parse(code: &str) -> BearerError {
        match code {
            "invalid_request" => BearerError::InvalidRequest,
            "invalid_token" => BearerError::InvalidToken,
            "insufficient_scope" => BearerError::InsufficientScope,
            other => BearerError::Other(other.to_owned()),
        }
    }
}

/// The `Bearer` challenge of a protected resource: where its metadata is, which scopes it wants and
/// what was wrong with the request.
///
/// ```
/// use workos_connect::oauth::{BearerChallenge, BearerError};
///
/// let header = r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource", error="invalid_token", error_description="No token""#;
/// let challenge = BearerChallenge::parse(header)?;
/// assert_eq!(challenge.error, Some(BearerError::InvalidToken));
/// assert_eq!(
///     challenge.resource_metadata.unwrap().as_str(),
///     "https://mcp.example.com/.well-known/oauth-protected-resource"
/// );
/// # Ok::<(), workos_connect::oauth::ChallengeError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BearerChallenge {
    /// `realm`.
    pub realm: Option<String>,
    /// `resource_metadata` (RFC 9728 section 5.1): where the protected resource metadata is.
    pub resource_metadata: Option<Url>,
    /// `scope`: the scopes the request needs, space-separated (RFC 6750 section 3).
    pub scope: Option<String>,
    /// `error`.
    pub error: Option<BearerError>,
    /// `error_description`, for the developer.
    pub error_description: Option<String>,
    /// `error_uri`.
    pub error_uri: Option<String>,
}

impl BearerChallenge {
    /// The `Bearer` challenge of a `WWW-Authenticate` header value, which may hold other challenges
    /// too. Each parameter must appear at most once; unknown parameters are ignored.
    pub fn parse(header: &str) -> Result<BearerChallenge, ChallengeError> {
        let mut found = BearerChallenge::default();
        let known = ["scope", "error", "error_description", "error_uri"];
        let (realm, resource_metadata) =
            read_scheme(header, "Bearer", &known, |name, value| match name {
                "scope" => found.scope = Some(value.to_owned()),
                "error" => found.error = Some(BearerError::parse(value)),
                "error_description" => found.error_description = Some(value.to_owned()),
                _ => found.error_uri = Some(value.to_owned()),
            })?;
        found.realm = realm;
        found.resource_metadata = resource_metadata;
        Ok(found)
    }

    /// The scopes of `scope`, one by one.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .filter(|scope| !scope.is_empty())
    }
}

/// The `WWW-Authenticate` header value, for a resource server to send (RFC 6750 section 3, RFC 9728
/// section 5.1): `Bearer` then `realm`, `resource_metadata`, `scope`, `error`, `error_description`
/// and `error_uri`, each only when set.
///
/// Every value is a quoted string. `"` and `\` are escaped in `realm`; in `scope`,
/// `error_description` and `error_uri`, whose grammar forbids them (RFC 6750 section 3), they and
/// any character outside printable ASCII become `?`, so no value can end the header or forge a
/// parameter.
///
/// ```
/// use workos_connect::oauth::{BearerChallenge, BearerError};
///
/// let mut challenge = BearerChallenge::default();
/// challenge.resource_metadata = Some("https://api.example.com/.well-known/oauth-protected-resource/mcp".parse()?);
/// challenge.scope = Some("mcp:tools".to_owned());
/// challenge.error = Some(BearerError::InsufficientScope);
/// assert_eq!(
///     challenge.to_string(),
///     r#"Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp:tools", error="insufficient_scope""#
/// );
/// assert_eq!(BearerChallenge::parse(&challenge.to_string())?, challenge);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl fmt::Display for BearerChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_challenge(
            f,
            "Bearer",
            &[
                ("realm", self.realm.as_deref(), QuotedValue::Escaped),
                // A URL may hold `\` in its query; escaped, it reads back unchanged.
                (
                    "resource_metadata",
                    self.resource_metadata.as_ref().map(Url::as_str),
                    QuotedValue::Escaped,
                ),
                ("scope", self.scope.as_deref(), QuotedValue::Plain),
                (
                    "error",
                    self.error.as_ref().map(BearerError::as_str),
                    QuotedValue::Plain,
                ),
                (
                    "error_description",
                    self.error_description.as_deref(),
                    QuotedValue::Plain,
                ),
                ("error_uri", self.error_uri.as_deref(), QuotedValue::Plain),
            ],
        )
    }
}

/// How a parameter's value is written between quotes.
#[derive(Clone, Copy)]
pub(crate) enum QuotedValue {
    /// `"` and `\` escaped (a `realm`, a URL).
    Escaped,
    /// `"` and `\`, which the value's grammar forbids, written as `?`.
    Plain,
}

/// Writes a challenge: the scheme, then each parameter that is set as `name="value"`. Characters
/// outside printable ASCII become `?`, so that no value can end the header or forge a parameter.
pub(crate) fn write_challenge(
    f: &mut fmt::Formatter<'_>,
    scheme: &str,
    params: &[(&str, Option<&str>, QuotedValue)],
) -> fmt::Result {
    f.write_str(scheme)?;
    let set = params
        .iter()
        .filter_map(|(name, value, quoting)| value.map(|value| (name, value, quoting)));
    for (index, (name, value, quoting)) in set.enumerate() {
        f.write_str(if index == 0 { " " } else { ", " })?;
        f.write_str(name)?;
        f.write_str("=\"")?;
        for c in value.chars() {
            match (c, quoting) {
                ('"' | '\\', QuotedValue::Escaped) => {
                    f.write_str("\\")?;
                    fmt::Write::write_char(f, c)?;
                }
                (' '..='~', _) if c != '"' && c != '\\' => fmt::Write::write_char(f, c)?,
                _ => f.write_str("?")?,
            }
        }
        f.write_str("\"")?;
    }
    Ok(())
}

impl Challenge {
    /// The parameters named in `known` (in lower case), in order, the others left out; `Err` with
    /// the name of one given twice (RFC 6750 section 3: each at most once).
    pub(crate) fn known_params<'c>(
        &'c self,
        known: &[&'static str],
    ) -> Result<Vec<(&'static str, &'c str)>, &'static str> {
        let mut found: Vec<(&'static str, &'c str)> = Vec::new();
        for (name, value) in &self.params {
            let Some(name) = known.iter().copied().find(|known| known == name) else {
                continue;
            };
            if found.iter().any(|(seen, _)| *seen == name) {
                return Err(name);
            }
            found.push((name, value));
        }
        Ok(found)
    }
}

/// Reads the `scheme` challenge of `header` (RFC 6750 section 3's grammar, which RFC 9449 section
/// 7.1 reuses): parameters as name-value pairs, each at most once, `realm` and `resource_metadata`
/// (checked) returned, the scheme's other `known` parameters handed to `take`, unknown ones
/// ignored. One reader for every scheme, so `Bearer` and `DPoP` challenges refuse alike.
pub(crate) fn read_scheme(
    header: &str,
    scheme: &'static str,
    known: &[&'static str],
    mut take: impl FnMut(&'static str, &str),
) -> Result<(Option<String>, Option<Url>), ChallengeError> {
    let challenge = parse_challenges(header)?
        .into_iter()
        .find(|challenge| challenge.scheme.eq_ignore_ascii_case(scheme))
        .ok_or(ChallengeError::NoChallenge { scheme })?;
    if challenge.token68.is_some() {
        return Err(ChallengeError::UnexpectedToken68 { scheme });
    }
    let mut names = vec!["realm", "resource_metadata"];
    names.extend_from_slice(known);
    let params =
        challenge
            .known_params(&names)
            .map_err(|name| ChallengeError::DuplicateParameter {
                scheme,
                name: name.to_owned(),
            })?;
    let (mut realm, mut resource_metadata) = (None, None);
    for (name, value) in params {
        match name {
            "realm" => realm = Some(value.to_owned()),
            "resource_metadata" => {
                resource_metadata = Some(resource_metadata_url(value).ok_or_else(|| {
                    ChallengeError::InvalidResourceMetadata {
                        scheme,
                        value: value.to_owned(),
                    }
                })?)
            }
            _ => take(name, value),
        }
    }
    Ok((realm, resource_metadata))
}

/// A `resource_metadata` value, which the client will fetch: `https`, or `http` on loopback only.
pub(crate) fn resource_metadata_url(value: &str) -> Option<Url> {
    Url::parse(value).ok().filter(is_https_or_loopback)
}

/// RFC 9110 `tchar`: the characters of a token.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// RFC 9110 `token68` characters, before any trailing `=`.
fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

/// A cursor over the header's bytes; every read is checked, so no input can make it panic.
struct Cursor<'h> {
    text: &'h str,
    at: usize,
}

impl<'h> Cursor<'h> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn bump(&mut self) {
        self.at = self.at.saturating_add(1);
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.bump();
        }
    }

    fn skip_spaces_and_commas(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.bump();
        }
    }

    fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> &'h str {
        let start = self.at;
        while self.peek().is_some_and(&keep) {
            self.bump();
        }
        self.text.get(start..self.at).unwrap_or_default()
    }

    /// A quoted string, the cursor on its opening quote; `\` escapes the next character.
    fn quoted(&mut self) -> Result<String, ChallengeError> {
        let start = self.at;
        self.bump();
        let mut value = String::new();
        loop {
            match self.peek() {
                None => return Err(ChallengeError::UnterminatedQuote { index: start }),
                Some(b'"') => {
                    self.bump();
                    return Ok(value);
                }
                Some(b'\\') => {
                    self.bump();
                    let escaped = self
                        .peek()
                        .ok_or(ChallengeError::UnterminatedQuote { index: start })?;
                    self.push_char(&mut value, escaped)?;
                }
                Some(b) => self.push_char(&mut value, b)?,
            }
        }
    }

    /// Appends the character at the cursor (whose first byte is `first`) and moves past it. Control
    /// characters are refused: they have no place in a header and could forge log lines.
    fn push_char(&mut self, value: &mut String, first: u8) -> Result<(), ChallengeError> {
        let rest = self.text.get(self.at..).unwrap_or_default();
        let c = rest.chars().next().unwrap_or(char::from(first));
        if c.is_control() && c != '\t' {
            return Err(ChallengeError::UnexpectedCharacter { index: self.at });
        }
        value.push(c);
        self.at = self.at.saturating_add(c.len_utf8());
        Ok(())
    }
}

/// Every challenge of a `WWW-Authenticate` header value, in order.
///
/// Commas separate both challenges and parameters; a token followed by `=` and a value is a
/// parameter of the current challenge, any other token starts a new challenge.
pub fn parse_challenges(header: &str) -> Result<Vec<Challenge>, ChallengeError> {
    let mut cursor = Cursor {
        text: header,
        at: 0,
    };
    let mut challenges: Vec<Challenge> = Vec::new();
    loop {
        cursor.skip_spaces_and_commas();
        let Some(next) = cursor.peek() else {
            break;
        };
        if !is_tchar(next) {
            return Err(ChallengeError::UnexpectedCharacter { index: cursor.at });
        }
        let token_start = cursor.at;
        let token = cursor.take_while(is_tchar);
        let after_token = cursor.at;
        cursor.skip_spaces();
        // Outside the token68 right after a scheme, `name =` always starts a parameter.
        let is_param = cursor.peek() == Some(b'=');
        match challenges.last_mut() {
            Some(current) if is_param && current.token68.is_none() => {
                cursor.bump();
                cursor.skip_spaces();
                let value = match cursor.peek() {
                    Some(b'"') => cursor.quoted()?,
                    Some(b) if is_tchar(b) => cursor.take_while(is_tchar).to_owned(),
                    _ => {
                        return Err(ChallengeError::MissingValue {
                            name: token.to_owned(),
                        })
                    }
                };
                current.params.push((token.to_ascii_lowercase(), value));
            }
            _ if is_param => {
                return Err(ChallengeError::UnexpectedCharacter { index: token_start });
            }
            _ => {
                // A new challenge: its scheme, then perhaps a token68.
                cursor.at = after_token;
                let mut challenge = Challenge {
                    scheme: token.to_owned(),
                    token68: None,
                    params: Vec::new(),
                };
                if matches!(cursor.peek(), Some(b' ' | b'\t')) {
                    cursor.skip_spaces();
                    let start = cursor.at;
                    let body = cursor.take_while(is_token68_char);
                    let padding = cursor.take_while(|b| b == b'=');
                    cursor.skip_spaces();
                    // A lone token68 runs to the end of the challenge; anything else is parameters.
                    if !body.is_empty() && matches!(cursor.peek(), None | Some(b',')) {
                        challenge.token68 = Some(format!("{body}{padding}"));
                    } else {
                        cursor.at = start;
                    }
                }
                challenges.push(challenge);
            }
        }
    }
    if challenges.is_empty() {
        return Err(ChallengeError::Empty);
    }
    Ok(challenges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_challenge_reads_back_and_cannot_be_forged() {
        let mut challenge = BearerChallenge {
            realm: Some(r#"a "quoted" \ realm"#.to_owned()),
            resource_metadata: Some(
                Url::parse("http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp")
                    .unwrap(),
            ),
            scope: Some("mcp:tools files:read".to_owned()),
            error: Some(BearerError::InvalidToken),
            error_description: Some("expired".to_owned()),
            error_uri: None,
        };
        assert_eq!(
            BearerChallenge::parse(&challenge.to_string()).unwrap(),
            challenge
        );
        // A description from elsewhere (a library's message) cannot close the quotes or the line.
        challenge.error_description =
            Some("bad\", error=\"insufficient_scope\"\r\nX-Evil: 1 é".to_owned());
        let written = challenge.to_string();
        assert!(
            !written.contains('\r') && !written.contains('\n'),
            "{written}"
        );
        let read = BearerChallenge::parse(&written).unwrap();
        assert_eq!(read.error, Some(BearerError::InvalidToken));
        assert_eq!(
            read.error_description.as_deref(),
            Some("bad?, error=?insufficient_scope???X-Evil: 1 ?")
        );
        assert_eq!(BearerChallenge::default().to_string(), "Bearer");
    }

    #[test]
    fn each_error_has_its_status() {
        assert_eq!(BearerError::InvalidRequest.status(), 400);
        assert_eq!(BearerError::InvalidToken.status(), 401);
        assert_eq!(BearerError::InsufficientScope.status(), 403);
        assert_eq!(BearerError::Other("x".to_owned()).as_str(), "x");
    }
}

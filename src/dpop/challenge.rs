//! The `DPoP` challenge of `WWW-Authenticate` (RFC 9449 §7.1): written by a resource server that
//! refuses a request, read by a client to learn why, which algorithms it takes and where its
//! metadata is.

use std::fmt;

use url::Url;

use crate::oauth::challenge::{read_scheme, write_challenge, ChallengeError, QuotedValue};

/// The `error` of a `DPoP` challenge: RFC 6750's codes and RFC 9449's own.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DpopErrorCode {
    /// `invalid_request`: the request is malformed.
    InvalidRequest,
    /// `invalid_token`: the access token is invalid, or not bound to the proof's key.
    InvalidToken,
    /// `insufficient_scope`: the token lacks scopes.
    InsufficientScope,
    /// `invalid_dpop_proof`: the proof itself is invalid (RFC 9449 §7.1).
    InvalidDpopProof,
    /// `use_dpop_nonce`: sign the proof with the `DPoP-Nonce` sent along (RFC 9449 §9).
    UseDpopNonce,
    /// Any other code, as received.
    Other(String),
}

impl DpopErrorCode {
    /// The code as sent.
    pub fn as_str(&self) -> &str {
        match self {
            DpopErrorCode::InvalidRequest => "invalid_request",
            DpopErrorCode::InvalidToken => "invalid_token",
            DpopErrorCode::InsufficientScope => "insufficient_scope",
            DpopErrorCode::InvalidDpopProof => "invalid_dpop_proof",
            DpopErrorCode::UseDpopNonce => "use_dpop_nonce",
            DpopErrorCode::Other(code) => code,
        }
    }

    /// The HTTP status that goes with it: 400 for `invalid_request`, 403 for
    /// `insufficient_scope`, otherwise 401.
    pub fn status(&self) -> u16 {
        match self {
            DpopErrorCode::InvalidRequest => 400,
            DpopErrorCode::InsufficientScope => 403,
            _ => 401,
        }
    }

    fn parse(code: &str) -> DpopErrorCode {
        match code {
            "invalid_request" => DpopErrorCode::InvalidRequest,
            "invalid_token" => DpopErrorCode::InvalidToken,
            "insufficient_scope" => DpopErrorCode::InsufficientScope,
            "invalid_dpop_proof" => DpopErrorCode::InvalidDpopProof,
            "use_dpop_nonce" => DpopErrorCode::UseDpopNonce,
            other => DpopErrorCode::Other(other.to_owned()),
        }
    }
}

/// A `DPoP` challenge: what a resource server sends in `WWW-Authenticate` (its `Display`), and
/// what a client reads ([`DpopChallenge::parse`]).
///
/// ```
/// use workos_connect::dpop::{DpopChallenge, DpopErrorCode};
///
/// let mut challenge = DpopChallenge::default();
/// challenge.error = Some(DpopErrorCode::InvalidToken);
/// challenge.error_description = Some("Invalid DPoP key binding".to_owned());
/// // RFC 9449 §7.1's example.
/// assert_eq!(
///     challenge.to_string(),
///     r#"DPoP error="invalid_token", error_description="Invalid DPoP key binding", algs="ES256""#
/// );
/// assert_eq!(DpopChallenge::parse(&challenge.to_string())?, challenge);
/// # Ok::<(), workos_connect::oauth::ChallengeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DpopChallenge {
    /// `realm`.
    pub realm: Option<String>,
    /// `resource_metadata` (RFC 9728 §5.1): where the protected resource metadata is.
    pub resource_metadata: Option<Url>,
    /// `scope`: the scopes the request needs, space-separated.
    pub scope: Option<String>,
    /// `error`.
    pub error: Option<DpopErrorCode>,
    /// `error_description`, for the developer.
    pub error_description: Option<String>,
    /// `algs`: the proof algorithms the server accepts, space-separated (RFC 9449 §7.1).
    pub algs: Option<String>,
}

/// `algs="ES256"`, the one algorithm this crate's check accepts.
impl Default for DpopChallenge {
    fn default() -> Self {
        DpopChallenge {
            realm: None,
            resource_metadata: None,
            scope: None,
            error: None,
            error_description: None,
            algs: Some(super::names::DPOP_ALGORITHM.to_owned()),
        }
    }
}

impl DpopChallenge {
    /// The `DPoP` challenge of a `WWW-Authenticate` header value, which may hold other challenges
    /// too (a `Bearer` one, RFC 9449 §7.2). Each parameter at most once; unknown ones ignored.
    pub fn parse(header: &str) -> Result<DpopChallenge, ChallengeError> {
        let mut found = DpopChallenge {
            algs: None,
            ..DpopChallenge::default()
        };
        let known = ["scope", "error", "error_description", "algs"];
        let (realm, resource_metadata) = read_scheme(
            header,
            super::names::DPOP_SCHEME,
            &known,
            |name, value| match name {
                "scope" => found.scope = Some(value.to_owned()),
                "error" => found.error = Some(DpopErrorCode::parse(value)),
                "error_description" => found.error_description = Some(value.to_owned()),
                _ => found.algs = Some(value.to_owned()),
            },
        )?;
        found.realm = realm;
        found.resource_metadata = resource_metadata;
        Ok(found)
    }

    /// The algorithms of `algs`, one by one.
    pub fn algorithms(&self) -> impl Iterator<Item = &str> {
        self.algs
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .filter(|alg| !alg.is_empty())
    }
}

/// The `WWW-Authenticate` value: `DPoP` then `realm`, `resource_metadata`, `scope`, `error`,
/// `error_description` and `algs`, each only when set, each a quoted string. `"` and `\` are
/// escaped in `realm` and `resource_metadata`; elsewhere they, and anything outside printable
/// ASCII, become `?`, so that no value can end the header or forge a parameter.
impl fmt::Display for DpopChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_challenge(
            f,
            super::names::DPOP_SCHEME,
            &[
                ("realm", self.realm.as_deref(), QuotedValue::Escaped),
                (
                    "resource_metadata",
                    self.resource_metadata.as_ref().map(Url::as_str),
                    QuotedValue::Escaped,
                ),
                ("scope", self.scope.as_deref(), QuotedValue::Plain),
                (
                    "error",
                    self.error.as_ref().map(DpopErrorCode::as_str),
                    QuotedValue::Plain,
                ),
                (
                    "error_description",
                    self.error_description.as_deref(),
                    QuotedValue::Plain,
                ),
                ("algs", self.algs.as_deref(), QuotedValue::Plain),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_conformance_suites_and_the_rfcs_challenges() {
        let read = DpopChallenge::parse(
            r#"DPoP resource_metadata="http://localhost:3000/.well-known/oauth-protected-resource/mcp""#,
        )
        .unwrap();
        assert_eq!(
            read.resource_metadata.unwrap().as_str(),
            "http://localhost:3000/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(read.algs, None);
        let read = DpopChallenge::parse(r#"Bearer, DPoP algs="ES256 PS256""#).unwrap();
        assert_eq!(read.algorithms().collect::<Vec<_>>(), ["ES256", "PS256"]);
        assert_eq!(
            DpopChallenge::parse(r#"Bearer realm="x""#),
            Err(ChallengeError::NoChallenge { scheme: "DPoP" })
        );
        assert!(matches!(
            DpopChallenge::parse(r#"DPoP error="a", error="b""#),
            Err(ChallengeError::DuplicateParameter { .. })
        ));
        assert!(matches!(
            DpopChallenge::parse(r#"DPoP resource_metadata="http://evil.example.com/""#),
            Err(ChallengeError::InvalidResourceMetadata { .. })
        ));
    }

    #[test]
    fn written_values_cannot_forge_parameters() {
        let challenge = DpopChallenge {
            error: Some(DpopErrorCode::InvalidDpopProof),
            error_description: Some("bad\", error=\"x\"\r\nX: 1".to_owned()),
            ..DpopChallenge::default()
        };
        let written = challenge.to_string();
        assert!(
            !written.contains('\r') && !written.contains('\n'),
            "{written}"
        );
        let read = DpopChallenge::parse(&written).unwrap();
        assert_eq!(read.error, Some(DpopErrorCode::InvalidDpopProof));
        assert_eq!(read.algs.as_deref(), Some("ES256"));
    }
}

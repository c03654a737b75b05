//! Which scopes an MCP client asks for (the MCP specification's scope selection strategy), and how
//! often it may ask again when a server wants more (step-up on `403 insufficient_scope`).

use crate::discovery::resource_metadata::ProtectedResourceMetadata;
use crate::discovery::server_metadata::AuthorizationServerMetadata;
use crate::oauth::challenge::{BearerChallenge, BearerError};
use crate::oauth::scope_list::{ScopeList, ScopeToken};

/// The scopes to request, as the MCP specification chooses them: the challenge's `scope` when it
/// names any, else every scope of the protected resource metadata's `scopes_supported`, else none
/// (then send no `scope` and let the server apply its default).
///
/// Names that are not scope tokens (RFC 6749 section 3.3) are skipped rather than sent.
///
/// ```
/// use workos_connect::{mcp::select_scopes, oauth::BearerChallenge};
///
/// let challenge = BearerChallenge::parse(r#"Bearer scope="mcp:basic", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#)?;
/// assert_eq!(select_scopes(Some(&challenge), None).to_string(), "mcp:basic");
/// assert!(select_scopes(None, None).is_empty());
/// # Ok::<(), workos_connect::oauth::ChallengeError>(())
/// ```
pub fn select_scopes(
    challenge: Option<&BearerChallenge>,
    resource_metadata: Option<&ProtectedResourceMetadata>,
) -> ScopeList {
    let from_challenge: ScopeList = challenge
        .map(|challenge| ScopeList::of_valid_names(challenge.scopes()))
        .unwrap_or_default();
    if !from_challenge.is_empty() {
        return from_challenge;
    }
    resource_metadata
        .and_then(|metadata| metadata.scopes_supported.as_ref())
        .map(|supported| ScopeList::of_valid_names(supported.iter().map(String::as_str)))
        .unwrap_or_default()
}

/// Adds `offline_access` to `scopes` when the authorization server lists it in `scopes_supported`,
/// for a client that wants a refresh token, and never otherwise (a server that does not list it may
/// refuse the whole request). Returns whether it was added.
pub fn add_offline_access(scopes: &mut ScopeList, server: &AuthorizationServerMetadata) -> bool {
    let offered = server
        .scopes_supported
        .as_ref()
        .is_some_and(|supported| supported.iter().any(|scope| scope == "offline_access"));
    match ScopeToken::new("offline_access") {
        Ok(token) if offered => scopes.insert(token),
        _ => false,
    }
}

/// The default number of logins one request may lead to: the first, and two step-ups.
pub const DEFAULT_MAX_LOGINS: u32 = 3;

/// The state of step-up authorization for one request: the scopes granted so far, and how many
/// logins the request has led to. A server that answers `403` with `insufficient_scope` names the
/// scopes it wants; the client logs in again for those and the ones it had, a bounded number of
/// times, so that a server that will never be satisfied cannot keep the user in a loop of logins.
///
/// ```
/// use workos_connect::{mcp::{StepUp, StepUpError}, oauth::BearerChallenge};
///
/// let mut step_up = StepUp::new("mcp:basic".parse()?);
/// let challenge = BearerChallenge::parse(r#"Bearer error="insufficient_scope", scope="mcp:basic mcp:write""#)?;
/// assert_eq!(step_up.next_scopes(&challenge)?.to_string(), "mcp:basic mcp:write");
/// assert_eq!(step_up.next_scopes(&challenge)?.to_string(), "mcp:basic mcp:write");
/// assert!(matches!(step_up.next_scopes(&challenge), Err(StepUpError::TooManyLogins { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct StepUp {
    scopes: ScopeList,
    logins: u32,
    max_logins: u32,
}

/// Why a step-up login should not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StepUpError {
    /// The challenge is not `insufficient_scope`: more scopes would not help.
    #[error("the server refused the token for another reason than insufficient scope; a new login with more scopes would not help")]
    NotInsufficientScope,
    /// The request has led to as many logins as allowed.
    #[error("the request already led to {logins} logins, the most allowed; the server keeps asking for scopes it does not grant")]
    TooManyLogins {
        /// How many.
        logins: u32,
    },
}

impl StepUp {
    /// Starts after the first login, which requested `scopes`; at most [`DEFAULT_MAX_LOGINS`] logins.
    pub fn new(scopes: ScopeList) -> Self {
        StepUp {
            scopes,
            logins: 1,
            max_logins: DEFAULT_MAX_LOGINS,
        }
    }

    /// Allows at most `max_logins` logins in all, the first one included.
    pub fn max_logins(mut self, max_logins: u32) -> Self {
        self.max_logins = max_logins;
        self
    }

    /// The scopes held so far.
    pub fn scopes(&self) -> &ScopeList {
        &self.scopes
    }

    /// The scopes of the next login after a `403` with `challenge`: those held so far and those the
    /// challenge names. Counts the login; refuses once the limit is reached, or when the challenge
    /// is not `insufficient_scope`.
    pub fn next_scopes(&mut self, challenge: &BearerChallenge) -> Result<ScopeList, StepUpError> {
        if challenge.error != Some(BearerError::InsufficientScope) {
            return Err(StepUpError::NotInsufficientScope);
        }
        if self.logins >= self.max_logins {
            return Err(StepUpError::TooManyLogins {
                logins: self.logins,
            });
        }
        self.logins = self.logins.saturating_add(1);
        self.scopes
            .extend(ScopeList::of_valid_names(challenge.scopes()));
        Ok(self.scopes.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::identifier::Issuer;

    fn resource_metadata(scopes: &str) -> ProtectedResourceMetadata {
        let body = format!(
            r#"{{"resource":"https://m.example/mcp","authorization_servers":["https://a.example"]{scopes}}}"#
        );
        ProtectedResourceMetadata::parse(body.as_bytes(), &"https://m.example/mcp".parse().unwrap())
            .unwrap()
    }

    #[test]
    fn the_challenge_first_then_the_metadata_then_nothing() {
        let with = resource_metadata(r#","scopes_supported":["mcp:basic","mcp:read","bad scope"]"#);
        let challenge = BearerChallenge::parse(r#"Bearer scope="files:read""#).unwrap();
        let bare = BearerChallenge::parse(r#"Bearer error="invalid_token""#).unwrap();
        assert_eq!(
            select_scopes(Some(&challenge), Some(&with)).to_string(),
            "files:read"
        );
        assert_eq!(
            select_scopes(Some(&bare), Some(&with)).to_string(),
            "mcp:basic mcp:read"
        );
        assert!(select_scopes(Some(&bare), Some(&resource_metadata(""))).is_empty());
    }

    #[test]
    fn offline_access_only_when_offered() {
        let server = |scopes: &str| {
            let body = format!(
                r#"{{"issuer":"https://a.example","authorization_endpoint":"https://a.example/a","token_endpoint":"https://a.example/t","code_challenge_methods_supported":["S256"]{scopes}}}"#
            );
            AuthorizationServerMetadata::parse(
                body.as_bytes(),
                &"https://a.example".parse::<Issuer>().unwrap(),
            )
            .unwrap()
        };
        let mut scopes: ScopeList = "mcp:basic".parse().unwrap();
        assert!(!add_offline_access(
            &mut scopes,
            &server(r#","scopes_supported":["mcp:basic"]"#)
        ));
        assert!(!add_offline_access(&mut scopes, &server("")));
        assert!(add_offline_access(
            &mut scopes,
            &server(r#","scopes_supported":["offline_access"]"#)
        ));
        assert_eq!(scopes.to_string(), "mcp:basic offline_access");
    }

    #[test]
    fn step_up_needs_insufficient_scope_and_stops() {
        let mut step_up = StepUp::new(ScopeList::new()).max_logins(2);
        let invalid = BearerChallenge::parse(r#"Bearer error="invalid_token", scope="x""#).unwrap();
        assert_eq!(
            step_up.next_scopes(&invalid),
            Err(StepUpError::NotInsufficientScope)
        );
        let more =
            BearerChallenge::parse(r#"Bearer error="insufficient_scope", scope="x""#).unwrap();
        assert_eq!(step_up.next_scopes(&more).unwrap().to_string(), "x");
        assert_eq!(
            step_up.next_scopes(&more),
            Err(StepUpError::TooManyLogins { logins: 2 })
        );
    }
}

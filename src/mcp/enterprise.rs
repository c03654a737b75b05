//! Enterprise-managed authorization (MCP's SEP-990, the Identity Assertion JWT Authorization
//! Grant): the user's ID token from the enterprise's identity provider is exchanged there (RFC
//! 8693) for an ID-JAG naming the MCP server's authorization server and resource, which that
//! server redeems with the JWT bearer grant (RFC 7523). No browser: the IdP decides by policy.

use std::borrow::Cow;
use std::fmt;

use url::Url;

use crate::oauth::clock::ClockHandle;
use crate::oauth::endpoint::{check_endpoint, FORM_REQUEST_PARAMETERS};
use crate::oauth::identifier::{Issuer, Resource};
use crate::oauth::scope_list::ScopeList;
use crate::oauth::security_token::SecurityToken;
use crate::oauth::token_request::TokenRequest;
use crate::oauth::token_type::TokenType;
use crate::registration::credentials::ClientCredentials;
use crate::token_exchange::{TokenExchange, TokenExchangeError};

/// The enterprise identity provider's side of an enterprise-managed login: where it exchanges
/// tokens, this client's registration there, and the user's ID token it issued (from the user's
/// single sign-on to the client, which this crate does not do).
///
/// Give it to [`McpClientSettings::enterprise_managed`](crate::mcp::McpClientSettings::enterprise_managed).
/// Its `Debug` hides the ID token and the credentials' secret.
///
/// ```
/// use workos_connect::{mcp::EnterpriseIdp, registration::{ClientCredentials, TokenEndpointAuth}};
/// use workos_connect::oauth::SecurityToken;
///
/// let idp = EnterpriseIdp::new(
///     "https://idp.example.com/oauth2/token".parse()?,
///     ClientCredentials::pre_registered(
///         "https://idp.example.com".parse()?, "mcp-client-at-idp".parse()?, None, TokenEndpointAuth::None,
///     )?,
///     SecurityToken::new("eyJ.id-token.sig")?,
/// )?;
/// assert!(!format!("{idp:?}").contains("id-token"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct EnterpriseIdp {
    token_endpoint: Url,
    credentials: ClientCredentials,
    id_token: SecurityToken,
}

impl EnterpriseIdp {
    /// The IdP whose token endpoint is `token_endpoint` (`https`, or `http` on loopback, on the
    /// origin of the credentials' issuer and under its path), where this client is registered as
    /// `credentials`, with the user's `id_token`.
    pub fn new(
        token_endpoint: Url,
        credentials: ClientCredentials,
        id_token: SecurityToken,
    ) -> Result<Self, TokenExchangeError> {
        check_endpoint(&token_endpoint, FORM_REQUEST_PARAMETERS)?;
        // The user's ID token and this client's registration are the IdP's: refused here, before
        // a login is set up, rather than at the exchange.
        credentials.check_own_endpoint(&token_endpoint)?;
        Ok(EnterpriseIdp {
            token_endpoint,
            credentials,
            id_token,
        })
    }

    /// The IdP's issuer, as the credentials name it.
    pub fn issuer(&self) -> &Issuer {
        self.credentials.issuer()
    }

    /// The exchange of the ID token for an ID-JAG for `resource` at the authorization server
    /// `audience` (its issuer), with `scopes`; its client assertion dated by `clock` when the login
    /// chose one, else by the credentials' own.
    pub(crate) fn id_jag_request(
        &self,
        audience: &Issuer,
        resource: &Resource,
        scopes: &ScopeList,
        clock: Option<&ClockHandle>,
    ) -> Result<TokenRequest, TokenExchangeError> {
        let credentials = match clock {
            Some(clock) => Cow::Owned(self.credentials.clone().with_clock(clock)),
            None => Cow::Borrowed(&self.credentials),
        };
        TokenExchange::new(self.id_token.clone(), TokenType::IdToken)
            .requested_token_type(TokenType::IdJag)
            .audience(audience.as_str())?
            .resource(resource.clone())
            .scopes(scopes.clone())
            .request_at(self.token_endpoint.clone(), &credentials)
    }
}

impl fmt::Debug for EnterpriseIdp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterpriseIdp")
            .field("token_endpoint", &self.token_endpoint.as_str())
            .field("credentials", &self.credentials)
            .field("id_token", &self.id_token)
            .finish()
    }
}

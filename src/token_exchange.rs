//! OAuth 2.0 Token Exchange (RFC 8693): a security token traded at a token endpoint for another,
//! for another audience or resource, with narrower scopes, or of another type (an ID token for an
//! Identity Assertion JWT Authorization Grant, the ID-JAG of enterprise-managed authorization).
//!
//! Sans-IO: [`TokenExchange::request`] gives the form `POST`, [`TokenExchangeResponse::parse`]
//! reads the answer.

use serde::Deserialize;
use url::Url;

use crate::oauth::encoding::is_nqschar;
use crate::oauth::endpoint::{check_endpoint, EndpointError, FORM_REQUEST_PARAMETERS};
use crate::oauth::identifier::Resource;
use crate::oauth::scope_list::ScopeList;
use crate::oauth::security_token::SecurityToken;
use crate::oauth::token::{error_answer, TokenError};
use crate::oauth::token_request::TokenRequest;
use crate::oauth::token_type::{TokenType, TokenTypeError};
use crate::registration::credentials::{ClientCredentials, CredentialsError};

/// `grant_type` of a token exchange (RFC 8693 section 2.1).
pub const TOKEN_EXCHANGE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// Why a token exchange request cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenExchangeError {
    /// A token type that is not a URN or an `http(s)` URL.
    #[error(transparent)]
    InvalidTokenType(#[from] TokenTypeError),
    /// An `audience` that is empty or not printable ASCII.
    #[error("the audience must be 1 or more printable ASCII characters (a logical name or URI)")]
    InvalidAudience,
    /// A token endpoint that is not `https` (or `http` on loopback), has a fragment or a
    /// parameter of the request in its query, or is not the credentials' issuer's.
    #[error("the token endpoint cannot be sent the exchange: {0}")]
    Endpoint(#[from] EndpointError),
    /// The client's authentication could not be added.
    #[error("client authentication: {0}")]
    Credentials(#[from] CredentialsError),
}

/// A token exchange request (RFC 8693 section 2.1): the `subject_token` and its type, and what to
/// get for it.
///
/// ```
/// use workos_connect::{oauth::{SecurityToken, TokenType}, token_exchange::TokenExchange};
/// use workos_connect::registration::{ClientCredentials, TokenEndpointAuth};
///
/// // Enterprise-managed authorization (SEP-990): the IdP's ID token for an ID-JAG for an MCP server.
/// let idp_client = ClientCredentials::pre_registered(
///     "https://idp.example.com".parse()?, "idp-client".parse()?, None, TokenEndpointAuth::None,
/// )?;
/// let request = TokenExchange::new(SecurityToken::new("eyJ.id.token")?, TokenType::IdToken)
///     .requested_token_type(TokenType::IdJag)
///     .audience("https://auth.mcp.example.com")?
///     .resource("https://mcp.example.com/mcp".parse()?)
///     .request("https://idp.example.com/token".parse()?, &idp_client)?;
/// assert_eq!(
///     request.body(),
///     "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange\
///      &subject_token=eyJ.id.token\
///      &subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aid_token\
///      &requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aid-jag\
///      &audience=https%3A%2F%2Fauth.mcp.example.com\
///      &resource=https%3A%2F%2Fmcp.example.com%2Fmcp&client_id=idp-client"
/// );
/// assert!(!format!("{request:?}").contains("eyJ.id.token"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "call `request` to get the token request"]
pub struct TokenExchange {
    subject_token: SecurityToken,
    subject_token_type: TokenType,
    actor: Option<(SecurityToken, TokenType)>,
    requested_token_type: Option<TokenType>,
    audiences: Vec<String>,
    resources: Vec<Resource>,
    scopes: ScopeList,
}

impl TokenExchange {
    /// Trades `subject_token`, of type `subject_token_type`.
    pub fn new(subject_token: SecurityToken, subject_token_type: TokenType) -> Self {
        TokenExchange {
            subject_token,
            subject_token_type,
            actor: None,
            requested_token_type: None,
            audiences: Vec::new(),
            resources: Vec::new(),
            scopes: ScopeList::new(),
        }
    }

    /// The party acting for the subject (delegation, RFC 8693 section 1.1): `actor_token` and
    /// `actor_token_type`.
    pub fn actor(mut self, actor_token: SecurityToken, actor_token_type: TokenType) -> Self {
        self.actor = Some((actor_token, actor_token_type));
        self
    }

    /// The type of token wanted (`requested_token_type`); the server's choice when not given.
    pub fn requested_token_type(mut self, token_type: TokenType) -> Self {
        self.requested_token_type = Some(token_type);
        self
    }

    /// The type of token asked for, if any: what [`TokenExchangeResponse::parse`] takes to check
    /// the answer.
    pub fn requested(&self) -> Option<&TokenType> {
        self.requested_token_type.as_ref()
    }

    /// A logical name of where the token is to be used (`audience`; repeat for several), such as
    /// the issuer of the authorization server that takes an ID-JAG.
    pub fn audience(mut self, audience: impl Into<String>) -> Result<Self, TokenExchangeError> {
        let audience = audience.into();
        if audience.is_empty() || !audience.bytes().all(|b| matches!(b, 0x20..=0x7e)) {
            return Err(TokenExchangeError::InvalidAudience);
        }
        self.audiences.push(audience);
        Ok(self)
    }

    /// A resource the token is for (`resource`, RFC 8707; repeat for several).
    pub fn resource(mut self, resource: Resource) -> Self {
        self.resources.push(resource);
        self
    }

    /// The scopes wanted, no wider than the subject token's (`scope`); none by default.
    pub fn scopes(mut self, scopes: impl Into<ScopeList>) -> Self {
        self.scopes = scopes.into();
        self
    }

    /// The form's fields, in order, without the client's authentication.
    pub(crate) fn form(&self) -> Vec<(&'static str, String)> {
        let mut form = vec![
            ("grant_type", TOKEN_EXCHANGE_GRANT_TYPE.to_owned()),
            ("subject_token", self.subject_token.secret().to_owned()),
            ("subject_token_type", self.subject_token_type.to_string()),
        ];
        if let Some((token, token_type)) = &self.actor {
            form.push(("actor_token", token.secret().to_owned()));
            form.push(("actor_token_type", token_type.to_string()));
        }
        if let Some(token_type) = &self.requested_token_type {
            form.push(("requested_token_type", token_type.to_string()));
        }
        for audience in &self.audiences {
            form.push(("audience", audience.clone()));
        }
        for resource in &self.resources {
            form.push(("resource", resource.as_str().to_owned()));
        }
        if !self.scopes.is_empty() {
            form.push(("scope", self.scopes.to_string()));
        }
        form
    }

    /// The form `POST` to `token_endpoint`, authenticated as `credentials` say (the client's
    /// registration with the server that makes the exchange). The endpoint must be the
    /// credentials' issuer's, on its origin and under its path
    /// ([`EndpointError::NotIssuers`] otherwise): the subject token and the client's authentication go to that server alone.
    pub fn request(
        &self,
        token_endpoint: Url,
        credentials: &ClientCredentials,
    ) -> Result<TokenRequest, TokenExchangeError> {
        check_endpoint(&token_endpoint, FORM_REQUEST_PARAMETERS)?;
        credentials.check_own_endpoint(&token_endpoint)?;
        self.request_at(token_endpoint, credentials)
    }

    /// [`request`](Self::request) to a token endpoint already checked as one (by the metadata or
    /// the enterprise IdP that holds it), which the issuer's own metadata may put on another
    /// origin (RFC 8414 section 2).
    pub(crate) fn request_at(
        &self,
        token_endpoint: Url,
        credentials: &ClientCredentials,
    ) -> Result<TokenRequest, TokenExchangeError> {
        Ok(credentials.try_authenticated(token_endpoint, self.form())?)
    }
}

/// A token exchange's answer (RFC 8693 section 2.2.1), made only by [`parse`](Self::parse).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TokenExchangeResponse {
    /// The token issued (RFC 8693 keeps the name `access_token` whatever its type).
    pub access_token: SecurityToken,
    /// What the issued token is.
    pub issued_token_type: TokenType,
    /// How to use it: `Bearer` for an access token, `N_A` for a token that is not one (an ID-JAG,
    /// an ID token), or another scheme.
    pub token_type: String,
    /// Seconds until the token expires, if given.
    pub expires_in: Option<u64>,
    /// The scopes granted, when they differ from those asked for.
    pub scope: Option<String>,
    /// A refresh token, rarely given for an exchange.
    pub refresh_token: Option<SecurityToken>,
}

#[derive(Deserialize)]
#[serde(remote = "Self")]
struct RawExchangeResponse {
    access_token: String,
    issued_token_type: String,
    token_type: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    error: Option<String>,
}
crate::oauth::json_object::object_only!(RawExchangeResponse);

impl TokenExchangeResponse {
    /// Reads the token endpoint's answer to a token exchange that asked for
    /// `requested_token_type` (the exchange's [`requested`](TokenExchange::requested),
    /// `None` when it left the choice to the server): a 2xx status with `access_token`,
    /// `issued_token_type` and `token_type` (RFC 8693 section 2.2.1); an OAuth error otherwise
    /// (section 2.2.2, RFC 6749 section 5.2). A token of another type than the one requested is
    /// [`TokenError::WrongIssuedTokenType`]: the type asked for is part of reading the answer, so
    /// that no caller can take an access token for the ID-JAG it asked for.
    ///
    /// ```
    /// use workos_connect::{TokenError, oauth::TokenType, token_exchange::TokenExchangeResponse};
    ///
    /// let body = br#"{"access_token":"eyJ.jag.sig",
    ///     "issued_token_type":"urn:ietf:params:oauth:token-type:id-jag","token_type":"N_A"}"#;
    /// let answer = TokenExchangeResponse::parse(200, body, Some(&TokenType::IdJag))?;
    /// assert_eq!(answer.issued_token_type, TokenType::IdJag);
    /// assert_eq!(answer.token_type, "N_A");
    /// assert!(matches!(
    ///     TokenExchangeResponse::parse(200, body, Some(&TokenType::AccessToken)),
    ///     Err(TokenError::WrongIssuedTokenType { .. })
    /// ));
    /// // Without a requested type, the server's choice is taken: check it before use.
    /// assert!(TokenExchangeResponse::parse(200, body, None).is_ok());
    /// # Ok::<(), workos_connect::TokenError>(())
    /// ```
    pub fn parse(
        status: u16,
        body: &[u8],
        requested_token_type: Option<&TokenType>,
    ) -> Result<TokenExchangeResponse, TokenError> {
        if !(200..300).contains(&status) {
            return Err(error_answer(status, body));
        }
        let malformed = |reason: String| TokenError::MalformedResponse { reason };
        let raw = match crate::oauth::json_object::from_slice::<RawExchangeResponse>(body) {
            Ok(raw) if raw.error.is_none() => raw,
            Ok(_) => return Err(error_answer(400, body)),
            Err(error) => {
                return Err(match error_answer(400, body) {
                    endpoint @ TokenError::Endpoint(_) => endpoint,
                    _ => malformed(error.to_string()),
                })
            }
        };
        let token = |field: &str, value: String| {
            SecurityToken::new(value).map_err(|error| malformed(format!("{field}: {error}")))
        };
        let access_token = token("access_token", raw.access_token)?;
        let refresh_token = raw
            .refresh_token
            .map(|value| token("refresh_token", value))
            .transpose()?;
        let issued_token_type = raw.issued_token_type.parse().map_err(|_| {
            malformed("issued_token_type is not a URN or an http(s) URL".to_owned())
        })?;
        if raw.token_type.is_empty() || !raw.token_type.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(malformed(
                "token_type is empty or not printable ASCII".to_owned(),
            ));
        }
        if raw
            .scope
            .as_deref()
            .is_some_and(|scope| !scope.bytes().all(is_nqschar))
        {
            return Err(malformed(
                "scope holds a character outside RFC 6749's scope-token (Appendix A.4)".to_owned(),
            ));
        }
        if let Some(requested) = requested_token_type.filter(|kind| **kind != issued_token_type) {
            return Err(TokenError::WrongIssuedTokenType {
                requested: requested.clone(),
                issued: issued_token_type,
            });
        }
        Ok(TokenExchangeResponse {
            access_token,
            issued_token_type,
            token_type: raw.token_type,
            expires_in: raw.expires_in,
            scope: raw.scope,
            refresh_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::token_type::KNOWN;
    use crate::oauth::ClientSecret;
    use crate::registration::token_auth::TokenEndpointAuth;

    fn credentials(method: TokenEndpointAuth) -> ClientCredentials {
        let secret = method
            .needs_secret()
            .then(|| ClientSecret::new("s3cret").unwrap());
        ClientCredentials::pre_registered(
            "https://auth.example.com".parse().unwrap(),
            "client 1".parse().unwrap(),
            secret,
            method,
        )
        .unwrap()
    }

    #[test]
    fn every_parameter_in_order_and_percent_encoded() {
        let request = TokenExchange::new(
            SecurityToken::new("sub+ject/token=").unwrap(),
            TokenType::AccessToken,
        )
        .actor(SecurityToken::new("act&or").unwrap(), TokenType::Jwt)
        .requested_token_type(TokenType::AccessToken)
        .audience("urn:example:cooperation-context")
        .unwrap()
        .resource("https://api.example.com/a%20b".parse().unwrap())
        .scopes("read write".parse::<ScopeList>().unwrap())
        .request(
            "https://auth.example.com/token".parse().unwrap(),
            &credentials(TokenEndpointAuth::ClientSecretPost),
        )
        .unwrap();
        assert_eq!(
            request.body(),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange\
             &subject_token=sub%2Bject%2Ftoken%3D\
             &subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token\
             &actor_token=act%26or&actor_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt\
             &requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token\
             &audience=urn%3Aexample%3Acooperation-context\
             &resource=https%3A%2F%2Fapi.example.com%2Fa%2520b\
             &scope=read+write&client_id=client+1&client_secret=s3cret"
        );
        let shown = format!("{request:?}");
        assert!(
            !shown.contains("sub+ject") && !shown.contains("act&or"),
            "{shown}"
        );
    }

    #[test]
    fn basic_authentication_goes_in_the_header() {
        let request = TokenExchange::new(SecurityToken::new("t").unwrap(), TokenType::IdToken)
            .request(
                "https://auth.example.com/token".parse().unwrap(),
                &credentials(TokenEndpointAuth::ClientSecretBasic),
            )
            .unwrap();
        assert!(request.authorization().unwrap().starts_with("Basic "));
        assert!(!request.body().contains("client_id"));
    }

    #[test]
    fn refusals() {
        let exchange = TokenExchange::new(SecurityToken::new("t").unwrap(), TokenType::IdToken);
        assert_eq!(
            exchange.clone().audience("").unwrap_err(),
            TokenExchangeError::InvalidAudience
        );
        assert_eq!(
            exchange
                .request(
                    "http://auth.example.com/token".parse().unwrap(),
                    &credentials(TokenEndpointAuth::None)
                )
                .unwrap_err(),
            TokenExchangeError::Endpoint(EndpointError::Insecure)
        );
        for refused in [
            "not a uri",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "vbscript:msgbox",
            "mailto:a@example.com",
            "urn:",
            "urn:x",
            "urn:x:y",
            "urn:-ab:y",
            "urn:example:",
            "https:no-host",
            "http:///path",
            "id_token",
            "https://trusted@evil.example/type",
            "https://user:pass@evil.example/type",
            "https://@evil.example/type",
            "urn:example:a?+r",
            "urn:example:a?=q",
            "urn:example:a#f",
            "urn:example:/slash",
            "urn:example:a%2",
            "urn:example:a%zz",
            "urn:example:a\\b",
            "urn:example:a<b>",
            "urn:example:a[b]",
            "urn:example:a\"b",
            "urn:example:a^b",
            "urn:example:a`b",
            "urn:example:a{b}",
            "urn:example:a|b",
        ] {
            assert!(
                matches!(refused.parse::<TokenType>(), Err(TokenTypeError { .. })),
                "{refused}"
            );
        }
        for taken in [
            "urn:example:custom",
            "URN:example:custom",
            "urn:x-oath:params:oauth:token-type:a",
            "https://tokens.example.com/types/session",
            "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV2.0",
            "urn:example:a%2Fb:c@d/e!$&'()*+,;=-._~",
            "https://tokens.example.com/a@b",
        ] {
            let parsed = taken.parse::<TokenType>().unwrap();
            assert!(
                matches!(&parsed, TokenType::Other(other) if other.as_str() == taken),
                "{taken}"
            );
            assert_eq!(parsed.as_str(), taken);
        }
        for (kind, uri) in KNOWN {
            assert_eq!(uri.parse::<TokenType>().unwrap(), kind);
            assert_eq!(kind.as_str(), uri);
            // RFC 8141 section 3.1: the scheme and NID in any case; the NSS exactly.
            let shouted = uri.replacen("urn:ietf:", "URN:IETF:", 1);
            assert_eq!(shouted.parse::<TokenType>().unwrap(), kind);
            let mixed = uri.replacen("urn:ietf:", "Urn:iEtF:", 1);
            assert_eq!(mixed.parse::<TokenType>().unwrap(), kind);
            let other_nss = uri.replacen("params:oauth", "PARAMS:OAUTH", 1);
            assert!(matches!(
                other_nss.parse::<TokenType>().unwrap(),
                TokenType::Other(_)
            ));
        }
        // At most 256 bytes, so that an error naming a server's type stays short.
        let longest = format!("urn:example:{}", "a".repeat(TokenType::MAX_LEN - 12));
        assert!(longest.parse::<TokenType>().is_ok());
        let too_long = format!("{longest}a");
        let error = too_long.parse::<TokenType>().unwrap_err();
        assert!(error.to_string().len() < 300);
    }

    #[test]
    fn responses_are_read_strictly() {
        let ok = TokenExchangeResponse::parse(200, br#"{"access_token":"at","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":60,"scope":"read"}"#, None)
        .unwrap();
        assert_eq!(ok.issued_token_type, TokenType::AccessToken);
        assert_eq!(ok.expires_in, Some(60));
        assert!(!format!("{ok:?}").contains("\"at\""));
        let missing_type = TokenExchangeResponse::parse(
            200,
            br#"{"access_token":"secret-at","token_type":"N_A"}"#,
            None,
        )
        .unwrap_err();
        assert!(matches!(missing_type, TokenError::MalformedResponse { .. }));
        assert!(!missing_type.to_string().contains("secret-at"));
        assert!(matches!(
            TokenExchangeResponse::parse(400, br#"{"error":"invalid_target"}"#, None).unwrap_err(),
            TokenError::Endpoint(_)
        ));
        assert!(matches!(
            TokenExchangeResponse::parse(200, br#"{"error":"invalid_grant"}"#, None).unwrap_err(),
            TokenError::Endpoint(_)
        ));
        assert!(matches!(
            TokenExchangeResponse::parse(
                200,
                br#"{"access_token":"a\nb","issued_token_type":"urn:x:y","token_type":"N_A"}"#,
                None
            )
            .unwrap_err(),
            TokenError::MalformedResponse { .. }
        ));
    }

    #[test]
    fn the_issued_type_must_be_the_one_requested() {
        let access = br#"{"access_token":"secret-at","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer"}"#;
        let exchange = TokenExchange::new(SecurityToken::new("t").unwrap(), TokenType::IdToken)
            .requested_token_type(TokenType::IdJag);
        let error = TokenExchangeResponse::parse(200, access, exchange.requested()).unwrap_err();
        assert_eq!(
            error,
            TokenError::WrongIssuedTokenType {
                requested: TokenType::IdJag,
                issued: TokenType::AccessToken,
            }
        );
        assert!(!error.to_string().contains("secret-at"));
        assert!(TokenExchangeResponse::parse(200, access, Some(&TokenType::AccessToken)).is_ok());
        // Nothing requested: the server chose.
        let open = TokenExchange::new(SecurityToken::new("t").unwrap(), TokenType::IdToken);
        assert_eq!(open.requested(), None);
        assert!(TokenExchangeResponse::parse(200, access, open.requested()).is_ok());
        // `javascript:` is no token type, issued or not.
        let script = br#"{"access_token":"at","issued_token_type":"javascript:alert(1)","token_type":"N_A"}"#;
        assert!(matches!(
            TokenExchangeResponse::parse(200, script, None),
            Err(TokenError::MalformedResponse { .. })
        ));
    }
}

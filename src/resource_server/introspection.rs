//! Token introspection (RFC 7662): asking the authorization server whether a token is active, for
//! opaque tokens or to notice revoked ones.

use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

use crate::claim_values::{numeric_date, one_or_many};
use crate::credential::AccessToken;
use crate::error::json_fault;
use crate::mcp::ClientCredentials;
use crate::scope_list::{ScopeList, ScopeToken};
use crate::token::TokenRequest;

/// The introspection request for `token` (RFC 7662 section 2.1): `token` and
/// `token_type_hint=access_token`, with the resource server's own client authentication as its
/// registration says (AuthKit: `client_id` and `client_secret`). `endpoint` is the metadata's
/// `introspection_endpoint`, `https://<authkit domain>/oauth2/introspection`.
///
/// The request is a form `POST` like a token request, and shares its type: its `Debug` hides the
/// token and the secret.
///
/// ```
/// use workos_connect::mcp::{ClientCredentials, TokenEndpointAuth};
/// use workos_connect::resource_server::introspection_request;
/// use workos_connect::{AccessToken, ClientSecret};
///
/// let api = ClientCredentials::pre_registered(
///     "https://example.authkit.app".parse()?,
///     "client_01API".parse()?,
///     Some(ClientSecret::new("sk_example")?),
///     TokenEndpointAuth::ClientSecretPost,
/// )?;
/// let request = introspection_request(
///     &"https://example.authkit.app/oauth2/introspection".parse()?,
///     &api,
///     &AccessToken::new("opaque"),
/// );
/// assert_eq!(
///     request.body(),
///     "token=opaque&token_type_hint=access_token&client_id=client_01API&client_secret=sk_example"
/// );
/// assert!(!format!("{request:?}").contains("opaque"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn introspection_request(
    endpoint: &Url,
    credentials: &ClientCredentials,
    token: &AccessToken,
) -> TokenRequest {
    credentials.authenticated(
        endpoint.clone(),
        vec![
            ("token", token.secret().to_owned()),
            ("token_type_hint", "access_token".to_owned()),
        ],
    )
}

/// The answer to an introspection request: `active` first, and an inactive token carries nothing
/// else (RFC 7662 section 2.2: the server may say nothing more, and nothing more may be trusted).
#[derive(Debug, Clone, PartialEq)]
pub enum Introspection {
    /// Expired, revoked, unknown, or not for this caller.
    Inactive,
    /// Active, with what the server says about it. Check its `aud` and `scope` before serving.
    Active(IntrospectedToken),
}

/// What the authorization server says about an active token (RFC 7662 section 2.2).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IntrospectedToken {
    /// The scopes granted.
    pub scope: ScopeList,
    /// The client the token was issued to.
    pub client_id: Option<String>,
    /// The subject.
    pub sub: Option<String>,
    /// The audiences.
    pub aud: Vec<String>,
    /// The issuer.
    pub iss: Option<String>,
    /// Expiry, in seconds since the Unix epoch.
    pub exp: Option<u64>,
    /// Issue time, in seconds since the Unix epoch.
    pub iat: Option<u64>,
    /// The token's unique ID.
    pub jti: Option<String>,
    other: Map<String, Value>,
}

impl IntrospectedToken {
    /// A member this type does not name (`org_id`, `username`, ...).
    pub fn member(&self, name: &str) -> Option<&Value> {
        self.other.get(name)
    }
}

/// Why an introspection answer was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntrospectionError {
    /// The endpoint answered an error status: 401 when this resource server's own credentials were
    /// refused.
    #[error("the introspection endpoint answered HTTP {status}")]
    Status {
        /// The HTTP status.
        status: u16,
    },
    /// Not the JSON object RFC 7662 describes. The reason gives the position, not the text.
    #[error("the introspection response is malformed: {reason}")]
    Malformed {
        /// What is wrong, and where.
        reason: String,
    },
}

#[derive(Deserialize)]
struct Raw {
    active: bool,
    scope: Option<String>,
    client_id: Option<String>,
    sub: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    aud: Vec<String>,
    iss: Option<String>,
    #[serde(default, deserialize_with = "numeric_date")]
    exp: Option<u64>,
    #[serde(default, deserialize_with = "numeric_date")]
    iat: Option<u64>,
    jti: Option<String>,
    #[serde(flatten)]
    other: Map<String, Value>,
}

impl Introspection {
    /// Reads the endpoint's answer: its HTTP status and body.
    ///
    /// ```
    /// use workos_connect::resource_server::Introspection;
    ///
    /// let active = Introspection::parse(200, br#"{"active":true,"scope":"mcp:tools","sub":"user_01","exp":1900000000}"#)?;
    /// let Introspection::Active(token) = active else { panic!() };
    /// assert!(token.scope.contains("mcp:tools"));
    /// assert_eq!(Introspection::parse(200, br#"{"active":false,"sub":"ignored"}"#)?, Introspection::Inactive);
    /// # Ok::<(), workos_connect::resource_server::IntrospectionError>(())
    /// ```
    pub fn parse(status: u16, body: &[u8]) -> Result<Introspection, IntrospectionError> {
        if !(200..300).contains(&status) {
            return Err(IntrospectionError::Status { status });
        }
        let raw: Raw =
            serde_json::from_slice(body).map_err(|error| IntrospectionError::Malformed {
                reason: json_fault(&error),
            })?;
        if !raw.active {
            return Ok(Introspection::Inactive);
        }
        Ok(Introspection::Active(IntrospectedToken {
            scope: raw
                .scope
                .as_deref()
                .unwrap_or_default()
                .split(' ')
                .filter_map(|name| ScopeToken::new(name).ok())
                .collect(),
            client_id: raw.client_id,
            sub: raw.sub,
            aud: raw.aud,
            iss: raw.iss,
            exp: raw.exp,
            iat: raw.iat,
            jti: raw.jti,
            other: raw.other,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::ClientSecret;
    use crate::mcp::TokenEndpointAuth;

    #[test]
    fn the_request_authenticates_as_registered() {
        let basic = ClientCredentials::pre_registered(
            "https://example.authkit.app".parse().unwrap(),
            "api".parse().unwrap(),
            Some(ClientSecret::new("s").unwrap()),
            TokenEndpointAuth::ClientSecretBasic,
        )
        .unwrap();
        let request = introspection_request(
            &"https://example.authkit.app/oauth2/introspection"
                .parse()
                .unwrap(),
            &basic,
            &AccessToken::new("t"),
        );
        assert_eq!(request.body(), "token=t&token_type_hint=access_token");
        assert_eq!(request.authorization(), Some("Basic YXBpOnM="));
    }

    #[test]
    fn active_comes_first_and_inactive_says_nothing() {
        let active = br#"{"active":true,"scope":"a b","client_id":"c","aud":["r"],"exp":1.5e9,"org_id":"org_1"}"#;
        let Introspection::Active(token) = Introspection::parse(200, active).unwrap() else {
            panic!("active")
        };
        assert_eq!(token.scope.to_string(), "a b");
        assert_eq!(token.aud, ["r"]);
        assert_eq!(token.exp, Some(1_500_000_000));
        assert_eq!(token.member("org_id").unwrap(), "org_1");
        assert_eq!(
            Introspection::parse(200, br#"{"active":false,"scope":"admin"}"#).unwrap(),
            Introspection::Inactive
        );
        for bad in [
            &br#"{"scope":"a"}"#[..],
            br#"{"active":"yes"}"#,
            b"[]",
            b"secret-token",
        ] {
            let error = Introspection::parse(200, bad).unwrap_err();
            assert!(
                matches!(error, IntrospectionError::Malformed { .. }),
                "{error:?}"
            );
            assert!(!error.to_string().contains("secret"));
        }
        assert_eq!(
            Introspection::parse(401, br#"{"error":"invalid_client"}"#),
            Err(IntrospectionError::Status { status: 401 })
        );
    }
}

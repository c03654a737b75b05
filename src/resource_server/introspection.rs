//! Token introspection (RFC 7662): asking the authorization server whether a token is active, for
//! opaque tokens or to notice revoked ones.

use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

use crate::jose::claim_values::{numeric_date, one_or_many};
use crate::oauth::credential::AccessToken;
use crate::oauth::endpoint::{check_endpoint, EndpointError, FORM_REQUEST_PARAMETERS};
use crate::oauth::scope_list::ScopeList;
use crate::oauth::token_request::TokenRequest;
use crate::registration::credentials::ClientCredentials;

/// The introspection request for `token` (RFC 7662 section 2.1): `token` and
/// `token_type_hint=access_token`, with the resource server's own client authentication as its
/// registration says (AuthKit: `client_id` and `client_secret`). `endpoint` is the metadata's
/// `introspection_endpoint`, `https://<authkit domain>/oauth2/introspection`.
///
/// The request is a form `POST` like a token request, and shares its type: its `Debug` hides the
/// token and the secret. Refused for an endpoint that is not `https` (or loopback `http`), one with
/// a fragment (RFC 6749 section 3.1), one that is not on the credentials' issuer's origin and under
/// its path (their secret goes nowhere else), or a public client, which RFC 7662 section 2.1 does
/// not let introspect.
///
/// "Under its path" compares the parsed paths, segment by segment: the issuer
/// `https://as.example.com/tenant1` covers `/tenant1` and `/tenant1/...`, not `/tenant2/...` nor
/// `/tenant10/...`, since an issuer with a path names one tenant of its host (RFC 8414 section 3)
/// and the credentials belong to that tenant alone. A bare origin, as AuthKit's issuer is, covers
/// every path on it.
///
/// ```
/// use workos_connect::registration::{ClientCredentials, TokenEndpointAuth};
/// use workos_connect::resource_server::introspection_request;
/// use workos_connect::oauth::{AccessToken, ClientSecret};
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
///     &AccessToken::new("opaque")?,
/// )?;
/// assert!(introspection_request(&"https://evil.example/introspect".parse()?, &api, &AccessToken::new("opaque")?).is_err());
///
/// let tenant = ClientCredentials::pre_registered(
///     "https://as.example.com/tenant1".parse()?,
///     "api".parse()?,
///     Some(ClientSecret::new("sk_example")?),
///     TokenEndpointAuth::ClientSecretPost,
/// )?;
/// assert!(introspection_request(&"https://as.example.com/tenant1/introspect".parse()?, &tenant, &AccessToken::new("opaque")?).is_ok());
/// assert!(introspection_request(&"https://as.example.com/tenant2/introspect".parse()?, &tenant, &AccessToken::new("opaque")?).is_err());
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
) -> Result<TokenRequest, IntrospectionError> {
    check_endpoint(endpoint, FORM_REQUEST_PARAMETERS)?;
    // The credentials' issuer binding: their secret goes to their own authorization server only,
    // and on a host with several tenants, to their own tenant only.
    credentials.check_own_endpoint(endpoint)?;
    if !credentials.auth_method().is_confidential() {
        return Err(IntrospectionError::PublicClient);
    }
    Ok(credentials.authenticated(
        endpoint.clone(),
        vec![
            ("token", token.secret().to_owned()),
            ("token_type_hint", "access_token".to_owned()),
        ],
    ))
}

/// The answer to an introspection request: `active` first, and an inactive token carries nothing
/// else (RFC 7662 section 2.2: the server may say nothing more, and nothing more may be trusted).
#[derive(Debug, Clone, PartialEq)]
pub enum Introspection {
    /// Expired, revoked, unknown, or not for this caller.
    Inactive,
    /// Active, with what the server says about it. Check it with
    /// `AccessTokenCheck::check_introspected` (its `token_type`, `aud`, `scope` and times) before
    /// serving. Boxed, so that an inactive answer does not take the claims' room.
    Active(Box<IntrospectedToken>),
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
    /// The kind of token (RFC 7662 section 2.2, with the names of RFC 6749 section 7.1): `Bearer`
    /// for a bearer access token, or `access_token` and `refresh_token` as AuthKit names them.
    /// Another kind than a bearer access token, such as a refresh token or a DPoP-bound token, is
    /// refused by `AccessTokenCheck::check_introspected`. Servers may leave it out.
    pub token_type: Option<String>,
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
    /// The endpoint cannot be sent the token: not `https` (nor `http` on loopback), a fragment or
    /// a parameter of the request in its query, or not the credentials' issuer's (RFC 8414
    /// section 3).
    #[error("the introspection endpoint cannot be sent the token: {0}")]
    Endpoint(#[from] EndpointError),
    /// The credentials are a public client's, without a secret to authenticate with.
    #[error(
        "introspection needs a confidential client, one that authenticates with a client secret or a private key (RFC 7662 section 2.1)"
    )]
    PublicClient,
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
#[serde(remote = "Self")]
struct Head {
    active: bool,
}
crate::oauth::json_object::object_only!(Head);

#[derive(Deserialize)]
#[serde(remote = "Self")]
struct Raw {
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
    token_type: Option<String>,
    #[serde(flatten)]
    other: Map<String, Value>,
}
crate::oauth::json_object::object_only!(Raw);

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
        let malformed =
            |error: crate::oauth::json_object::JsonFault| IntrospectionError::Malformed {
                reason: error.to_string(),
            };
        // `active` alone first: an inactive answer's other members are not read at all.
        let head: Head = crate::oauth::json_object::from_slice(body).map_err(malformed)?;
        if !head.active {
            return Ok(Introspection::Inactive);
        }
        let raw: Raw = crate::oauth::json_object::from_slice(body).map_err(malformed)?;
        Ok(Introspection::Active(Box::new(IntrospectedToken {
            scope: ScopeList::of_valid_names(raw.scope.as_deref().unwrap_or_default().split(' ')),
            client_id: raw.client_id,
            sub: raw.sub,
            aud: raw.aud,
            iss: raw.iss,
            exp: raw.exp,
            iat: raw.iat,
            jti: raw.jti,
            token_type: raw.token_type,
            other: raw.other,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::credential::ClientSecret;
    use crate::registration::TokenEndpointAuth;

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
            &AccessToken::new("t").unwrap(),
        )
        .unwrap();
        assert_eq!(request.body(), "token=t&token_type_hint=access_token");
        assert_eq!(
            introspection_request(
                &"https://as.example.com/introspect?token=other"
                    .parse()
                    .unwrap(),
                &basic,
                &AccessToken::new("t").unwrap(),
            )
            .unwrap_err(),
            IntrospectionError::Endpoint(EndpointError::Parameter { parameter: "token" })
        );
        assert_eq!(request.authorization(), Some("Basic YXBpOnM="));
        let token = AccessToken::new("t").unwrap();
        let to = |url: &str| introspection_request(&url.parse().unwrap(), &basic, &token);
        assert_eq!(
            to("http://example.authkit.app/i").unwrap_err(),
            IntrospectionError::Endpoint(EndpointError::Insecure)
        );
        assert!(matches!(
            to("https://evil.example/i"),
            Err(IntrospectionError::Endpoint(
                EndpointError::NotIssuers { .. }
            ))
        ));
        let public = ClientCredentials::pre_registered(
            "https://example.authkit.app".parse().unwrap(),
            "app".parse().unwrap(),
            None,
            TokenEndpointAuth::None,
        )
        .unwrap();
        assert_eq!(
            introspection_request(
                &"https://example.authkit.app/i".parse().unwrap(),
                &public,
                &token
            )
            .unwrap_err(),
            IntrospectionError::PublicClient
        );
    }

    fn confidential(issuer: &str) -> ClientCredentials {
        ClientCredentials::pre_registered(
            issuer.parse().unwrap(),
            "api".parse().unwrap(),
            Some(ClientSecret::new("s").unwrap()),
            TokenEndpointAuth::ClientSecretPost,
        )
        .unwrap()
    }

    #[test]
    fn the_endpoint_is_under_the_issuers_path() {
        let token = AccessToken::new("t").unwrap();
        let tenant1 = confidential("https://as.example.com/tenant1");
        let to = |credentials: &ClientCredentials, url: &str| {
            introspection_request(&url.parse().unwrap(), credentials, &token)
        };
        for url in [
            "https://as.example.com/tenant1/introspect",
            "https://as.example.com/tenant1/oauth/introspect",
            "https://as.example.com/tenant1",
            "https://as.example.com/tenant1/introspect?realm=a",
        ] {
            assert!(to(&tenant1, url).is_ok(), "{url}");
        }
        // Another tenant of the same host, one whose path merely begins with the same letters, and
        // one reached through dot segments, which the URL parser resolves before the comparison.
        for url in [
            "https://as.example.com/tenant2/introspect",
            "https://as.example.com/tenant10/introspect",
            "https://as.example.com/tenant1/../tenant2/introspect",
            "https://as.example.com/tenant1/%2e%2e/tenant2/introspect",
            "https://as.example.com/introspect",
            "https://as.example.com/",
            "https://other.example.com/tenant1/introspect",
            "https://as.example.com:8443/tenant1/introspect",
        ] {
            let refused = to(&tenant1, url).unwrap_err();
            assert_eq!(
                refused,
                IntrospectionError::Endpoint(EndpointError::NotIssuers {
                    issuer: Box::new("https://as.example.com/tenant1".parse().unwrap())
                }),
                "{url}"
            );
            assert!(refused.to_string().contains("not under its path"), "{url}");
        }
        // An issuer given with a trailing `/` names the same tenant.
        let slashed = confidential("https://as.example.com/tenant1/");
        assert!(to(&slashed, "https://as.example.com/tenant1/introspect").is_ok());
        assert!(to(&slashed, "https://as.example.com/tenant10/introspect").is_err());
        // A bare origin, as AuthKit's issuer is, covers every path on it.
        for issuer in [
            "https://example.authkit.app",
            "https://example.authkit.app/",
        ] {
            let root = confidential(issuer);
            for url in [
                "https://example.authkit.app/oauth2/introspection",
                "https://example.authkit.app/",
                "https://example.authkit.app/a/b/c",
            ] {
                assert!(to(&root, url).is_ok(), "{issuer} {url}");
            }
            assert!(matches!(
                to(&root, "https://evil.example/oauth2/introspection"),
                Err(IntrospectionError::Endpoint(
                    EndpointError::NotIssuers { .. }
                ))
            ));
        }
        // RFC 6749 section 3.1: an endpoint has no fragment, even an empty one.
        for url in [
            "https://as.example.com/tenant1/introspect#x",
            "https://as.example.com/tenant1/introspect#",
        ] {
            assert_eq!(
                to(&tenant1, url).unwrap_err().to_string(),
                "the introspection endpoint cannot be sent the token: it has a fragment, which RFC \
                 6749 section 3.1 forbids",
                "{url}"
            );
        }
    }

    #[test]
    fn active_comes_first_and_inactive_says_nothing() {
        let active = br#"{"active":true,"scope":"a b","client_id":"c","aud":["r"],"exp":1.5e9,"org_id":"org_1","token_type":"Bearer"}"#;
        let Introspection::Active(token) = Introspection::parse(200, active).unwrap() else {
            panic!("active")
        };
        assert_eq!(token.token_type.as_deref(), Some("Bearer"));
        assert!(token.member("token_type").is_none());
        assert_eq!(token.scope.to_string(), "a b");
        assert_eq!(token.aud, ["r"]);
        assert_eq!(token.exp, Some(1_500_000_000));
        assert_eq!(token.member("org_id").unwrap(), "org_1");
        for inactive in [
            &br#"{"active":false,"scope":"admin"}"#[..],
            br#"{"active":false,"exp":"n/a","aud":null,"scope":["x"]}"#,
        ] {
            assert_eq!(
                Introspection::parse(200, inactive).unwrap(),
                Introspection::Inactive
            );
        }
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

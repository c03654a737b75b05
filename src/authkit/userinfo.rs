//! The userinfo endpoint (OpenID Connect Core section 5.3): who an access token was issued to.

use std::fmt;

use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;
use zeroize::Zeroize;

use crate::authkit::domain::AuthKitDomain;
use crate::oauth::challenge::{BearerChallenge, BearerError};
use crate::oauth::credential::AccessToken;
use crate::oauth::encoding::is_unsafe_to_show;
use crate::oauth::endpoint::EndpointError;
use crate::oauth::host_rules::is_https_or_loopback;

/// A `GET` of the userinfo endpoint with the access token as a bearer credential (RFC 6750 section
/// 2.1). Its `Debug` hides the token.
///
/// ```
/// use workos_connect::{authkit::UserinfoRequest, oauth::AccessToken};
///
/// let request = UserinfoRequest::for_domain(&"https://example.authkit.app".parse()?, &AccessToken::new("at")?);
/// assert_eq!(request.url().as_str(), "https://example.authkit.app/oauth2/userinfo");
/// assert_eq!(request.authorization(), "Bearer at");
/// assert!(!format!("{request:?}").contains("at\""));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct UserinfoRequest {
    url: Url,
    authorization: String,
}

impl UserinfoRequest {
    /// The request to AuthKit's `/oauth2/userinfo` on `domain`.
    pub fn for_domain(domain: &AuthKitDomain, token: &AccessToken) -> Self {
        Self::to(domain.userinfo_endpoint(), token)
    }

    /// The request to `endpoint`, such as an authorization server's `userinfo_endpoint`, which must
    /// be `https` (or `http` on a loopback host): the access token is sent there.
    pub fn new(endpoint: Url, token: &AccessToken) -> Result<Self, UserinfoError> {
        if !is_https_or_loopback(&endpoint) {
            return Err(UserinfoError::Endpoint(EndpointError::Insecure));
        }
        Ok(Self::to(endpoint, token))
    }

    fn to(url: Url, token: &AccessToken) -> Self {
        UserinfoRequest {
            url,
            authorization: format!("Bearer {}", token.secret()),
        }
    }

    /// The endpoint to `GET`.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The `Authorization` header value, `Bearer <access token>`: send it and let it go.
    pub fn authorization(&self) -> &str {
        &self.authorization
    }
}

impl fmt::Debug for UserinfoRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserinfoRequest")
            .field("url", &self.url.as_str())
            .field("authorization", &"Bearer ..")
            .finish()
    }
}

impl Drop for UserinfoRequest {
    fn drop(&mut self) {
        self.authorization.zeroize();
    }
}

/// The claims the userinfo endpoint returned. `sub` is always there; the others depend on the
/// scopes granted (`email`, `profile`). Made only by [`parse`](Self::parse), which checks them.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Userinfo {
    /// The user's ID. Check it equals the ID token's `sub` before merging the two
    /// ([`Userinfo::check_subject`]).
    pub sub: String,
    /// `email`.
    pub email: Option<String>,
    /// `email_verified`.
    pub email_verified: Option<bool>,
    /// `name`.
    pub name: Option<String>,
    /// `given_name`.
    pub given_name: Option<String>,
    /// `family_name`.
    pub family_name: Option<String>,
    /// `picture`, a URL.
    pub picture: Option<String>,
    other: Map<String, Value>,
}

/// A userinfo response as read, before `parse` checks it.
#[derive(Deserialize)]
#[serde(remote = "Self")]
struct RawUserinfo {
    sub: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<bool>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    family_name: Option<String>,
    #[serde(default)]
    picture: Option<String>,
    #[serde(flatten)]
    other: Map<String, Value>,
}
crate::oauth::json_object::object_only!(RawUserinfo);

impl Userinfo {
    /// Reads the endpoint's answer: its status, its `WWW-Authenticate` header if any (several
    /// joined with `, `, as HTTP allows), and its body. The claims shown to people (`sub`, `email`,
    /// the names, `picture`) are refused if they hold a control character, a bidirectional
    /// formatting character or an invisible one such as a zero-width space.
    ///
    /// A 401 or 403 is [`UserinfoError::Refused`] with RFC 6750's error from the challenge (or
    /// AuthKit's `{"error":"unauthorized"}` body): get a new access token.
    ///
    /// ```
    /// use workos_connect::authkit::{Userinfo, UserinfoError};
    ///
    /// let user = Userinfo::parse(200, None, br#"{"sub":"user_01","email":"ada@example.com","email_verified":true}"#)?;
    /// assert_eq!(user.email.as_deref(), Some("ada@example.com"));
    ///
    /// let refused = Userinfo::parse(401, None, br#"{"error":"unauthorized"}"#).unwrap_err();
    /// assert!(matches!(refused, UserinfoError::Refused { status: 401, .. }));
    /// # Ok::<(), UserinfoError>(())
    /// ```
    pub fn parse(
        status: u16,
        www_authenticate: Option<&str>,
        body: &[u8],
    ) -> Result<Userinfo, UserinfoError> {
        if status == 401 || status == 403 {
            let challenge = www_authenticate.and_then(|header| BearerChallenge::parse(header).ok());
            let error = challenge
                .and_then(|challenge| challenge.error)
                .or_else(|| body_error(body))
                .filter(|error| is_printable_code(error.as_str()));
            return Err(UserinfoError::Refused { status, error });
        }
        if !(200..300).contains(&status) {
            return Err(UserinfoError::UnexpectedStatus { status });
        }
        let raw: RawUserinfo = crate::oauth::json_object::from_slice(body).map_err(|error| {
            UserinfoError::Malformed {
                reason: error.to_string(),
            }
        })?;
        let user = Userinfo {
            sub: raw.sub,
            email: raw.email,
            email_verified: raw.email_verified,
            name: raw.name,
            given_name: raw.given_name,
            family_name: raw.family_name,
            picture: raw.picture,
            other: raw.other,
        };
        if user.sub.is_empty() {
            return Err(UserinfoError::Malformed {
                reason: "sub is empty".to_owned(),
            });
        }
        // These are shown to people: a control character would rewrite a terminal or a log line, a
        // bidirectional one reorder it, an invisible one make one name pass for another.
        let shown = [
            ("sub", Some(&user.sub)),
            ("email", user.email.as_ref()),
            ("name", user.name.as_ref()),
            ("given_name", user.given_name.as_ref()),
            ("family_name", user.family_name.as_ref()),
            ("picture", user.picture.as_ref()),
        ];
        for (claim, value) in shown {
            if value.is_some_and(|text| text.chars().any(is_unsafe_to_show)) {
                return Err(UserinfoError::ControlCharacter { claim });
            }
        }
        Ok(user)
    }

    /// A claim this type does not name.
    pub fn member(&self, name: &str) -> Option<&Value> {
        self.other.get(name)
    }

    /// Checks that these claims are about the user of the ID token whose `sub` is given (OpenID
    /// Connect Core section 5.3.2): a response for another user must not be merged with it.
    pub fn check_subject(&self, sub: &str) -> Result<(), UserinfoError> {
        if self.sub == sub {
            Ok(())
        } else {
            Err(UserinfoError::SubjectMismatch)
        }
    }
}

/// The `error` of a refusal's JSON body, which AuthKit sends instead of a challenge.
fn body_error(body: &[u8]) -> Option<BearerError> {
    #[derive(Deserialize)]
    #[serde(remote = "Self")]
    struct Refusal {
        error: String,
    }
    crate::oauth::json_object::object_only!(Refusal);

    let refusal: Refusal = crate::oauth::json_object::from_slice(body).ok()?;
    Some(BearerError::parse(&refusal.error))
}

/// RFC 6749 section 5.2's characters for `error`, and short: it ends up in messages and logs.
fn is_printable_code(code: &str) -> bool {
    code.len() <= 64
        && code
            .bytes()
            .all(|b| matches!(b, 0x20..=0x7e) && b != b'"' && b != b'\\')
}

/// Why a userinfo request or response was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UserinfoError {
    /// The endpoint is not `https` (nor `http` on a loopback host,
    /// [`EndpointError::Insecure`]), and the access token would be sent in the clear.
    #[error("the userinfo endpoint cannot be sent the access token: {0}")]
    Endpoint(EndpointError),
    /// 401 or 403: the access token is missing, expired, revoked or lacks `openid`.
    #[error("the userinfo endpoint refused the access token (HTTP {status}{})", error.as_ref().map(|e| format!(", {}", e.as_str())).unwrap_or_default())]
    Refused {
        /// 401 or 403.
        status: u16,
        /// The error from the challenge or the body (`invalid_token`, `insufficient_scope`,
        /// AuthKit's `unauthorized`), if given.
        error: Option<BearerError>,
    },
    /// Another error status.
    #[error("the userinfo endpoint answered HTTP {status}")]
    UnexpectedStatus {
        /// The HTTP status.
        status: u16,
    },
    /// Not a JSON object with a non-empty `sub`. The reason gives the fault and its position.
    #[error("the userinfo response is malformed: {reason}")]
    Malformed {
        /// What is wrong, and where.
        reason: String,
    },
    /// A claim meant to be shown (`sub`, `email`, the names, `picture`) holds a control character or
    /// a bidirectional formatting character (or another invisible one, such as a zero-width space).
    /// The name is kept from when it covered control characters only.
    #[error(
        "the userinfo response's {claim} holds a control or bidirectional formatting character"
    )]
    ControlCharacter {
        /// The claim.
        claim: &'static str,
    },
    /// The claims are about another user than the ID token's.
    #[error("the userinfo response is about another user than the ID token")]
    SubjectMismatch,
}

#[cfg(feature = "http")]
impl UserinfoRequest {
    /// The request as an `http::Request`: `GET`, `Accept: application/json`, and the access token
    /// in a sensitive `Authorization` header.
    ///
    /// ```
    /// use workos_connect::{authkit::UserinfoRequest, oauth::AccessToken};
    ///
    /// let request = UserinfoRequest::for_domain(&"https://example.authkit.app".parse()?, &AccessToken::new("at")?)
    ///     .to_http()?;
    /// assert_eq!(request.method(), "GET");
    /// assert!(request.headers()["authorization"].is_sensitive());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_http(&self) -> Result<http::Request<()>, http::Error> {
        let mut authorization = http::HeaderValue::try_from(self.authorization())?;
        authorization.set_sensitive(true);
        http::Request::get(self.url().as_str())
            .header(http::header::ACCEPT, "application/json")
            .header(http::header::AUTHORIZATION, authorization)
            .body(())
    }
}

#[cfg(feature = "http")]
impl Userinfo {
    /// Reads the userinfo endpoint's answer from an `http::Response`, with its
    /// `WWW-Authenticate` header; see [`parse`](Self::parse).
    pub fn from_http<B: AsRef<[u8]>>(
        response: &http::Response<B>,
    ) -> Result<Userinfo, UserinfoError> {
        let challenge = response
            .headers()
            .get(http::header::WWW_AUTHENTICATE)
            .and_then(|value| value.to_str().ok());
        Self::parse(
            response.status().as_u16(),
            challenge,
            response.body().as_ref(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_carries_the_challenge_error() {
        let refused = Userinfo::parse(
            401,
            Some(r#"Bearer error="invalid_token", error_description="expired""#),
            b"",
        )
        .unwrap_err();
        assert_eq!(
            refused,
            UserinfoError::Refused {
                status: 401,
                error: Some(BearerError::InvalidToken)
            }
        );
        assert_eq!(
            refused.to_string(),
            "the userinfo endpoint refused the access token (HTTP 401, invalid_token)"
        );
        let authkit = Userinfo::parse(401, None, br#"{"error":"unauthorized"}"#).unwrap_err();
        assert!(matches!(
            authkit,
            UserinfoError::Refused { status: 401, error: Some(BearerError::Other(ref code)) } if code == "unauthorized"
        ));
        assert_eq!(
            Userinfo::parse(403, Some("Bearer error=\"insufficient_scope\""), b"").unwrap_err(),
            UserinfoError::Refused {
                status: 403,
                error: Some(BearerError::InsufficientScope)
            }
        );
        // A code a terminal would act on is not repeated, from the body or the challenge.
        assert_eq!(
            Userinfo::parse(401, Some("Bearer error=\"a\tb\""), b"").unwrap_err(),
            UserinfoError::Refused {
                status: 401,
                error: None
            }
        );
        assert_eq!(
            Userinfo::parse(401, None, b"{\"error\":\"\\u001b[2Jx\"}").unwrap_err(),
            UserinfoError::Refused {
                status: 401,
                error: None
            }
        );
        assert_eq!(
            Userinfo::parse(500, None, b"oops").unwrap_err(),
            UserinfoError::UnexpectedStatus { status: 500 }
        );
    }

    #[test]
    fn claims_are_typed_and_checked() {
        let user = Userinfo::parse(
            200,
            None,
            br#"{"sub":"user_01","name":"Ada Lovelace","given_name":"Ada","org":"o1"}"#,
        )
        .unwrap();
        assert_eq!(user.given_name.as_deref(), Some("Ada"));
        assert_eq!(user.member("org").unwrap(), "o1");
        assert!(user.check_subject("user_01").is_ok());
        assert_eq!(
            user.check_subject("user_02").unwrap_err(),
            UserinfoError::SubjectMismatch
        );
        assert!(matches!(
            Userinfo::parse(200, None, br#"{"sub":""}"#),
            Err(UserinfoError::Malformed { .. })
        ));
        for claim in [
            "sub",
            "email",
            "name",
            "given_name",
            "family_name",
            "picture",
        ] {
            let mut body = serde_json::json!({"sub": "u"});
            body[claim] = "Ada\u{1b}]0;owned\u{7}".into();
            assert_eq!(
                Userinfo::parse(200, None, body.to_string().as_bytes()),
                Err(UserinfoError::ControlCharacter { claim }),
                "{claim}"
            );
        }
        assert!(matches!(
            Userinfo::parse(200, None, br#"{"email":"a@b"}"#),
            Err(UserinfoError::Malformed { .. })
        ));
    }

    #[test]
    fn bidi_and_invisible_characters_are_refused_in_shown_claims() {
        for claim in [
            "sub",
            "email",
            "name",
            "given_name",
            "family_name",
            "picture",
        ] {
            for &c in crate::oauth::encoding::UNSAFE_FORMAT_CHARACTERS {
                let mut body = serde_json::json!({"sub": "u"});
                body[claim] = format!("Ada{c}Lovelace").into();
                assert_eq!(
                    Userinfo::parse(200, None, body.to_string().as_bytes()),
                    Err(UserinfoError::ControlCharacter { claim }),
                    "{claim} {c:?}"
                );
            }
        }
        let error = UserinfoError::ControlCharacter { claim: "name" };
        assert!(error.to_string().contains("bidirectional"), "{error}");
        // Accents and right-to-left scripts without controls are names like any other.
        for name in ["José Müller", "שרה כהן", "محمد"] {
            let body = serde_json::json!({"sub": "u", "name": name});
            let user = Userinfo::parse(200, None, body.to_string().as_bytes()).unwrap();
            assert_eq!(user.name.as_deref(), Some(name));
        }
    }

    #[test]
    fn the_token_goes_only_to_https_or_loopback() {
        let token = AccessToken::new("secret-token").unwrap();
        assert_eq!(
            UserinfoRequest::new("http://example.com/userinfo".parse().unwrap(), &token)
                .unwrap_err(),
            UserinfoError::Endpoint(EndpointError::Insecure)
        );
        let request =
            UserinfoRequest::new("http://127.0.0.1:3000/me".parse().unwrap(), &token).unwrap();
        assert_eq!(request.authorization(), "Bearer secret-token");
        assert!(!format!("{request:?}").contains("secret-token"));
    }
}

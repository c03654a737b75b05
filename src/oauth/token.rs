//! The token endpoint: the request that redeems a code or refresh token, and its response.
//!
//! Sans-IO: [`TokenRequest`] gives the URL and the form body to `POST` with any HTTP client, and
//! [`TokenResponse::parse`] reads the status and body that came back.

use std::fmt;
use std::time::SystemTime;

use serde::Deserialize;

use crate::oauth::callback::{ErrorCode, OAuthError};
use crate::oauth::clock::unix_seconds;
use crate::oauth::credential::{AccessToken, IdToken, RefreshToken};
use crate::oauth::encoding::is_nqschar;
use crate::oauth::error::Error;

/// Why a token request could not be built, or a token response was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The pending login was started by another application, against another AuthKit domain, or with
    /// another `redirect_uri`.
    #[error("the pending login's {field} does not match this client's; it was started by another application")]
    ClientMismatch {
        /// The setting that differs: `client_id`, `issuer` or `redirect_uri`.
        field: &'static str,
    },
    /// The token endpoint answered with an OAuth error (RFC 6749 section 5.2).
    #[error(transparent)]
    Endpoint(OAuthError),
    /// The token endpoint answered with an error status and a body that is not an OAuth error.
    #[error("the token endpoint answered HTTP {status} without an OAuth error body")]
    UnexpectedStatus {
        /// The HTTP status.
        status: u16,
    },
    /// A success response that is not the JSON a token response must be, or whose `access_token` is
    /// empty. The reason gives the kind of fault and its position, or the field at fault, never the
    /// body's text, which holds tokens.
    #[error("the token response is malformed: {reason}")]
    MalformedResponse {
        /// What is wrong, and where.
        reason: String,
    },
    /// A token type other than `Bearer` or `DPoP`, which this crate cannot use.
    #[error(
        "the token response's token_type is {token_type:?}; only `Bearer` and `DPoP` are supported"
    )]
    UnsupportedTokenType {
        /// The type received.
        token_type: String,
    },
    /// A `DPoP` token for a request that sent no DPoP proof (RFC 9449 §5): the token is bound to
    /// a key this client does not hold, so no request could use it.
    #[error(
        "the token endpoint issued a DPoP-bound token (token_type DPoP) to a request that sent no \
         DPoP proof; the client holds no key to use it with"
    )]
    DpopWithoutProof,
    /// A `Bearer` token for a request that sent a DPoP proof (RFC 9449 §5): the server did not
    /// bind the token, so anyone who sees it can use it. A client sends a proof when it was given
    /// a key or the server advertised DPoP, so this is a server that dropped the binding or an
    /// answer that was tampered with; the token is not used. To accept it anyway, as RFC 9449 §5
    /// lets a client that cannot know whether the server supports DPoP, read the same answer with
    /// [`TokenResponse::parse`]; an MCP login sends no proof with
    /// [`without_dpop`](crate::mcp::McpClientSettings::without_dpop).
    #[error(
        "the token endpoint issued a bearer token (token_type Bearer) to a request that sent a \
         DPoP proof; the token is not bound to the client's key, so it was not taken"
    )]
    DpopDowngraded,
    /// The token endpoint wants its nonce in the DPoP proof (`400 use_dpop_nonce`, RFC 9449 §8).
    /// The nonce was kept: send the request again, once, with a new proof.
    #[error(
        "the token endpoint asks for its nonce in the DPoP proof (use_dpop_nonce); send the \
         request again with a new proof"
    )]
    UseDpopNonce,
    /// A token exchange issued another type of token than the one requested
    /// (`issued_token_type`, RFC 8693 section 2.2.1): an access token where an ID-JAG was asked
    /// for is no ID-JAG, whatever else the answer says.
    #[error("the token exchange issued a token of type {issued}, not the {requested} requested")]
    WrongIssuedTokenType {
        /// The type asked for (`requested_token_type`).
        requested: crate::oauth::token_type::TokenType,
        /// The type the server says it issued.
        issued: crate::oauth::token_type::TokenType,
    },
}

/// The `token_type` of a token response (RFC 6749 §7.1): how the access token is presented.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
#[non_exhaustive]
pub enum AccessTokenType {
    /// `Bearer` (RFC 6750): `Authorization: Bearer <token>`, usable by whoever holds it.
    #[default]
    Bearer,
    /// `DPoP` (RFC 9449 §5): bound to the client's proof key, sent as `Authorization: DPoP
    /// <token>` with a fresh proof on each request.
    #[serde(rename = "DPoP")]
    Dpop,
}

impl AccessTokenType {
    /// The type as the token response and the `Authorization` scheme write it.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessTokenType::Bearer => "Bearer",
            AccessTokenType::Dpop => "DPoP",
        }
    }

    /// Reads a `token_type`, case-insensitively (RFC 6749 §5.1).
    fn parse(token_type: &str) -> Option<AccessTokenType> {
        if token_type.eq_ignore_ascii_case("bearer") {
            Some(AccessTokenType::Bearer)
        } else if token_type.eq_ignore_ascii_case("dpop") {
            Some(AccessTokenType::Dpop)
        } else {
            None
        }
    }
}

impl fmt::Display for AccessTokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A successful token response (RFC 6749 section 5.1, OpenID Connect Core section 3.1.3.3), made only
/// by [`parse`](Self::parse), which checks it.
///
/// It has no `Deserialize`, which would skip those checks:
///
/// ```compile_fail
/// let tokens: workos_connect::TokenResponse =
///     serde_json::from_str(r#"{"access_token":"at","token_type":"mac"}"#).unwrap();
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The access token, never empty.
    pub access_token: AccessToken,
    /// The token type: `Bearer`, or `DPoP` for a request that sent a proof
    /// ([`parse_dpop`](Self::parse_dpop)).
    pub token_type: AccessTokenType,
    /// Seconds until the access token expires, if given.
    pub expires_in: Option<u64>,
    /// A refresh token, given when `offline_access` was requested.
    pub refresh_token: Option<RefreshToken>,
    /// The ID token, given when `openid` was requested. Validate it before use.
    pub id_token: Option<IdToken>,
    /// The granted scopes, when they differ from those requested.
    pub scope: Option<String>,
}

/// A token response as read, before `parse` checks it. Private, so that no `TokenResponse` can be
/// deserialized around those checks.
#[derive(Deserialize)]
#[serde(remote = "Self")]
struct RawTokenResponse {
    access_token: String,
    token_type: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    /// Present only when a server sends an error with a success status.
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    error_uri: Option<String>,
}
crate::oauth::json_object::object_only!(RawTokenResponse);

/// A token in a response that is not RFC 6749's `1*VSCHAR` (Appendix A): which one, and where, never
/// its text.
fn malformed_token(error: Error) -> TokenError {
    let reason = match error {
        Error::Length { field, .. } => format!("{field} is empty"),
        Error::ControlCharacter { field, index } | Error::InvalidCharacter { field, index } => {
            format!(
                "{field} has a character outside printable ASCII at byte {index} \
                 (RFC 6749 Appendix A: 1*VSCHAR)"
            )
        }
        other => other.to_string(),
    };
    TokenError::MalformedResponse { reason }
}

/// The body of an error response (RFC 6749 section 5.2).
#[derive(Deserialize)]
#[serde(remote = "Self")]
struct ErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    error_uri: Option<String>,
}
crate::oauth::json_object::object_only!(ErrorBody);

impl ErrorBody {
    fn into_error(self) -> TokenError {
        TokenError::Endpoint(OAuthError {
            code: ErrorCode::parse(&self.error),
            description: self.error_description,
            uri: self.error_uri,
        })
    }
}

/// An error status's answer: the OAuth error in its body (RFC 6749 section 5.2), or just the status
/// when the body is not one.
pub(crate) fn error_answer(status: u16, body: &[u8]) -> TokenError {
    match crate::oauth::json_object::from_slice::<ErrorBody>(body) {
        Ok(error) => error.into_error(),
        Err(_) => TokenError::UnexpectedStatus { status },
    }
}

impl TokenResponse {
    /// When the access token expires, in seconds since the Unix epoch, for a response received at
    /// `received_at`; `None` when the server gave no `expires_in`.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use workos_connect::TokenResponse;
    ///
    /// let tokens = TokenResponse::parse(200, br#"{"access_token":"at","token_type":"Bearer","expires_in":300}"#)?;
    /// let received_at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    /// assert_eq!(tokens.expires_at(received_at), Some(1_700_000_300));
    /// # Ok::<(), workos_connect::TokenError>(())
    /// ```
    pub fn expires_at(&self, received_at: SystemTime) -> Option<u64> {
        self.expires_in
            .map(|seconds| unix_seconds(received_at).saturating_add(seconds))
    }

    /// Reads the token endpoint's answer: its HTTP status and body.
    ///
    /// A 2xx status must carry a token response with a non-empty `access_token` and `token_type`
    /// `Bearer`; any other status is an OAuth error when its body is one, and
    /// [`TokenError::UnexpectedStatus`] otherwise. A body with `error` is an OAuth error whatever the
    /// status, since some servers answer errors with 200.
    ///
    /// ```
    /// use workos_connect::{TokenError, TokenResponse, oauth::ErrorCode};
    ///
    /// let ok = TokenResponse::parse(200, br#"{"access_token":"at","token_type":"Bearer","expires_in":300}"#)?;
    /// assert_eq!(ok.access_token.secret(), "at");
    ///
    /// let refused = TokenResponse::parse(400, br#"{"error":"invalid_grant"}"#).unwrap_err();
    /// assert!(matches!(refused, TokenError::Endpoint(e) if e.code == ErrorCode::InvalidGrant));
    /// # Ok::<(), TokenError>(())
    /// ```
    pub fn parse(status: u16, body: &[u8]) -> Result<TokenResponse, TokenError> {
        TokenResponse::read(status, body, false)
    }

    /// Reads the answer to a token request that sent a DPoP proof (RFC 9449 §5), as
    /// [`parse`](Self::parse) does, but for `token_type` `DPoP`: a `Bearer` token is refused
    /// ([`TokenError::DpopDowngraded`]), since a client that sent a proof wants a token a thief
    /// cannot use; read the answer with [`parse`](Self::parse) to take it as a bearer token
    /// anyway. [`parse`](Self::parse), for a request without a proof, refuses `DPoP`
    /// ([`TokenError::DpopWithoutProof`]).
    ///
    /// ```
    /// use workos_connect::{TokenError, TokenResponse, oauth::AccessTokenType};
    ///
    /// let bound = br#"{"access_token":"at","token_type":"DPoP","expires_in":300}"#;
    /// assert_eq!(TokenResponse::parse_dpop(200, bound)?.token_type, AccessTokenType::Dpop);
    /// assert_eq!(TokenResponse::parse(200, bound).unwrap_err(), TokenError::DpopWithoutProof);
    ///
    /// let unbound = br#"{"access_token":"at","token_type":"Bearer","expires_in":300}"#;
    /// assert_eq!(TokenResponse::parse_dpop(200, unbound).unwrap_err(), TokenError::DpopDowngraded);
    /// # Ok::<(), TokenError>(())
    /// ```
    pub fn parse_dpop(status: u16, body: &[u8]) -> Result<TokenResponse, TokenError> {
        TokenResponse::read(status, body, true)
    }

    fn read(status: u16, body: &[u8], sent_proof: bool) -> Result<TokenResponse, TokenError> {
        if !(200..300).contains(&status) {
            return Err(error_answer(status, body));
        }
        let raw = match crate::oauth::json_object::from_slice::<RawTokenResponse>(body) {
            Ok(raw) => raw,
            // An error object lacks `access_token`, so it fails as a token response first.
            Err(error) => {
                return Err(
                    match crate::oauth::json_object::from_slice::<ErrorBody>(body) {
                        Ok(body) => body.into_error(),
                        Err(_) => TokenError::MalformedResponse {
                            reason: error.to_string(),
                        },
                    },
                );
            }
        };
        if let Some(error) = raw.error {
            return Err(ErrorBody {
                error,
                error_description: raw.error_description,
                error_uri: raw.error_uri,
            }
            .into_error());
        }
        let access_token = AccessToken::new(raw.access_token).map_err(malformed_token)?;
        let refresh_token = raw
            .refresh_token
            .map(RefreshToken::new)
            .transpose()
            .map_err(malformed_token)?;
        let id_token = raw
            .id_token
            .map(IdToken::new)
            .transpose()
            .map_err(malformed_token)?;
        let token_type = match AccessTokenType::parse(&raw.token_type) {
            Some(AccessTokenType::Dpop) if !sent_proof => return Err(TokenError::DpopWithoutProof),
            Some(AccessTokenType::Bearer) if sent_proof => return Err(TokenError::DpopDowngraded),
            Some(token_type) => token_type,
            None => {
                return Err(TokenError::UnsupportedTokenType {
                    token_type: raw.token_type,
                })
            }
        };
        // RFC 6749 Appendix A.4: scope tokens of NQCHAR separated by spaces. The granted scopes are
        // shown and logged, so nothing else is kept.
        if raw
            .scope
            .as_deref()
            .is_some_and(|scope| !scope.bytes().all(is_nqschar))
        {
            return Err(TokenError::MalformedResponse {
                reason: "scope holds a character outside RFC 6749's scope-token (Appendix A.4)"
                    .to_owned(),
            });
        }
        Ok(TokenResponse {
            access_token,
            token_type,
            expires_in: raw.expires_in,
            refresh_token,
            id_token,
            scope: raw.scope,
        })
    }
}

#[cfg(feature = "http")]
impl TokenResponse {
    /// Reads the token endpoint's answer from an `http::Response`; see [`parse`](Self::parse).
    ///
    /// ```
    /// use workos_connect::TokenResponse;
    ///
    /// let answer = http::Response::builder()
    ///     .status(200)
    ///     .body(r#"{"access_token":"at","token_type":"Bearer","expires_in":300}"#)?;
    /// let tokens = TokenResponse::from_http(&answer)?;
    /// assert_eq!(tokens.expires_in, Some(300));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_http<B: AsRef<[u8]>>(
        response: &http::Response<B>,
    ) -> Result<TokenResponse, TokenError> {
        Self::parse(response.status().as_u16(), response.body().as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authkit::client::test_client as client;
    use crate::authkit::client::ConnectClient;
    use crate::authkit::pending::PendingAuthorization;
    use crate::oauth::callback::AuthorizationCode;
    use crate::oauth::credential::ClientSecret;

    #[test]
    fn public_client_with_pkce_sends_the_verifier_and_no_secret() {
        let client = client();
        let (_, pending) = client.authorize().with_pkce().build().unwrap();
        let code = AuthorizationCode::new("c o+de");
        let request = client.token_request(&pending, &code).unwrap();
        let form: Vec<(&str, &str)> = request.form().collect();
        assert_eq!(
            form,
            [
                ("grant_type", "authorization_code"),
                ("code", "c o+de"),
                ("redirect_uri", "https://app.example/cb"),
                ("code_verifier", pending.code_verifier().unwrap().secret()),
                ("client_id", "client_1"),
            ]
        );
        let decoded: Vec<(String, String)> = url::form_urlencoded::parse(request.body().as_bytes())
            .into_owned()
            .collect();
        assert_eq!(decoded.len(), 5);
        assert_eq!(decoded[1], ("code".to_owned(), "c o+de".to_owned()));
    }

    #[test]
    fn refresh_for_a_confidential_client() {
        let client = client().with_client_secret(ClientSecret::new("sk_test_1").unwrap());
        let request = client.refresh_request(&RefreshToken::new("rt_1").unwrap());
        assert_eq!(
            request.body(),
            "grant_type=refresh_token&refresh_token=rt_1&client_id=client_1&client_secret=sk_test_1"
        );
        let shown = format!("{request:?}");
        assert!(
            !shown.contains("rt_1") && !shown.contains("sk_test_1"),
            "{shown}"
        );
        assert!(
            shown.contains("client_1") && shown.contains("/oauth2/token"),
            "{shown}"
        );
    }

    #[test]
    fn a_pending_login_of_another_app_is_refused() {
        let (_, pending) = client().authorize().build().unwrap();
        let other = ConnectClient::new(
            "https://example.authkit.app".parse().unwrap(),
            "client_2".parse().unwrap(),
            "https://app.example/cb".parse().unwrap(),
        );
        let code = AuthorizationCode::new("c");
        assert_eq!(
            other.token_request(&pending, &code).unwrap_err(),
            TokenError::ClientMismatch { field: "client_id" }
        );
        let elsewhere = ConnectClient::new(
            "https://other.authkit.app".parse().unwrap(),
            "client_1".parse().unwrap(),
            "https://app.example/cb".parse().unwrap(),
        );
        assert_eq!(
            elsewhere.token_request(&pending, &code).unwrap_err(),
            TokenError::ClientMismatch { field: "issuer" }
        );
    }

    #[test]
    fn a_pending_login_for_another_redirect_uri_is_refused() {
        let (_, pending) = client().authorize().build().unwrap();
        let moved = ConnectClient::new(
            "https://example.authkit.app".parse().unwrap(),
            "client_1".parse().unwrap(),
            "https://app.example/other".parse().unwrap(),
        );
        assert_eq!(
            moved
                .token_request(&pending, &AuthorizationCode::new("c"))
                .unwrap_err(),
            TokenError::ClientMismatch {
                field: "redirect_uri"
            }
        );
        // The same check holds for a stored login whose `redirect_uri` was edited.
        let mut kept = serde_json::to_value(&pending).unwrap();
        kept["redirect_uri"] = "https://evil.example/cb".into();
        let edited: PendingAuthorization = serde_json::from_value(kept).unwrap();
        assert_eq!(
            client()
                .token_request(&edited, &AuthorizationCode::new("c"))
                .unwrap_err(),
            TokenError::ClientMismatch {
                field: "redirect_uri"
            }
        );
    }

    #[test]
    fn an_empty_access_token_is_malformed_and_says_which_field() {
        let error = TokenResponse::parse(
            200,
            br#"{"access_token":"","token_type":"Bearer","refresh_token":"secret-rt"}"#,
        )
        .unwrap_err();
        assert_eq!(
            error,
            TokenError::MalformedResponse {
                reason: "access_token is empty".into()
            }
        );
        assert!(!format!("{error} {error:?}").contains("secret-rt"));
    }

    #[test]
    fn tokens_that_could_reach_a_header_are_held_to_vschar() {
        // A CR LF in the access token would become a second header in `Authorization: Bearer ...`.
        for (body, field) in [
            (
                &br#"{"access_token":"at\r\nX-Injected: 1","token_type":"Bearer"}"#[..],
                "access_token",
            ),
            (
                br#"{"access_token":"at","token_type":"Bearer","refresh_token":"rt\u0000"}"#,
                "refresh_token",
            ),
            (
                br#"{"access_token":"at","token_type":"Bearer","id_token":"a.b.\u00e9"}"#,
                "id_token",
            ),
            (
                br#"{"access_token":"at","token_type":"Bearer","refresh_token":""}"#,
                "refresh_token",
            ),
        ] {
            let error = TokenResponse::parse(200, body).unwrap_err();
            let TokenError::MalformedResponse { reason } = &error else {
                panic!("{error:?}");
            };
            assert!(reason.starts_with(field), "{reason}");
            assert!(!reason.contains("X-Injected"), "{reason}");
        }
        let scope = TokenResponse::parse(
            200,
            br#"{"access_token":"at","token_type":"Bearer","scope":"openid\u001b[2J"}"#,
        );
        assert!(matches!(scope, Err(TokenError::MalformedResponse { .. })));
    }

    #[test]
    fn an_error_object_with_a_success_status_is_an_endpoint_error() {
        let expected = TokenError::Endpoint(OAuthError {
            code: ErrorCode::InvalidGrant,
            description: Some("code reused".into()),
            uri: None,
        });
        assert_eq!(
            TokenResponse::parse(
                200,
                br#"{"error":"invalid_grant","error_description":"code reused"}"#
            )
            .unwrap_err(),
            expected
        );
        // With `error`, tokens beside it are not trusted either.
        assert_eq!(
            TokenResponse::parse(
                200,
                br#"{"access_token":"at","token_type":"Bearer","error":"invalid_grant","error_description":"code reused"}"#
            )
            .unwrap_err(),
            expected
        );
    }

    #[test]
    fn an_endpoint_error_code_cannot_forge_a_log_line() {
        let error =
            TokenResponse::parse(400, b"{\"error\":\"invalid_grant\\r\\nFAKE\"}").unwrap_err();
        let message = error.to_string();
        assert!(!message.contains(['\r', '\n']), "{message:?}");
        assert!(message.contains(r#""invalid_grant\r\nFAKE""#), "{message}");
    }

    #[test]
    fn responses_are_read_strictly() {
        let full = TokenResponse::parse(
            200,
            br#"{"access_token":"at","token_type":"bearer","expires_in":300,"refresh_token":"rt","id_token":"a.b.c","scope":"openid"}"#,
        )
        .unwrap();
        assert_eq!(full.refresh_token.as_ref().unwrap().secret(), "rt");
        assert_eq!(full.id_token.as_ref().unwrap().secret(), "a.b.c");
        assert_eq!(full.expires_in, Some(300));
        assert!(!format!("{full:?}").contains("\"at\""));

        assert_eq!(
            TokenResponse::parse(200, br#"{"access_token":"at","token_type":"mac"}"#).unwrap_err(),
            TokenError::UnsupportedTokenType {
                token_type: "mac".into()
            }
        );
        let malformed =
            TokenResponse::parse(200, br#"{"access_token":"secret-at","expires_in":"soon"}"#)
                .unwrap_err();
        assert!(matches!(malformed, TokenError::MalformedResponse { .. }));
        assert!(!malformed.to_string().contains("secret-at"));
        assert!(!malformed.to_string().contains("soon"));
        assert_eq!(
            TokenResponse::parse(502, b"<html>bad gateway</html>").unwrap_err(),
            TokenError::UnexpectedStatus { status: 502 }
        );
        assert_eq!(
            TokenResponse::parse(
                400,
                br#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#
            )
            .unwrap_err(),
            TokenError::Endpoint(OAuthError {
                code: ErrorCode::InvalidGrant,
                description: Some("grant request is invalid".into()),
                uri: None
            })
        );
    }

    #[test]
    fn token_types_follow_whether_a_proof_was_sent() {
        let dpop = br#"{"access_token":"at","token_type":"DPoP"}"#;
        let bearer = br#"{"access_token":"at","token_type":"Bearer"}"#;
        // RFC 9449 §5: a DPoP token without a proof is an error, and so is a Bearer one after a
        // proof: the client asked for a bound token.
        assert_eq!(
            TokenResponse::parse(200, dpop).unwrap_err(),
            TokenError::DpopWithoutProof
        );
        assert_eq!(
            TokenResponse::parse_dpop(200, dpop).unwrap().token_type,
            AccessTokenType::Dpop
        );
        assert_eq!(
            TokenResponse::parse_dpop(200, br#"{"access_token":"at","token_type":"dpop"}"#)
                .unwrap()
                .token_type,
            AccessTokenType::Dpop
        );
        assert_eq!(
            TokenResponse::parse_dpop(200, bearer).unwrap_err(),
            TokenError::DpopDowngraded
        );
        assert_eq!(
            TokenResponse::parse_dpop(200, br#"{"access_token":"at","token_type":"bearer"}"#)
                .unwrap_err(),
            TokenError::DpopDowngraded
        );
        assert_eq!(
            TokenResponse::parse(200, bearer).unwrap().token_type,
            AccessTokenType::Bearer
        );
        assert!(matches!(
            TokenResponse::parse_dpop(200, br#"{"access_token":"at","token_type":"mac"}"#),
            Err(TokenError::UnsupportedTokenType { .. })
        ));
        assert_eq!(
            serde_json::to_string(&AccessTokenType::Dpop).unwrap(),
            "\"DPoP\""
        );
    }

    #[cfg(feature = "http")]
    #[test]
    fn a_token_request_becomes_a_post_with_its_form() {
        let client = client();
        let (_, pending) = client.authorize().with_pkce().build().unwrap();
        let request = client
            .token_request(&pending, &AuthorizationCode::new("c"))
            .unwrap();
        let http = request.to_http().unwrap();
        assert_eq!(http.method(), http::Method::POST);
        assert_eq!(http.uri(), "https://example.authkit.app/oauth2/token");
        assert_eq!(http.headers()["accept"], "application/json");
        assert_eq!(http.body(), &request.body());
    }

    #[cfg(feature = "http")]
    #[test]
    fn an_error_response_is_read_as_the_endpoint_error() {
        let answer = http::Response::builder()
            .status(400)
            .body(br#"{"error":"invalid_grant"}"#.to_vec())
            .unwrap();
        assert!(matches!(
            TokenResponse::from_http(&answer),
            Err(TokenError::Endpoint(error)) if error.code == ErrorCode::InvalidGrant
        ));
    }
}

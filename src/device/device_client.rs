//! The device authorization request and its answer (RFC 8628 sections 3.1 and 3.2): the codes and
//! where the user enters them.

use std::time::{Duration, SystemTime};

use serde::Deserialize;
use url::Url;
use zeroize::Zeroize;

use crate::authkit::domain::AuthKitDomain;
#[cfg(feature = "id-token")]
use crate::authkit::id_token::IdTokenCheck;
use crate::device::codes::UserCode;
use crate::device::device_error::DeviceError;
use crate::device::polling::DeviceLogin;
use crate::oauth::client_id::ClientId;
use crate::oauth::credential::DeviceCode;
use crate::oauth::encoding::is_unsafe_to_show;
use crate::oauth::endpoint::{check_endpoint, FORM_REQUEST_PARAMETERS};
use crate::oauth::host_rules::is_https_or_loopback;
use crate::oauth::identifier::Issuer;
use crate::oauth::scope_list::ScopeList;
use crate::oauth::token::{error_answer, TokenError};
use crate::oauth::token_request::TokenRequest;

/// RFC 8628 section 3.2: the interval when the server gives none.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// The longest interval and lifetime taken from a server, so that no time computed from them can
/// overflow; a day is far beyond any real device login.
const MAX_SECONDS: u64 = 24 * 60 * 60;

/// An application that logs users in on another device: its client ID and the AuthKit endpoints
/// it uses. A public client: the device grant sends no secret.
#[derive(Debug, Clone)]
pub struct DeviceClient {
    /// Who issues the tokens: the `iss` of the login's ID token.
    issuer: String,
    device_authorization_endpoint: Url,
    token_endpoint: Url,
    client_id: ClientId,
}

impl DeviceClient {
    /// The application `client_id` on an AuthKit domain, with its
    /// `/oauth2/device_authorization` and `/oauth2/token` endpoints.
    pub fn new(domain: &AuthKitDomain, client_id: ClientId) -> Self {
        DeviceClient {
            issuer: domain.issuer().to_owned(),
            device_authorization_endpoint: domain.device_authorization_endpoint(),
            token_endpoint: domain.token_endpoint(),
            client_id,
        }
    }

    /// The endpoints from the metadata of the authorization server `issuer`
    /// (`device_authorization_endpoint`, `token_endpoint`). Each must be `https`, or `http` on a
    /// loopback host, without a fragment or a parameter of the requests in its query. The issuer is kept exactly as given, trailing `/` included: the ID token's
    /// `iss` must match it character for character.
    pub fn with_endpoints(
        issuer: &Issuer,
        device_authorization_endpoint: Url,
        token_endpoint: Url,
        client_id: ClientId,
    ) -> Result<Self, DeviceError> {
        for (name, url) in [
            (
                "device_authorization_endpoint",
                &device_authorization_endpoint,
            ),
            ("token_endpoint", &token_endpoint),
        ] {
            check_endpoint(url, FORM_REQUEST_PARAMETERS).map_err(|source| {
                DeviceError::EndpointUrl {
                    field: name,
                    source,
                }
            })?;
        }
        Ok(DeviceClient {
            // As given: the ID token's `iss` must equal it exactly (OpenID Connect Core section
            // 3.1.3.7), so `https://as.example/` and `https://as.example` are different issuers.
            issuer: issuer.as_str().to_owned(),
            device_authorization_endpoint,
            token_endpoint,
            client_id,
        })
    }

    /// The client ID.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The issuer of the tokens, exactly as given: what the ID token's `iss` is compared with.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The request that starts a login: `POST` it to get the codes. `scopes` may be empty, and may
    /// hold custom scope tokens besides the OpenID ones.
    pub fn authorization_request(&self, scopes: &ScopeList) -> TokenRequest {
        let mut form = vec![("client_id", self.client_id.as_str().to_owned())];
        if !scopes.is_empty() {
            form.push(("scope", scopes.to_string()));
        }
        TokenRequest::new(self.device_authorization_endpoint.clone(), form, None)
    }

    /// Reads the answer to [`authorization_request`](Self::authorization_request), received at
    /// `now`: the login to show the user and poll for.
    ///
    /// The user code and URLs are printed to a terminal, so a control character in them (which
    /// could rewrite what the terminal shows), a bidirectional formatting character (which could
    /// reorder it) or an invisible one is refused, as are URLs that are not `https` (or `http` on
    /// loopback). A missing `interval` is 5 seconds (RFC 8628 section 3.2).
    pub fn read_authorization(
        &self,
        status: u16,
        body: &[u8],
        now: SystemTime,
    ) -> Result<DeviceLogin, DeviceError> {
        if !(200..300).contains(&status) {
            return Err(match error_answer(status, body) {
                TokenError::Endpoint(error) => DeviceError::Endpoint(error),
                _ => DeviceError::UnexpectedStatus { status },
            });
        }
        let mut raw: RawAuthorization = match crate::oauth::json_object::from_slice(body) {
            Ok(raw) => raw,
            // Some servers send an error with a success status.
            Err(error) => {
                return Err(match error_answer(400, body) {
                    TokenError::Endpoint(error) => DeviceError::Endpoint(error),
                    _ => DeviceError::MalformedResponse {
                        reason: error.to_string(),
                    },
                })
            }
        };
        let malformed = |reason: &str| DeviceError::MalformedResponse {
            reason: reason.to_owned(),
        };
        if raw.device_code.is_empty() {
            return Err(malformed("device_code is empty"));
        }
        let user_code = UserCode::checked(std::mem::take(&mut raw.user_code))?;
        let verification_uri = terminal_url("verification_uri", &raw.verification_uri)?;
        let verification_uri_complete = raw
            .verification_uri_complete
            .as_deref()
            .map(|url| terminal_url("verification_uri_complete", url))
            .transpose()?;
        if raw.expires_in == 0 {
            return Err(malformed(
                "expires_in is 0: the code expired as it was issued",
            ));
        }
        let lifetime = Duration::from_secs(raw.expires_in.min(MAX_SECONDS));
        let interval = raw.interval.map_or(DEFAULT_INTERVAL, |seconds| {
            // A zero interval would have the client poll without pause.
            Duration::from_secs(seconds.clamp(1, MAX_SECONDS))
        });
        // RFC 6749 Appendix A's VSCHAR, like the tokens: it is sent back in every poll.
        let device_code = DeviceCode::new(std::mem::take(&mut raw.device_code))
            .map_err(|_| malformed("device_code is not printable ASCII (RFC 6749 Appendix A)"))?;
        Ok(DeviceLogin::new(
            device_code,
            user_code,
            verification_uri,
            verification_uri_complete,
            self.token_endpoint.clone(),
            self.client_id.clone(),
            interval,
            now,
            lifetime,
        ))
    }
}

/// A URL to show the user: no control, bidirectional formatting or invisible characters (which a
/// terminal would act on), and `https`, or `http` on loopback.
fn terminal_url(field: &'static str, text: &str) -> Result<Url, DeviceError> {
    // Checked on the text as sent: the parser would percent-encode some and drop others, so the
    // URL shown would differ from the one the server meant without either being refused.
    if text.chars().any(is_unsafe_to_show) {
        return Err(DeviceError::ControlCharacter { field });
    }
    let url = Url::parse(text).map_err(|_| DeviceError::MalformedResponse {
        reason: format!("{field} is not a URL"),
    })?;
    if !is_https_or_loopback(&url) {
        return Err(DeviceError::InsecureUrl { field });
    }
    Ok(url)
}

#[cfg(feature = "id-token")]
impl DeviceClient {
    /// Starts validating the ID token of a device login's tokens: signature, `iss`, `aud` and
    /// times as for any login. The request carried no `nonce`, so none is checked; the device code,
    /// which only this device held, ties the tokens to it, and an access token offered instead is
    /// refused by the `client_id` or `scope` it carries. Validate it before trusting its `sub`,
    /// for instance before [`Userinfo::check_subject`](crate::authkit::Userinfo::check_subject).
    pub fn id_token(&self) -> IdTokenCheck<'_> {
        IdTokenCheck::for_device_login(self.issuer(), self.client_id().as_str())
    }
}

#[derive(Deserialize)]
#[serde(remote = "Self")]
struct RawAuthorization {
    device_code: String,
    user_code: String,
    verification_uri: String,
    #[serde(default)]
    verification_uri_complete: Option<String>,
    expires_in: u64,
    #[serde(default)]
    interval: Option<u64>,
}
crate::oauth::json_object::object_only!(RawAuthorization);

impl Drop for RawAuthorization {
    fn drop(&mut self) {
        self.device_code.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::clock::at_unix;

    fn client() -> DeviceClient {
        DeviceClient::new(
            &"https://example.authkit.app".parse().unwrap(),
            "client_01".parse().unwrap(),
        )
    }

    fn answer(change: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let mut body = serde_json::json!({
            "device_code": "dc_secret",
            "user_code": "ABCD-EFGH",
            "verification_uri": "https://example.authkit.app/device",
            "verification_uri_complete": "https://example.authkit.app/device?user_code=ABCD-EFGH",
            "expires_in": 300,
            "interval": 5,
        });
        change(&mut body);
        serde_json::to_vec(&body).unwrap()
    }

    #[test]
    fn the_request_sends_the_client_id_and_scopes() {
        let request = client().authorization_request(&"openid profile cli:admin".parse().unwrap());
        assert_eq!(
            request.url().as_str(),
            "https://example.authkit.app/oauth2/device_authorization"
        );
        assert_eq!(
            request.body(),
            "client_id=client_01&scope=openid+profile+cli%3Aadmin"
        );
        assert!(request.authorization().is_none());
        let bare = client().authorization_request(&ScopeList::new());
        assert_eq!(bare.body(), "client_id=client_01");
    }

    #[test]
    fn the_answer_gives_the_codes_and_times() {
        let now = at_unix(1_700_000_000);
        let login = client()
            .read_authorization(200, &answer(|_| {}), now)
            .unwrap();
        assert_eq!(login.user_code().as_str(), "ABCD-EFGH");
        assert_eq!(
            login.verification_uri().as_str(),
            "https://example.authkit.app/device"
        );
        assert_eq!(
            login.verification_uri_complete().unwrap().as_str(),
            "https://example.authkit.app/device?user_code=ABCD-EFGH"
        );
        assert_eq!(login.expires_at(), now + Duration::from_secs(300));
        assert_eq!(login.next_poll_at(), now + Duration::from_secs(5));
        let shown = format!("{login:?}");
        assert!(!shown.contains("dc_secret"), "{shown}");

        let without_interval = client()
            .read_authorization(
                200,
                &answer(|a| {
                    a.as_object_mut().unwrap().remove("interval");
                }),
                now,
            )
            .unwrap();
        assert_eq!(without_interval.interval(), DEFAULT_INTERVAL);
        let zero = client()
            .read_authorization(200, &answer(|a| a["interval"] = 0.into()), now)
            .unwrap();
        assert_eq!(zero.interval(), Duration::from_secs(1));
        let huge = client()
            .read_authorization(
                200,
                &answer(|a| {
                    a["interval"] = u64::MAX.into();
                    a["expires_in"] = u64::MAX.into();
                }),
                now,
            )
            .unwrap();
        assert_eq!(huge.interval(), Duration::from_secs(MAX_SECONDS));
        assert_eq!(huge.expires_at(), now + Duration::from_secs(MAX_SECONDS));
    }

    #[test]
    fn bad_answers_are_refused_with_their_reason() {
        let now = at_unix(1_700_000_000);
        let refused = |change: fn(&mut serde_json::Value)| {
            client()
                .read_authorization(200, &answer(change), now)
                .unwrap_err()
        };
        assert_eq!(
            refused(|a| a["user_code"] = "AB\u{1b}[2JCD".into()),
            DeviceError::ControlCharacter { field: "user_code" }
        );
        assert_eq!(
            refused(|a| a["verification_uri"] = "https://example.authkit.app/\u{7}".into()),
            DeviceError::ControlCharacter {
                field: "verification_uri"
            }
        );
        assert_eq!(
            refused(|a| a["verification_uri_complete"] =
                "https://example.authkit.app/device?user_code=\u{9b}31m".into()),
            DeviceError::ControlCharacter {
                field: "verification_uri_complete"
            }
        );
        assert!(matches!(
            client().read_authorization(200, br#"{"error":"invalid_scope"}"#, now),
            Err(DeviceError::Endpoint(e)) if e.code == crate::oauth::ErrorCode::InvalidScope
        ));
        assert_eq!(
            refused(|a| a["verification_uri_complete"] = "http://evil.example/device".into()),
            DeviceError::InsecureUrl {
                field: "verification_uri_complete"
            }
        );
        assert!(matches!(
            refused(|a| a["device_code"] = "".into()),
            DeviceError::MalformedResponse { .. }
        ));
        assert!(matches!(
            refused(|a| a["user_code"] = " ".into()),
            DeviceError::MalformedResponse { .. }
        ));
        assert!(matches!(
            refused(|a| a["expires_in"] = 0.into()),
            DeviceError::MalformedResponse { .. }
        ));
        assert!(matches!(
            refused(|a| a["expires_in"] = "300".into()),
            DeviceError::MalformedResponse { .. }
        ));
        let error = client()
            .read_authorization(400, br#"{"error":"invalid_client"}"#, now)
            .unwrap_err();
        assert!(
            matches!(&error, DeviceError::Endpoint(e) if e.code == crate::oauth::ErrorCode::InvalidClient),
            "{error:?}"
        );
        assert_eq!(
            client()
                .read_authorization(502, b"<html>", now)
                .unwrap_err(),
            DeviceError::UnexpectedStatus { status: 502 }
        );
    }

    #[test]
    fn bidi_and_invisible_characters_are_refused_where_shown() {
        let now = at_unix(1_700_000_000);
        let read = |change: &dyn Fn(&mut serde_json::Value)| {
            client().read_authorization(200, &answer(change), now)
        };
        for &c in crate::oauth::encoding::UNSAFE_FORMAT_CHARACTERS {
            assert_eq!(
                read(&|a| a["user_code"] = format!("ABCD-{c}EFGH").into()).unwrap_err(),
                DeviceError::ControlCharacter { field: "user_code" },
                "{c:?}"
            );
            // At either end too, where trimming would otherwise hide some from the check.
            assert_eq!(
                read(&|a| a["user_code"] = format!("ABCD-EFGH{c}").into()).unwrap_err(),
                DeviceError::ControlCharacter { field: "user_code" },
                "{c:?}"
            );
            assert_eq!(
                read(&|a| a["verification_uri"] =
                    format!("https://example.authkit.app/dev{c}ice").into())
                .unwrap_err(),
                DeviceError::ControlCharacter {
                    field: "verification_uri"
                },
                "{c:?}"
            );
            assert_eq!(
                read(&|a| a["verification_uri_complete"] =
                    format!("https://example.authkit.app/device?user_code=ABCD-{c}EFGH").into())
                .unwrap_err(),
                DeviceError::ControlCharacter {
                    field: "verification_uri_complete"
                },
                "{c:?}"
            );
        }
        let error = DeviceError::ControlCharacter { field: "user_code" };
        assert!(error.to_string().contains("bidirectional"), "{error}");
        let plain = read(&|a| a["user_code"] = "ABCD-EFGH".into()).unwrap();
        assert_eq!(plain.user_code().as_str(), "ABCD-EFGH");
        // Letters of any script are shown as they are.
        let accented = read(&|a| a["user_code"] = "ÉTÉ-ÜBER".into()).unwrap();
        assert_eq!(accented.user_code().as_str(), "ÉTÉ-ÜBER");
    }

    #[test]
    fn endpoints_with_a_fragment_or_a_request_parameter_are_refused() {
        let issuer: Issuer = "https://as.example.com".parse().unwrap();
        let at = |url: &str| Url::parse(url).unwrap();
        for (device, token) in [
            (
                "https://as.example.com/device#x",
                "https://as.example.com/token",
            ),
            (
                "https://as.example.com/device",
                "https://as.example.com/token?grant_type=password",
            ),
            (
                "https://as.example.com/device?client_id=other",
                "https://as.example.com/token",
            ),
        ] {
            assert!(matches!(
                DeviceClient::with_endpoints(&issuer, at(device), at(token), "c".parse().unwrap()),
                Err(DeviceError::EndpointUrl { .. })
            ));
        }
        assert!(DeviceClient::with_endpoints(
            &issuer,
            at("https://as.example.com/device?tenant=1"),
            at("https://as.example.com/token"),
            "c".parse().unwrap()
        )
        .is_ok());
    }

    #[test]
    fn the_issuer_is_kept_exactly_as_given() {
        let url = |text: &str| Url::parse(text).unwrap();
        let with = |issuer: &str| {
            DeviceClient::with_endpoints(
                &issuer.parse().unwrap(),
                url("https://as.example.com/device_authorization"),
                url("https://as.example.com/token"),
                "c".parse().unwrap(),
            )
            .unwrap()
        };
        // The ID token's `iss` must equal it character for character (OpenID Connect Core section
        // 3.1.3.7), so neither spelling may become the other.
        assert_eq!(
            with("https://as.example.com/").issuer(),
            "https://as.example.com/"
        );
        assert_eq!(
            with("https://as.example.com").issuer(),
            "https://as.example.com"
        );
        assert_eq!(
            with("https://as.example.com/t/").issuer(),
            "https://as.example.com/t/"
        );
    }

    #[test]
    fn endpoints_must_be_https_or_loopback() {
        let url = |text: &str| Url::parse(text).unwrap();
        let issuer: Issuer = "https://example.authkit.app".parse().unwrap();
        assert!(DeviceClient::with_endpoints(
            &"http://127.0.0.1:3000".parse().unwrap(),
            url("http://127.0.0.1:3000/device_authorization"),
            url("http://127.0.0.1:3000/token"),
            "c".parse().unwrap()
        )
        .is_ok());
        assert_eq!(
            DeviceClient::with_endpoints(
                &issuer,
                url("https://example.authkit.app/oauth2/device_authorization"),
                url("http://example.authkit.app/oauth2/token"),
                "c".parse().unwrap()
            )
            .unwrap_err(),
            DeviceError::EndpointUrl {
                field: "token_endpoint",
                source: crate::oauth::endpoint::EndpointError::Insecure
            }
        );
    }
}

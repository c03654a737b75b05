//! Dynamic Client Registration (RFC 7591): the request that registers a client with an
//! authorization server, and the answer that gives its credentials.
//!
//! Sans-IO like the rest of the crate: [`RegistrationRequest`] gives the URL and the JSON body to
//! `POST`, and [`RegistrationResponse::parse`] reads the status and body that came back.

use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;
use zeroize::Zeroize;

use crate::discovery::server_metadata::AuthorizationServerMetadata;
use crate::oauth::client_id::ClientId;
use crate::oauth::credential::ClientSecret;
use crate::oauth::encoding::is_nqschar;
use crate::oauth::endpoint::EndpointError;
use crate::oauth::error::Error;
use crate::oauth::host_rules::{is_https_or_loopback, is_loopback};
use crate::oauth::identifier::Issuer;
use crate::oauth::json_object;
use crate::oauth::redirect_uri::RedirectUri;
use crate::oauth::scope_list::ScopeList;
use crate::registration::client_name::{check_client_name, ClientNameError};
use crate::registration::credentials::{ClientCredentials, CredentialsError};
use crate::registration::token_auth::TokenEndpointAuth;

/// The grants a client registers when it names none: codes, and refresh tokens to keep the login
/// alive. The MCP draft SEP-2207 asks clients to list `refresh_token`, which some servers require
/// before they issue refresh tokens at all.
pub(crate) const DEFAULT_GRANT_TYPES: [&str; 2] = ["authorization_code", "refresh_token"];

/// The only response type an authorization code flow uses.
pub(crate) const RESPONSE_TYPES: [&str; 1] = ["code"];

/// The kind of application a client is: OpenID Connect Dynamic Client Registration's
/// `application_type`, which the MCP specification asks clients to send, and by which servers apply
/// different redirect URI rules.
///
/// Serde reads and writes the wire names, `native` and `web`.
///
/// ```
/// use workos_connect::registration::ApplicationType;
/// use workos_connect::RedirectUri;
///
/// let loopback: RedirectUri = "http://127.0.0.1:33418/callback".parse()?;
/// assert_eq!(ApplicationType::for_redirect_uris(&[loopback]), ApplicationType::Native);
/// let hosted: RedirectUri = "https://app.example.com/callback".parse()?;
/// assert_eq!(ApplicationType::for_redirect_uris(&[hosted]), ApplicationType::Web);
/// assert_eq!(ApplicationType::Native.as_str(), "native");
/// # Ok::<(), workos_connect::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApplicationType {
    /// `native`: an application on the user's device (desktop, command line, mobile), which
    /// receives the login on a loopback or private-use scheme redirect URI.
    Native,
    /// `web`: an application hosted on a server, whose redirect URIs are `https` URLs on a
    /// public host.
    Web,
}

impl ApplicationType {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ApplicationType::Native => "native",
            ApplicationType::Web => "web",
        }
    }

    /// The type OpenID Connect Dynamic Client Registration (section 2) allows for these redirect
    /// URIs: `web` when every one is `https` on a host other than loopback, `native` when any is a
    /// loopback or private-use scheme URI, which a web client may not register.
    pub fn for_redirect_uris(redirect_uris: &[RedirectUri]) -> ApplicationType {
        let is_hosted = |uri: &RedirectUri| {
            Url::parse(uri.as_str()).is_ok_and(|url| {
                url.scheme() == "https" && url.host().is_some_and(|host| !is_loopback(&host))
            })
        };
        if redirect_uris.iter().all(is_hosted) {
            ApplicationType::Web
        } else {
            ApplicationType::Native
        }
    }
}

impl fmt::Display for ApplicationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a registration request could not be built, or its answer gives no usable credentials.
///
/// No message quotes the response body, which holds the client secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The authorization server's metadata has no `registration_endpoint`.
    #[error(
        "the authorization server does not offer Dynamic Client Registration (its metadata has no \
         registration_endpoint); use a pre-registered client, or a Client ID Metadata Document if \
         it advertises client_id_metadata_document_supported"
    )]
    NotSupported,
    /// The registration endpoint is neither `https` nor `http` on a loopback host
    /// ([`EndpointError::Insecure`]): the answer carries the client's secret.
    #[error("the registration endpoint cannot be used: {0}")]
    Endpoint(EndpointError),
    /// The `client_name` was refused.
    #[error(transparent)]
    ClientName(#[from] ClientNameError),
    /// No redirect URI: a client that logs users in registers at least one.
    #[error("no redirect URI was given; register at least the one the login comes back to")]
    NoRedirectUri,
    /// The server refused the registration (RFC 7591 section 3.2.2).
    #[error(
        "the authorization server refused the registration: {code}{}{}",
        description.as_deref().map(|d| format!(" ({d:?})")).unwrap_or_default(),
        code.advice()
    )]
    Refused {
        /// The `error` code.
        code: RegistrationErrorCode,
        /// `error_description`, meant for the developer.
        description: Option<String>,
    },
    /// An error status whose body is not an OAuth error.
    #[error("the registration endpoint answered HTTP {status} without an OAuth error body")]
    UnexpectedStatus {
        /// The HTTP status.
        status: u16,
    },
    /// A success body that is not the JSON object RFC 7591 section 3.2.1 describes. The reason
    /// gives the kind of fault and its position, never the body's text.
    #[error("the registration response is malformed: {reason}")]
    Malformed {
        /// What is wrong, and where.
        reason: String,
    },
    /// The response has no `client_id`, or an empty one.
    #[error("the registration response has no client_id")]
    MissingClientId,
    /// The response's `client_id` is not one this crate can send.
    #[error("the registration response's client_id is unusable: {0}")]
    InvalidClientId(#[source] Error),
    /// The server registered the client for a `token_endpoint_auth_method` this crate does not
    /// implement, such as `private_key_jwt`.
    #[error(
        "the authorization server registered the client for token endpoint authentication \
         {method:?}, which this crate does not support; register again asking for `none`, \
         `client_secret_post` or `client_secret_basic`"
    )]
    UnsupportedAuthMethod {
        /// The method named.
        method: String,
    },
    /// The client was registered for a method that sends a secret, and the response has none.
    #[error(
        "the client was registered for token endpoint authentication `{method}`, and the \
         registration response has no client_secret"
    )]
    MissingSecret {
        /// The method.
        method: TokenEndpointAuth,
    },
    /// The response's fields do not make credentials.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
}

/// An `error` code of a registration error response (RFC 7591 section 3.2.2), and the one AuthKit
/// adds. Codes this crate does not know are kept as text.
///
/// Its `Display` shows the code as it is when every character is one RFC 6749 allows in a code,
/// and escaped between double quotes otherwise, so that a logged code cannot forge a line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RegistrationErrorCode {
    /// `invalid_redirect_uri`: a redirect URI the server does not accept.
    InvalidRedirectUri,
    /// `invalid_client_metadata`: another metadata value the server does not accept.
    InvalidClientMetadata,
    /// `invalid_software_statement`.
    InvalidSoftwareStatement,
    /// `unapproved_software_statement`.
    UnapprovedSoftwareStatement,
    /// `dynamic_client_registration_disabled`: WorkOS AuthKit's answer when Dynamic Client
    /// Registration is turned off for the environment.
    DynamicClientRegistrationDisabled,
    /// Any other code, as received.
    Other(String),
}

impl RegistrationErrorCode {
    /// The code for its wire name.
    pub fn parse(code: &str) -> RegistrationErrorCode {
        match code {
            "invalid_redirect_uri" => RegistrationErrorCode::InvalidRedirectUri,
            "invalid_client_metadata" => RegistrationErrorCode::InvalidClientMetadata,
            "invalid_software_statement" => RegistrationErrorCode::InvalidSoftwareStatement,
            "unapproved_software_statement" => RegistrationErrorCode::UnapprovedSoftwareStatement,
            "dynamic_client_registration_disabled" => {
                RegistrationErrorCode::DynamicClientRegistrationDisabled
            }
            other => RegistrationErrorCode::Other(other.to_owned()),
        }
    }

    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            RegistrationErrorCode::InvalidRedirectUri => "invalid_redirect_uri",
            RegistrationErrorCode::InvalidClientMetadata => "invalid_client_metadata",
            RegistrationErrorCode::InvalidSoftwareStatement => "invalid_software_statement",
            RegistrationErrorCode::UnapprovedSoftwareStatement => "unapproved_software_statement",
            RegistrationErrorCode::DynamicClientRegistrationDisabled => {
                "dynamic_client_registration_disabled"
            }
            RegistrationErrorCode::Other(code) => code,
        }
    }

    /// What to do about it, as the end of a sentence.
    fn advice(&self) -> &'static str {
        match self {
            RegistrationErrorCode::DynamicClientRegistrationDisabled => {
                "; enable Dynamic Client Registration in the WorkOS dashboard (Connect, \
                 Configuration, MCP Auth), or use a pre-registered client or a Client ID Metadata \
                 Document"
            }
            RegistrationErrorCode::InvalidRedirectUri => {
                "; the server does not accept one of the redirect URIs"
            }
            RegistrationErrorCode::InvalidClientMetadata => {
                "; the server does not accept one of the metadata values (grant types, \
                 authentication method, scope, application type)"
            }
            _ => "",
        }
    }
}

impl fmt::Display for RegistrationErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.as_str();
        if !code.is_empty() && code.bytes().all(is_nqschar) {
            f.write_str(code)
        } else {
            write!(f, "{code:?}")
        }
    }
}

/// A Dynamic Client Registration request (RFC 7591 sections 2 and 3.1): the URL to `POST` to, and
/// the JSON body with the client's metadata.
///
/// It registers a public client by default (`token_endpoint_auth_method` `none`, PKCE instead of a
/// secret), for grants `authorization_code` and `refresh_token`, with response type `code`, and an
/// `application_type` that fits its redirect URIs ([`ApplicationType::for_redirect_uris`]).
///
/// ```
/// use workos_connect::registration::{ApplicationType, RegistrationRequest};
///
/// let request = RegistrationRequest::new(
///     &"https://example.authkit.app/oauth2/register".parse()?,
///     "Example Agent",
///     vec!["http://127.0.0.1:33418/callback".parse()?],
/// )?
/// .scope("openid offline_access".parse()?);
/// assert_eq!(request.url().as_str(), "https://example.authkit.app/oauth2/register");
/// assert_eq!(RegistrationRequest::CONTENT_TYPE, "application/json");
/// assert_eq!(
///     request.body(),
///     r#"{"client_name":"Example Agent","redirect_uris":["http://127.0.0.1:33418/callback"],"#.to_owned()
///         + r#""grant_types":["authorization_code","refresh_token"],"response_types":["code"],"#
///         + r#""token_endpoint_auth_method":"none","application_type":"native","#
///         + r#""scope":"openid offline_access"}"#
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationRequest {
    url: Url,
    client_name: String,
    redirect_uris: Vec<RedirectUri>,
    grant_types: Vec<String>,
    token_endpoint_auth_method: TokenEndpointAuth,
    application_type: ApplicationType,
    scope: ScopeList,
    client_uri: Option<Url>,
    software_id: Option<String>,
    software_version: Option<String>,
}

impl RegistrationRequest {
    /// The `Content-Type` of the body.
    pub const CONTENT_TYPE: &'static str = "application/json";

    /// A request to `endpoint` for a client named `client_name` (shown to users when they approve
    /// it) that logs users in at `redirect_uris`.
    ///
    /// The endpoint must be `https` (or `http` on a loopback host), the name neither empty nor with
    /// control, bidirectional formatting or invisible characters, and there must be at least one
    /// redirect URI.
    pub fn new(
        endpoint: &Url,
        client_name: &str,
        redirect_uris: Vec<RedirectUri>,
    ) -> Result<Self, RegistrationError> {
        if !is_https_or_loopback(endpoint) {
            return Err(RegistrationError::Endpoint(EndpointError::Insecure));
        }
        check_client_name(client_name)?;
        if redirect_uris.is_empty() {
            return Err(RegistrationError::NoRedirectUri);
        }
        Ok(RegistrationRequest {
            url: endpoint.clone(),
            client_name: client_name.to_owned(),
            application_type: ApplicationType::for_redirect_uris(&redirect_uris),
            redirect_uris,
            grant_types: DEFAULT_GRANT_TYPES.map(String::from).to_vec(),
            token_endpoint_auth_method: TokenEndpointAuth::None,
            scope: ScopeList::new(),
            client_uri: None,
            software_id: None,
            software_version: None,
        })
    }

    /// A request to the `registration_endpoint` of `metadata`, for a public client (method
    /// `none`); [`RegistrationError::NotSupported`] when the server offers no registration.
    ///
    /// The method is `none` when the server takes it or lists no methods (a public client, which
    /// proves itself with PKCE); otherwise the secret method [`TokenEndpointAuth::choose`] picks,
    /// and the server issues the secret with the registration. Set another with
    /// [`token_endpoint_auth_method`](Self::token_endpoint_auth_method).
    ///
    /// ```
    /// use workos_connect::{discovery::AuthorizationServerMetadata, registration::{RegistrationRequest, TokenEndpointAuth}};
    ///
    /// let metadata = AuthorizationServerMetadata::parse(
    ///     br#"{"issuer":"https://example.authkit.app",
    ///          "authorization_endpoint":"https://example.authkit.app/oauth2/authorize",
    ///          "token_endpoint":"https://example.authkit.app/oauth2/token",
    ///          "registration_endpoint":"https://example.authkit.app/oauth2/register",
    ///          "code_challenge_methods_supported":["S256"],
    ///          "token_endpoint_auth_methods_supported":["none","client_secret_basic"]}"#,
    ///     &"https://example.authkit.app".parse()?,
    /// )?;
    /// let request = RegistrationRequest::for_server(
    ///     &metadata,
    ///     "Example Agent",
    ///     vec!["http://127.0.0.1:33418/callback".parse()?],
    /// )?;
    /// assert_eq!(request.url().path(), "/oauth2/register");
    /// assert_eq!(request.auth_method(), TokenEndpointAuth::None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn for_server(
        metadata: &AuthorizationServerMetadata,
        client_name: &str,
        redirect_uris: Vec<RedirectUri>,
    ) -> Result<Self, RegistrationError> {
        let endpoint = metadata
            .registration_endpoint
            .as_ref()
            .ok_or(RegistrationError::NotSupported)?;
        // Without a list, `none` still: many MCP authorization servers publish none and take public
        // clients, and a client without a secret has none to leak.
        let method = match metadata.token_endpoint_auth_methods_supported.as_deref() {
            Some(supported) => TokenEndpointAuth::choose(Some(supported), false)
                .or_else(|| TokenEndpointAuth::choose(Some(supported), true))
                .unwrap_or(TokenEndpointAuth::None),
            None => TokenEndpointAuth::None,
        };
        Ok(Self::new(endpoint, client_name, redirect_uris)?.token_endpoint_auth_method(method))
    }

    /// The kind of application, instead of the one its redirect URIs suggest.
    pub fn application_type(mut self, application_type: ApplicationType) -> Self {
        self.application_type = application_type;
        self
    }

    /// How the client will authenticate at the token endpoint; `none` (a public client using PKCE)
    /// unless set. A method that sends a secret asks the server to issue one.
    pub fn token_endpoint_auth_method(mut self, method: TokenEndpointAuth) -> Self {
        self.token_endpoint_auth_method = method;
        self
    }

    /// The grants the client will use, instead of `authorization_code` and `refresh_token`.
    pub fn grant_types<I, S>(mut self, grant_types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.grant_types = grant_types.into_iter().map(Into::into).collect();
        self
    }

    /// The scopes the client may ask for; none are sent when the list is empty.
    pub fn scope(mut self, scope: ScopeList) -> Self {
        self.scope = scope;
        self
    }

    /// The client's home page, which consent screens may link to.
    pub fn client_uri(mut self, client_uri: Url) -> Self {
        self.client_uri = Some(client_uri);
        self
    }

    /// An identifier of the client software, the same for every instance that registers
    /// (RFC 7591 section 2), such as a UUID chosen by its developer.
    pub fn software_id(mut self, software_id: impl Into<String>) -> Self {
        self.software_id = Some(software_id.into());
        self
    }

    /// The version of the client software.
    pub fn software_version(mut self, software_version: impl Into<String>) -> Self {
        self.software_version = Some(software_version.into());
        self
    }

    /// The registration endpoint.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The method requested; pass it to [`RegistrationResponse::parse`].
    pub fn auth_method(&self) -> TokenEndpointAuth {
        self.token_endpoint_auth_method
    }

    /// The redirect URIs registered.
    pub fn redirect_uris(&self) -> &[RedirectUri] {
        &self.redirect_uris
    }

    /// The JSON body: the client metadata under RFC 7591's member names, `scope` as one
    /// space-separated string and left out when empty, like the other optional members when unset.
    pub fn body(&self) -> String {
        // Cannot fail: the body is strings and lists of strings under string keys.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The body's members, in RFC 7591 section 2's names.
#[derive(Serialize)]
struct Body<'a> {
    client_name: &'a str,
    redirect_uris: &'a [RedirectUri],
    grant_types: &'a [String],
    response_types: [&'static str; 1],
    token_endpoint_auth_method: TokenEndpointAuth,
    application_type: ApplicationType,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a ScopeList>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_uri: Option<&'a Url>,
    #[serde(skip_serializing_if = "Option::is_none")]
    software_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    software_version: Option<&'a str>,
}

/// Serializes as the request's body.
impl Serialize for RegistrationRequest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Body {
            client_name: &self.client_name,
            redirect_uris: &self.redirect_uris,
            grant_types: &self.grant_types,
            response_types: RESPONSE_TYPES,
            token_endpoint_auth_method: self.token_endpoint_auth_method,
            application_type: self.application_type,
            scope: Some(&self.scope).filter(|scope| !scope.is_empty()),
            client_uri: self.client_uri.as_ref(),
            software_id: self.software_id.as_deref(),
            software_version: self.software_version.as_deref(),
        }
        .serialize(serializer)
    }
}

/// The registration endpoint's answer, read into [`ClientCredentials`] by [`parse`](Self::parse).
#[derive(Debug)]
#[non_exhaustive]
pub struct RegistrationResponse;

/// A client secret as read, wiped when dropped, whether it is kept or not.
#[derive(Deserialize)]
struct RawSecret(String);

impl Drop for RawSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// The members of a registration response (RFC 7591 section 3.2.1) this crate reads; the others,
/// the registered metadata and `client_id_issued_at`, are left out.
#[derive(Deserialize)]
#[serde(remote = "Self")]
struct RawRegistration {
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<RawSecret>,
    #[serde(default)]
    client_secret_expires_at: Option<u64>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
    /// Present only when a server answers an error with a success status.
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}
crate::oauth::json_object::object_only!(RawRegistration);

/// The body of an error response (RFC 7591 section 3.2.2).
#[derive(Deserialize)]
#[serde(remote = "Self")]
struct ErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}
crate::oauth::json_object::object_only!(ErrorBody);

impl ErrorBody {
    fn into_error(self) -> RegistrationError {
        RegistrationError::Refused {
            code: RegistrationErrorCode::parse(&self.error),
            description: self.error_description,
        }
    }
}

impl RegistrationResponse {
    /// Reads the registration endpoint's answer (its HTTP status and body) to a request for
    /// `requested_method` ([`RegistrationRequest::auth_method`]) sent to the server of `issuer`,
    /// into credentials bound to that issuer.
    ///
    /// - `201 Created` (or `200`) must carry a JSON object with a non-empty `client_id`. Other
    ///   members it does not need are ignored.
    /// - The method is the response's `token_endpoint_auth_method`, and the requested one when the
    ///   response names none: RFC 7591 section 3.2.1 has the server return the metadata it
    ///   registered, so a method it does not return is the one asked for. A method that sends a
    ///   secret needs a `client_secret`; with method `none` any `client_secret` is dropped, since
    ///   some servers issue one to public clients too and a public client never sends it.
    /// - `client_secret_expires_at` of 0 means the secret does not expire.
    /// - Any other status, or a body with `error`, is [`RegistrationError::Refused`] when the body
    ///   is an OAuth error (RFC 7591 section 3.2.2), and [`RegistrationError::UnexpectedStatus`]
    ///   otherwise.
    ///
    /// ```
    /// use workos_connect::registration::{RegistrationError, RegistrationErrorCode, RegistrationResponse, TokenEndpointAuth};
    ///
    /// let issuer = "https://example.authkit.app".parse()?;
    /// let credentials = RegistrationResponse::parse(
    ///     201,
    ///     br#"{"client_id":"client_01HXYZ","client_id_issued_at":1760000000,"redirect_uris":["http://127.0.0.1:33418/callback"]}"#,
    ///     &issuer,
    ///     TokenEndpointAuth::None,
    /// )?;
    /// assert_eq!(credentials.client_id().as_str(), "client_01HXYZ");
    /// assert_eq!(credentials.issuer(), &issuer);
    /// assert_eq!(credentials.auth_method(), TokenEndpointAuth::None);
    ///
    /// let refused = RegistrationResponse::parse(
    ///     403,
    ///     br#"{"error":"dynamic_client_registration_disabled"}"#,
    ///     &issuer,
    ///     TokenEndpointAuth::None,
    /// )
    /// .unwrap_err();
    /// assert!(matches!(
    ///     refused,
    ///     RegistrationError::Refused { code: RegistrationErrorCode::DynamicClientRegistrationDisabled, .. }
    /// ));
    /// assert!(refused.to_string().contains("WorkOS dashboard"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse(
        status: u16,
        body: &[u8],
        issuer: &Issuer,
        requested_method: TokenEndpointAuth,
    ) -> Result<ClientCredentials, RegistrationError> {
        if status != 200 && status != 201 {
            return Err(match json_object::from_slice::<ErrorBody>(body) {
                Ok(error) => error.into_error(),
                Err(_) => RegistrationError::UnexpectedStatus { status },
            });
        }
        let raw: RawRegistration =
            json_object::from_slice(body).map_err(|fault| RegistrationError::Malformed {
                reason: fault.to_string(),
            })?;
        if let Some(error) = raw.error {
            return Err(ErrorBody {
                error,
                error_description: raw.error_description,
            }
            .into_error());
        }
        let client_id = match raw.client_id.as_deref() {
            None | Some("") => return Err(RegistrationError::MissingClientId),
            Some(id) => ClientId::new(id).map_err(RegistrationError::InvalidClientId)?,
        };
        let method = match raw.token_endpoint_auth_method {
            // A registration sends no public key (`jwks`), so a `private_key_jwt` one has no key
            // this client could sign with.
            Some(name) if name == TokenEndpointAuth::PrivateKeyJwt.as_str() => {
                return Err(RegistrationError::UnsupportedAuthMethod { method: name })
            }
            Some(name) => name.parse::<TokenEndpointAuth>().map_err(|error| {
                RegistrationError::UnsupportedAuthMethod {
                    method: error.method,
                }
            })?,
            None => requested_method,
        };
        let secret = match raw.client_secret {
            Some(mut raw_secret) if method.needs_secret() && !raw_secret.0.is_empty() => Some(
                ClientSecret::new(std::mem::take(&mut raw_secret.0)).map_err(|error| {
                    RegistrationError::Malformed {
                        reason: error.to_string(),
                    }
                })?,
            ),
            // Method `none`, or an empty secret: nothing to keep.
            _ => None,
        };
        if method.needs_secret() && secret.is_none() {
            return Err(RegistrationError::MissingSecret { method });
        }
        let expires_at = raw
            .client_secret_expires_at
            .filter(|at| *at != 0 && secret.is_some());
        Ok(ClientCredentials::checked(
            issuer.clone(),
            client_id,
            secret,
            method,
            expires_at,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn endpoint() -> Url {
        Url::parse("https://example.authkit.app/oauth2/register").unwrap()
    }

    fn issuer() -> Issuer {
        "https://example.authkit.app".parse().unwrap()
    }

    fn loopback() -> Vec<RedirectUri> {
        vec!["http://127.0.0.1:33418/callback".parse().unwrap()]
    }

    fn refusal(status: u16, body: &str, method: TokenEndpointAuth) -> RegistrationError {
        parse(status, body, method).unwrap_err()
    }

    fn body_of(request: &RegistrationRequest) -> Value {
        serde_json::from_str(&request.body()).unwrap()
    }

    fn parse(
        status: u16,
        body: &str,
        method: TokenEndpointAuth,
    ) -> Result<ClientCredentials, RegistrationError> {
        RegistrationResponse::parse(status, body.as_bytes(), &issuer(), method)
    }

    #[test]
    fn the_body_has_rfc_7591_member_names() {
        let request = RegistrationRequest::new(&endpoint(), "Agent", loopback())
            .unwrap()
            .token_endpoint_auth_method(TokenEndpointAuth::ClientSecretBasic)
            .application_type(ApplicationType::Web)
            .scope("mcp:tools openid".parse().unwrap())
            .client_uri(Url::parse("https://agent.example/").unwrap())
            .software_id("4NRB1-0XZABZI9E6-5SM3R")
            .software_version("2.1");
        assert_eq!(
            body_of(&request),
            json!({
                "client_name": "Agent",
                "redirect_uris": ["http://127.0.0.1:33418/callback"],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_basic",
                "application_type": "web",
                "scope": "mcp:tools openid",
                "client_uri": "https://agent.example/",
                "software_id": "4NRB1-0XZABZI9E6-5SM3R",
                "software_version": "2.1",
            })
        );
        assert_eq!(request.auth_method(), TokenEndpointAuth::ClientSecretBasic);
    }

    #[test]
    fn defaults_are_a_public_client_with_refresh_and_no_scope() {
        let request = RegistrationRequest::new(&endpoint(), "Agent", loopback()).unwrap();
        assert_eq!(
            body_of(&request),
            json!({
                "client_name": "Agent",
                "redirect_uris": ["http://127.0.0.1:33418/callback"],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none",
                "application_type": "native",
            })
        );
        let emptied = request.clone().scope(ScopeList::new());
        assert!(!emptied.body().contains("scope"));
        let only_codes = request.grant_types(["authorization_code"]);
        assert_eq!(
            body_of(&only_codes)["grant_types"],
            json!(["authorization_code"])
        );
    }

    #[test]
    fn the_application_type_follows_the_redirect_uris() {
        let uris = |list: &[&str]| -> Vec<RedirectUri> {
            list.iter().map(|uri| uri.parse().unwrap()).collect()
        };
        let kind = |list: &[&str]| ApplicationType::for_redirect_uris(&uris(list));
        assert_eq!(kind(&["https://app.example/cb"]), ApplicationType::Web);
        assert_eq!(kind(&["https://localhost/cb"]), ApplicationType::Native);
        assert_eq!(kind(&["com.example.app:/cb"]), ApplicationType::Native);
        assert_eq!(
            kind(&["https://app.example/cb", "http://[::1]:9/cb"]),
            ApplicationType::Native
        );
        let hosted =
            RegistrationRequest::new(&endpoint(), "App", uris(&["https://app.example/cb"]))
                .unwrap();
        assert_eq!(body_of(&hosted)["application_type"], "web");
        assert_eq!(
            serde_json::to_string(&ApplicationType::Native).unwrap(),
            "\"native\""
        );
    }

    #[test]
    fn requests_are_checked() {
        let insecure = Url::parse("http://auth.example/register").unwrap();
        assert_eq!(
            RegistrationRequest::new(&insecure, "Agent", loopback()),
            Err(RegistrationError::Endpoint(EndpointError::Insecure))
        );
        let local = Url::parse("http://localhost:9000/register").unwrap();
        assert!(RegistrationRequest::new(&local, "Agent", loopback()).is_ok());
        assert_eq!(
            RegistrationRequest::new(&endpoint(), " ", loopback()),
            Err(RegistrationError::ClientName(ClientNameError::Empty))
        );
        assert_eq!(
            RegistrationRequest::new(&endpoint(), "Agent\n", loopback()),
            Err(RegistrationError::ClientName(
                ClientNameError::ControlCharacter { index: 5 }
            ))
        );
        assert_eq!(
            RegistrationRequest::new(&endpoint(), "Agent", Vec::new()),
            Err(RegistrationError::NoRedirectUri)
        );
    }

    #[test]
    fn a_client_name_that_would_reorder_or_hide_text_is_refused() {
        for c in crate::oauth::encoding::UNSAFE_FORMAT_CHARACTERS {
            assert_eq!(
                RegistrationRequest::new(&endpoint(), &format!("Agent{c}tnega"), loopback()),
                Err(RegistrationError::ClientName(
                    ClientNameError::ControlCharacter { index: 5 }
                )),
                "{c:?}"
            );
        }
        let error = RegistrationError::ClientName(ClientNameError::ControlCharacter { index: 5 });
        assert!(error.to_string().contains("bidirectional"), "{error}");
        assert!(RegistrationRequest::new(&endpoint(), "Agent de José Müller", loopback()).is_ok());
    }

    fn metadata(extra: Value) -> AuthorizationServerMetadata {
        let mut document = json!({
            "issuer": "https://example.authkit.app",
            "authorization_endpoint": "https://example.authkit.app/oauth2/authorize",
            "token_endpoint": "https://example.authkit.app/oauth2/token",
            "code_challenge_methods_supported": ["S256"],
        });
        if let (Some(document), Some(extra)) = (document.as_object_mut(), extra.as_object()) {
            document.extend(extra.clone());
        }
        AuthorizationServerMetadata::parse(document.to_string().as_bytes(), &issuer()).unwrap()
    }

    #[test]
    fn for_server_needs_a_registration_endpoint() {
        assert_eq!(
            RegistrationRequest::for_server(&metadata(json!({})), "Agent", loopback()),
            Err(RegistrationError::NotSupported)
        );
        assert!(RegistrationError::NotSupported
            .to_string()
            .contains("Client ID Metadata Document"));
        // A server that lists no method (so `client_secret_basic` alone) still gets `none`.
        let request = RegistrationRequest::for_server(
            &metadata(json!({"registration_endpoint": "https://example.authkit.app/register"})),
            "Agent",
            loopback(),
        )
        .unwrap();
        assert_eq!(request.auth_method(), TokenEndpointAuth::None);
        // One that takes only secrets gets asked for one.
        let request = RegistrationRequest::for_server(
            &metadata(
                json!({"registration_endpoint": "https://example.authkit.app/register",
                "token_endpoint_auth_methods_supported": ["client_secret_post"]}),
            ),
            "Agent",
            loopback(),
        )
        .unwrap();
        assert_eq!(request.auth_method(), TokenEndpointAuth::ClientSecretPost);
    }

    #[test]
    fn for_server_with_the_live_authkit_metadata() {
        let document = include_bytes!("../../tests/data/authkit/oauth-authorization-server.json");
        let issuer: Issuer = "https://fearless-network-26.authkit.app".parse().unwrap();
        let metadata = AuthorizationServerMetadata::parse(document, &issuer).unwrap();
        let request = RegistrationRequest::for_server(&metadata, "Agent", loopback()).unwrap();
        assert_eq!(
            request.url().as_str(),
            "https://fearless-network-26.authkit.app/oauth2/register"
        );
        assert_eq!(request.url().path(), "/oauth2/register");
        assert_eq!(request.auth_method(), TokenEndpointAuth::None);
        assert_eq!(body_of(&request)["token_endpoint_auth_method"], "none");
    }

    #[test]
    fn a_confidential_registration() {
        let credentials = parse(
            201,
            r#"{"client_id":"client_1","client_secret":"sk_s3cret","client_secret_expires_at":1900000000,
                "client_id_issued_at":1800000000,"token_endpoint_auth_method":"client_secret_basic",
                "redirect_uris":["http://127.0.0.1:33418/callback"],"x-vendor":{"a":1}}"#,
            TokenEndpointAuth::ClientSecretBasic,
        )
        .unwrap();
        assert_eq!(credentials.client_id().as_str(), "client_1");
        assert_eq!(credentials.client_secret().unwrap().secret(), "sk_s3cret");
        assert_eq!(
            credentials.auth_method(),
            TokenEndpointAuth::ClientSecretBasic
        );
        assert_eq!(credentials.client_secret_expires_at(), Some(1_900_000_000));
        assert_eq!(credentials.issuer(), &issuer());
        assert!(!format!("{credentials:?}").contains("sk_s3cret"));
    }

    #[test]
    fn without_a_method_the_requested_one_stands() {
        let post = parse(
            200,
            r#"{"client_id":"c","client_secret":"s","client_secret_expires_at":0}"#,
            TokenEndpointAuth::ClientSecretPost,
        )
        .unwrap();
        assert_eq!(post.auth_method(), TokenEndpointAuth::ClientSecretPost);
        assert_eq!(post.client_secret_expires_at(), None);
        // A server that issues a secret to a public client anyway: the secret is dropped.
        let public = parse(
            201,
            r#"{"client_id":"c","client_secret":"stray","client_secret_expires_at":1900000000}"#,
            TokenEndpointAuth::None,
        )
        .unwrap();
        assert_eq!(public.auth_method(), TokenEndpointAuth::None);
        assert!(public.client_secret().is_none());
        assert_eq!(public.client_secret_expires_at(), None);
        // Also when the server names `none` itself.
        let named = parse(
            201,
            r#"{"client_id":"c","client_secret":"stray","token_endpoint_auth_method":"none"}"#,
            TokenEndpointAuth::None,
        )
        .unwrap();
        assert!(named.client_secret().is_none());
    }

    #[test]
    fn the_registered_method_wins_and_must_be_usable() {
        let public = parse(
            201,
            r#"{"client_id":"c","token_endpoint_auth_method":"none"}"#,
            TokenEndpointAuth::ClientSecretBasic,
        )
        .unwrap();
        assert_eq!(public.auth_method(), TokenEndpointAuth::None);
        assert_eq!(
            refusal(
                201,
                r#"{"client_id":"c","token_endpoint_auth_method":"client_secret_post"}"#,
                TokenEndpointAuth::None,
            ),
            RegistrationError::MissingSecret {
                method: TokenEndpointAuth::ClientSecretPost
            }
        );
        assert_eq!(
            refusal(
                201,
                r#"{"client_id":"c","client_secret":""}"#,
                TokenEndpointAuth::ClientSecretBasic
            ),
            RegistrationError::MissingSecret {
                method: TokenEndpointAuth::ClientSecretBasic
            }
        );
        assert_eq!(
            refusal(
                201,
                r#"{"client_id":"c","token_endpoint_auth_method":"private_key_jwt"}"#,
                TokenEndpointAuth::None,
            ),
            RegistrationError::UnsupportedAuthMethod {
                method: "private_key_jwt".to_owned()
            }
        );
    }

    #[test]
    fn the_client_id_is_required() {
        for body in [
            r#"{"client_secret":"s"}"#,
            r#"{"client_id":""}"#,
            r#"{"client_id":null}"#,
        ] {
            assert_eq!(
                refusal(201, body, TokenEndpointAuth::None),
                RegistrationError::MissingClientId,
                "{body}"
            );
        }
        assert!(matches!(
            parse(201, r#"{"client_id":"client_é"}"#, TokenEndpointAuth::None),
            Err(RegistrationError::InvalidClientId(_))
        ));
    }

    #[test]
    fn every_rfc_7591_error_code() {
        for (wire, code) in [
            (
                "invalid_redirect_uri",
                RegistrationErrorCode::InvalidRedirectUri,
            ),
            (
                "invalid_client_metadata",
                RegistrationErrorCode::InvalidClientMetadata,
            ),
            (
                "invalid_software_statement",
                RegistrationErrorCode::InvalidSoftwareStatement,
            ),
            (
                "unapproved_software_statement",
                RegistrationErrorCode::UnapprovedSoftwareStatement,
            ),
            (
                "dynamic_client_registration_disabled",
                RegistrationErrorCode::DynamicClientRegistrationDisabled,
            ),
            (
                "temporarily_unavailable",
                RegistrationErrorCode::Other("temporarily_unavailable".into()),
            ),
        ] {
            let body = format!(r#"{{"error":"{wire}","error_description":"because"}}"#);
            let error = parse(400, &body, TokenEndpointAuth::None).unwrap_err();
            assert_eq!(
                error,
                RegistrationError::Refused {
                    code: code.clone(),
                    description: Some("because".to_owned())
                }
            );
            assert_eq!(code.as_str(), wire);
            assert!(error.to_string().contains(wire), "{error}");
        }
    }

    #[test]
    fn a_disabled_registration_says_where_to_enable_it() {
        let error = parse(
            403,
            r#"{"error":"dynamic_client_registration_disabled","error_description":"Dynamic client registration is disabled"}"#,
            TokenEndpointAuth::None,
        )
        .unwrap_err();
        let message = error.to_string();
        assert!(message.contains("WorkOS dashboard"), "{message}");
        assert!(
            message.contains("enable Dynamic Client Registration"),
            "{message}"
        );
        assert!(message.contains("Client ID Metadata Document"), "{message}");
        // An error object with a success status is an error all the same.
        assert!(matches!(
            parse(
                200,
                r#"{"error":"invalid_client_metadata"}"#,
                TokenEndpointAuth::None
            ),
            Err(RegistrationError::Refused {
                code: RegistrationErrorCode::InvalidClientMetadata,
                description: None
            })
        ));
    }

    #[test]
    fn odd_codes_are_shown_escaped() {
        let code = RegistrationErrorCode::parse("bad\ncode");
        assert_eq!(code.to_string(), "\"bad\\ncode\"");
    }

    #[test]
    fn other_statuses_and_malformed_bodies() {
        assert_eq!(
            refusal(500, "", TokenEndpointAuth::None),
            RegistrationError::UnexpectedStatus { status: 500 }
        );
        assert_eq!(
            refusal(502, "<html>Bad gateway</html>", TokenEndpointAuth::None),
            RegistrationError::UnexpectedStatus { status: 502 }
        );
        assert_eq!(
            refusal(204, "", TokenEndpointAuth::None),
            RegistrationError::UnexpectedStatus { status: 204 }
        );
        let truncated = parse(
            201,
            r#"{"client_id":"c","client_secret":"sk_leaked_secret"#,
            TokenEndpointAuth::ClientSecretBasic,
        )
        .unwrap_err();
        assert!(matches!(truncated, RegistrationError::Malformed { .. }));
        let message = format!("{truncated} {truncated:?}");
        assert!(!message.contains("sk_leaked"), "{message}");
        let typed = parse(
            201,
            r#"{"client_id":"c","client_secret":"sk_leaked_secret","client_secret_expires_at":"soon"}"#,
            TokenEndpointAuth::ClientSecretBasic,
        )
        .unwrap_err();
        let message = format!("{typed} {typed:?}");
        assert!(matches!(typed, RegistrationError::Malformed { .. }));
        assert!(
            !message.contains("sk_leaked") && !message.contains("soon"),
            "{message}"
        );
        let bad_secret = parse(
            201,
            "{\"client_id\":\"c\",\"client_secret\":\"sk_\\u0007leak\"}",
            TokenEndpointAuth::ClientSecretBasic,
        )
        .unwrap_err();
        assert!(!bad_secret.to_string().contains("leak"), "{bad_secret}");
        for not_an_object in ["[]", r#"["c"]"#, "\"c\"", ""] {
            assert!(
                matches!(
                    parse(201, not_an_object, TokenEndpointAuth::None),
                    Err(RegistrationError::Malformed { .. })
                ),
                "{not_an_object}"
            );
        }
        assert_eq!(
            refusal(400, r#"["invalid_redirect_uri"]"#, TokenEndpointAuth::None),
            RegistrationError::UnexpectedStatus { status: 400 }
        );
    }
}

//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; MCP 2025-11-25):
//! a client that serves its metadata as JSON at an `https` URL uses that URL as its `client_id`,
//! and registers nowhere.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::oauth::client_id::ClientId;
use crate::oauth::identifier::Issuer;
use crate::oauth::redirect_uri::RedirectUri;
use crate::registration::client_id_url::{client_id_url_fault, ClientIdUrlFault};
use crate::registration::client_name::{check_client_name, ClientNameError};
use crate::registration::credentials::{ClientCredentials, CredentialsError};
use crate::registration::dynamic::{ApplicationType, DEFAULT_GRANT_TYPES, RESPONSE_TYPES};
use crate::registration::token_auth::TokenEndpointAuth;

/// Why a Client ID Metadata Document cannot be made or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientMetadataError {
    /// The `client_id` is not an absolute URL.
    #[error("the client_id is not an absolute URL: {reason}")]
    NotUrl {
        /// The parser's reason.
        reason: url::ParseError,
    },
    /// The URL is not `https`.
    #[error("a Client ID Metadata Document must be served over https, and its URL be https")]
    NotHttps,
    /// The URL has no path, which the draft requires so that one host can serve several clients.
    #[error(
        "the Client ID Metadata Document URL has no path; serve it at a path such as \
         https://app.example.com/oauth/client.json"
    )]
    NoPath,
    /// The URL has a fragment.
    #[error("the Client ID Metadata Document URL has a fragment; remove the part from `#`")]
    Fragment,
    /// The URL has a user name or password.
    #[error(
        "the Client ID Metadata Document URL has a user name or password; remove the part before `@`"
    )]
    Userinfo,
    /// The URL has a `.` or `..` path segment, which would make it name another path once
    /// normalized.
    #[error("the Client ID Metadata Document URL has a `.` or `..` path segment; remove it")]
    DotSegment,
    /// The `client_name` was refused.
    #[error(transparent)]
    ClientName(#[from] ClientNameError),
    /// No redirect URI.
    #[error("no redirect URI was given; list at least the one the login comes back to")]
    NoRedirectUri,
    /// A document read back names a method other than `none`: the draft forbids the shared-secret
    /// methods, and this crate implements no other.
    #[error(
        "the Client ID Metadata Document's token_endpoint_auth_method is {method:?}; a client \
         identified by its metadata document is public and uses `none`"
    )]
    AuthMethod {
        /// The method named.
        method: String,
    },
    /// A document read back carries a `client_secret`, which the draft forbids: the document is
    /// public.
    #[error(
        "the Client ID Metadata Document carries a client_secret; a public document holds no secret"
    )]
    Secret,
}

/// The metadata document of a client whose `client_id` is the `https` URL it is served at (a
/// Client ID Metadata Document), for authorization servers that advertise
/// `client_id_metadata_document_supported`, as AuthKit does. The server fetches it when the client
/// first sends users to log in, so the client registers nowhere and has no secret.
///
/// Serve [`to_json`](Self::to_json) at exactly [`client_id`](Self::client_id), with `Content-Type:
/// application/json`. The document holds grants `authorization_code` and `refresh_token`, response
/// type `code`, method `none`, and an `application_type` that fits the redirect URIs, unless set
/// otherwise.
///
/// Serde reads and writes the document's JSON; reading checks what [`new`](Self::new) checks, and
/// refuses a method other than `none` or a `client_secret`.
///
/// ```
/// use workos_connect::registration::ClientMetadataDocument;
///
/// let document = ClientMetadataDocument::new(
///     &"https://agent.example.com/oauth/client.json".parse()?,
///     "Example Agent",
///     vec!["http://127.0.0.1:33418/callback".parse()?],
/// )?
/// .client_uri("https://agent.example.com/".parse()?);
/// assert_eq!(
///     document.to_json(),
///     r#"{"client_id":"https://agent.example.com/oauth/client.json","client_name":"Example Agent","#.to_owned()
///         + r#""redirect_uris":["http://127.0.0.1:33418/callback"],"#
///         + r#""grant_types":["authorization_code","refresh_token"],"response_types":["code"],"#
///         + r#""token_endpoint_auth_method":"none","application_type":"native","#
///         + r#""client_uri":"https://agent.example.com/"}"#
/// );
/// let credentials = document.credentials("https://example.authkit.app".parse()?)?;
/// assert_eq!(credentials.client_id().as_str(), "https://agent.example.com/oauth/client.json");
///
/// assert!(ClientMetadataDocument::new(
///     &"https://agent.example.com/".parse()?,
///     "Example Agent",
///     vec!["http://127.0.0.1:33418/callback".parse()?],
/// )
/// .is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawDocument")]
pub struct ClientMetadataDocument {
    client_id: String,
    client_name: String,
    redirect_uris: Vec<RedirectUri>,
    grant_types: Vec<String>,
    response_types: Vec<String>,
    token_endpoint_auth_method: TokenEndpointAuth,
    #[serde(skip_serializing_if = "Option::is_none")]
    application_type: Option<ApplicationType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_uri: Option<Url>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logo_uri: Option<Url>,
}

/// Checks a `client_id` URL as the draft's section 3 requires.
pub(crate) fn check_url(text: &str, url: &Url) -> Result<(), ClientMetadataError> {
    match client_id_url_fault(text, url) {
        None => Ok(()),
        Some(ClientIdUrlFault::NotHttps) => Err(ClientMetadataError::NotHttps),
        Some(ClientIdUrlFault::Userinfo) => Err(ClientMetadataError::Userinfo),
        Some(ClientIdUrlFault::Fragment) => Err(ClientMetadataError::Fragment),
        Some(ClientIdUrlFault::NoPath) => Err(ClientMetadataError::NoPath),
        Some(ClientIdUrlFault::DotSegment) => Err(ClientMetadataError::DotSegment),
    }
}

fn check_client(
    client_name: &str,
    redirect_uris: &[RedirectUri],
) -> Result<(), ClientMetadataError> {
    check_client_name(client_name)?;
    if redirect_uris.is_empty() {
        return Err(ClientMetadataError::NoRedirectUri);
    }
    Ok(())
}

impl ClientMetadataDocument {
    /// The document of a client named `client_name` (shown to users when they approve it) that
    /// logs users in at `redirect_uris`, served at `client_id_url`, which becomes its `client_id`.
    ///
    /// The URL must be `https`, with a path other than `/`, and no fragment, user name or password.
    pub fn new(
        client_id_url: &Url,
        client_name: &str,
        redirect_uris: Vec<RedirectUri>,
    ) -> Result<Self, ClientMetadataError> {
        check_url(client_id_url.as_str(), client_id_url)?;
        check_client(client_name, &redirect_uris)?;
        Ok(ClientMetadataDocument {
            client_id: client_id_url.as_str().to_owned(),
            client_name: client_name.to_owned(),
            application_type: Some(ApplicationType::for_redirect_uris(&redirect_uris)),
            redirect_uris,
            grant_types: DEFAULT_GRANT_TYPES.map(String::from).to_vec(),
            response_types: RESPONSE_TYPES.map(String::from).to_vec(),
            token_endpoint_auth_method: TokenEndpointAuth::None,
            client_uri: None,
            logo_uri: None,
        })
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

    /// The kind of application, instead of the one its redirect URIs suggest.
    pub fn application_type(mut self, application_type: ApplicationType) -> Self {
        self.application_type = Some(application_type);
        self
    }

    /// The client's home page, which consent screens may link to.
    pub fn client_uri(mut self, client_uri: Url) -> Self {
        self.client_uri = Some(client_uri);
        self
    }

    /// The client's logo, which consent screens may show.
    pub fn logo_uri(mut self, logo_uri: Url) -> Self {
        self.logo_uri = Some(logo_uri);
        self
    }

    /// The `client_id`: the URL to serve the document at, exactly as written here.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The name shown to users.
    pub fn client_name(&self) -> &str {
        &self.client_name
    }

    /// The redirect URIs.
    pub fn redirect_uris(&self) -> &[RedirectUri] {
        &self.redirect_uris
    }

    /// The document as JSON, to serve at [`client_id`](Self::client_id).
    pub fn to_json(&self) -> String {
        // Cannot fail: the document is strings and lists of strings under string keys.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The credentials of this client with the authorization server of `issuer`: the document's
    /// URL as `client_id`, method `none`, no secret.
    pub fn credentials(&self, issuer: Issuer) -> Result<ClientCredentials, CredentialsError> {
        let client_id =
            ClientId::new(&self.client_id).map_err(|_| CredentialsError::NotMetadataUrl)?;
        ClientCredentials::metadata_document(issuer, client_id)
    }
}

/// A document as read, checked into a [`ClientMetadataDocument`]. Members it does not name are
/// ignored; RFC 7591's defaults fill the grant and response types a document leaves out.
#[derive(Deserialize)]
#[serde(remote = "Self")]
struct RawDocument {
    client_id: String,
    client_name: String,
    redirect_uris: Vec<RedirectUri>,
    #[serde(default = "rfc_7591_grant_types")]
    grant_types: Vec<String>,
    #[serde(default = "rfc_7591_response_types")]
    response_types: Vec<String>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    application_type: Option<ApplicationType>,
    #[serde(default)]
    client_uri: Option<Url>,
    #[serde(default)]
    logo_uri: Option<Url>,
    /// Only looked for: its value is never read, let alone kept.
    #[serde(default)]
    client_secret: Option<serde::de::IgnoredAny>,
}
crate::oauth::json_object::object_only!(RawDocument);

fn rfc_7591_grant_types() -> Vec<String> {
    vec!["authorization_code".to_owned()]
}

fn rfc_7591_response_types() -> Vec<String> {
    RESPONSE_TYPES.map(String::from).to_vec()
}

impl TryFrom<RawDocument> for ClientMetadataDocument {
    type Error = ClientMetadataError;

    fn try_from(raw: RawDocument) -> Result<Self, ClientMetadataError> {
        let url =
            Url::parse(&raw.client_id).map_err(|reason| ClientMetadataError::NotUrl { reason })?;
        check_url(&raw.client_id, &url)?;
        check_client(&raw.client_name, &raw.redirect_uris)?;
        if raw.client_secret.is_some() {
            return Err(ClientMetadataError::Secret);
        }
        match raw.token_endpoint_auth_method.as_deref() {
            None | Some("none") => {}
            Some(other) => {
                return Err(ClientMetadataError::AuthMethod {
                    method: other.to_owned(),
                })
            }
        }
        Ok(ClientMetadataDocument {
            client_id: raw.client_id,
            client_name: raw.client_name,
            redirect_uris: raw.redirect_uris,
            grant_types: raw.grant_types,
            response_types: raw.response_types,
            token_endpoint_auth_method: TokenEndpointAuth::None,
            application_type: raw.application_type,
            client_uri: raw.client_uri,
            logo_uri: raw.logo_uri,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn loopback() -> Vec<RedirectUri> {
        vec!["http://127.0.0.1:33418/callback".parse().unwrap()]
    }

    fn new(url: &str) -> Result<ClientMetadataDocument, ClientMetadataError> {
        ClientMetadataDocument::new(&Url::parse(url).unwrap(), "Agent", loopback())
    }

    #[test]
    fn serializes_the_draft_members() {
        let document = new("https://agent.example/oauth/client.json")
            .unwrap()
            .application_type(ApplicationType::Web)
            .logo_uri(Url::parse("https://agent.example/logo.png").unwrap())
            .grant_types(["authorization_code"]);
        let json: Value = serde_json::from_str(&document.to_json()).unwrap();
        assert_eq!(
            json,
            json!({
                "client_id": "https://agent.example/oauth/client.json",
                "client_name": "Agent",
                "redirect_uris": ["http://127.0.0.1:33418/callback"],
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none",
                "application_type": "web",
                "logo_uri": "https://agent.example/logo.png",
            })
        );
        let back: ClientMetadataDocument = serde_json::from_value(json).unwrap();
        assert_eq!(back, document);
    }

    #[test]
    fn defaults_list_refresh_tokens_and_fit_the_redirect_uris() {
        let document = new("https://agent.example/client").unwrap();
        let json: Value = serde_json::from_str(&document.to_json()).unwrap();
        assert_eq!(
            json["grant_types"],
            json!(["authorization_code", "refresh_token"])
        );
        assert_eq!(json["application_type"], "native");
        assert_eq!(document.client_id(), "https://agent.example/client");
        assert_eq!(document.client_name(), "Agent");
        assert_eq!(document.redirect_uris(), loopback().as_slice());
    }

    #[test]
    fn the_url_must_be_https_with_a_path() {
        assert_eq!(
            new("http://agent.example/client.json"),
            Err(ClientMetadataError::NotHttps)
        );
        assert_eq!(
            new("http://localhost/client.json"),
            Err(ClientMetadataError::NotHttps)
        );
        assert_eq!(
            new("https://agent.example"),
            Err(ClientMetadataError::NoPath)
        );
        assert_eq!(
            new("https://agent.example/"),
            Err(ClientMetadataError::NoPath)
        );
        assert_eq!(
            new("https://agent.example/client.json#x"),
            Err(ClientMetadataError::Fragment)
        );
        assert_eq!(
            new("https://u:p@agent.example/client.json"),
            Err(ClientMetadataError::Userinfo)
        );
        assert_eq!(
            ClientMetadataDocument::new(
                &Url::parse("https://agent.example/c").unwrap(),
                "",
                loopback()
            ),
            Err(ClientMetadataError::ClientName(ClientNameError::Empty))
        );
        assert_eq!(
            ClientMetadataDocument::new(
                &Url::parse("https://agent.example/c").unwrap(),
                "Agent",
                Vec::new()
            ),
            Err(ClientMetadataError::NoRedirectUri)
        );
    }

    #[test]
    fn documents_read_back_are_checked() {
        let read = |document: Value| serde_json::from_value::<ClientMetadataDocument>(document);
        let minimal = read(json!({
            "client_id": "https://agent.example/client.json",
            "client_name": "Agent",
            "redirect_uris": ["http://127.0.0.1:33418/callback"],
            "software_id": "ignored",
        }))
        .unwrap();
        let json: Value = serde_json::from_str(&minimal.to_json()).unwrap();
        assert_eq!(json["grant_types"], json!(["authorization_code"]));
        assert!(json.get("application_type").is_none() && json.get("software_id").is_none());
        for (bad, expected) in [
            (
                json!({"client_id": "https://agent.example/a/../client.json"}),
                "`.` or `..`",
            ),
            (json!({"client_id": "https://agent.example/"}), "no path"),
            (
                json!({"token_endpoint_auth_method": "client_secret_basic"}),
                "public",
            ),
            (json!({"client_secret": "sk_doc_secret"}), "client_secret"),
        ] {
            let mut document = json!({
                "client_id": "https://agent.example/client.json",
                "client_name": "Agent",
                "redirect_uris": ["http://127.0.0.1:33418/callback"],
            });
            if let (Some(document), Some(bad)) = (document.as_object_mut(), bad.as_object()) {
                document.extend(bad.clone());
            }
            let message = read(document).unwrap_err().to_string();
            assert!(message.contains(expected), "{message}");
            assert!(!message.contains("sk_doc_secret"), "{message}");
        }
    }

    #[test]
    fn a_client_name_that_would_reorder_or_hide_text_is_refused() {
        // A document read back comes from the client, and its name goes on the consent screen.
        for c in crate::oauth::encoding::UNSAFE_FORMAT_CHARACTERS {
            let document = json!({
                "client_id": "https://agent.example/client.json",
                "client_name": format!("Agent{c}tnega"),
                "redirect_uris": ["http://127.0.0.1:33418/callback"],
            });
            assert_eq!(
                serde_json::from_value::<ClientMetadataDocument>(document)
                    .unwrap_err()
                    .to_string(),
                ClientMetadataError::ClientName(ClientNameError::ControlCharacter { index: 5 })
                    .to_string(),
                "{c:?}"
            );
            assert_eq!(
                ClientMetadataDocument::new(
                    &Url::parse("https://agent.example/c").unwrap(),
                    &format!("Agent{c}tnega"),
                    loopback()
                ),
                Err(ClientMetadataError::ClientName(
                    ClientNameError::ControlCharacter { index: 5 }
                )),
                "{c:?}"
            );
        }
        let error = ClientMetadataError::ClientName(ClientNameError::ControlCharacter { index: 5 });
        assert!(error.to_string().contains("bidirectional"), "{error}");
    }

    #[test]
    fn credentials_are_public_and_bound_to_the_issuer() {
        let issuer: Issuer = "https://example.authkit.app".parse().unwrap();
        let credentials = new("https://agent.example/client.json")
            .unwrap()
            .credentials(issuer.clone())
            .unwrap();
        assert_eq!(credentials.issuer(), &issuer);
        assert_eq!(
            credentials.client_id().as_str(),
            "https://agent.example/client.json"
        );
        assert_eq!(credentials.auth_method(), TokenEndpointAuth::None);
        assert!(credentials.client_secret().is_none());
    }
}

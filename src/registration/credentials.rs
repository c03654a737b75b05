//! A client's registration with one authorization server, whichever way it was made.

use std::fmt;

use serde::{Deserialize, Serialize};

use url::Url;

use crate::client::ClientId;
use crate::credential::ClientSecret;
use crate::encoding::basic_authorization;
use crate::identifier::Issuer;
use crate::registration::client_id_url::client_id_url_fault;
use crate::registration::token_auth::TokenEndpointAuth;
use crate::token::TokenRequest;

/// What a client knows of its registration with one authorization server: the `client_id`, a secret
/// if it has one, how it authenticates at the token endpoint, and the issuer it belongs to.
///
/// Credentials are bound to their issuer: [`AuthorizationClient`](crate::mcp::AuthorizationClient)
/// refuses them for any other server, so a `client_id` (and above all a secret) registered with one
/// authorization server is never sent to another that a protected resource happens to name.
///
/// Made in the MCP specification's three ways: [`pre_registered`](Self::pre_registered), a Client
/// ID Metadata Document URL ([`metadata_document`](Self::metadata_document)), or Dynamic Client
/// Registration ([`RegistrationResponse::parse`](crate::mcp::RegistrationResponse::parse)).
/// Serializable, to store between runs; the stored form holds the secret, so store it as a secret.
/// Its `Debug` hides the secret.
///
/// ```
/// use workos_connect::mcp::{ClientCredentials, TokenEndpointAuth};
/// use workos_connect::ClientSecret;
///
/// let credentials = ClientCredentials::pre_registered(
///     "https://example.authkit.app".parse()?,
///     "client_01HXYZ".parse()?,
///     Some(ClientSecret::new("sk_example")?),
///     TokenEndpointAuth::ClientSecretBasic,
/// )?;
/// assert_eq!(credentials.issuer().as_str(), "https://example.authkit.app");
/// assert!(!format!("{credentials:?}").contains("sk_example"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "Stored", into = "Stored")]
pub struct ClientCredentials {
    issuer: Issuer,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    auth_method: TokenEndpointAuth,
    client_secret_expires_at: Option<u64>,
}

/// Why credentials cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The method sends a secret, and there is none.
    #[error("token endpoint authentication `{method}` needs a client secret, and none was given")]
    MissingSecret {
        /// The method.
        method: TokenEndpointAuth,
    },
    /// A secret with method `none`, which would never send it: a public client has no secret.
    #[error(
        "a client secret was given with token endpoint authentication `none`, which never sends it"
    )]
    UnusedSecret,
    /// A Client ID Metadata Document `client_id` that is not an `https` URL with a path.
    #[error(
        "a Client ID Metadata Document's client_id must be an https URL with a path, such as \
         https://app.example.com/oauth/client.json"
    )]
    NotMetadataUrl,
    /// A stored field that does not check.
    #[error("stored client credentials are malformed: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
}

impl ClientCredentials {
    /// A client registered ahead of time with `issuer`, by hand or by configuration.
    pub fn pre_registered(
        issuer: Issuer,
        client_id: ClientId,
        client_secret: Option<ClientSecret>,
        auth_method: TokenEndpointAuth,
    ) -> Result<Self, CredentialsError> {
        Self::checked(issuer, client_id, client_secret, auth_method, None)
    }

    /// A client whose `client_id` is the `https` URL of its Client ID Metadata Document
    /// ([`ClientMetadataDocument`](crate::mcp::ClientMetadataDocument)), for a server that advertises
    /// `client_id_metadata_document_supported`. Such a client is public: method `none`, no secret.
    ///
    /// ```
    /// use workos_connect::mcp::ClientCredentials;
    ///
    /// let credentials = ClientCredentials::metadata_document(
    ///     "https://example.authkit.app".parse()?,
    ///     "https://app.example.com/oauth/client.json".parse()?,
    /// )?;
    /// assert_eq!(credentials.client_id().as_str(), "https://app.example.com/oauth/client.json");
    /// assert!(ClientCredentials::metadata_document(
    ///     "https://example.authkit.app".parse()?,
    ///     "my-client".parse()?,
    /// ).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn metadata_document(
        issuer: Issuer,
        client_id: ClientId,
    ) -> Result<Self, CredentialsError> {
        // The same rules as `ClientMetadataDocument::new`: `https`, a path, and no fragment, user
        // information or dot segment.
        let is_metadata_url = url::Url::parse(client_id.as_str())
            .is_ok_and(|url| client_id_url_fault(client_id.as_str(), &url).is_none());
        if !is_metadata_url {
            return Err(CredentialsError::NotMetadataUrl);
        }
        Self::checked(issuer, client_id, None, TokenEndpointAuth::None, None)
    }

    pub(crate) fn checked(
        issuer: Issuer,
        client_id: ClientId,
        client_secret: Option<ClientSecret>,
        auth_method: TokenEndpointAuth,
        client_secret_expires_at: Option<u64>,
    ) -> Result<Self, CredentialsError> {
        match (auth_method.needs_secret(), &client_secret) {
            (true, None) => {
                return Err(CredentialsError::MissingSecret {
                    method: auth_method,
                })
            }
            (false, Some(_)) => return Err(CredentialsError::UnusedSecret),
            _ => {}
        }
        Ok(ClientCredentials {
            issuer,
            client_id,
            client_secret,
            auth_method,
            client_secret_expires_at,
        })
    }

    /// The authorization server these credentials belong to.
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// The `client_id`.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The client secret, for a confidential client.
    pub fn client_secret(&self) -> Option<&ClientSecret> {
        self.client_secret.as_ref()
    }

    /// How the client authenticates at the token endpoint.
    pub fn auth_method(&self) -> TokenEndpointAuth {
        self.auth_method
    }

    /// When the secret expires, in seconds since the Unix epoch; `None` when it does not (RFC 7591
    /// section 3.2.1's `client_secret_expires_at` of 0) or there is no secret.
    pub fn client_secret_expires_at(&self) -> Option<u64> {
        self.client_secret_expires_at
    }

    /// A form `POST` to `url` (a token or introspection endpoint) with this client's
    /// authentication: a Basic `Authorization` header for `client_secret_basic`, `client_id` and
    /// `client_secret` in the form for `client_secret_post`, `client_id` alone for `none`.
    pub(crate) fn authenticated(
        &self,
        url: Url,
        mut form: Vec<(&'static str, String)>,
    ) -> TokenRequest {
        let client_id = self.client_id.as_str();
        let secret = self.client_secret.as_ref().map(ClientSecret::secret);
        let mut authorization = None;
        match (self.auth_method, secret) {
            (TokenEndpointAuth::ClientSecretBasic, Some(secret)) => {
                authorization = Some(basic_authorization(client_id, secret));
            }
            (TokenEndpointAuth::ClientSecretPost, Some(secret)) => {
                form.push(("client_id", client_id.to_owned()));
                form.push(("client_secret", secret.to_owned()));
            }
            // Every secret method comes with a secret (`checked`), so only `none` is left.
            _ => form.push(("client_id", client_id.to_owned())),
        }
        TokenRequest::new(url, form, authorization)
    }

    /// Whether the secret has expired at `unix_seconds`, so the client must register again.
    pub fn is_expired_at(&self, unix_seconds: u64) -> bool {
        self.client_secret_expires_at
            .is_some_and(|expires_at| expires_at <= unix_seconds)
    }
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("auth_method", &self.auth_method)
            .field("client_secret_expires_at", &self.client_secret_expires_at)
            .finish()
    }
}

/// The stored form, checked again when read back.
#[derive(Serialize, Deserialize)]
struct Stored {
    issuer: Issuer,
    client_id: ClientId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    token_endpoint_auth_method: TokenEndpointAuth,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret_expires_at: Option<u64>,
}

impl TryFrom<Stored> for ClientCredentials {
    type Error = CredentialsError;

    fn try_from(stored: Stored) -> Result<Self, CredentialsError> {
        let secret = stored
            .client_secret
            .map(ClientSecret::new)
            .transpose()
            .map_err(|error| CredentialsError::Malformed {
                reason: error.to_string(),
            })?;
        Self::checked(
            stored.issuer,
            stored.client_id,
            secret,
            stored.token_endpoint_auth_method,
            stored.client_secret_expires_at,
        )
    }
}

impl From<ClientCredentials> for Stored {
    fn from(credentials: ClientCredentials) -> Self {
        Stored {
            issuer: credentials.issuer.clone(),
            client_id: credentials.client_id.clone(),
            client_secret: credentials
                .client_secret
                .as_ref()
                .map(|secret| secret.secret().to_owned()),
            token_endpoint_auth_method: credentials.auth_method,
            client_secret_expires_at: credentials.client_secret_expires_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer() -> Issuer {
        "https://example.authkit.app".parse().unwrap()
    }

    #[test]
    fn the_method_and_the_secret_agree() {
        let id: ClientId = "c".parse().unwrap();
        assert_eq!(
            ClientCredentials::pre_registered(
                issuer(),
                id.clone(),
                None,
                TokenEndpointAuth::ClientSecretPost
            )
            .unwrap_err(),
            CredentialsError::MissingSecret {
                method: TokenEndpointAuth::ClientSecretPost
            }
        );
        let secret = ClientSecret::new("s").unwrap();
        assert_eq!(
            ClientCredentials::pre_registered(issuer(), id, Some(secret), TokenEndpointAuth::None)
                .unwrap_err(),
            CredentialsError::UnusedSecret
        );
    }

    #[test]
    fn a_metadata_document_url_follows_the_drafts_rules() {
        let url =
            |text: &str| ClientCredentials::metadata_document(issuer(), text.parse().unwrap());
        assert!(url("https://app.example/oauth/client.json").is_ok());
        for bad in [
            "http://app.example/client.json",
            "https://app.example/",
            "https://app.example/client.json#f",
            "https://user:pass@app.example/client.json",
            "https://app.example/a/../client.json",
            "https://app.example/./client.json",
        ] {
            assert_eq!(
                url(bad).unwrap_err(),
                CredentialsError::NotMetadataUrl,
                "{bad}"
            );
        }
    }

    #[test]
    fn stored_and_read_back_with_the_same_checks() {
        let credentials = ClientCredentials::checked(
            issuer(),
            "c".parse().unwrap(),
            Some(ClientSecret::new("s3cret").unwrap()),
            TokenEndpointAuth::ClientSecretBasic,
            Some(100),
        )
        .unwrap();
        let json = serde_json::to_string(&credentials).unwrap();
        let back: ClientCredentials = serde_json::from_str(&json).unwrap();
        assert_eq!(back.client_secret().unwrap().secret(), "s3cret");
        assert!(back.is_expired_at(100) && !back.is_expired_at(99));
        let tampered = json.replace("client_secret_basic", "none");
        assert!(serde_json::from_str::<ClientCredentials>(&tampered).is_err());
    }
}

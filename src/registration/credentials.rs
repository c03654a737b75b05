//! A client's registration with one authorization server, whichever way it was made.

use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use url::Url;

use crate::oauth::client_id::ClientId;
use crate::oauth::clock::{unix_seconds, Clock, ClockHandle};
use crate::oauth::credential::ClientSecret;
use crate::oauth::encoding::basic_authorization;
use crate::oauth::endpoint::{is_issuers_endpoint, EndpointError};
use crate::oauth::identifier::Issuer;
use crate::oauth::token_request::TokenRequest;
use crate::registration::client_id_url::client_id_url_fault;
#[cfg(feature = "private-key-jwt")]
use crate::registration::signing_key::{
    ClientSigningKey, SigningAlgorithm, CLIENT_ASSERTION_TYPE_JWT_BEARER,
};
use crate::registration::token_auth::TokenEndpointAuth;

/// What a client knows of its registration with one authorization server: the `client_id`, a secret
/// or a private signing key if it has one, how it authenticates at the token endpoint, and the
/// issuer it belongs to.
///
/// Credentials are bound to their issuer: [`AuthorizationClient`](crate::mcp::AuthorizationClient)
/// refuses them for any other server, so a `client_id` (and above all a secret) registered with one
/// authorization server is never sent to another that a protected resource happens to name.
///
/// Made in the MCP specification's three ways: [`pre_registered`](Self::pre_registered), a Client
/// ID Metadata Document URL ([`metadata_document`](Self::metadata_document)), or Dynamic Client
/// Registration ([`RegistrationResponse::parse`](crate::registration::RegistrationResponse::parse)).
/// A client with a private key (`private_key_jwt`, feature `private-key-jwt`) is made with
/// `ClientCredentials::private_key_jwt`.
/// Serializable, to store between runs; the stored form holds the secret or the private key's PEM,
/// so store it as a secret. Its `Debug` hides both.
///
/// ```
/// use workos_connect::registration::{ClientCredentials, TokenEndpointAuth};
/// use workos_connect::oauth::ClientSecret;
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
    #[cfg(feature = "private-key-jwt")]
    signing_key: Option<ClientSigningKey>,
    /// What dates the client assertions; not stored.
    clock: ClockHandle,
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
    /// `private_key_jwt` without a signing key: such credentials are made only with
    /// `ClientCredentials::private_key_jwt` (feature `private-key-jwt`).
    #[error(
        "token endpoint authentication `private_key_jwt` needs the client's private signing key: \
         make the credentials with ClientCredentials::private_key_jwt (feature `private-key-jwt`)"
    )]
    MissingSigningKey,
    /// The client assertion for `private_key_jwt` could not be signed.
    #[error("the client assertion could not be signed: {reason}")]
    Signing {
        /// Why, without the key.
        reason: String,
    },
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
    /// ([`ClientMetadataDocument`](crate::registration::ClientMetadataDocument)), for a server that advertises
    /// `client_id_metadata_document_supported`. Such a client is public: method `none`, no secret.
    ///
    /// ```
    /// use workos_connect::registration::ClientCredentials;
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
        if auth_method == TokenEndpointAuth::PrivateKeyJwt {
            return Err(CredentialsError::MissingSigningKey);
        }
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
            #[cfg(feature = "private-key-jwt")]
            signing_key: None,
            clock: ClockHandle::default(),
        })
    }

    /// A client that authenticates with `private_key_jwt` (RFC 7523 section 2.2): each token
    /// request carries a `client_assertion` signed with `signing_key`, whose public key the client
    /// registered with `issuer`. The assertion's audience is `issuer`.
    ///
    /// ```
    /// # fn pem() -> Vec<u8> { include_bytes!("../../tests/data/client-es256.pem").to_vec() }
    /// use workos_connect::registration::{ClientCredentials, TokenEndpointAuth};
    /// use workos_connect::registration::{ClientSigningKey, SigningAlgorithm};
    ///
    /// let key = ClientSigningKey::from_pem(SigningAlgorithm::Es256, &pem())?.with_kid("key-1")?;
    /// let credentials = ClientCredentials::private_key_jwt(
    ///     "https://auth.example.com".parse()?,
    ///     "my-service".parse()?,
    ///     key,
    /// );
    /// assert_eq!(credentials.auth_method(), TokenEndpointAuth::PrivateKeyJwt);
    /// assert!(!format!("{credentials:?}").contains("PRIVATE KEY"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "private-key-jwt")]
    pub fn private_key_jwt(
        issuer: Issuer,
        client_id: ClientId,
        signing_key: ClientSigningKey,
    ) -> Self {
        ClientCredentials {
            issuer,
            client_id,
            client_secret: None,
            auth_method: TokenEndpointAuth::PrivateKeyJwt,
            client_secret_expires_at: None,
            signing_key: Some(signing_key),
            clock: ClockHandle::default(),
        }
    }

    /// These credentials dating their `private_key_jwt` assertions (`iat`, `exp`) by `clock`
    /// rather than the system clock; a [`FixedClock`](crate::oauth::FixedClock) in tests. An
    /// [`AuthorizationClient`](crate::mcp::AuthorizationClient) made with them reads the same
    /// clock. The clock is not stored: credentials read back use the system clock.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = ClockHandle::new(clock);
        self
    }

    /// The clock of these credentials.
    pub(crate) fn clock_handle(&self) -> &ClockHandle {
        &self.clock
    }

    /// These credentials reading `clock`, the one of the client or login holding them.
    pub(crate) fn with_clock(mut self, clock: &ClockHandle) -> Self {
        self.clock = clock.clone();
        self
    }

    /// The private signing key, for `private_key_jwt`.
    #[cfg(feature = "private-key-jwt")]
    pub fn signing_key(&self) -> Option<&ClientSigningKey> {
        self.signing_key.as_ref()
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
    /// `client_secret` in the form for `client_secret_post`, `client_id` and a fresh signed
    /// `client_assertion` for `private_key_jwt`, `client_id` alone for `none`. `url` is the
    /// issuer's: named by its metadata, or checked with [`check_own_endpoint`](Self::check_own_endpoint).
    pub(crate) fn try_authenticated(
        &self,
        url: Url,
        mut form: Vec<(&'static str, String)>,
    ) -> Result<TokenRequest, CredentialsError> {
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
            #[cfg(feature = "private-key-jwt")]
            (TokenEndpointAuth::PrivateKeyJwt, _) => {
                let key = self
                    .signing_key
                    .as_ref()
                    .ok_or(CredentialsError::MissingSigningKey)?;
                // RFC 7523 section 3: the audience is the authorization server, named by its
                // issuer identifier (RFC 8414), which is what the MCP conformance suite checks too.
                let assertion = key
                    .client_assertion(&self.client_id, self.issuer.as_str(), self.clock.now())
                    .map_err(|error| CredentialsError::Signing {
                        reason: error.to_string(),
                    })?;
                // RFC 7521 section 4.2 makes `client_id` optional beside an assertion; servers
                // that look the client up before reading the assertion need it.
                form.push(("client_id", client_id.to_owned()));
                form.push((
                    "client_assertion_type",
                    CLIENT_ASSERTION_TYPE_JWT_BEARER.to_owned(),
                ));
                form.push(("client_assertion", assertion));
            }
            #[cfg(not(feature = "private-key-jwt"))]
            (TokenEndpointAuth::PrivateKeyJwt, _) => {
                return Err(CredentialsError::MissingSigningKey)
            }
            // Every secret method comes with a secret (`checked`), so only `none` is left.
            _ => form.push(("client_id", client_id.to_owned())),
        }
        Ok(TokenRequest::new(url, form, authorization))
    }

    /// Refuses an endpoint a caller hands in with these credentials (not one the issuer's own
    /// metadata names) unless it is on the issuer's origin and under its path: the form carries
    /// the client's authentication and grants or tokens meant for that server alone.
    pub(crate) fn check_own_endpoint(&self, url: &Url) -> Result<(), EndpointError> {
        if is_issuers_endpoint(&self.issuer, url) {
            Ok(())
        } else {
            Err(EndpointError::NotIssuers {
                issuer: Box::new(self.issuer.clone()),
            })
        }
    }

    /// [`try_authenticated`](Self::try_authenticated) for the requests whose signatures cannot
    /// fail. Only a `private_key_jwt` signature can, and a key that signed when it was made fails
    /// only if the system's random source does: the request then goes with the `client_id` alone,
    /// and the server refuses it as `invalid_client`, which the caller reads as any refusal.
    pub(crate) fn authenticated(
        &self,
        url: Url,
        form: Vec<(&'static str, String)>,
    ) -> TokenRequest {
        let fallback = form.clone();
        self.try_authenticated(url.clone(), form)
            .unwrap_or_else(|_| {
                let mut form = fallback;
                form.push(("client_id", self.client_id.as_str().to_owned()));
                TokenRequest::new(url, form, None)
            })
    }

    /// Whether the secret has expired at `now`, so the client must register again.
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        let now = unix_seconds(now);
        self.client_secret_expires_at
            .is_some_and(|expires_at| expires_at <= now)
    }
}

impl ClientCredentials {
    fn has_signing_key(&self) -> bool {
        #[cfg(feature = "private-key-jwt")]
        return self.signing_key.is_some();
        #[cfg(not(feature = "private-key-jwt"))]
        false
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
            .field("private_key", &self.has_signing_key().then_some(".."))
            .finish()
    }
}

/// The stored form, checked again when read back.
#[derive(Serialize, Deserialize)]
#[serde(remote = "Self")]
struct Stored {
    issuer: Issuer,
    client_id: ClientId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    token_endpoint_auth_method: TokenEndpointAuth,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret_expires_at: Option<u64>,
    /// The `private_key_jwt` key: its algorithm, `kid` and PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    private_key: Option<StoredKey>,
}
crate::oauth::json_object::object_only!(Stored, serialize);

#[derive(Serialize, Deserialize)]
#[serde(remote = "Self")]
struct StoredKey {
    alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
    pem: String,
}
crate::oauth::json_object::object_only!(StoredKey, serialize);

impl Drop for StoredKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.pem);
    }
}

impl TryFrom<Stored> for ClientCredentials {
    type Error = CredentialsError;

    fn try_from(mut stored: Stored) -> Result<Self, CredentialsError> {
        if stored.token_endpoint_auth_method == TokenEndpointAuth::PrivateKeyJwt {
            return Self::stored_private_key_jwt(stored);
        }
        if stored.private_key.is_some() {
            return Err(CredentialsError::Malformed {
                reason: format!(
                    "a private key is stored with token endpoint authentication `{}`, which never \
                     uses it",
                    stored.token_endpoint_auth_method
                ),
            });
        }
        let secret = stored
            .client_secret
            .take()
            .map(ClientSecret::new)
            .transpose()
            .map_err(|error| CredentialsError::Malformed {
                reason: error.to_string(),
            })?;
        Self::checked(
            stored.issuer.clone(),
            stored.client_id.clone(),
            secret,
            stored.token_endpoint_auth_method,
            stored.client_secret_expires_at,
        )
    }
}

impl ClientCredentials {
    #[cfg(feature = "private-key-jwt")]
    fn stored_private_key_jwt(mut stored: Stored) -> Result<Self, CredentialsError> {
        let malformed = |reason: String| CredentialsError::Malformed { reason };
        if stored.client_secret.is_some() {
            return Err(malformed(
                "a client secret is stored with `private_key_jwt`, which never sends it".to_owned(),
            ));
        }
        let key = stored
            .private_key
            .take()
            .ok_or(CredentialsError::MissingSigningKey)?;
        let algorithm: SigningAlgorithm = key.alg.parse().map_err(
            |error: crate::registration::signing_key::SigningKeyError| malformed(error.to_string()),
        )?;
        let mut signing_key = ClientSigningKey::from_pem(algorithm, key.pem.as_bytes())
            .map_err(|error| malformed(error.to_string()))?;
        if let Some(kid) = &key.kid {
            signing_key = signing_key
                .with_kid(kid.clone())
                .map_err(|error| malformed(error.to_string()))?;
        }
        Ok(ClientCredentials::private_key_jwt(
            stored.issuer.clone(),
            stored.client_id.clone(),
            signing_key,
        ))
    }

    #[cfg(not(feature = "private-key-jwt"))]
    fn stored_private_key_jwt(_stored: Stored) -> Result<Self, CredentialsError> {
        Err(CredentialsError::MissingSigningKey)
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
            private_key: stored_key(&credentials),
        }
    }
}

#[cfg(feature = "private-key-jwt")]
fn stored_key(credentials: &ClientCredentials) -> Option<StoredKey> {
    let key = credentials.signing_key.as_ref()?;
    Some(StoredKey {
        alg: key.algorithm().as_str().to_owned(),
        kid: key.kid().map(str::to_owned),
        // A PEM that parsed is ASCII.
        pem: String::from_utf8_lossy(key.pem()).into_owned(),
    })
}

#[cfg(not(feature = "private-key-jwt"))]
fn stored_key(_credentials: &ClientCredentials) -> Option<StoredKey> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::clock::at_unix;

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
        assert!(back.is_expired_at(at_unix(100)) && !back.is_expired_at(at_unix(99)));
        let tampered = json.replace("client_secret_basic", "none");
        assert!(serde_json::from_str::<ClientCredentials>(&tampered).is_err());
    }

    #[cfg(feature = "private-key-jwt")]
    fn key_credentials() -> ClientCredentials {
        let pem = include_bytes!("../../tests/data/client-es256.pem");
        let key = ClientSigningKey::from_pem(SigningAlgorithm::Es256, pem)
            .unwrap()
            .with_kid("k1")
            .unwrap();
        ClientCredentials::private_key_jwt(issuer(), "svc 1".parse().unwrap(), key)
    }

    #[cfg(feature = "private-key-jwt")]
    #[test]
    fn private_key_jwt_sends_a_fresh_assertion_for_the_issuer() {
        let credentials = key_credentials().clock(crate::oauth::FixedClock(at_unix(1_700_000_000)));
        let request = credentials
            .try_authenticated(
                "https://example.authkit.app/token".parse().unwrap(),
                vec![("grant_type", "client_credentials".to_owned())],
            )
            .unwrap();
        let form: Vec<(&str, &str)> = request.form().collect();
        let names: Vec<&str> = form.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            [
                "grant_type",
                "client_id",
                "client_assertion_type",
                "client_assertion"
            ]
        );
        assert_eq!(form[1].1, "svc 1");
        assert_eq!(
            form[2].1,
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        );
        assert!(request.body().starts_with(
            "grant_type=client_credentials&client_id=svc+1\
             &client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer\
             &client_assertion=eyJ"
        ));
        assert!(request.authorization().is_none());
        let public = jsonwebtoken::DecodingKey::from_ec_pem(include_bytes!(
            "../../tests/data/client-es256.pub.pem"
        ))
        .unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
        validation.set_audience(&["https://example.authkit.app"]);
        // Dated by the credentials' clock, long past.
        validation.validate_exp = false;
        let claims =
            jsonwebtoken::decode::<serde_json::Value>(form[3].1, &public, &validation).unwrap();
        assert_eq!(claims.claims["iss"], "svc 1");
        assert_eq!(claims.claims["iat"], 1_700_000_000);
        let shown = format!("{request:?} {credentials:?}");
        assert!(
            !shown.contains(form[3].1) && !shown.contains("PRIVATE"),
            "{shown}"
        );
    }

    #[cfg(feature = "private-key-jwt")]
    #[test]
    fn a_private_key_is_stored_and_read_back_with_the_same_checks() {
        let json = serde_json::to_string(&key_credentials()).unwrap();
        let back: ClientCredentials = serde_json::from_str(&json).unwrap();
        assert_eq!(back.auth_method(), TokenEndpointAuth::PrivateKeyJwt);
        let key = back.signing_key().unwrap();
        assert_eq!(key.kid(), Some("k1"));
        assert_eq!(key.algorithm(), SigningAlgorithm::Es256);
        // The key under another method, a method without its key, a key that does not parse.
        let basic = json.replace("private_key_jwt", "client_secret_basic");
        assert!(serde_json::from_str::<ClientCredentials>(&basic).is_err());
        let mut keyless: serde_json::Value = serde_json::from_str(&json).unwrap();
        keyless.as_object_mut().unwrap().remove("private_key");
        assert!(serde_json::from_value::<ClientCredentials>(keyless).is_err());
        let broken = json.replace("MIG", "XXX");
        assert!(serde_json::from_str::<ClientCredentials>(&broken).is_err());
        assert_eq!(
            ClientCredentials::pre_registered(
                issuer(),
                "c".parse().unwrap(),
                None,
                TokenEndpointAuth::PrivateKeyJwt
            )
            .unwrap_err(),
            CredentialsError::MissingSigningKey
        );
    }
}

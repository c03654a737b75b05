//! Authorization server metadata (RFC 8414, and OpenID Connect Discovery as MCP allows): where an
//! authorization server's endpoints are and what it supports.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

use crate::domain::is_https_or_loopback;
use crate::error::json_fault;
use crate::mcp::identifier::{IdentifierError, Issuer};

/// An authorization server's metadata document.
///
/// [`AuthKitDomain`](crate::AuthKitDomain) remains the shortcut for WorkOS, whose paths are known;
/// this type serves any authorization server an MCP server names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthorizationServerMetadata {
    /// The issuer identifier.
    pub issuer: Issuer,
    /// Where users are sent to log in.
    pub authorization_endpoint: Url,
    /// Where codes and refresh tokens are redeemed.
    pub token_endpoint: Url,
    /// Dynamic Client Registration (RFC 7591), if offered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<Url>,
    /// The signing keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<Url>,
    /// The scopes it knows, if published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    /// The PKCE methods; `S256` among them once parsed.
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
    /// The grants, if published (RFC 8414 defaults to `authorization_code` and `implicit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types_supported: Option<Vec<String>>,
    /// How clients authenticate at the token endpoint, if published (`client_secret_basic` when not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// Whether a Client ID Metadata Document URL can be the `client_id`.
    #[serde(default)]
    pub client_id_metadata_document_supported: bool,
    /// Whether the authorization response carries `iss` (RFC 9207).
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// Other members, by name.
    #[serde(flatten)]
    other: Map<String, Value>,
}

/// Why an authorization server metadata document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServerMetadataError {
    /// Not the JSON object RFC 8414 describes. The reason gives the position, not the text.
    #[error("the authorization server metadata is malformed: {reason}")]
    Malformed {
        /// What is wrong, and where.
        reason: String,
    },
    /// Its `issuer` is not the issuer it was fetched for (RFC 8414 section 3.3): a document from
    /// another server, or a mix-up.
    #[error("the authorization server metadata is for {received}, not for {expected}")]
    WrongIssuer {
        /// The issuer the document was fetched for.
        expected: String,
        /// The `issuer` in the document.
        received: String,
    },
    /// It does not list `S256` in `code_challenge_methods_supported`, which MCP authorization
    /// requires before any login.
    #[error(
        "the authorization server does not advertise PKCE S256 (code_challenge_methods_supported)"
    )]
    NoPkce,
    /// An endpoint is not `https` (nor `http` on loopback).
    #[error("the authorization server's {name} is not an https URL")]
    InsecureEndpoint {
        /// The member.
        name: &'static str,
    },
}

impl AuthorizationServerMetadata {
    /// The URLs to fetch the metadata of `issuer` from, in the order the MCP authorization
    /// specification gives: RFC 8414's well-known path, then OpenID Connect Discovery's, each with
    /// the issuer's path inserted after it, and for an issuer with a path, the OpenID path appended
    /// to it too.
    ///
    /// ```
    /// use url::Url;
    /// use workos_connect::mcp::AuthorizationServerMetadata;
    ///
    /// let urls = AuthorizationServerMetadata::well_known_urls(&Url::parse("https://auth.example.com/tenant1")?);
    /// let urls: Vec<&str> = urls.iter().map(Url::as_str).collect();
    /// assert_eq!(urls, [
    ///     "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
    ///     "https://auth.example.com/.well-known/openid-configuration/tenant1",
    ///     "https://auth.example.com/tenant1/.well-known/openid-configuration",
    /// ]);
    /// # Ok::<(), url::ParseError>(())
    /// ```
    pub fn well_known_urls(issuer: &Url) -> Vec<Url> {
        let mut origin = issuer.clone();
        origin.set_query(None);
        origin.set_fragment(None);
        let path = issuer.path().trim_end_matches('/');
        let at = |full_path: String| {
            let mut url = origin.clone();
            url.set_path(&full_path);
            url
        };
        let mut urls = vec![
            at(format!("/.well-known/oauth-authorization-server{path}")),
            at(format!("/.well-known/openid-configuration{path}")),
        ];
        if !path.is_empty() {
            urls.push(at(format!("{path}/.well-known/openid-configuration")));
        }
        urls
    }

    /// Reads a metadata document fetched for `expected_issuer`: its `issuer` must be that one
    /// (compared as parsed URLs), it must offer PKCE `S256`, and its endpoints must be `https` (or
    /// `http` on loopback).
    pub fn parse(
        body: &[u8],
        expected_issuer: &Issuer,
    ) -> Result<AuthorizationServerMetadata, ServerMetadataError> {
        let metadata = Self::read(body)?;
        if metadata.issuer != *expected_issuer {
            return Err(ServerMetadataError::WrongIssuer {
                expected: expected_issuer.to_string(),
                received: metadata.issuer.to_string(),
            });
        }
        metadata.checked()
    }

    fn read(body: &[u8]) -> Result<AuthorizationServerMetadata, ServerMetadataError> {
        serde_json::from_slice(body).map_err(|error| ServerMetadataError::Malformed {
            reason: json_fault(&error),
        })
    }

    /// The checks every document passes, whoever it claims to be.
    fn checked(self) -> Result<AuthorizationServerMetadata, ServerMetadataError> {
        let metadata = self;
        for (name, endpoint) in [
            (
                "authorization_endpoint",
                Some(&metadata.authorization_endpoint),
            ),
            ("token_endpoint", Some(&metadata.token_endpoint)),
            (
                "registration_endpoint",
                metadata.registration_endpoint.as_ref(),
            ),
            ("jwks_uri", metadata.jwks_uri.as_ref()),
        ] {
            if endpoint.is_some_and(|url| !is_https_or_loopback(url)) {
                return Err(ServerMetadataError::InsecureEndpoint { name });
            }
        }
        if !metadata
            .code_challenge_methods_supported
            .iter()
            .any(|method| method == "S256")
        {
            return Err(ServerMetadataError::NoPkce);
        }
        Ok(metadata)
    }

    /// The authorization server of an MCP server that publishes no protected resource metadata
    /// (the 2025-03-26 MCP specification): the MCP server's origin, where the metadata is looked
    /// for at `/.well-known/oauth-authorization-server` (see [`legacy_metadata_url`](Self::legacy_metadata_url)).
    pub fn legacy_base(server_url: &Url) -> Result<Issuer, IdentifierError> {
        Issuer::new(&server_url.origin().ascii_serialization())
    }

    /// Where a server of the 2025-03-26 specification publishes its metadata: RFC 8414's
    /// well-known path at the origin `base`.
    pub fn legacy_metadata_url(base: &Issuer) -> Url {
        let mut url = base.url().clone();
        url.set_path("/.well-known/oauth-authorization-server");
        url
    }

    /// Reads a metadata document found at [`legacy_metadata_url`](Self::legacy_metadata_url), with
    /// [`parse`](Self::parse)'s checks except one: its `issuer` must be on `base`'s origin rather
    /// than equal to it, since such servers put their issuer under a path without serving the
    /// metadata there. The origin is the MCP server's own, which the client chose to trust.
    pub fn parse_legacy(
        body: &[u8],
        base: &Issuer,
    ) -> Result<AuthorizationServerMetadata, ServerMetadataError> {
        let metadata = Self::read(body)?;
        if metadata.issuer.url().origin() != base.url().origin() {
            return Err(ServerMetadataError::WrongIssuer {
                expected: base.to_string(),
                received: metadata.issuer.to_string(),
            });
        }
        metadata.checked()
    }

    /// The endpoints a server of the 2025-03-26 specification has when it publishes no metadata at
    /// all: `/authorize`, `/token` and `/register` at `base`. That specification required PKCE, so
    /// `S256` is taken as offered.
    pub fn legacy_defaults(base: &Issuer) -> AuthorizationServerMetadata {
        let at = |path: &str| {
            let mut url = base.url().clone();
            url.set_path(path);
            url
        };
        AuthorizationServerMetadata {
            issuer: base.clone(),
            authorization_endpoint: at("/authorize"),
            token_endpoint: at("/token"),
            registration_endpoint: Some(at("/register")),
            jwks_uri: None,
            scopes_supported: None,
            code_challenge_methods_supported: vec!["S256".to_owned()],
            grant_types_supported: None,
            token_endpoint_auth_methods_supported: None,
            client_id_metadata_document_supported: false,
            authorization_response_iss_parameter_supported: false,
            other: Map::new(),
        }
    }

    /// A member this type does not name.
    pub fn member(&self, name: &str) -> Option<&Value> {
        self.other.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_of_the_2025_03_26_specification() {
        let server = Url::parse("http://localhost:3000/mcp").unwrap();
        let base = AuthorizationServerMetadata::legacy_base(&server).unwrap();
        assert_eq!(base.as_str(), "http://localhost:3000");
        assert_eq!(
            AuthorizationServerMetadata::legacy_metadata_url(&base).as_str(),
            "http://localhost:3000/.well-known/oauth-authorization-server"
        );
        let document = |issuer: &str| {
            format!(
                r#"{{"issuer":"{issuer}","authorization_endpoint":"{issuer}/authorize","token_endpoint":"{issuer}/token","code_challenge_methods_supported":["S256"]}}"#
            )
        };
        let under_a_path = document("http://localhost:3000/oauth");
        let metadata =
            AuthorizationServerMetadata::parse_legacy(under_a_path.as_bytes(), &base).unwrap();
        assert_eq!(metadata.issuer.as_str(), "http://localhost:3000/oauth");
        // The strict reading refuses the same document, and the lenient one another origin.
        assert!(AuthorizationServerMetadata::parse(under_a_path.as_bytes(), &base).is_err());
        let elsewhere = document("http://localhost:4000");
        assert!(matches!(
            AuthorizationServerMetadata::parse_legacy(elsewhere.as_bytes(), &base),
            Err(ServerMetadataError::WrongIssuer { .. })
        ));
        let defaults = AuthorizationServerMetadata::legacy_defaults(&base);
        assert_eq!(
            defaults.authorization_endpoint.as_str(),
            "http://localhost:3000/authorize"
        );
        assert_eq!(
            defaults.token_endpoint.as_str(),
            "http://localhost:3000/token"
        );
        assert_eq!(
            defaults.registration_endpoint.unwrap().as_str(),
            "http://localhost:3000/register"
        );
    }
}

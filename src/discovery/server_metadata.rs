//! Authorization server metadata (RFC 8414, and OpenID Connect Discovery as MCP allows): where an
//! authorization server's endpoints are and what it supports.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

use crate::oauth::endpoint::{
    check_endpoint, EndpointError, AUTHORIZATION_REQUEST_PARAMETERS, FORM_REQUEST_PARAMETERS,
};
use crate::oauth::identifier::{IdentifierError, Issuer};

/// An authorization server's metadata document.
///
/// [`AuthKitDomain`](crate::AuthKitDomain) remains the shortcut for WorkOS, whose paths are known;
/// this type serves any authorization server an MCP server names.
///
/// Read only through [`parse`](Self::parse) (or the legacy readers), which check it: it is not
/// `Deserialize`, so no document reaches a client around those checks. To keep one, keep the body
/// and parse it again. [`AuthorizationClient::new`](crate::mcp::AuthorizationClient::new) checks
/// the endpoints again, since the fields can be changed after parsing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AuthorizationServerMetadata {
    /// The issuer identifier.
    pub issuer: Issuer,
    /// Where users are sent to log in.
    pub authorization_endpoint: Url,
    /// Where codes and refresh tokens are redeemed.
    pub token_endpoint: Url,
    /// Dynamic Client Registration (RFC 7591), if offered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<Url>,
    /// The signing keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<Url>,
    /// The scopes it knows, if published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    /// The PKCE methods; `S256` among them once parsed.
    pub code_challenge_methods_supported: Vec<String>,
    /// The grants, if published (RFC 8414 defaults to `authorization_code` and `implicit`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_types_supported: Option<Vec<String>>,
    /// How clients authenticate at the token endpoint, if published (`client_secret_basic` when not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// Whether a Client ID Metadata Document URL can be the `client_id`.
    pub client_id_metadata_document_supported: bool,
    /// Whether the authorization response carries `iss` (RFC 9207).
    pub authorization_response_iss_parameter_supported: bool,
    /// The DPoP proof algorithms the server takes, if it supports DPoP (RFC 9449 §5.1); a client
    /// with an ES256 key binds its tokens where `ES256` is listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
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
    /// An endpoint the client would send requests to is not `https` (nor `http` on loopback), or
    /// has a fragment or a parameter of the client's requests in its query (RFC 6749 section
    /// 3.1).
    #[error("the authorization server's {name} cannot be used: {source}")]
    Endpoint {
        /// The member.
        name: &'static str,
        /// What is wrong with it.
        source: EndpointError,
    },
}

/// The document as read, before the checks. Private, so that no metadata can be deserialized around
/// them.
#[derive(Deserialize)]
#[serde(remote = "Self")]
struct Document {
    issuer: Issuer,
    authorization_endpoint: Url,
    token_endpoint: Url,
    #[serde(default)]
    registration_endpoint: Option<Url>,
    #[serde(default)]
    jwks_uri: Option<Url>,
    #[serde(default)]
    scopes_supported: Option<Vec<String>>,
    #[serde(default)]
    code_challenge_methods_supported: Vec<String>,
    #[serde(default)]
    grant_types_supported: Option<Vec<String>>,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    client_id_metadata_document_supported: bool,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
    #[serde(default)]
    dpop_signing_alg_values_supported: Option<Vec<String>>,
    #[serde(flatten)]
    other: Map<String, Value>,
}
crate::oauth::json_object::object_only!(Document);

impl From<Document> for AuthorizationServerMetadata {
    fn from(document: Document) -> Self {
        AuthorizationServerMetadata {
            issuer: document.issuer,
            authorization_endpoint: document.authorization_endpoint,
            token_endpoint: document.token_endpoint,
            registration_endpoint: document.registration_endpoint,
            jwks_uri: document.jwks_uri,
            scopes_supported: document.scopes_supported,
            code_challenge_methods_supported: document.code_challenge_methods_supported,
            grant_types_supported: document.grant_types_supported,
            token_endpoint_auth_methods_supported: document.token_endpoint_auth_methods_supported,
            client_id_metadata_document_supported: document.client_id_metadata_document_supported,
            authorization_response_iss_parameter_supported: document
                .authorization_response_iss_parameter_supported,
            dpop_signing_alg_values_supported: document.dpop_signing_alg_values_supported,
            other: document.other,
        }
    }
}

impl AuthorizationServerMetadata {
    /// The URLs to fetch the metadata of `issuer` from, in the order the MCP authorization
    /// specification gives: RFC 8414's well-known path, then OpenID Connect Discovery's, each with
    /// the issuer's path inserted after it, and for an issuer with a path, the OpenID path appended
    /// to it too.
    ///
    /// ```
    /// use url::Url;
    /// use workos_connect::discovery::AuthorizationServerMetadata;
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
        // Letter for letter (RFC 8414 section 3.3): not even the `/` of an empty path may differ.
        if metadata.issuer.as_str() != expected_issuer.as_str() {
            return Err(ServerMetadataError::WrongIssuer {
                expected: expected_issuer.to_string(),
                received: metadata.issuer.to_string(),
            });
        }
        metadata.checked()
    }

    fn read(body: &[u8]) -> Result<AuthorizationServerMetadata, ServerMetadataError> {
        crate::oauth::json_object::from_slice::<Document>(body)
            .map(AuthorizationServerMetadata::from)
            .map_err(|error| ServerMetadataError::Malformed {
                reason: error.to_string(),
            })
    }

    fn checked(self) -> Result<AuthorizationServerMetadata, ServerMetadataError> {
        self.check()?;
        Ok(self)
    }

    /// The checks every document passes, whoever it claims to be: endpoints a client may send
    /// requests to, and PKCE `S256`.
    pub(crate) fn check(&self) -> Result<(), ServerMetadataError> {
        let no_parameters: &[&'static str] = &[];
        for (name, endpoint, written) in [
            (
                "authorization_endpoint",
                Some(&self.authorization_endpoint),
                AUTHORIZATION_REQUEST_PARAMETERS,
            ),
            (
                "token_endpoint",
                Some(&self.token_endpoint),
                FORM_REQUEST_PARAMETERS,
            ),
            (
                "registration_endpoint",
                self.registration_endpoint.as_ref(),
                no_parameters,
            ),
            ("jwks_uri", self.jwks_uri.as_ref(), no_parameters),
        ] {
            let Some(endpoint) = endpoint else {
                continue;
            };
            check_endpoint(endpoint, written)
                .map_err(|source| ServerMetadataError::Endpoint { name, source })?;
        }
        if !self
            .code_challenge_methods_supported
            .iter()
            .any(|method| method == "S256")
        {
            return Err(ServerMetadataError::NoPkce);
        }
        Ok(())
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
            dpop_signing_alg_values_supported: None,
            other: Map::new(),
        }
    }

    /// Whether the server takes DPoP proofs signed with ES256, the one algorithm this crate signs
    /// with: `dpop_signing_alg_values_supported` lists `ES256` (RFC 9449 §5.1).
    pub fn supports_dpop_es256(&self) -> bool {
        self.dpop_signing_alg_values_supported
            .as_ref()
            .is_some_and(|algs| algs.iter().any(|alg| alg == "ES256"))
    }

    /// A member this type does not name.
    pub fn member(&self, name: &str) -> Option<&Value> {
        self.other.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(authorization_endpoint: &str, token_endpoint: &str) -> String {
        format!(
            r#"{{"issuer":"https://as.example","authorization_endpoint":"{authorization_endpoint}","token_endpoint":"{token_endpoint}","code_challenge_methods_supported":["S256"]}}"#
        )
    }

    fn parse(body: &str) -> Result<AuthorizationServerMetadata, ServerMetadataError> {
        AuthorizationServerMetadata::parse(body.as_bytes(), &"https://as.example".parse().unwrap())
    }

    #[test]
    fn endpoints_with_a_fragment_are_refused() {
        // Every parameter appended to `.../authorize#x` would land in the fragment (RFC 6749 3.1).
        assert_eq!(
            parse(&document(
                "https://as.example/authorize#x",
                "https://as.example/token"
            )),
            Err(ServerMetadataError::Endpoint {
                name: "authorization_endpoint",
                source: EndpointError::Fragment
            })
        );
        assert_eq!(
            parse(&document(
                "https://as.example/authorize",
                "https://as.example/token#"
            )),
            Err(ServerMetadataError::Endpoint {
                name: "token_endpoint",
                source: EndpointError::Fragment
            })
        );
    }

    #[test]
    fn endpoints_whose_query_holds_a_parameter_the_client_writes_are_refused() {
        for parameter in ["redirect_uri", "resource", "client_id", "state", "scope"] {
            assert_eq!(
                parse(&document(
                    &format!(
                        "https://as.example/authorize?tenant=1&{parameter}=https://evil.example"
                    ),
                    "https://as.example/token"
                )),
                Err(ServerMetadataError::Endpoint {
                    name: "authorization_endpoint",
                    source: EndpointError::Parameter { parameter }
                })
            );
        }
        assert_eq!(
            parse(&document(
                "https://as.example/authorize",
                "https://as.example/token?grant_type=password"
            )),
            Err(ServerMetadataError::Endpoint {
                name: "token_endpoint",
                source: EndpointError::Parameter {
                    parameter: "grant_type"
                }
            })
        );
        // A query of its own is kept (RFC 6749 section 3.1).
        let tenant = parse(&document(
            "https://as.example/authorize?tenant=1",
            "https://as.example/token?tenant=1",
        ))
        .unwrap();
        assert_eq!(tenant.authorization_endpoint.query(), Some("tenant=1"));
    }

    #[test]
    fn metadata_is_read_only_through_the_checked_parse() {
        // What it writes, the same parse reads back.
        let metadata = parse(&document(
            "https://as.example/authorize",
            "https://as.example/token",
        ))
        .unwrap();
        let written = serde_json::to_vec(&metadata).unwrap();
        assert_eq!(
            AuthorizationServerMetadata::parse(&written, &metadata.issuer).unwrap(),
            metadata
        );
        let insecure = document("https://as.example/authorize", "http://as.example/token")
            .replace("S256", "plain");
        assert_eq!(
            parse(&insecure),
            Err(ServerMetadataError::Endpoint {
                name: "token_endpoint",
                source: EndpointError::Insecure
            })
        );
    }

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

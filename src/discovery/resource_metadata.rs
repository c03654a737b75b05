//! Protected resource metadata (RFC 9728): what an MCP server publishes about itself, above all
//! which authorization servers issue its tokens.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

use crate::oauth::host_rules::is_internal;
use crate::oauth::identifier::{Issuer, Resource};

/// The path prefix of RFC 9728 section 3.
const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// A protected resource's metadata document (RFC 9728 section 2).
///
/// ```
/// use url::Url;
/// use workos_connect::discovery::ProtectedResourceMetadata;
///
/// let resource = Url::parse("https://mcp.example.com/mcp")?;
/// let body = br#"{"resource":"https://mcp.example.com/mcp","authorization_servers":["https://example.authkit.app"],"bearer_methods_supported":["header"]}"#;
/// let metadata = ProtectedResourceMetadata::parse(body, &resource)?;
/// assert_eq!(metadata.authorization_servers[0].as_str(), "https://example.authkit.app");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Read only through [`parse`](Self::parse), which checks it against the resource asked about: it
/// is not `Deserialize`, so no document reaches a client around that check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProtectedResourceMetadata {
    /// The resource identifier: the URL clients name in `resource` (RFC 8707).
    pub resource: Resource,
    /// The issuers of the authorization servers that issue tokens for it; at least one.
    pub authorization_servers: Vec<Issuer>,
    /// The scopes the resource uses, if published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    /// How it takes bearer tokens (`header`, ...), if published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer_methods_supported: Option<Vec<String>>,
    /// The DPoP proof algorithms the resource accepts (RFC 9728 §2), if published: it takes
    /// DPoP-bound tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
    /// Whether the resource takes DPoP-bound tokens only (RFC 9728 §2); absent means `false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpop_bound_access_tokens_required: Option<bool>,
    /// Other members, by name.
    #[serde(flatten)]
    other: Map<String, Value>,
}

/// The document as read, before the checks. Private, so that no metadata can be deserialized around
/// them.
#[derive(Deserialize)]
#[serde(remote = "Self")]
struct Document {
    resource: Resource,
    authorization_servers: Vec<Issuer>,
    #[serde(default)]
    scopes_supported: Option<Vec<String>>,
    #[serde(default)]
    bearer_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    dpop_signing_alg_values_supported: Option<Vec<String>>,
    #[serde(default)]
    dpop_bound_access_tokens_required: Option<bool>,
    #[serde(flatten)]
    other: Map<String, Value>,
}
crate::oauth::json_object::object_only!(Document);

/// The well-known URL of `resource` with its path inserted (RFC 9728 section 3.1), without query or
/// fragment: where a server publishes its metadata and where clients look first. For a resource
/// without a path, the root one.
fn path_aware(resource: &Url) -> Url {
    let mut url = resource.clone();
    let path = resource.path().trim_end_matches('/');
    url.set_path(&format!("{WELL_KNOWN}{path}"));
    url.set_query(None);
    url.set_fragment(None);
    url
}

/// Whether the server at `server_url` may send its clients to `url` for its metadata; see
/// [`ProtectedResourceMetadata::locations`].
fn check_challenge_location(server_url: &Url, url: &Url) -> Result<(), ResourceMetadataError> {
    let unsafe_location = |reason| Err(ResourceMetadataError::UnsafeLocation { reason });
    if !url.username().is_empty() || url.password().is_some() {
        return unsafe_location("it holds a user name or password");
    }
    let Some(host) = url.host() else {
        return unsafe_location("it has no host");
    };
    let server_is_internal = server_url.host().is_some_and(|host| is_internal(&host));
    if server_is_internal {
        // Local development: the server and its metadata both live on this machine or network.
        return if matches!(url.scheme(), "https" | "http") {
            Ok(())
        } else {
            unsafe_location("it is neither https nor http")
        };
    }
    if is_internal(&host) {
        return unsafe_location(
            "it names a host inside the client's network, and the MCP server is not there",
        );
    }
    if url.scheme() != "https" {
        return unsafe_location("it is not https");
    }
    Ok(())
}

/// One place to look for protected resource metadata, from
/// [`ProtectedResourceMetadata::locations`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResourceMetadataLocation {
    /// The URL to `GET`.
    pub url: Url,
    /// The `resource` a document found there must name; pass it to
    /// [`ProtectedResourceMetadata::parse`].
    pub resource: Url,
}

/// Why a protected resource metadata document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceMetadataError {
    /// Not the JSON object RFC 9728 describes. The reason gives the position, not the text.
    #[error("the protected resource metadata is malformed: {reason}")]
    Malformed {
        /// What is wrong, and where.
        reason: String,
    },
    /// Its `resource` is not the resource the client asked about (RFC 9728 section 3.3): the
    /// document may come from another server.
    #[error("the protected resource metadata is for {received}, not for {expected}")]
    WrongResource {
        /// The resource the client asked about.
        expected: String,
        /// The `resource` in the document.
        received: String,
    },
    /// It names no authorization server, so there is nowhere to get a token.
    #[error("the protected resource metadata names no authorization server")]
    NoAuthorizationServer,
    /// The challenge's `resource_metadata` URL is not one a client should fetch for this server;
    /// the reason says why. A client inside a network would otherwise fetch whatever internal
    /// address a remote server names (server-side request forgery).
    #[error("the challenge's resource_metadata URL is not fetched: {reason}")]
    UnsafeLocation {
        /// Why.
        reason: &'static str,
    },
    /// [`ProtectedResourceMetadata::with_member`] was given a member the type sets itself; a second
    /// one would make the JSON name it twice, and clients would disagree on which counts.
    #[error("`{name}` is a member ProtectedResourceMetadata sets itself; set it through its field or builder")]
    ReservedMember {
        /// The member's name.
        name: String,
    },
}

/// The members [`ProtectedResourceMetadata`] writes from its fields.
const TYPED_MEMBERS: [&str; 6] = [
    "resource",
    "authorization_servers",
    "scopes_supported",
    "bearer_methods_supported",
    "dpop_signing_alg_values_supported",
    "dpop_bound_access_tokens_required",
];

impl ProtectedResourceMetadata {
    /// The document a resource server publishes (RFC 9728 section 2): its `resource` identifier,
    /// the issuers whose tokens it takes, and `bearer_methods_supported` `["header"]`, the only way
    /// it reads a token. Serve it as JSON at [`well_known_url`](Self::well_known_url).
    ///
    /// ```
    /// use workos_connect::discovery::ProtectedResourceMetadata;
    ///
    /// let metadata = ProtectedResourceMetadata::new(
    ///     "https://api.example.com/mcp".parse()?,
    ///     vec!["https://example.authkit.app".parse()?],
    /// )
    /// .scopes_supported(["mcp:tools"]);
    /// let json = serde_json::to_value(&metadata)?;
    /// assert_eq!(json["resource"], "https://api.example.com/mcp");
    /// assert_eq!(json["authorization_servers"][0], "https://example.authkit.app");
    /// assert_eq!(json["bearer_methods_supported"][0], "header");
    /// assert_eq!(
    ///     ProtectedResourceMetadata::well_known_url(&metadata.resource).as_str(),
    ///     "https://api.example.com/.well-known/oauth-protected-resource/mcp"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(resource: Resource, authorization_servers: Vec<Issuer>) -> Self {
        ProtectedResourceMetadata {
            resource,
            authorization_servers,
            scopes_supported: None,
            bearer_methods_supported: Some(vec!["header".to_owned()]),
            dpop_signing_alg_values_supported: None,
            dpop_bound_access_tokens_required: None,
            other: Map::new(),
        }
    }

    /// The scopes the resource uses, which clients then request (the MCP specification's scope
    /// selection).
    pub fn scopes_supported<S: Into<String>>(
        mut self,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.scopes_supported = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// The DPoP proof algorithms the resource accepts (`dpop_signing_alg_values_supported`, RFC
    /// 9728 §2), for a resource that takes DPoP-bound tokens (RFC 9449): this crate's check takes
    /// `ES256` ([`DPOP_ALGORITHM`](crate::dpop::DPOP_ALGORITHM)).
    ///
    /// ```
    /// use workos_connect::discovery::ProtectedResourceMetadata;
    ///
    /// let metadata = ProtectedResourceMetadata::new(
    ///     "https://api.example.com/mcp".parse()?,
    ///     vec!["https://example.authkit.app".parse()?],
    /// )
    /// .dpop_signing_alg_values_supported(["ES256"])
    /// .dpop_bound_access_tokens_required(true);
    /// let json = serde_json::to_value(&metadata)?;
    /// assert_eq!(json["dpop_signing_alg_values_supported"], serde_json::json!(["ES256"]));
    /// assert_eq!(json["dpop_bound_access_tokens_required"], true);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dpop_signing_alg_values_supported<S: Into<String>>(
        mut self,
        algorithms: impl IntoIterator<Item = S>,
    ) -> Self {
        self.dpop_signing_alg_values_supported =
            Some(algorithms.into_iter().map(Into::into).collect());
        self
    }

    /// Whether the resource takes DPoP-bound tokens only (`dpop_bound_access_tokens_required`,
    /// RFC 9728 §2), so that a client asks for one from the start.
    pub fn dpop_bound_access_tokens_required(mut self, required: bool) -> Self {
        self.dpop_bound_access_tokens_required = Some(required);
        self
    }

    /// Another member, such as `resource_name` or `resource_documentation`; refused for the
    /// members the type sets from its fields (`resource`, `authorization_servers`,
    /// `scopes_supported`, `bearer_methods_supported`, `dpop_signing_alg_values_supported`,
    /// `dpop_bound_access_tokens_required`).
    ///
    /// ```
    /// use workos_connect::discovery::ProtectedResourceMetadata;
    ///
    /// let metadata = ProtectedResourceMetadata::new(
    ///     "https://api.example.com/mcp".parse()?,
    ///     vec!["https://example.authkit.app".parse()?],
    /// );
    /// let named = metadata.clone().with_member("resource_name", "Example API")?;
    /// assert_eq!(named.member("resource_name").unwrap(), "Example API");
    /// assert!(metadata.with_member("resource", "https://evil.example").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_member(
        mut self,
        name: impl Into<String>,
        value: impl Into<Value>,
    ) -> Result<Self, ResourceMetadataError> {
        let name = name.into();
        if TYPED_MEMBERS.contains(&name.as_str()) {
            return Err(ResourceMetadataError::ReservedMember { name });
        }
        self.other.insert(name, value.into());
        Ok(self)
    }

    /// Where a resource serves its metadata (RFC 9728 section 3.1): the well-known path with the
    /// resource's path appended, which is where clients look first. Serve the same document at the
    /// `resource_metadata` URL of its challenges.
    pub fn well_known_url(resource: &Resource) -> Url {
        path_aware(resource.url())
    }

    /// The URLs to fetch the metadata of `resource` from, in order (RFC 9728 section 3.1, MCP
    /// authorization): the well-known path with the resource's path appended, then the root one.
    /// A resource without a path has only the root one.
    ///
    /// ```
    /// use url::Url;
    /// use workos_connect::discovery::ProtectedResourceMetadata;
    ///
    /// let urls = ProtectedResourceMetadata::well_known_urls(&Url::parse("https://mcp.example.com/mcp")?);
    /// assert_eq!(urls[0].as_str(), "https://mcp.example.com/.well-known/oauth-protected-resource/mcp");
    /// assert_eq!(urls[1].as_str(), "https://mcp.example.com/.well-known/oauth-protected-resource");
    /// # Ok::<(), url::ParseError>(())
    /// ```
    pub fn well_known_urls(resource: &Url) -> Vec<Url> {
        let first = path_aware(resource);
        let mut root = first.clone();
        root.set_path(WELL_KNOWN);
        if first == root {
            vec![root]
        } else {
            vec![first, root]
        }
    }

    /// Where to look for the metadata of the MCP server at `server_url`, in the MCP specification's
    /// order, each with the `resource` a document found there must name (RFC 9728 section 3.3):
    /// the challenge's `resource_metadata` URL if there was one, then the path-aware well-known URL,
    /// both for the server URL itself; then the root well-known URL, for the server's origin. The
    /// server URL's fragment and user information are left out.
    ///
    /// The challenge's URL is the first one a client fetches, and the server chose it, so it is
    /// refused ([`ResourceMetadataError::UnsafeLocation`]) when it holds a user name or password,
    /// when it is plain `http` for a server that is not itself on such a host, or when it names a
    /// host inside the client's network (loopback, private, link-local, `localhost`, names
    /// without a dot or under `.internal`, ...) while the server does not. A server on such a host
    /// (local development) may name any of them. A public name that resolves to an internal
    /// address cannot be seen here: a client inside a network refuses those in its resolver.
    ///
    /// ```
    /// use url::Url;
    /// use workos_connect::discovery::ProtectedResourceMetadata;
    ///
    /// let server = Url::parse("https://mcp.example.com/mcp")?;
    /// let locations = ProtectedResourceMetadata::locations(&server, None)?;
    /// assert_eq!(locations[0].url.as_str(), "https://mcp.example.com/.well-known/oauth-protected-resource/mcp");
    /// assert_eq!(locations[0].resource, server);
    /// assert_eq!(locations[1].url.as_str(), "https://mcp.example.com/.well-known/oauth-protected-resource");
    /// assert_eq!(locations[1].resource.as_str(), "https://mcp.example.com/");
    ///
    /// // A remote server cannot send its clients to their own network.
    /// let inside = Url::parse("http://169.254.169.254/latest/meta-data/")?;
    /// assert!(ProtectedResourceMetadata::locations(&server, Some(&inside)).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn locations(
        server_url: &Url,
        challenge_url: Option<&Url>,
    ) -> Result<Vec<ResourceMetadataLocation>, ResourceMetadataError> {
        if let Some(url) = challenge_url {
            check_challenge_location(server_url, url)?;
        }
        let mut resource = server_url.clone();
        resource.set_fragment(None);
        // A user name and password in the server URL are no part of its resource identifier (a
        // document naming them could never match, and the refusal would print the password), nor
        // are they sent for public metadata. Both setters fail only for a URL without a host,
        // which has no user information to remove.
        let _ = resource.set_username("");
        let _ = resource.set_password(None);
        let mut origin = resource.clone();
        origin.set_path("/");
        origin.set_query(None);
        let mut locations = Vec::with_capacity(3);
        if let Some(url) = challenge_url {
            locations.push(ResourceMetadataLocation {
                url: url.clone(),
                resource: resource.clone(),
            });
        }
        for url in Self::well_known_urls(&resource) {
            let for_root = url.path() == WELL_KNOWN;
            locations.push(ResourceMetadataLocation {
                url,
                resource: if for_root {
                    origin.clone()
                } else {
                    resource.clone()
                },
            });
        }
        Ok(locations)
    }

    /// Reads a metadata document fetched for `expected_resource`, and refuses one whose `resource`
    /// is not the identical value (RFC 9728 section 3.3) or that names no authorization server.
    ///
    /// Identical means the same text, but for the `/` a URL parser adds to an empty path
    /// (`https://h` and `https://h/` are one resource): a `resource` that a parser would rewrite
    /// (`https://MCP.example.com/mcp`, `https://mcp.example.com/x/../mcp`, `:443`) is no
    /// [`Resource`] at all, and the document is refused as malformed, so the text a client sends
    /// as `resource` is always the one it asked about.
    pub fn parse(
        body: &[u8],
        expected_resource: &Url,
    ) -> Result<ProtectedResourceMetadata, ResourceMetadataError> {
        let document: Document = crate::oauth::json_object::from_slice(body).map_err(|error| {
            ResourceMetadataError::Malformed {
                reason: error.to_string(),
            }
        })?;
        let metadata = ProtectedResourceMetadata {
            resource: document.resource,
            authorization_servers: document.authorization_servers,
            scopes_supported: document.scopes_supported,
            bearer_methods_supported: document.bearer_methods_supported,
            dpop_signing_alg_values_supported: document.dpop_signing_alg_values_supported,
            dpop_bound_access_tokens_required: document.dpop_bound_access_tokens_required,
            other: document.other,
        };
        if metadata.resource.url() != expected_resource {
            return Err(ResourceMetadataError::WrongResource {
                expected: expected_resource.to_string(),
                received: metadata.resource.to_string(),
            });
        }
        if metadata.authorization_servers.is_empty() {
            return Err(ResourceMetadataError::NoAuthorizationServer);
        }
        Ok(metadata)
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
    fn the_served_document_sits_where_clients_look_first() {
        let at = |resource: &str| {
            ProtectedResourceMetadata::well_known_url(&resource.parse().unwrap()).to_string()
        };
        assert_eq!(
            at("https://api.example.com"),
            "https://api.example.com/.well-known/oauth-protected-resource"
        );
        assert_eq!(
            at("https://api.example.com/v1/mcp/?x=1"),
            "https://api.example.com/.well-known/oauth-protected-resource/v1/mcp"
        );
        let resource: Resource = "http://127.0.0.1:8000/mcp".parse().unwrap();
        let metadata = ProtectedResourceMetadata::new(
            resource.clone(),
            vec!["http://127.0.0.1:9000".parse().unwrap()],
        )
        .scopes_supported(["mcp:tools"])
        .with_member("resource_name", "Demo")
        .unwrap();
        let body = serde_json::to_vec(&metadata).unwrap();
        let url = ProtectedResourceMetadata::well_known_url(&resource);
        // What the server writes is what a client, finding it at the first location, accepts.
        let location = &ProtectedResourceMetadata::locations(resource.url(), None).unwrap()[0];
        assert_eq!(location.url, url);
        let read = ProtectedResourceMetadata::parse(&body, &location.resource).unwrap();
        assert_eq!(read, metadata);
        assert_eq!(read.member("resource_name").unwrap(), "Demo");

        // The DPoP members (RFC 9728 §2) are read back as written, and set only by their builders.
        let dpop = metadata
            .clone()
            .dpop_signing_alg_values_supported(["ES256"])
            .dpop_bound_access_tokens_required(true);
        let body = serde_json::to_vec(&dpop).unwrap();
        let read = ProtectedResourceMetadata::parse(&body, &location.resource).unwrap();
        assert_eq!(
            read.dpop_signing_alg_values_supported.as_deref(),
            Some(["ES256".to_owned()].as_slice())
        );
        assert_eq!(read.dpop_bound_access_tokens_required, Some(true));
        assert_eq!(read, dpop);
        assert!(metadata
            .with_member("dpop_bound_access_tokens_required", false)
            .is_err());
    }

    #[test]
    fn well_known_urls_insert_the_path_then_fall_back_to_the_root() {
        let urls = |resource: &str| -> Vec<String> {
            ProtectedResourceMetadata::well_known_urls(&Url::parse(resource).unwrap())
                .into_iter()
                .map(String::from)
                .collect()
        };
        assert_eq!(
            urls("https://h.example/a/b/?q=1#f"),
            [
                "https://h.example/.well-known/oauth-protected-resource/a/b",
                "https://h.example/.well-known/oauth-protected-resource"
            ]
        );
        assert_eq!(
            urls("https://h.example"),
            ["https://h.example/.well-known/oauth-protected-resource"]
        );
        assert_eq!(
            urls("http://127.0.0.1:3000/mcp"),
            [
                "http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp",
                "http://127.0.0.1:3000/.well-known/oauth-protected-resource"
            ]
        );
    }

    #[test]
    fn locations_leave_out_user_information() {
        let server = Url::parse("https://user:pa55word@mcp.example.com/mcp").unwrap();
        let body =
            br#"{"resource":"https://mcp.example.com/mcp","authorization_servers":["https://a.example"]}"#;
        for location in ProtectedResourceMetadata::locations(&server, None).unwrap() {
            assert!(
                !location.url.as_str().contains("pa55word"),
                "{}",
                location.url
            );
            assert!(!location.resource.as_str().contains("pa55word"));
        }
        let location = &ProtectedResourceMetadata::locations(&server, None).unwrap()[0];
        let parsed = ProtectedResourceMetadata::parse(body, &location.resource);
        assert!(parsed.is_ok(), "{parsed:?}");
    }

    #[test]
    fn a_remote_server_cannot_send_its_clients_into_their_network() {
        let remote = Url::parse("https://mcp.example.com/mcp").unwrap();
        for inside in [
            "http://127.0.0.1:8080/prm",
            "https://127.0.0.1/prm",
            "https://localhost/prm",
            "https://admin.localhost/prm",
            "http://169.254.169.254/latest/meta-data/",
            "https://10.0.0.5/prm",
            "https://172.16.0.1/prm",
            "https://192.168.1.1/prm",
            "https://100.64.0.1/prm",
            "https://0.0.0.0/prm",
            "https://[::1]/prm",
            "https://[fd00::1]/prm",
            "https://[fe80::1]/prm",
            "https://[::ffff:10.0.0.1]/prm",
            "https://metadata/computeMetadata/v1/",
            "https://metadata.google.internal/computeMetadata/v1/",
            "https://printer.local/prm",
        ] {
            let url = Url::parse(inside).unwrap();
            assert!(
                matches!(
                    ProtectedResourceMetadata::locations(&remote, Some(&url)),
                    Err(ResourceMetadataError::UnsafeLocation { .. })
                ),
                "{inside}"
            );
        }
        let with_password = Url::parse("https://u:p@mcp.example.com/prm").unwrap();
        assert!(ProtectedResourceMetadata::locations(&remote, Some(&with_password)).is_err());
        // Another public host may serve it (RFC 9728 section 5.1 does not tie it to the server),
        // and the document must still name this resource.
        let elsewhere = Url::parse("https://docs.example.net/prm").unwrap();
        let locations = ProtectedResourceMetadata::locations(&remote, Some(&elsewhere)).unwrap();
        assert_eq!(locations[0].url, elsewhere);
        assert_eq!(locations[0].resource, remote);
        // A server on this machine (local development) may name one too.
        let local = Url::parse("http://127.0.0.1:3000/mcp").unwrap();
        let beside = Url::parse("http://localhost:3001/prm").unwrap();
        assert!(ProtectedResourceMetadata::locations(&local, Some(&beside)).is_ok());
    }

    #[test]
    fn the_resource_must_be_the_identical_value() {
        let asked = Url::parse("https://mcp.example.com/mcp").unwrap();
        // Each would be taken as the same resource if compared as parsed URLs, and its own text
        // then sent as `resource` (RFC 9728 section 3.3 asks for the identical value).
        for named in [
            "https://MCP.example.com/mcp",
            "https://mcp.example.com/x/../mcp",
            "https://mcp.example.com:443/mcp",
        ] {
            let body = format!(
                r#"{{"resource":"{named}","authorization_servers":["https://a.example"]}}"#
            );
            assert!(
                matches!(
                    ProtectedResourceMetadata::parse(body.as_bytes(), &asked),
                    Err(ResourceMetadataError::Malformed { .. })
                ),
                "{named}"
            );
        }
        let body = br#"{"resource":"https://mcp.example.com/mcp","authorization_servers":["https://a.example"]}"#;
        let metadata = ProtectedResourceMetadata::parse(body, &asked).unwrap();
        assert_eq!(metadata.resource.as_str(), "https://mcp.example.com/mcp");
    }

    #[test]
    fn a_document_for_another_resource_or_without_servers_is_refused() {
        let asked = Url::parse("https://mcp.example.com/mcp").unwrap();
        let other = br#"{"resource":"https://evil.example/mcp","authorization_servers":["https://a.example"]}"#;
        assert!(matches!(
            ProtectedResourceMetadata::parse(other, &asked),
            Err(ResourceMetadataError::WrongResource { .. })
        ));
        let none = br#"{"resource":"https://mcp.example.com/mcp","authorization_servers":[]}"#;
        assert_eq!(
            ProtectedResourceMetadata::parse(none, &asked),
            Err(ResourceMetadataError::NoAuthorizationServer)
        );
        let secretish =
            br#"{"resource":"https://mcp.example.com/mcp","authorization_servers":"sk_live_1"}"#;
        let error = ProtectedResourceMetadata::parse(secretish, &asked).unwrap_err();
        assert!(!error.to_string().contains("sk_live_1"), "{error}");
        let root = Url::parse("https://mcp.example.com").unwrap();
        let slash = br#"{"resource":"https://mcp.example.com/","authorization_servers":["https://a.example"],"resource_name":"Demo"}"#;
        let metadata = ProtectedResourceMetadata::parse(slash, &root).unwrap();
        assert_eq!(metadata.member("resource_name"), Some(&Value::from("Demo")));
    }
}

//! MCP discovery: the challenges protected servers answer with, and their resource metadata, read
//! from live AuthKit documents (`../shared/fixtures/authkit/`) and hand-made hostile headers.

use proptest::prelude::*;
use url::Url;
use workos_connect::{
    discovery::ProtectedResourceMetadata,
    oauth::{
        parse_challenges, BearerChallenge, BearerError, ChallengeError, EndpointError, Issuer,
    },
};

#[test]
fn the_challenge_of_an_authkit_protected_mcp_server() {
    // As a production MCP server behind AuthKit answered a token-less `POST /mcp`.
    let header = r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource", error="invalid_token", error_description="Missing or invalid access token""#;
    let challenge = BearerChallenge::parse(header).unwrap();
    assert_eq!(challenge.error, Some(BearerError::InvalidToken));
    assert_eq!(
        challenge.error_description.as_deref(),
        Some("Missing or invalid access token")
    );
    let metadata_url = challenge.resource_metadata.unwrap();
    // Its metadata: `resource` has the `/mcp` path though the metadata URL has none.
    let body = br#"{"resource":"https://mcp.example.com/mcp","authorization_servers":["https://fearless-network-26.authkit.app"],"bearer_methods_supported":["header"]}"#;
    let resource = Url::parse("https://mcp.example.com/mcp").unwrap();
    assert!(ProtectedResourceMetadata::well_known_urls(&resource).contains(&metadata_url));
    let metadata = ProtectedResourceMetadata::parse(body, &resource).unwrap();
    assert_eq!(
        metadata.authorization_servers[0].as_str(),
        "https://fearless-network-26.authkit.app"
    );
    assert_eq!(metadata.bearer_methods_supported.unwrap(), ["header"]);
}

#[test]
fn challenges_with_odd_spacing_quotes_and_neighbours() {
    let header = "Basic realm=\"x, y\" , Newauth  ,Bearer   scope = \"mcp:tools  files:read\",error=insufficient_scope,\tresource_metadata=\"http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp\", Foo abc==";
    let all = parse_challenges(header).unwrap();
    let schemes: Vec<&str> = all.iter().map(|c| c.scheme.as_str()).collect();
    assert_eq!(schemes, ["Basic", "Newauth", "Bearer", "Foo"]);
    assert_eq!(all[0].params, [("realm".to_owned(), "x, y".to_owned())]);
    assert_eq!(all[3].token68.as_deref(), Some("abc=="));
    let bearer = BearerChallenge::parse(header).unwrap();
    assert_eq!(bearer.error, Some(BearerError::InsufficientScope));
    assert_eq!(
        bearer.scopes().collect::<Vec<_>>(),
        ["mcp:tools", "files:read"]
    );
    assert_eq!(
        bearer.resource_metadata.unwrap().path(),
        "/.well-known/oauth-protected-resource/mcp"
    );
    // Parameter names are case-insensitive, and quoted-pairs unescape.
    let escaped =
        BearerChallenge::parse(r#"bearer REALM="a \"b\" \\c", Error="invalid_request""#).unwrap();
    assert_eq!(escaped.realm.as_deref(), Some(r#"a "b" \c"#));
    assert_eq!(escaped.error, Some(BearerError::InvalidRequest));
    // A bare `Bearer` is a challenge with nothing more to say.
    assert_eq!(BearerChallenge::parse("Bearer").unwrap().error, None);
}

#[test]
fn malformed_headers_are_typed_errors() {
    for (header, expected) in [
        ("", ChallengeError::Empty),
        (" , ,", ChallengeError::Empty),
        (
            "Basic realm=x",
            ChallengeError::NoChallenge { scheme: "Bearer" },
        ),
        (
            r#"Bearer realm="open"#,
            ChallengeError::UnterminatedQuote { index: 13 },
        ),
        (
            "Bearer error=",
            ChallengeError::UnexpectedToken68 { scheme: "Bearer" },
        ),
        (
            "Bearer realm=x, error=",
            ChallengeError::MissingValue {
                name: "error".into(),
            },
        ),
        (
            r#"Bearer error="a", error="b""#,
            ChallengeError::DuplicateParameter {
                scheme: "Bearer",
                name: "error".into(),
            },
        ),
        (
            r#"Bearer resource_metadata="http://evil.example/x""#,
            ChallengeError::InvalidResourceMetadata {
                scheme: "Bearer",
                value: "http://evil.example/x".into(),
            },
        ),
        (
            r#"Bearer resource_metadata="/relative""#,
            ChallengeError::InvalidResourceMetadata {
                scheme: "Bearer",
                value: "/relative".into(),
            },
        ),
        ("=x", ChallengeError::UnexpectedCharacter { index: 0 }),
        (
            "Bearer error=\"a\nb\"",
            ChallengeError::UnexpectedCharacter { index: 15 },
        ),
    ] {
        assert_eq!(BearerChallenge::parse(header), Err(expected), "{header:?}");
    }
    // A message shows untrusted text escaped: no line breaks reach a log.
    let error = BearerChallenge::parse("Bearer error=\"a\", error=\"b\"\r\nX: y").unwrap_err();
    assert!(!error.to_string().contains('\n'), "{error}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    /// Any header gives challenges or a typed error, never a panic, and a message on one line.
    #[test]
    fn any_header_is_read_or_refused(header in any::<String>()) {
        match BearerChallenge::parse(&header) {
            Ok(challenge) => {
                if let Some(url) = challenge.resource_metadata {
                    prop_assert!(matches!(url.scheme(), "https" | "http"));
                }
            }
            Err(error) => prop_assert!(!error.to_string().contains(['\n', '\r'])),
        }
    }

    /// Parameters written by the grammar's rules read back as written.
    #[test]
    fn written_parameters_read_back(
        scope in "[a-z:_]{1,12}( [a-z:_]{1,12}){0,3}",
        description in "[ -~]{0,40}",
    ) {
        let quoted = description.replace('\\', "\\\\").replace('"', "\\\"");
        let header = format!(r#"Bearer error="insufficient_scope", scope="{scope}", error_description="{quoted}""#);
        let challenge = BearerChallenge::parse(&header).unwrap();
        prop_assert_eq!(challenge.scope.as_deref(), Some(scope.as_str()));
        prop_assert_eq!(challenge.error_description.as_deref(), Some(description.as_str()));
    }
}

const AUTHKIT_ISSUER: &str = "https://fearless-network-26.authkit.app";

#[test]
fn authkit_metadata_is_read_and_the_openid_document_lacks_pkce() {
    use workos_connect::discovery::{AuthorizationServerMetadata, ServerMetadataError};

    let issuer: Issuer = AUTHKIT_ISSUER.parse().unwrap();
    let urls = AuthorizationServerMetadata::well_known_urls(issuer.url());
    let urls: Vec<&str> = urls.iter().map(Url::as_str).collect();
    assert_eq!(
        urls,
        [
            "https://fearless-network-26.authkit.app/.well-known/oauth-authorization-server",
            "https://fearless-network-26.authkit.app/.well-known/openid-configuration",
        ]
    );
    let rfc8414 = include_bytes!("data/authkit/oauth-authorization-server.json");
    let metadata = AuthorizationServerMetadata::parse(rfc8414, &issuer).unwrap();
    assert_eq!(metadata.token_endpoint.path(), "/oauth2/token");
    assert_eq!(
        metadata.registration_endpoint.as_ref().map(Url::path),
        Some("/oauth2/register")
    );
    assert!(metadata.client_id_metadata_document_supported);
    assert!(metadata
        .member("device_authorization_endpoint")
        .is_some_and(|value| value.is_string()));
    // The OpenID Connect document of the same tenant does not advertise S256, so it is refused:
    // the RFC 8414 one, tried first, is the one to use.
    let openid = include_bytes!("data/authkit/openid-configuration.json");
    assert_eq!(
        AuthorizationServerMetadata::parse(openid, &issuer),
        Err(ServerMetadataError::NoPkce)
    );
    let elsewhere: Issuer = "https://other.authkit.app".parse().unwrap();
    assert!(matches!(
        AuthorizationServerMetadata::parse(rfc8414, &elsewhere),
        Err(ServerMetadataError::WrongIssuer { .. })
    ));
    let insecure = String::from_utf8_lossy(rfc8414).replace(
        "https://fearless-network-26.authkit.app/oauth2/token",
        "http://fearless-network-26.authkit.app/oauth2/token",
    );
    assert_eq!(
        AuthorizationServerMetadata::parse(insecure.as_bytes(), &issuer),
        Err(ServerMetadataError::Endpoint {
            name: "token_endpoint",
            source: EndpointError::Insecure
        })
    );
}

//! MCP client registration against a live AuthKit metadata document (`data/authkit/`): Dynamic
//! Client Registration from request to stored credentials, its refusals, and the Client ID Metadata
//! Document the same server accepts instead.

use serde_json::{json, Value};
use workos_connect::RedirectUri;
use workos_connect::{
    discovery::AuthorizationServerMetadata,
    oauth::Issuer,
    registration::{
        ClientCredentials, ClientMetadataDocument, RegistrationError, RegistrationErrorCode,
        RegistrationRequest, RegistrationResponse, TokenEndpointAuth,
    },
};

fn authkit() -> (Issuer, AuthorizationServerMetadata) {
    let issuer: Issuer = "https://fearless-network-26.authkit.app".parse().unwrap();
    let document = include_bytes!("data/authkit/oauth-authorization-server.json");
    let metadata = AuthorizationServerMetadata::parse(document, &issuer).unwrap();
    (issuer, metadata)
}

fn loopback() -> Vec<RedirectUri> {
    vec!["http://127.0.0.1:33418/callback".parse().unwrap()]
}

#[test]
fn dynamic_registration_from_the_metadata_to_stored_credentials() {
    let (issuer, metadata) = authkit();
    let request = RegistrationRequest::for_server(&metadata, "Example Agent", loopback())
        .unwrap()
        .scope("openid offline_access".parse().unwrap());
    assert_eq!(
        request.url().as_str(),
        "https://fearless-network-26.authkit.app/oauth2/register"
    );
    assert_eq!(RegistrationRequest::CONTENT_TYPE, "application/json");
    let body: Value = serde_json::from_str(&request.body()).unwrap();
    assert_eq!(
        body,
        json!({
            "client_name": "Example Agent",
            "redirect_uris": ["http://127.0.0.1:33418/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "application_type": "native",
            "scope": "openid offline_access",
        })
    );

    // The server answers with the metadata it registered, a secret it issues to every client, and
    // members of its own.
    let answer = json!({
        "client_id": "client_01K5EXAMPLE",
        "client_id_issued_at": 1_760_000_000,
        "client_secret": "sk_issued_anyway",
        "client_secret_expires_at": 0,
        "client_name": "Example Agent",
        "redirect_uris": ["http://127.0.0.1:33418/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "vendor_extension": {"nested": [1, 2]},
    });
    let credentials = RegistrationResponse::parse(
        201,
        answer.to_string().as_bytes(),
        &issuer,
        request.auth_method(),
    )
    .unwrap();
    assert_eq!(credentials.issuer(), &issuer);
    assert_eq!(credentials.client_id().as_str(), "client_01K5EXAMPLE");
    assert_eq!(credentials.auth_method(), TokenEndpointAuth::None);
    assert!(credentials.client_secret().is_none());
    assert_eq!(credentials.client_secret_expires_at(), None);

    let stored = serde_json::to_string(&credentials).unwrap();
    assert!(!stored.contains("sk_issued_anyway"));
    let restored: ClientCredentials = serde_json::from_str(&stored).unwrap();
    assert_eq!(restored.issuer(), &issuer);
    assert_eq!(restored.client_id(), credentials.client_id());
}

#[test]
fn a_confidential_registration_with_the_same_server() {
    let (issuer, metadata) = authkit();
    let request = RegistrationRequest::for_server(&metadata, "Example Service", loopback())
        .unwrap()
        .token_endpoint_auth_method(TokenEndpointAuth::ClientSecretPost);
    let answer = br#"{"client_id":"client_01K5EXAMPLE","client_secret":"sk_confidential","client_secret_expires_at":1900000000,"token_endpoint_auth_method":"client_secret_post"}"#;
    let credentials =
        RegistrationResponse::parse(201, answer, &issuer, request.auth_method()).unwrap();
    assert_eq!(
        credentials.auth_method(),
        TokenEndpointAuth::ClientSecretPost
    );
    assert_eq!(
        credentials.client_secret().unwrap().secret(),
        "sk_confidential"
    );
    let at = |secs| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    assert!(
        credentials.is_expired_at(at(1_900_000_000))
            && !credentials.is_expired_at(at(1_899_999_999))
    );
    assert!(!format!("{credentials:?}").contains("sk_confidential"));
}

#[test]
fn registration_turned_off_in_the_dashboard() {
    let (issuer, metadata) = authkit();
    let request = RegistrationRequest::for_server(&metadata, "Example Agent", loopback()).unwrap();
    let error = RegistrationResponse::parse(
        400,
        br#"{"error":"dynamic_client_registration_disabled","error_description":"Dynamic client registration is not enabled"}"#,
        &issuer,
        request.auth_method(),
    )
    .unwrap_err();
    assert!(matches!(
        &error,
        RegistrationError::Refused {
            code: RegistrationErrorCode::DynamicClientRegistrationDisabled,
            description: Some(_),
        }
    ));
    let message = error.to_string();
    assert!(message.contains("WorkOS dashboard"), "{message}");
    // The same server takes a Client ID Metadata Document instead.
    assert!(metadata.client_id_metadata_document_supported);
    let document = ClientMetadataDocument::new(
        &"https://agent.example.com/oauth/client.json"
            .parse()
            .unwrap(),
        "Example Agent",
        loopback(),
    )
    .unwrap();
    let credentials = document.credentials(issuer.clone()).unwrap();
    assert_eq!(credentials.client_id().as_str(), document.client_id());
    assert_eq!(credentials.issuer(), &issuer);
    let served: Value = serde_json::from_str(&document.to_json()).unwrap();
    assert_eq!(
        served["client_id"],
        "https://agent.example.com/oauth/client.json"
    );
    assert_eq!(served["token_endpoint_auth_method"], "none");
}

#[test]
fn a_server_without_registration() {
    let (issuer, _) = authkit();
    let document = br#"{"issuer":"https://fearless-network-26.authkit.app","authorization_endpoint":"https://fearless-network-26.authkit.app/oauth2/authorize","token_endpoint":"https://fearless-network-26.authkit.app/oauth2/token","code_challenge_methods_supported":["S256"]}"#;
    let metadata = AuthorizationServerMetadata::parse(document, &issuer).unwrap();
    assert_eq!(
        RegistrationRequest::for_server(&metadata, "Example Agent", loopback()).unwrap_err(),
        RegistrationError::NotSupported
    );
}

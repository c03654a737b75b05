//! The types whose constructor or `parse` checks something are made only through those checks:
//! none is `Deserialize` around them, and those that are `Deserialize` run the same checks.

use std::marker::PhantomData;

use workos_connect::{
    authkit::Userinfo,
    oauth::{AccessToken, IdToken, RefreshToken},
    TokenResponse,
};
use workos_connect::{
    discovery::{AuthorizationServerMetadata, ProtectedResourceMetadata},
    oauth::{Issuer, Resource},
    registration::{ClientCredentials, ClientMetadataDocument},
};

/// Tells at compile time whether `T` is `Deserialize`: the inherent method exists only where the
/// bound holds, and method lookup prefers it to the trait's fallback.
struct Probe<T>(PhantomData<T>);

trait Fallback {
    fn is_deserialize(&self) -> bool {
        false
    }
}

impl<T> Fallback for Probe<T> {}

impl<T: serde::de::DeserializeOwned> Probe<T> {
    fn is_deserialize(&self) -> bool {
        true
    }
}

macro_rules! is_deserialize {
    ($type:ty) => {
        Probe::<$type>(PhantomData).is_deserialize()
    };
}

#[test]
fn documents_checked_against_what_was_asked_are_read_only_by_parse() {
    // Their `parse` checks them against the issuer or resource they were fetched for, which serde
    // cannot know: through serde, an `http` token endpoint, `plain` PKCE or another issuer's
    // document would be taken.
    assert!(!is_deserialize!(AuthorizationServerMetadata));
    assert!(!is_deserialize!(ProtectedResourceMetadata));
    assert!(!is_deserialize!(TokenResponse));
    assert!(!is_deserialize!(Userinfo));
    // The probe does tell: these are `Deserialize`.
    assert!(is_deserialize!(Issuer));
    assert!(is_deserialize!(String));
}

#[test]
fn deserializable_types_run_their_constructors_checks() {
    assert!(serde_json::from_str::<Issuer>(r#""https:a.example""#).is_err());
    assert!(serde_json::from_str::<Resource>(r#""https://MCP.example.com/mcp""#).is_err());
    assert!(serde_json::from_str::<AccessToken>(r#""at\r\nX-Injected: 1""#).is_err());
    assert!(serde_json::from_str::<RefreshToken>(r#""""#).is_err());
    assert!(serde_json::from_str::<IdToken>(r#""a.b.\u202e""#).is_err());
    assert!(serde_json::from_str::<workos_connect::oauth::LoginHint>(r#""ada\n""#).is_err());
    assert!(serde_json::from_str::<workos_connect::oauth::Prompts>(r#""none consent""#).is_err());
    // Stored credentials are checked again when read back: a method that needs a secret has one.
    assert!(serde_json::from_str::<ClientCredentials>(
        r#"{"issuer":"https://as.example","client_id":"c","token_endpoint_auth_method":"client_secret_post"}"#
    )
    .is_err());
    assert!(serde_json::from_str::<ClientMetadataDocument>(
        r#"{"client_id":"https://agent.example/","client_name":"A","redirect_uris":["http://127.0.0.1:1/cb"]}"#
    )
    .is_err());
}

//! The MCP client's and resource server's parsers, all fed what a hostile peer could send: challenges, protected
//! resource metadata, authorization server metadata, registration responses, scope lists,
//! `Authorization` headers, written challenges, introspection answers and challenges' metadata URLs. Never
//! a panic, never a control character in a message, and never the registration's secret quoted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workos_connect::{discovery::{AuthorizationServerMetadata, ProtectedResourceMetadata}, oauth::{BearerChallenge, Issuer}, registration::{RegistrationError, RegistrationResponse, TokenEndpointAuth}};
use workos_connect::resource_server::{
    bearer_token, AccessTokenCheck, AccessTokenError, Introspection,
};
use workos_connect::oauth::ScopeList;

const SECRET: &str = "fuzz-secret-never-shown";

fn one_line(shown: String) {
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(body);
    match selector % 8 {
        0 => {
            if let Err(error) = BearerChallenge::parse(&text) {
                one_line(error.to_string());
            }
        }
        1 => {
            let resource = url::Url::parse("https://mcp.example.com/mcp").unwrap();
            match ProtectedResourceMetadata::parse(body, &resource) {
                // The identical value (RFC 9728 section 3.3), not one a parser reads alike.
                Ok(metadata) => assert_eq!(metadata.resource.as_str(), resource.as_str()),
                Err(error) => one_line(error.to_string()),
            }
        }
        2 => {
            let issuer: Issuer = "https://a.example".parse().unwrap();
            match AuthorizationServerMetadata::parse(body, &issuer) {
                Ok(metadata) => {
                    assert_eq!(metadata.issuer, issuer);
                    // RFC 6749 section 3.1: no fragment, and no parameter the login writes twice.
                    assert!(metadata.authorization_endpoint.fragment().is_none());
                    assert!(metadata.token_endpoint.fragment().is_none());
                    assert!(!metadata
                        .authorization_endpoint
                        .query_pairs()
                        .any(|(name, _)| name == "redirect_uri" || name == "resource"));
                }
                Err(error) => one_line(error.to_string()),
            }
            let _ = AuthorizationServerMetadata::parse_legacy(body, &issuer);
        }
        3 => {
            // A body that carries the secret wherever the fuzzer put the marker.
            let body = text.replace('§', SECRET);
            let issuer: Issuer = "https://a.example".parse().unwrap();
            let status = if selector & 0x80 == 0 { 201 } else { 400 };
            match RegistrationResponse::parse(
                status,
                body.as_bytes(),
                &issuer,
                TokenEndpointAuth::None,
            ) {
                Ok(credentials) => {
                    assert_eq!(credentials.issuer(), &issuer);
                    assert!(!format!("{credentials:?}").contains(SECRET));
                }
                // A refusal quotes the server's own `error_description`; nothing else quotes the body.
                Err(error @ RegistrationError::Refused { .. }) => one_line(error.to_string()),
                Err(error) => {
                    let shown = format!("{error} {error:?}");
                    assert!(!shown.contains(SECRET), "{shown}");
                    one_line(error.to_string());
                }
            }
        }
        4 => {
            // A hostile challenge's resource_metadata, for a remote server: fetched only over
            // https, without credentials in it, and first.
            let server = url::Url::parse("https://mcp.example.com/mcp").unwrap();
            if let Ok(url) = url::Url::parse(&text) {
                match ProtectedResourceMetadata::locations(&server, Some(&url)) {
                    Ok(locations) => {
                        assert_eq!(locations[0].url, url);
                        assert_eq!(url.scheme(), "https");
                        assert!(url.username().is_empty() && url.password().is_none());
                    }
                    Err(error) => one_line(error.to_string()),
                }
            }
        }
        5 => match bearer_token([body]) {
            // Whatever the header held, a token read from it is one b64token.
            Ok(token) => assert!(!token.secret().is_empty() && !token.secret().contains(' ')),
            Err(error) => one_line(format!("{error} {error:?}")),
        },
        6 => {
            // A challenge written from hostile values reads back as one Bearer challenge.
            let mut challenge = BearerChallenge::default();
            challenge.realm = Some(text.to_string());
            challenge.scope = Some(text.to_string());
            challenge.error_description = Some(text.to_string());
            let written = challenge.to_string();
            one_line(written.clone());
            let read = BearerChallenge::parse(&written).unwrap();
            // A printable realm survives exactly, its quotes and backslashes escaped.
            if text.chars().all(|c| (' '..='~').contains(&c)) {
                assert_eq!(read.realm.as_deref(), Some(&*text));
            }
        }
        7 => match Introspection::parse(200, body) {
            Ok(Introspection::Active(token)) => {
                let _ = format!("{token:?}");
                let check = AccessTokenCheck::new(
                    "https://a.example".parse().unwrap(),
                    "https://mcp.example.com/mcp".parse().unwrap(),
                );
                let checked = check.check_introspected(&token);
                // Only a bearer access token passes, whatever else the answer says.
                let bearer = |kind: &str| {
                    kind.eq_ignore_ascii_case("bearer") || kind.eq_ignore_ascii_case("access_token")
                };
                if token
                    .token_type
                    .as_deref()
                    .is_some_and(|kind| !bearer(kind))
                {
                    assert!(
                        matches!(checked, Err(AccessTokenError::NotBearer { .. })),
                        "{checked:?}"
                    );
                }
                if let Err(error) = checked {
                    one_line(error.to_string());
                }
            }
            Ok(Introspection::Inactive) => {}
            Err(error) => one_line(error.to_string()),
        },
        _ => match text.parse::<ScopeList>() {
            Ok(list) => {
                let printed = list.to_string();
                assert_eq!(printed.parse::<ScopeList>().unwrap(), list);
            }
            Err(error) => one_line(error.to_string()),
        },
    }
});

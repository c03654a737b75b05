//! Endpoint URLs the crate is handed (from metadata documents or callers) and then sends requests to:
//! where they may point, and what their own query may hold.

use url::Url;

use crate::oauth::host_rules::is_https_or_loopback;
use crate::oauth::identifier::Issuer;

/// The parameters an authorization request writes into the authorization endpoint's query.
pub(crate) const AUTHORIZATION_REQUEST_PARAMETERS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "resource",
    "prompt",
];

/// The parameters the token, device authorization and introspection requests write into their
/// bodies. A server that merges its endpoint's query with the body would read them twice.
pub(crate) const FORM_REQUEST_PARAMETERS: &[&str] = &[
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "resource",
    "refresh_token",
    "device_code",
    "client_id",
    "client_secret",
    "scope",
    "token",
    "token_type_hint",
    // private_key_jwt client authentication (RFC 7523 section 2.2).
    "client_assertion",
    "client_assertion_type",
    // The JWT bearer grant (RFC 7523 section 2.1).
    "assertion",
    // Token exchange (RFC 8693 section 2.1).
    "subject_token",
    "subject_token_type",
    "actor_token",
    "actor_token_type",
    "requested_token_type",
    "audience",
];

/// Why an endpoint URL cannot be sent requests to: the one refusal every endpoint shares, which
/// the error of each job (metadata, registration, introspection, token exchange, userinfo, the
/// device login) wraps with the endpoint's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// Neither `https` nor `http` on a loopback host: what the request carries would travel in the
    /// clear.
    #[error("it is not an https URL (plain http is accepted only on loopback hosts)")]
    Insecure,
    /// A fragment, which RFC 6749 sections 3.1 and 3.2 forbid: the parameters appended after it
    /// would land in the fragment, which no request carries.
    #[error("it has a fragment, which RFC 6749 section 3.1 forbids")]
    Fragment,
    /// The endpoint's own query already holds a parameter the request writes. RFC 6749 section 3.1
    /// keeps the endpoint's query and forbids a parameter twice, so the two cannot both hold.
    #[error("its query already has `{parameter}`, a parameter the request writes (RFC 6749 section 3.1)")]
    Parameter {
        /// The parameter.
        parameter: &'static str,
    },
    /// Not on the origin of the issuer the client credentials are bound to, or not under its
    /// path: another authorization server, or another tenant of the same host (RFC 8414 section 3,
    /// RFC 9700 section 4.4). Nothing is sent.
    #[error(
        "it is not on the origin of {issuer}, which the client credentials belong to, or not \
         under its path; credentials go to their own authorization server only"
    )]
    NotIssuers {
        /// The credentials' issuer (boxed, so that every error wrapping this one stays small).
        issuer: Box<Issuer>,
    },
}

/// Checks `url` as an endpoint whose requests write the parameters `written`.
pub(crate) fn check_endpoint(url: &Url, written: &[&'static str]) -> Result<(), EndpointError> {
    if !is_https_or_loopback(url) {
        return Err(EndpointError::Insecure);
    }
    if url.fragment().is_some() {
        return Err(EndpointError::Fragment);
    }
    for (name, _) in url.query_pairs() {
        if let Some(parameter) = written.iter().find(|written| **written == name) {
            return Err(EndpointError::Parameter { parameter });
        }
    }
    Ok(())
}

/// Whether `endpoint` belongs to `issuer`: on its origin and under its path. Client credentials
/// are bound to the issuer they were registered with, and whatever they authenticate (a secret, a
/// signed assertion, a subject token, a code with its verifier) goes to that server alone; on a
/// host with several tenants, an issuer with a path names one tenant (RFC 8414 section 3), so the
/// endpoint must lie under it. A bare origin, as AuthKit's issuer is, covers every path on it.
pub(crate) fn is_issuers_endpoint(issuer: &Issuer, endpoint: &Url) -> bool {
    let issuer = issuer.url();
    endpoint.origin() == issuer.origin() && is_under(endpoint.path(), issuer.path())
}

/// Whether the parsed URL path `path` is `base` or lies beneath it: equal, or `base` followed by
/// `/`, so that `/tenant1` does not cover `/tenant10`. A `base` of `/` covers every path.
fn is_under(path: &str, base: &str) -> bool {
    // An issuer's trailing `/` names the same tenant, and must not demand a second one.
    let base = base.strip_suffix('/').unwrap_or(base);
    path.strip_prefix(base).is_some_and(|rest| {
        (rest.is_empty() || rest.starts_with('/')) && !has_encoded_separator(rest)
    })
}

/// An encoded `/`, `\` or `.`: the URL parser keeps them as they are, but a proxy that decodes
/// before it routes reads `/t1/..%2Ft2/token` as tenant `t2`'s.
fn has_encoded_separator(path: &str) -> bool {
    path.as_bytes().windows(3).any(|window| {
        matches!(
            window,
            [b'%', b'2', b'f' | b'F' | b'e' | b'E'] | [b'%', b'5', b'c' | b'C']
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issuers_endpoints_are_on_its_origin_and_under_its_path() {
        let ours = |issuer: &str, endpoint: &str| {
            is_issuers_endpoint(&issuer.parse().unwrap(), &Url::parse(endpoint).unwrap())
        };
        assert!(ours(
            "https://as.example",
            "https://as.example/oauth2/token"
        ));
        assert!(ours("https://as.example/t1", "https://as.example/t1/token"));
        assert!(ours(
            "https://as.example/t1/",
            "https://as.example/t1/token"
        ));
        assert!(ours("https://as.example/t1", "https://as.example/t1"));
        assert!(!ours(
            "https://as.example/t1",
            "https://as.example/t10/token"
        ));
        assert!(!ours("https://as.example/t1", "https://as.example/token"));
        assert!(!ours("https://as.example", "https://evil.example/token"));
        assert!(!ours("https://as.example", "http://as.example/token"));
        assert!(!ours("https://as.example", "https://as.example:8443/token"));
        assert!(!ours("https://as.example", "https://sub.as.example/token"));
        // Separators a decoding proxy would read as another tenant's path.
        assert!(!ours(
            "https://as.example/t1",
            "https://as.example/t1/..%2Ft2/token"
        ));
        assert!(!ours(
            "https://as.example/t1",
            "https://as.example/t1/%2e%2e/t2/token"
        ));
        assert!(!ours(
            "https://as.example/t1",
            "https://as.example/t1/..%5ct2/token"
        ));
        assert!(ours("https://as.example/t1", "https://as.example/t1/a%20b"));
    }

    fn check(url: &str) -> Result<(), EndpointError> {
        check_endpoint(&Url::parse(url).unwrap(), AUTHORIZATION_REQUEST_PARAMETERS)
    }

    #[test]
    fn endpoints_keep_their_own_query_but_not_the_requests_parameters() {
        assert_eq!(check("https://as.example/authorize?tenant=1"), Ok(()));
        assert_eq!(check("http://127.0.0.1:9/authorize"), Ok(()));
        assert_eq!(
            check("https://as.example/authorize?tenant=1&redirect_uri=https://evil.example"),
            Err(EndpointError::Parameter {
                parameter: "redirect_uri"
            })
        );
        assert_eq!(
            check("https://as.example/authorize?resource=x"),
            Err(EndpointError::Parameter {
                parameter: "resource"
            })
        );
        assert_eq!(
            check("https://as.example/authorize#x"),
            Err(EndpointError::Fragment)
        );
        assert_eq!(
            check("https://as.example/authorize?#"),
            Err(EndpointError::Fragment)
        );
        assert_eq!(
            check("http://as.example/authorize"),
            Err(EndpointError::Insecure)
        );
        // Percent-encoded names are the same parameter to a server.
        assert_eq!(
            check("https://as.example/authorize?%73tate=1"),
            Err(EndpointError::Parameter { parameter: "state" })
        );
    }
}

//! The URL a DPoP proof must name at a resource: the resource's own origin and the request's
//! path, never the `Host` header, which the client chooses.

use url::Url;

use crate::dpop::DpopProofError;

/// The URL a DPoP proof's `htu` must name for a request to `target` (path and query as received)
/// at the resource `resource`: its origin and the target's path.
///
/// Refused when the URL would not keep the path as a router sees it: dot segments
/// (`/admin/%2e%2e/mcp` becomes `/mcp`), which would let a proof made for one route serve a
/// request routed to another, or characters a URL percent-encodes (a space, non-ASCII), which a
/// client building its request from a URL never sends unencoded.
pub(super) fn proof_target(resource: &Url, target: &str) -> Result<Url, DpopProofError> {
    // The query is no part of `htu` (RFC 9449 section 4.2).
    let path = target.split_once('?').map_or(target, |(path, _)| path);
    let mut url = resource.clone();
    url.set_query(None);
    url.set_path(path);
    if url.path() == path {
        Ok(url)
    } else {
        Err(DpopProofError::UrlMismatch {
            url: url.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource() -> Url {
        "https://api.example.com/mcp".parse().unwrap()
    }

    #[test]
    fn the_target_takes_the_resources_origin_without_its_query() {
        let url = proof_target(&resource(), "/admin/tasks?page=2").unwrap();
        assert_eq!(url.as_str(), "https://api.example.com/admin/tasks");
        assert_eq!(
            proof_target(&resource(), "/mcp").unwrap().as_str(),
            "https://api.example.com/mcp"
        );
    }

    #[test]
    fn paths_a_url_would_rewrite_are_refused() {
        for target in [
            "/admin/%2e%2e/mcp",
            "/admin/../mcp",
            "/admin/./%2E./mcp",
            "/a b",
            "/é",
            "*",
            "mcp",
            "https://evil.example/mcp",
        ] {
            assert!(
                matches!(
                    proof_target(&resource(), target),
                    Err(DpopProofError::UrlMismatch { .. })
                ),
                "{target}"
            );
        }
    }
}

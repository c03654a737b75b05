//! The `htu` of a proof: the request's target URI without query and fragment (RFC 9449 §4.2), in
//! the one form that both sides compare.

use url::Url;

/// `url` as a proof's `htu`: no query, no fragment, no user information. The `url` crate has
/// already lower-cased the scheme and host, dropped a default port and normalized the path's
/// percent-encoding case (RFC 3986 §6.2.2 and §6.2.3, which RFC 9449 §4.3 asks for).
///
/// `None` for a URL that names no host (`mailto:`, `data:`), which no HTTP request targets.
pub(super) fn htu(url: &Url) -> Option<String> {
    if !url.has_host() || url.cannot_be_a_base() {
        return None;
    }
    let mut target = url.clone();
    target.set_query(None);
    target.set_fragment(None);
    // Both only fail on a URL without a host, refused above.
    let _ = target.set_username("");
    let _ = target.set_password(None);
    Some(target.into())
}

/// Whether a proof's `htu` names the request's URL: both read as URLs and compared without query
/// and fragment, so that case in the scheme and host, a default port, or a query the proof should
/// not have carried, make no difference.
pub(super) fn same_target(claimed: &str, request: &Url) -> bool {
    let Ok(claimed) = Url::parse(claimed) else {
        return false;
    };
    match (htu(&claimed), htu(request)) {
        (Some(claimed), Some(request)) => claimed == request,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_drops_query_fragment_and_credentials() {
        let url = Url::parse("HTTPS://User:pw@Server.Example.COM:443/token?a=b#c").unwrap();
        assert_eq!(htu(&url).unwrap(), "https://server.example.com/token");
        assert_eq!(htu(&Url::parse("mailto:a@example.com").unwrap()), None);
    }

    #[test]
    fn targets_compare_after_normalization() {
        let request = Url::parse("https://mcp.example.com/mcp?session=1").unwrap();
        for same in [
            "https://mcp.example.com/mcp",
            "HTTPS://MCP.example.com:443/mcp",
            "https://mcp.example.com/mcp#frag",
        ] {
            assert!(same_target(same, &request), "{same}");
        }
        for other in [
            "https://mcp.example.com/mcp/",
            "https://mcp.example.com/MCP",
            "http://mcp.example.com/mcp",
            "https://mcp.example.com:8443/mcp",
            "https://evil.example.com/mcp",
            "/mcp",
            "",
        ] {
            assert!(!same_target(other, &request), "{other}");
        }
    }
}

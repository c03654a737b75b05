//! The `htu` of a proof: the request's target URI without query and fragment (RFC 9449 §4.2), in
//! the one form that both sides compare.

use url::Url;

/// `url` as a proof's `htu`: no query, no fragment, no user information. The `url` crate has
/// already lower-cased the scheme and host, dropped a default port and removed dot segments
/// (RFC 3986 §6.2.2 and §6.2.3, which RFC 9449 §4.3 asks for); [`same_target`] also evens out
/// percent-encoding.
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
/// and fragment, so that case in the scheme and host, a default port, dot segments, the case of a
/// percent-encoding, or a query the proof should not have carried, make no difference. An
/// unreserved character percent-encoded (`%6D` for `m`) does: a router reads `/%6Dcp` as another
/// path than `/mcp`, so a proof for one must not serve the other.
pub(super) fn same_target(claimed: &str, request: &Url) -> bool {
    let Ok(claimed) = Url::parse(claimed) else {
        return false;
    };
    match (htu(&claimed), htu(request)) {
        (Some(claimed), Some(request)) => {
            even_percent_encoding(&claimed) == even_percent_encoding(&request)
        }
        _ => false,
    }
}

/// `url` with each percent-encoded octet in upper case (RFC 3986 §6.2.2.1), and a `%` that starts
/// none encoded itself, so that it cannot join the characters after it into another octet.
fn even_percent_encoding(url: &str) -> String {
    let mut pieces = url.split('%');
    let mut even = String::with_capacity(url.len());
    even.push_str(pieces.next().unwrap_or_default());
    for piece in pieces {
        match piece.split_at_checked(2) {
            Some((hex, rest)) if hex.bytes().all(|digit| digit.is_ascii_hexdigit()) => {
                even.push('%');
                even.push_str(&hex.to_ascii_uppercase());
                even.push_str(rest);
            }
            _ => {
                even.push_str("%25");
                even.push_str(piece);
            }
        }
    }
    even
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
            "https://mcp.example.com/a/../mcp",
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
            "https://mcp.example.com/m%2Fcp",
            "https://mcp.example.com/%6Dcp",
        ] {
            assert!(!same_target(other, &request), "{other}");
        }
        let request = Url::parse("https://mcp.example.com/files/a%2fb~c").unwrap();
        for same in [
            "https://mcp.example.com/files/a%2Fb~c",
            "https://mcp.example.com/files/a%2fb~c",
        ] {
            assert!(same_target(same, &request), "{same}");
        }
        for other in [
            "https://mcp.example.com/files/a/b~c",
            "https://mcp.example.com/files/a%2Fb%7Ec",
        ] {
            assert!(!same_target(other, &request), "{other}");
        }
    }

    #[test]
    fn percent_encodings_are_evened_out_and_nothing_else() {
        assert_eq!(
            even_percent_encoding("https://h/%7e%2f%2F%41%zz%+1%4%"),
            "https://h/%7E%2F%2F%41%25zz%25+1%254%25"
        );
        // A bare `%` joins nothing into an octet: `%%4141` is not `%A41`.
        assert_ne!(
            even_percent_encoding("https://h/x%%4141"),
            even_percent_encoding("https://h/x%A41")
        );
        assert!(!same_target(
            "https://h/x%%4141",
            &Url::parse("https://h/x%A41").unwrap()
        ));
        assert!(!same_target(
            "https://h/a%+1",
            &Url::parse("https://h/a%01").unwrap()
        ));
    }
}

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
/// and fragment, so that case in the scheme and host, a default port, the case of a
/// percent-encoding, an unreserved character percent-encoded, or a query the proof should not
/// have carried, make no difference.
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

/// `url` with each percent-encoded octet in upper case, or decoded where it is an unreserved
/// character (RFC 3986 §6.2.2.1, §6.2.2.2). Dot segments are gone already, `%2E` ones included,
/// so a decoded dot makes none.
fn even_percent_encoding(url: &str) -> String {
    let mut pieces = url.split('%');
    let mut even = String::with_capacity(url.len());
    even.push_str(pieces.next().unwrap_or_default());
    for piece in pieces {
        let octet = piece
            .get(..2)
            .filter(|hex| hex.bytes().all(|digit| digit.is_ascii_hexdigit()))
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (octet, piece.get(2..)) {
            (Some(octet), Some(rest)) => {
                if octet.is_ascii_alphanumeric() || b"-._~".contains(&octet) {
                    even.push(char::from(octet));
                } else {
                    even.push_str(&format!("%{octet:02X}"));
                }
                even.push_str(rest);
            }
            // Not an encoded octet: kept as it is.
            _ => {
                even.push('%');
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
            "https://mcp.example.com/%6Dcp",
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
        ] {
            assert!(!same_target(other, &request), "{other}");
        }
        let request = Url::parse("https://mcp.example.com/files/a%2fb~c").unwrap();
        for same in [
            "https://mcp.example.com/files/a%2Fb~c",
            "https://mcp.example.com/files/a%2fb%7Ec",
            "https://mcp.example.com/files/a%2Fb%7ec",
        ] {
            assert!(same_target(same, &request), "{same}");
        }
        assert!(!same_target(
            "https://mcp.example.com/files/a/b~c",
            &request
        ));
    }

    #[test]
    fn percent_encodings_are_evened_out_and_nothing_else() {
        assert_eq!(
            even_percent_encoding("https://h/%7e%2f%2F%41%zz%+1%4%"),
            "https://h/~%2F%2FA%zz%+1%4%"
        );
        assert!(!same_target(
            "https://h/a%+1",
            &Url::parse("https://h/a%01").unwrap()
        ));
    }
}

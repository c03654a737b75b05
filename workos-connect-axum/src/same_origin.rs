//! The refusal of requests another site made the browser send.

use http::header::ORIGIN;
use http::{HeaderMap, Method};

/// Whether a request that changes the session came from the app's own pages. SameSite=Lax cookies
/// still come with a form posted from a sibling subdomain (same site, other origin), so the session
/// cookie alone proves nothing. Browsers say where a request comes from in `Sec-Fetch-Site`; those
/// that do not send it still send `Origin` with a post. A request with neither did not come from a
/// browser page (curl, a test), and no other site can make a browser send it.
pub(crate) fn is_same_origin(headers: &HeaderMap, app_origin: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        // `none`: the user's own action (the address bar, a bookmark).
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    headers
        .get(ORIGIN)
        .is_none_or(|origin| origin.as_bytes() == app_origin.as_bytes())
}

/// Whether a request of `method` only reads: those are not checked, since a cross-site link must
/// keep working and reading changes nothing.
pub(crate) fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = "https://app.example.com";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn refuses_posts_from_other_sites_and_origins() {
        for site in ["cross-site", "same-site", "bogus"] {
            assert!(
                !is_same_origin(&headers(&[("sec-fetch-site", site)]), APP),
                "{site}"
            );
        }
        // Sec-Fetch-Site decides even when Origin looks right: it cannot be set by a page.
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "same-site"), ("origin", APP)]),
            APP
        ));
        assert!(!is_same_origin(
            &headers(&[("origin", "https://evil.example.com")]),
            APP
        ));
        assert!(!is_same_origin(&headers(&[("origin", "null")]), APP));
        assert!(!is_same_origin(
            &headers(&[("origin", "https://app.example.com.evil.test")]),
            APP
        ));
    }

    #[test]
    fn lets_the_apps_own_requests_through() {
        assert!(is_same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            APP
        ));
        assert!(is_same_origin(&headers(&[("sec-fetch-site", "none")]), APP));
        assert!(is_same_origin(&headers(&[("origin", APP)]), APP));
        assert!(is_same_origin(&HeaderMap::new(), APP));
    }

    #[test]
    fn only_unsafe_methods_are_checked() {
        assert!(is_safe(&Method::GET) && is_safe(&Method::HEAD));
        assert!(!is_safe(&Method::POST) && !is_safe(&Method::DELETE) && !is_safe(&Method::PUT));
    }
}

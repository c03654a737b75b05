//! The refusal of requests another site made the browser send.

use http::header::ORIGIN;
use http::{HeaderMap, HeaderValue, Method};

/// Whether a request that changes the session came from the app's own pages. SameSite=Lax cookies
/// still come with a form posted from a sibling subdomain (same site, other origin), so the session
/// cookie alone proves nothing. Browsers say where a request comes from in `Sec-Fetch-Site`; those
/// that do not send it still send `Origin` with a post. A request with neither did not come from a
/// browser page (curl, a test), and no other site can make a browser send it. Either header given
/// more than once refuses the request: a browser sends each once (RFC 6454 section 7.3), and
/// whichever copy a check read, a proxy or the app could read the other.
pub(crate) fn is_same_origin(headers: &HeaderMap, app_origin: &str) -> bool {
    match sole(headers, "sec-fetch-site") {
        // `none`: the user's own action (the address bar, a bookmark).
        Ok(Some(site)) => return matches!(site.as_bytes(), b"same-origin" | b"none"),
        Ok(None) => {}
        Err(Repeated) => return false,
    }
    match sole(headers, ORIGIN) {
        Ok(origin) => origin.is_none_or(|origin| origin.as_bytes() == app_origin.as_bytes()),
        Err(Repeated) => false,
    }
}

/// A header that must appear at most once appeared more often.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Repeated;

/// The value of header `name`, if present: an error if it is given more than once.
pub(crate) fn sole<K: http::header::AsHeaderName>(
    headers: &HeaderMap,
    name: K,
) -> Result<Option<&HeaderValue>, Repeated> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (first, None) => Ok(first),
        (Some(_), Some(_)) | (None, Some(_)) => Err(Repeated),
    }
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
    fn refuses_a_repeated_origin_or_sec_fetch_site() {
        let evil = "https://evil.example.com";
        for pairs in [
            [("origin", APP), ("origin", evil)],
            [("origin", evil), ("origin", APP)],
            [("origin", APP), ("origin", APP)],
            [
                ("sec-fetch-site", "same-origin"),
                ("sec-fetch-site", "cross-site"),
            ],
            [
                ("sec-fetch-site", "same-origin"),
                ("sec-fetch-site", "same-origin"),
            ],
        ] {
            assert!(!is_same_origin(&headers(&pairs), APP), "{pairs:?}");
        }
        assert_eq!(
            sole(&headers(&[("origin", APP)]), ORIGIN),
            Ok(Some(&HeaderValue::from_static(APP)))
        );
        assert_eq!(sole(&HeaderMap::new(), ORIGIN), Ok(None));
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

//! Rules on the URLs and paths the settings name, shared by the API's and the login's settings.

use url::Url;

/// Whether keys or tokens may be fetched from `url`: https, or plain http on loopback only.
pub(crate) fn is_https_or_loopback(url: &Url) -> bool {
    url.scheme() == "https"
        || match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(name)) => name == "localhost",
            None => false,
        }
}

/// Whether axum takes `path` as a literal route rather than panicking on, or matching, what looks
/// like a capture or wildcard.
pub(crate) fn is_literal_route(path: &str) -> bool {
    !path.contains(['{', '}'])
        && path
            .split('/')
            .all(|segment| !segment.starts_with([':', '*']))
}

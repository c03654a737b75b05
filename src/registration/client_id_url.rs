//! What a URL must be to serve as a `client_id` (Client ID Metadata Documents, section 3), below
//! both the document and the credentials that hold such a `client_id`.

use url::Url;

/// What keeps a URL from being a `client_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientIdUrlFault {
    NotHttps,
    Userinfo,
    Fragment,
    NoPath,
    DotSegment,
}

/// The fault of `url` (parsed from `text`) as a `client_id`, if any. Dot segments are looked for in
/// the text, since a parsed URL has already resolved them.
pub(crate) fn client_id_url_fault(text: &str, url: &Url) -> Option<ClientIdUrlFault> {
    if url.scheme() != "https" || url.host().is_none() {
        return Some(ClientIdUrlFault::NotHttps);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Some(ClientIdUrlFault::Userinfo);
    }
    if url.fragment().is_some() {
        return Some(ClientIdUrlFault::Fragment);
    }
    if url.path() == "/" {
        return Some(ClientIdUrlFault::NoPath);
    }
    let before_query = text.split(['?', '#']).next().unwrap_or_default();
    before_query
        .split('/')
        .any(|segment| segment == "." || segment == "..")
        .then_some(ClientIdUrlFault::DotSegment)
}

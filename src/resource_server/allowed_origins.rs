//! The web origins whose pages may call a resource: the guard against DNS rebinding that the MCP
//! streamable HTTP transport requires.

use url::Url;

/// The origins a request's `Origin` may name: the resource's own, and those allowed besides, each
/// serialised as browsers send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    /// The origin of `resource` alone.
    pub(super) fn of(resource: &Url) -> Self {
        AllowedOrigins(vec![resource.origin().ascii_serialization()])
    }

    /// Allows `input` too; `None` unless it is only an origin (`scheme://host[:port]`).
    pub(super) fn allow(&mut self, input: &str) -> Option<()> {
        let origin = parse_origin(input)?;
        if !self.0.contains(&origin) {
            self.0.push(origin);
        }
        Some(())
    }

    /// The origins allowed, the resource's first.
    pub(super) fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// Whether a request with these `Origin` values may go on: one without any (not sent by a
    /// browser page), or with exactly one that is allowed. More than one is refused, not the
    /// first taken: a browser sends one (RFC 6454 section 7.3), and a proxy or the app behind
    /// could read another copy.
    pub(super) fn admit(&self, origin: &[&[u8]]) -> bool {
        match origin {
            [] => true,
            [origin] => self.0.iter().any(|allowed| allowed.as_bytes() == *origin),
            _ => false,
        }
    }
}

/// The origin `input` names, serialised as browsers send it; `None` unless it is only an origin.
fn parse_origin(input: &str) -> Option<String> {
    let url = Url::parse(input).ok()?;
    let bare = url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
        && !input.trim_end_matches('/').ends_with('?');
    let origin = url.origin();
    (bare && origin.is_tuple()).then(|| origin.ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_only_origins() {
        assert_eq!(
            parse_origin("https://App.example.com").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(
            parse_origin("http://127.0.0.1:6274/").as_deref(),
            Some("http://127.0.0.1:6274")
        );
        for bad in [
            "https://app.example.com/path",
            "https://app.example.com?x",
            "https://user@app.example.com",
            "null",
            "file:///tmp",
        ] {
            assert_eq!(parse_origin(bad), None, "{bad}");
        }
    }

    #[test]
    fn one_allowed_origin_or_none_is_admitted() {
        let mut origins = AllowedOrigins::of(&"https://api.example.com/mcp".parse().unwrap());
        assert_eq!(origins.allow("https://app.example.com/"), Some(()));
        assert_eq!(origins.allow("https://app.example.com/x"), None);
        let app = b"https://app.example.com".as_slice();
        let own = b"https://api.example.com".as_slice();
        let evil = b"https://evil.example".as_slice();
        assert!(origins.admit(&[]));
        assert!(origins.admit(&[app]) && origins.admit(&[own]));
        assert!(!origins.admit(&[evil]));
        // Compared as sent: no case folding, no trailing slash, no lookalike suffix.
        for near in [
            b"https://APP.example.com".as_slice(),
            b"https://app.example.com/",
            b"https://app.example.com.evil.test",
            b"null",
        ] {
            assert!(!origins.admit(&[near]), "{near:?}");
        }
        // Repeated, whichever comes first, even the same one twice.
        for pair in [[app, evil], [evil, app], [app, app]] {
            assert!(!origins.admit(&pair));
        }
    }
}

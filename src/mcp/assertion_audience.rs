//! Whether a JWT the login is about to send as a grant (a workload's token, an ID-JAG) was issued
//! for the server that will receive it: its `aud`, read without verifying the signature, which is
//! the receiving server's part. The client reads it only to keep the assertion from a server it
//! was not meant for, which could replay it at the one it was (RFC 9700 section 4.4).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;
use url::Url;

use crate::oauth::identifier::Issuer;
use crate::oauth::security_token::SecurityToken;

/// What the assertion's `aud` says of a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Audience {
    /// It names the server's issuer or its token endpoint (RFC 7523 section 3, item 3).
    Names,
    /// It names neither: the assertion was issued for another server.
    Other,
    /// There is no `aud` to read: the assertion is not a signed JWT with a JSON object as its
    /// claims, or has no `aud`. Only the server can judge it.
    Unreadable,
}

/// Reads `assertion`'s `aud` against the server `issuer` whose token endpoint is `token_endpoint`,
/// also known as any of `also` (the names a platform gives the server in its tokens).
pub(crate) fn audience(
    assertion: &SecurityToken,
    issuer: &Issuer,
    token_endpoint: &Url,
    also: &[String],
) -> Audience {
    let mut segments = assertion.secret().split('.');
    let (Some(_header), Some(claims), Some(_signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        // Not a JWS in compact form: an encrypted JWT or another kind of token.
        return Audience::Unreadable;
    };
    let Ok(claims) = URL_SAFE_NO_PAD.decode(claims) else {
        return Audience::Unreadable;
    };
    // RFC 7519 section 7.2: the claims are a JSON object; an array is no claims set.
    let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(&claims) else {
        return Audience::Unreadable;
    };
    // RFC 7519 section 4.1.3: one string or an array of them; anything else names no server.
    let aud: Vec<&Value> = match claims.get("aud") {
        None => return Audience::Unreadable,
        Some(Value::Array(many)) => many.iter().collect(),
        Some(one) => vec![one],
    };
    let names = |value: &&Value| {
        value.as_str().is_some_and(|value| {
            value == issuer.as_str()
                || also.iter().any(|name| name == value)
                || Url::parse(value).is_ok_and(|url| url == *token_endpoint)
        })
    };
    if aud.iter().any(names) {
        Audience::Names
    } else {
        Audience::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> SecurityToken {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = URL_SAFE_NO_PAD.encode(claims);
        SecurityToken::new(format!("{header}.{claims}.c2ln")).unwrap()
    }

    fn read(assertion: &SecurityToken) -> Audience {
        audience(
            assertion,
            &"https://auth.example.com".parse().unwrap(),
            &Url::parse("https://auth.example.com/oauth2/token").unwrap(),
            &["sts.example".to_owned()],
        )
    }

    #[test]
    fn the_issuer_or_the_token_endpoint_is_the_audience() {
        assert_eq!(
            read(&jwt(r#"{"aud":"https://auth.example.com"}"#)),
            Audience::Names
        );
        assert_eq!(
            read(&jwt(
                r#"{"aud":["x","https://auth.example.com/oauth2/token"]}"#
            )),
            Audience::Names
        );
        assert_eq!(
            read(&jwt(r#"{"aud":"https://evil.example"}"#)),
            Audience::Other
        );
        // A name the caller gave for the server.
        assert_eq!(read(&jwt(r#"{"aud":["sts.example"]}"#)), Audience::Names);
        // The issuer is compared exactly: a trailing `/` is another identifier.
        assert_eq!(
            read(&jwt(r#"{"aud":"https://auth.example.com/"}"#)),
            Audience::Other
        );
        assert_eq!(read(&jwt(r#"{"aud":[]}"#)), Audience::Other);
        assert_eq!(read(&jwt(r#"{"aud":7}"#)), Audience::Other);
    }

    #[test]
    fn without_a_readable_aud_the_server_judges() {
        assert_eq!(read(&jwt(r#"{"sub":"w"}"#)), Audience::Unreadable);
        assert_eq!(
            read(&jwt(r#"["https://auth.example.com"]"#)),
            Audience::Unreadable
        );
        assert_eq!(read(&jwt("not json")), Audience::Unreadable);
        assert_eq!(
            read(&SecurityToken::new("opaque").unwrap()),
            Audience::Unreadable
        );
        assert_eq!(
            read(&SecurityToken::new("a.!!.c").unwrap()),
            Audience::Unreadable
        );
        assert_eq!(
            read(&SecurityToken::new("a.b.c.d.e").unwrap()),
            Audience::Unreadable
        );
    }
}

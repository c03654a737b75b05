//! JWK thumbprints (RFC 7638): the SHA-256 of a public key's required members, which names a key
//! by what it is rather than by the `kid` its publisher chose.

use sha2::{Digest, Sha256};

/// The SHA-256 thumbprint of a public key, from its required members as `(name, value)` pairs
/// (RFC 7638 section 3.2: `e`, `kty`, `n` for RSA; `crv`, `kty`, `x`, `y` for EC), in any order.
///
/// The members are hashed as a JSON object without whitespace, in the lexicographic order of their
/// names, each value as a JSON string.
pub(crate) fn jwk_thumbprint(members: &mut [(&str, &str)]) -> [u8; 32] {
    members.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut canonical = String::from("{");
    for (index, (name, value)) in members.iter().enumerate() {
        if index > 0 {
            canonical.push(',');
        }
        push_json_string(&mut canonical, name);
        canonical.push(':');
        push_json_string(&mut canonical, value);
    }
    canonical.push('}');
    Sha256::digest(canonical.as_bytes()).into()
}

/// Writes `text` as a JSON string. Key members are base64url or curve names, which need no escape;
/// anything else is escaped rather than trusted.
fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            control if u32::from(control) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", u32::from(control)));
            }
            other => out.push(other),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    /// RFC 7638 section 3.1's example key and thumbprint.
    #[test]
    fn rfc_7638_example() {
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let mut members = [("n", n), ("kty", "RSA"), ("e", "AQAB")];
        assert_eq!(
            URL_SAFE_NO_PAD.encode(jwk_thumbprint(&mut members)),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn values_are_escaped_and_order_does_not_matter() {
        let mut one = [("kty", "EC"), ("crv", "P-256"), ("x", "a\"b"), ("y", "\\")];
        let mut other = [("y", "\\"), ("x", "a\"b"), ("kty", "EC"), ("crv", "P-256")];
        assert_eq!(jwk_thumbprint(&mut one), jwk_thumbprint(&mut other));
        let expected: [u8; 32] =
            Sha256::digest(br#"{"crv":"P-256","kty":"EC","x":"a\"b","y":"\\"}"#).into();
        assert_eq!(jwk_thumbprint(&mut one), expected);
    }
}

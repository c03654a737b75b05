//! The bottom floor: the character sets of RFC 3986 and RFC 6749, the characters text shown to
//! people must not hold, and the encodings the wire uses (percent-encoded query values, unpadded
//! base64url). Every other module may use these; this one uses none of them.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// RFC 3986's unreserved characters, which are also the PKCE verifier's alphabet (RFC 7636 section 4.1).
pub(crate) const fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// VSCHAR of RFC 6749 Appendix A: printable ASCII, space included.
pub(crate) const fn is_vschar(b: u8) -> bool {
    matches!(b, 0x20..=0x7e)
}

/// NQSCHAR of RFC 6749 Appendix A: printable ASCII but `"` and `\`, the alphabet of an error code
/// (RFC 6749 section 4.1.2.1).
pub(crate) const fn is_nqschar(b: u8) -> bool {
    matches!(b, 0x20..=0x21 | 0x23..=0x5b | 0x5d..=0x7e)
}

/// A character RFC 3986 allows somewhere in a URI: unreserved, reserved, or `%` of an escape.
pub(crate) const fn is_uri_character(b: u8) -> bool {
    is_unreserved(b)
        || matches!(
            b,
            b':' | b'/'
                | b'?'
                | b'#'
                | b'['
                | b']'
                | b'@'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b'%'
        )
}

/// A character that text shown to people (a terminal, a log line, a consent screen) must not hold,
/// because the display acts on it rather than showing it.
pub(crate) fn is_unsafe_to_show(c: char) -> bool {
    // Control characters (C0, DEL, C1): escape sequences, line breaks, bells.
    c.is_control()
        || matches!(
            c,
            // Bidirectional embeddings, overrides, isolates and marks reorder what is shown
            // (CVE-2021-42574, "Trojan Source").
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
            // Line and paragraph separators break a line as a newline does.
            | '\u{2028}' | '\u{2029}'
            // Zero-width spaces and joiners, the word joiner and the byte order mark are invisible:
            // they hide text or make two different strings look the same.
            | '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}'
        )
}

/// Splits raw URI text that follows `//` into its authority and the rest: the authority ends at the
/// first `/`, `?` or `#` (RFC 3986 section 3.2). Every check of a raw authority reads it this way, so
/// that none can disagree with another about where the host ends.
pub(crate) fn split_authority(after_slashes: &str) -> (&str, &str) {
    let end = after_slashes
        .find(['/', '?', '#'])
        .unwrap_or(after_slashes.len());
    after_slashes.split_at(end)
}

/// Everything but RFC 3986's unreserved characters is percent-encoded, so that a value reads back
/// unchanged through any query parser, `+` and space included (a space becomes `%20`, never `+`).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Appends `value`, percent-encoded as a query value, to `out`.
pub(crate) fn push_query_value(out: &mut String, value: &str) {
    out.extend(utf8_percent_encode(value, QUERY_VALUE));
}

/// The length of `value` once percent-encoded as a query value.
pub(crate) fn query_value_len(value: &str) -> usize {
    value
        .bytes()
        .map(|b| if is_unreserved(b) { 1 } else { 3 })
        .sum()
}

/// The length of 32 bytes in unpadded base64url.
pub(crate) const BASE64URL_32_LEN: usize = 43;

/// 32 bytes, a secret's bits or a SHA-256 digest, in unpadded base64url (RFC 4648 section 5): always
/// 43 ASCII symbols.
pub(crate) fn base64url_32(bytes: &[u8; 32]) -> [u8; BASE64URL_32_LEN] {
    let mut encoded = [0u8; BASE64URL_32_LEN];
    // 32 bytes fill exactly 43 symbols, so the buffer is never too small.
    let _ = URL_SAFE_NO_PAD.encode_slice(bytes, &mut encoded);
    encoded
}

/// The `Authorization` header value of HTTP Basic client authentication (RFC 6749 section 2.3.1):
/// `client_id` and `client_secret` each form-encoded, joined by `:`, in base64. The form encoding is
/// what lets a `:` inside the client ID through, and what many clients forget.
pub(crate) fn basic_authorization(client_id: &str, client_secret: &str) -> String {
    let mut pair: String = url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect();
    pair.push(':');
    pair.extend(url::form_urlencoded::byte_serialize(
        client_secret.as_bytes(),
    ));
    let mut value = String::from("Basic ");
    STANDARD.encode_string(pair.as_bytes(), &mut value);
    zeroize::Zeroize::zeroize(&mut pair);
    value
}

/// The bidirectional controls (CVE-2021-42574) and the invisible or line-breaking format
/// characters, none of which `char::is_control` covers: every place that shows text tests them all.
#[cfg(test)]
pub(crate) const UNSAFE_FORMAT_CHARACTERS: &[char] = &[
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}', '\u{2028}', '\u{2029}', '\u{200B}', '\u{200C}',
    '\u{200D}', '\u{2060}', '\u{FEFF}',
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_authorization_form_encodes_then_base64_encodes() {
        // RFC 6749 section 2.3.1's example pair, with a `:` and a space that must be encoded.
        assert_eq!(
            basic_authorization("s6BhdRkqt3", "7Fjfp0ZBr1KtDRbnfVdmIw"),
            "Basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJuZlZkbUl3"
        );
        let value = basic_authorization("a:b", "c d");
        let decoded = STANDARD.decode(value.trim_start_matches("Basic ")).unwrap();
        assert_eq!(decoded, b"a%3Ab:c+d");
    }

    #[test]
    fn query_values_are_encoded_except_unreserved_characters() {
        let mut out = String::new();
        push_query_value(&mut out, "aZ09-._~ +&=%/?#é");
        assert_eq!(out, "aZ09-._~%20%2B%26%3D%25%2F%3F%23%C3%A9");
        assert_eq!(query_value_len("aZ09-._~ +&=%/?#é"), out.len());
    }

    #[test]
    fn base64url_has_no_padding_and_the_url_alphabet() {
        let mut bytes = [0xffu8; 32];
        bytes[0] = 0xfb;
        let encoded = base64url_32(&bytes);
        assert_eq!(encoded[..], *format!("-{}8", "_".repeat(41)).as_bytes());
    }

    #[test]
    fn character_classes() {
        assert!(is_unreserved(b'~') && !is_unreserved(b'+'));
        assert!(is_vschar(b' ') && !is_vschar(0x7f));
        assert!(is_nqschar(b' ') && is_nqschar(b'!') && is_nqschar(b'~'));
        assert!(!is_nqschar(b'"') && !is_nqschar(b'\\') && !is_nqschar(b'\r') && !is_nqschar(0x7f));
        assert!(is_uri_character(b'%') && !is_uri_character(b'\\') && !is_uri_character(b' '));
    }

    #[test]
    fn characters_unsafe_to_show() {
        for c in UNSAFE_FORMAT_CHARACTERS {
            assert!(is_unsafe_to_show(*c), "{c:?}");
        }
        // The same set as the standard library's control characters, plus the format characters.
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            assert_eq!(
                is_unsafe_to_show(c),
                c.is_control() || UNSAFE_FORMAT_CHARACTERS.contains(&c),
                "{c:?}"
            );
        }
        assert!("ABCD-EFGH José Müller שרה 😀 \u{a0}"
            .chars()
            .all(|c| !is_unsafe_to_show(c)));
    }
}

//! The `client_name` a client shows the user asked to approve it (RFC 7591 section 2): checked the
//! same way for a registration request and a Client ID Metadata Document, with one error.

use crate::oauth::encoding::is_unsafe_to_show;

/// Why a `client_name` was refused, in a registration request or a Client ID Metadata Document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientNameError {
    /// `client_name` is empty or only spaces.
    #[error("client_name is empty; give the name users will see when they approve the client")]
    Empty,
    /// `client_name` holds a control character, which consent screens and logs would show raw, or
    /// a bidirectional formatting or invisible character, which would reorder or hide part of the
    /// name.
    #[error(
        "client_name contains a control or bidirectional formatting character at byte {index}; \
         remove it"
    )]
    ControlCharacter {
        /// Byte offset of the character.
        index: usize,
    },
}

/// Checks `name` as a client's name to show a user.
pub(crate) fn check_client_name(name: &str) -> Result<(), ClientNameError> {
    if name.trim().is_empty() {
        return Err(ClientNameError::Empty);
    }
    match name.char_indices().find(|(_, c)| is_unsafe_to_show(*c)) {
        Some((index, _)) => Err(ClientNameError::ControlCharacter { index }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_to_show_is_neither_blank_nor_hides_characters() {
        assert_eq!(check_client_name("Example Agent"), Ok(()));
        assert_eq!(check_client_name(" \t "), Err(ClientNameError::Empty));
        for c in ['\u{7}', '\u{202e}', '\u{200b}'] {
            assert_eq!(
                check_client_name(&format!("Agent{c}")),
                Err(ClientNameError::ControlCharacter { index: 5 }),
                "{c:?}"
            );
        }
    }
}

//! The code the user of a device login types (RFC 8628 section 3.2); the device's own code is a
//! credential ([`DeviceCode`](crate::device::DeviceCode)).

use std::fmt;

use crate::device::device_error::DeviceError;
use crate::oauth::encoding::is_unsafe_to_show;

/// The longest user code shown; AuthKit's are 9 characters (`ABCD-EFGH`).
const MAX_USER_CODE_LEN: usize = 64;

/// The code the user types on the verification page (RFC 8628 section 3.2), such as `ABCD-EFGH`:
/// not a secret, it is shown on screen. Printable text only (no control, bidirectional formatting or
/// invisible characters), at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCode(String);

impl UserCode {
    pub(crate) fn checked(text: String) -> Result<UserCode, DeviceError> {
        // Checked before trimming: a line separator or byte order mark at either end is refused too.
        if text.chars().any(is_unsafe_to_show) {
            return Err(DeviceError::ControlCharacter { field: "user_code" });
        }
        let shown = text.trim();
        if shown.is_empty() || shown.chars().count() > MAX_USER_CODE_LEN {
            return Err(DeviceError::MalformedResponse {
                reason: format!("user_code is empty or longer than {MAX_USER_CODE_LEN} characters"),
            });
        }
        Ok(UserCode(shown.to_owned()))
    }

    /// The code as the server sent it, without surrounding spaces.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

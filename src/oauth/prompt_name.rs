//! The name of one `prompt` value of OpenID Connect Core section 3.1.2.1. It sits on the bottom
//! floor, below the errors that name it.

use std::fmt;

use serde_with::{DeserializeFromStr, SerializeDisplay};

/// One value of an authorize request's `prompt` parameter (OpenID Connect Core section 3.1.2.1):
/// what the authorization server should ask the user, whatever it remembers of them.
///
/// A request sends a set of them, a [`Prompts`](crate::oauth::Prompts); combine values with `|`.
///
/// ```
/// use workos_connect::oauth::Prompt;
///
/// assert_eq!("select_account".parse::<Prompt>()?, Prompt::SelectAccount);
/// assert_eq!(Prompt::Consent.as_str(), "consent");
/// assert_eq!((Prompt::Login | Prompt::Consent).to_string(), "login consent");
/// # Ok::<(), workos_connect::Error>(())
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, SerializeDisplay, DeserializeFromStr,
)]
pub enum Prompt {
    /// `none`: show no page at all; if the user is not logged in or has not consented, the
    /// callback carries an error such as `login_required`. Combines with no other value.
    None,
    /// `login`: ask the user to authenticate again, even with a session at the server.
    Login,
    /// `consent`: ask the user to consent again. Some providers issue a refresh token for
    /// `offline_access` only with it (OpenID Connect Core section 11).
    Consent,
    /// `select_account`: let the user choose among the accounts the server knows them by.
    SelectAccount,
}

impl Prompt {
    /// Every value, in the canonical order used when printing a [`Prompts`](crate::oauth::Prompts).
    pub const ALL: [Prompt; 4] = [
        Prompt::None,
        Prompt::Login,
        Prompt::Consent,
        Prompt::SelectAccount,
    ];

    /// The value's wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Prompt::None => "none",
            Prompt::Login => "login",
            Prompt::Consent => "consent",
            Prompt::SelectAccount => "select_account",
        }
    }

    pub(crate) const fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for Prompt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

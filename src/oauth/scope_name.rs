//! The name of one scope WorkOS Connect understands. It sits on the bottom floor, below the errors
//! that name it.

use std::fmt;

use serde_with::{DeserializeFromStr, SerializeDisplay};

/// One OAuth 2.0 / OpenID Connect scope that WorkOS Connect accepts.
///
/// ```
/// use workos_connect::Scope;
///
/// assert_eq!("offline_access".parse::<Scope>()?, Scope::OfflineAccess);
/// assert_eq!(Scope::Email.as_str(), "email");
/// # Ok::<(), workos_connect::Error>(())
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, SerializeDisplay, DeserializeFromStr,
)]
pub enum Scope {
    /// `openid`: an OpenID Connect request; required for `profile` and `email`.
    OpenId,
    /// `profile`: adds `name`, `given_name` and `family_name` to the ID token.
    Profile,
    /// `email`: adds `email` and `email_verified` to the ID token.
    Email,
    /// `offline_access`: adds a refresh token to the token response.
    OfflineAccess,
}

impl Scope {
    /// Every scope, in the canonical order used when printing a [`Scopes`](crate::Scopes).
    pub const ALL: [Scope; 4] = [
        Scope::OpenId,
        Scope::Profile,
        Scope::Email,
        Scope::OfflineAccess,
    ];

    /// The scope's wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::OpenId => "openid",
            Scope::Profile => "profile",
            Scope::Email => "email",
            Scope::OfflineAccess => "offline_access",
        }
    }

    pub(crate) const fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

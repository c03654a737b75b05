//! The scopes WorkOS Connect understands, one enum value each, and a set of them.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};
use std::str::FromStr;

use serde_with::{DeserializeFromStr, SerializeDisplay};

use crate::oauth::error::{reject_control_characters, Error, Field};
use crate::oauth::scope_name::Scope;

impl FromStr for Scope {
    type Err = Error;

    /// Parses one wire name, case-sensitively as RFC 6749 section 3.3 requires.
    fn from_str(token: &str) -> Result<Self, Error> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == token)
            .ok_or_else(|| Error::UnknownScope {
                token: token.to_owned(),
            })
    }
}

/// A set of [`Scope`]s, printed in one canonical order: `openid profile email offline_access`.
///
/// Build it with `|`, from an iterator, or parse the space-separated wire form strictly: an unknown or
/// repeated name, or a stray space, is an error naming it. The default is `openid` alone. Serde reads and
/// writes the wire form.
///
/// ```
/// use workos_connect::{Scope, Scopes};
///
/// let scopes = Scope::Email | Scope::OpenId;
/// assert_eq!(scopes.to_string(), "openid email");
/// assert_eq!("openid email".parse::<Scopes>()?, scopes);
/// assert!("openid openid".parse::<Scopes>().is_err());
/// assert_eq!(Scopes::default().to_string(), "openid");
/// # Ok::<(), workos_connect::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, SerializeDisplay, DeserializeFromStr)]
pub struct Scopes {
    bits: u8,
}

impl Scopes {
    /// The empty set. A request needs at least one scope; this is a starting point for building one.
    pub const EMPTY: Scopes = Scopes { bits: 0 };

    /// Every scope WorkOS Connect accepts.
    pub const ALL: Scopes = Scopes { bits: 0b1111 };

    /// All 16 sets, the empty one included, in the order of [`index`](Self::index).
    pub(crate) fn every_set() -> impl Iterator<Item = Scopes> {
        (0..16).map(|bits| Scopes { bits })
    }

    /// A number from 0 to 15 unique to the set, for tables with one entry per set.
    #[inline]
    pub(crate) const fn index(self) -> usize {
        self.bits as usize
    }

    /// Whether `scope` is in the set.
    pub const fn contains(self, scope: Scope) -> bool {
        self.bits & scope.bit() != 0
    }

    /// The set with `scope` added.
    #[must_use]
    pub const fn with(self, scope: Scope) -> Scopes {
        Scopes {
            bits: self.bits | scope.bit(),
        }
    }

    /// The set with `scope` removed.
    #[must_use]
    pub const fn without(self, scope: Scope) -> Scopes {
        Scopes {
            bits: self.bits & !scope.bit(),
        }
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.bits == 0
    }

    /// How many scopes the set holds.
    pub const fn len(self) -> usize {
        self.bits.count_ones() as usize
    }

    /// The scopes in canonical order.
    pub fn iter(self) -> ScopesIter {
        ScopesIter { remaining: self }
    }

    /// Checks the rules the authorize endpoint applies to a whole set: not empty, and `profile` and
    /// `email` only together with `openid`.
    pub fn validate(self) -> Result<(), Error> {
        if self.is_empty() {
            return Err(Error::EmptyScope);
        }
        if !self.contains(Scope::OpenId) {
            if let Some(scope) = [Scope::Profile, Scope::Email]
                .into_iter()
                .find(|scope| self.contains(*scope))
            {
                return Err(Error::ScopeRequiresOpenId { scope });
            }
        }
        Ok(())
    }

    /// The wire form as a query value, spaces written `%20`: scope names need no other escaping.
    #[inline]
    pub(crate) fn query_value(self) -> &'static str {
        QUERY_VALUES.get(self.index()).copied().unwrap_or_default()
    }
}

/// Every set's query value, indexed by its bits, so that a request copies its scopes in one piece.
const QUERY_VALUES: [&str; 16] = [
    "",
    "openid",
    "profile",
    "openid%20profile",
    "email",
    "openid%20email",
    "profile%20email",
    "openid%20profile%20email",
    "offline_access",
    "openid%20offline_access",
    "profile%20offline_access",
    "openid%20profile%20offline_access",
    "email%20offline_access",
    "openid%20email%20offline_access",
    "profile%20email%20offline_access",
    "openid%20profile%20email%20offline_access",
];

impl Default for Scopes {
    /// `openid` alone.
    fn default() -> Self {
        Scopes::from(Scope::OpenId)
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for Scopes {
    type Err = Error;

    /// Parses the space-separated wire form strictly (RFC 6749 section 3.3: names separated by single
    /// spaces). The empty string is the empty set, so that every printed set reads back; a request
    /// refuses it when built.
    fn from_str(input: &str) -> Result<Self, Error> {
        if input.is_empty() {
            return Ok(Scopes::EMPTY);
        }
        reject_control_characters(Field::Scope, input)?;
        let mut scopes = Scopes::EMPTY;
        let mut index = 0;
        for token in input.split(' ') {
            if token.is_empty() {
                return Err(Error::ScopeSeparator { index });
            }
            let scope: Scope = token.parse()?;
            if scopes.contains(scope) {
                return Err(Error::DuplicateScope { scope });
            }
            scopes = scopes.with(scope);
            index = index.saturating_add(token.len()).saturating_add(1);
        }
        Ok(scopes)
    }
}

impl From<Scope> for Scopes {
    fn from(scope: Scope) -> Self {
        Scopes::EMPTY.with(scope)
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        iter.into_iter().fold(Scopes::EMPTY, Scopes::with)
    }
}

impl Extend<Scope> for Scopes {
    fn extend<I: IntoIterator<Item = Scope>>(&mut self, iter: I) {
        *self = iter.into_iter().fold(*self, Scopes::with);
    }
}

impl IntoIterator for Scopes {
    type Item = Scope;
    type IntoIter = ScopesIter;

    fn into_iter(self) -> ScopesIter {
        self.iter()
    }
}

/// The scopes of a [`Scopes`] in canonical order; see [`Scopes::iter`].
#[derive(Debug, Clone)]
pub struct ScopesIter {
    remaining: Scopes,
}

impl Iterator for ScopesIter {
    type Item = Scope;

    fn next(&mut self) -> Option<Scope> {
        let next = Scope::ALL
            .into_iter()
            .find(|scope| self.remaining.contains(*scope))?;
        self.remaining = self.remaining.without(next);
        Some(next)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining.len(), Some(self.remaining.len()))
    }
}

impl ExactSizeIterator for ScopesIter {}

impl BitOr for Scope {
    type Output = Scopes;
    fn bitor(self, rhs: Scope) -> Scopes {
        Scopes::from(self).with(rhs)
    }
}

impl BitOr<Scope> for Scopes {
    type Output = Scopes;
    fn bitor(self, rhs: Scope) -> Scopes {
        self.with(rhs)
    }
}

impl BitOr for Scopes {
    type Output = Scopes;
    fn bitor(self, rhs: Scopes) -> Scopes {
        Scopes {
            bits: self.bits | rhs.bits,
        }
    }
}

impl BitOrAssign<Scope> for Scopes {
    fn bitor_assign(&mut self, rhs: Scope) {
        *self = self.with(rhs);
    }
}

impl BitOrAssign for Scopes {
    fn bitor_assign(&mut self, rhs: Scopes) {
        *self = *self | rhs;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_in_canonical_order_whatever_the_build_order() {
        let scopes: Scopes = [Scope::OfflineAccess, Scope::Email, Scope::OpenId]
            .into_iter()
            .collect();
        assert_eq!(scopes.to_string(), "openid email offline_access");
        assert_eq!(
            Scopes::ALL.to_string(),
            "openid profile email offline_access"
        );
        assert_eq!(
            Scopes::ALL.query_value(),
            "openid%20profile%20email%20offline_access"
        );
    }

    #[test]
    fn parsing_is_strict_and_names_the_bad_token() {
        assert_eq!(
            "openid Email".parse::<Scopes>(),
            Err(Error::UnknownScope {
                token: "Email".into()
            })
        );
        assert_eq!(
            "openid email openid".parse::<Scopes>(),
            Err(Error::DuplicateScope {
                scope: Scope::OpenId
            })
        );
        assert_eq!(
            "openid  email".parse::<Scopes>(),
            Err(Error::ScopeSeparator { index: 7 })
        );
        assert_eq!(
            " openid".parse::<Scopes>(),
            Err(Error::ScopeSeparator { index: 0 })
        );
        assert_eq!(
            "openid ".parse::<Scopes>(),
            Err(Error::ScopeSeparator { index: 7 })
        );
        assert_eq!("".parse::<Scopes>(), Ok(Scopes::EMPTY));
        assert!(matches!(
            "openid\temail".parse::<Scopes>(),
            Err(Error::ControlCharacter { .. })
        ));
    }

    #[test]
    fn every_set_round_trips_through_its_wire_form() {
        for bits in 0..16u8 {
            let scopes = Scopes { bits };
            assert_eq!(scopes.to_string().parse::<Scopes>(), Ok(scopes));
            assert_eq!(scopes.iter().len(), scopes.len());
            assert_eq!(scopes.query_value(), scopes.to_string().replace(' ', "%20"));
        }
    }

    #[test]
    fn profile_and_email_need_openid() {
        assert_eq!(
            (Scope::Profile | Scope::OfflineAccess).validate(),
            Err(Error::ScopeRequiresOpenId {
                scope: Scope::Profile
            })
        );
        assert_eq!(
            Scopes::from(Scope::Email).validate(),
            Err(Error::ScopeRequiresOpenId {
                scope: Scope::Email
            })
        );
        assert_eq!(Scopes::EMPTY.validate(), Err(Error::EmptyScope));
        assert_eq!(Scopes::from(Scope::OfflineAccess).validate(), Ok(()));
        assert_eq!(Scopes::ALL.validate(), Ok(()));
    }

    #[test]
    fn serde_uses_the_wire_form() {
        let scopes = Scope::OpenId | Scope::Profile;
        assert_eq!(
            serde_json::to_string(&scopes).unwrap(),
            "\"openid profile\""
        );
        assert_eq!(
            serde_json::from_str::<Scopes>("\"profile openid\"").unwrap(),
            scopes
        );
        assert!(serde_json::from_str::<Scopes>("\"openid openid\"").is_err());
    }
}

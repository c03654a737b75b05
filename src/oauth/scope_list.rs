//! Scope tokens beyond the four OpenID ones: any RFC 6749 section 3.3 `scope-token`, as MCP servers
//! and other resource servers name them (`mcp:tools`, `files:read`, ...).

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use serde_with::{DeserializeFromStr, SerializeDisplay};

use crate::oauth::encoding::is_nqschar;
use crate::oauth::error::{reject_control_characters, Error, Field};
use crate::oauth::scope::Scopes;

/// One scope name: one or more printable ASCII characters other than space, `"` and `\`
/// (`scope-token` of RFC 6749 section 3.3). Case-sensitive.
///
/// ```
/// use workos_connect::oauth::ScopeToken;
///
/// let token: ScopeToken = "mcp:tools".parse()?;
/// assert_eq!(token.as_str(), "mcp:tools");
/// assert!("two words".parse::<ScopeToken>().is_err());
/// assert!("".parse::<ScopeToken>().is_err());
/// # Ok::<(), workos_connect::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, SerializeDisplay, DeserializeFromStr)]
pub struct ScopeToken(Box<str>);

impl ScopeToken {
    /// Checks and takes one scope name.
    pub fn new(value: &str) -> Result<Self, Error> {
        if value.is_empty() {
            return Err(Error::EmptyScope);
        }
        reject_control_characters(Field::Scope, value)?;
        if let Some(index) = value.bytes().position(|b| b == b' ' || !is_nqschar(b)) {
            return Err(Error::InvalidCharacter {
                field: Field::Scope,
                index,
            });
        }
        Ok(ScopeToken(value.into()))
    }

    /// The name as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ScopeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for ScopeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ScopeToken {
    type Err = Error;

    fn from_str(value: &str) -> Result<Self, Error> {
        ScopeToken::new(value)
    }
}

impl TryFrom<&str> for ScopeToken {
    type Error = Error;

    fn try_from(value: &str) -> Result<Self, Error> {
        ScopeToken::new(value)
    }
}

impl AsRef<str> for ScopeToken {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A set of scope names in the order they were first added, each at most once: the `scope` of a
/// request to a server that defines its own scopes. [`Scopes`] stays the typed set of the four
/// OpenID scopes WorkOS Connect logins use, and converts into this.
///
/// Its text form is the wire form, names separated by spaces. Reading one accepts runs of spaces
/// (servers are not all strict) and drops repeated names.
///
/// ```
/// use workos_connect::{Scope, oauth::ScopeList};
///
/// let mut scopes: ScopeList = "mcp:basic mcp:read".parse()?;
/// scopes.extend("mcp:read mcp:write".parse::<ScopeList>()?);
/// assert_eq!(scopes.to_string(), "mcp:basic mcp:read mcp:write");
/// assert!(scopes.contains("mcp:write"));
///
/// let openid = ScopeList::from(Scope::OpenId | Scope::Email);
/// assert_eq!(openid.to_string(), "openid email");
/// # Ok::<(), workos_connect::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, SerializeDisplay, DeserializeFromStr)]
pub struct ScopeList {
    tokens: Vec<ScopeToken>,
}

impl ScopeList {
    /// The empty list.
    pub const fn new() -> Self {
        ScopeList { tokens: Vec::new() }
    }

    /// The names that are scope tokens, as a server granted or asked for them; others are dropped,
    /// since no scope this crate sends or requires can equal them.
    pub(crate) fn of_valid_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        names
            .into_iter()
            .filter_map(|name| ScopeToken::new(name).ok())
            .collect()
    }

    /// Adds `token` unless it is already there; returns whether it was added.
    pub fn insert(&mut self, token: ScopeToken) -> bool {
        if self.contains(token.as_str()) {
            return false;
        }
        self.tokens.push(token);
        true
    }

    /// Whether the list holds the name `token`.
    pub fn contains(&self, token: &str) -> bool {
        self.tokens.iter().any(|held| held.as_str() == token)
    }

    /// Whether every name of `other` is in this list.
    pub fn contains_all(&self, other: &ScopeList) -> bool {
        let held: HashSet<&str> = self.tokens.iter().map(ScopeToken::as_str).collect();
        other.iter().all(|token| held.contains(token.as_str()))
    }

    /// The names, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, ScopeToken> {
        self.tokens.iter()
    }

    /// How many names it holds.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether it holds no name.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

impl fmt::Debug for ScopeList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(&self.tokens).finish()
    }
}

impl fmt::Display for ScopeList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, token) in self.tokens.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(token.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for ScopeList {
    type Err = Error;

    /// Reads the space-separated wire form. The empty string is the empty list.
    fn from_str(input: &str) -> Result<Self, Error> {
        reject_control_characters(Field::Scope, input)?;
        let mut tokens = Vec::new();
        let mut index = 0usize;
        for name in input.split(' ') {
            if !name.is_empty() {
                let token = ScopeToken::new(name).map_err(|error| match error {
                    Error::InvalidCharacter { field, index: at } => Error::InvalidCharacter {
                        field,
                        index: index.saturating_add(at),
                    },
                    other => other,
                })?;
                tokens.push(token);
            }
            index = index.saturating_add(name.len()).saturating_add(1);
        }
        Ok(tokens.into_iter().collect())
    }
}

impl From<Scopes> for ScopeList {
    fn from(scopes: Scopes) -> Self {
        ScopeList {
            tokens: scopes
                .iter()
                .map(|scope| ScopeToken(scope.as_str().into()))
                .collect(),
        }
    }
}

impl From<crate::oauth::scope_name::Scope> for ScopeList {
    fn from(scope: crate::oauth::scope_name::Scope) -> Self {
        ScopeList::from(Scopes::from(scope))
    }
}

impl From<ScopeToken> for ScopeList {
    fn from(token: ScopeToken) -> Self {
        ScopeList {
            tokens: vec![token],
        }
    }
}

impl FromIterator<ScopeToken> for ScopeList {
    fn from_iter<I: IntoIterator<Item = ScopeToken>>(iter: I) -> Self {
        let mut list = ScopeList::new();
        list.extend(iter);
        list
    }
}

impl Extend<ScopeToken> for ScopeList {
    /// Adds the names not yet held, in order. The names held are looked up in a hash set, so that a
    /// hostile list (a challenge or a metadata document with hundreds of thousands of names) costs
    /// time in proportion to its length, not to its square.
    fn extend<I: IntoIterator<Item = ScopeToken>>(&mut self, iter: I) {
        let mut held: HashSet<ScopeToken> = self.tokens.iter().cloned().collect();
        for token in iter {
            if !held.contains(&token) {
                held.insert(token.clone());
                self.tokens.push(token);
            }
        }
    }
}

impl IntoIterator for ScopeList {
    type Item = ScopeToken;
    type IntoIter = std::vec::IntoIter<ScopeToken>;

    fn into_iter(self) -> Self::IntoIter {
        self.tokens.into_iter()
    }
}

impl<'a> IntoIterator for &'a ScopeList {
    type Item = &'a ScopeToken;
    type IntoIter = std::slice::Iter<'a, ScopeToken>;

    fn into_iter(self) -> Self::IntoIter {
        self.tokens.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::scope_name::Scope;

    #[test]
    fn tokens_take_nqchar_only() {
        for good in ["a", "mcp:tools", "!#[]~", "offline_access"] {
            assert_eq!(ScopeToken::new(good).unwrap().as_str(), good);
        }
        assert_eq!(ScopeToken::new(""), Err(Error::EmptyScope));
        for (bad, at) in [("a b", 1), ("a\"b", 1), ("ab\\", 2), ("é", 0)] {
            assert_eq!(
                ScopeToken::new(bad),
                Err(Error::InvalidCharacter {
                    field: Field::Scope,
                    index: at
                }),
                "{bad:?}"
            );
        }
        assert!(ScopeToken::new("a\nb").is_err());
    }

    #[test]
    fn lists_keep_first_order_and_drop_repeats() {
        let list: ScopeList = "  b a  b c ".parse().unwrap();
        assert_eq!(list.to_string(), "b a c");
        assert_eq!(list.len(), 3);
        assert_eq!("".parse::<ScopeList>().unwrap(), ScopeList::new());
        assert_eq!(
            "a b\"c".parse::<ScopeList>(),
            Err(Error::InvalidCharacter {
                field: Field::Scope,
                index: 3
            })
        );
        let openid = ScopeList::from(Scope::OpenId | Scope::OfflineAccess);
        assert!(openid.contains("offline_access"));
        assert!(openid.contains_all(&"openid".parse().unwrap()));
        assert!(!openid.contains_all(&"openid mcp".parse().unwrap()));
    }

    #[test]
    fn a_hostile_number_of_names_costs_linear_time() {
        // A resource metadata document or a challenge can list hundreds of thousands of names;
        // dropping repeats must not compare each name with every other one.
        let names: Vec<String> = (0..200_000).map(|i| format!("s{i}")).collect();
        let started = std::time::Instant::now();
        let list: ScopeList = names.join(" ").parse().unwrap();
        let collected: ScopeList = list.iter().cloned().collect();
        let mut extended = list.clone();
        extended.extend(collected.clone());
        assert_eq!(
            (list.len(), collected.len(), extended.len()),
            (200_000, 200_000, 200_000)
        );
        // Quadratic work takes minutes here; linear work well under a second.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn serde_uses_the_wire_form() {
        let list: ScopeList = serde_json::from_str("\"x y\"").unwrap();
        assert_eq!(serde_json::to_string(&list).unwrap(), "\"x y\"");
        assert!(serde_json::from_str::<ScopeList>("\"x \\\"\"").is_err());
    }
}

//! The `prompt` values of OpenID Connect Core section 3.1.2.1, one enum value each, and a set of
//! them.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};
use std::str::FromStr;

use serde_with::{DeserializeFromStr, SerializeDisplay};

use crate::oauth::error::{reject_control_characters, Error, Field};
use crate::oauth::prompt_name::Prompt;

impl FromStr for Prompt {
    type Err = Error;

    /// Parses one wire name, case-sensitively.
    fn from_str(token: &str) -> Result<Self, Error> {
        Prompt::ALL
            .into_iter()
            .find(|prompt| prompt.as_str() == token)
            .ok_or_else(|| Error::UnknownPrompt {
                token: token.to_owned(),
            })
    }
}

/// A set of [`Prompt`] values, the `prompt` of an authorize request, printed in one canonical
/// order: `none login consent select_account`.
///
/// Build it with `|`, from an iterator, or parse the space-separated wire form strictly: an unknown
/// or repeated value, or a stray space, is an error naming it, and so is `none` beside another
/// value, which OpenID Connect Core section 3.1.2.1 forbids. A set built with `|` is checked by
/// [`validate`](Self::validate), which the request's `build` calls. The default is the empty set,
/// which sends no `prompt` at all. Serde reads and writes the wire form.
///
/// ```
/// use workos_connect::oauth::{Prompt, Prompts};
///
/// let prompts = Prompt::Consent | Prompt::Login;
/// assert_eq!(prompts.to_string(), "login consent");
/// assert_eq!("consent login".parse::<Prompts>()?, prompts);
/// assert!("none login".parse::<Prompts>().is_err());
/// assert!((Prompt::None | Prompt::Login).validate().is_err());
/// assert!(Prompts::default().is_empty());
/// # Ok::<(), workos_connect::Error>(())
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, SerializeDisplay, DeserializeFromStr)]
pub struct Prompts {
    bits: u8,
}

impl Prompts {
    /// The empty set: no `prompt` parameter, the server's own choice.
    pub const EMPTY: Prompts = Prompts { bits: 0 };

    /// `none` alone: a login that shows the user no page, answered with an error such as
    /// `login_required` when one would be needed.
    pub const NONE: Prompts = Prompts {
        bits: Prompt::None.bit(),
    };

    /// `login` alone: the user authenticates again.
    pub const LOGIN: Prompts = Prompts {
        bits: Prompt::Login.bit(),
    };

    /// `consent` alone: the user consents again, which some providers require before they issue
    /// a refresh token for `offline_access`.
    pub const CONSENT: Prompts = Prompts {
        bits: Prompt::Consent.bit(),
    };

    /// `select_account` alone: the user picks an account.
    pub const SELECT_ACCOUNT: Prompts = Prompts {
        bits: Prompt::SelectAccount.bit(),
    };

    /// Whether `prompt` is in the set.
    pub const fn contains(self, prompt: Prompt) -> bool {
        self.bits & prompt.bit() != 0
    }

    /// The set with `prompt` added.
    #[must_use]
    pub const fn with(self, prompt: Prompt) -> Prompts {
        Prompts {
            bits: self.bits | prompt.bit(),
        }
    }

    /// The set with `prompt` removed.
    #[must_use]
    pub const fn without(self, prompt: Prompt) -> Prompts {
        Prompts {
            bits: self.bits & !prompt.bit(),
        }
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.bits == 0
    }

    /// How many values the set holds.
    pub const fn len(self) -> usize {
        self.bits.count_ones() as usize
    }

    /// The values in canonical order.
    pub fn iter(self) -> PromptsIter {
        PromptsIter { remaining: self }
    }

    /// Checks the rule OpenID Connect Core section 3.1.2.1 sets for a whole set: `none` stands
    /// alone.
    pub fn validate(self) -> Result<(), Error> {
        if self.contains(Prompt::None) {
            if let Some(other) = self.without(Prompt::None).iter().next() {
                return Err(Error::PromptNoneCombined { other });
            }
        }
        Ok(())
    }

    /// The length of the wire form as a query value, spaces written `%20`.
    pub(crate) fn query_len(self) -> usize {
        let names = self
            .iter()
            .map(|prompt| prompt.as_str().len())
            .fold(0, usize::saturating_add);
        names.saturating_add(self.len().saturating_sub(1).saturating_mul("%20".len()))
    }

    /// Appends the wire form as a query value: the names need no escaping but the spaces.
    pub(crate) fn push_query(self, out: &mut String) {
        for (i, prompt) in self.iter().enumerate() {
            if i > 0 {
                out.push_str("%20");
            }
            out.push_str(prompt.as_str());
        }
    }
}

impl fmt::Debug for Prompts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl fmt::Display for Prompts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, prompt) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(prompt.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for Prompts {
    type Err = Error;

    /// Parses the space-separated wire form strictly, and refuses `none` beside another value. The
    /// empty string is the empty set, so that every printed set reads back.
    fn from_str(input: &str) -> Result<Self, Error> {
        if input.is_empty() {
            return Ok(Prompts::EMPTY);
        }
        reject_control_characters(Field::Prompt, input)?;
        let mut prompts = Prompts::EMPTY;
        let mut index = 0;
        for token in input.split(' ') {
            if token.is_empty() {
                return Err(Error::PromptSeparator { index });
            }
            let prompt: Prompt = token.parse()?;
            if prompts.contains(prompt) {
                return Err(Error::DuplicatePrompt { prompt });
            }
            prompts = prompts.with(prompt);
            index = index.saturating_add(token.len()).saturating_add(1);
        }
        prompts.validate()?;
        Ok(prompts)
    }
}

impl From<Prompt> for Prompts {
    fn from(prompt: Prompt) -> Self {
        Prompts::EMPTY.with(prompt)
    }
}

impl FromIterator<Prompt> for Prompts {
    fn from_iter<I: IntoIterator<Item = Prompt>>(iter: I) -> Self {
        iter.into_iter().fold(Prompts::EMPTY, Prompts::with)
    }
}

impl Extend<Prompt> for Prompts {
    fn extend<I: IntoIterator<Item = Prompt>>(&mut self, iter: I) {
        *self = iter.into_iter().fold(*self, Prompts::with);
    }
}

impl IntoIterator for Prompts {
    type Item = Prompt;
    type IntoIter = PromptsIter;

    fn into_iter(self) -> PromptsIter {
        self.iter()
    }
}

/// The values of a [`Prompts`] in canonical order; see [`Prompts::iter`].
#[derive(Debug, Clone)]
pub struct PromptsIter {
    remaining: Prompts,
}

impl Iterator for PromptsIter {
    type Item = Prompt;

    fn next(&mut self) -> Option<Prompt> {
        let next = Prompt::ALL
            .into_iter()
            .find(|prompt| self.remaining.contains(*prompt))?;
        self.remaining = self.remaining.without(next);
        Some(next)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining.len(), Some(self.remaining.len()))
    }
}

impl ExactSizeIterator for PromptsIter {}

impl BitOr for Prompt {
    type Output = Prompts;
    fn bitor(self, rhs: Prompt) -> Prompts {
        Prompts::from(self).with(rhs)
    }
}

impl BitOr<Prompt> for Prompts {
    type Output = Prompts;
    fn bitor(self, rhs: Prompt) -> Prompts {
        self.with(rhs)
    }
}

impl BitOr for Prompts {
    type Output = Prompts;
    fn bitor(self, rhs: Prompts) -> Prompts {
        Prompts {
            bits: self.bits | rhs.bits,
        }
    }
}

impl BitOrAssign<Prompt> for Prompts {
    fn bitor_assign(&mut self, rhs: Prompt) {
        *self = self.with(rhs);
    }
}

impl BitOrAssign for Prompts {
    fn bitor_assign(&mut self, rhs: Prompts) {
        *self = *self | rhs;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_in_canonical_order_whatever_the_build_order() {
        let prompts: Prompts = [Prompt::SelectAccount, Prompt::Consent, Prompt::Login]
            .into_iter()
            .collect();
        assert_eq!(prompts.to_string(), "login consent select_account");
        assert_eq!(format!("{prompts:?}"), "{Login, Consent, SelectAccount}");
        assert_eq!(Prompts::NONE.to_string(), "none");
        assert_eq!(Prompts::CONSENT, Prompts::from(Prompt::Consent));
        assert_eq!(Prompts::EMPTY.to_string(), "");
    }

    #[test]
    fn every_value_parses_and_unknown_ones_are_named() {
        for prompt in Prompt::ALL {
            assert_eq!(prompt.as_str().parse::<Prompt>(), Ok(prompt));
            assert_eq!(
                prompt.as_str().parse::<Prompts>(),
                Ok(Prompts::from(prompt))
            );
        }
        assert_eq!(
            "Consent".parse::<Prompts>(),
            Err(Error::UnknownPrompt {
                token: "Consent".into()
            })
        );
        assert_eq!(
            "login create".parse::<Prompts>(),
            Err(Error::UnknownPrompt {
                token: "create".into()
            })
        );
    }

    #[test]
    fn parsing_is_strict_and_names_the_fault() {
        assert_eq!(
            "login consent login".parse::<Prompts>(),
            Err(Error::DuplicatePrompt {
                prompt: Prompt::Login
            })
        );
        assert_eq!(
            "login  consent".parse::<Prompts>(),
            Err(Error::PromptSeparator { index: 6 })
        );
        assert_eq!(
            " login".parse::<Prompts>(),
            Err(Error::PromptSeparator { index: 0 })
        );
        assert_eq!(
            "login ".parse::<Prompts>(),
            Err(Error::PromptSeparator { index: 6 })
        );
        assert_eq!(
            "login\tconsent".parse::<Prompts>(),
            Err(Error::ControlCharacter {
                field: Field::Prompt,
                index: 5
            })
        );
        assert_eq!("".parse::<Prompts>(), Ok(Prompts::EMPTY));
    }

    #[test]
    fn none_stands_alone() {
        assert_eq!(
            "none consent".parse::<Prompts>(),
            Err(Error::PromptNoneCombined {
                other: Prompt::Consent
            })
        );
        assert_eq!(
            "select_account none".parse::<Prompts>(),
            Err(Error::PromptNoneCombined {
                other: Prompt::SelectAccount
            })
        );
        assert_eq!(
            (Prompt::None | Prompt::Login).validate(),
            Err(Error::PromptNoneCombined {
                other: Prompt::Login
            })
        );
        assert_eq!(Prompts::NONE.validate(), Ok(()));
        assert_eq!(Prompts::EMPTY.validate(), Ok(()));
        assert_eq!((Prompt::Login | Prompt::Consent).validate(), Ok(()));
        let message = Error::PromptNoneCombined {
            other: Prompt::Login,
        }
        .to_string();
        assert!(message.contains("`login`"), "{message}");
        assert!(message.contains("send one or the other"), "{message}");
    }

    #[test]
    fn every_valid_set_round_trips_and_sizes_its_query_value() {
        for bits in 0..16u8 {
            let prompts = Prompts { bits };
            if prompts.validate().is_err() {
                assert!(prompts.to_string().parse::<Prompts>().is_err());
                continue;
            }
            assert_eq!(prompts.to_string().parse::<Prompts>(), Ok(prompts));
            assert_eq!(prompts.iter().len(), prompts.len());
            let mut query = String::new();
            prompts.push_query(&mut query);
            assert_eq!(query, prompts.to_string().replace(' ', "%20"));
            assert_eq!(query.len(), prompts.query_len());
        }
    }

    #[test]
    fn serde_uses_the_wire_form() {
        let prompts = Prompt::Login | Prompt::Consent;
        assert_eq!(
            serde_json::to_string(&prompts).unwrap(),
            "\"login consent\""
        );
        assert_eq!(
            serde_json::from_str::<Prompts>("\"consent login\"").unwrap(),
            prompts
        );
        assert!(serde_json::from_str::<Prompts>("\"none login\"").is_err());
        assert_eq!(
            serde_json::from_str::<Prompt>("\"select_account\"").unwrap(),
            Prompt::SelectAccount
        );
    }
}

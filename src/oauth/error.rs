//! The error of every constructor and builder: every way an input can be refused.
//!
//! It sits on the bottom floor: scope and prompt errors name the [`Scope`] or [`Prompt`] they are
//! about, whose names sit below it (`scope_name`, `prompt_name`), while the parsing of scopes and
//! prompts sits above it (`scope`, `prompt`).

use std::fmt;

use crate::oauth::prompt_name::Prompt;
use crate::oauth::scope_name::Scope;

/// Which input an [`Error`] is about, named as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// The AuthKit domain ([`AuthKitDomain`](crate::AuthKitDomain)).
    Domain,
    /// `client_id`.
    ClientId,
    /// `redirect_uri`.
    RedirectUri,
    /// `scope`.
    Scope,
    /// `state`.
    State,
    /// `nonce`.
    Nonce,
    /// `code_verifier` (PKCE).
    CodeVerifier,
    /// `client_secret`.
    ClientSecret,
    /// An access token (`AccessToken`).
    AccessToken,
    /// A refresh token (`RefreshToken`).
    RefreshToken,
    /// An ID token (`IdToken`).
    IdToken,
    /// A device code (`DeviceCode`).
    DeviceCode,
    /// `prompt`.
    Prompt,
    /// `login_hint`.
    LoginHint,
}

impl Field {
    /// The parameter name as it appears on the wire (`"AuthKit domain"` for the domain, which has none).
    pub const fn as_str(self) -> &'static str {
        match self {
            Field::Domain => "AuthKit domain",
            Field::ClientId => "client_id",
            Field::RedirectUri => "redirect_uri",
            Field::Scope => "scope",
            Field::State => "state",
            Field::Nonce => "nonce",
            Field::CodeVerifier => "code_verifier",
            Field::ClientSecret => "client_secret",
            Field::AccessToken => "access_token",
            Field::RefreshToken => "refresh_token",
            Field::IdToken => "id_token",
            Field::DeviceCode => "device_code",
            Field::Prompt => "prompt",
            Field::LoginHint => "login_hint",
        }
    }

    /// The characters this field may hold, as a sentence fragment for error messages.
    pub const fn alphabet(self) -> &'static str {
        match self {
            Field::CodeVerifier => "only A-Z, a-z, 0-9 and `-._~` are allowed (RFC 7636 section 4.1)",
            Field::Domain => {
                "only the characters RFC 3986 allows in a URI are allowed; write an international domain name in its `xn--` form"
            }
            Field::RedirectUri => {
                "only printable ASCII without spaces is allowed in a URI (RFC 3986); percent-encode anything else"
            }
            Field::Scope => {
                "scope names are printable ASCII without spaces, `\"` or `\\` (RFC 6749 section 3.3)"
            }
            Field::Prompt => {
                "prompt values are `none`, `login`, `consent` and `select_account`, separated by single \
                 spaces (OpenID Connect Core section 3.1.2.1)"
            }
            Field::LoginHint => {
                "a login hint is text a person could type: no control, bidirectional-override or \
                 invisible characters"
            }
            Field::ClientId
            | Field::State
            | Field::Nonce
            | Field::ClientSecret
            | Field::AccessToken
            | Field::RefreshToken
            | Field::IdToken
            | Field::DeviceCode => {
                "only printable ASCII, %x20-7E, is allowed (RFC 6749 Appendix A)"
            }
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an input was refused.
///
/// Each variant is one cause, and its message says what to change. Messages about secrets (`state`,
/// `nonce`, `code_verifier`) give positions and rules, never the secret's characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A control character (U+0000-U+001F, U+007F-U+009F) appears in an input. URL parsers drop some of
    /// them silently (tab, CR, LF), so they are refused before parsing rather than normalised away.
    #[error("{field} contains a control character at byte {index}; remove it")]
    ControlCharacter {
        /// The input.
        field: Field,
        /// Byte offset of the character.
        index: usize,
    },

    /// A character outside the field's alphabet.
    #[error("{field} has a character it does not allow at byte {index}: {}", field.alphabet())]
    InvalidCharacter {
        /// The input.
        field: Field,
        /// Byte offset of the character.
        index: usize,
    },

    /// A value shorter or longer than its field allows.
    #[error("{field} is {len} characters long; it must be {min} to {max} characters")]
    Length {
        /// The input.
        field: Field,
        /// Its length in characters.
        len: usize,
        /// The shortest allowed length.
        min: usize,
        /// The longest allowed length.
        max: usize,
    },

    /// The AuthKit domain was given without `https://`.
    #[error("AuthKit domain `{input}` has no scheme; write it as `https://{input}`")]
    DomainMissingScheme {
        /// The input as given.
        input: String,
    },

    /// The AuthKit domain is not a URL at all.
    #[error("AuthKit domain `{input}` is not a valid URL ({reason}); expected e.g. `https://example.authkit.app`")]
    DomainNotUrl {
        /// The input as given.
        input: String,
        /// What the URL parser objected to.
        reason: url::ParseError,
    },

    /// The AuthKit domain uses a scheme other than `https` (or `http` on loopback).
    #[error("AuthKit domain must use `https:`, not `{scheme}:`")]
    DomainScheme {
        /// The scheme given.
        scheme: String,
    },

    /// The AuthKit domain uses `http` on a host that is not loopback.
    #[error(
        "AuthKit domain `{host}` must use https; plain http is allowed only on loopback hosts \
         (127.0.0.0/8, [::1], localhost)"
    )]
    DomainInsecureHttp {
        /// The host given.
        host: String,
    },

    /// The AuthKit domain carries a user name or password.
    #[error(
        "AuthKit domain must not contain a user name or password; remove everything before `@`"
    )]
    DomainUserinfo,

    /// The AuthKit domain carries a query string.
    #[error("AuthKit domain must not contain a query; remove `?{query}`")]
    DomainQuery {
        /// The query given, without `?`.
        query: String,
    },

    /// The AuthKit domain carries a fragment.
    #[error("AuthKit domain must not contain a fragment; remove `#{fragment}`")]
    DomainFragment {
        /// The fragment given, without `#`.
        fragment: String,
    },

    /// The AuthKit domain's host is not a DNS name of letters, digits, `-` and `.`.
    #[error(
        "AuthKit domain host `{host}` is not a valid host name; use letters, digits, `-` and `.`"
    )]
    DomainHost {
        /// The host given.
        host: String,
    },

    /// The AuthKit domain's host has an empty label: two dots in a row, or a leading dot.
    #[error("AuthKit domain host `{host}` has an empty label; remove the extra `.`")]
    DomainEmptyLabel {
        /// The host given.
        host: String,
    },

    /// A label of the AuthKit domain's host starts or ends with `-`, which no DNS name does (RFC 1035
    /// section 2.3.1, RFC 1123 section 2.1).
    #[error(
        "AuthKit domain host `{host}` has the label `{label}`, which starts or ends with `-`; \
         a DNS label begins and ends with a letter or digit"
    )]
    DomainLabelHyphen {
        /// The host given.
        host: String,
        /// The label at fault.
        label: String,
    },

    /// A label of the AuthKit domain's host is longer than DNS allows (RFC 1035 section 2.3.4).
    #[error(
        "AuthKit domain host `{host}` has a label of {len} characters; a DNS label is at most \
         {max} characters (RFC 1035 section 2.3.4)"
    )]
    DomainLabelLength {
        /// The host given.
        host: String,
        /// The label's length in characters.
        len: usize,
        /// The longest allowed label.
        max: usize,
    },

    /// The AuthKit domain names port 0, on which no server can be reached.
    #[error(
        "AuthKit domain port 0 cannot be reached; give the port the server listens on, \
         or none for the scheme's default"
    )]
    DomainPort,

    /// The AuthKit domain's host ends with a dot, so that its issuer would not match the tokens' `iss`.
    #[error("AuthKit domain host `{host}` ends with a dot; remove the trailing `.`")]
    DomainTrailingDot {
        /// The host given.
        host: String,
    },

    /// The AuthKit domain has a path other than `/` or `/oauth2/authorize`.
    #[error(
        "AuthKit domain path `{path}` is not supported; give the bare origin \
         (e.g. `https://example.authkit.app`) or its `/oauth2/authorize` URL"
    )]
    DomainPath {
        /// The path given.
        path: String,
    },

    /// `client_id` is empty.
    #[error(
        "client_id is empty; use the client ID of the WorkOS Connect application (`client_...`)"
    )]
    EmptyClientId,

    /// `client_secret` is empty.
    #[error("client_secret is empty; copy the application's client secret from the WorkOS dashboard (`sk_...`)")]
    EmptyClientSecret,

    /// `redirect_uri` is not an absolute URI.
    ///
    /// Like every variant that quotes a redirect URI, it shows the input as given unless the input
    /// has an `@`, which may follow a password: then only its scheme, `…` and the text from its last
    /// `@`.
    #[error(
        "redirect_uri `{input}` is not an absolute URI ({reason}); give a scheme and host, \
         e.g. `https://app.example.com/callback`"
    )]
    RedirectUriNotAbsolute {
        /// The input as given, redacted if it has an `@`.
        input: String,
        /// What the URL parser objected to.
        reason: url::ParseError,
    },

    /// `redirect_uri` has a `%` that does not start a `%HH` escape.
    #[error(
        "redirect_uri has a `%` at byte {index} that is not followed by two hex digits; \
         write a literal percent sign as `%25`"
    )]
    RedirectUriPercentEncoding {
        /// Byte offset of the `%`.
        index: usize,
    },

    /// An `http` or `https` `redirect_uri` without `//` after the scheme, which browsers and URL
    /// parsers disagree on.
    #[error(
        "redirect_uri `{input}` has no `//` after `{scheme}:`; write it as `{scheme}://host/path`"
    )]
    RedirectUriMissingAuthority {
        /// The input as given, redacted if it has an `@`.
        input: String,
        /// Its scheme.
        scheme: String,
    },

    /// `redirect_uri` carries a user name or password. Checked on the raw text before anything that
    /// could quote it.
    #[error("redirect_uri must not contain a user name or password; remove everything up to `@` in its authority")]
    RedirectUriUserinfo,

    /// `redirect_uri` has a host that URL parsers read differently, such as `127.1` for `127.0.0.1`:
    /// the host checked must be the host the browser is sent to.
    #[error("redirect_uri host `{host}` is not in canonical form; write it as `{canonical}`")]
    RedirectUriHostNotCanonical {
        /// The host as given.
        host: String,
        /// The same host in canonical form.
        canonical: String,
    },

    /// `redirect_uri` has a fragment, which RFC 6749 section 3.1.2 forbids.
    #[error("redirect_uri `{input}` has a fragment, which RFC 6749 section 3.1.2 forbids; remove everything from `#`")]
    RedirectUriFragment {
        /// The input as given, redacted if it has an `@`.
        input: String,
    },

    /// `redirect_uri` uses `http` on a host that is not loopback.
    #[error(
        "redirect_uri uses http on non-loopback host `{host}`; use https, or http only on 127.0.0.1, [::1] \
         or localhost (RFC 9700 section 2.6, RFC 8252 section 7.3)"
    )]
    RedirectUriInsecureHttp {
        /// The host given.
        host: String,
    },

    /// `redirect_uri` uses a scheme that is neither `https`, loopback `http`, nor a private-use scheme
    /// named after a domain in reverse order (RFC 8252 section 7.1): two or more labels separated by
    /// dots, each of letters, digits and `-`, none empty or starting or ending with `-`, the first
    /// starting with a letter.
    #[error(
        "redirect_uri scheme `{scheme}:` cannot receive an authorization response; use https, loopback http \
         or a private-use scheme named after a domain you control in reverse order, such as \
         `com.example.app:/callback` (RFC 8252 section 7.1)"
    )]
    RedirectUriScheme {
        /// The scheme given.
        scheme: String,
    },

    /// `redirect_uri`'s query has a parameter that the authorization server adds to the callback:
    /// `code`, `state`, `iss`, `error`, `error_description` or `error_uri`, by its name once decoded.
    #[error(
        "redirect_uri's query already has `{name}`, a parameter the authorization server adds to \
         the callback; the callback could not tell the two apart, so rename or remove yours"
    )]
    RedirectUriResponseParameter {
        /// The parameter's name.
        name: &'static str,
    },

    /// A request without `state`, without PKCE and without `openid`: nothing would tie the callback
    /// to the browser that started the login (RFC 9700 section 2.1).
    #[error(
        "a request without `state` needs another defence against CSRF: add PKCE, or request `openid` \
         and check the ID token's nonce"
    )]
    NoCsrfDefence,

    /// No scope was requested.
    #[error("no scope requested; request at least `openid`")]
    EmptyScope,

    /// A scope name that WorkOS Connect does not know. Scope names are case-sensitive.
    #[error("unknown scope {token:?}; WorkOS Connect accepts `openid`, `profile`, `email` and `offline_access`")]
    UnknownScope {
        /// The unknown name as given.
        token: String,
    },

    /// A scope listed twice.
    #[error("scope `{scope}` is listed twice; list each scope once")]
    DuplicateScope {
        /// The scope listed twice.
        scope: Scope,
    },

    /// An empty entry in a scope string: a leading, trailing or doubled space.
    #[error("scope string has an empty entry at byte {index}; separate scope names with exactly one space")]
    ScopeSeparator {
        /// Byte offset of the empty entry.
        index: usize,
    },

    /// `profile` or `email` requested without `openid`.
    #[error("scope `{scope}` requires `openid`; add `openid` to the scopes")]
    ScopeRequiresOpenId {
        /// The scope that needs `openid`.
        scope: Scope,
    },

    /// A `prompt` value that OpenID Connect does not define. Values are case-sensitive.
    #[error(
        "unknown prompt value {token:?}; OpenID Connect defines `none`, `login`, `consent` and \
         `select_account`"
    )]
    UnknownPrompt {
        /// The unknown value as given.
        token: String,
    },

    /// A `prompt` value listed twice.
    #[error("prompt value `{prompt}` is listed twice; list each value once")]
    DuplicatePrompt {
        /// The value listed twice.
        prompt: Prompt,
    },

    /// An empty entry in a `prompt` string: a leading, trailing or doubled space.
    #[error(
        "prompt string has an empty entry at byte {index}; separate prompt values with exactly one space"
    )]
    PromptSeparator {
        /// Byte offset of the empty entry.
        index: usize,
    },

    /// `prompt=none` combined with another value, which OpenID Connect Core section 3.1.2.1
    /// forbids: `none` asks the server to show no page, the other value asks for one.
    #[error(
        "prompt `none` cannot be combined with `{other}` (OpenID Connect Core section 3.1.2.1): \
         `none` shows the user no page and `{other}` asks for one; send one or the other"
    )]
    PromptNoneCombined {
        /// The value given beside `none`.
        other: Prompt,
    },
}

/// What is wrong with a JSON document, and where, in serde_json's terms but without its message,
/// which can quote the document's values (tokens, secrets).
pub(crate) fn json_fault(error: &serde_json::Error) -> String {
    format!(
        "{:?} error at line {} column {}",
        error.classify(),
        error.line(),
        error.column()
    )
}

/// Refuses control characters, which URL parsers would otherwise drop or keep silently.
pub(crate) fn reject_control_characters(field: Field, input: &str) -> Result<(), Error> {
    match input.char_indices().find(|(_, c)| c.is_control()) {
        Some((index, _)) => Err(Error::ControlCharacter { field, index }),
        None => Ok(()),
    }
}

//! Generic OAuth 2.0 and OpenID Connect: identifiers, endpoints and their URL rules, client IDs
//! and credentials, tokens and the token endpoint's messages, PKCE, secrets, challenges, the
//! request types. The bottom layer: it imports nothing above it.
//!
//! | concept | types | RFC |
//! | --- | --- | --- |
//! | who issues and who receives tokens | [`Issuer`], [`Resource`] | 8414 §2, 8707 §2 |
//! | the client | [`ClientId`], [`RedirectUri`], [`ClientSecret`] | 6749 §2 |
//! | scopes | [`Scope`] and [`Scopes`] (OpenID Connect's four), [`ScopeList`] and [`ScopeToken`] (any) | 6749 §3.3 |
//! | what the login page asks and who it expects | [`Prompt`] and [`Prompts`], [`LoginHint`] | OpenID Connect Core 3.1.2.1 |
//! | one-time secrets | [`State`], [`Nonce`], [`PkceVerifier`] with its [`S256Challenge`] | 6749 §10.12, 7636 |
//! | the authorization response | [`AuthorizeResponse`], [`CallbackCheck`], [`AuthorizationCode`], [`CallbackError`], [`OAuthError`] | 6749 §4.1.2, 9207 |
//! | the token endpoint | [`TokenRequest`], [`TokenResponse`], [`TokenError`], [`AccessToken`], [`RefreshToken`], [`IdToken`] | 6749 §5 |
//! | token types | [`TokenType`], [`SecurityToken`] | 8693 §3 |
//! | a `401`'s `WWW-Authenticate` | [`parse_challenges`], [`Challenge`], [`BearerChallenge`] | 6750 §3, 9728 §5.1 |
//! | a request for any HTTP client | [`HttpRequest`], [`HttpMethod`] | |
//! | the time that checks, builders and logins read, chosen once | [`Clock`], [`SystemClock`] (the default) | |
//!
//! The browser login's own types are also at the crate root.

pub(crate) mod authorize_response;
pub(crate) mod callback;
pub(crate) mod challenge;
pub(crate) mod client_id;
pub(crate) mod clock;
pub(crate) mod credential;
pub(crate) mod encoding;
pub(crate) mod endpoint;
pub(crate) mod error;
pub(crate) mod host_rules;
pub(crate) mod http_request;
pub(crate) mod identifier;
pub(crate) mod json_object;
pub(crate) mod login_hint;
pub(crate) mod pkce;
pub(crate) mod prompt;
pub(crate) mod prompt_name;
pub(crate) mod redirect_uri;
pub(crate) mod scope;
pub(crate) mod scope_list;
pub(crate) mod scope_name;
pub(crate) mod secret;
pub(crate) mod security_token;
pub(crate) mod token;
pub(crate) mod token_request;
pub(crate) mod token_type;

pub use authorize_response::AuthorizeResponse;
pub use callback::{
    AuthorizationCode, CallbackCheck, CallbackError, ErrorCode, OAuthError, DEFAULT_MAX_AGE,
};
pub use challenge::{parse_challenges, BearerChallenge, BearerError, Challenge, ChallengeError};
pub use client_id::ClientId;
pub use clock::{Clock, FixedClock, SystemClock};
pub use credential::{AccessToken, ClientSecret, IdToken, RefreshToken};
pub use endpoint::EndpointError;
pub use error::{Error, Field};
pub use http_request::{HttpMethod, HttpRequest};
pub use identifier::{IdentifierError, Issuer, Resource};
pub use login_hint::LoginHint;
pub use pkce::{PkceVerifier, S256Challenge};
pub use prompt::{Prompts, PromptsIter};
pub use prompt_name::Prompt;
pub use redirect_uri::RedirectUri;
pub use scope::{Scopes, ScopesIter};
pub use scope_list::{ScopeList, ScopeToken};
pub use scope_name::Scope;
pub use secret::{reseed_after_fork, Nonce, State, GENERATED_LEN};
pub use security_token::{SecurityToken, SecurityTokenError};
pub use token::{AccessTokenType, TokenError, TokenResponse};
pub use token_request::TokenRequest;
pub use token_type::{OtherTokenType, TokenType, TokenTypeError};

//! Protecting an API or MCP server with AuthKit access tokens: the resource server's side.
//!
//! | step | types | RFC |
//! | --- | --- | --- |
//! | read the request's token | [`bearer_token`], [`BearerTokenError`] | 6750 §2.1 |
//! | read a `Bearer` or `DPoP` token | [`authorization_token`], [`AuthorizationToken`] | 6750 §2.1, 9449 §7.1 |
//! | take DPoP-bound tokens (features `access-token` and `dpop`, default) | `AccessTokenCheck::dpop` or `require_dpop`, then `AccessTokenCheck::validate_request` (or `validate_dpop`) with the request's method, public URL and `DPoP` headers | 9449 §4.3, §7.1 |
//! | refuse a request at a resource taking DPoP | `AccessTokenCheck::resource_challenge` (`Bearer` and `DPoP` challenges) with `AccessTokenError::dpop_nonce` as `DPoP-Nonce` | 9449 §7.1, §9 |
//! | publish where tokens come from | [`ProtectedResourceMetadata::new`](crate::discovery::ProtectedResourceMetadata::new) served at [`ProtectedResourceMetadata::well_known_url`](crate::discovery::ProtectedResourceMetadata::well_known_url) | 9728 |
//! | check the token (feature `access-token`, default) | `AccessTokenCheck::validate` against a `KeySet` parsed once from the AuthKit domain's JWKS | 7519, 8707, 9068 |
//! | verify a token sent again without its signature (an MCP client sends one token until it expires) | `AccessTokenCheck::remember_verified` | |
//! | read AuthKit's claims: session, organization, role, permissions, entitlements, feature flags, impersonator | `AccessTokenClaims`, `Actor` | 8693 §4.1 (`act`) |
//! | require permissions or an organization (403 `insufficient_scope`) | `AccessTokenCheck::require_permissions`, `AccessTokenCheck::require_organization` | 6750 §3.1 |
//! | require more scopes for one operation, such as an MCP tool (403 `insufficient_scope` naming them all: step-up) | `RequestCheck::check_scopes` | 6750 §3.1 |
//! | keep the keys current; a token naming an unknown key (`AccessTokenError::names_unknown_key`) | `KeyCache`: its `poll` on a timer, `unknown_key` then `finish` | 7517 |
//! | ask the authorization server about an opaque or possibly revoked token | [`introspection_request`], [`Introspection::parse`], then `AccessTokenCheck::check_introspected` | 7662 |
//! | refuse a request | a [`BearerChallenge`](crate::oauth::BearerChallenge) as `WWW-Authenticate` (`AccessTokenCheck::challenge`), with the status of its [`BearerError`](crate::oauth::BearerError) | 6750 §3, 9728 §5.1 |
//! | all of the above for each request, for a web framework's driver: CORS preflights passed on, the `Origin` guard, the token by its scheme, the DPoP proof's URL, the keys to fetch first, the whole answer | `RequestCheck::check` on a `ResourceRequest`: `RequestDecision::Accept`, `Preflight`, `Refuse` (a `Refusal`), `FetchKeys` (then `RequestCheck::resume`) or, with a replay memory shared by the instances, `RecordProof` (then `RequestCheck::recorded`) | 6750, 9449, 9728 |
//! | take pages of any origin (an API: `RequestCheck::api`), or only the resource's own and those allowed (an MCP server: `RequestCheck::mcp_server`) | `OriginPolicy`, `RequestCheck::origin_policy`, `RequestCheck::allowed_origin` | MCP transports (DNS rebinding), Fetch (CORS) |
//!
//! [`workos-connect-axum`](https://docs.rs/workos-connect-axum) drives `RequestCheck` for an axum
//! server, as one tower layer; `examples/actix-api` in the repository drives it for actix-web.
//!
//! Signatures are verified by AWS-LC (feature `aws-lc-rs`, default), with each key parsed once with
//! the key set: a first check costs little more than the one RSA verification it needs, and a
//! remembered one a SHA-256 of the token. A DPoP proof's ES256 signature is verified by AWS-LC too,
//! with the key its header carries parsed once for it. The feature `rust-crypto` verifies in pure
//! Rust instead, about eight times slower for RSA and four for ES256, for targets without a C
//! compiler.
//!
//! What the server writes ([`BearerChallenge`](crate::oauth::BearerChallenge),
//! [`ProtectedResourceMetadata`](crate::discovery::ProtectedResourceMetadata)) is what a client of
//! this crate parses ([`crate::mcp`]).
#![doc = include_str!("../docs/resource_server.md")]

#[cfg(feature = "access-token")]
mod access_token;
#[cfg(feature = "access-token")]
mod access_token_claims;
#[cfg(feature = "access-token")]
mod access_token_error;
#[cfg(feature = "access-token")]
mod allowed_origins;
mod bearer;
#[cfg(all(feature = "access-token", feature = "dpop"))]
mod dpop_bound;
mod introspection;
#[cfg(feature = "access-token")]
mod origin_policy;
#[cfg(all(feature = "access-token", feature = "dpop"))]
mod proof_target;
#[cfg(feature = "access-token")]
mod refusal;
#[cfg(feature = "access-token")]
mod request_check;
#[cfg(feature = "access-token")]
mod request_decision;
#[cfg(all(feature = "access-token", feature = "dpop"))]
mod resource_challenge;
#[cfg(feature = "access-token")]
mod resource_request;
#[cfg(feature = "access-token")]
mod verified_tokens;

#[cfg(feature = "access-token")]
pub use access_token::AccessTokenCheck;
#[cfg(feature = "access-token")]
pub use access_token_claims::{AccessTokenClaims, Actor, Confirmation};
#[cfg(feature = "access-token")]
pub use access_token_error::AccessTokenError;
pub use bearer::{
    authorization_token, bearer_token, AuthorizationToken, BearerTokenError, TokenScheme,
};
pub use introspection::{
    introspection_request, IntrospectedToken, Introspection, IntrospectionError,
};
#[cfg(feature = "access-token")]
pub use origin_policy::OriginPolicy;
#[cfg(feature = "access-token")]
pub use refusal::{Refusal, RefusalReason};
#[cfg(feature = "access-token")]
pub use request_check::{RequestCheck, RequestCheckError};
#[cfg(feature = "access-token")]
pub use request_decision::{
    AcceptedRequest, AwaitingKeys, ProofToRecord, ReplayRecord, RequestDecision,
};
#[cfg(all(feature = "access-token", feature = "dpop"))]
pub use resource_challenge::ResourceChallenge;
#[cfg(feature = "access-token")]
pub use resource_request::ResourceRequest;

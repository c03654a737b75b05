//! Generic OAuth 2.0 and OpenID Connect: identifiers, endpoints and their URL rules, client IDs
//! and credentials, tokens and the token endpoint's messages, PKCE, secrets, challenges, the
//! request types. The bottom layer: it imports nothing above it.

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
#[cfg(feature = "http")]
pub(crate) mod http_interop;
pub(crate) mod http_request;
pub(crate) mod identifier;
pub(crate) mod json_object;
pub(crate) mod pkce;
pub(crate) mod redirect_uri;
pub(crate) mod scope;
pub(crate) mod scope_list;
pub(crate) mod scope_name;
pub(crate) mod secret;
pub(crate) mod security_token;
pub(crate) mod token;
pub(crate) mod token_request;
pub(crate) mod token_type;

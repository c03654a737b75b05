//! Checking an AuthKit access token (a JWT signed with the keys at `/oauth2/jwks`) where a resource
//! server receives it: signature, issuer, audience, lifetime and scopes, each failure with the status
//! and challenge RFC 6750 gives it.

use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

use crate::challenge::{BearerChallenge, BearerError};
use crate::claim_values::{numeric_date, one_or_many};
use crate::clock::unix_now;
use crate::credential::AccessToken;
use crate::identifier::{Issuer, Resource};
use crate::jws::{check_lifetime, verify, JwsError, DEFAULT_LEEWAY_SECS, MAX_LEEWAY_SECS};
use crate::key_set::KeySet;
use crate::resource_server::bearer::BearerTokenError;
use crate::resource_server::introspection::IntrospectedToken;
use crate::scope_list::ScopeList;

/// The claims of a checked AuthKit access token.
///
/// Named: `iss`, `sub` (the user, or the application's client ID for machine-to-machine tokens),
/// `aud`, `client_id`, `org_id`, `sid` (user tokens only), `scope`, `jti`, `exp`, `iat`; any other
/// claim is read with [`claim`](Self::claim).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AccessTokenClaims {
    /// The issuer, the AuthKit domain.
    pub iss: String,
    /// The subject: a user ID, or a client ID for a machine-to-machine token.
    pub sub: String,
    /// The audiences: this resource, among them.
    pub aud: Vec<String>,
    /// The client the token was issued to.
    pub client_id: Option<String>,
    /// The organization the user signed in to, if any.
    pub org_id: Option<String>,
    /// The session, for user tokens.
    pub sid: Option<String>,
    /// The scopes granted.
    pub scope: ScopeList,
    /// The token's unique ID.
    pub jti: Option<String>,
    /// Expiry, in seconds since the Unix epoch.
    pub exp: u64,
    /// Issue time, in seconds since the Unix epoch.
    pub iat: Option<u64>,
    other: Map<String, Value>,
}

impl AccessTokenClaims {
    /// A claim this type does not name (`role`, `permissions`, `feature_flags`, ...).
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.other.get(name)
    }
}

/// The claims as they arrive, each optional so that a missing one is named.
#[derive(Deserialize)]
struct RawClaims {
    iss: Option<String>,
    sub: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    aud: Vec<String>,
    client_id: Option<String>,
    org_id: Option<String>,
    sid: Option<String>,
    scope: Option<String>,
    jti: Option<String>,
    #[serde(default, deserialize_with = "numeric_date")]
    exp: Option<u64>,
    #[serde(default, deserialize_with = "numeric_date")]
    iat: Option<u64>,
    #[serde(default, deserialize_with = "numeric_date")]
    nbf: Option<u64>,
    #[serde(flatten)]
    other: Map<String, Value>,
}

/// Why an access token was refused. Each maps to RFC 6750's `error` ([`bearer_error`](Self::bearer_error))
/// and HTTP status ([`status`](Self::status)): `insufficient_scope` and 403 when the token is good
/// but lacks scopes, `invalid_token` and 401 otherwise. No message quotes the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccessTokenError {
    /// Not a JWT: not three base64url parts, or a header or claims that are not the expected JSON.
    #[error("the access token is not a well-formed JWT")]
    Malformed,
    /// A signature algorithm this crate does not accept (`none`, HMAC, EdDSA, or unknown).
    #[error("the access token is signed with {alg:?}, which is not accepted; only RSA and ECDSA algorithms are")]
    UnsupportedAlgorithm {
        /// The algorithm named in the header.
        alg: String,
    },
    /// The header lists `crit` extensions (RFC 7515 section 4.1.11), which this crate does not
    /// understand.
    #[error(
        "the access token's header has `crit` extensions, which this crate does not understand"
    )]
    CriticalHeader,
    /// No key in the set has the token's `kid`. When `refetch` is true, fetch the JWKS again and
    /// check once more; when false, the set was fetched too recently to ask again.
    #[error(
        "no key in the JWKS matches the access token's key ID {kid:?}{}",
        if *refetch { "; fetch the JWKS again" } else { "" }
    )]
    UnknownKey {
        /// The key ID in the token's header.
        kid: Option<String>,
        /// Whether the set may be fetched again now.
        refetch: bool,
    },
    /// The header's `typ` is not an access token's (`JWT`, `at+jwt`).
    #[error("the token's `typ` is {typ:?}, not an access token's")]
    WrongType {
        /// The `typ` in the header.
        typ: String,
    },
    /// Keys with the token's `kid` exist, but none is for this algorithm.
    #[error("the JWKS key {kid:?} is not for {alg} signatures")]
    KeyMismatch {
        /// The key ID.
        kid: Option<String>,
        /// The algorithm in the token's header.
        alg: String,
    },
    /// The signature does not verify.
    #[error("the access token's signature does not verify")]
    BadSignature,
    /// A required claim is missing.
    #[error("the access token has no `{claim}` claim")]
    MissingClaim {
        /// The claim.
        claim: &'static str,
    },
    /// `iss` is not the expected issuer.
    #[error("the access token's issuer is not `{expected}`")]
    WrongIssuer {
        /// The issuer expected.
        expected: String,
    },
    /// `aud` does not name this resource: a token minted for another resource (RFC 8707's point),
    /// which must not be accepted here.
    #[error("the access token is not for this resource (`{expected}`)")]
    WrongAudience {
        /// The audience expected.
        expected: String,
    },
    /// `exp` has passed, beyond the leeway.
    #[error("the access token has expired")]
    Expired,
    /// `iat` or `nbf` lies in the future, beyond the leeway.
    #[error("the access token is not valid yet")]
    NotYetValid,
    /// An active introspection answer whose `token_type` is neither `Bearer` (RFC 7662 section 2.2)
    /// nor AuthKit's `access_token`: a refresh token (`refresh_token`), or a DPoP-bound token
    /// (`DPoP`), whose proof of possession this check does not verify. Neither may be accepted as a
    /// bearer access token.
    #[error("the introspected token is a {token_type:?} token, not a bearer access token")]
    NotBearer {
        /// The `token_type` the server gave: at most its first 64 characters, which the message
        /// shows escaped.
        token_type: String,
    },
    /// A good token without the scopes this request needs.
    #[error("the access token lacks the scopes `{missing}`")]
    InsufficientScope {
        /// The scopes required and not granted.
        missing: ScopeList,
    },
}

impl From<JwsError> for AccessTokenError {
    fn from(error: JwsError) -> Self {
        match error {
            JwsError::Malformed => AccessTokenError::Malformed,
            JwsError::UnsupportedAlgorithm { alg } => {
                AccessTokenError::UnsupportedAlgorithm { alg }
            }
            JwsError::CriticalHeader => AccessTokenError::CriticalHeader,
            JwsError::UnknownKey { kid, refetch } => AccessTokenError::UnknownKey { kid, refetch },
            JwsError::WrongType { typ } => AccessTokenError::WrongType { typ },
            JwsError::KeyMismatch { kid, alg } => AccessTokenError::KeyMismatch { kid, alg },
            JwsError::BadSignature => AccessTokenError::BadSignature,
            JwsError::Expired => AccessTokenError::Expired,
            JwsError::NotYetValid => AccessTokenError::NotYetValid,
        }
    }
}

impl AccessTokenError {
    /// RFC 6750's `error` for the challenge: `insufficient_scope` or `invalid_token`.
    pub fn bearer_error(&self) -> BearerError {
        match self {
            AccessTokenError::InsufficientScope { .. } => BearerError::InsufficientScope,
            _ => BearerError::InvalidToken,
        }
    }

    /// The HTTP status to answer with: 403 for insufficient scope, 401 otherwise.
    pub fn status(&self) -> u16 {
        self.bearer_error().status()
    }

    /// The `error_description` sent to the client: fixed text, never the token's own values (its
    /// `kid`, `alg` or `typ`, which a caller chooses and would lengthen the answer) nor this
    /// server's settings. Log the error's `Display` on the server instead.
    pub fn description(&self) -> &'static str {
        match self {
            AccessTokenError::Expired => "the access token has expired",
            AccessTokenError::NotYetValid => "the access token is not valid yet",
            AccessTokenError::InsufficientScope { .. } => "the access token lacks a required scope",
            AccessTokenError::WrongAudience { .. } => "the access token is not for this resource",
            AccessTokenError::Malformed => "the access token is malformed",
            AccessTokenError::NotBearer { .. } => "the token is not a bearer access token",
            _ => "the access token is invalid",
        }
    }

    /// Whether the token names a key the set lacks: ask your [`KeyCache`](crate::KeyCache)
    /// ([`unknown_key`](crate::KeyCache::unknown_key)) whether to fetch the set again, and check the
    /// token once more with the new set. The cache is what limits those fetches.
    pub fn names_unknown_key(&self) -> bool {
        matches!(self, AccessTokenError::UnknownKey { .. })
    }

    /// Whether the token names a key the set lacks and the set itself is older than its
    /// [refetch interval](crate::KeySet::refetch_interval).
    ///
    /// This is worked out from the set's own age alone: after a failed fetch it stays true for
    /// every later token naming an unknown key, and concurrent requests all see it at once. It
    /// does not limit fetches; [`KeyCache`](crate::KeyCache) does (with
    /// [`names_unknown_key`](Self::names_unknown_key)).
    pub fn should_refetch_keys(&self) -> bool {
        matches!(self, AccessTokenError::UnknownKey { refetch: true, .. })
    }
}

/// `iss` and `aud` are compared as strings (RFC 7519 section 2: StringOrURI values are compared
/// case-sensitively, without normalisation), allowing only a trailing `/`, which URL libraries add
/// to a bare origin.
fn same_identifier(received: &str, expected: &str) -> bool {
    received == expected
        || received.strip_suffix('/') == Some(expected)
        || expected.strip_suffix('/') == Some(received)
}

/// The most of a server's `token_type` an error keeps: enough to name any registered type.
const SHOWN_TOKEN_TYPE_CHARS: usize = 64;

/// An introspected `token_type` naming a bearer access token: `Bearer` (RFC 7662 section 2.2, with
/// RFC 6749 section 7.1's names, compared case-insensitively as section 5.1 says), or `access_token`,
/// which AuthKit's introspection endpoint answers instead (the name of RFC 7662 section 2.1's token
/// type hint), calling a refresh token `refresh_token`.
fn is_bearer_access_token(token_type: &str) -> bool {
    ["Bearer", "access_token"]
        .iter()
        .any(|accepted| token_type.eq_ignore_ascii_case(accepted))
}

/// `JWT` or `at+jwt` (RFC 9068), or absent.
fn is_access_token_type(typ: &str) -> bool {
    ["JWT", "at+jwt", "application/at+jwt"]
        .iter()
        .any(|accepted| typ.eq_ignore_ascii_case(accepted))
}

/// The checks a resource server makes on each request's access token: made once, used for every
/// request (it holds no lock and reads no key set).
///
/// ```
/// use workos_connect::resource_server::AccessTokenCheck;
///
/// let check = AccessTokenCheck::new(
///     "https://example.authkit.app".parse()?,
///     "https://api.example.com/mcp".parse()?,
/// )
/// .require_scopes("mcp:tools".parse()?);
/// // Per request: `check.validate(&token, &keys)`, then on error answer `error.status()` with
/// // `check.challenge(&error, metadata_url)` as `WWW-Authenticate`.
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "call `validate` for each request"]
pub struct AccessTokenCheck {
    issuer: Issuer,
    audience: String,
    required_scopes: ScopeList,
    leeway_secs: u64,
    now: Option<u64>,
}

impl AccessTokenCheck {
    /// Tokens issued by `issuer` (the AuthKit domain) for `resource` (the `resource` indicator
    /// clients request, which AuthKit puts in `aud`).
    pub fn new(issuer: Issuer, resource: Resource) -> Self {
        AccessTokenCheck {
            issuer,
            audience: resource.as_str().to_owned(),
            required_scopes: ScopeList::new(),
            leeway_secs: DEFAULT_LEEWAY_SECS,
            now: None,
        }
    }

    /// Tokens issued by `issuer` with the audience `audience`, for an AuthKit environment without
    /// resource indicators, whose tokens name the environment's client ID instead.
    ///
    /// Prefer [`new`](Self::new) with a resource: with the client ID as audience, any token for that
    /// client passes, for every API of the environment alike, and an ID token of the same client
    /// (also signed by the domain's keys, with `typ` `JWT`) cannot be told from an access token.
    pub fn with_audience(issuer: Issuer, audience: impl Into<String>) -> Self {
        AccessTokenCheck {
            issuer,
            audience: audience.into(),
            required_scopes: ScopeList::new(),
            leeway_secs: DEFAULT_LEEWAY_SECS,
            now: None,
        }
    }

    /// Scopes every token must carry (none by default).
    pub fn require_scopes(mut self, scopes: ScopeList) -> Self {
        self.required_scopes = scopes;
        self
    }

    /// The scopes required.
    pub fn required_scopes(&self) -> &ScopeList {
        &self.required_scopes
    }

    /// Clock skew allowed on `exp`, `nbf` and `iat` (60 seconds by default, at most a day).
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.leeway_secs = seconds.min(MAX_LEEWAY_SECS);
        self
    }

    /// Checks as if it were `unix_seconds` now, for tests.
    pub fn at(mut self, unix_seconds: u64) -> Self {
        self.now = Some(unix_seconds);
        self
    }

    /// Checks `token` against `keys`: the signature with a key its `kid` names, for that key's
    /// algorithm only; `iss`; `aud` naming this resource; `exp`, `nbf` and `iat` within the leeway;
    /// then the required scopes.
    pub fn validate(
        &self,
        token: &AccessToken,
        keys: &KeySet,
    ) -> Result<AccessTokenClaims, AccessTokenError> {
        let now = self.now.unwrap_or_else(unix_now);
        let raw: RawClaims = verify(token.secret(), keys, now, is_access_token_type)?;
        let missing = |claim| AccessTokenError::MissingClaim { claim };
        let iss = raw.iss.ok_or_else(|| missing("iss"))?;
        self.check_issuer(&iss)?;
        self.check_audience(&raw.aud)?;
        let exp = raw.exp.ok_or_else(|| missing("exp"))?;
        check_lifetime(exp, raw.iat, raw.nbf, now, self.leeway_secs)?;
        let sub = raw
            .sub
            .filter(|sub| !sub.is_empty())
            .ok_or_else(|| missing("sub"))?;
        let scope = ScopeList::of_valid_names(raw.scope.as_deref().unwrap_or_default().split(' '));
        self.check_scopes(&scope)?;
        Ok(AccessTokenClaims {
            iss,
            sub,
            aud: raw.aud,
            client_id: raw.client_id,
            org_id: raw.org_id,
            sid: raw.sid,
            scope,
            jti: raw.jti,
            exp,
            iat: raw.iat,
            other: raw.other,
        })
    }

    /// Checks what the authorization server said about an active token
    /// ([`Introspection::Active`](crate::resource_server::Introspection::Active)) as [`validate`](Self::validate)
    /// checks a JWT's claims: `token_type`, when given, is `Bearer` in any case or AuthKit's
    /// `access_token` (not a refresh token, nor a DPoP-bound token whose proof this check does not
    /// see); `iss`, when given, is the issuer;
    /// `aud` names this resource (an answer without `aud` cannot show that the token was issued for
    /// it, RFC 8707); `exp` and `iat`, when given, within the leeway; and the required scopes.
    ///
    /// ```
    /// use workos_connect::resource_server::{AccessTokenCheck, AccessTokenError, Introspection};
    ///
    /// let check = AccessTokenCheck::new(
    ///     "https://example.authkit.app".parse()?,
    ///     "https://api.example.com/mcp".parse()?,
    /// )
    /// .require_scopes("mcp:tools".parse()?);
    /// let answer = br#"{"active":true,"aud":"https://api.example.com/mcp","scope":"openid","sub":"user_01"}"#;
    /// let Introspection::Active(token) = Introspection::parse(200, answer)? else { panic!() };
    /// let refused = check.check_introspected(&token).unwrap_err();
    /// assert!(matches!(refused, AccessTokenError::InsufficientScope { .. }));
    /// assert_eq!(refused.status(), 403);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_introspected(&self, token: &IntrospectedToken) -> Result<(), AccessTokenError> {
        // An active refresh token is still no access token: `active` alone says nothing of the kind.
        if let Some(token_type) = token
            .token_type
            .as_deref()
            .filter(|typ| !is_bearer_access_token(typ))
        {
            return Err(AccessTokenError::NotBearer {
                token_type: token_type.chars().take(SHOWN_TOKEN_TYPE_CHARS).collect(),
            });
        }
        if let Some(iss) = &token.iss {
            self.check_issuer(iss)?;
        }
        self.check_audience(&token.aud)?;
        let now = self.now.unwrap_or_else(unix_now);
        // RFC 7662 makes `exp` optional; the server has just said the token is active.
        check_lifetime(
            token.exp.unwrap_or(u64::MAX),
            token.iat,
            None,
            now,
            self.leeway_secs,
        )?;
        self.check_scopes(&token.scope)
    }

    fn check_issuer(&self, iss: &str) -> Result<(), AccessTokenError> {
        if same_identifier(iss, self.issuer.as_str()) {
            Ok(())
        } else {
            Err(AccessTokenError::WrongIssuer {
                expected: self.issuer.to_string(),
            })
        }
    }

    /// One of `aud` names this resource: the same text, allowing only a trailing `/`.
    fn check_audience(&self, aud: &[String]) -> Result<(), AccessTokenError> {
        if aud.iter().any(|aud| same_identifier(aud, &self.audience)) {
            Ok(())
        } else {
            Err(AccessTokenError::WrongAudience {
                expected: self.audience.clone(),
            })
        }
    }

    fn check_scopes(&self, granted: &ScopeList) -> Result<(), AccessTokenError> {
        let missing: ScopeList = self
            .required_scopes
            .iter()
            .filter(|required| !granted.contains(required.as_str()))
            .cloned()
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(AccessTokenError::InsufficientScope { missing })
        }
    }

    /// The challenge for a request whose `Authorization` header could not be read: no `error` when
    /// it had no bearer token, `invalid_request` and what to fix when the header was malformed or
    /// repeated (answer with [`BearerTokenError::status`]).
    pub fn request_challenge(
        &self,
        error: &BearerTokenError,
        resource_metadata: Url,
    ) -> BearerChallenge {
        BearerChallenge {
            error: error.bearer_error(),
            error_description: error.description().map(str::to_owned),
            ..self.challenge(None, resource_metadata)
        }
    }

    /// The `WWW-Authenticate` challenge for a refused request: the error, its fixed description, the
    /// scopes this check requires (so a client knows what to ask for), and where the resource's
    /// metadata is (RFC 9728 section 5.1).
    ///
    /// ```
    /// use workos_connect::resource_server::{AccessTokenCheck, AccessTokenError};
    ///
    /// let check = AccessTokenCheck::new("https://example.authkit.app".parse()?, "https://api.example.com/mcp".parse()?)
    ///     .require_scopes("mcp:tools".parse()?);
    /// let metadata = "https://api.example.com/.well-known/oauth-protected-resource/mcp".parse()?;
    /// let challenge = check.challenge(Some(&AccessTokenError::Expired), metadata);
    /// assert_eq!(
    ///     challenge.to_string(),
    ///     r#"Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp:tools", error="invalid_token", error_description="the access token has expired""#
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn challenge(
        &self,
        error: Option<&AccessTokenError>,
        resource_metadata: Url,
    ) -> BearerChallenge {
        BearerChallenge {
            resource_metadata: Some(resource_metadata),
            scope: (!self.required_scopes.is_empty()).then(|| self.required_scopes.to_string()),
            error: error.map(AccessTokenError::bearer_error),
            error_description: error.map(|error| error.description().to_owned()),
            ..BearerChallenge::default()
        }
    }
}

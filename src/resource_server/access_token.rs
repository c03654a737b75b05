//! Checking an AuthKit access token (a JWT signed with the keys at `/oauth2/jwks`) where a resource
//! server receives it: signature, issuer, audience, lifetime and scopes, each failure with the status
//! and challenge RFC 6750 gives it.

use serde_json::Value;
use url::Url;

use crate::jose::jws::{check_lifetime, verify, SignedBy, DEFAULT_LEEWAY_SECS, MAX_LEEWAY_SECS};
use crate::jose::key_set::KeySet;
use crate::oauth::challenge::BearerChallenge;
use crate::oauth::clock::{Clock, ClockHandle};
use crate::oauth::credential::AccessToken;
use crate::oauth::identifier::{Issuer, Resource};
use crate::oauth::scope_list::ScopeList;
use crate::resource_server::access_token_claims::{AccessTokenClaims, Claims, RawClaims};
use crate::resource_server::access_token_error::AccessTokenError;
use crate::resource_server::bearer::BearerTokenError;
use crate::resource_server::introspection::IntrospectedToken;
use crate::resource_server::verified_tokens::VerifiedTokens;

#[cfg(feature = "dpop")]
use crate::dpop::DpopProofCheck;

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
    /// The resource `audience` names, when the check was made for one.
    resource: Option<Resource>,
    required_scopes: ScopeList,
    required_permissions: Vec<String>,
    organization: Option<String>,
    leeway_secs: u64,
    clock: ClockHandle,
    verified: Option<VerifiedTokens>,
    /// Whether `remember_verified` was called, `0` included, so that a `RequestCheck` keeps the
    /// choice rather than its own default.
    remember_chosen: bool,
    /// The check of DPoP proofs, when DPoP-bound tokens are taken.
    #[cfg(feature = "dpop")]
    pub(super) dpop: Option<DpopProofCheck>,
    /// Whether only DPoP-bound tokens are taken.
    #[cfg(feature = "dpop")]
    pub(super) dpop_required: bool,
}

impl AccessTokenCheck {
    /// Tokens issued by `issuer` (the AuthKit domain) for `resource` (the `resource` indicator
    /// clients request, which AuthKit puts in `aud`).
    pub fn new(issuer: Issuer, resource: Resource) -> Self {
        AccessTokenCheck {
            resource: Some(resource.clone()),
            ..Self::with_audience(issuer, resource.as_str())
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
            resource: None,
            required_scopes: ScopeList::new(),
            required_permissions: Vec::new(),
            organization: None,
            leeway_secs: DEFAULT_LEEWAY_SECS,
            clock: ClockHandle::default(),
            verified: None,
            remember_chosen: false,
            #[cfg(feature = "dpop")]
            dpop: None,
            #[cfg(feature = "dpop")]
            dpop_required: false,
        }
    }

    /// Remembers up to `max_tokens` verified tokens, so that a token seen again is not verified
    /// again: its check costs a SHA-256 of the token and a look-up, under a microsecond, where a
    /// signature costs tens. `0` remembers none (the default here; a
    /// [`RequestCheck`](crate::resource_server::RequestCheck) remembers
    /// [`DEFAULT_REMEMBERED_TOKENS`](crate::resource_server::RequestCheck::DEFAULT_REMEMBERED_TOKENS)
    /// unless this was called).
    ///
    /// Tokens are remembered by a hash, never as themselves, and shared by this check's clones. A
    /// remembered token is used only while the key set passed to [`validate`](Self::validate)
    /// still holds the key that verified it; its times (`exp`, `nbf`, `iat`) and this check's
    /// scopes, permissions and organization are checked on every call. Each entry is about the
    /// size of the token's claims (one to two kilobytes for AuthKit's).
    ///
    /// ```
    /// use workos_connect::resource_server::AccessTokenCheck;
    ///
    /// let check = AccessTokenCheck::new(
    ///     "https://example.authkit.app".parse()?,
    ///     "https://api.example.com/mcp".parse()?,
    /// )
    /// .remember_verified(10_000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remember_verified(mut self, max_tokens: usize) -> Self {
        self.verified = (max_tokens > 0).then(|| VerifiedTokens::new(max_tokens));
        self.remember_chosen = true;
        self
    }

    /// Permissions every token must carry in its `permissions` claim, which AuthKit fills from the
    /// user's roles in the organization (none by default). A token without them is refused with
    /// [`AccessTokenError::MissingPermissions`] (403, `insufficient_scope`).
    pub fn require_permissions<I, P>(mut self, permissions: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        self.required_permissions = permissions.into_iter().map(Into::into).collect();
        self
    }

    /// The organization every token must be for (its `org_id`, as `org_01...`), for a server that
    /// serves one organization. A token for another, or for none, is refused with
    /// [`AccessTokenError::WrongOrganization`] (403, `insufficient_scope`).
    pub fn require_organization(mut self, organization_id: impl Into<String>) -> Self {
        self.organization = Some(organization_id.into());
        self
    }

    /// Scopes every token must carry (none by default).
    pub fn require_scopes(mut self, scopes: ScopeList) -> Self {
        self.required_scopes = scopes;
        self
    }

    #[cfg(test)]
    pub(crate) fn remembers_any(&self) -> bool {
        self.verified.is_some()
    }

    /// Whether [`remember_verified`](Self::remember_verified) was called, with `0` or more.
    pub(crate) fn remember_chosen(&self) -> bool {
        self.remember_chosen
    }

    /// The scopes required.
    pub fn required_scopes(&self) -> &ScopeList {
        &self.required_scopes
    }

    /// The issuer whose tokens are taken.
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// The resource the tokens must be for, when the check was made with [`new`](Self::new);
    /// `None` when made [`with_audience`](Self::with_audience).
    pub fn resource(&self) -> Option<&Resource> {
        self.resource.as_ref()
    }

    /// Clock skew allowed on `exp`, `nbf` and `iat` (60 seconds by default, at most a day).
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.leeway_secs = seconds.min(MAX_LEEWAY_SECS);
        self
    }

    /// Reads the time from `clock` rather than the system clock; a
    /// [`FixedClock`](crate::oauth::FixedClock) in tests. Clones share it. A DPoP proof is judged at
    /// the moment its token is, by this clock, whatever the proof check's own.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = ClockHandle::new(clock);
        self
    }

    /// Checks `token` against `keys`: the signature with a key its `kid` names, for that key's
    /// algorithm only; `iss`; `aud` naming this resource; `exp`, `nbf` and `iat` within the leeway;
    /// that it is a bearer token, not one bound to a key (`cnf`, RFC 9449 section 7.2); then the
    /// required scopes, permissions and organization. With
    /// [`require_dpop`](Self::require_dpop), every bearer token is refused
    /// ([`AccessTokenError::DpopRequired`]).
    pub fn validate(
        &self,
        token: &AccessToken,
        keys: &KeySet,
    ) -> Result<AccessTokenClaims, AccessTokenError> {
        self.validate_at(token, keys, self.now_secs())
    }

    /// [`validate`](Self::validate) at `now`, in Unix seconds.
    pub(super) fn validate_at(
        &self,
        token: &AccessToken,
        keys: &KeySet,
        now: u64,
    ) -> Result<AccessTokenClaims, AccessTokenError> {
        #[cfg(feature = "dpop")]
        if self.dpop_required {
            return Err(AccessTokenError::DpopRequired);
        }
        let claims = self.verified(token, keys, now)?;
        // Sent as a bearer token, a token bound to a key would pass without its proof; no binding
        // (DPoP's `jkt`, mutual TLS's `x5t#S256`) is checked here.
        if claims.cnf().is_some() {
            return Err(AccessTokenError::BoundToKey);
        }
        self.check_grants(&claims)?;
        Ok(claims)
    }

    /// The time by the clock chosen with [`clock`](Self::clock).
    pub(crate) fn now(&self) -> std::time::SystemTime {
        self.clock.now()
    }

    /// Now in Unix seconds, by the clock chosen with [`clock`](Self::clock).
    pub(super) fn now_secs(&self) -> u64 {
        self.clock.now_secs()
    }

    /// The token's claims once it is verified (or remembered as verified) and within its times at
    /// `now`. A token naming a key the set lacks is refused before any signature is checked.
    pub(super) fn verified(
        &self,
        token: &AccessToken,
        keys: &KeySet,
        now: u64,
    ) -> Result<AccessTokenClaims, AccessTokenError> {
        if self.verified.is_none() {
            return self.verify(token, keys, now).map(|(claims, _)| claims);
        }
        self.verified_hashed(token, &VerifiedTokens::digest(token.secret()), keys, now)
    }

    /// [`verified`](Self::verified) with `digest`, the token's
    /// [`VerifiedTokens::digest`], computed by a caller that needs it too.
    pub(super) fn verified_hashed(
        &self,
        token: &AccessToken,
        digest: &[u8; 32],
        keys: &KeySet,
        now: u64,
    ) -> Result<AccessTokenClaims, AccessTokenError> {
        let Some(verified_tokens) = &self.verified else {
            return self.verify(token, keys, now).map(|(claims, _)| claims);
        };
        if let Some(verified) = verified_tokens.get(digest, keys) {
            let claims = verified.claims;
            if let Err(error) = self.check_times(claims.exp(), claims.iat(), verified.nbf, now) {
                verified_tokens.forget(digest);
                return Err(error);
            }
            return Ok(claims);
        }
        let (claims, (nbf, signed_by)) = self.verify(token, keys, now)?;
        verified_tokens.insert(*digest, claims.clone(), nbf, signed_by);
        Ok(claims)
    }

    /// Everything but the grants: the signature, the claims read, `iss`, `aud` and the times.
    /// Also gives `nbf` and the key that verified the token, for remembering it.
    fn verify(
        &self,
        token: &AccessToken,
        keys: &KeySet,
        now: u64,
    ) -> Result<(AccessTokenClaims, (Option<u64>, SignedBy)), AccessTokenError> {
        let (raw, signed_by): (RawClaims, _) =
            verify(token.secret(), keys, now, is_access_token_type)?;
        let missing = |claim| AccessTokenError::MissingClaim { claim };
        let iss = raw.iss.ok_or_else(|| missing("iss"))?;
        self.check_issuer(&iss)?;
        self.check_audience(&raw.aud)?;
        let exp = raw.exp.ok_or_else(|| missing("exp"))?;
        self.check_times(exp, raw.iat, raw.nbf, now)?;
        let sub = raw
            .sub
            .filter(|sub| !sub.is_empty())
            .ok_or_else(|| missing("sub"))?;
        let scope = ScopeList::of_valid_names(raw.scope.as_deref().unwrap_or_default().split(' '));
        let claims = AccessTokenClaims::new(Claims {
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
            role: raw.role,
            roles: raw.roles,
            permissions: raw.permissions,
            entitlements: raw.entitlements,
            feature_flags: raw.feature_flags,
            act: raw.act,
            cnf: raw.cnf,
            other: raw.other,
        });
        Ok((claims, (raw.nbf, signed_by)))
    }

    fn check_times(
        &self,
        exp: u64,
        iat: Option<u64>,
        nbf: Option<u64>,
        now: u64,
    ) -> Result<(), AccessTokenError> {
        Ok(check_lifetime(exp, iat, nbf, now, self.leeway_secs)?)
    }

    /// What this server requires of a good token: scopes, permissions, organization.
    pub(super) fn check_grants(&self, claims: &AccessTokenClaims) -> Result<(), AccessTokenError> {
        self.check_grant_values(
            claims.scope(),
            |permission| claims.has_permission(permission),
            claims.org_id(),
        )
    }

    fn check_grant_values(
        &self,
        scope: &ScopeList,
        has_permission: impl Fn(&str) -> bool,
        org_id: Option<&str>,
    ) -> Result<(), AccessTokenError> {
        self.check_scopes(scope)?;
        let missing: Vec<String> = self
            .required_permissions
            .iter()
            .filter(|required| !has_permission(required))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(AccessTokenError::MissingPermissions { missing });
        }
        match &self.organization {
            Some(expected) if org_id != Some(expected.as_str()) => {
                Err(AccessTokenError::WrongOrganization {
                    expected: expected.clone(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Checks what the authorization server said about an active token
    /// ([`Introspection::Active`](crate::resource_server::Introspection::Active)) as [`validate`](Self::validate)
    /// checks a JWT's claims: `token_type`, when given, is `Bearer` in any case or AuthKit's
    /// `access_token` (not a refresh token, nor a DPoP-bound token whose proof this check does not
    /// see); no `cnf` (a token bound to a key is refused with
    /// [`BoundToKey`](AccessTokenError::BoundToKey), as [`validate`](Self::validate) refuses one
    /// sent as a bearer token); `iss`, when given, is the issuer;
    /// `aud` names this resource (an answer without `aud` cannot show that the token was issued for
    /// it, RFC 8707); `exp` and `iat`, when given, within the leeway; and the required scopes, and
    /// the required permissions and organization from the answer's `permissions` and `org_id`
    /// members (an answer without them is refused when they are required).
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
        // A bound token's answer names its key (RFC 7662 §2.2 with RFC 9449 §6.2, RFC 8705 §3.2),
        // whose proof this check has not seen: taken as a bearer token, a stolen copy would serve.
        if token.member("cnf").is_some_and(|cnf| !cnf.is_null()) {
            return Err(AccessTokenError::BoundToKey);
        }
        if let Some(iss) = &token.iss {
            self.check_issuer(iss)?;
        }
        self.check_audience(&token.aud)?;
        let now = self.clock.now_secs();
        // RFC 7662 makes `exp` optional; the server has just said the token is active.
        check_lifetime(
            token.exp.unwrap_or(u64::MAX),
            token.iat,
            None,
            now,
            self.leeway_secs,
        )?;
        let permissions = token.member("permissions").and_then(Value::as_array);
        let has_permission = |permission: &str| {
            permissions.is_some_and(|held| held.iter().any(|held| held == permission))
        };
        let org_id = token.member("org_id").and_then(Value::as_str);
        self.check_grant_values(&token.scope, has_permission, org_id)
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

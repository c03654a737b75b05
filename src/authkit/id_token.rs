//! ID token validation (feature `id-token`): signature against the AuthKit domain's [`KeySet`], then
//! issuer, audience, lifetime and nonce, as OpenID Connect Core sections 3.1.3.7 and 12.2 require.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::jose::claim_values::{numeric_date, one_or_many};
use crate::jose::jws::{check_lifetime, verify, JwsError, DEFAULT_LEEWAY_SECS, MAX_LEEWAY_SECS};
use crate::jose::key_set::KeySet;
use crate::oauth::clock::{Clock, ClockHandle};
use crate::oauth::credential::IdToken;
use crate::oauth::secret::{constant_time_eq, Nonce};

/// The claims of a validated ID token that WorkOS Connect issues.
///
/// Serde reads and writes the JWT claim names, so the claims can be kept in a session; claims this
/// type does not name (WorkOS's `org_id`, `sid`, ...) are kept too, and read with
/// [`claim`](Self::claim). [`new`](Self::new) builds claims for an app's own tests.
///
/// ```
/// use workos_connect::IdTokenClaims;
///
/// let claims = IdTokenClaims::new("https://example.authkit.app", "user_01", "client_01", 1_700_000_300, 1_700_000_000)
///     .with_claim("org_id", "org_01");
/// assert_eq!(claims.claim("org_id").and_then(|v| v.as_str()), Some("org_01"));
/// let kept = serde_json::to_string(&claims).unwrap();
/// assert_eq!(serde_json::from_str::<IdTokenClaims>(&kept).unwrap(), claims);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IdTokenClaims {
    /// The issuer: the AuthKit domain.
    pub iss: String,
    /// The user's stable identifier. Key accounts on it, not on the email address.
    pub sub: String,
    /// The audiences; exactly the client ID once validated.
    #[serde(deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    /// Expiry, in seconds since the Unix epoch.
    pub exp: u64,
    /// Issue time, in seconds since the Unix epoch.
    pub iat: u64,
    /// When the user authenticated, in seconds since the Unix epoch, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<u64>,
    /// The nonce of the login; equal to the pending login's once validated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The authorized party, present when there are several audiences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// Full name (scope `profile`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Given name (scope `profile`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Family name (scope `profile`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Email address (scope `email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the email address was verified (scope `email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// Every other claim, by name.
    #[serde(flatten)]
    other: Map<String, Value>,
}

impl IdTokenClaims {
    /// Claims with the required members and nothing else, e.g. for an app's handler tests.
    pub fn new(
        iss: impl Into<String>,
        sub: impl Into<String>,
        aud: impl Into<String>,
        exp: u64,
        iat: u64,
    ) -> Self {
        IdTokenClaims {
            iss: iss.into(),
            sub: sub.into(),
            aud: vec![aud.into()],
            exp,
            iat,
            auth_time: None,
            nonce: None,
            azp: None,
            name: None,
            given_name: None,
            family_name: None,
            email: None,
            email_verified: None,
            other: Map::new(),
        }
    }

    /// A claim this type does not name, such as WorkOS's `org_id` or `sid`.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.other.get(name)
    }

    /// These claims with one more claim this type does not name. A claim the type names (`iss`,
    /// `sub`, `email`, ...) is a field: set the field; this method leaves such a name alone, so that
    /// the claims never serialize with the same name twice.
    pub fn with_claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        let name = name.into();
        if !NAMED_CLAIMS.contains(&name.as_str()) {
            self.other.insert(name, value.into());
        }
        self
    }
}

/// The claims `IdTokenClaims` has fields for, and `nbf`, which validation reads.
const NAMED_CLAIMS: [&str; 14] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "auth_time",
    "nonce",
    "azp",
    "name",
    "given_name",
    "family_name",
    "email",
    "email_verified",
];

/// The claims as they arrive, every named one optional, so that a missing one is reported by name.
#[derive(Deserialize)]
struct RawClaims {
    iss: Option<String>,
    sub: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    aud: Vec<String>,
    #[serde(default, deserialize_with = "numeric_date")]
    exp: Option<u64>,
    #[serde(default, deserialize_with = "numeric_date")]
    iat: Option<u64>,
    #[serde(default, deserialize_with = "numeric_date")]
    nbf: Option<u64>,
    #[serde(default, deserialize_with = "numeric_date")]
    auth_time: Option<u64>,
    nonce: Option<String>,
    azp: Option<String>,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    email: Option<String>,
    email_verified: Option<bool>,
    #[serde(flatten)]
    other: Map<String, Value>,
}

/// Claims of an access token (RFC 9068 section 2.2; WorkOS's "Access token claims" lists both for
/// every Connect access token) that an ID token never carries (OpenID Connect Core section 2). An AuthKit access token without
/// a resource indicator has an ID token's issuer, subject, audience and keys, and may come without
/// `typ`: these claims are what tells it apart where no nonce is checked.
const ACCESS_TOKEN_CLAIMS: [&str; 2] = ["client_id", "scope"];

impl RawClaims {
    fn into_claims(self) -> Result<(IdTokenClaims, Option<u64>), IdTokenError> {
        if let Some(claim) = ACCESS_TOKEN_CLAIMS
            .into_iter()
            .find(|claim| self.other.contains_key(*claim))
        {
            return Err(IdTokenError::AccessToken { claim });
        }
        let missing = |claim: &str| IdTokenError::MissingClaim {
            claim: claim.to_owned(),
        };
        if self.aud.is_empty() {
            return Err(missing("aud"));
        }
        // OpenID Connect Core section 2: `sub` is a non-empty identifier.
        if self.sub.as_deref() == Some("") {
            return Err(missing("sub"));
        }
        let claims = IdTokenClaims {
            iss: self.iss.ok_or_else(|| missing("iss"))?,
            sub: self.sub.ok_or_else(|| missing("sub"))?,
            aud: self.aud,
            exp: self.exp.ok_or_else(|| missing("exp"))?,
            iat: self.iat.ok_or_else(|| missing("iat"))?,
            auth_time: self.auth_time,
            nonce: self.nonce,
            azp: self.azp,
            name: self.name,
            given_name: self.given_name,
            family_name: self.family_name,
            email: self.email,
            email_verified: self.email_verified,
            other: self.other,
        };
        Ok((claims, self.nbf))
    }
}

/// Why an ID token was refused. Each cause is its own variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdTokenError {
    /// Not a JWT: not three base64url parts, or a header or claims that are not the expected JSON;
    /// or a signature that no key named could even check.
    #[error("the ID token is not a well-formed JWT")]
    Malformed,
    /// A signature algorithm this crate does not accept (`none`, HMAC, EdDSA, or unknown).
    #[error(
        "the ID token is signed with {alg:?}, which is not accepted; only RSA and ECDSA algorithms are"
    )]
    UnsupportedAlgorithm {
        /// The algorithm named in the header.
        alg: String,
    },
    /// The header lists extensions in `crit` (RFC 7515 section 4.1.11), none of which this crate
    /// understands, so the token must be refused.
    #[error("the ID token's header has `crit` extensions, which this crate does not understand")]
    CriticalHeader,
    /// No key in the set has the token's `kid` (or the token names none and the set has several).
    /// When `refetch` is true, fetch the JWKS again, parse it into a new [`KeySet`] and validate once
    /// more; when false, the set was fetched too recently to ask again (see
    /// [`KeySet::refetch_interval`]).
    #[error(
        "no key in the JWKS matches the ID token's key ID {kid:?}{}",
        if *refetch { "; fetch the JWKS again" } else { "" }
    )]
    UnknownKey {
        /// The key ID in the token's header.
        kid: Option<String>,
        /// Whether the set may be fetched again now.
        refetch: bool,
    },
    /// The header's `typ` is not `JWT`: another kind of token, such as an access token (`at+jwt`),
    /// offered as an ID token.
    #[error("the token's `typ` is {typ:?}, not an ID token's `JWT`")]
    WrongType {
        /// The `typ` in the header.
        typ: String,
    },
    /// The token carries `client_id` or `scope`, claims of an access token (RFC 9068 section 2.2)
    /// that no ID token carries (OpenID Connect Core section 2): an access token for this client
    /// offered as an ID token, which its issuer, subject, audience and signature would let pass
    /// where no nonce is checked (a refresh's or a device login's ID token).
    #[error(
        "the token carries `{claim}`, a claim of an access token (RFC 9068 section 2.2), not of an ID token"
    )]
    AccessToken {
        /// `client_id` or `scope`.
        claim: &'static str,
    },
    /// Keys with the token's `kid` exist, but none is for signatures with this algorithm.
    #[error("the JWKS key {kid:?} is not for {alg} signatures")]
    KeyMismatch {
        /// The key ID.
        kid: Option<String>,
        /// The algorithm in the token's header.
        alg: String,
    },
    /// The signature does not verify with any key the header names.
    #[error("the ID token's signature does not verify")]
    BadSignature,
    /// A required claim is missing.
    #[error("the ID token has no `{claim}` claim")]
    MissingClaim {
        /// The claim.
        claim: String,
    },
    /// `iss` is not the AuthKit domain the login went to.
    #[error("the ID token's issuer is not `{expected}`")]
    WrongIssuer {
        /// The issuer expected.
        expected: String,
    },
    /// `aud` does not contain the client ID.
    #[error("the ID token's audience does not include `{client_id}`")]
    WrongAudience {
        /// The client ID expected.
        client_id: String,
    },
    /// `aud` lists audiences besides the client ID, which this client does not trust (OpenID Connect
    /// Core section 3.1.3.7, step 3).
    #[error("the ID token is also meant for other audiences than `{client_id}`")]
    UntrustedAudience {
        /// The client ID expected.
        client_id: String,
    },
    /// `azp` is present and is not the client ID (OpenID Connect Core section 3.1.3.7, step 5).
    #[error("the ID token's `azp` is not `{client_id}`")]
    WrongAuthorizedParty {
        /// The client ID expected.
        client_id: String,
    },
    /// `exp` has passed (beyond the leeway).
    #[error("the ID token has expired")]
    Expired,
    /// `iat` or `nbf` lies in the future (beyond the leeway).
    #[error("the ID token is not valid yet: it was issued in the future")]
    NotYetValid,
    /// No `nonce`, though the login sent one.
    #[error("the ID token has no `nonce`")]
    MissingNonce,
    /// `nonce` is not the login's: a replayed or injected token.
    #[error("the ID token's `nonce` is not this login's")]
    NonceMismatch,
    /// No `auth_time`, though the check has a [`max_age`](IdTokenCheck::max_age) (the login sent
    /// `max_age`, which obliges the server to include it: OpenID Connect Core section 3.1.2.1).
    /// The server did not honour `max_age`; AuthKit does not document it.
    #[error(
        "the ID token has no `auth_time`, though the login asked for a maximum authentication age; \
         the server ignored `max_age`: log in without it, or with a server that honours it"
    )]
    MissingAuthTime,
    /// `auth_time` plus the [`max_age`](IdTokenCheck::max_age) (and the leeway) lies before now:
    /// the user authenticated longer ago than the limit (OpenID Connect Core section 3.1.3.7, item
    /// 13).
    #[error(
        "the user authenticated at {auth_time} (Unix seconds), longer ago than the {max_age} s \
         allowed; log the user in again, with `max_age` or `prompt=login`"
    )]
    AuthenticationTooOld {
        /// The token's `auth_time`, in seconds since the Unix epoch.
        auth_time: u64,
        /// The limit, in seconds.
        max_age: u64,
    },
    /// `auth_time` lies in the future beyond the leeway: a signed claim that would meet any
    /// [`max_age`](IdTokenCheck::max_age) for ever.
    #[error(
        "the ID token says the user authenticated at {auth_time} (Unix seconds), in the future;          check the clocks of this host and of the server"
    )]
    AuthenticatedInFuture {
        /// The token's `auth_time`, in seconds since the Unix epoch.
        auth_time: u64,
    },
    /// A refreshed ID token whose claim differs from the login's ID token where OpenID Connect Core
    /// section 12.2 requires it to be the same (`iss`, `sub`, `aud`, `azp`, `auth_time`, `nonce`), or
    /// whose `iat` is earlier than the login's.
    #[error("the refreshed ID token's `{claim}` is not the login's")]
    RefreshMismatch {
        /// The claim that differs.
        claim: &'static str,
    },
}

/// `JWT`, or absent: an ID token's `typ`. `at+jwt` and the like are other kinds of token.
fn is_id_token_type(typ: &str) -> bool {
    typ.eq_ignore_ascii_case("JWT")
}

impl From<JwsError> for IdTokenError {
    fn from(error: JwsError) -> Self {
        match error {
            JwsError::Malformed => IdTokenError::Malformed,
            JwsError::UnsupportedAlgorithm { alg } => IdTokenError::UnsupportedAlgorithm { alg },
            JwsError::CriticalHeader => IdTokenError::CriticalHeader,
            JwsError::UnknownKey { kid, refetch } => IdTokenError::UnknownKey { kid, refetch },
            JwsError::WrongType { typ } => IdTokenError::WrongType { typ },
            JwsError::KeyMismatch { kid, alg } => IdTokenError::KeyMismatch { kid, alg },
            JwsError::BadSignature => IdTokenError::BadSignature,
            JwsError::Expired => IdTokenError::Expired,
            JwsError::NotYetValid => IdTokenError::NotYetValid,
        }
    }
}

impl IdTokenError {
    /// Whether the token names a key the set lacks: ask your [`KeyCache`](crate::jose::KeyCache)
    /// ([`unknown_key`](crate::jose::KeyCache::unknown_key)) whether to fetch the set again, and validate
    /// once more with the new set. The cache is what limits those fetches.
    pub fn names_unknown_key(&self) -> bool {
        matches!(self, IdTokenError::UnknownKey { .. })
    }

    /// Whether the token names a key the set lacks and the set itself is older than its
    /// [refetch interval](crate::jose::KeySet::refetch_interval).
    ///
    /// This is worked out from the set's own age alone: after a failed fetch it stays true for
    /// every later token naming an unknown key, and concurrent requests all see it at once. It
    /// does not limit fetches; [`KeyCache`](crate::jose::KeyCache) does (with
    /// [`names_unknown_key`](Self::names_unknown_key)).
    pub fn should_refetch_keys(&self) -> bool {
        matches!(self, IdTokenError::UnknownKey { refetch: true, .. })
    }
}

/// What the token must match besides the client: the login's nonce, or the claims of the ID token
/// it refreshes.
#[derive(Debug, Clone, Copy)]
enum Expected<'a> {
    Login(&'a Nonce),
    Refresh(&'a IdTokenClaims),
    /// A device login (RFC 8628) sends no `nonce`: the device code, which never left the device,
    /// ties the tokens to it.
    DeviceLogin,
}

/// Validates an ID token; made by
/// [`PendingAuthorization::id_token`](crate::PendingAuthorization::id_token) for a login's token
/// response, by [`ConnectClient::refreshed_id_token`](crate::ConnectClient::refreshed_id_token) for
/// a refresh's, or by [`DeviceClient::id_token`](crate::device::DeviceClient::id_token) for a device
/// login's.
#[derive(Debug, Clone)]
#[must_use = "call `validate`"]
pub struct IdTokenCheck<'a> {
    issuer: &'a str,
    client_id: &'a str,
    expected: Expected<'a>,
    leeway_secs: u64,
    /// The longest time since `auth_time` accepted, in seconds.
    max_age: Option<u64>,
    clock: ClockHandle,
}

impl<'a> IdTokenCheck<'a> {
    /// The check of a login's ID token: its `nonce` must be the login's.
    pub(crate) fn for_login(issuer: &'a str, client_id: &'a str, nonce: &'a Nonce) -> Self {
        Self::new(issuer, client_id, Expected::Login(nonce))
    }

    /// The check of a refreshed ID token against the login's claims.
    pub(crate) fn for_refresh(
        issuer: &'a str,
        client_id: &'a str,
        previous: &'a IdTokenClaims,
    ) -> Self {
        Self::new(issuer, client_id, Expected::Refresh(previous))
    }

    /// The check of a device login's ID token, which carries no `nonce`.
    pub(crate) fn for_device_login(issuer: &'a str, client_id: &'a str) -> Self {
        Self::new(issuer, client_id, Expected::DeviceLogin)
    }

    fn new(issuer: &'a str, client_id: &'a str, expected: Expected<'a>) -> Self {
        IdTokenCheck {
            issuer,
            client_id,
            expected,
            leeway_secs: DEFAULT_LEEWAY_SECS,
            max_age: None,
            clock: ClockHandle::default(),
        }
    }
}

impl IdTokenCheck<'_> {
    /// The clock skew allowed on `exp`, `nbf` and `iat`, at most a day.
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.leeway_secs = seconds.min(MAX_LEEWAY_SECS);
        self
    }

    /// Requires the user to have authenticated within `max_age` of now (in whole seconds; a
    /// fraction is dropped): the token must carry `auth_time`, and `auth_time + max_age`, plus the
    /// [leeway](Self::leeway), must not lie before now (OpenID Connect Core section 3.1.3.7, item
    /// 13). Refused with [`IdTokenError::MissingAuthTime`] or
    /// [`IdTokenError::AuthenticationTooOld`].
    ///
    /// A login's check ([`PendingAuthorization::id_token`](crate::PendingAuthorization::id_token))
    /// has the `max_age` the login sent; this sets one for any check, such as a recent
    /// authentication required before a sensitive action, on an ID token the server issued for a
    /// login with `prompt=login` or `max_age`. It replaces the login's.
    ///
    /// ```
    /// use std::time::Duration;
    /// # use workos_connect::ConnectClient;
    /// # let client = ConnectClient::new(
    /// #     "https://example.authkit.app".parse()?,
    /// #     "client_01HXYZ".parse()?,
    /// #     "https://app.example.com/callback".parse()?,
    /// # );
    /// # let (_redirect, pending) = client.authorize().build()?;
    /// // Before a sensitive action: the user must have authenticated in the last five minutes.
    /// let check = pending.id_token().max_age(Duration::from_secs(300));
    /// // `check.validate(&id_token, &keys)` refuses a token without a recent enough `auth_time`.
    /// # let _ = check;
    /// # Ok::<(), workos_connect::Error>(())
    /// ```
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age.as_secs());
        self
    }

    /// Reads the time from `clock` (by default the clock of the client or login that made the
    /// check); a [`FixedClock`](crate::oauth::FixedClock) in tests.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = ClockHandle::new(clock);
        self
    }

    /// The check reading `clock`, the one of the client or login that made it.
    pub(crate) fn with_clock(mut self, clock: &ClockHandle) -> Self {
        self.clock = clock.clone();
        self
    }

    /// Validates `id_token` against the AuthKit domain's keys: the signature with a key its `kid`
    /// names and only for the algorithm that key is for; no `typ` but `JWT`, and no access token's
    /// `client_id` or `scope`; `iss` equal to the issuer; `aud` exactly the client ID (and `azp`, if
    /// present, too); `exp`, `nbf` and `iat` within the leeway; `auth_time` within the
    /// [`max_age`](Self::max_age), if the check has one; then the login's `nonce` (compared in
    /// constant time), or, for a refresh, the claims that must not change.
    pub fn validate(
        &self,
        id_token: &IdToken,
        keys: &KeySet,
    ) -> Result<IdTokenClaims, IdTokenError> {
        let now = self.clock.now_secs();
        let (raw, _): (RawClaims, _) = verify(id_token.secret(), keys, now, is_id_token_type)?;
        let (claims, nbf) = raw.into_claims()?;
        self.check_claims(&claims, nbf, now)?;
        Ok(claims)
    }

    fn check_claims(
        &self,
        claims: &IdTokenClaims,
        nbf: Option<u64>,
        now: u64,
    ) -> Result<(), IdTokenError> {
        if claims.iss != self.issuer {
            return Err(IdTokenError::WrongIssuer {
                expected: self.issuer.to_owned(),
            });
        }
        if !claims.aud.iter().any(|aud| aud == self.client_id) {
            return Err(IdTokenError::WrongAudience {
                client_id: self.client_id.to_owned(),
            });
        }
        if claims.aud.len() > 1 {
            return Err(IdTokenError::UntrustedAudience {
                client_id: self.client_id.to_owned(),
            });
        }
        if claims
            .azp
            .as_deref()
            .is_some_and(|azp| azp != self.client_id)
        {
            return Err(IdTokenError::WrongAuthorizedParty {
                client_id: self.client_id.to_owned(),
            });
        }
        check_lifetime(claims.exp, Some(claims.iat), nbf, now, self.leeway_secs)?;
        if let Some(max_age) = self.max_age {
            check_auth_age(claims.auth_time, max_age, self.leeway_secs, now)?;
        }
        match self.expected {
            Expected::Login(nonce) => match claims.nonce.as_deref() {
                None => Err(IdTokenError::MissingNonce),
                Some(received) if !nonce.matches(received) => Err(IdTokenError::NonceMismatch),
                Some(_) => Ok(()),
            },
            Expected::Refresh(previous) => check_refresh(previous, claims),
            Expected::DeviceLogin => Ok(()),
        }
    }
}

/// OpenID Connect Core section 3.1.3.7, item 13: with `max_age`, `auth_time` must be present and
/// `auth_time + max_age` (with the leeway for clock skew) not before `now`, nor `auth_time` after
/// it. Saturating: a limit beyond the range of the clock never runs out.
fn check_auth_age(
    auth_time: Option<u64>,
    max_age: u64,
    leeway: u64,
    now: u64,
) -> Result<(), IdTokenError> {
    let auth_time = auth_time.ok_or(IdTokenError::MissingAuthTime)?;
    if auth_time > now.saturating_add(leeway) {
        return Err(IdTokenError::AuthenticatedInFuture { auth_time });
    }
    if auth_time.saturating_add(max_age).saturating_add(leeway) < now {
        return Err(IdTokenError::AuthenticationTooOld { auth_time, max_age });
    }
    Ok(())
}

/// OpenID Connect Core section 12.2: what a refreshed ID token must keep from the login's.
fn check_refresh(previous: &IdTokenClaims, claims: &IdTokenClaims) -> Result<(), IdTokenError> {
    let mismatch = |claim| Err(IdTokenError::RefreshMismatch { claim });
    if claims.iss != previous.iss {
        return mismatch("iss");
    }
    if claims.sub != previous.sub {
        return mismatch("sub");
    }
    if claims.aud != previous.aud {
        return mismatch("aud");
    }
    // Absent before means absent now (OpenID Connect Core section 12.2).
    if claims.azp != previous.azp {
        return mismatch("azp");
    }
    // A refreshed token is issued after the login's, so an older one is a replay.
    if claims.iat < previous.iat {
        return mismatch("iat");
    }
    if let (Some(before), Some(now)) = (previous.auth_time, claims.auth_time) {
        if before != now {
            return mismatch("auth_time");
        }
    }
    match (previous.nonce.as_deref(), claims.nonce.as_deref()) {
        (_, None) => Ok(()),
        (Some(before), Some(now)) if constant_time_eq(before, now) => Ok(()),
        _ => mismatch("nonce"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dates(json: &str) -> Result<RawClaims, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn numeric_dates_may_have_a_fraction() {
        let raw = dates(r#"{"exp":1700000000.5,"iat":1700000000,"nbf":1.0e9}"#).unwrap();
        assert_eq!(raw.exp, Some(1_700_000_000));
        assert_eq!(raw.iat, Some(1_700_000_000));
        assert_eq!(raw.nbf, Some(1_000_000_000));
        for bad in [r#"{"exp":-1}"#, r#"{"exp":"soon"}"#, r#"{"exp":1e300}"#] {
            assert!(dates(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn auth_time_must_be_present_and_recent_enough() {
        let now = 1_700_000_000;
        assert_eq!(
            check_auth_age(None, 600, 60, now),
            Err(IdTokenError::MissingAuthTime)
        );
        // Within the limit, at it, and within the leeway past it.
        assert_eq!(check_auth_age(Some(now - 10), 600, 60, now), Ok(()));
        assert_eq!(check_auth_age(Some(now - 660), 600, 60, now), Ok(()));
        assert_eq!(
            check_auth_age(Some(now - 661), 600, 60, now),
            Err(IdTokenError::AuthenticationTooOld {
                auth_time: now - 661,
                max_age: 600
            })
        );
        // `max_age=0`: authenticated just now, give or take the leeway.
        assert_eq!(check_auth_age(Some(now), 0, 60, now), Ok(()));
        assert_eq!(check_auth_age(Some(now - 60), 0, 60, now), Ok(()));
        assert!(check_auth_age(Some(now - 61), 0, 60, now).is_err());
        assert!(check_auth_age(Some(now - 1), 0, 0, now).is_err());
        // A limit no clock reaches passes; an `auth_time` in the future only within the leeway.
        assert_eq!(check_auth_age(Some(0), u64::MAX, 60, now), Ok(()));
        assert_eq!(check_auth_age(Some(now + 60), 0, 60, now), Ok(()));
        assert_eq!(
            check_auth_age(Some(now + 61), u64::MAX, 60, now),
            Err(IdTokenError::AuthenticatedInFuture {
                auth_time: now + 61
            })
        );
        assert!(check_auth_age(Some(now + 5), 0, 0, now).is_err());
    }

    #[test]
    fn refresh_keeps_the_login_claims() {
        let login = IdTokenClaims::new("https://a.example", "user_1", "client_1", 10, 1);
        let mut same = login.clone();
        same.iat = 5;
        assert_eq!(check_refresh(&login, &same), Ok(()));
        let mut other = login.clone();
        other.sub = "user_2".into();
        assert_eq!(
            check_refresh(&login, &other),
            Err(IdTokenError::RefreshMismatch { claim: "sub" })
        );
        let mut older = login.clone();
        older.iat = 0;
        assert_eq!(
            check_refresh(&login, &older),
            Err(IdTokenError::RefreshMismatch { claim: "iat" })
        );
        let mut azp_added = login.clone();
        azp_added.azp = Some("client_1".into());
        assert_eq!(
            check_refresh(&login, &azp_added),
            Err(IdTokenError::RefreshMismatch { claim: "azp" })
        );
        let named = login.clone().with_claim("sub", "user_2");
        assert_eq!(named.sub, "user_1");
        assert!(named.claim("sub").is_none());
        let mut nonce = login.clone();
        nonce.nonce = Some("n".into());
        assert_eq!(
            check_refresh(&login, &nonce),
            Err(IdTokenError::RefreshMismatch { claim: "nonce" })
        );
    }
}

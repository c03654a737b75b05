//! What the app keeps between the redirect to the authorize endpoint and the callback.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::authkit::domain::AuthKitDomain;
#[cfg(feature = "id-token")]
use crate::authkit::id_token::IdTokenCheck;
use crate::oauth::callback::CallbackCheck;
use crate::oauth::client_id::ClientId;
use crate::oauth::clock::ClockHandle;
use crate::oauth::pkce::PkceVerifier;
use crate::oauth::redirect_uri::RedirectUri;
use crate::oauth::scope::Scopes;
use crate::oauth::scope_name::Scope;
use crate::oauth::secret::{Nonce, State};

/// An application's domain, `client_id` and `redirect_uri`, in one allocation that the client and each
/// of its pending logins share: a login then records all three with a single reference count. The
/// clock too, so that a login's checks read the clock its client was given.
#[derive(Clone)]
pub(crate) struct App {
    pub(crate) domain: AuthKitDomain,
    pub(crate) client_id: ClientId,
    pub(crate) redirect_uri: RedirectUri,
    pub(crate) clock: ClockHandle,
}

/// The secrets and settings of one login in progress, to keep server-side or in an encrypted, signed
/// cookie until the callback.
///
/// Serde uses the standard OAuth names: `client_id`, `redirect_uri`, `scope` (space-separated, as
/// sent), `state`, `nonce`, `code_verifier` and `max_age` (the last only if sent, in seconds;
/// `code_verifier` only with PKCE, `state` only if one was sent), plus `issuer` (the AuthKit domain
/// the login went to) and `created_at` (Unix seconds). Its `Debug` hides the secrets. A record
/// written before `max_age` existed reads back as a login without it.
///
/// Reading one back checks every field as its constructor does, and the whole as
/// [`build`](crate::AuthorizeRequest::build) did: the scopes must be a valid request, and a login
/// without `state` must have PKCE or `openid`, or nothing would defend its callback against CSRF.
///
/// It is what ties a callback to the browser that started the login, so keep it where the browser
/// cannot change it: a server-side session, or an encrypted and signed cookie. The callback check
/// refuses one older than its age limit (15 minutes by default).
///
/// ```
/// # use workos_connect::ConnectClient;
/// # let client = ConnectClient::new(
/// #     "https://example.authkit.app".parse()?,
/// #     "client_01HXYZ".parse()?,
/// #     "https://app.example.com/callback".parse()?,
/// # );
/// let (_redirect, pending) = client.authorize().with_pkce().build()?;
/// let kept = serde_json::to_string(&pending).unwrap();
/// let back: workos_connect::PendingAuthorization = serde_json::from_str(&kept).unwrap();
/// assert_eq!(back.nonce().secret(), pending.nonce().secret());
/// assert!(back.code_verifier().is_some());
/// # Ok::<(), workos_connect::Error>(())
/// ```
#[derive(Clone)]
pub struct PendingAuthorization {
    app: Arc<App>,
    scopes: Scopes,
    state: Option<State>,
    nonce: Nonce,
    code_verifier: Option<PkceVerifier>,
    created_at: u64,
    /// The `max_age` sent, in seconds.
    max_age: Option<u64>,
}

impl PendingAuthorization {
    #[inline]
    pub(crate) fn new(
        app: Arc<App>,
        scopes: Scopes,
        state: Option<State>,
        nonce: Nonce,
        code_verifier: Option<PkceVerifier>,
        created_at: u64,
        max_age: Option<u64>,
    ) -> Self {
        PendingAuthorization {
            app,
            scopes,
            state,
            nonce,
            code_verifier,
            created_at,
            max_age,
        }
    }

    /// The AuthKit domain the login went to: its tokens' issuer.
    pub fn issuer(&self) -> &AuthKitDomain {
        &self.app.domain
    }

    /// When the login started, in seconds since the Unix epoch.
    pub fn created_at(&self) -> u64 {
        self.created_at
    }

    /// The `client_id` the login was started for.
    pub fn client_id(&self) -> &ClientId {
        &self.app.client_id
    }

    /// The `redirect_uri` sent, which the token request must repeat.
    pub fn redirect_uri(&self) -> &RedirectUri {
        &self.app.redirect_uri
    }

    /// The scopes requested.
    pub fn scopes(&self) -> Scopes {
        self.scopes
    }

    /// The `state` sent, unless the request opted out with
    /// [`without_state`](crate::AuthorizeRequest::without_state).
    pub fn state(&self) -> Option<&State> {
        self.state.as_ref()
    }

    /// The `nonce` sent, which the ID token must carry.
    pub fn nonce(&self) -> &Nonce {
        &self.nonce
    }

    /// The PKCE verifier, if PKCE was used; the token request sends it as `code_verifier`.
    pub fn code_verifier(&self) -> Option<&PkceVerifier> {
        self.code_verifier.as_ref()
    }

    /// The `max_age` sent, in whole seconds, if any: the ID token check of
    /// [`id_token`](Self::id_token) enforces it.
    pub fn max_age(&self) -> Option<Duration> {
        self.max_age.map(Duration::from_secs)
    }
}

impl PendingAuthorization {
    /// Starts a check of this login's callback, with the default age limit of 15 minutes, by the
    /// clock of the client that made the login (the system clock for a login read back from
    /// storage).
    ///
    /// ```
    /// # use workos_connect::{ConnectClient, State};
    /// # let client = ConnectClient::new(
    /// #     "https://example.authkit.app".parse()?,
    /// #     "client_01HXYZ".parse()?,
    /// #     "https://app.example.com/callback".parse()?,
    /// # );
    /// let (_redirect, pending) = client.authorize().state(State::new("xyz")?).build()?;
    /// // At `/callback?code=...&state=...`:
    /// let code = pending.callback().check("code=SplxlOBeZQQYbYS6WxSbIA&state=xyz").unwrap();
    /// assert_eq!(code.secret(), "SplxlOBeZQQYbYS6WxSbIA");
    /// assert!(pending.callback().check("code=SplxlOBeZQQYbYS6WxSbIA&state=forged").is_err());
    /// # Ok::<(), workos_connect::Error>(())
    /// ```
    pub fn callback(&self) -> CallbackCheck<'_> {
        CallbackCheck::new(self.issuer().issuer(), self.state(), self.created_at())
            .with_clock(&self.app.clock)
    }
}

#[cfg(feature = "id-token")]
impl PendingAuthorization {
    /// Starts validating the ID token from this login's token response, with a leeway of 60 seconds
    /// on `exp`, `nbf` and `iat`, by the clock of the client that made the login (the system clock
    /// for a login read back from storage).
    ///
    /// Validate it before using the access token: for an application without PKCE, the `nonce` in
    /// the ID token is what ties the code to this login. For the ID token of a refresh, which carries
    /// no `nonce`, use [`ConnectClient::refreshed_id_token`](crate::ConnectClient::refreshed_id_token).
    ///
    /// A login sent with [`max_age`](crate::AuthorizeRequest::max_age) is checked against it: the
    /// token must carry `auth_time`, no older than the limit plus the leeway (see
    /// [`IdTokenCheck::max_age`]).
    pub fn id_token(&self) -> IdTokenCheck<'_> {
        let check = IdTokenCheck::for_login(
            self.issuer().issuer(),
            self.client_id().as_str(),
            self.nonce(),
        )
        .with_clock(&self.app.clock);
        match self.max_age {
            Some(seconds) => check.max_age(Duration::from_secs(seconds)),
            None => check,
        }
    }
}

impl fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingAuthorization")
            .field("issuer", self.issuer())
            .field("client_id", self.client_id())
            .field("redirect_uri", self.redirect_uri())
            .field("scope", &self.scopes)
            .field("state", &self.state)
            .field("nonce", &self.nonce)
            .field("code_verifier", &self.code_verifier)
            .field("created_at", &self.created_at)
            .field("max_age", &self.max_age)
            .finish()
    }
}

/// The serde form: the shared settings written out as three plain fields.
#[derive(Serialize)]
#[serde(rename = "PendingAuthorization")]
struct Written<'a> {
    issuer: &'a AuthKitDomain,
    client_id: &'a ClientId,
    redirect_uri: &'a RedirectUri,
    scope: Scopes,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'a State>,
    nonce: &'a Nonce,
    #[serde(skip_serializing_if = "Option::is_none")]
    code_verifier: Option<&'a PkceVerifier>,
    created_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_age: Option<u64>,
}

/// The serde form, read back; each field checks itself as it is read.
#[derive(Deserialize)]
#[serde(remote = "Self")]
#[serde(
    rename = "PendingAuthorization",
    expecting = "struct PendingAuthorization"
)]
struct Read {
    issuer: AuthKitDomain,
    client_id: ClientId,
    redirect_uri: RedirectUri,
    scope: Scopes,
    #[serde(default)]
    state: Option<State>,
    nonce: Nonce,
    #[serde(default)]
    code_verifier: Option<PkceVerifier>,
    created_at: u64,
    /// Absent from a record written before `max_age` existed, or for a login that sent none.
    #[serde(default)]
    max_age: Option<u64>,
}
crate::oauth::json_object::object_only!(Read);

impl Serialize for PendingAuthorization {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Written {
            issuer: self.issuer(),
            client_id: self.client_id(),
            redirect_uri: self.redirect_uri(),
            scope: self.scopes,
            state: self.state.as_ref(),
            nonce: &self.nonce,
            code_verifier: self.code_verifier.as_ref(),
            created_at: self.created_at,
            max_age: self.max_age,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PendingAuthorization {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let read = <Read as Deserialize>::deserialize(deserializer)?;
        read.scope.validate().map_err(serde::de::Error::custom)?;
        // The rule `build` applies: an edited record must not become a login it would have refused.
        if read.state.is_none()
            && read.code_verifier.is_none()
            && !read.scope.contains(Scope::OpenId)
        {
            return Err(serde::de::Error::custom(
                "a pending login without `state` needs PKCE (`code_verifier`) or the `openid` \
                 scope to defend its callback against CSRF; this one has neither, so it was altered: \
                 start a new login",
            ));
        }
        Ok(PendingAuthorization {
            app: Arc::new(App {
                domain: read.issuer,
                client_id: read.client_id,
                redirect_uri: read.redirect_uri,
                // A record read back knows nothing of the client that made it.
                clock: ClockHandle::default(),
            }),
            scopes: read.scope,
            state: read.state,
            nonce: read.nonce,
            code_verifier: read.code_verifier,
            created_at: read.created_at,
            max_age: read.max_age,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::authkit::client::test_client as client;

    use super::*;

    #[test]
    fn absent_secrets_are_absent_keys() {
        let (_, pending) = client().authorize().without_state().build().unwrap();
        let json = serde_json::to_value(&pending).unwrap();
        assert!(json.get("state").is_none());
        assert!(json.get("code_verifier").is_none());
        let back: PendingAuthorization = serde_json::from_value(json).unwrap();
        assert!(back.state().is_none());
    }

    #[test]
    fn scopes_are_kept_in_their_wire_form() {
        let scopes = Scope::OpenId | Scope::Email | Scope::OfflineAccess;
        let (_, pending) = client().authorize().scopes(scopes).build().unwrap();
        assert_eq!(pending.scopes(), scopes);
        let json = serde_json::to_value(&pending).unwrap();
        assert_eq!(json["scope"], "openid email offline_access");
        let back: PendingAuthorization = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back.scopes(), scopes);
        assert!(format!("{back:?}").contains("scope: {OpenId, Email, OfflineAccess}"));

        let mut missing = json;
        missing.as_object_mut().unwrap().remove("scope");
        let message = serde_json::from_value::<PendingAuthorization>(missing)
            .unwrap_err()
            .to_string();
        assert!(message.contains("missing field `scope`"), "{message}");
    }

    #[test]
    fn an_edited_login_cannot_drop_its_csrf_defence() {
        let (_, pending) = client()
            .authorize()
            .scopes(Scope::OfflineAccess)
            .without_state()
            .with_pkce()
            .build()
            .unwrap();
        let json = serde_json::to_value(&pending).unwrap();
        assert!(serde_json::from_value::<PendingAuthorization>(json.clone()).is_ok());

        let mut no_verifier = json.clone();
        no_verifier.as_object_mut().unwrap().remove("code_verifier");
        let message = serde_json::from_value::<PendingAuthorization>(no_verifier)
            .unwrap_err()
            .to_string();
        assert!(message.contains("CSRF"), "{message}");
        assert!(message.contains("start a new login"), "{message}");

        // `openid` defends it too, through the ID token's nonce, as `build` allows.
        let mut with_openid = json.clone();
        with_openid.as_object_mut().unwrap().remove("code_verifier");
        with_openid["scope"] = "openid offline_access".into();
        assert!(serde_json::from_value::<PendingAuthorization>(with_openid).is_ok());

        // Scopes `build` would refuse are refused on read as well.
        for scope in ["", "email", "openid openid", "admin"] {
            let mut edited = json.clone();
            edited["scope"] = scope.into();
            assert!(
                serde_json::from_value::<PendingAuthorization>(edited).is_err(),
                "{scope:?}"
            );
        }
    }

    #[test]
    fn max_age_is_kept_and_a_record_from_before_it_still_reads() {
        let (_, pending) = client()
            .authorize()
            .max_age(Duration::from_secs(600))
            .build()
            .unwrap();
        let json = serde_json::to_value(&pending).unwrap();
        assert_eq!(json["max_age"], 600);
        let back: PendingAuthorization = serde_json::from_value(json).unwrap();
        assert_eq!(back.max_age(), Some(Duration::from_secs(600)));
        assert!(format!("{back:?}").contains("max_age: Some(600)"));

        let (_, without) = client().authorize().build().unwrap();
        assert!(serde_json::to_value(&without)
            .unwrap()
            .get("max_age")
            .is_none());

        // A record as this crate wrote it before `max_age` existed.
        let written_before = serde_json::json!({
            "issuer": "https://example.authkit.app",
            "client_id": "client_1",
            "redirect_uri": "https://app.example/cb",
            "scope": "openid offline_access",
            "state": "st",
            "nonce": "n-0S6_WzA2Mj",
            "code_verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "created_at": 1_700_000_000u64,
        });
        let old: PendingAuthorization = serde_json::from_value(written_before).unwrap();
        assert_eq!(old.max_age(), None);
        assert_eq!(old.nonce().secret(), "n-0S6_WzA2Mj");
        assert_eq!(old.scopes(), Scope::OpenId | Scope::OfflineAccess);

        let mut bad = serde_json::to_value(&pending).unwrap();
        bad["max_age"] = "600".into();
        assert!(serde_json::from_value::<PendingAuthorization>(bad).is_err());
    }

    #[test]
    fn reading_back_checks_every_field() {
        let (_, pending) = client().authorize().build().unwrap();
        let json = serde_json::to_value(&pending).unwrap();
        for (key, bad) in [
            ("nonce", serde_json::json!("")),
            ("state", serde_json::json!("a\nb")),
            ("client_id", serde_json::json!("")),
            ("redirect_uri", serde_json::json!("http://evil.example/cb")),
        ] {
            let mut tampered = json.clone();
            tampered[key] = bad;
            assert!(
                serde_json::from_value::<PendingAuthorization>(tampered).is_err(),
                "{key}"
            );
        }
        let not_an_object = serde_json::from_value::<PendingAuthorization>(serde_json::json!(1));
        let message = not_an_object.unwrap_err().to_string();
        assert!(message.contains("struct PendingAuthorization"), "{message}");
        let mut missing_nonce = json;
        missing_nonce.as_object_mut().unwrap().remove("nonce");
        assert!(serde_json::from_value::<PendingAuthorization>(missing_nonce).is_err());
    }
}

//! What a signed-in session holds, as serialised in the session store.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use workos_connect::{
    oauth::{AccessToken, RefreshToken},
    IdTokenClaims, TokenResponse,
};

/// The session key of the login in progress.
pub(crate) const PENDING_KEY: &str = "workos_connect.pending";
/// The session key of the page to go to after the login in progress, beside it: an absolute URL on
/// the app's origin.
pub(crate) const RETURN_TO_KEY: &str = "workos_connect.return_to";
/// The session key of the signed-in user.
pub(crate) const USER_KEY: &str = "workos_connect.user";

/// The signed-in user: the claims validated at login (or at the last refresh) and the tokens to act
/// for them. Kept on the server side of the session only: the browser holds the session ID.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SessionData {
    pub(crate) claims: IdTokenClaims,
    pub(crate) access_token: AccessToken,
    /// Seconds since the Unix epoch; `None` when the token endpoint gave no `expires_in`.
    pub(crate) expires_at: Option<u64>,
    pub(crate) refresh_token: Option<RefreshToken>,
}

impl SessionData {
    /// The session a login's tokens start, received at `now`.
    pub(crate) fn from_login(
        claims: IdTokenClaims,
        tokens: &TokenResponse,
        now: SystemTime,
    ) -> Self {
        SessionData {
            claims,
            access_token: tokens.access_token.clone(),
            expires_at: tokens.expires_at(now),
            refresh_token: tokens.refresh_token.clone(),
        }
    }

    /// The session after a refresh answered with `tokens` at `now`; `claims` are the refreshed ID
    /// token's, validated against this session's, if the answer carried one.
    pub(crate) fn refreshed(
        &self,
        claims: Option<IdTokenClaims>,
        tokens: &TokenResponse,
        now: SystemTime,
    ) -> Self {
        SessionData {
            claims: claims.unwrap_or_else(|| self.claims.clone()),
            access_token: tokens.access_token.clone(),
            expires_at: tokens.expires_at(now),
            // Without rotation the server sends no new refresh token, and the old one stays valid.
            refresh_token: tokens
                .refresh_token
                .clone()
                .or_else(|| self.refresh_token.clone()),
        }
    }

    /// Whether the access token has expired at `now`, or expires within `margin` seconds: a token
    /// that expires on its way to the API is as good as expired. A token of unknown lifetime is
    /// taken as valid until an API refuses it.
    pub(crate) fn needs_refresh(&self, now: SystemTime, margin: u64) -> bool {
        self.expires_at
            .is_some_and(|expires_at| unix_seconds(now).saturating_add(margin) >= expires_at)
    }

    /// Whether the access token has expired at `now`.
    pub(crate) fn expired(&self, now: SystemTime) -> bool {
        self.expires_at
            .is_some_and(|expires_at| unix_seconds(now) >= expires_at)
    }

    /// The signed-in user of `session`, if any. A record this version cannot read (an older
    /// format, a store edited by hand) counts as signed out rather than as a server error.
    pub(crate) async fn read(
        session: &Session,
    ) -> Result<Option<Self>, tower_sessions::session::Error> {
        let Some(value) = session.get_value(USER_KEY).await? else {
            return Ok(None);
        };
        // serde's derived reader also takes an array of the members in order; a record is an
        // object (its claims are read as one by the core crate).
        if !value.is_object() {
            tracing::warn!("the session's user record is not a JSON object; treated as signed out");
            return Ok(None);
        }
        match serde_json::from_value(value) {
            Ok(data) => Ok(Some(data)),
            Err(error) => {
                tracing::warn!(%error, "the session's user record is unreadable; treated as signed out");
                Ok(None)
            }
        }
    }

    /// Writes the user into `session`.
    pub(crate) async fn write(
        &self,
        session: &Session,
    ) -> Result<(), tower_sessions::session::Error> {
        session.insert(USER_KEY, self).await
    }
}

/// Signs the user of `session` out, in the store at once: the session layer only drops the cookie
/// of a session left empty, and the record, still signed in, would serve whoever kept the cookie.
pub(crate) async fn remove_user(session: &Session) -> Result<(), tower_sessions::session::Error> {
    session.remove_value(USER_KEY).await?;
    if session.is_empty().await {
        session.delete().await
    } else {
        session.save().await
    }
}

impl fmt::Debug for SessionData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionData")
            .field("sub", &self.claims.sub)
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &self.refresh_token.is_some())
            .finish_non_exhaustive()
    }
}

/// `at` in the whole seconds since the Unix epoch that `expires_at` counts; 0 before it.
fn unix_seconds(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(unix_seconds: u64) -> SystemTime {
        UNIX_EPOCH + std::time::Duration::from_secs(unix_seconds)
    }

    fn tokens(body: &str) -> TokenResponse {
        TokenResponse::parse(200, body.as_bytes()).unwrap()
    }

    fn data() -> SessionData {
        let claims = IdTokenClaims::new(
            "https://example.authkit.app",
            "user_01",
            "client_01",
            2_000,
            1_000,
        )
        .with_claim("org_id", "org_01");
        SessionData::from_login(
            claims,
            &tokens(
                r#"{"access_token":"at_1","token_type":"Bearer","expires_in":300,"refresh_token":"rt_1"}"#,
            ),
            at(1_000),
        )
    }

    #[test]
    fn round_trips_through_the_store_format() {
        let data = data();
        // The stores keep values as JSON (memory) or MessagePack of that JSON (Redis).
        let value = serde_json::to_value(&data).unwrap();
        assert_eq!(value["access_token"], "at_1");
        assert_eq!(value["refresh_token"], "rt_1");
        assert_eq!(value["expires_at"], 1_300);
        let back: SessionData = serde_json::from_value(value).unwrap();
        assert_eq!(back, data);
        assert_eq!(
            back.claims.claim("org_id").and_then(|v| v.as_str()),
            Some("org_01")
        );
    }

    #[test]
    fn refuses_a_record_holding_a_malformed_token() {
        let mut value = serde_json::to_value(data()).unwrap();
        value["access_token"] = "at\r\nX-Injected: 1".into();
        assert!(serde_json::from_value::<SessionData>(value).is_err());
    }

    #[tokio::test]
    async fn a_record_that_is_an_array_is_no_signed_in_user() {
        let session = Session::new(
            None,
            std::sync::Arc::new(tower_sessions::MemoryStore::default()),
            None,
        );
        let data = data();
        data.write(&session).await.unwrap();
        assert_eq!(SessionData::read(&session).await.unwrap(), Some(data));
        // The members in declaration order: serde's derived reader takes that too.
        let serde_json::Value::Object(members) =
            session.get_value(USER_KEY).await.unwrap().unwrap()
        else {
            panic!("a record is an object")
        };
        let positional = serde_json::json!([
            members["claims"],
            members["access_token"],
            members["expires_at"],
            members["refresh_token"],
        ]);
        session.insert_value(USER_KEY, positional).await.unwrap();
        assert_eq!(SessionData::read(&session).await.unwrap(), None);
    }

    #[test]
    fn debug_shows_no_token() {
        let shown = format!("{:?}", data());
        assert!(
            !shown.contains("at_1") && !shown.contains("rt_1"),
            "{shown}"
        );
        assert!(shown.contains("user_01"), "{shown}");
    }

    #[test]
    fn refreshes_within_the_margin_of_expiry() {
        let data = data(); // expires at 1_300
        assert!(!data.needs_refresh(at(1_000), 60));
        assert!(!data.needs_refresh(at(1_239), 60));
        assert!(data.needs_refresh(at(1_240), 60));
        assert!(data.needs_refresh(at(5_000), 0));
        assert!(!data.expired(at(1_299)));
        assert!(data.expired(at(1_300)));
        let unknown = SessionData {
            expires_at: None,
            ..data
        };
        assert!(!unknown.needs_refresh(at(u64::MAX / 2), u64::MAX));
        assert!(!unknown.expired(at(u64::MAX / 2)));
    }

    #[test]
    fn a_refresh_keeps_what_the_answer_leaves_out() {
        let before = data();
        let after = before.refreshed(
            None,
            &tokens(r#"{"access_token":"at_2","token_type":"Bearer","expires_in":600}"#),
            at(1_200),
        );
        assert_eq!(after.access_token.secret(), "at_2");
        assert_eq!(after.expires_at, Some(1_800));
        assert_eq!(after.refresh_token, before.refresh_token);
        assert_eq!(after.claims, before.claims);
        let rotated = before.refreshed(
            None,
            &tokens(r#"{"access_token":"at_3","token_type":"Bearer","refresh_token":"rt_2"}"#),
            at(1_200),
        );
        assert_eq!(
            rotated.refresh_token.as_ref().map(RefreshToken::secret),
            Some("rt_2")
        );
        assert_eq!(rotated.expires_at, None);
    }
}

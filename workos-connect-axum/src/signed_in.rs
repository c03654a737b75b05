//! The extractor of the signed-in user, renewing the access token when it is about to expire.

use std::fmt;

use axum::extract::{FromRequestParts, OptionalFromRequestParts, OriginalUri};
use axum::response::{IntoResponse, Redirect, Response};
use http::header::ACCEPT;
use http::request::Parts;
use http::StatusCode;
use tower_sessions::Session;
use workos_connect::{oauth::AccessToken, IdTokenClaims};

use crate::login::WebLogin;
use crate::login_error::LoginError;
use crate::same_origin::{is_safe, is_same_origin};
use crate::session_data::{remove_user, SessionData};

/// The signed-in user of the request's session: the claims of their ID token, and an access token
/// that is not about to expire.
///
/// When the access token has expired, or expires within the
/// [refresh margin](crate::WebLoginBuilder::refresh_margin), the extractor redeems the session's
/// refresh token first, validates the new ID token against the session's claims, and saves the new
/// tokens in the session: the handler sees a fresh token. If that refresh fails while the old
/// token is still valid, the handler gets the old one (the next request tries again). Requests of
/// one session that find the token near expiry together renew it once: the first redeems the
/// refresh token, the others wait for it and take its tokens, so that a server detecting the reuse
/// of a rotated refresh token (RFC 9700 section 4.14.2) never sees one redeemed twice. With the
/// sessions in a [`RedisStore`](crate::RedisStore) (feature `redis`), the instances sharing it take
/// these turns together, through a lock in Redis; with another shared store, each instance renews
/// on its own. A link followed
/// from another site (a top-level navigation, the one cross-site request a `SameSite=Lax` cookie
/// comes with) renews like any visit: a renewal changes nothing the user sees, and brings the next
/// one forward by the margin at most.
///
/// It refuses with [`SignInRequired`]: a browser asking for a page (`GET` or `HEAD` accepting
/// `text/html`) is redirected (303) to the [login path](WebLogin::login_path), with the page it
/// asked for as the login's `return_to` (`/login?return_to=%2Fpage`) so that the login ends there;
/// anything else gets 401 (an API call, a form post). A request that changes something (not
/// `GET`, `HEAD` or `OPTIONS`) coming from another site's page is refused with 403, so that a
/// handler taking `SignedIn` cannot be driven by another site's form. Refusals other than the
/// redirect carry [`LoginError`]'s JSON body saying why (`not_signed_in`, `session_expired`,
/// `cross_site_request`, ...).
///
/// For a page that serves signed-out visitors too, take `Option<SignedIn>`: `None` when nobody is
/// signed in or the session expired.
///
/// Send the pages that show the user with `Cache-Control: no-store` (the axum-login example sets
/// it on every answer): a browser keeps an answer without it for history navigation, and its Back
/// button after logout shows the user's page again from its cache.
///
/// Needs the session layer and the [`WebLogin`] in the request's extensions
/// ([`WebLogin::session_layer`]); without them the request gets 500 and an error in the log.
pub struct SignedIn {
    login: WebLogin,
    session: Session,
    data: SessionData,
}

impl SignedIn {
    /// The claims of the user's ID token, validated at login or at the last refresh.
    pub fn claims(&self) -> &IdTokenClaims {
        &self.data.claims
    }

    /// The access token, to call APIs on the user's behalf; valid for at least the refresh margin
    /// when the extractor ran (unless the token endpoint gave no lifetime).
    pub fn access_token(&self) -> &AccessToken {
        &self.data.access_token
    }

    /// When the access token expires, in seconds since the Unix epoch, if the token endpoint said.
    pub fn expires_at(&self) -> Option<u64> {
        self.data.expires_at
    }

    /// Whether the session holds a refresh token (scope `offline_access`).
    pub fn can_refresh(&self) -> bool {
        self.data.refresh_token.is_some()
    }

    /// The request's session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Redeems the refresh token now, whatever the access token's expiry, and saves the new tokens
    /// in the session. Renewals of one session take turns within this instance (and across the
    /// instances sharing a [`RedisStore`](crate::RedisStore)), each with the
    /// refresh token the one before it stored, so that a server detecting the reuse of a rotated
    /// refresh token never sees one twice; if the renewal before this one failed while this one
    /// waited, this one takes that failure ([`LoginError::RenewalFailed`]) rather than trying
    /// again. A refresh token the server refuses (`invalid_grant`: revoked, or the session ended)
    /// ends the signed-in session, unless another instance sharing the store renewed it
    /// meanwhile, in which case that instance's tokens are taken.
    ///
    /// It reads the session record again from the store, before and after the token request, to
    /// find the tokens another request stored: changes the handler made to the session and has not
    /// saved yet are dropped. Make them after this call, or [save](Session::save) them before.
    pub async fn refresh(&mut self) -> Result<(), LoginError> {
        self.renew_in_turn(Renewal::Forced).await
    }

    /// Renews the access token the extractor found near its expiry, once for all the requests of
    /// the session that found it so: the first redeems the refresh token, the others wait for it
    /// and take its outcome: its tokens, or its failure.
    async fn renew(&mut self) -> Result<(), LoginError> {
        self.renew_in_turn(Renewal::NearExpiry).await
    }

    /// Redeems the refresh token in the session's turn, after reading the record again: the
    /// refresh token read at the start of the request may have been rotated meanwhile. Near
    /// expiry, tokens another request stored while this one waited are taken as they are; a
    /// forced refresh redeems the latest refresh token whatever changed.
    async fn renew_in_turn(&mut self, renewal: Renewal) -> Result<(), LoginError> {
        let login = self.login.clone();
        let Some(id) = self.session.id() else {
            return self.redeem_refresh_token().await;
        };
        let mut turn = login.renewals().turn(id).await;
        // The instances sharing the sessions in Redis take turns too: two redeeming one rotated
        // refresh token at once would have the server revoke the grant.
        #[cfg(feature = "redis")]
        if let Some(lock) = login
            .renewals()
            .across_instances(&id, login.renewal_wait())
            .await?
        {
            let renewed = lock
                .held_while(self.renew_in_our_turn(renewal, &mut turn))
                .await;
            // Not releasing costs the others a wait until the lock expires, nothing more.
            let _ = lock.release().await;
            return renewed;
        }
        self.renew_in_our_turn(renewal, &mut turn).await
    }

    async fn renew_in_our_turn(
        &mut self,
        renewal: Renewal,
        turn: &mut crate::renewals::Turn<'_>,
    ) -> Result<(), LoginError> {
        let seen = self.data.clone();
        self.reread().await?;
        if renewal == Renewal::NearExpiry && self.data != seen {
            // Renewed by the request this one waited for (or by another instance): its tokens.
            return Ok(());
        }
        if turn.failed_while_waiting() {
            // The renewal this one waited for failed: so does this one, rather than every waiting
            // request trying again in turn, each as slow as the first.
            return Err(LoginError::RenewalFailed);
        }
        let renewed = self.redeem_refresh_token().await;
        if renewed.is_err() {
            turn.failed();
        }
        renewed
    }

    /// Reads the session's user again from the store, as another request may have stored it. This
    /// drops the request's unsaved changes to the session, of which there are none when the
    /// extractor runs (before the handler).
    async fn reread(&mut self) -> Result<(), LoginError> {
        self.session.load().await?;
        self.data = SessionData::read(&self.session)
            .await?
            .ok_or(LoginError::NotSignedIn)?;
        Ok(())
    }

    /// Redeems the refresh token held, and saves the new tokens in the session at once, if the
    /// session still holds the refresh token redeemed.
    async fn redeem_refresh_token(&mut self) -> Result<(), LoginError> {
        let redeemed = self.data.refresh_token.clone();
        let outcome = self.login.refresh(&self.data).await;
        // While the token endpoint answered, the session may have ended (a logout on another
        // instance sharing the store) or been renewed there: storing the tokens would bring the
        // session back, or overwrite newer ones.
        self.reread().await?;
        if self.data.refresh_token != redeemed {
            return Ok(());
        }
        match outcome {
            Ok(data) => {
                data.write(&self.session).await?;
                // Now, not at the end of the request: another request, here or on another instance
                // sharing the store, must find the rotated refresh token.
                self.session.save().await?;
                self.data = data;
                Ok(())
            }
            Err(error) if error.is_invalid_grant() => {
                remove_user(&self.session).await?;
                Err(error)
            }
            Err(error) => Err(error),
        }
    }
}

impl fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedIn")
            .field("sub", &self.data.claims.sub)
            .field("email", &self.data.claims.email)
            .field("expires_at", &self.data.expires_at)
            .finish_non_exhaustive()
    }
}

/// The refusal of [`SignedIn`]: a redirect to the login for a browser asking for a page, the
/// [`LoginError`]'s response (its status and JSON body) otherwise.
#[derive(Debug)]
pub struct SignInRequired {
    /// Where a browser asking for a page logs in: the login path, returning to the page.
    sign_in_at: Option<String>,
    reason: LoginError,
}

impl SignInRequired {
    /// Why the request was refused.
    pub fn reason(&self) -> &LoginError {
        &self.reason
    }

    /// Whether it is answered with a redirect to the login rather than the reason's status.
    pub fn redirects(&self) -> bool {
        self.sign_in_at.is_some() && self.reason.status() == StatusCode::UNAUTHORIZED
    }
}

impl fmt::Display for SignInRequired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.reason.fmt(f)
    }
}

impl std::error::Error for SignInRequired {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.reason)
    }
}

impl IntoResponse for SignInRequired {
    fn into_response(self) -> Response {
        match self.sign_in_at {
            Some(login) if self.reason.status() == StatusCode::UNAUTHORIZED => {
                Redirect::to(&login).into_response()
            }
            _ => self.reason.into_response(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = SignInRequired;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, SignInRequired> {
        let reason = match signed_in(parts).await {
            Ok(Some(user)) => return Ok(user),
            Ok(None) => LoginError::NotSignedIn,
            Err(reason) => reason,
        };
        Err(SignInRequired {
            sign_in_at: sign_in_at(parts),
            reason,
        })
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for SignedIn {
    type Rejection = SignInRequired;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, SignInRequired> {
        match signed_in(parts).await {
            Ok(user) => Ok(user),
            // Signed out by expiry or a refused refresh token: a visitor like any other.
            Err(reason) if reason.status() == StatusCode::UNAUTHORIZED => Ok(None),
            Err(reason) => Err(SignInRequired {
                sign_in_at: None,
                reason,
            }),
        }
    }
}

/// The session's user, the access token renewed if it is about to expire; `None` when nobody is
/// signed in.
async fn signed_in(parts: &Parts) -> Result<Option<SignedIn>, LoginError> {
    let login = parts
        .extensions
        .get::<WebLogin>()
        .cloned()
        .ok_or(LoginError::NotBehindLayer("WebLogin::layer"))?;
    let session = parts
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or(LoginError::NotBehindLayer("a tower-sessions session layer"))?;
    if !is_safe(&parts.method) && !is_same_origin(&parts.headers, login.origin()) {
        return Err(LoginError::CrossSite);
    }
    let Some(data) = SessionData::read(&session).await? else {
        return Ok(None);
    };
    let mut user = SignedIn {
        login,
        session,
        data,
    };
    let now = user.login.client().now();
    if user.data.needs_refresh(now, user.login.refresh_margin()) {
        if user.data.refresh_token.is_none() {
            if user.data.expired(now) {
                remove_user(&user.session).await?;
                return Err(LoginError::Expired);
            }
        } else if let Err(error) = user.renew().await {
            // The time again: the renewal may have waited for others, and for the token endpoint.
            // Unauthorized: the refresh token refused, or the session signed out meanwhile.
            if user.data.expired(user.login.client().now())
                || error.status() == StatusCode::UNAUTHORIZED
            {
                return Err(error);
            }
            tracing::warn!(%error, "access token refresh failed; the current one serves until it expires");
        }
    }
    Ok(Some(user))
}

/// Where a browser asking for a page logs in to come back to it, if the request is one.
fn sign_in_at(parts: &Parts) -> Option<String> {
    if !asks_for_page(parts) {
        return None;
    }
    let login = parts.extensions.get::<WebLogin>()?;
    // The whole path, as the browser asked for it: a nested router sees only its own part.
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |original| &original.0);
    let page = uri.path_and_query().map_or("/", |page| page.as_str());
    Some(login.login_returning_to(page))
}

/// Whether the request is a browser's asking for a page, which a redirect to the login serves
/// better than a 401.
fn asks_for_page(parts: &Parts) -> bool {
    matches!(parts.method, http::Method::GET | http::Method::HEAD)
        && parts.headers.get_all(ACCEPT).iter().any(|accept| {
            accept
                .to_str()
                .is_ok_and(|accept| accept.contains("text/html"))
        })
}

/// Why a request renews its session's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Renewal {
    /// The access token nears its expiry: tokens another request stored meanwhile will do.
    NearExpiry,
    /// The handler asked for it (`SignedIn::refresh`): the latest refresh token is redeemed.
    Forced,
}

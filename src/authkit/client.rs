//! One WorkOS Connect application as this crate sees it: its domain, `client_id` and `redirect_uri`,
//! and the requests it makes.

use std::fmt;
use std::sync::Arc;

use crate::authkit::domain::AuthKitDomain;
#[cfg(feature = "id-token")]
use crate::authkit::id_token::{IdTokenCheck, IdTokenClaims};
use crate::authkit::pending::{App, PendingAuthorization};
use crate::oauth::callback::AuthorizationCode;
use crate::oauth::client_id::ClientId;
use crate::oauth::clock::{Clock, ClockHandle};
use crate::oauth::credential::{ClientSecret, RefreshToken};
use crate::oauth::encoding::push_query_value;
use crate::oauth::redirect_uri::RedirectUri;
use crate::oauth::scope::Scopes;
use crate::oauth::token::TokenError;
use crate::oauth::token_request::TokenRequest;

/// A WorkOS Connect application's fixed settings, checked once and reused for every login.
///
/// Build it at start-up and share it (it is `Send + Sync`); each login then calls
/// [`authorize`](Self::authorize). The fixed part of the authorize URL is encoded here once, so a login
/// only appends its scopes and secrets.
///
/// ```
/// use workos_connect::{ConnectClient, Scope};
///
/// let client = ConnectClient::new(
///     "https://example.authkit.app".parse()?,
///     "client_01HXYZ".parse()?,
///     "https://app.example.com/callback".parse()?,
/// );
/// let (redirect, pending) = client.authorize().scopes(Scope::OpenId | Scope::Email).build()?;
/// assert!(redirect.as_str().starts_with("https://example.authkit.app/oauth2/authorize?response_type=code&"));
/// assert_eq!(pending.redirect_uri().as_str(), "https://app.example.com/callback");
/// # Ok::<(), workos_connect::Error>(())
/// ```
#[derive(Clone)]
pub struct ConnectClient {
    app: Arc<App>,
    /// For each of the 16 scope sets, indexed by its bits:
    /// `<authorize endpoint>?response_type=code&client_id=..&redirect_uri=..&scope=<scopes>`, encoded
    /// once, so that a login copies everything before its secrets in one piece.
    url_prefixes: Box<[Box<str>]>,
    /// Only for confidential applications; never copied into a pending login.
    client_secret: Option<ClientSecret>,
}

impl ConnectClient {
    /// The application with these settings. Each part was checked when it was made.
    pub fn new(domain: AuthKitDomain, client_id: ClientId, redirect_uri: RedirectUri) -> Self {
        // Made once per app, so built plainly rather than sized ahead.
        let mut prefix = domain.authorize_endpoint().to_string();
        prefix.push_str("?response_type=code&client_id=");
        push_query_value(&mut prefix, client_id.as_str());
        prefix.push_str("&redirect_uri=");
        push_query_value(&mut prefix, redirect_uri.as_str());
        prefix.push_str("&scope=");
        let url_prefixes = Scopes::every_set()
            .map(|scopes| {
                [prefix.as_str(), scopes.query_value()]
                    .concat()
                    .into_boxed_str()
            })
            .collect();
        ConnectClient {
            app: Arc::new(App {
                domain,
                client_id,
                redirect_uri,
                clock: ClockHandle::default(),
            }),
            url_prefixes,
            client_secret: None,
        }
    }

    /// The AuthKit domain.
    pub fn domain(&self) -> &AuthKitDomain {
        &self.app.domain
    }

    /// The `client_id`.
    pub fn client_id(&self) -> &ClientId {
        &self.app.client_id
    }

    /// The `redirect_uri`.
    pub fn redirect_uri(&self) -> &RedirectUri {
        &self.app.redirect_uri
    }

    /// The settings every pending login of this app carries, shared rather than copied.
    #[inline]
    pub(crate) fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// This client with a client secret: a confidential application, which authenticates to the token
    /// endpoint with `client_id` and `client_secret` in the body. Applications created through Dynamic
    /// Client Registration (PKCE, MCP) have no secret and skip this.
    pub fn with_client_secret(mut self, secret: ClientSecret) -> Self {
        self.client_secret = Some(secret);
        self
    }

    /// This client reading the time from `clock` rather than the system clock: the `created_at` of
    /// its logins, and the checks of their callbacks and ID tokens and of refreshed ID tokens (a
    /// [`FixedClock`](crate::oauth::FixedClock) in tests). A login read back from storage
    /// checks by the system clock, unless its check is given another with `clock`.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use workos_connect::{oauth::FixedClock, ConnectClient};
    ///
    /// let client = ConnectClient::new(
    ///     "https://example.authkit.app".parse()?,
    ///     "client_01HXYZ".parse()?,
    ///     "https://app.example.com/callback".parse()?,
    /// )
    /// .clock(FixedClock(UNIX_EPOCH + Duration::from_secs(1_700_000_000)));
    /// let (_redirect, pending) = client.authorize().build()?;
    /// assert_eq!(pending.created_at(), 1_700_000_000);
    /// # Ok::<(), workos_connect::Error>(())
    /// ```
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        let app = App {
            clock: ClockHandle::new(clock),
            ..App::clone(&self.app)
        };
        self.app = Arc::new(app);
        self
    }

    /// The time by this client's [`clock`](Self::clock): what a driver of its logins (a web
    /// framework's session layer, say) reads, so that the clock chosen once is the only one.
    pub fn now(&self) -> std::time::SystemTime {
        self.app.clock.now()
    }

    /// The clock the client reads.
    pub(crate) fn clock_handle(&self) -> &ClockHandle {
        &self.app.clock
    }

    pub(crate) fn client_secret(&self) -> Option<&ClientSecret> {
        self.client_secret.as_ref()
    }

    /// The URL up to and including the `scope` value.
    #[inline]
    pub(crate) fn url_prefix(&self, scopes: Scopes) -> &str {
        self.url_prefixes
            .get(scopes.index())
            .map_or("", |prefix| prefix)
    }
}

impl ConnectClient {
    /// The `authorization_code` grant for a checked callback's code (RFC 6749 section 4.1.3): `code`,
    /// `redirect_uri` as sent, `client_id`, the PKCE `code_verifier` if the login used one, and
    /// `client_secret` for a confidential application.
    ///
    /// The pending login must be this client's: same `client_id`, AuthKit domain and `redirect_uri`.
    /// A stored login is read back from outside the program, and the `redirect_uri` sent here must be
    /// the one this application registered, not whatever the record says.
    ///
    /// ```
    /// # use workos_connect::{ConnectClient, State, oauth::ClientSecret};
    /// let client = ConnectClient::new(
    ///     "https://example.authkit.app".parse()?,
    ///     "client_01HXYZ".parse()?,
    ///     "https://app.example.com/callback".parse()?,
    /// )
    /// .with_client_secret(ClientSecret::new("sk_example")?);
    /// let (_redirect, pending) = client.authorize().state(State::new("xyz")?).build()?;
    /// let code = pending.callback().check("code=abc&state=xyz").unwrap();
    /// let request = client.token_request(&pending, &code).unwrap();
    /// assert_eq!(request.url().as_str(), "https://example.authkit.app/oauth2/token");
    /// assert_eq!(
    ///     request.body(),
    ///     "grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback\
    ///      &client_id=client_01HXYZ&client_secret=sk_example"
    /// );
    /// # Ok::<(), workos_connect::Error>(())
    /// ```
    pub fn token_request(
        &self,
        pending: &PendingAuthorization,
        code: &AuthorizationCode,
    ) -> Result<TokenRequest, TokenError> {
        if pending.client_id() != self.client_id() {
            return Err(TokenError::ClientMismatch { field: "client_id" });
        }
        if pending.issuer() != self.domain() {
            return Err(TokenError::ClientMismatch { field: "issuer" });
        }
        if pending.redirect_uri() != self.redirect_uri() {
            return Err(TokenError::ClientMismatch {
                field: "redirect_uri",
            });
        }
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.secret().to_owned()),
            ("redirect_uri", pending.redirect_uri().as_str().to_owned()),
        ];
        if let Some(verifier) = pending.code_verifier() {
            form.push(("code_verifier", verifier.secret().to_owned()));
        }
        Ok(self.finish_token_request(form))
    }

    /// The `refresh_token` grant (RFC 6749 section 6), for a refresh token from an earlier response.
    pub fn refresh_request(&self, refresh_token: &RefreshToken) -> TokenRequest {
        self.finish_token_request(vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh_token.secret().to_owned()),
        ])
    }

    fn finish_token_request(&self, mut form: Vec<(&'static str, String)>) -> TokenRequest {
        form.push(("client_id", self.client_id().as_str().to_owned()));
        if let Some(secret) = self.client_secret() {
            form.push(("client_secret", secret.secret().to_owned()));
        }
        TokenRequest::new(self.domain().token_endpoint(), form, None)
    }
}

#[cfg(feature = "id-token")]
impl ConnectClient {
    /// Starts validating the ID token of a refresh response against the claims of the login's ID
    /// token (OpenID Connect Core section 12.2): the same `iss`, `sub` and `aud`, the same `azp` (absent
    /// when the login's had none), the same `auth_time` when both carry one, an `iat` no earlier than
    /// the login's, and a `nonce` that is absent or the login's. With no nonce to check, an access
    /// token for this client (same issuer, subject, audience and keys) is told apart by the
    /// `client_id` or `scope` it carries, and refused.
    pub fn refreshed_id_token<'a>(&'a self, previous: &'a IdTokenClaims) -> IdTokenCheck<'a> {
        IdTokenCheck::for_refresh(self.domain().issuer(), self.client_id().as_str(), previous)
            .with_clock(self.clock_handle())
    }
}

impl fmt::Debug for ConnectClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectClient")
            .field("domain", &self.app.domain)
            .field("client_id", &self.app.client_id)
            .field("redirect_uri", &self.app.redirect_uri)
            .field("client_secret", &self.client_secret)
            .finish_non_exhaustive()
    }
}

/// The client the unit tests of several modules share.
#[cfg(test)]
pub(crate) fn test_client() -> ConnectClient {
    ConnectClient::new(
        "https://example.authkit.app".parse().unwrap(),
        "client_1".parse().unwrap(),
        "https://app.example/cb".parse().unwrap(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn prefix_encodes_the_fixed_part_once() {
        let client = ConnectClient::new(
            "https://example.authkit.app".parse().unwrap(),
            "client a&b".parse().unwrap(),
            "https://app.example.com/cb?x=1".parse().unwrap(),
        );
        assert_eq!(
            client.url_prefix(crate::Scope::OpenId | crate::Scope::Email),
            "https://example.authkit.app/oauth2/authorize?response_type=code&client_id=client%20a%26b\
             &redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb%3Fx%3D1&scope=openid%20email"
        );
        for scopes in Scopes::every_set() {
            assert!(client
                .url_prefix(scopes)
                .ends_with(&format!("&scope={}", scopes.query_value())));
        }
    }
}

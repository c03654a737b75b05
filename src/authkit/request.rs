//! One login's authorize request: the builder, the URL it answers with, and how values are encoded.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroize;

use crate::authkit::client::ConnectClient;
use crate::authkit::pending::PendingAuthorization;
use crate::oauth::authorize_response::AuthorizeResponse;
use crate::oauth::error::Error;
use crate::oauth::login_hint::LoginHint;
use crate::oauth::pkce::PkceVerifier;
use crate::oauth::prompt::Prompts;
use crate::oauth::scope::Scopes;
use crate::oauth::scope_name::Scope;
use crate::oauth::secret::{draw, Nonce, State, GENERATED_BYTES, GENERATED_LEN};

/// The sum of `lengths`, saturating: it sizes a buffer, so a wrong size could cost a reallocation,
/// never correctness, and lengths of real inputs are far from overflowing.
#[inline]
fn sum_lengths<const N: usize>(lengths: [usize; N]) -> usize {
    lengths.into_iter().fold(0, usize::saturating_add)
}

impl ConnectClient {
    /// Starts an authorize request for one login: by default scope `openid`, a fresh `state` and a fresh
    /// `nonce`, no PKCE.
    pub fn authorize(&self) -> AuthorizeRequest<'_> {
        AuthorizeRequest::new(self)
    }
}

/// `code_challenge_method`, always `S256`, as one piece.
const CHALLENGE_METHOD_PARAMETER: &str = "&code_challenge_method=S256";

/// A builder for one login's `GET /oauth2/authorize` URL, made by [`ConnectClient::authorize`].
///
/// Defaults: scope `openid`, a fresh [`State`], a fresh [`Nonce`], no PKCE. [`build`](Self::build) gives
/// the URL to redirect the user to and the [`PendingAuthorization`] to keep until the callback.
///
/// The URL's parameters come in one fixed order: `response_type`, `client_id`, `redirect_uri`, `scope`,
/// `state`, `nonce`, `code_challenge`, `code_challenge_method`, `prompt`, `max_age`, `login_hint`,
/// each at most once.
///
/// [`prompt`](Self::prompt), [`login_hint`](Self::login_hint) and [`max_age`](Self::max_age) are
/// OpenID Connect Core's (section 3.1.2.1). AuthKit's authorize reference documents none of the
/// three, so AuthKit may ignore them; other OpenID Connect providers honour them. With `max_age`,
/// the login's ID token check refuses a token without `auth_time` or with one older than the limit
/// (section 3.1.3.7), so a provider that ignores it gets its logins refused: send it only to
/// providers that answer it.
///
/// ```
/// use workos_connect::{ConnectClient, Nonce, Scope};
///
/// let client = ConnectClient::new(
///     "https://example.authkit.app".parse()?,
///     "client_01HXYZ".parse()?,
///     "https://app.example.com/callback".parse()?,
/// );
/// let (redirect, pending) = client
///     .authorize()
///     .scopes(Scope::OpenId | Scope::Profile | Scope::OfflineAccess)
///     .nonce(Nonce::new("n-0S6_WzA2Mj")?)
///     .build()?;
/// assert!(redirect.as_str().contains("&scope=openid%20profile%20offline_access&state="));
/// assert!(redirect.as_str().contains("&nonce=n-0S6_WzA2Mj"));
/// assert!(pending.state().is_some());
/// # Ok::<(), workos_connect::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "call `build` to get the URL"]
pub struct AuthorizeRequest<'c> {
    client: &'c ConnectClient,
    scopes: Scopes,
    /// The caller's `state`, if given; drawn by `build` when absent and `send_state` holds.
    state: Option<State>,
    send_state: bool,
    /// The caller's `nonce`, if given; drawn by `build` when absent.
    nonce: Option<Nonce>,
    /// The caller's verifier, if given; drawn by `build` when absent and `pkce` holds.
    verifier: Option<PkceVerifier>,
    pkce: bool,
    prompts: Prompts,
    /// `max_age` in whole seconds.
    max_age: Option<u64>,
    login_hint: Option<LoginHint>,
}

impl<'c> AuthorizeRequest<'c> {
    #[inline]
    pub(crate) fn new(client: &'c ConnectClient) -> Self {
        AuthorizeRequest {
            client,
            scopes: Scopes::default(),
            state: None,
            send_state: true,
            nonce: None,
            verifier: None,
            pkce: false,
            prompts: Prompts::EMPTY,
            max_age: None,
            login_hint: None,
        }
    }

    /// The scopes to request (default `openid`). `profile` and `email` need `openid`; [`build`](Self::build)
    /// checks that.
    #[inline]
    pub fn scopes(mut self, scopes: impl Into<Scopes>) -> Self {
        self.scopes = scopes.into();
        self
    }

    /// Uses the caller's `state` instead of a fresh one, e.g. one that also carries app state. It must
    /// still be unguessable: it is the CSRF defence.
    #[inline]
    pub fn state(mut self, state: State) -> Self {
        self.state = Some(state);
        self.send_state = true;
        self
    }

    /// Sends no `state` at all.
    ///
    /// `state` is the defence against cross-site request forgery on the callback: without it, an
    /// attacker can complete a login in the victim's browser with the attacker's own code. Opt out only
    /// when another defence holds, which RFC 9700 section 2.1 allows in two cases: PKCE (available on
    /// WorkOS Connect only to applications created through Dynamic Client Registration), or an ID token
    /// whose `nonce` the app checks against the one kept in the victim's session before trusting it.
    /// [`build`](Self::build) refuses a request with neither.
    #[inline]
    pub fn without_state(mut self) -> Self {
        self.state = None;
        self.send_state = false;
        self
    }

    /// Uses the caller's `nonce` instead of a fresh one.
    #[inline]
    pub fn nonce(mut self, nonce: Nonce) -> Self {
        self.nonce = Some(nonce);
        self
    }

    /// Adds PKCE with a fresh [`PkceVerifier`] and its `S256` challenge.
    ///
    /// WorkOS Connect supports PKCE only for applications created through Dynamic Client Registration,
    /// which MCP authorization uses; other applications authenticate with their client secret instead.
    #[inline]
    pub fn with_pkce(mut self) -> Self {
        self.verifier = None;
        self.pkce = true;
        self
    }

    /// Adds PKCE with a fresh verifier when the client has no client secret, and not otherwise.
    ///
    /// An application without a secret is a public client, which WorkOS Connect lets use PKCE (it is
    /// made through Dynamic Client Registration); a confidential application authenticates with its
    /// secret instead. One login route then serves both kinds.
    #[inline]
    pub fn pkce_if_public(self) -> Self {
        if self.client.client_secret().is_some() {
            self
        } else {
            self.with_pkce()
        }
    }

    /// Adds PKCE with the caller's verifier; see [`with_pkce`](Self::with_pkce) for when WorkOS supports it.
    #[inline]
    pub fn pkce(mut self, verifier: PkceVerifier) -> Self {
        self.verifier = Some(verifier);
        self.pkce = true;
        self
    }

    /// What the authorization server should ask the user (`prompt`, OpenID Connect Core section
    /// 3.1.2.1): one [`Prompt`](crate::oauth::Prompt) or several; none by default, and then no
    /// `prompt` is sent. [`build`](Self::build) refuses `none` beside another value.
    ///
    /// `consent` is what some providers (`oidc-provider`, among others) require before they issue a
    /// refresh token for `offline_access`; `login` makes the user authenticate again; `none` asks
    /// for no page at all, and the callback then carries `login_required` or a similar error when
    /// one would be needed. AuthKit's authorize reference does not document `prompt`.
    ///
    /// ```
    /// # use workos_connect::{ConnectClient, Scope};
    /// use workos_connect::oauth::Prompt;
    /// # let client = ConnectClient::new(
    /// #     "https://example.authkit.app".parse()?,
    /// #     "client_01HXYZ".parse()?,
    /// #     "https://app.example.com/callback".parse()?,
    /// # );
    /// let (redirect, _pending) = client
    ///     .authorize()
    ///     .scopes(Scope::OpenId | Scope::OfflineAccess)
    ///     .prompt(Prompt::Login | Prompt::Consent)
    ///     .build()?;
    /// assert!(redirect.as_str().ends_with("&prompt=login%20consent"));
    /// assert!(client.authorize().prompt(Prompt::None | Prompt::Login).build().is_err());
    /// # Ok::<(), workos_connect::Error>(())
    /// ```
    #[inline]
    pub fn prompt(mut self, prompts: impl Into<Prompts>) -> Self {
        self.prompts = prompts.into();
        self
    }

    /// Who the app expects to log in (`login_hint`, OpenID Connect Core section 3.1.2.1), such as
    /// the email address the user typed: the server may fill in its login form or pick the
    /// account. A hint, not a constraint: the user may log in as someone else, so key the session
    /// on the ID token's `sub`, never on the hint. AuthKit's authorize reference does not document
    /// `login_hint`.
    ///
    /// ```
    /// # use workos_connect::ConnectClient;
    /// use workos_connect::oauth::LoginHint;
    /// # let client = ConnectClient::new(
    /// #     "https://example.authkit.app".parse()?,
    /// #     "client_01HXYZ".parse()?,
    /// #     "https://app.example.com/callback".parse()?,
    /// # );
    /// let (redirect, _pending) = client
    ///     .authorize()
    ///     .login_hint(LoginHint::new("ada+test@example.com")?)
    ///     .build()?;
    /// assert!(redirect.as_str().ends_with("&login_hint=ada%2Btest%40example.com"));
    /// # Ok::<(), workos_connect::Error>(())
    /// ```
    #[inline]
    pub fn login_hint(mut self, hint: LoginHint) -> Self {
        self.login_hint = Some(hint);
        self
    }

    /// The longest time since the user last authenticated that this login accepts (`max_age`,
    /// OpenID Connect Core section 3.1.2.1), sent in whole seconds (a fraction is dropped, which
    /// only makes the limit stricter). Zero asks the user to authenticate now.
    ///
    /// The [`PendingAuthorization`] remembers it, and its
    /// [`id_token`](PendingAuthorization::id_token) check then requires the ID token's
    /// `auth_time` and refuses one older than the limit plus the check's leeway (section 3.1.3.7,
    /// item 13). AuthKit's authorize reference does not document `max_age`: a provider that
    /// ignores it sends no `auth_time`, and its logins are refused, strictly.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use workos_connect::ConnectClient;
    /// # let client = ConnectClient::new(
    /// #     "https://example.authkit.app".parse()?,
    /// #     "client_01HXYZ".parse()?,
    /// #     "https://app.example.com/callback".parse()?,
    /// # );
    /// let (redirect, pending) = client.authorize().max_age(Duration::from_secs(300)).build()?;
    /// assert!(redirect.as_str().ends_with("&max_age=300"));
    /// assert_eq!(pending.max_age(), Some(Duration::from_secs(300)));
    /// # Ok::<(), workos_connect::Error>(())
    /// ```
    #[inline]
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age.as_secs());
        self
    }

    /// Checks the scopes, draws whatever secrets were not given, and writes the URL.
    ///
    /// Returns the response to redirect the user with and what the app must keep until the callback.
    pub fn build(mut self) -> Result<(AuthorizeResponse, PendingAuthorization), Error> {
        self.scopes.validate()?;
        self.prompts.validate()?;
        if !self.send_state && !self.pkce && !self.scopes.contains(Scope::OpenId) {
            return Err(Error::NoCsrfDefence);
        }
        // Taken before the URL is written: a reference count is a locked instruction, which waits for
        // every store before it, and the URL is hundreds of bytes of stores.
        let app = Arc::clone(self.client.app());
        let draw_state = self.send_state && self.state.is_none();
        let draw_verifier = self.pkce && self.verifier.is_none();
        if draw_state || self.nonce.is_none() || draw_verifier {
            // One draw for every secret this login generates, rather than one per secret.
            let mut bits = [[0u8; GENERATED_BYTES]; 3];
            draw(&mut bits);
            let [state_bits, nonce_bits, verifier_bits] = &bits;
            if draw_state {
                self.state = Some(State::from_bits(state_bits));
            }
            if self.nonce.is_none() {
                self.nonce = Some(Nonce::from_bits(nonce_bits));
            }
            if draw_verifier {
                self.verifier = Some(PkceVerifier::from_bits(verifier_bits));
            }
            bits.zeroize();
        }
        // Always given or drawn above by now; the fallback only spares a panic path.
        let nonce = self.nonce.unwrap_or_else(Nonce::generate);
        let url = write_url(
            self.client.url_prefix(self.scopes),
            self.state.as_ref(),
            &nonce,
            self.verifier.as_ref(),
            &Extras {
                prompts: self.prompts,
                max_age: self.max_age,
                login_hint: self.login_hint.as_ref(),
            },
        );
        let created_at = self.client.clock_handle().now_secs();
        Ok((
            AuthorizeResponse::new(url),
            PendingAuthorization::new(
                app,
                self.scopes,
                self.state,
                nonce,
                self.verifier,
                created_at,
                self.max_age,
            ),
        ))
    }
}

/// The parameters a login sends only when asked to, after the others.
#[derive(Clone, Copy, Default)]
struct Extras<'a> {
    prompts: Prompts,
    max_age: Option<u64>,
    login_hint: Option<&'a LoginHint>,
}

impl Extras<'_> {
    /// Their length in the URL, names included.
    #[inline]
    fn query_len(&self) -> usize {
        let prompts = if self.prompts.is_empty() {
            0
        } else {
            "&prompt=".len().saturating_add(self.prompts.query_len())
        };
        let max_age = self.max_age.map_or(0, |seconds| {
            "&max_age=".len().saturating_add(decimal_len(seconds))
        });
        let login_hint = self.login_hint.map_or(0, |hint| {
            "&login_hint=".len().saturating_add(hint.query_len())
        });
        sum_lengths([prompts, max_age, login_hint])
    }

    #[inline]
    fn push_query(&self, url: &mut String) {
        if !self.prompts.is_empty() {
            url.push_str("&prompt=");
            self.prompts.push_query(url);
        }
        if let Some(seconds) = self.max_age {
            // Writing into a `String` cannot fail, and the capacity was reserved.
            let _ = write!(url, "&max_age={seconds}");
        }
        if let Some(hint) = self.login_hint {
            url.push_str("&login_hint=");
            hint.push_query(url);
        }
    }
}

/// The number of decimal digits of `n`.
#[inline]
fn decimal_len(n: u64) -> usize {
    n.checked_ilog10()
        .map_or(1, |digits| (digits as usize).saturating_add(1))
}

/// A login's authorize URL: the client's fixed `prefix` (up to and including the `scope` value), then
/// the login's secrets, in one buffer sized exactly. It borrows the secrets so that `build` moves each
/// of them only once, into the pending authorization.
#[inline]
fn write_url(
    prefix: &str,
    state: Option<&State>,
    nonce: &Nonce,
    verifier: Option<&PkceVerifier>,
    extras: &Extras<'_>,
) -> String {
    let len = sum_lengths([
        prefix.len(),
        state.map_or(0, |state| "&state=".len().saturating_add(state.query_len())),
        "&nonce=".len(),
        nonce.query_len(),
        verifier.map_or(0, |_| {
            sum_lengths([
                "&code_challenge=".len(),
                GENERATED_LEN,
                CHALLENGE_METHOD_PARAMETER.len(),
            ])
        }),
        extras.query_len(),
    ]);
    let mut url = String::with_capacity(len);
    url.push_str(prefix);
    if let Some(state) = state {
        url.push_str("&state=");
        state.push_query(&mut url);
    }
    url.push_str("&nonce=");
    nonce.push_query(&mut url);
    if let Some(verifier) = verifier {
        url.push_str("&code_challenge=");
        url.push_str(verifier.challenge().as_str());
        url.push_str(CHALLENGE_METHOD_PARAMETER);
    }
    extras.push_query(&mut url);
    debug_assert_eq!(url.len(), len);
    url
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authkit::client::test_client as client;
    use crate::oauth::prompt_name::Prompt;

    #[test]
    fn the_url_is_sized_exactly() {
        let client = client();
        let hint = || LoginHint::new("ada lovelace+é@example.com").unwrap();
        for request in [
            client.authorize(),
            client.authorize().with_pkce(),
            client.authorize().without_state(),
            client
                .authorize()
                .state(State::new("a b&c").unwrap())
                .nonce(Nonce::new("%%").unwrap()),
            client.authorize().prompt(Prompt::Consent),
            client
                .authorize()
                .with_pkce()
                .prompt(Prompt::Login | Prompt::Consent | Prompt::SelectAccount)
                .max_age(Duration::from_secs(u64::MAX))
                .login_hint(hint()),
            client.authorize().max_age(Duration::ZERO),
            client.authorize().max_age(Duration::from_millis(9_999)),
            client.authorize().login_hint(hint()),
        ] {
            let scopes = request.scopes;
            let prompts = request.prompts;
            let max_age = request.max_age;
            let login_hint = request.login_hint.clone();
            let (redirect, pending) = request.build().unwrap();
            let url = write_url(
                client.url_prefix(scopes),
                pending.state(),
                pending.nonce(),
                pending.code_verifier(),
                &Extras {
                    prompts,
                    max_age,
                    login_hint: login_hint.as_ref(),
                },
            );
            assert_eq!(url.capacity(), url.len());
            assert_eq!(url, redirect.as_str());
        }
    }

    #[test]
    fn decimal_lengths() {
        for (n, len) in [(0, 1), (9, 1), (10, 2), (300, 3), (u64::MAX, 20)] {
            assert_eq!(decimal_len(n), len, "{n}");
            assert_eq!(n.to_string().len(), len);
        }
    }

    #[test]
    fn the_optional_parameters_come_last_encoded_and_only_when_asked() {
        let client = client();
        let (plain, _) = client.authorize().build().unwrap();
        for name in ["prompt=", "max_age=", "login_hint="] {
            assert!(!plain.as_str().contains(name), "{plain:?}");
        }
        let (redirect, pending) = client
            .authorize()
            .with_pkce()
            .prompt(Prompt::SelectAccount | Prompt::Consent)
            .max_age(Duration::from_millis(1_500))
            .login_hint(LoginHint::new("ada&x=1 @example.com").unwrap())
            .build()
            .unwrap();
        assert!(
            redirect.as_str().ends_with(
                "&code_challenge_method=S256&prompt=consent%20select_account&max_age=1\
                 &login_hint=ada%26x%3D1%20%40example.com"
            ),
            "{}",
            redirect.as_str()
        );
        assert_eq!(pending.max_age(), Some(Duration::from_secs(1)));
        let url = redirect.to_url().unwrap();
        let value = |name: &str| {
            url.query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned())
        };
        assert_eq!(value("prompt").as_deref(), Some("consent select_account"));
        assert_eq!(value("login_hint").as_deref(), Some("ada&x=1 @example.com"));
        assert_eq!(value("x"), None, "the hint's `&` stays inside its value");
        let (fresh, pending) = client.authorize().max_age(Duration::ZERO).build().unwrap();
        assert!(fresh.as_str().ends_with("&max_age=0"));
        assert_eq!(pending.max_age(), Some(Duration::ZERO));
    }

    #[test]
    fn prompt_none_with_another_value_is_refused_when_built() {
        let client = client();
        assert_eq!(
            client
                .authorize()
                .prompt(Prompt::None | Prompt::Consent)
                .build()
                .unwrap_err(),
            Error::PromptNoneCombined {
                other: Prompt::Consent
            }
        );
        let (redirect, _) = client.authorize().prompt(Prompt::None).build().unwrap();
        assert!(redirect.as_str().ends_with("&prompt=none"));
    }

    #[test]
    fn pkce_only_for_a_client_without_a_secret() {
        let public = client();
        let (_, pending) = public.authorize().pkce_if_public().build().unwrap();
        assert!(pending.code_verifier().is_some());
        let confidential =
            client().with_client_secret(crate::oauth::ClientSecret::new("sk_test").unwrap());
        let (redirect, pending) = confidential.authorize().pkce_if_public().build().unwrap();
        assert!(pending.code_verifier().is_none());
        assert!(!redirect.as_str().contains("code_challenge"));
    }

    #[test]
    fn without_state_needs_another_defence() {
        let client = client();
        let bare = client
            .authorize()
            .scopes(Scope::OfflineAccess)
            .without_state();
        assert_eq!(bare.build().unwrap_err(), Error::NoCsrfDefence);
        let with_pkce = client
            .authorize()
            .scopes(Scope::OfflineAccess)
            .without_state()
            .with_pkce();
        assert!(with_pkce.build().is_ok());
        assert!(client.authorize().without_state().build().is_ok());
    }

    #[test]
    fn debug_hides_state_and_nonce_even_when_they_look_like_parameters() {
        let client = client();
        let (redirect, _) = client
            .authorize()
            .state(State::new("x&nonce=visible-state").unwrap())
            .nonce(Nonce::new("state=visible-nonce").unwrap())
            .with_pkce()
            .build()
            .unwrap();
        let shown = format!("{redirect:?}");
        assert!(!shown.contains("visible"), "{shown}");
        assert!(
            shown.contains("&state=..&nonce=..&code_challenge="),
            "{shown}"
        );
        assert!(shown.contains("client_id=client_1"), "{shown}");
    }

    #[test]
    fn debug_hides_the_login_hint_and_shows_the_other_extras() {
        let (redirect, _) = client()
            .authorize()
            .prompt(Prompt::Consent)
            .max_age(Duration::from_secs(60))
            .login_hint(LoginHint::new("ada@example.com").unwrap())
            .build()
            .unwrap();
        let shown = format!("{redirect:?}");
        assert!(!shown.contains("ada"), "{shown}");
        assert!(
            shown.contains("&prompt=consent&max_age=60&login_hint=..\""),
            "{shown}"
        );
    }
}

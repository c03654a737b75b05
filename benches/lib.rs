//! The request every benchmark builds, with this crate and with the `oauth2` crate: four scopes,
//! `state`, `nonce` (an extra parameter for `oauth2`, which has no notion of one) and PKCE `S256`.

pub mod access_token_case;
pub mod dpop_request_case;

use oauth2::basic::BasicClient;
use oauth2::{AuthUrl, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl};
use workos_connect::{
    AuthorizeResponse, ConnectClient, Error, Nonce, PendingAuthorization, PkceVerifier, Scopes,
    State,
};

pub const DOMAIN: &str = "https://example.authkit.app";
pub const CLIENT_ID: &str = "client_01HZ8Q3KX7V5N2M4P6R8T0W2Y4";
pub const REDIRECT_URI: &str = "https://app.example.com/auth/callback";
const STATE: &str = "af0ifjsldkj-JT3e9x_Qm2lZ7bqRvW0pYcN5sUoKd4E";
const NONCE: &str = "n-0S6_WzA2Mj-pL8vQx3Rt7Yb1Kc9Ue5Hf2Jg4Dm6Na";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

pub type OAuth2Client = BasicClient<
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
>;

pub fn ours(redirect_uri: &str) -> ConnectClient {
    ConnectClient::new(
        DOMAIN.parse().expect("domain"),
        CLIENT_ID.parse().expect("client_id"),
        redirect_uri.parse().expect("redirect_uri"),
    )
}

pub fn theirs(redirect_uri: &str) -> OAuth2Client {
    BasicClient::new(oauth2::ClientId::new(CLIENT_ID.to_owned()))
        .set_auth_uri(AuthUrl::new(format!("{DOMAIN}/oauth2/authorize")).expect("auth url"))
        .set_redirect_uri(RedirectUrl::new(redirect_uri.to_owned()).expect("redirect url"))
}

/// The secrets a "URL from given secrets" case hands to this crate.
pub fn our_given_secrets() -> (State, Nonce, PkceVerifier) {
    (
        State::new(STATE).expect("state"),
        Nonce::new(NONCE).expect("nonce"),
        PkceVerifier::new(VERIFIER).expect("verifier"),
    )
}

/// What this crate's `build` returns.
pub type Built = Result<(AuthorizeResponse, PendingAuthorization), Error>;

/// The request built with this crate, from given secrets.
pub fn ours_url(
    client: &ConnectClient,
    state: State,
    nonce: Nonce,
    verifier: PkceVerifier,
) -> Built {
    client
        .authorize()
        .scopes(Scopes::ALL)
        .state(state)
        .nonce(nonce)
        .pkce(verifier)
        .build()
}

/// A fresh login with this crate: a new 256-bit state, nonce and PKCE pair.
pub fn ours_fresh_login(client: &ConnectClient) -> Built {
    client.authorize().scopes(Scopes::ALL).with_pkce().build()
}

/// The same secrets in the form `oauth2` takes them.
pub fn their_given_secrets() -> (CsrfToken, String, PkceCodeChallenge) {
    (
        CsrfToken::new(STATE.to_owned()),
        NONCE.to_owned(),
        PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(VERIFIER.to_owned())),
    )
}

/// The request built with `oauth2`.
pub fn oauth2_url(
    client: &OAuth2Client,
    state: CsrfToken,
    nonce: String,
    challenge: PkceCodeChallenge,
) -> (url::Url, CsrfToken) {
    SCOPES
        .iter()
        .fold(client.authorize_url(move || state), |request, scope| {
            request.add_scope(oauth2::Scope::new((*scope).to_owned()))
        })
        .add_extra_param("nonce", nonce)
        .set_pkce_challenge(challenge)
        .url()
}

/// A fresh login with `oauth2`: its own 128-bit state, a nonce drawn the same way, a new PKCE pair.
pub fn oauth2_fresh_login(
    client: &OAuth2Client,
) -> (url::Url, CsrfToken, CsrfToken, PkceCodeVerifier) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let nonce = CsrfToken::new_random();
    let (url, state) = oauth2_url(
        client,
        CsrfToken::new_random(),
        nonce.secret().clone(),
        challenge,
    );
    (url, state, nonce, verifier)
}

//! How a client authenticates at the token endpoint (RFC 7591 section 2, RFC 6749 section 2.3.1,
//! RFC 7523 section 2.2).

use std::fmt;
use std::str::FromStr;

use serde_with::{DeserializeFromStr, SerializeDisplay};

/// A `token_endpoint_auth_method` this crate can use.
///
/// ```
/// use workos_connect::registration::TokenEndpointAuth;
///
/// let method: TokenEndpointAuth = "client_secret_basic".parse()?;
/// assert_eq!(method, TokenEndpointAuth::ClientSecretBasic);
/// assert!(method.needs_secret());
/// assert!(!TokenEndpointAuth::PrivateKeyJwt.needs_secret());
/// assert!("client_secret_jwt".parse::<TokenEndpointAuth>().is_err());
/// # Ok::<(), workos_connect::registration::UnsupportedAuthMethod>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, SerializeDisplay, DeserializeFromStr)]
pub enum TokenEndpointAuth {
    /// `none`: a public client, which proves itself with PKCE instead of a secret.
    None,
    /// `client_secret_post`: `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// `client_secret_basic`: HTTP Basic authentication with the form-encoded `client_id` and
    /// `client_secret` (RFC 6749 section 2.3.1). RFC 7591's default when a server names none.
    ClientSecretBasic,
    /// `private_key_jwt`: a JWT signed with the client's private key, as `client_assertion`
    /// (RFC 7523 section 2.2); no secret is shared with the server. The credentials hold the key
    /// (`ClientCredentials::private_key_jwt`, feature `private-key-jwt`).
    PrivateKeyJwt,
}

/// A `token_endpoint_auth_method` this crate does not implement, such as `client_secret_jwt`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "token endpoint authentication method {method:?} is not supported; use `none`, \
     `client_secret_post`, `client_secret_basic` or `private_key_jwt`"
)]
pub struct UnsupportedAuthMethod {
    /// The method named.
    pub method: String,
}

impl TokenEndpointAuth {
    /// The method's registered name.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenEndpointAuth::None => "none",
            TokenEndpointAuth::ClientSecretPost => "client_secret_post",
            TokenEndpointAuth::ClientSecretBasic => "client_secret_basic",
            TokenEndpointAuth::PrivateKeyJwt => "private_key_jwt",
        }
    }

    /// Whether the method sends a client secret: `client_secret_post` and `client_secret_basic`.
    pub const fn needs_secret(self) -> bool {
        matches!(
            self,
            TokenEndpointAuth::ClientSecretPost | TokenEndpointAuth::ClientSecretBasic
        )
    }

    /// Whether the method authenticates the client at all (all but `none`): a confidential
    /// client, which the `client_credentials` grant needs.
    pub const fn is_confidential(self) -> bool {
        !matches!(self, TokenEndpointAuth::None)
    }

    /// The method to use with a server that publishes `supported`
    /// (`token_endpoint_auth_methods_supported`, `client_secret_basic` alone when absent, as RFC 8414
    /// says), for a client that has a secret or not: without a secret only `none`; with one, the
    /// first of `client_secret_basic` and `client_secret_post` the server takes. `None` when the
    /// server takes none of them.
    ///
    /// ```
    /// use workos_connect::registration::TokenEndpointAuth;
    ///
    /// let authkit = ["none", "client_secret_post", "client_secret_basic"].map(String::from);
    /// assert_eq!(TokenEndpointAuth::choose(Some(&authkit), false), Some(TokenEndpointAuth::None));
    /// assert_eq!(TokenEndpointAuth::choose(Some(&authkit), true), Some(TokenEndpointAuth::ClientSecretBasic));
    /// assert_eq!(TokenEndpointAuth::choose(None, false), None);
    /// ```
    pub fn choose(supported: Option<&[String]>, has_secret: bool) -> Option<TokenEndpointAuth> {
        let offered = |method: TokenEndpointAuth| match supported {
            Some(list) => list.iter().any(|name| name == method.as_str()),
            None => method == TokenEndpointAuth::ClientSecretBasic,
        };
        let preference: &[TokenEndpointAuth] = if has_secret {
            &[
                TokenEndpointAuth::ClientSecretBasic,
                TokenEndpointAuth::ClientSecretPost,
            ]
        } else {
            &[TokenEndpointAuth::None]
        };
        preference.iter().copied().find(|method| offered(*method))
    }
}

impl fmt::Display for TokenEndpointAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TokenEndpointAuth {
    type Err = UnsupportedAuthMethod;

    fn from_str(name: &str) -> Result<Self, UnsupportedAuthMethod> {
        match name {
            "none" => Ok(TokenEndpointAuth::None),
            "client_secret_post" => Ok(TokenEndpointAuth::ClientSecretPost),
            "client_secret_basic" => Ok(TokenEndpointAuth::ClientSecretBasic),
            "private_key_jwt" => Ok(TokenEndpointAuth::PrivateKeyJwt),
            other => Err(UnsupportedAuthMethod {
                method: other.to_owned(),
            }),
        }
    }
}

//! The claims of an AuthKit access token, as WorkOS documents them: the JWT's own, the session's,
//! and the organization's role, permissions, entitlements and feature flags.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::claim_values::{numeric_date, one_or_many, string_list};
use crate::scope_list::ScopeList;

/// The claims of a checked AuthKit access token.
///
/// Named: the JWT's `iss`, `sub` (the user, or the application's client ID for machine-to-machine
/// tokens), `aud`, `exp`, `iat` and `jti`; OAuth's `client_id` and `scope`; and AuthKit's own:
/// `sid`, `org_id`, `role`, `roles`, `permissions`, `entitlements`, `feature_flags` and `act`. Any
/// other claim is kept and read with [`claim`](Self::claim).
///
/// ```
/// # use workos_connect::resource_server::AccessTokenClaims;
/// fn may_delete(claims: &AccessTokenClaims) -> bool {
///     claims.has_permission("posts:delete") && claims.act.is_none()
/// }
/// ```
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
    /// The user's role in the organization (`org_id`), by its slug.
    pub role: Option<String>,
    /// Every role the user holds in the organization, when it has several.
    pub roles: Vec<String>,
    /// The permissions the user's roles grant in the organization.
    pub permissions: Vec<String>,
    /// The organization's entitlements (the features its plan includes).
    pub entitlements: Vec<String>,
    /// The feature flags enabled for this user, as of the session's last refresh.
    pub feature_flags: Vec<String>,
    /// Who is acting as the subject: present when a WorkOS dashboard user impersonates the user
    /// (RFC 8693 section 4.1's `act`).
    pub act: Option<Actor>,
    pub(super) other: Map<String, Value>,
}

impl AccessTokenClaims {
    /// A claim this type does not name.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.other.get(name)
    }

    /// Whether `permissions` holds `permission` (compared exactly, as WorkOS writes slugs).
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|held| held == permission)
    }

    /// Whether the user holds `role`, as `role` or among `roles`.
    pub fn has_role(&self, role: &str) -> bool {
        self.role.as_deref() == Some(role) || self.roles.iter().any(|held| held == role)
    }
}

/// The actor of RFC 8693 section 4.1: whoever acts on the subject's behalf. AuthKit names the
/// impersonating dashboard user by `sub`; any other member is kept.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Actor {
    /// The actor's identifier: for AuthKit's impersonation, the dashboard user's email address.
    #[serde(default)]
    pub sub: Option<String>,
    #[serde(flatten)]
    other: Map<String, Value>,
}

impl Actor {
    /// A member this type does not name (`act` again, for an actor acting for another).
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.other.get(name)
    }
}

/// The claims as they arrive, each optional so that a missing one is named.
#[derive(Deserialize)]
pub(super) struct RawClaims {
    pub(super) iss: Option<String>,
    pub(super) sub: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub(super) aud: Vec<String>,
    pub(super) client_id: Option<String>,
    pub(super) org_id: Option<String>,
    pub(super) sid: Option<String>,
    pub(super) scope: Option<String>,
    pub(super) jti: Option<String>,
    #[serde(default, deserialize_with = "numeric_date")]
    pub(super) exp: Option<u64>,
    #[serde(default, deserialize_with = "numeric_date")]
    pub(super) iat: Option<u64>,
    #[serde(default, deserialize_with = "numeric_date")]
    pub(super) nbf: Option<u64>,
    pub(super) role: Option<String>,
    #[serde(default, deserialize_with = "string_list")]
    pub(super) roles: Vec<String>,
    #[serde(default, deserialize_with = "string_list")]
    pub(super) permissions: Vec<String>,
    #[serde(default, deserialize_with = "string_list")]
    pub(super) entitlements: Vec<String>,
    #[serde(default, deserialize_with = "string_list")]
    pub(super) feature_flags: Vec<String>,
    pub(super) act: Option<Actor>,
    #[serde(flatten)]
    pub(super) other: Map<String, Value>,
}

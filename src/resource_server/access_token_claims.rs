//! The claims of an AuthKit access token, as WorkOS documents them: the JWT's own, the session's,
//! and the organization's role, permissions, entitlements and feature flags.

use std::fmt;
use std::sync::Arc;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::jose::claim_values::{numeric_date, one_or_many};
use crate::oauth::scope_list::ScopeList;

/// The claims of a checked AuthKit access token, read-only and cheap to clone (one shared
/// allocation), as a request's extensions and a remembered token need.
///
/// Named: the JWT's `iss`, `sub` (the user, or the application's client ID for machine-to-machine
/// tokens), `aud`, `exp`, `iat` and `jti`; OAuth's `client_id` and `scope`; and AuthKit's own:
/// `sid`, `org_id`, `role`, `roles`, `permissions`, `entitlements`, `feature_flags` and `act`. Any
/// other claim is kept and read with [`claim`](Self::claim).
///
/// ```
/// # use workos_connect::resource_server::AccessTokenClaims;
/// fn may_delete(claims: &AccessTokenClaims) -> bool {
///     claims.has_permission("posts:delete") && claims.act().is_none()
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AccessTokenClaims(Arc<Claims>);

#[derive(Debug, PartialEq)]
pub(super) struct Claims {
    pub(super) iss: String,
    pub(super) sub: String,
    pub(super) aud: Vec<String>,
    pub(super) client_id: Option<String>,
    pub(super) org_id: Option<String>,
    pub(super) sid: Option<String>,
    pub(super) scope: ScopeList,
    pub(super) jti: Option<String>,
    pub(super) exp: u64,
    pub(super) iat: Option<u64>,
    pub(super) role: Option<String>,
    pub(super) roles: Vec<String>,
    pub(super) permissions: Vec<String>,
    pub(super) entitlements: Vec<String>,
    pub(super) feature_flags: Vec<String>,
    pub(super) act: Option<Actor>,
    pub(super) cnf: Option<Confirmation>,
    pub(super) other: Map<String, Value>,
}

impl AccessTokenClaims {
    pub(super) fn new(claims: Claims) -> Self {
        AccessTokenClaims(Arc::new(claims))
    }

    /// The issuer, the AuthKit domain.
    pub fn iss(&self) -> &str {
        &self.0.iss
    }

    /// The subject: a user ID, or a client ID for a machine-to-machine token.
    pub fn sub(&self) -> &str {
        &self.0.sub
    }

    /// The audiences: this resource, among them.
    pub fn aud(&self) -> &[String] {
        &self.0.aud
    }

    /// The client the token was issued to.
    pub fn client_id(&self) -> Option<&str> {
        self.0.client_id.as_deref()
    }

    /// The organization the user signed in to, if any.
    pub fn org_id(&self) -> Option<&str> {
        self.0.org_id.as_deref()
    }

    /// The session, for user tokens.
    pub fn sid(&self) -> Option<&str> {
        self.0.sid.as_deref()
    }

    /// The scopes granted.
    pub fn scope(&self) -> &ScopeList {
        &self.0.scope
    }

    /// The token's unique ID.
    pub fn jti(&self) -> Option<&str> {
        self.0.jti.as_deref()
    }

    /// Expiry, in seconds since the Unix epoch.
    pub fn exp(&self) -> u64 {
        self.0.exp
    }

    /// Issue time, in seconds since the Unix epoch.
    pub fn iat(&self) -> Option<u64> {
        self.0.iat
    }

    /// The user's role in the organization (`org_id`), by its slug.
    pub fn role(&self) -> Option<&str> {
        self.0.role.as_deref()
    }

    /// Every role the user holds in the organization, when it has several.
    pub fn roles(&self) -> &[String] {
        &self.0.roles
    }

    /// The permissions the user's roles grant in the organization.
    pub fn permissions(&self) -> &[String] {
        &self.0.permissions
    }

    /// The organization's entitlements (the features its plan includes).
    pub fn entitlements(&self) -> &[String] {
        &self.0.entitlements
    }

    /// The feature flags enabled for this user, as of the session's last refresh.
    pub fn feature_flags(&self) -> &[String] {
        &self.0.feature_flags
    }

    /// Who is acting as the subject: present when a WorkOS dashboard user impersonates the user
    /// (RFC 8693 section 4.1's `act`).
    pub fn act(&self) -> Option<&Actor> {
        self.0.act.as_ref()
    }

    /// The key the token is bound to (RFC 7800's `cnf`): for a DPoP-bound token, its `jkt`.
    pub fn cnf(&self) -> Option<&Confirmation> {
        self.0.cnf.as_ref()
    }

    /// A claim this type does not name.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.0.other.get(name)
    }

    /// Whether `permissions` holds `permission` (compared exactly, as WorkOS writes slugs).
    pub fn has_permission(&self, permission: &str) -> bool {
        self.0.permissions.iter().any(|held| held == permission)
    }

    /// Whether the user holds `role`, as `role` or among `roles`.
    pub fn has_role(&self, role: &str) -> bool {
        self.role() == Some(role) || self.0.roles.iter().any(|held| held == role)
    }
}

/// The actor of RFC 8693 section 4.1: whoever acts on the subject's behalf. AuthKit names the
/// impersonating dashboard user by `sub`; any other member is kept.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Actor {
    #[serde(default)]
    sub: Option<String>,
    #[serde(flatten)]
    other: Map<String, Value>,
}

impl Actor {
    /// The actor's identifier: for AuthKit's impersonation, the dashboard user's email address.
    pub fn sub(&self) -> Option<&str> {
        self.sub.as_deref()
    }

    /// A member this type does not name (`act` again, for an actor acting for another).
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.other.get(name)
    }
}

/// The key a token is bound to (RFC 7800 section 3.1, `cnf`): a holder must prove it has that key
/// with each use of the token.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Confirmation {
    #[serde(default)]
    jkt: Option<String>,
    #[serde(flatten)]
    other: Map<String, Value>,
}

impl Confirmation {
    /// The SHA-256 JWK thumbprint (RFC 7638) of the DPoP key the token is bound to (RFC 9449
    /// section 6.1), base64url.
    pub fn jkt(&self) -> Option<&str> {
        self.jkt.as_deref()
    }

    /// A confirmation method this type does not name (`x5t#S256` for mutual TLS, `jwk`, ...).
    pub fn method(&self, name: &str) -> Option<&Value> {
        self.other.get(name)
    }
}

/// The claims as they arrive, each optional so that a missing one is named.
#[derive(Default)]
pub(super) struct RawClaims {
    pub(super) iss: Option<String>,
    pub(super) sub: Option<String>,
    pub(super) aud: Vec<String>,
    pub(super) client_id: Option<String>,
    pub(super) org_id: Option<String>,
    pub(super) sid: Option<String>,
    pub(super) scope: Option<String>,
    pub(super) jti: Option<String>,
    pub(super) exp: Option<u64>,
    pub(super) iat: Option<u64>,
    pub(super) nbf: Option<u64>,
    pub(super) role: Option<String>,
    pub(super) roles: Vec<String>,
    pub(super) permissions: Vec<String>,
    pub(super) entitlements: Vec<String>,
    pub(super) feature_flags: Vec<String>,
    pub(super) act: Option<Actor>,
    pub(super) cnf: Option<Confirmation>,
    pub(super) other: Map<String, Value>,
}

/// Read in one pass, each claim straight into its field: `#[serde(flatten)]` would buffer the
/// whole object first, which costs a tenth of a signature verification on every first check. As
/// with a derived reader, a claim named twice refuses the token, so that no reader can take the
/// other copy.
impl<'de> Deserialize<'de> for RawClaims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RawClaimsVisitor)
    }
}

struct RawClaimsVisitor;

impl<'de> Visitor<'de> for RawClaimsVisitor {
    type Value = RawClaims;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the claims of an access token")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawClaims, A::Error> {
        let mut raw = RawClaims::default();
        let mut seen = Seen::default();
        while let Some(name) = map.next_key::<ClaimName>()? {
            let name = match name {
                ClaimName::Known(name) => name,
                ClaimName::Other(name) => {
                    let value = map.next_value::<Value>()?;
                    if raw.other.insert(name, value).is_some() {
                        return Err(de::Error::custom("a claim is named twice"));
                    }
                    continue;
                }
            };
            match name {
                "iss" => seen.once("iss", &mut raw.iss, map.next_value()?)?,
                "sub" => seen.once("sub", &mut raw.sub, map.next_value()?)?,
                "aud" => {
                    let Audience(aud) = map.next_value()?;
                    seen.once("aud", &mut raw.aud, aud)?;
                }
                "client_id" => seen.once("client_id", &mut raw.client_id, map.next_value()?)?,
                "org_id" => seen.once("org_id", &mut raw.org_id, map.next_value()?)?,
                "sid" => seen.once("sid", &mut raw.sid, map.next_value()?)?,
                "scope" => seen.once("scope", &mut raw.scope, map.next_value()?)?,
                "jti" => seen.once("jti", &mut raw.jti, map.next_value()?)?,
                "exp" | "iat" | "nbf" => {
                    let NumericDate(date) = map.next_value()?;
                    let field = match name {
                        "exp" => &mut raw.exp,
                        "iat" => &mut raw.iat,
                        _ => &mut raw.nbf,
                    };
                    seen.once(name, field, date)?;
                }
                "role" => seen.once("role", &mut raw.role, map.next_value()?)?,
                "roles" | "permissions" | "entitlements" | "feature_flags" => {
                    let StringList(list) = map.next_value()?;
                    let field = match name {
                        "roles" => &mut raw.roles,
                        "permissions" => &mut raw.permissions,
                        "entitlements" => &mut raw.entitlements,
                        _ => &mut raw.feature_flags,
                    };
                    seen.once(name, field, list)?;
                }
                "act" => seen.once("act", &mut raw.act, map.next_value()?)?,
                "cnf" => seen.once("cnf", &mut raw.cnf, map.next_value()?)?,
                // Every name of NAMED has its arm above.
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok(raw)
    }
}

/// The claims read into their own fields.
const NAMED: [&str; 18] = [
    "iss",
    "sub",
    "aud",
    "client_id",
    "org_id",
    "sid",
    "scope",
    "jti",
    "exp",
    "iat",
    "nbf",
    "role",
    "roles",
    "permissions",
    "entitlements",
    "feature_flags",
    "act",
    "cnf",
];

/// A claim's name: one of [`NAMED`] without allocating, or another, kept.
enum ClaimName {
    Known(&'static str),
    Other(String),
}

impl<'de> Deserialize<'de> for ClaimName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_identifier(ClaimNameVisitor)
    }
}

struct ClaimNameVisitor;

impl Visitor<'_> for ClaimNameVisitor {
    type Value = ClaimName;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a claim name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<ClaimName, E> {
        Ok(
            match NAMED
                .iter()
                .find(|known| !known.is_empty() && **known == name)
            {
                Some(known) => ClaimName::Known(known),
                None => ClaimName::Other(name.to_owned()),
            },
        )
    }
}

/// The named claims read so far, so that a second copy is refused.
#[derive(Default)]
struct Seen(Vec<&'static str>);

impl Seen {
    fn once<T, E: de::Error>(
        &mut self,
        name: &'static str,
        field: &mut T,
        value: T,
    ) -> Result<(), E> {
        if self.0.contains(&name) {
            return Err(E::duplicate_field(name));
        }
        self.0.push(name);
        *field = value;
        Ok(())
    }
}

/// `aud`, one string or several.
struct Audience(Vec<String>);

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        one_or_many(deserializer).map(Audience)
    }
}

/// A NumericDate, or `null`.
struct NumericDate(Option<u64>);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        numeric_date(deserializer).map(NumericDate)
    }
}

/// An array of strings, or `null` for none: AuthKit's `roles`, `permissions`, `entitlements` and
/// `feature_flags`. Anything else refuses the token rather than losing a value a check may rely on.
struct StringList(Vec<String>);

impl<'de> Deserialize<'de> for StringList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let list = Option::<Vec<String>>::deserialize(deserializer)?;
        Ok(StringList(list.unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Result<RawClaims, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn the_claims_and_their_nested_objects_are_objects_only() {
        // RFC 7519 §7.2, RFC 7800 §3.1, RFC 8693 §4.1: the claims set, `cnf` and `act` are
        // objects; none is read from an array of its members.
        assert!(read(r#"["i","s"]"#).is_err());
        assert!(read(r#"{"cnf":["t"]}"#).is_err());
        assert!(read(r#"{"act":["x"]}"#).is_err());
        assert!(read(r#"{"cnf":{"jkt":"t"},"act":{"sub":"x"}}"#).is_ok());
    }

    #[test]
    fn each_claim_goes_to_its_field_and_the_rest_is_kept() {
        let raw = read(
            r#"{"iss":"i","sub":"s","aud":["a","b"],"exp":2.5,"nbf":1,"roles":null,
                "permissions":["p"],"act":{"sub":"x","act":{"sub":"y"}},"tier":"gold","n":null,
                "cnf":{"jkt":"t","x5t#S256":"c"}}"#,
        )
        .unwrap();
        assert_eq!(raw.iss.as_deref(), Some("i"));
        assert_eq!(raw.aud, ["a", "b"]);
        assert_eq!((raw.exp, raw.nbf, raw.iat), (Some(2), Some(1), None));
        assert!(raw.roles.is_empty());
        assert_eq!(raw.permissions, ["p"]);
        let act = raw.act.unwrap();
        assert_eq!(act.sub(), Some("x"));
        assert!(act.claim("act").is_some());
        let cnf = raw.cnf.unwrap();
        assert_eq!(cnf.jkt(), Some("t"));
        assert_eq!(cnf.method("x5t#S256").unwrap(), "c");
        assert_eq!(raw.other.get("tier").unwrap(), "gold");
        assert_eq!(raw.other.get("n"), Some(&Value::Null));
        assert_eq!(read(r#"{"aud":"one"}"#).unwrap().aud, ["one"]);
    }

    #[test]
    fn a_claim_named_twice_is_refused_even_when_escaped() {
        for json in [
            r#"{"sub":"a","sub":"b"}"#,
            r#"{"sub":"a","s\u0075b":"b"}"#,
            r#"{"permissions":[],"permissions":["admin"]}"#,
            r#"{"exp":1,"exp":2}"#,
            r#"{"tier":1,"tier":2}"#,
        ] {
            assert!(read(json).is_err(), "{json}");
        }
    }

    #[test]
    fn claims_of_the_wrong_shape_are_refused() {
        for json in [
            r#"{"sub":1}"#,
            r#"{"permissions":"p"}"#,
            r#"{"roles":[null]}"#,
            r#"{"exp":-1}"#,
            r#"{"act":"x"}"#,
            r#"{"aud":[1]}"#,
            r#"[]"#,
            r#""claims""#,
        ] {
            assert!(read(json).is_err(), "{json}");
        }
    }
}

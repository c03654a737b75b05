//! The signing keys and the access tokens the clients send: good ones, and one of each way a token
//! can be bad.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

/// The RSA-2048 private keys the tokens are signed with. They are TEST-ONLY keys, committed on
/// purpose so that every run signs with the same keys without generating any: they protect nothing
/// and must never be trusted anywhere. A and B are the issuer's (B replaces A during the run); C is
/// never published, so whatever it signs is a forgery.
const PEM_A: &[u8] = include_bytes!("../keys/a.pem");
/// See [`PEM_A`].
const PEM_B: &[u8] = include_bytes!("../keys/b.pem");
/// See [`PEM_A`].
const PEM_C: &[u8] = include_bytes!("../keys/c.pem");

/// How long a good token lives: longer than any run, so that none expires under way.
const LIFETIME_SECS: u64 = 3600;

/// One signing key, with the `kid` its tokens name and its public half as a JWK.
pub struct SigningKey {
    /// The key ID tokens put in their header, and the JWK carries.
    pub kid: &'static str,
    /// The private key.
    key: EncodingKey,
    /// The public key, as the JWKS serves it.
    pub jwk: Value,
}

impl SigningKey {
    /// The key in `pem` (PKCS#8), under `kid`.
    fn load(kid: &'static str, pem: &[u8]) -> Result<SigningKey, jsonwebtoken::errors::Error> {
        let key = EncodingKey::from_rsa_pem(pem)?;
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256)?;
        jwk.common.key_id = Some(kid.to_owned());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        let jwk = serde_json::to_value(&jwk).map_err(jsonwebtoken::errors::Error::from)?;
        Ok(SigningKey { kid, key, jwk })
    }
}

/// The three keys: A and B, the issuer's, and C, which nobody publishes.
pub struct KeyRing {
    /// The issuer's key at start.
    pub a: SigningKey,
    /// The issuer's key after the rotation.
    pub b: SigningKey,
    /// A key outside every key set.
    pub c: SigningKey,
}

impl KeyRing {
    /// The committed test keys.
    pub fn load() -> Result<KeyRing, jsonwebtoken::errors::Error> {
        Ok(KeyRing {
            a: SigningKey::load("load-key-a", PEM_A)?,
            b: SigningKey::load("load-key-b", PEM_B)?,
            c: SigningKey::load("load-key-c", PEM_C)?,
        })
    }
}

/// Makes tokens for one issuer and resource.
pub struct Minter {
    /// `iss`.
    issuer: String,
    /// `aud`.
    resource: String,
    /// `scope`.
    scope: String,
    /// Numbers the tokens (`jti`, `sub`), so that no two are alike.
    serial: AtomicU64,
}

/// The bad tokens, signed once, each sent again and again: the server must refuse every sending.
/// Each names the key of the phase, so that only the fault it carries makes it bad.
pub struct BadTokens {
    /// Signed by C under the phase key's `kid`.
    pub bad_signature: String,
    /// For another resource.
    pub wrong_audience: String,
    /// From another issuer.
    pub wrong_issuer: String,
    /// Expired an hour ago, well past the server's leeway.
    pub expired: String,
    /// Naming a key no set holds: each one may make the server fetch the keys (at most once per
    /// refetch interval).
    pub unknown_kid: String,
    /// Good in every way but the scope the server requires.
    pub missing_scope: String,
}

impl BadTokens {
    /// How many tokens one set holds.
    pub const COUNT: usize = 6;
}

impl Minter {
    /// Tokens with `iss` = `issuer`, `aud` = `resource` and `scope` = `scope`.
    pub fn new(issuer: &str, resource: &str, scope: &str) -> Minter {
        Minter {
            issuer: issuer.to_owned(),
            resource: resource.to_owned(),
            scope: scope.to_owned(),
            serial: AtomicU64::new(0),
        }
    }

    /// A good token signed by `key`, unlike any other (its own `jti` and `sub`).
    pub fn valid(&self, key: &SigningKey) -> String {
        self.valid_for(key, None)
    }

    /// A good token signed by `key`, bound to the DPoP key of thumbprint `jkt` if given (its
    /// `cnf.jkt`, RFC 9449 section 6.1).
    pub fn valid_for(&self, key: &SigningKey, jkt: Option<&str>) -> String {
        self.sign(key, key.kid, self.claims(0, jkt))
    }

    /// The bad tokens for a phase whose issuer signs with `key`; `c` signs the forgeries.
    pub fn bad(&self, key: &SigningKey, c: &SigningKey) -> BadTokens {
        self.bad_for(key, c, None)
    }

    /// [`bad`](Self::bad), each bound to the DPoP key of thumbprint `jkt` if given, so that only
    /// the fault it carries makes it bad.
    pub fn bad_for(&self, key: &SigningKey, c: &SigningKey, jkt: Option<&str>) -> BadTokens {
        let claims = |shift| self.claims(shift, jkt);
        let mut wrong_audience = claims(0);
        wrong_audience["aud"] = json!("http://127.0.0.1:9/another-resource");
        let mut wrong_issuer = claims(0);
        wrong_issuer["iss"] = json!("http://127.0.0.1:9");
        let mut missing_scope = claims(0);
        missing_scope["scope"] = json!("openid profile");
        BadTokens {
            bad_signature: self.sign(c, key.kid, claims(0)),
            wrong_audience: self.sign(key, key.kid, wrong_audience),
            wrong_issuer: self.sign(key, key.kid, wrong_issuer),
            expired: self.sign(key, key.kid, claims(-2 * LIFETIME_SECS as i64)),
            unknown_kid: self.sign(c, "load-key-unknown", claims(0)),
            missing_scope: self.sign(key, key.kid, missing_scope),
        }
    }

    /// The claims of a good token issued `shift` seconds from now, bound to `jkt` if given.
    fn claims(&self, shift: i64, jkt: Option<&str>) -> Value {
        let serial = self.serial.fetch_add(1, Ordering::Relaxed);
        let iat = now().saturating_add_signed(shift);
        let mut claims = json!({
            "iss": self.issuer,
            "aud": self.resource,
            "sub": format!("user_load_{serial}"),
            "client_id": "client_load",
            "jti": format!("load-{serial}"),
            "scope": self.scope,
            "iat": iat,
            "exp": iat + LIFETIME_SECS,
        });
        if let Some(jkt) = jkt {
            claims["cnf"] = json!({ "jkt": jkt });
        }
        claims
    }

    /// `claims` signed with `key` (RS256, `typ` JWT), under `kid` in the header.
    fn sign(&self, key: &SigningKey, kid: &str, claims: Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        // Signing with a key that parsed cannot fail but for a broken crypto backend.
        jsonwebtoken::encode(&header, &claims, &key.key).expect("RS256 signing with a test key")
    }
}

/// Seconds since the Unix epoch.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

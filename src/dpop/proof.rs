//! A proof for one request (RFC 9449 §4): a JWT signed by the client's key that names the
//! request's method and URL, made fresh for every request.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest, Sha256};
use url::Url;

use super::jwk::PublicJwk;
use super::key::DpopKey;
use super::names::{DPOP_ALGORITHM, DPOP_SCHEME, PROOF_TYPE};
use super::nonce::DpopNonce;
use super::target_uri::htu;
use crate::oauth::clock::{Clock, ClockHandle};
use crate::oauth::credential::AccessToken;
use crate::oauth::encoding::base64url_32;
use crate::oauth::secret::generate_token;

/// A signed proof: the value of the request's `DPoP` header.
///
/// Its `Debug` shows the method, URL and `iat`, not the JWT: with the token, a proof is usable
/// until its time window closes.
#[derive(Clone, PartialEq, Eq)]
pub struct DpopProof {
    jwt: String,
    htm: String,
    htu: String,
    iat: u64,
}

impl DpopProof {
    /// The compact JWT, for the `DPoP` header.
    pub fn as_str(&self) -> &str {
        &self.jwt
    }

    /// The `htm` claim: the request's method.
    pub fn htm(&self) -> &str {
        &self.htm
    }

    /// The `htu` claim: the request's URL without query and fragment.
    pub fn htu(&self) -> &str {
        &self.htu
    }

    /// The `iat` claim, in Unix seconds.
    pub fn iat(&self) -> u64 {
        self.iat
    }
}

impl fmt::Debug for DpopProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopProof")
            .field("htm", &self.htm)
            .field("htu", &self.htu)
            .field("iat", &self.iat)
            .finish_non_exhaustive()
    }
}

/// Why a proof could not be made for a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DpopBuildError {
    /// The method is not an RFC 9110 token (`GET`, `POST`, ...).
    #[error("the request method is not an HTTP method token (letters such as `GET` or `POST`)")]
    InvalidMethod,
    /// The URL names no host, so no HTTP request goes to it.
    #[error("the request URL {url:?} names no host; a DPoP proof is for an http or https URL")]
    InvalidUrl {
        /// The URL.
        url: String,
    },
}

/// A proof being made: [`DpopKey::proof`], then the access token and nonce when there are any,
/// then [`sign`](Self::sign).
#[derive(Debug)]
#[must_use = "a proof builder does nothing until `sign` is called"]
pub struct DpopProofBuilder<'k> {
    key: &'k DpopKey,
    method: String,
    url: Url,
    ath: Option<String>,
    nonce: Option<DpopNonce>,
    clock: ClockHandle,
}

impl DpopKey {
    /// A proof for a request with this `method` (`"POST"` at the token endpoint) to this `url`,
    /// whose query and fragment the proof leaves out (RFC 9449 §4.2). Call it for every request,
    /// retries included: each proof has its own `jti`.
    pub fn proof(&self, method: &str, url: &Url) -> DpopProofBuilder<'_> {
        DpopProofBuilder {
            key: self,
            method: method.to_owned(),
            url: url.clone(),
            ath: None,
            nonce: None,
            clock: ClockHandle::default(),
        }
    }
}

impl DpopProofBuilder<'_> {
    /// Binds the proof to the access token sent with it (`ath`, RFC 9449 §4.2): required at a
    /// resource, absent at the token endpoint.
    pub fn access_token(mut self, token: &AccessToken) -> Self {
        self.ath = Some(access_token_hash(token));
        self
    }

    /// The server's latest `DPoP-Nonce` (RFC 9449 §8, §9).
    pub fn nonce(mut self, nonce: &DpopNonce) -> Self {
        self.nonce = Some(nonce.clone());
        self
    }

    /// Takes `iat` from `clock` rather than the system clock; a
    /// [`FixedClock`](crate::oauth::FixedClock) in tests.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = ClockHandle::new(clock);
        self
    }

    /// The proof signed by `clock`, the one of the login it belongs to.
    pub(crate) fn with_clock(mut self, clock: &ClockHandle) -> Self {
        self.clock = clock.clone();
        self
    }

    /// The signed proof, with a fresh `jti` of 256 random bits.
    pub fn sign(self) -> Result<DpopProof, DpopBuildError> {
        if self.method.is_empty() || !self.method.bytes().all(is_tchar) {
            return Err(DpopBuildError::InvalidMethod);
        }
        let htu = htu(&self.url).ok_or_else(|| DpopBuildError::InvalidUrl {
            url: self.url.to_string(),
        })?;
        let iat = self.clock.now_secs();
        let jti = generate_token();
        let header = ProofHeader {
            typ: PROOF_TYPE,
            alg: DPOP_ALGORITHM,
            jwk: self.key.public_jwk(),
        };
        let claims = ProofClaims {
            jti: &jti,
            htm: &self.method,
            htu: &htu,
            iat,
            ath: self.ath.as_deref(),
            nonce: self.nonce.as_ref().map(DpopNonce::as_str),
        };
        let mut jwt = String::new();
        push_json_part(&mut jwt, &header);
        jwt.push('.');
        push_json_part(&mut jwt, &claims);
        let signature = self.key.sign(jwt.as_bytes());
        jwt.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut jwt);
        Ok(DpopProof {
            jwt,
            htm: self.method,
            htu,
            iat,
        })
    }
}

#[derive(Serialize)]
struct ProofHeader<'a> {
    typ: &'static str,
    alg: &'static str,
    jwk: &'a PublicJwk,
}

#[derive(Serialize)]
struct ProofClaims<'a> {
    jti: &'a str,
    htm: &'a str,
    htu: &'a str,
    iat: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    ath: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
}

/// Appends `value` as JSON in base64url. The header and claims hold only strings and numbers, which
/// always serialize.
fn push_json_part(out: &mut String, value: &impl Serialize) {
    let json = serde_json::to_vec(value).unwrap_or_default();
    URL_SAFE_NO_PAD.encode_string(json, out);
}

/// RFC 9110 `tchar`: the characters of a method.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The `ath` of a proof sent with `token`: the base64url SHA-256 of its ASCII text (RFC 9449 §4.2).
///
/// ```
/// use workos_connect::{dpop::access_token_hash, oauth::AccessToken};
///
/// // RFC 9449 §7.1's token and hash.
/// let token = AccessToken::new("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU")?;
/// assert_eq!(access_token_hash(&token), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
/// # Ok::<(), workos_connect::Error>(())
/// ```
pub fn access_token_hash(token: &AccessToken) -> String {
    let digest: [u8; 32] = Sha256::digest(token.secret().as_bytes()).into();
    String::from_utf8_lossy(&base64url_32(&digest)).into_owned()
}

/// The `Authorization` header value for a DPoP-bound token: `DPoP <token>` (RFC 9449 §7.1). A
/// credential: keep it out of logs.
pub fn dpop_authorization(token: &AccessToken) -> String {
    let mut value = String::with_capacity(
        DPOP_SCHEME
            .len()
            .saturating_add(1)
            .saturating_add(token.secret().len()),
    );
    value.push_str(DPOP_SCHEME);
    value.push(' ');
    value.push_str(token.secret());
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(part: &str) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn a_proof_has_the_rfcs_header_and_claims() {
        let key = DpopKey::generate();
        let url = Url::parse("https://MCP.example.com/mcp?session=1#top").unwrap();
        let token = AccessToken::new("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU").unwrap();
        let nonce = DpopNonce::new("eyJ7S_zG.eyJH0-Z.HX4w-7v").unwrap();
        let proof = key
            .proof("GET", &url)
            .access_token(&token)
            .nonce(&nonce)
            .clock(crate::oauth::FixedClock(crate::oauth::clock::at_unix(
                1_562_262_618,
            )))
            .sign()
            .unwrap();
        let parts: Vec<&str> = proof.as_str().split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = decode(parts[0]);
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(
            header["jwk"],
            serde_json::to_value(key.public_jwk()).unwrap()
        );
        assert!(header["jwk"].get("d").is_none());
        let claims = decode(parts[1]);
        assert_eq!(claims["htm"], "GET");
        assert_eq!(claims["htu"], "https://mcp.example.com/mcp");
        assert_eq!(claims["iat"], 1_562_262_618);
        assert_eq!(claims["ath"], "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
        assert_eq!(claims["nonce"], "eyJ7S_zG.eyJH0-Z.HX4w-7v");
        assert_eq!(claims["jti"].as_str().unwrap().len(), 43);
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[2]).unwrap().len(), 64);
        assert_eq!(proof.htu(), "https://mcp.example.com/mcp");
        assert!(!format!("{proof:?}").contains(parts[2]));

        // A token request's proof carries neither `ath` nor `nonce`, and each proof its own `jti`.
        let first = key.proof("POST", &url).sign().unwrap();
        let second = key.proof("POST", &url).sign().unwrap();
        let claims = decode(first.as_str().split('.').nth(1).unwrap());
        assert!(claims.get("ath").is_none() && claims.get("nonce").is_none());
        assert_ne!(
            claims["jti"],
            decode(second.as_str().split('.').nth(1).unwrap())["jti"]
        );
    }

    #[test]
    fn methods_and_urls_are_checked() {
        let key = DpopKey::generate();
        let url = Url::parse("https://auth.example.com/token").unwrap();
        for bad in ["", "GET /", "PO\rST"] {
            assert_eq!(
                key.proof(bad, &url).sign().unwrap_err(),
                DpopBuildError::InvalidMethod
            );
        }
        let mailto = Url::parse("mailto:a@example.com").unwrap();
        assert!(matches!(
            key.proof("GET", &mailto).sign(),
            Err(DpopBuildError::InvalidUrl { .. })
        ));
    }

    #[test]
    fn the_authorization_value_uses_the_dpop_scheme() {
        let token = AccessToken::new("abc").unwrap();
        assert_eq!(dpop_authorization(&token), "DPoP abc");
    }
}

//! The client's DPoP state for one login (RFC 9449): its proof key, and the latest nonce each
//! server handed out, kept with the tokens bound to that key.

use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::dpop::{
    dpop_authorization, nonce_demanded_by_resource, nonce_demanded_by_token_endpoint, one_nonce,
    DpopBuildError, DpopKey, DpopNonce, DpopProof, DPOP_HEADER,
};
use crate::oauth::clock::ClockHandle;
use crate::oauth::credential::AccessToken;
use crate::oauth::http_request::HttpRequest;
use crate::oauth::token::AccessTokenType;

/// The key and the nonces: the authorization server's and the resource's are kept apart, since
/// each server checks only its own (RFC 9449 §8, §9).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub(crate) struct DpopBinding {
    key: DpopKey,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token_endpoint_nonce: Option<DpopNonce>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resource_nonce: Option<DpopNonce>,
}
crate::oauth::json_object::object_only!(DpopBinding, serialize);

impl DpopBinding {
    pub(crate) fn new(key: DpopKey) -> Self {
        DpopBinding {
            key,
            token_endpoint_nonce: None,
            resource_nonce: None,
        }
    }

    pub(crate) fn key(&self) -> &DpopKey {
        &self.key
    }

    pub(crate) fn resource_nonce(&self) -> Option<&DpopNonce> {
        self.resource_nonce.as_ref()
    }

    /// `request` to the token endpoint with a `DPoP` header: a proof signed now by `clock`, with
    /// the server's latest nonce. Made for every send, retries included, so that each has its own
    /// `jti` and a current `iat`.
    pub(crate) fn sign_token_request(
        &self,
        request: &HttpRequest,
        clock: &ClockHandle,
    ) -> Result<HttpRequest, DpopBuildError> {
        let mut proof = self
            .key
            .proof(request.method().as_str(), request.url())
            .with_clock(clock);
        if let Some(nonce) = &self.token_endpoint_nonce {
            proof = proof.nonce(nonce);
        }
        let proof = proof.sign()?;
        Ok(request
            .clone()
            .header(DPOP_HEADER, proof.as_str().to_owned()))
    }

    /// Takes the token endpoint's answer: keeps any nonce it sent (a server may hand out the next
    /// one with any response, RFC 9449 §8.2), and says whether it refused the request for want of
    /// one (`400 use_dpop_nonce`), to send again.
    pub(crate) fn token_endpoint_answered<'a>(
        &mut self,
        status: u16,
        body: &[u8],
        dpop_nonce: impl IntoIterator<Item = &'a [u8]> + Clone,
    ) -> bool {
        if let Some(nonce) = nonce_demanded_by_token_endpoint(status, body, dpop_nonce.clone()) {
            self.token_endpoint_nonce = Some(nonce);
            return true;
        }
        if let Some(nonce) = one_nonce(dpop_nonce) {
            self.token_endpoint_nonce = Some(nonce);
        }
        false
    }

    /// Takes a resource's answer, as [`token_endpoint_answered`](Self::token_endpoint_answered)
    /// does: `true` for a `401` whose `DPoP` challenge is `use_dpop_nonce` with a nonce.
    pub(crate) fn resource_answered<'a, 'b>(
        &mut self,
        status: u16,
        www_authenticate: impl IntoIterator<Item = &'a [u8]>,
        dpop_nonce: impl IntoIterator<Item = &'b [u8]> + Clone,
    ) -> bool {
        if let Some(nonce) =
            nonce_demanded_by_resource(status, www_authenticate, dpop_nonce.clone())
        {
            self.resource_nonce = Some(nonce);
            return true;
        }
        if let Some(nonce) = one_nonce(dpop_nonce) {
            self.resource_nonce = Some(nonce);
        }
        false
    }

    /// The proof for a resource request with `token`: its hash (`ath`) and the resource's nonce.
    fn resource_proof(
        &self,
        method: &str,
        url: &Url,
        token: &AccessToken,
        clock: &ClockHandle,
    ) -> Result<DpopProof, DpopBuildError> {
        let mut proof = self
            .key
            .proof(method, url)
            .access_token(token)
            .with_clock(clock);
        if let Some(nonce) = &self.resource_nonce {
            proof = proof.nonce(nonce);
        }
        proof.sign()
    }
}

impl fmt::Debug for DpopBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopBinding")
            .field("key", &self.key)
            .field("token_endpoint_nonce", &self.token_endpoint_nonce)
            .field("resource_nonce", &self.resource_nonce)
            .finish()
    }
}

/// The headers that present an access token to a resource, for one request: `Authorization`
/// (`Bearer` or `DPoP`), and for a DPoP-bound token the request's own `DPoP` proof (RFC 9449
/// §7.1). Made by [`McpAuthorization::resource_headers`](crate::mcp::McpAuthorization::resource_headers)
/// for each request, retries included.
///
/// Its `Debug` shows the scheme, never the token or the proof.
#[derive(Clone)]
pub struct ResourceHeaders {
    token_type: AccessTokenType,
    access_token: AccessToken,
    authorization: String,
    dpop: Option<DpopProof>,
    nonce: Option<DpopNonce>,
}

impl ResourceHeaders {
    pub(crate) fn new(
        token_type: AccessTokenType,
        access_token: &AccessToken,
        binding: Option<&DpopBinding>,
        method: &str,
        url: &Url,
        clock: &ClockHandle,
    ) -> Result<Self, DpopBuildError> {
        let (authorization, dpop, nonce) = match (token_type, binding) {
            (AccessTokenType::Dpop, Some(binding)) => (
                dpop_authorization(access_token),
                Some(binding.resource_proof(method, url, access_token, clock)?),
                binding.resource_nonce.clone(),
            ),
            _ => (format!("Bearer {}", access_token.secret()), None, None),
        };
        Ok(ResourceHeaders {
            token_type,
            access_token: access_token.clone(),
            authorization,
            dpop,
            nonce,
        })
    }

    /// How the token is presented: `Bearer`, or `DPoP` with a proof.
    pub fn token_type(&self) -> AccessTokenType {
        self.token_type
    }

    /// The access token presented, to tell later which token a refused request carried.
    pub fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    /// The `Authorization` header value: `Bearer <token>` or `DPoP <token>`. A credential: keep it
    /// out of logs.
    pub fn authorization(&self) -> &str {
        &self.authorization
    }

    /// The `DPoP` header value, for a DPoP-bound token.
    pub fn dpop(&self) -> Option<&DpopProof> {
        self.dpop.as_ref()
    }

    /// The resource's nonce the proof carries, to tell after a `use_dpop_nonce` refusal whether
    /// a newer one is known.
    pub fn nonce(&self) -> Option<&DpopNonce> {
        self.nonce.as_ref()
    }
}

impl fmt::Debug for ResourceHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceHeaders")
            .field("token_type", &self.token_type)
            .field("dpop", &self.dpop)
            .field("nonce", &self.nonce)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dpop::{access_token_hash, DpopProofCheck};

    fn token() -> AccessToken {
        AccessToken::new("at_bound").unwrap()
    }

    /// The claims of a proof, read without checking its signature.
    fn claims(proof: &str) -> serde_json::Value {
        use base64::Engine as _;
        let part = proof.split('.').nth(1).unwrap();
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap();
        serde_json::from_slice(&json).unwrap()
    }

    #[test]
    fn token_requests_get_a_fresh_proof_without_query_or_ath() {
        let binding = DpopBinding::new(DpopKey::generate());
        let url: Url = "https://auth.example.com/token?tenant=1".parse().unwrap();
        let request = HttpRequest::post(url, "application/x-www-form-urlencoded", "a=b".to_owned());
        let clock = ClockHandle::new(crate::oauth::FixedClock(crate::oauth::clock::at_unix(
            1_000,
        )));
        let first = binding.sign_token_request(&request, &clock).unwrap();
        let second = binding.sign_token_request(&request, &clock).unwrap();
        let proof = |signed: &HttpRequest| {
            signed
                .headers()
                .find(|(name, _)| *name == DPOP_HEADER)
                .map(|(_, value)| value.to_owned())
                .unwrap()
        };
        let (one, two) = (claims(&proof(&first)), claims(&proof(&second)));
        assert_eq!(one["htm"], "POST");
        assert_eq!(one["htu"], "https://auth.example.com/token");
        assert_eq!(one["iat"], 1_000);
        assert!(one.get("ath").is_none() && one.get("nonce").is_none());
        assert_ne!(one["jti"], two["jti"]);
        assert_eq!(first.body(), request.body());
    }

    #[test]
    fn only_a_nonce_demand_asks_for_a_retry_and_any_nonce_is_kept() {
        let mut binding = DpopBinding::new(DpopKey::generate());
        let demand = br#"{"error":"use_dpop_nonce"}"#;
        assert!(!binding.token_endpoint_answered(400, br#"{"error":"invalid_grant"}"#, []));
        assert_eq!(binding.token_endpoint_nonce, None);
        assert!(binding.token_endpoint_answered(400, demand, [b"n-1".as_slice()]));
        assert_eq!(
            binding.token_endpoint_nonce.as_ref().unwrap().as_str(),
            "n-1"
        );
        // A demand without a nonce cannot be met: no retry.
        assert!(!binding.token_endpoint_answered(400, demand, []));
        // A success may hand out the next nonce.
        assert!(!binding.token_endpoint_answered(200, b"{}", [b"n-2".as_slice()]));
        assert_eq!(
            binding.token_endpoint_nonce.as_ref().unwrap().as_str(),
            "n-2"
        );

        let challenge = br#"DPoP error="use_dpop_nonce", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#;
        assert!(binding.resource_answered(401, [challenge.as_slice()], [b"r-1".as_slice()]));
        assert_eq!(binding.resource_nonce().unwrap().as_str(), "r-1");
        let other = br#"DPoP error="invalid_token""#;
        assert!(!binding.resource_answered(401, [other.as_slice()], [b"r-2".as_slice()]));
        // The two servers' nonces stay apart.
        assert_eq!(binding.resource_nonce().unwrap().as_str(), "r-2");
        assert_eq!(
            binding.token_endpoint_nonce.as_ref().unwrap().as_str(),
            "n-2"
        );
    }

    #[test]
    fn resource_headers_bind_the_proof_to_the_token_url_and_nonce() {
        let mut binding = DpopBinding::new(DpopKey::generate());
        let url: Url = "https://mcp.example.com/mcp?x=1#f".parse().unwrap();
        let now = crate::oauth::clock::at_unix(1_700_000_000);
        let clock = ClockHandle::new(crate::oauth::FixedClock(now));
        let headers = ResourceHeaders::new(
            AccessTokenType::Dpop,
            &token(),
            Some(&binding),
            "GET",
            &url,
            &clock,
        )
        .unwrap();
        assert_eq!(headers.authorization(), "DPoP at_bound");
        let proof = headers.dpop().unwrap();
        let read = claims(proof.as_str());
        assert_eq!(read["htu"], "https://mcp.example.com/mcp");
        assert_eq!(read["htm"], "GET");
        assert_eq!(read["ath"], access_token_hash(&token()));
        assert!(read.get("nonce").is_none());
        assert_eq!(read["iat"], 1_700_000_000);
        DpopProofCheck::new()
            .clock(crate::oauth::FixedClock(now))
            .check_resource_request(
                [proof.as_str().as_bytes()],
                "GET",
                &url,
                &token(),
                binding.key().thumbprint(),
            )
            .unwrap();

        binding.resource_nonce = Some(DpopNonce::new("r-1").unwrap());
        let again = ResourceHeaders::new(
            AccessTokenType::Dpop,
            &token(),
            Some(&binding),
            "GET",
            &url,
            &clock,
        )
        .unwrap();
        assert_eq!(claims(again.dpop().unwrap().as_str())["nonce"], "r-1");
        assert_eq!(again.nonce().map(DpopNonce::as_str), Some("r-1"));
        assert_ne!(again.dpop().unwrap().as_str(), proof.as_str());

        // A Bearer token from a server that does not bind tokens goes as Bearer, with no proof.
        let bearer = ResourceHeaders::new(
            AccessTokenType::Bearer,
            &token(),
            Some(&binding),
            "GET",
            &url,
            &clock,
        )
        .unwrap();
        assert_eq!(bearer.authorization(), "Bearer at_bound");
        assert!(bearer.dpop().is_none());
        let shown = format!("{headers:?} {binding:?}");
        assert!(!shown.contains("at_bound"), "{shown}");
        assert!(shown.contains(binding.key().thumbprint()), "{shown}");
    }
}

//! The client's DPoP state for one login (RFC 9449): its proof key, and the latest nonce each
//! server handed out, kept with the tokens bound to that key.

use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::credential::AccessToken;
use crate::dpop::{
    dpop_authorization, nonce_demanded_by_resource, nonce_demanded_by_token_endpoint,
    DpopBuildError, DpopKey, DpopNonce, DpopProof, DPOP_HEADER,
};
use crate::http_request::HttpRequest;
use crate::token::AccessTokenType;

/// The key and the nonces: the authorization server's and the resource's are kept apart, since
/// each server checks only its own (RFC 9449 §8, §9).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DpopBinding {
    key: DpopKey,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token_endpoint_nonce: Option<DpopNonce>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resource_nonce: Option<DpopNonce>,
}

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

    /// `request` to the token endpoint with a `DPoP` header: a proof signed `now`, with the
    /// server's latest nonce. Made for every send, retries included, so that each has its own
    /// `jti` and a current `iat`.
    pub(crate) fn sign_token_request(
        &self,
        request: &HttpRequest,
        now: u64,
    ) -> Result<HttpRequest, DpopBuildError> {
        let mut proof = self
            .key
            .proof(request.method().as_str(), request.url())
            .at(now);
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
        now: Option<u64>,
    ) -> Result<DpopProof, DpopBuildError> {
        let mut proof = self.key.proof(method, url).access_token(token);
        if let Some(nonce) = &self.resource_nonce {
            proof = proof.nonce(nonce);
        }
        if let Some(now) = now {
            proof = proof.at(now);
        }
        proof.sign()
    }
}

/// The one valid `DPoP-Nonce` of a response; none when it sent none, several, or an invalid one.
fn one_nonce<'a>(headers: impl IntoIterator<Item = &'a [u8]>) -> Option<DpopNonce> {
    let mut headers = headers.into_iter();
    let first = headers.next()?;
    if headers.next().is_some() {
        return None;
    }
    DpopNonce::from_header(first).ok()
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
        now: Option<u64>,
    ) -> Result<Self, DpopBuildError> {
        let (authorization, dpop, nonce) = match (token_type, binding) {
            (AccessTokenType::Dpop, Some(binding)) => (
                dpop_authorization(access_token),
                Some(binding.resource_proof(method, url, access_token, now)?),
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

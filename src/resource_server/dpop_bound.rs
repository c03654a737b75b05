//! DPoP-bound access tokens at a resource server (RFC 9449 §7.1): the token sent as
//! `Authorization: DPoP`, its proof in the `DPoP` header, the proof's key the one the token's
//! `cnf.jkt` names.

use url::Url;

use crate::dpop::{DpopChallenge, DpopProofCheck, UnrecordedDpopProof, VerifiedDpopProof};
use crate::jose::key_set::KeySet;
use crate::oauth::credential::AccessToken;
use crate::resource_server::access_token::AccessTokenCheck;
use crate::resource_server::access_token_claims::AccessTokenClaims;
use crate::resource_server::access_token_error::AccessTokenError;
use crate::resource_server::bearer::{AuthorizationToken, BearerTokenError, TokenScheme};
use crate::resource_server::resource_challenge::ResourceChallenge;
use crate::resource_server::verified_tokens::VerifiedTokens;

impl AccessTokenCheck {
    /// Takes DPoP-bound tokens (`Authorization: DPoP`, RFC 9449 §7.1) besides bearer tokens, their
    /// proofs checked by `proofs`: its window, its nonce if it requires one, and its memory of
    /// accepted proofs, which this check's clones share, so that a proof is accepted once across
    /// all the workers holding a clone. A proof is judged at the moment its token is, by this
    /// check's [`clock`](Self::clock).
    ///
    /// ```
    /// use workos_connect::dpop::DpopProofCheck;
    /// use workos_connect::resource_server::AccessTokenCheck;
    ///
    /// let check = AccessTokenCheck::new(
    ///     "https://example.authkit.app".parse()?,
    ///     "https://api.example.com/mcp".parse()?,
    /// )
    /// .dpop(DpopProofCheck::new().max_age(30));
    /// assert!(check.takes_dpop() && check.takes_bearer());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dpop(mut self, proofs: DpopProofCheck) -> Self {
        self.dpop = Some(proofs);
        self
    }

    /// Takes DPoP-bound tokens only: a bearer token is refused with
    /// [`AccessTokenError::DpopRequired`], and the challenges name the `DPoP` scheme alone. The
    /// proofs are checked by the check given to [`dpop`](Self::dpop), or by
    /// [`DpopProofCheck::new`] when none was.
    pub fn require_dpop(mut self) -> Self {
        self.dpop_required = true;
        if self.dpop.is_none() {
            self.dpop = Some(DpopProofCheck::new());
        }
        self
    }

    /// Whether DPoP-bound tokens are taken.
    pub fn takes_dpop(&self) -> bool {
        self.dpop.is_some()
    }

    /// Whether bearer tokens are taken: unless DPoP is [required](Self::require_dpop).
    pub fn takes_bearer(&self) -> bool {
        !self.dpop_required
    }

    /// The check of DPoP proofs, when DPoP-bound tokens are taken.
    pub fn dpop_proof_check(&self) -> Option<&DpopProofCheck> {
        self.dpop.as_ref()
    }

    /// Checks a token sent as `Authorization: DPoP` with its proof: the token as
    /// [`validate`](Self::validate) checks it, but bound to a key (`cnf.jkt`, else
    /// [`AccessTokenError::NotDpopBound`]); then the proof, from all of the request's `DPoP`
    /// header values, for this `method` and `url` (the request's public URL, which a proof's
    /// `htu` names: build it from the resource's configured origin, not from the `Host` header,
    /// and refuse a request whose path that URL does not keep as your router reads it, with dot
    /// segments such as `/admin/%2e%2e/mcp`, which a URL turns into `/mcp`), carrying the token's
    /// hash (`ath`), signed by the key the token is bound to, not replayed, and with the nonce if
    /// one is required ([`AccessTokenError::DpopProof`]); last the scopes,
    /// permissions and organization.
    ///
    /// ```
    /// use workos_connect::dpop::DpopProofCheck;
    /// use workos_connect::{jose::KeySet, resource_server::{AccessTokenCheck, AccessTokenError}};
    /// use workos_connect::oauth::AccessToken;
    ///
    /// let bearer_only = AccessTokenCheck::new(
    ///     "https://example.authkit.app".parse()?,
    ///     "https://api.example.com/mcp".parse()?,
    /// );
    /// // RFC 9449's example key, as a set of one.
    /// let keys = KeySet::parse(br#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1",
    ///     "x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
    ///     "y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}]}"#)?;
    /// let token = AccessToken::new("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")?;
    /// let url = "https://api.example.com/mcp".parse()?;
    /// let refused = bearer_only.validate_dpop(&token, &keys, [], "POST", &url).unwrap_err();
    /// assert_eq!(refused, AccessTokenError::DpopNotAccepted);
    /// assert_eq!(refused.status(), 401);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn validate_dpop<'a>(
        &self,
        token: &AccessToken,
        keys: &KeySet,
        dpop: impl IntoIterator<Item = &'a [u8]>,
        method: &str,
        url: &Url,
    ) -> Result<AccessTokenClaims, AccessTokenError> {
        // The token and its proof are judged at one moment, by this check's clock.
        self.validate_dpop_at(token, keys, dpop, method, url, self.now_secs())
            .map(|(claims, _)| claims)
    }

    /// [`validate_dpop`](Self::validate_dpop) at `now` (Unix seconds) for the token and the
    /// proof alike; also gives the proof. The proof is
    /// looked at only once the token is verified, so a token naming a key the set lacks records
    /// no proof as used.
    pub(super) fn validate_dpop_at<'a>(
        &self,
        token: &AccessToken,
        keys: &KeySet,
        dpop: impl IntoIterator<Item = &'a [u8]>,
        method: &str,
        url: &Url,
        now: u64,
    ) -> Result<(AccessTokenClaims, VerifiedDpopProof), AccessTokenError> {
        let (claims, proof) =
            self.validate_dpop_unrecorded_at(token, keys, dpop, method, url, now)?;
        // Recorded last, once everything else passed: a refused request takes no room, and its
        // proof can be mended and sent again.
        let proofs = self
            .dpop
            .as_ref()
            .ok_or(AccessTokenError::DpopNotAccepted)?;
        let proof = proofs.record(proof).map_err(AccessTokenError::DpopProof)?;
        Ok((claims, proof))
    }

    /// [`validate_dpop_at`](Self::validate_dpop_at) with the proof's first use left to a replay
    /// memory shared by several instances: the proof passed every other check, and the token its
    /// grants, before the driver records it.
    pub(super) fn validate_dpop_unrecorded_at<'a>(
        &self,
        token: &AccessToken,
        keys: &KeySet,
        dpop: impl IntoIterator<Item = &'a [u8]>,
        method: &str,
        url: &Url,
        now: u64,
    ) -> Result<(AccessTokenClaims, UnrecordedDpopProof), AccessTokenError> {
        let Some(proofs) = &self.dpop else {
            return Err(AccessTokenError::DpopNotAccepted);
        };
        // One SHA-256 of the token serves as the key of the verified tokens and as the proof's
        // `ath`, which RFC 9449 §4.2 defines as that hash.
        let token_hash = VerifiedTokens::digest(token.secret());
        let claims = self.verified_hashed(token, &token_hash, keys, now)?;
        let jkt = claims
            .cnf()
            .and_then(|cnf| cnf.jkt())
            .ok_or(AccessTokenError::NotDpopBound)?;
        let proof = proofs
            .check_resource_request_unrecorded_at(dpop, method, url, &token_hash, jkt, now)
            .map_err(AccessTokenError::DpopProof)?;
        self.check_grants(&claims)?;
        Ok((claims, proof))
    }

    /// Checks the token of a request's `Authorization` header
    /// ([`authorization_token`](crate::resource_server::authorization_token)) by its scheme:
    /// [`validate`](Self::validate) for `Bearer`, [`validate_dpop`](Self::validate_dpop) with the
    /// request's `DPoP` header values, method and public URL for `DPoP`.
    pub fn validate_request<'a>(
        &self,
        authorization: &AuthorizationToken,
        keys: &KeySet,
        dpop: impl IntoIterator<Item = &'a [u8]>,
        method: &str,
        url: &Url,
    ) -> Result<AccessTokenClaims, AccessTokenError> {
        match authorization.scheme() {
            TokenScheme::Bearer => self.validate(authorization.token(), keys),
            TokenScheme::Dpop => self.validate_dpop(authorization.token(), keys, dpop, method, url),
        }
    }

    /// The `WWW-Authenticate` challenges of a refused request at a resource that takes the
    /// schemes this check takes (RFC 9449 §7.1, §7.2): a `Bearer` one unless DPoP is required,
    /// a `DPoP` one (`algs="ES256"`) when DPoP is taken, each with the scopes required and
    /// `resource_metadata` (RFC 9728 §5.1). The error goes in the challenge of the scheme the
    /// token came with (`scheme`), or in every challenge when that scheme is not taken.
    ///
    /// With a refusal that demands a nonce, also send
    /// [`AccessTokenError::dpop_nonce`] as the `DPoP-Nonce` header.
    ///
    /// ```
    /// use workos_connect::dpop::{DpopProofCheck, DpopProofError};
    /// use workos_connect::resource_server::{AccessTokenCheck, AccessTokenError, TokenScheme};
    ///
    /// let check = AccessTokenCheck::new(
    ///     "https://example.authkit.app".parse()?,
    ///     "https://api.example.com/mcp".parse()?,
    /// )
    /// .require_dpop();
    /// let metadata = "https://api.example.com/.well-known/oauth-protected-resource/mcp".parse()?;
    /// let replayed = AccessTokenError::DpopProof(DpopProofError::Replayed);
    /// let challenge = check.resource_challenge(Some(&replayed), Some(TokenScheme::Dpop), metadata);
    /// assert_eq!(
    ///     challenge.to_string(),
    ///     r#"DPoP resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp", error="invalid_dpop_proof", error_description="the DPoP proof was used before; make a fresh proof for every request", algs="ES256""#
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resource_challenge(
        &self,
        error: Option<&AccessTokenError>,
        scheme: Option<TokenScheme>,
        resource_metadata: Url,
    ) -> ResourceChallenge {
        let in_bearer = self.takes_bearer() && scheme != Some(TokenScheme::Dpop);
        let in_dpop =
            self.takes_dpop() && (scheme != Some(TokenScheme::Bearer) || !self.takes_bearer());
        let mut challenge = self.plain_challenge(resource_metadata.clone());
        if let Some(error) = error {
            let everywhere = !in_bearer && !in_dpop;
            if let Some(bearer) = challenge
                .bearer
                .as_mut()
                .filter(|_| in_bearer || everywhere)
            {
                *bearer = self.challenge(Some(error), resource_metadata);
            }
            if let Some(dpop) = challenge.dpop.as_mut().filter(|_| in_dpop || everywhere) {
                dpop.error = Some(error.dpop_error());
                dpop.error_description = Some(error.description().to_owned());
            }
        }
        challenge
    }

    /// The challenges for a request whose `Authorization` header could not be read: no `error`
    /// when it had no token, `invalid_request` and what to fix in every challenge when the header
    /// was malformed or repeated (answer with [`BearerTokenError::status`]).
    pub fn resource_request_challenge(
        &self,
        error: &BearerTokenError,
        resource_metadata: Url,
    ) -> ResourceChallenge {
        let mut challenge = self.plain_challenge(resource_metadata.clone());
        if let Some(bearer) = challenge.bearer.as_mut() {
            *bearer = self.request_challenge(error, resource_metadata);
        }
        if let (Some(dpop), Some(_)) = (challenge.dpop.as_mut(), error.bearer_error()) {
            dpop.error = Some(crate::dpop::DpopErrorCode::InvalidRequest);
            dpop.error_description = error.description().map(str::to_owned);
        }
        challenge
    }

    /// The challenges without an error, one per scheme taken.
    fn plain_challenge(&self, resource_metadata: Url) -> ResourceChallenge {
        let bearer = self
            .takes_bearer()
            .then(|| self.challenge(None, resource_metadata.clone()));
        let dpop = self.takes_dpop().then(|| DpopChallenge {
            resource_metadata: Some(resource_metadata),
            scope: (!self.required_scopes().is_empty()).then(|| self.required_scopes().to_string()),
            ..DpopChallenge::default()
        });
        ResourceChallenge { bearer, dpop }
    }
}

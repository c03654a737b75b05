//! RFC 9449's own examples, and each part of a proof tampered with in turn.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use url::Url;

use super::*;
use crate::oauth::clock::at_unix;
use crate::oauth::AccessToken;

/// RFC 9449 §4.1 (Figures 3 and 4): the token request's proof, issued at 1562262616.
const RFC_TOKEN_PROOF: &str = concat!(
    "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6Ik",
    "VDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCR",
    "nMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JE",
    "QSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIj",
    "oiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwia",
    "WF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg",
    "4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg",
);

/// RFC 9449 §7.1 (Figures 13 and 14): the protected resource request's proof, issued at
/// 1562262618, with the `ath` of the token below.
const RFC_RESOURCE_PROOF: &str = concat!(
    "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6Ik",
    "VDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCR",
    "nMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JE",
    "QSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIj",
    "oiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0Z",
    "WRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNF",
    "c05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9.2oW9RP35yRqzhrtNP86L-Ey71E",
    "OptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA",
);

/// RFC 9449 §5 and §7.1: the access token bound to the example key.
const RFC_ACCESS_TOKEN: &str = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";

/// RFC 9449 §6.1: the example key's thumbprint, the token's `cnf.jkt`.
const RFC_JKT: &str = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}

fn one(proof: &str) -> [&[u8]; 1] {
    [proof.as_bytes()]
}

#[test]
fn rfc_9449_token_request_proof_verifies() {
    let check = DpopProofCheck::new().clock(crate::oauth::FixedClock(at_unix(1_562_262_616)));
    let verified = check
        .check_proof(
            one(RFC_TOKEN_PROOF),
            "POST",
            &url("https://server.example.com/token"),
        )
        .unwrap();
    assert_eq!(verified.jkt(), RFC_JKT);
    assert_eq!(verified.jti(), "-BwC3ESc6acc2lTc");
    assert_eq!(verified.iat(), 1_562_262_616);
    // Sent again: a replay.
    assert_eq!(
        check.check_proof(
            one(RFC_TOKEN_PROOF),
            "POST",
            &url("https://server.example.com/token")
        ),
        Err(DpopProofError::Replayed)
    );
}

#[test]
fn rfc_9449_resource_request_proof_verifies() {
    let token = AccessToken::new(RFC_ACCESS_TOKEN).unwrap();
    assert_eq!(
        access_token_hash(&token),
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    );
    let resource = url("https://resource.example.org/protectedresource");
    let check = DpopProofCheck::new().clock(crate::oauth::FixedClock(at_unix(1_562_262_618)));
    let verified = check
        .check_resource_request(one(RFC_RESOURCE_PROOF), "GET", &resource, &token, RFC_JKT)
        .unwrap();
    assert_eq!(verified.jti(), "e1j3V_bKic8-LAEB");
    // Another token, or a token bound to another key, is refused.
    let fresh = DpopProofCheck::new().clock(crate::oauth::FixedClock(at_unix(1_562_262_618)));
    let other = AccessToken::new("another-token").unwrap();
    assert_eq!(
        fresh.check_resource_request(one(RFC_RESOURCE_PROOF), "GET", &resource, &other, RFC_JKT),
        Err(DpopProofError::AccessTokenHashMismatch)
    );
    let other_key = DpopKey::generate();
    assert_eq!(
        fresh.check_resource_request(
            one(RFC_RESOURCE_PROOF),
            "GET",
            &resource,
            &token,
            other_key.thumbprint()
        ),
        Err(DpopProofError::KeyBindingMismatch)
    );
    // A resource needs `ath`: the token request's proof has none.
    assert_eq!(
        DpopProofCheck::new()
            .clock(crate::oauth::FixedClock(at_unix(1_562_262_616)))
            .check_resource_request(
                one(RFC_TOKEN_PROOF),
                "POST",
                &url("https://server.example.com/token"),
                &token,
                RFC_JKT
            ),
        Err(DpopProofError::AccessTokenHashMismatch)
    );
}

#[test]
fn rfc_9449_proofs_are_refused_outside_their_window() {
    let token_url = url("https://server.example.com/token");
    let late = 1_562_262_616 + DEFAULT_PROOF_MAX_AGE_SECS + DEFAULT_PROOF_LEEWAY_SECS + 1;
    assert!(matches!(
        DpopProofCheck::new()
            .clock(crate::oauth::FixedClock(at_unix(late)))
            .check_proof(one(RFC_TOKEN_PROOF), "POST", &token_url),
        Err(DpopProofError::Stale { .. })
    ));
    let early = 1_562_262_616 - DEFAULT_PROOF_LEEWAY_SECS - 1;
    assert!(matches!(
        DpopProofCheck::new()
            .clock(crate::oauth::FixedClock(at_unix(early)))
            .check_proof(one(RFC_TOKEN_PROOF), "POST", &token_url),
        Err(DpopProofError::IssuedInFuture { .. })
    ));
}

/// A JWS over `header` and `claims`, signed by `key`.
fn signed(key: &DpopKey, header: &serde_json::Value, claims: &serde_json::Value) -> String {
    let mut jwt = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap());
    jwt.push('.');
    jwt.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap()));
    let signature = key.sign(jwt.as_bytes());
    jwt.push('.');
    jwt.push_str(&URL_SAFE_NO_PAD.encode(signature));
    jwt
}

struct Case {
    key: DpopKey,
    token: AccessToken,
    url: Url,
    now: u64,
}

impl Case {
    fn new() -> Case {
        Case {
            key: DpopKey::generate(),
            token: AccessToken::new("eyJhbGciOiJSUzI1NiJ9.e30.c2ln").unwrap(),
            url: url("https://mcp.example.com/mcp"),
            now: 1_700_000_000,
        }
    }

    fn header(&self) -> serde_json::Value {
        serde_json::json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.key.public_jwk()})
    }

    fn claims(&self) -> serde_json::Value {
        serde_json::json!({
            "jti": crate::oauth::secret::generate_token(),
            "htm": "POST",
            "htu": "https://mcp.example.com/mcp",
            "iat": self.now,
            "ath": access_token_hash(&self.token),
        })
    }

    fn check(&self, proof: &str) -> Result<VerifiedDpopProof, DpopProofError> {
        self.check_with(
            DpopProofCheck::new().clock(crate::oauth::FixedClock(at_unix(self.now))),
            proof,
        )
    }

    fn check_with(
        &self,
        check: DpopProofCheck,
        proof: &str,
    ) -> Result<VerifiedDpopProof, DpopProofError> {
        check.check_resource_request(
            one(proof),
            "POST",
            &self.url,
            &self.token,
            self.key.thumbprint(),
        )
    }

    fn with_claim(&self, name: &str, value: serde_json::Value) -> String {
        let mut claims = self.claims();
        claims[name] = value;
        signed(&self.key, &self.header(), &claims)
    }

    fn signed_with_nonce(&self, nonce: &DpopNonce) -> DpopProof {
        self.key
            .proof("POST", &self.url)
            .access_token(&self.token)
            .nonce(nonce)
            .clock(crate::oauth::FixedClock(at_unix(self.now)))
            .sign()
            .unwrap()
    }

    fn with_header(&self, name: &str, value: serde_json::Value) -> String {
        let mut header = self.header();
        header[name] = value;
        signed(&self.key, &header, &self.claims())
    }
}

#[test]
fn a_proof_made_by_the_key_passes_and_only_once() {
    let case = Case::new();
    let proof = case
        .key
        .proof("POST", &url("https://MCP.example.com:443/mcp?x=1"))
        .access_token(&case.token)
        .clock(crate::oauth::FixedClock(at_unix(case.now)))
        .sign()
        .unwrap();
    let check = DpopProofCheck::new().clock(crate::oauth::FixedClock(at_unix(case.now)));
    let verified = case.check_with(check.clone(), proof.as_str()).unwrap();
    assert_eq!(verified.jkt(), case.key.thumbprint());
    assert_eq!(
        case.check_with(check, proof.as_str()),
        Err(DpopProofError::Replayed)
    );
    // The hand-made proof of the tests passes too, so each refusal below is its one change's.
    assert!(case
        .check(&signed(&case.key, &case.header(), &case.claims()))
        .is_ok());
}

#[test]
fn each_tampered_part_is_refused() {
    let case = Case::new();
    assert_eq!(
        case.check(&case.with_claim("htm", "GET".into())),
        Err(DpopProofError::MethodMismatch {
            method: "POST".to_owned()
        })
    );
    assert_eq!(
        case.check(&case.with_claim("htu", "https://mcp.example.com/other".into())),
        Err(DpopProofError::UrlMismatch {
            url: "https://mcp.example.com/mcp".to_owned()
        })
    );
    assert!(matches!(
        case.check(&case.with_claim("iat", (case.now - 121).into())),
        Err(DpopProofError::Stale { .. })
    ));
    assert!(case
        .check(&case.with_claim("iat", (case.now - 120).into()))
        .is_ok());
    assert!(matches!(
        case.check(&case.with_claim("iat", (case.now + 61).into())),
        Err(DpopProofError::IssuedInFuture { .. })
    ));
    assert_eq!(
        case.check(&case.with_claim("ath", "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo".into())),
        Err(DpopProofError::AccessTokenHashMismatch)
    );
    let mut claims = case.claims();
    claims.as_object_mut().unwrap().remove("ath");
    assert_eq!(
        case.check(&signed(&case.key, &case.header(), &claims)),
        Err(DpopProofError::AccessTokenHashMismatch)
    );
    // Signed by another key than the header's: the signature does not verify.
    let other = DpopKey::generate();
    assert_eq!(
        case.check(&signed(&other, &case.header(), &case.claims())),
        Err(DpopProofError::BadSignature)
    );
    // Signed by a key of its own, but the token is bound to the case's key.
    let mut header = case.header();
    header["jwk"] = serde_json::to_value(other.public_jwk()).unwrap();
    assert_eq!(
        case.check(&signed(&other, &header, &case.claims())),
        Err(DpopProofError::KeyBindingMismatch)
    );
    // A claim changed after signing.
    let proof = signed(&case.key, &case.header(), &case.claims());
    let mut parts: Vec<String> = proof.split('.').map(str::to_owned).collect();
    let mut claims = case.claims();
    claims["htm"] = "POST".into();
    claims["jti"] = "forged".into();
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    assert_eq!(
        case.check(&parts.join(".")),
        Err(DpopProofError::BadSignature)
    );
    // A truncated signature.
    assert_eq!(
        case.check(&proof[..proof.len() - 2]),
        Err(DpopProofError::BadSignature)
    );
}

#[test]
fn headers_other_than_a_dpop_proofs_are_refused() {
    let case = Case::new();
    for alg in ["none", "HS256", "RS256", "ES384", "EdDSA"] {
        assert_eq!(
            case.check(&case.with_header("alg", alg.into())),
            Err(DpopProofError::UnsupportedAlgorithm {
                alg: alg.to_owned()
            }),
            "{alg}"
        );
    }
    // `alg: none` with an empty signature, as an attacker sends it.
    let mut header = case.header();
    header["alg"] = "none".into();
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&case.claims()).unwrap())
    );
    assert!(matches!(
        case.check(&unsigned),
        Err(DpopProofError::UnsupportedAlgorithm { .. })
    ));
    assert_eq!(
        case.check(&case.with_header("typ", "JWT".into())),
        Err(DpopProofError::WrongType)
    );
    let mut header = case.header();
    header.as_object_mut().unwrap().remove("typ");
    assert_eq!(
        case.check(&signed(&case.key, &header, &case.claims())),
        Err(DpopProofError::WrongType)
    );
    // The private key in the header: the stored JWK, `d` and all.
    let private = serde_json::to_value(&case.key).unwrap();
    assert_eq!(
        case.check(&case.with_header("jwk", private)),
        Err(DpopProofError::PrivateKey)
    );
    let mut header = case.header();
    header.as_object_mut().unwrap().remove("jwk");
    assert_eq!(
        case.check(&signed(&case.key, &header, &case.claims())),
        Err(DpopProofError::UnsupportedKey)
    );
    assert!(matches!(
        case.check(&case.with_header("crit", serde_json::json!(["exp"]))),
        Err(DpopProofError::Malformed { .. })
    ));
}

#[test]
fn exactly_one_well_formed_header_is_taken() {
    let case = Case::new();
    let proof = signed(&case.key, &case.header(), &case.claims());
    let check = DpopProofCheck::new().clock(crate::oauth::FixedClock(at_unix(case.now)));
    let twice = check.check_resource_request(
        [proof.as_bytes(), proof.as_bytes()],
        "POST",
        &case.url,
        &case.token,
        case.key.thumbprint(),
    );
    assert_eq!(twice, Err(DpopProofError::Duplicated { count: 2 }));
    let joined = format!("{proof}, {proof}");
    assert_eq!(
        case.check(&joined),
        Err(DpopProofError::Duplicated { count: 2 })
    );
    assert_eq!(
        check.check_proof(std::iter::empty::<&[u8]>(), "POST", &case.url),
        Err(DpopProofError::Missing)
    );
    for malformed in ["", "a.b", "a.b.c.d", "not base64!.e30.", "e30.e30.AAAA"] {
        let refused = case.check(malformed).unwrap_err();
        assert!(
            matches!(
                refused,
                DpopProofError::Malformed { .. } | DpopProofError::Missing
            ),
            "{malformed:?}: {refused:?}"
        );
    }
    // Claims missing or mistyped, under a good signature.
    for (name, value) in [
        ("jti", serde_json::Value::Null),
        ("iat", "1700000000".into()),
        ("iat", 1.5.into()),
    ] {
        assert!(
            matches!(
                case.check(&case.with_claim(name, value.clone())),
                Err(DpopProofError::Malformed { .. })
            ),
            "{name}: {value}"
        );
    }
    // The original, untouched, is still accepted once.
    assert!(case.check(&proof).is_ok());
}

/// The secret an operator shares between instances, as `DpopNonceSecret` reads it.
fn shared_secret() -> DpopNonceSecret {
    "q1Rk0F5Kx9mWQvYH7C2sJ8bZpL4nT6uE3gR5aD0fV1c"
        .parse()
        .unwrap()
}

/// An instance's check at `now`, requiring `nonces`: no memory shared with any other.
fn instance(nonces: DatedNonces, now: u64) -> DpopProofCheck {
    DpopProofCheck::new()
        .clock(crate::oauth::FixedClock(at_unix(now)))
        .require_nonce(nonces)
}

impl Case {
    /// A proof signed at `now` with `nonce`.
    fn signed_at(&self, nonce: &DpopNonce, now: u64) -> DpopProof {
        self.key
            .proof("POST", &self.url)
            .access_token(&self.token)
            .nonce(nonce)
            .clock(crate::oauth::FixedClock(at_unix(now)))
            .sign()
            .unwrap()
    }
}

#[test]
fn a_required_nonce_is_demanded_then_accepted() {
    let case = Case::new();
    let check = instance(DatedNonces::new(shared_secret()), case.now);
    let current = check.nonce().unwrap();
    let without = case
        .key
        .proof("POST", &case.url)
        .access_token(&case.token)
        .clock(crate::oauth::FixedClock(at_unix(case.now)))
        .sign()
        .unwrap();
    let refused = case
        .check_with(check.clone(), without.as_str())
        .unwrap_err();
    assert_eq!(
        refused,
        DpopProofError::UseNonce {
            nonce: current.clone()
        }
    );
    assert_eq!(refused.status(), 401);
    // The client reads the demand as the resource sent it, and signs a new proof with the nonce.
    let challenge = refused.challenge().to_string();
    let demanded = nonce_demanded_by_resource(
        refused.status(),
        [challenge.as_bytes()],
        [refused.dpop_nonce().unwrap().as_str().as_bytes()],
    )
    .unwrap();
    let accepted = case
        .check_with(check.clone(), case.signed_with_nonce(&demanded).as_str())
        .unwrap();
    // A fresh nonce needs no successor yet.
    assert_eq!(accepted.dpop_nonce(), None);
    // Text the server never made is refused, with the current nonce.
    for unknown in ["nonce-0", &current.as_str()[..38], &"A".repeat(39)] {
        assert_eq!(
            case.check_with(
                check.clone(),
                case.signed_with_nonce(&DpopNonce::new(unknown).unwrap())
                    .as_str()
            ),
            Err(DpopProofError::UseNonce {
                nonce: current.clone()
            }),
            "{unknown}"
        );
    }
}

#[test]
fn a_nonce_one_instance_hands_out_is_accepted_by_another_with_the_secret_only() {
    let case = Case::new();
    let a = instance(DatedNonces::new(shared_secret()), case.now);
    let b = instance(DatedNonces::new(shared_secret()), case.now + 20);
    let other = instance(DatedNonces::new(DpopNonceSecret::generate()), case.now);
    let refused = case
        .check_with(a, case.signed_with_nonce(&DpopNonce::generate()).as_str())
        .unwrap_err();
    let from_a = refused.dpop_nonce().unwrap().clone();
    // 20 seconds later, within the same step (1,700,000,000 is 50 seconds into its 75), B hands
    // out the very same nonce, and takes A's.
    assert_eq!(b.nonce(), Some(from_a.clone()));
    assert!(case
        .check_with(b, case.signed_at(&from_a, case.now + 20).as_str())
        .is_ok());
    // A server with another secret does not, and hands out its own.
    let refused = case
        .check_with(other.clone(), case.signed_with_nonce(&from_a).as_str())
        .unwrap_err();
    assert_eq!(refused.dpop_nonce(), other.nonce().as_ref());
    assert_ne!(refused.dpop_nonce(), Some(&from_a));
}

#[test]
fn a_nonce_expires_by_itself_and_one_from_ahead_of_the_leeway_is_refused() {
    let case = Case::new();
    let nonces = DatedNonces::new(shared_secret()).lifetime(120).leeway(10);
    let issued = nonces.nonce_at_secs(case.now);
    // The step of a 120-second lifetime is 30 seconds.
    let start = case.now - case.now % 30;
    let at = |now: u64| {
        case.check_with(
            instance(nonces.clone(), now),
            case.signed_at(&issued, now).as_str(),
        )
    };
    let accepted = at(start + 60).unwrap();
    assert_eq!(accepted.dpop_nonce(), None);
    // Past half its lifetime: taken, and the answer carries the next nonce.
    let renewed = at(start + 61).unwrap();
    let next = renewed.dpop_nonce().unwrap();
    assert_eq!(next, &nonces.nonce_at_secs(start + 61));
    assert_ne!(next, &issued);
    assert!(at(start + 130).is_ok());
    // Past its lifetime and the leeway: refused, with a fresh nonce that is then taken.
    let refused = at(start + 131).unwrap_err();
    let fresh = refused.dpop_nonce().unwrap();
    assert_eq!(fresh, &nonces.nonce_at_secs(start + 131));
    assert!(case
        .check_with(
            instance(nonces.clone(), start + 131),
            case.signed_at(fresh, start + 131).as_str()
        )
        .is_ok());
    // Issued by an instance whose clock is 11 seconds ahead: beyond the leeway.
    let ahead = nonces.nonce_at_secs(start + 30);
    let check = |now: u64| {
        case.check_with(
            instance(nonces.clone(), now),
            case.signed_at(&ahead, now).as_str(),
        )
    };
    assert!(check(start + 20).is_ok());
    assert!(matches!(
        check(start + 19),
        Err(DpopProofError::UseNonce { .. })
    ));
}

#[test]
fn a_secret_being_replaced_is_accepted_while_listed_and_refused_once_dropped() {
    let case = Case::new();
    let old = DpopNonceSecret::generate();
    let new = shared_secret();
    let from_old = DatedNonces::new(old.clone()).nonce_at_secs(case.now);
    // First every instance learns the new secret, then issues with it, the old one still taken.
    for nonces in [
        DatedNonces::new(old.clone()).also_accepting(new.clone()),
        DatedNonces::new(new.clone()).also_accepting(old.clone()),
    ] {
        let check = instance(nonces, case.now);
        assert!(case
            .check_with(check, case.signed_with_nonce(&from_old).as_str())
            .is_ok());
    }
    let from_new = DatedNonces::new(new.clone()).nonce_at_secs(case.now);
    let learning = instance(DatedNonces::new(old).also_accepting(new.clone()), case.now);
    assert!(case
        .check_with(learning, case.signed_with_nonce(&from_new).as_str())
        .is_ok());
    // Dropped: refused, with the new secret's nonce.
    let dropped = instance(DatedNonces::new(new), case.now);
    assert_eq!(
        case.check_with(dropped, case.signed_with_nonce(&from_old).as_str()),
        Err(DpopProofError::UseNonce { nonce: from_new })
    );
}

#[test]
fn require_nonce_again_keeps_the_replay_memory() {
    let case = Case::new();
    let check = instance(DatedNonces::new(shared_secret()), case.now);
    let first = case.signed_with_nonce(&check.nonce().unwrap());
    assert!(case.check_with(check.clone(), first.as_str()).is_ok());
    // New settings on a clone: the proof it took is still remembered.
    let again = check.require_nonce(DatedNonces::new(shared_secret()).lifetime(600));
    assert_eq!(
        case.check_with(again, first.as_str()),
        Err(DpopProofError::Replayed)
    );
}

fn numbered_nonce(n: usize) -> DpopNonce {
    DpopNonce::new(format!("nonce-{n}")).unwrap()
}

#[test]
fn a_nonce_the_server_never_asked_for_is_ignored() {
    let case = Case::new();
    let check = DpopProofCheck::new().clock(crate::oauth::FixedClock(at_unix(case.now)));
    let proof = case.signed_with_nonce(&numbered_nonce(7));
    assert!(case.check_with(check.clone(), proof.as_str()).is_ok());
    assert_eq!(
        case.check_with(check, proof.as_str()),
        Err(DpopProofError::Replayed)
    );
}

#[test]
fn a_jti_is_one_to_256_bytes() {
    let case = Case::new();
    let refused = DpopProofError::Malformed {
        reason: "the DPoP proof's `jti` is empty or longer than 256 bytes",
    };
    for bad in [String::new(), "j".repeat(MAX_PROOF_JTI_LEN + 1)] {
        let proof = case.with_claim("jti", serde_json::json!(bad));
        assert_eq!(case.check(&proof), Err(refused.clone()), "{}", bad.len());
    }
    for good in ["j".to_owned(), "é".repeat(MAX_PROOF_JTI_LEN / 2)] {
        let proof = case.with_claim("jti", serde_json::json!(good));
        assert!(case.check(&proof).is_ok(), "{}", good.len());
    }
}

#[test]
fn one_key_cannot_fill_the_replay_memory_for_the_others() {
    let case = Case::new();
    let check = DpopProofCheck::new()
        .replay_capacity(100)
        .replay_capacity_per_key(10)
        .clock(crate::oauth::FixedClock(at_unix(case.now)));
    let fresh = |case: &Case| signed(&case.key, &case.header(), &case.claims());
    let first = fresh(&case);
    assert!(case.check_with(check.clone(), &first).is_ok());
    let flood: Vec<_> = (0..50)
        .map(|_| case.check_with(check.clone(), &fresh(&case)))
        .collect();
    assert_eq!(flood.iter().filter(|taken| taken.is_ok()).count(), 9);
    assert!(flood[9..]
        .iter()
        .all(|refused| refused == &Err(DpopProofError::KeyReplayQuota)));
    assert_eq!(DpopProofError::KeyReplayQuota.status(), 429);
    #[cfg(feature = "access-token")]
    assert_eq!(
        crate::resource_server::AccessTokenError::DpopProof(DpopProofError::KeyReplayQuota)
            .status(),
        429
    );
    // Its taken proofs are still remembered, fail closed...
    assert_eq!(
        case.check_with(check.clone(), &first),
        Err(DpopProofError::Replayed)
    );
    // ...and other keys are still served, on every clone.
    for _ in 0..9 {
        let other = Case::new();
        assert!(other.check_with(check.clone(), &fresh(&other)).is_ok());
    }
    // Once its windows close, the key has room again.
    let later = Case {
        now: case.now + 121,
        ..case
    };
    assert!(later
        .check_with(
            check.clock(crate::oauth::FixedClock(at_unix(later.now))),
            &fresh(&later)
        )
        .is_ok());
}

#[test]
fn a_restored_key_makes_proofs_that_verify() {
    let case = Case::new();
    let stored = serde_json::to_string(&case.key).unwrap();
    let restored: DpopKey = serde_json::from_str(&stored).unwrap();
    let proof = restored
        .proof("POST", &case.url)
        .access_token(&case.token)
        .clock(crate::oauth::FixedClock(at_unix(case.now)))
        .sign()
        .unwrap();
    assert!(case.check(proof.as_str()).is_ok());
    let d = serde_json::from_str::<serde_json::Value>(&stored).unwrap()["d"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!format!("{restored:?}").contains(&d));
    assert!(!format!("{proof:?}").contains(&d));
}

#[test]
fn a_full_replay_memory_refuses_new_proofs_and_never_a_remembered_one() {
    let case = Case::new();
    let issued = case.now;
    let check = DpopProofCheck::new()
        .replay_capacity(100)
        .replay_capacity_per_key(100)
        .clock(crate::oauth::FixedClock(at_unix(issued)));
    let fresh = |case: &Case| signed(&case.key, &case.header(), &case.claims());
    let first = fresh(&case);
    assert!(case.check_with(check.clone(), &first).is_ok());
    // A flood of fresh proofs by the token's holder fills the memory...
    let flood: Vec<_> = (0..150)
        .map(|_| case.check_with(check.clone(), &fresh(&case)))
        .collect();
    assert_eq!(flood.iter().filter(|taken| taken.is_ok()).count(), 99);
    assert!(flood[99..]
        .iter()
        .all(|refused| refused == &Err(DpopProofError::ReplayMemoryFull)));
    // ...and still the first proof is a replay, not forgotten to make room.
    assert_eq!(
        case.check_with(check.clone(), &first),
        Err(DpopProofError::Replayed)
    );
    let full = DpopProofError::ReplayMemoryFull;
    #[cfg(feature = "access-token")]
    assert_eq!(
        crate::resource_server::AccessTokenError::DpopProof(full.clone()).status(),
        503
    );
    assert_eq!(
        (full.status(), full.error_code()),
        (503, DpopErrorCode::InvalidDpopProof)
    );
    // Once the windows close (60 s of age and 60 of leeway by default), new proofs are taken.
    let later = Case {
        now: issued + 121,
        ..case
    };
    let check = check.clock(crate::oauth::FixedClock(at_unix(later.now)));
    assert!(later.check_with(check.clone(), &fresh(&later)).is_ok());
    assert_eq!(
        later.check_with(check, &first),
        Err(DpopProofError::Stale {
            iat: issued,
            now: later.now,
            max_age: 120,
        })
    );
}

#[test]
fn a_jwk_member_given_twice_refuses_the_proof() {
    let case = Case::new();
    let header = serde_json::to_string(&case.header()).unwrap();
    // The key's `x` twice, first another point's: a reader keeping the last would take the proof,
    // one keeping the first would read another key than the signature's.
    let other = serde_json::to_value(DpopKey::generate().public_jwk()).unwrap();
    let twice = header.replacen(r#""x":"#, &format!(r#""x":{},"x":"#, other["x"]), 1);
    assert_ne!(twice, header);
    let mut jwt = URL_SAFE_NO_PAD.encode(&twice);
    jwt.push('.');
    jwt.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(&case.claims()).unwrap()));
    let signature = case.key.sign(jwt.as_bytes());
    jwt.push('.');
    jwt.push_str(&URL_SAFE_NO_PAD.encode(signature));
    assert_eq!(case.check(&jwt), Err(DpopProofError::UnsupportedKey));
}

#[test]
fn clones_with_other_windows_or_clocks_share_one_memory_that_reopens_nothing() {
    let case = Case::new();
    let narrow = DpopProofCheck::new().clock(crate::oauth::FixedClock(at_unix(case.now)));
    let wide = narrow
        .clone()
        .max_age(600)
        .clock(crate::oauth::FixedClock(at_unix(case.now + 200)));
    let proof = signed(&case.key, &case.header(), &case.claims());
    assert!(case.check_with(narrow.clone(), &proof).is_ok());
    // Past the narrow window, inside the wide one: the narrow clone's entry is still kept.
    assert_eq!(
        case.check_with(wide.clone(), &proof),
        Err(DpopProofError::Replayed)
    );
    // A clone whose clock is behind the memory's takes no proof the memory may have forgotten.
    let ahead = DpopProofCheck::new().clock(crate::oauth::FixedClock(at_unix(case.now + 200)));
    let now = Case {
        now: case.now + 200,
        ..Case::new()
    };
    let fresh = signed(&now.key, &now.header(), &now.claims());
    assert!(now.check_with(ahead.clone(), &fresh).is_ok());
    let behind = ahead.clock(crate::oauth::FixedClock(at_unix(case.now + 30)));
    let old = Case {
        now: case.now - 80,
        ..Case::new()
    };
    let proof = signed(&old.key, &old.header(), &old.claims());
    assert_eq!(
        old.check_with(behind, &proof),
        Err(DpopProofError::Stale {
            iat: case.now - 80,
            now: case.now + 200,
            max_age: 120
        })
    );
}

#[test]
fn a_header_or_claims_that_are_arrays_refuse_the_proof() {
    // RFC 7515 §4 and RFC 7519 §7.2: both are JSON objects. A derived reader would take the
    // members in declaration order.
    let case = Case::new();
    let header = serde_json::json!(["dpop+jwt", "ES256", case.key.public_jwk()]);
    assert!(matches!(
        case.check(&signed(&case.key, &header, &case.claims())),
        Err(DpopProofError::Malformed { .. })
    ));
    let claims = case.claims();
    let positional = serde_json::json!([
        claims["jti"],
        claims["htm"],
        claims["htu"],
        claims["iat"],
        claims["ath"],
    ]);
    assert!(matches!(
        case.check(&signed(&case.key, &case.header(), &positional)),
        Err(DpopProofError::Malformed { .. })
    ));
    let jwk = serde_json::to_value(case.key.public_jwk()).unwrap();
    let jwk = serde_json::json!([jwk["kty"], jwk["crv"], jwk["x"], jwk["y"]]);
    assert_eq!(
        case.check(&case.with_header("jwk", jwk)),
        Err(DpopProofError::UnsupportedKey)
    );
    assert!(case
        .check(&signed(&case.key, &case.header(), &claims))
        .is_ok());
}

#[test]
fn the_quota_per_key_scales_with_the_capacity_and_is_shared_by_every_clone() {
    let fresh = |case: &Case| signed(&case.key, &case.header(), &case.claims());
    // A capacity of 200: one key takes 2, not the 5,000 of the default capacity.
    let case = Case::new();
    let check = DpopProofCheck::new()
        .replay_capacity(200)
        .clock(crate::oauth::FixedClock(at_unix(case.now)));
    for _ in 0..2 {
        assert!(case.check_with(check.clone(), &fresh(&case)).is_ok());
    }
    assert_eq!(
        case.check_with(check.clone(), &fresh(&case)),
        Err(DpopProofError::KeyReplayQuota)
    );
    // Never less than one, however small the memory.
    let tiny = DpopProofCheck::new()
        .replay_capacity(10)
        .clock(crate::oauth::FixedClock(at_unix(case.now)));
    let other = Case::new();
    assert!(other.check_with(tiny.clone(), &fresh(&other)).is_ok());
    assert_eq!(
        other.check_with(tiny, &fresh(&other)),
        Err(DpopProofError::KeyReplayQuota)
    );
    // A quota set after a clone was made reaches that clone too, and survives a later capacity.
    let check = DpopProofCheck::new()
        .replay_capacity(1_000)
        .clock(crate::oauth::FixedClock(at_unix(case.now)));
    let serving = check.clone();
    let _check = check.replay_capacity_per_key(1);
    assert!(case.check_with(serving.clone(), &fresh(&case)).is_ok());
    assert_eq!(
        case.check_with(serving.clone(), &fresh(&case)),
        Err(DpopProofError::KeyReplayQuota)
    );
    let resized = serving.replay_capacity(100_000);
    let another = Case::new();
    assert!(another
        .check_with(resized.clone(), &fresh(&another))
        .is_ok());
    assert_eq!(
        another.check_with(resized, &fresh(&another)),
        Err(DpopProofError::KeyReplayQuota)
    );
    assert_eq!(DEFAULT_REPLAY_CAPACITY_PER_KEY, 5_000);
}

#[test]
fn a_token_endpoint_records_a_proof_only_once_the_client_is_authenticated() {
    let token_url = url("https://as.example.com/token");
    let now = 1_700_000_000;
    let check = DpopProofCheck::new()
        .replay_capacity(2)
        .clock(crate::oauth::FixedClock(at_unix(now)));
    let proof = |key: &DpopKey| {
        key.proof("POST", &token_url)
            .clock(crate::oauth::FixedClock(at_unix(now)))
            .sign()
            .unwrap()
    };
    // A hundred throwaway keys whose clients never authenticate take no room.
    for _ in 0..100 {
        let proof = proof(&DpopKey::generate());
        let unrecorded = check
            .check_proof_unrecorded(one(proof.as_str()), "POST", &token_url)
            .unwrap();
        drop(unrecorded);
    }
    let key = DpopKey::generate();
    let sent = proof(&key);
    let unrecorded = check
        .check_proof_unrecorded(one(sent.as_str()), "POST", &token_url)
        .unwrap();
    assert_eq!(unrecorded.jkt(), key.thumbprint());
    let verified = check.record(unrecorded.clone()).unwrap();
    assert_eq!(verified.jkt(), key.thumbprint());
    // Recorded once: the same proof again is a replay, recorded or checked at once.
    assert_eq!(check.record(unrecorded), Err(DpopProofError::Replayed));
    assert_eq!(
        check.check_proof(one(sent.as_str()), "POST", &token_url),
        Err(DpopProofError::Replayed)
    );
    // Every other check still runs before recording.
    assert_eq!(
        check
            .check_proof_unrecorded(one(sent.as_str()), "GET", &token_url)
            .unwrap_err(),
        DpopProofError::MethodMismatch {
            method: "GET".into()
        }
    );
}

/// The proof's parts, its signature decoded, and the proof again with another signature.
fn with_signature(proof: &str, signature: &[u8]) -> String {
    let (message, _) = proof.rsplit_once('.').unwrap();
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[test]
fn a_header_key_off_the_curve_or_of_the_wrong_length_is_refused_before_its_signature() {
    let case = Case::new();
    let jwk = serde_json::to_value(case.key.public_jwk()).unwrap();
    let (x, y) = (jwk["x"].as_str().unwrap(), jwk["y"].as_str().unwrap());
    let decoded_y = URL_SAFE_NO_PAD.decode(y).unwrap();
    let mut changed_y = decoded_y.clone();
    changed_y[31] ^= 1;
    let mut padded = x.to_owned();
    padded.push('=');
    // 43 symbols carry 258 bits: the last symbol's low 2 bits must be zero.
    let last = x.chars().last().unwrap();
    let stray_bits = x[..42].to_owned() + if last == 'B' { "C" } else { "B" };
    let refused = [
        (
            "off the curve",
            x.to_owned(),
            URL_SAFE_NO_PAD.encode(&changed_y),
        ),
        ("x and y swapped", y.to_owned(), x.to_owned()),
        (
            "(0, 0)",
            URL_SAFE_NO_PAD.encode([0u8; 32]),
            URL_SAFE_NO_PAD.encode([0u8; 32]),
        ),
        (
            "x a byte short",
            URL_SAFE_NO_PAD.encode(&decoded_y[..31]),
            y.to_owned(),
        ),
        (
            "x a byte long",
            URL_SAFE_NO_PAD.encode([&decoded_y[..], &[0]].concat()),
            y.to_owned(),
        ),
        (
            "y with a leading zero byte",
            x.to_owned(),
            URL_SAFE_NO_PAD.encode([&[0], &decoded_y[..]].concat()),
        ),
        ("x padded", padded, y.to_owned()),
        ("x with stray low bits", stray_bits, y.to_owned()),
        // A symbol of standard base64 in place of its base64url counterpart.
        ("y with a `+`", x.to_owned(), format!("+{}", &y[1..])),
    ];
    for (name, x, y) in refused {
        let jwk = serde_json::json!({"kty": "EC", "crv": "P-256", "x": x, "y": y});
        let proof = case.with_header("jwk", jwk);
        assert_eq!(
            case.check(&proof),
            Err(DpopProofError::UnsupportedKey),
            "{name}"
        );
        // Whatever the signature: the key is refused first.
        let garbage = with_signature(&proof, &[7u8; 64]);
        assert_eq!(
            case.check(&garbage),
            Err(DpopProofError::UnsupportedKey),
            "{name}"
        );
    }
}

#[test]
fn a_signature_of_another_length_or_out_of_range_is_refused() {
    let case = Case::new();
    let proof = signed(&case.key, &case.header(), &case.claims());
    let (_, signature) = proof.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let order = URL_SAFE_NO_PAD
        .decode("_____wAAAAD__________7zm-q2nF56E87nKwvxjJVE")
        .unwrap();
    let refused: [(&str, Vec<u8>); 8] = [
        ("empty", Vec::new()),
        ("63 bytes", signature[..63].to_vec()),
        ("65 bytes", [&signature[..], &[0]].concat()),
        ("128 bytes", [&signature[..], &signature[..]].concat()),
        ("DER-encoded length", vec![0x30; 70]),
        ("r = 0", [&[0u8; 32][..], &signature[32..]].concat()),
        ("s = n", [&signature[..32], &order[..]].concat()),
        ("all zero", vec![0; 64]),
    ];
    for (name, signature) in refused {
        assert_eq!(
            case.check(&with_signature(&proof, &signature)),
            Err(DpopProofError::BadSignature),
            "{name}"
        );
    }
    // A padded signature is not base64url without padding.
    assert_eq!(
        case.check(&format!("{proof}=")),
        Err(DpopProofError::BadSignature)
    );
    assert!(case.check(&proof).is_ok());
}

/// ES256 (RFC 7518 §3.4) does not ask for a low `s`: `(r, n - s)` verifies as `(r, s)` does, on
/// both backends. It is the same proof, though: its `jti` is taken once.
#[test]
fn a_signature_with_the_other_s_verifies_and_is_still_the_same_proof() {
    use p256::elliptic_curve::PrimeField as _;

    let case = Case::new();
    let proof = signed(&case.key, &case.header(), &case.claims());
    let (_, signature) = proof.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let s: [u8; 32] = signature[32..].try_into().unwrap();
    let s = p256::Scalar::from_repr(s.into()).unwrap();
    let other: [u8; 32] = (-s).to_bytes().into();
    let flipped = with_signature(&proof, &[&signature[..32], &other[..]].concat());
    assert_ne!(flipped, proof);
    let check = DpopProofCheck::new().clock(crate::oauth::FixedClock(at_unix(case.now)));
    assert!(case.check_with(check.clone(), &flipped).is_ok());
    assert_eq!(
        case.check_with(check, &proof),
        Err(DpopProofError::Replayed)
    );
}

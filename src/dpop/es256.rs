//! The ES256 check of a proof's signature (RFC 7518 §3.4) by the key its header carries: by
//! AWS-LC with the `aws-lc-rs` feature, else by RustCrypto's P-256. Both give the same answers: a
//! point that is not on the curve is no key, a signature is `r || s` with each in `[1, n - 1]`,
//! and a high `s` is taken as well as a low one (ES256 does not ask for low `s`).

/// A proof's P-256 public key, parsed once and checked to lie on the curve.
pub(super) struct ProofKey(backend::Key);

impl ProofKey {
    /// The key at the point `(x, y)`, each coordinate 32 big-endian bytes, unless that point is
    /// not on the curve: any signature check with such a key would be meaningless.
    pub(super) fn from_coordinates(x: &[u8; 32], y: &[u8; 32]) -> Option<ProofKey> {
        backend::key(x, y).map(ProofKey)
    }

    /// Whether `signature`, `r || s`, is this key's over `message`.
    pub(super) fn verifies(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        backend::verifies(&self.0, message, signature)
    }
}

#[cfg(feature = "aws-lc-rs")]
mod backend {
    use aws_lc_rs::signature::{ParsedPublicKey, ECDSA_P256_SHA256_FIXED};

    pub(super) type Key = ParsedPublicKey;

    pub(super) fn key(x: &[u8; 32], y: &[u8; 32]) -> Option<Key> {
        // The uncompressed SEC1 form: 0x04, then x and y.
        let mut point = [0u8; 65];
        let bytes = std::iter::once(0x04).chain(x.iter().chain(y).copied());
        for (slot, byte) in point.iter_mut().zip(bytes) {
            *slot = byte;
        }
        // Parsing checks that the point is on the curve (EC_KEY_check_key); the identity has no
        // uncompressed form.
        ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).ok()
    }

    pub(super) fn verifies(key: &Key, message: &[u8], signature: &[u8; 64]) -> bool {
        key.verify_sig(message, signature).is_ok()
    }
}

#[cfg(not(feature = "aws-lc-rs"))]
mod backend {
    use p256::ecdsa::signature::Verifier as _;
    use p256::ecdsa::{Signature, VerifyingKey};
    use p256::{EncodedPoint, FieldBytes};

    pub(super) type Key = VerifyingKey;

    pub(super) fn key(x: &[u8; 32], y: &[u8; 32]) -> Option<Key> {
        let point = EncodedPoint::from_affine_coordinates(
            &FieldBytes::from(*x),
            &FieldBytes::from(*y),
            false,
        );
        // Refuses points off the curve, and the identity.
        VerifyingKey::from_encoded_point(&point).ok()
    }

    pub(super) fn verifies(key: &Key, message: &[u8], signature: &[u8; 64]) -> bool {
        // Refuses an `r` or `s` of zero or not below the group order.
        let Ok(signature) = Signature::from_slice(signature) else {
            return false;
        };
        key.verify(message, &signature).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use p256::ecdsa::signature::Signer as _;
    use p256::ecdsa::{Signature, SigningKey};
    use p256::elliptic_curve::scalar::IsHigh as _;
    use p256::elliptic_curve::sec1::ToEncodedPoint as _;
    use p256::elliptic_curve::PrimeField as _;
    use p256::{FieldBytes, Scalar};
    use sha2::{Digest, Sha256};

    use super::*;

    /// The order of the P-256 group, `n`.
    const ORDER: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63,
        0x25, 0x51,
    ];

    /// The prime of the P-256 field, `p`.
    const PRIME: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff,
    ];

    /// A fixed key: its signatures are deterministic (RFC 6979), so the vectors below are too.
    fn fixed_key() -> SigningKey {
        let d: [u8; 32] = Sha256::digest(b"workos-connect ES256 vectors").into();
        SigningKey::from_bytes(&FieldBytes::from(d)).unwrap()
    }

    fn coordinates(key: &SigningKey) -> ([u8; 32], [u8; 32]) {
        let point = key.verifying_key().to_encoded_point(false);
        ((*point.x().unwrap()).into(), (*point.y().unwrap()).into())
    }

    fn sign(key: &SigningKey, message: &[u8]) -> [u8; 64] {
        let signature: Signature = key.sign(message);
        signature.to_bytes().into()
    }

    fn with_s(signature: &[u8; 64], s: [u8; 32]) -> [u8; 64] {
        let mut changed = *signature;
        changed[32..].copy_from_slice(&s);
        changed
    }

    fn with_r(signature: &[u8; 64], r: [u8; 32]) -> [u8; 64] {
        let mut changed = *signature;
        changed[..32].copy_from_slice(&r);
        changed
    }

    /// The same signature with `s` replaced by `n - s`: as valid, by ECDSA's own equation.
    fn other_s(signature: &[u8; 64]) -> [u8; 64] {
        let s: [u8; 32] = signature[32..].try_into().unwrap();
        let s = Scalar::from_repr(FieldBytes::from(s)).unwrap();
        with_s(signature, (-s).to_bytes().into())
    }

    fn is_high(signature: &[u8; 64]) -> bool {
        let s: [u8; 32] = signature[32..].try_into().unwrap();
        Scalar::from_repr(FieldBytes::from(s))
            .unwrap()
            .is_high()
            .into()
    }

    /// Each signature vector and whether it verifies, by the backend of this build.
    fn signature_vectors() -> Vec<(&'static str, Vec<u8>, [u8; 64], bool)> {
        let key = fixed_key();
        let message = b"eyJ0eXAiOiJkcG9wK2p3dCJ9.eyJqdGkiOiIxIn0".to_vec();
        let good = sign(&key, &message);
        let other_key = SigningKey::from_bytes(&FieldBytes::from(<[u8; 32]>::from(
            Sha256::digest(b"another key"),
        )))
        .unwrap();
        let mut one = [0u8; 32];
        one[31] = 1;
        vec![
            ("the signature", message.clone(), good, true),
            ("the same with n - s", message.clone(), other_s(&good), true),
            ("another message", b"eyJ9.eyJ9".to_vec(), good, false),
            (
                "another key's",
                message.clone(),
                sign(&other_key, &message),
                false,
            ),
            ("r = 0", message.clone(), with_r(&good, [0; 32]), false),
            ("s = 0", message.clone(), with_s(&good, [0; 32]), false),
            ("r = n", message.clone(), with_r(&good, ORDER), false),
            ("s = n", message.clone(), with_s(&good, ORDER), false),
            ("s = 1", message.clone(), with_s(&good, one), false),
            ("all ones", message.clone(), [0xff; 64], false),
            (
                "swapped r and s",
                message.clone(),
                {
                    let mut swapped = [0u8; 64];
                    swapped[..32].copy_from_slice(&good[32..]);
                    swapped[32..].copy_from_slice(&good[..32]);
                    swapped
                },
                false,
            ),
        ]
    }

    #[test]
    fn fixed_vectors_verify_as_expected_and_high_s_is_taken() {
        let (x, y) = coordinates(&fixed_key());
        let key = ProofKey::from_coordinates(&x, &y).unwrap();
        let vectors = signature_vectors();
        // Whichever s RFC 6979 gave, the vectors hold one low and one high.
        let (_, _, good, _) = &vectors[0];
        let (_, _, flipped, _) = &vectors[1];
        assert_ne!(is_high(good), is_high(flipped));
        for (name, message, signature, verifies) in vectors {
            assert_eq!(key.verifies(&message, &signature), verifies, "{name}");
        }
    }

    #[test]
    fn points_off_the_curve_are_no_key() {
        let (x, y) = coordinates(&fixed_key());
        let mut y_plus_one = y;
        y_plus_one[31] ^= 1;
        let refused: [(&str, [u8; 32], [u8; 32]); 5] = [
            ("y changed", x, y_plus_one),
            ("x and y swapped", y, x),
            ("(0, 0)", [0; 32], [0; 32]),
            ("x = p", PRIME, y),
            ("y = p", x, PRIME),
        ];
        for (name, x, y) in refused {
            assert!(ProofKey::from_coordinates(&x, &y).is_none(), "{name}");
        }
        // -P, the point with the other y, is on the curve: a key, but not the signer's.
        let minus_point = (-*fixed_key().verifying_key().as_affine()).to_encoded_point(false);
        let minus_y: [u8; 32] = (*minus_point.y().unwrap()).into();
        assert_eq!(<[u8; 32]>::from(*minus_point.x().unwrap()), x);
        assert_ne!(minus_y, y);
        let minus = ProofKey::from_coordinates(&x, &minus_y).unwrap();
        let (_, message, signature, _) = &signature_vectors()[0];
        assert!(!minus.verifies(message, signature));
    }

    /// AWS-LC and RustCrypto give the same answer on every vector, and on random keys, messages
    /// and signatures with either `s`.
    #[cfg(feature = "aws-lc-rs")]
    #[test]
    fn aws_lc_and_rustcrypto_agree() {
        use p256::ecdsa::signature::Verifier as _;

        let rustcrypto = |x: &[u8; 32], y: &[u8; 32], message: &[u8], signature: &[u8; 64]| {
            let point = p256::EncodedPoint::from_affine_coordinates(
                &FieldBytes::from(*x),
                &FieldBytes::from(*y),
                false,
            );
            let Ok(key) = p256::ecdsa::VerifyingKey::from_encoded_point(&point) else {
                return None;
            };
            Some(
                Signature::from_slice(signature)
                    .is_ok_and(|signature| key.verify(message, &signature).is_ok()),
            )
        };
        let aws_lc = |x: &[u8; 32], y: &[u8; 32], message: &[u8], signature: &[u8; 64]| {
            ProofKey::from_coordinates(x, y).map(|key| key.verifies(message, signature))
        };
        let (x, y) = coordinates(&fixed_key());
        for (name, message, signature, verifies) in signature_vectors() {
            assert_eq!(
                aws_lc(&x, &y, &message, &signature),
                Some(verifies),
                "{name}"
            );
            assert_eq!(
                rustcrypto(&x, &y, &message, &signature),
                Some(verifies),
                "{name}"
            );
        }
        let mut y_changed = y;
        y_changed[0] ^= 0x80;
        for (x, y) in [(x, y_changed), (PRIME, y), ([0; 32], [0; 32])] {
            assert_eq!(aws_lc(&x, &y, b"m", &[1; 64]), None);
            assert_eq!(rustcrypto(&x, &y, b"m", &[1; 64]), None);
        }
        for round in 0u8..32 {
            let key = super::super::DpopKey::generate();
            let message = [round; 40];
            let signature = key.sign(&message);
            let jwk = key.public_jwk();
            let decode = |text: &str| -> [u8; 32] {
                base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, text)
                    .unwrap()
                    .try_into()
                    .unwrap()
            };
            let (x, y) = (decode(jwk.x()), decode(jwk.y()));
            for signature in [signature, other_s(&signature), [round; 64]] {
                for message in [&message[..], &message[1..]] {
                    assert_eq!(
                        aws_lc(&x, &y, message, &signature),
                        rustcrypto(&x, &y, message, &signature),
                        "round {round}"
                    );
                }
            }
        }
    }
}

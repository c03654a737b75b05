//! The names DPoP puts on the wire: headers, the scheme, the token type, the algorithm and the
//! proof's `typ`.

/// The request header that carries a proof (RFC 9449 §4.1), in lower case as HTTP/2 writes it;
/// header names are case-insensitive.
pub const DPOP_HEADER: &str = "dpop";

/// The response header that carries a server's nonce (RFC 9449 §8, §9), in lower case.
pub const DPOP_NONCE_HEADER: &str = "dpop-nonce";

/// The `Authorization` scheme of a DPoP-bound token (RFC 9449 §7.1), and the `WWW-Authenticate`
/// challenge's scheme.
pub const DPOP_SCHEME: &str = "DPoP";

/// The `token_type` of a token response whose access token is bound to the proof's key (RFC 9449
/// §5); compare it case-insensitively.
pub const DPOP_TOKEN_TYPE: &str = "DPoP";

/// The only proof algorithm made and accepted, as a challenge's `algs` and the metadata's
/// `dpop_signing_alg_values_supported` list it.
pub const DPOP_ALGORITHM: &str = "ES256";

/// The `typ` of every proof (RFC 9449 §4.2), so that no other JWT can pass for one.
pub(super) const PROOF_TYPE: &str = "dpop+jwt";

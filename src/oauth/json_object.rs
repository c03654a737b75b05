//! JSON objects only. A JWS header and a JWT claims set (RFC 7515 §4, RFC 7519 §7.2), a server's
//! answer (RFC 6749 §5.1, §5.2; RFC 8693 §2.2; RFC 8414 §3.2; RFC 7517 §5) and a stored record
//! are JSON objects, but serde's derived reader of a struct also takes an array, its elements
//! read as the fields in declaration order: `["dpop+jwt","ES256",{..}]` would pass for a DPoP
//! proof's header and `["AT","Bearer",3600]` for a token response. Every struct this crate reads
//! from JSON refuses anything but an object through its own `Deserialize`, so a nested one (a
//! proof's `jwk`, a stored key inside stored credentials) is held to it wherever it is read.
//!
//! A private struct derives with `#[serde(remote = "Self")]` and gets its trait impls from
//! [`object_only!`]; a public one derives through a private mirror with
//! `#[serde(remote = "Public")]` (so that no inherent `deserialize` that takes arrays is public);
//! a struct with a `#[serde(flatten)]` member is already read as a map only. With `remote`,
//! `T::deserialize` names the derived, unchecked function: call `<T as Deserialize>::deserialize`.
//!
//! Formats that are not human-readable (bincode, postcard) encode a struct as a sequence and are
//! not JSON: there the derived reader is left as it is.

use std::fmt;

use serde::de::{self, MapAccess, Unexpected, Visitor};
use serde::{Deserialize, Deserializer};

/// Reads `T`, a struct, only from a map (a JSON object) when the format is human-readable.
pub(crate) fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    T::deserialize(ObjectOnly(deserializer))
}

/// Reads a JSON body or JWS part that must be an object. `T`'s own reader already refuses
/// anything else; this says so at the call site, holds even for a type that reads a map itself,
/// and names the fault plainly.
pub(crate) fn from_slice<'de, T: Deserialize<'de>>(json: &'de [u8]) -> Result<T, JsonFault> {
    if json
        .trim_ascii_start()
        .first()
        .is_some_and(|first| *first != b'{')
    {
        return Err(JsonFault::NotAnObject);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let value = object(&mut deserializer).map_err(JsonFault::Invalid)?;
    deserializer.end().map_err(JsonFault::Invalid)?;
    Ok(value)
}

/// Why JSON that must be an object was not read. Its `Display` never quotes the JSON: a body can
/// be a token.
#[derive(Debug)]
pub(crate) enum JsonFault {
    /// An array, a string, a number, `true`, `false` or `null`.
    NotAnObject,
    /// Not JSON, or an object without the members the reader needs.
    Invalid(serde_json::Error),
}

impl fmt::Display for JsonFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonFault::NotAnObject => f.write_str("the JSON is not an object"),
            JsonFault::Invalid(error) => f.write_str(&crate::oauth::error::json_fault(error)),
        }
    }
}

/// Implements `Deserialize` (and, with `serialize`, `Serialize`) for a struct that derives them
/// with `#[serde(remote = "Self")]`, reading it only from an object.
macro_rules! object_only {
    ($name:ident) => {
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $name::deserialize($crate::oauth::json_object::ObjectOnly(deserializer))
            }
        }
    };
    ($name:ident, serialize) => {
        $crate::oauth::json_object::object_only!($name);

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                $name::serialize(self, serializer)
            }
        }
    };
}
pub(crate) use object_only;

/// A deserializer whose structs and maps are read only from maps, when human-readable. A struct
/// is asked for as "any" value so that the visitor, not `serde_json`, words the refusal of a
/// string or a number: `serde_json`'s own error for a struct quotes the value.
pub(crate) struct ObjectOnly<D>(pub(crate) D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        if self.0.is_human_readable() {
            self.0.deserialize_any(MapOnly(visitor))
        } else {
            self.0.deserialize_any(visitor)
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        if self.0.is_human_readable() {
            self.0.deserialize_any(MapOnly(visitor))
        } else {
            self.0.deserialize_map(visitor)
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        if self.0.is_human_readable() {
            self.0.deserialize_any(MapOnly(visitor))
        } else {
            self.0.deserialize_struct(name, fields, visitor)
        }
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct enum identifier ignored_any
    }
}

/// A visitor that takes a map and nothing else: anything else gets an "invalid type" error that
/// names the kind of value found and, unlike serde's own for a string or a number, never quotes it
/// (a body `"<token>"` must not end up in a message).
struct MapOnly<V>(V);

impl<V> MapOnly<V> {
    fn refuse<'de, E: de::Error>(&self, found: &'static str) -> Result<V::Value, E>
    where
        V: Visitor<'de>,
    {
        Err(E::invalid_type(Unexpected::Other(found), self))
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for MapOnly<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)?;
        f.write_str(" (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(map)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<V::Value, E> {
        self.refuse("a string")
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<V::Value, E> {
        self.refuse("bytes")
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<V::Value, E> {
        self.refuse("a number")
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<V::Value, E> {
        self.refuse("a number")
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<V::Value, E> {
        self.refuse("a number")
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(remote = "Self")]
    struct Pair {
        a: String,
        b: u64,
    }
    super::object_only!(Pair);

    #[test]
    fn a_struct_is_read_from_an_object_only() {
        let pair: Pair = serde_json::from_str(r#"{"a":"x","b":1}"#).unwrap();
        assert_eq!(pair.b, 1);
        for refused in [
            r#"["secret",1]"#,
            "1234567",
            r#""secret""#,
            "null",
            "true",
            "-1.5",
        ] {
            let error = serde_json::from_str::<Pair>(refused)
                .unwrap_err()
                .to_string();
            assert!(error.contains("JSON object"), "{error}");
            assert!(
                !error.contains("secret") && !error.contains("1234567"),
                "{error}"
            );
        }
        let value = serde_json::json!(["x", 1]);
        assert!(serde_json::from_value::<Pair>(value).is_err());
        assert!(super::from_slice::<Pair>(br#"{"a":"x","b":1} "#).is_ok());
        assert!(super::from_slice::<Pair>(br#"["x",1]"#).is_err());
    }

    /// Each stored type reads back from its object, and never from its members as an array in
    /// declaration order, `fields` (an absent one as `null`), which a derived reader takes.
    fn stored<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T, fields: &[&str]) {
        let json = serde_json::to_value(value).unwrap();
        assert!(serde_json::from_value::<T>(json.clone()).is_ok(), "{json}");
        let array: Vec<serde_json::Value> = fields
            .iter()
            .map(|field| json.get(field).cloned().unwrap_or_default())
            .collect();
        let array = serde_json::Value::Array(array);
        let text = array.to_string();
        assert!(serde_json::from_str::<T>(&text).is_err(), "{text}");
        assert!(serde_json::from_value::<T>(array).is_err(), "{text}");
    }

    #[cfg(feature = "id-token")]
    #[test]
    fn kept_id_token_claims_are_read_from_an_object_only() {
        // A struct with a flattened member is read as a map by serde already; kept so.
        let claims = crate::IdTokenClaims::new("https://i.example", "u", "c", 2, 1);
        let json = serde_json::to_value(&claims).unwrap();
        assert_eq!(
            serde_json::from_value::<crate::IdTokenClaims>(json).unwrap(),
            claims
        );
        let array = serde_json::json!(["https://i.example", "u", ["c"], 2, 1]);
        assert!(serde_json::from_value::<crate::IdTokenClaims>(array).is_err());
    }

    #[test]
    fn stored_records_are_read_from_objects_only() {
        use crate::oauth::token::TokenResponse;
        use crate::registration::{ClientCredentials, TokenEndpointAuth};

        let client = crate::ConnectClient::new(
            "https://example.authkit.app".parse().unwrap(),
            "client_1".parse().unwrap(),
            "https://app.example/cb".parse().unwrap(),
        );
        let fields = [
            "issuer",
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "nonce",
            "code_verifier",
            "created_at",
        ];
        stored(&client.authorize().build().unwrap().1, &fields);
        let credentials = ClientCredentials::pre_registered(
            "https://auth.example.com".parse().unwrap(),
            "client_1".parse().unwrap(),
            Some(crate::oauth::ClientSecret::new("s3cret").unwrap()),
            TokenEndpointAuth::ClientSecretBasic,
        )
        .unwrap();
        let fields = [
            "issuer",
            "client_id",
            "client_secret",
            "token_endpoint_auth_method",
            "client_secret_expires_at",
            "private_key",
        ];
        stored(&credentials, &fields);
        let metadata = crate::discovery::AuthorizationServerMetadata::parse(
            br#"{"issuer":"https://auth.example.com","authorization_endpoint":"https://auth.example.com/authorize",
            "token_endpoint":"https://auth.example.com/token","code_challenge_methods_supported":["S256"]}"#,
            &"https://auth.example.com".parse().unwrap(),
        )
        .unwrap();
        let client = crate::mcp::AuthorizationClient::new(&metadata, credentials.clone()).unwrap();
        let (_, login) = client
            .login(
                "http://127.0.0.1:5000/cb".parse().unwrap(),
                "https://mcp.example.com/mcp".parse().unwrap(),
            )
            .scopes("mcp:tools".parse::<crate::oauth::ScopeList>().unwrap())
            .build();
        let fields = [
            "issuer",
            "client_id",
            "redirect_uri",
            "scope",
            "resource",
            "state",
            "nonce",
            "code_verifier",
            "created_at",
            "require_iss",
        ];
        stored(&login, &fields);
        let tokens = TokenResponse::parse(
            200,
            br#"{"access_token":"at","token_type":"Bearer","expires_in":60,"refresh_token":"rt"}"#,
        )
        .unwrap();
        let authorization = crate::mcp::McpAuthorization::new(
            tokens,
            crate::oauth::clock::at_unix(1_700_000_000),
            "mcp:tools".parse().unwrap(),
            "https://mcp.example.com/mcp".parse().unwrap(),
            credentials,
            "https://auth.example.com/token".parse().unwrap(),
        );
        let fields: &[&str] = &[
            "access_token",
            "token_type",
            #[cfg(feature = "dpop")]
            "dpop",
            "refresh_token",
            "expires_at",
            "scopes",
            "resource",
            "credentials",
            "token_endpoint",
        ];
        stored(&authorization, fields);
        #[cfg(feature = "dpop")]
        {
            let key = crate::dpop::DpopKey::generate();
            stored(&key, &["kty", "crv", "x", "y", "d"]);
            let binding = crate::mcp::dpop_binding::DpopBinding::new(key);
            stored(&binding, &["key", "token_endpoint_nonce", "resource_nonce"]);
            stored(&authorization.with_dpop(Some(binding)), fields);
        }
    }
}

//! How JWT claims and RFC 7662 members spell their values: an audience as one string or several,
//! and a NumericDate that may have a fraction.

use serde::{Deserialize, Deserializer};

/// `aud`: one string or an array of them (RFC 7519 section 4.1.3).
pub(crate) fn one_or_many<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

/// A NumericDate (RFC 7519 section 2): seconds since the epoch, which may have a fraction; the
/// fraction is dropped, which only ever makes a time earlier by less than a second.
pub(crate) fn numeric_date<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    if let Some(whole) = number.as_u64() {
        return Ok(Some(whole));
    }
    match number.as_f64() {
        // Bounded, so the conversion is exact in its whole part.
        Some(seconds) if seconds.is_finite() && (0.0..9.0e15).contains(&seconds) => {
            Ok(Some(seconds.floor() as u64))
        }
        _ => Err(serde::de::Error::custom(
            "a NumericDate must be a non-negative number of seconds",
        )),
    }
}

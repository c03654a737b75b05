//! The phases of a run, the requests the clients send in each, and the answer each must get.

use crate::jwks::Served;

/// One stretch of the run, with the key set the JWKS serves throughout it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Key A served and signing everything.
    Steady,
    /// Keys A and B served; new tokens are signed by B, older ones by A are still in use.
    Overlap,
    /// Key B only: A withdrawn, its tokens must now be refused.
    Withdrawn,
    /// The JWKS endpoint fails (500 or no answer): the server goes on with the last set it took, B.
    Outage,
}

/// One of the issuer's two keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// The key at start.
    A,
    /// The key rotated in.
    B,
}

/// What one request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The client's own good token, sent again and again (what an MCP client does for the
    /// token's lifetime: the common case).
    Reused(Key),
    /// A good token never sent before.
    Fresh(Key),
    /// Signed by a key outside the set, under the phase key's `kid`.
    BadSignature,
    /// For another resource.
    WrongAudience,
    /// From another issuer.
    WrongIssuer,
    /// Past its `exp`.
    Expired,
    /// Naming a key no set holds.
    UnknownKid,
    /// A `b64token` that is not a JWT.
    NotAJwt,
    /// `Authorization: Bearer` with two tokens: a malformed header, refused before any token check.
    BadHeader,
    /// No `Authorization` header.
    NoToken,
    /// Good but without the scope the server requires.
    MissingScope,
}

/// The bad kinds, cycled through by the clients.
pub const BAD_KINDS: [Kind; 9] = [
    Kind::BadSignature,
    Kind::WrongAudience,
    Kind::WrongIssuer,
    Kind::Expired,
    Kind::UnknownKid,
    Kind::NotAJwt,
    Kind::BadHeader,
    Kind::NoToken,
    Kind::MissingScope,
];

/// The answer a request must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// 200 from rmcp, with the tool list.
    Served,
    /// Refused by the layer: this status, and a `Bearer` challenge with this `error` (none for a
    /// request without credentials).
    Refused {
        /// The HTTP status.
        status: u16,
        /// The challenge's `error` parameter.
        error: Option<&'static str>,
    },
}

/// 401 `invalid_token`: what every bad token gets.
const INVALID_TOKEN: Expected = Expected::Refused {
    status: 401,
    error: Some("invalid_token"),
};

impl Phase {
    /// The phases, in the order they run.
    pub const ALL: [Phase; 4] = [
        Phase::Steady,
        Phase::Overlap,
        Phase::Withdrawn,
        Phase::Outage,
    ];

    /// The name printed in the tables.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Steady => "steady {A}",
            Phase::Overlap => "rotation {A,B}",
            Phase::Withdrawn => "rotation {B}",
            Phase::Outage => "jwks outage",
        }
    }

    /// What the JWKS serves during the phase.
    pub fn served(self) -> Served {
        match self {
            Phase::Steady => Served::A,
            Phase::Overlap => Served::AB,
            Phase::Withdrawn => Served::B,
            Phase::Outage => Served::Outage,
        }
    }

    /// The key the bad tokens name and (but for the forgeries) are signed with: one the server
    /// holds throughout the phase, so that only the fault each carries decides its answer (a
    /// missing-scope token signed by B would get 401 rather than 403 until B is fetched).
    pub fn bad_key(self) -> Key {
        match self {
            Phase::Steady | Phase::Overlap => Key::A,
            Phase::Withdrawn | Phase::Outage => Key::B,
        }
    }

    /// The key of a client's `slot`-th good request: during the overlap half of the tokens are
    /// the new key's; afterwards one in four is still an A token a client held on to.
    pub fn key_of(self, slot: u64) -> Key {
        match self {
            Phase::Steady => Key::A,
            Phase::Overlap if slot.is_multiple_of(2) => Key::A,
            Phase::Overlap => Key::B,
            Phase::Withdrawn | Phase::Outage if slot.is_multiple_of(4) => Key::A,
            Phase::Withdrawn | Phase::Outage => Key::B,
        }
    }

    /// The answer `kind` must get in this phase, and whether it is timing-dependent: true where the
    /// server may still hold the set from before the phase (B not yet fetched during the overlap,
    /// A not yet dropped once withdrawn), so that both answers are right until the server's next
    /// fetch, which comes within the grace window.
    pub fn expected(self, kind: Kind) -> (Expected, bool) {
        match kind {
            Kind::Reused(key) | Kind::Fresh(key) => match (self, key) {
                (Phase::Overlap, Key::B) => (Expected::Served, true),
                (Phase::Withdrawn, Key::A) => (INVALID_TOKEN, true),
                (Phase::Outage, Key::A) => (INVALID_TOKEN, false),
                _ => (Expected::Served, false),
            },
            Kind::BadHeader => (
                Expected::Refused {
                    status: 400,
                    error: Some("invalid_request"),
                },
                false,
            ),
            Kind::NoToken => (
                Expected::Refused {
                    status: 401,
                    error: None,
                },
                false,
            ),
            Kind::MissingScope => (
                Expected::Refused {
                    status: 403,
                    error: Some("insufficient_scope"),
                },
                false,
            ),
            _ => (INVALID_TOKEN, false),
        }
    }
}

impl Kind {
    /// The name used when counting wrong answers.
    pub fn name(self) -> String {
        match self {
            Kind::Reused(key) => format!("reused {key:?} token"),
            Kind::Fresh(key) => format!("fresh {key:?} token"),
            Kind::BadSignature => "bad signature".into(),
            Kind::WrongAudience => "wrong audience".into(),
            Kind::WrongIssuer => "wrong issuer".into(),
            Kind::Expired => "expired".into(),
            Kind::UnknownKid => "unknown kid".into(),
            Kind::NotAJwt => "not a JWT".into(),
            Kind::BadHeader => "malformed header".into(),
            Kind::NoToken => "no token".into(),
            Kind::MissingScope => "missing scope".into(),
        }
    }
}

/// What came back for one request.
pub enum Answer {
    /// An HTTP answer.
    Http {
        /// Its status.
        status: u16,
        /// Its `WWW-Authenticate` header, if any.
        challenge: Option<String>,
        /// Whether the body carries the tool list (read only for 200 answers).
        tool_list: bool,
    },
    /// No answer: the connection failed or timed out.
    Failed(String),
}

/// How one answer compares with what was expected.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The expected answer.
    Right,
    /// In the grace window, where both answers are right and neither is held against the server.
    Graced,
    /// Anything else, with what it was.
    Wrong(String),
}

/// Judges `answer` against `expected`; `in_grace` lets a timing-dependent request get either the
/// answer before the key change or the one after it.
pub fn judge(
    answer: &Answer,
    expected: Expected,
    timing_dependent: bool,
    in_grace: bool,
) -> Verdict {
    if matches(answer, expected) {
        return Verdict::Right;
    }
    if timing_dependent && in_grace {
        let before = match expected {
            Expected::Served => INVALID_TOKEN,
            Expected::Refused { .. } => Expected::Served,
        };
        if matches(answer, before) {
            return Verdict::Graced;
        }
    }
    Verdict::Wrong(describe(answer))
}

/// Whether `answer` is `expected`: the status, and for refusals a `Bearer` challenge with the
/// right `error`.
fn matches(answer: &Answer, expected: Expected) -> bool {
    let Answer::Http {
        status,
        challenge,
        tool_list,
    } = answer
    else {
        return false;
    };
    match expected {
        Expected::Served => *status == 200 && *tool_list,
        Expected::Refused {
            status: wanted,
            error,
        } => {
            let Some(challenge) = challenge.as_deref() else {
                return false;
            };
            let error_ok = match error {
                Some(error) => challenge.contains(&format!("error=\"{error}\"")),
                None => !challenge.contains("error="),
            };
            *status == wanted && challenge.starts_with("Bearer ") && error_ok
        }
    }
}

/// A wrong answer in a few words, the same for every answer alike (so that they count together).
fn describe(answer: &Answer) -> String {
    match answer {
        Answer::Http {
            status: 200,
            tool_list,
            ..
        } => if *tool_list {
            "200 (served)"
        } else {
            "200 without the tool list"
        }
        .into(),
        Answer::Http {
            status,
            challenge: Some(challenge),
            ..
        } => {
            // The error named, not the whole challenge: the description and URL make every line
            // different.
            let error = challenge
                .split("error=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or("no error");
            format!("{status} ({error})")
        }
        Answer::Http { status, .. } => format!("{status} without a challenge"),
        Answer::Failed(error) => format!("no answer: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16, challenge: Option<&str>) -> Answer {
        Answer::Http {
            status,
            challenge: challenge.map(str::to_owned),
            tool_list: status == 200,
        }
    }

    const EXPIRED: &str = r#"Bearer resource_metadata="http://127.0.0.1:1/.well-known/oauth-protected-resource/mcp", scope="mcp:tools", error="invalid_token", error_description="the access token has expired""#;

    #[test]
    fn a_withdrawn_key_is_graced_only_in_the_window() {
        let (expected, timing) = Phase::Withdrawn.expected(Kind::Reused(Key::A));
        assert!(timing);
        assert_eq!(
            judge(&http(200, None), expected, timing, true),
            Verdict::Graced
        );
        assert!(matches!(
            judge(&http(200, None), expected, timing, false),
            Verdict::Wrong(_)
        ));
        assert_eq!(
            judge(&http(401, Some(EXPIRED)), expected, timing, false),
            Verdict::Right
        );
    }

    #[test]
    fn bad_tokens_are_never_graced() {
        let (expected, timing) = Phase::Overlap.expected(Kind::UnknownKid);
        assert!(!timing);
        assert_eq!(
            judge(&http(200, None), expected, timing, true),
            Verdict::Wrong("200 (served)".into())
        );
    }

    #[test]
    fn a_request_without_credentials_gets_a_challenge_without_error() {
        let (expected, _) = Phase::Steady.expected(Kind::NoToken);
        let bare = r#"Bearer resource_metadata="http://127.0.0.1:1/x", scope="mcp:tools""#;
        assert_eq!(
            judge(&http(401, Some(bare)), expected, false, false),
            Verdict::Right
        );
        assert!(matches!(
            judge(&http(401, Some(EXPIRED)), expected, false, false),
            Verdict::Wrong(_)
        ));
    }
}

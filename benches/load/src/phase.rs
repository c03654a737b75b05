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
    /// Key B served again; the Redis server holding the instances' shared replay memory killed: a
    /// DPoP-bound request whose proof cannot be recorded must be refused (503), never taken.
    RedisDown,
    /// The Redis server started again on its port (empty: it saves nothing): the instances
    /// reconnect, and DPoP-bound requests must be taken again within the recovery bound.
    RedisBack,
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
    /// A DPoP-bound request sent again, token and proof, to another instance than the one that
    /// accepted it: a replay, which a replay memory shared by the instances refuses.
    Replay,
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
    /// Refused by the layer: this status, and a challenge of the scheme the server takes
    /// (`Bearer`, or `DPoP` alone where DPoP is required) with this `error` (none for a request
    /// without credentials).
    Refused {
        /// The HTTP status.
        status: u16,
        /// The challenge's `error` parameter.
        error: Option<&'static str>,
    },
    /// 503 `temporarily_unavailable` without a challenge: the shared replay memory did not answer,
    /// so the proof could not be recorded and the request was not taken.
    Unavailable,
}

/// 401 `invalid_token`: what every bad token gets.
const INVALID_TOKEN: Expected = Expected::Refused {
    status: 401,
    error: Some("invalid_token"),
};

/// 401 `invalid_dpop_proof`: what a replayed proof gets from a memory that saw it.
const REPLAYED: Expected = Expected::Refused {
    status: 401,
    error: Some("invalid_dpop_proof"),
};

/// How the clients present their tokens, as the server requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `Authorization: Bearer`.
    Bearer,
    /// `Authorization: DPoP` and a fresh proof per request (the server runs `--require-dpop`).
    Dpop,
}

impl Scheme {
    /// The scheme's name in `Authorization` and in the challenges.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Bearer => "Bearer",
            Scheme::Dpop => "DPoP",
        }
    }
}

/// Where the instances remember the DPoP proofs they accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayMemory {
    /// Each instance in its own memory: a proof replayed to another instance is taken.
    PerInstance,
    /// In one Redis shared by the instances (`--redis-url`): a replay is refused on every
    /// instance, and a request is refused (503) while Redis does not answer.
    Shared,
}

/// The server set-up the answers are judged against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// How tokens are presented.
    pub scheme: Scheme,
    /// Where accepted proofs are remembered.
    pub replay_memory: ReplayMemory,
}

impl Setting {
    /// Bearer tokens, one instance: the plain run.
    pub const BEARER: Setting = Setting {
        scheme: Scheme::Bearer,
        replay_memory: ReplayMemory::PerInstance,
    };
}

/// The answers a request may get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expectation {
    /// The answer it must get.
    pub right: Expected,
    /// Another answer as right at any time: a replay to an instance whose own memory never saw
    /// the proof is taken.
    pub also: Option<Expected>,
    /// The answer from before the phase's change, right only in the phase's grace window: a key
    /// set not fetched yet, a Redis not reconnected yet.
    pub before: Option<Expected>,
}

impl Expectation {
    /// Only `right`.
    const fn only(right: Expected) -> Expectation {
        Expectation {
            right,
            also: None,
            before: None,
        }
    }

    /// `right`, or `before` in the grace window.
    const fn after(right: Expected, before: Expected) -> Expectation {
        Expectation {
            right,
            also: None,
            before: Some(before),
        }
    }

    /// Whether the answer does not depend on when in the phase the request was sent.
    pub fn is_settled(&self) -> bool {
        self.before.is_none()
    }
}

impl Phase {
    /// The phases of every run, in the order they run.
    pub const ALL: [Phase; 4] = [
        Phase::Steady,
        Phase::Overlap,
        Phase::Withdrawn,
        Phase::Outage,
    ];

    /// The phases a shared replay memory adds, after [`ALL`](Self::ALL).
    pub const REDIS: [Phase; 2] = [Phase::RedisDown, Phase::RedisBack];

    /// The name printed in the tables.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Steady => "steady {A}",
            Phase::Overlap => "rotation {A,B}",
            Phase::Withdrawn => "rotation {B}",
            Phase::Outage => "jwks outage",
            Phase::RedisDown => "redis down",
            Phase::RedisBack => "redis back",
        }
    }

    /// What the JWKS serves during the phase.
    pub fn served(self) -> Served {
        match self {
            Phase::Steady => Served::A,
            Phase::Overlap => Served::AB,
            Phase::Withdrawn | Phase::RedisDown | Phase::RedisBack => Served::B,
            Phase::Outage => Served::Outage,
        }
    }

    /// The phase whose accepted requests a replay in this one may repeat: its own, so that a
    /// replayed token is as good as when it was taken and only the proof's reuse decides the
    /// answer; while Redis is down, those of the phase before, which Redis recorded before it
    /// went (none is taken while it is down). A Redis started again remembers nothing (it saves
    /// nothing), so the replays after it repeat proofs it recorded since.
    pub fn replays_from(self) -> Phase {
        match self {
            Phase::RedisDown => Phase::Outage,
            phase => phase,
        }
    }

    /// The key the bad tokens name and (but for the forgeries) are signed with: one the server
    /// holds throughout the phase, so that only the fault each carries decides its answer (a
    /// missing-scope token signed by B would get 401 rather than 403 until B is fetched).
    pub fn bad_key(self) -> Key {
        match self {
            Phase::Steady | Phase::Overlap => Key::A,
            Phase::Withdrawn | Phase::Outage | Phase::RedisDown | Phase::RedisBack => Key::B,
        }
    }

    /// The key of a client's `slot`-th good request: during the overlap half of the tokens are
    /// the new key's; afterwards one in four is still an A token a client held on to.
    pub fn key_of(self, slot: u64) -> Key {
        match self {
            Phase::Steady => Key::A,
            Phase::Overlap if slot.is_multiple_of(2) => Key::A,
            Phase::Overlap => Key::B,
            Phase::Withdrawn | Phase::Outage | Phase::RedisDown | Phase::RedisBack
                if slot.is_multiple_of(4) =>
            {
                Key::A
            }
            Phase::Withdrawn | Phase::Outage | Phase::RedisDown | Phase::RedisBack => Key::B,
        }
    }

    /// The answers `kind` may get in this phase from a server in `setting`. Some are
    /// timing-dependent: the server may still hold the set from before the phase (B not yet
    /// fetched during the overlap, A not yet dropped once withdrawn), or not have reconnected to
    /// Redis yet, so that the answer from before is right too until the server's next fetch or
    /// reconnection, which comes within the phase's grace window.
    pub fn expected(self, kind: Kind, setting: Setting) -> Expectation {
        let shared = setting.replay_memory == ReplayMemory::Shared;
        match kind {
            Kind::Reused(key) | Kind::Fresh(key) => {
                let by_key = match (self, key) {
                    (Phase::Overlap, Key::B) => Expectation::after(Expected::Served, INVALID_TOKEN),
                    (Phase::Withdrawn, Key::A) => {
                        Expectation::after(INVALID_TOKEN, Expected::Served)
                    }
                    (Phase::Outage | Phase::RedisDown | Phase::RedisBack, Key::A) => {
                        Expectation::only(INVALID_TOKEN)
                    }
                    _ => Expectation::only(Expected::Served),
                };
                // The token is checked before the proof is recorded: a bad one is refused as
                // ever, a good one waits on Redis.
                match (self, shared && setting.scheme == Scheme::Dpop) {
                    (Phase::RedisDown, true) if by_key.right == Expected::Served => {
                        Expectation::only(Expected::Unavailable)
                    }
                    (Phase::RedisBack, true) if by_key.right == Expected::Served => {
                        Expectation::after(Expected::Served, Expected::Unavailable)
                    }
                    _ => by_key,
                }
            }
            Kind::Replay => match (self, shared) {
                (Phase::RedisDown, true) => Expectation::only(Expected::Unavailable),
                (Phase::RedisBack, true) => Expectation::after(REPLAYED, Expected::Unavailable),
                (_, true) => Expectation::only(REPLAYED),
                // Another instance accepted it; this one never saw it.
                (_, false) => Expectation {
                    right: Expected::Served,
                    also: Some(REPLAYED),
                    before: None,
                },
            },
            Kind::BadHeader => Expectation::only(Expected::Refused {
                status: 400,
                error: Some("invalid_request"),
            }),
            Kind::NoToken => Expectation::only(Expected::Refused {
                status: 401,
                error: None,
            }),
            Kind::MissingScope => Expectation::only(Expected::Refused {
                status: 403,
                error: Some("insufficient_scope"),
            }),
            _ => Expectation::only(INVALID_TOKEN),
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
            Kind::Replay => "replayed proof".into(),
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
        /// Whether a 503's body says `temporarily_unavailable` (read only for 503 answers).
        unavailable: bool,
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

/// Judges `answer` against `expected`, its challenges of `scheme`; `in_grace` lets a
/// timing-dependent request get the answer from before the phase's change too.
pub fn judge(answer: &Answer, expected: &Expectation, scheme: Scheme, in_grace: bool) -> Verdict {
    let right = |wanted: Option<Expected>| wanted.is_some_and(|w| matches(answer, w, scheme));
    if right(Some(expected.right)) || right(expected.also) {
        return Verdict::Right;
    }
    if in_grace && right(expected.before) {
        return Verdict::Graced;
    }
    Verdict::Wrong(describe(answer))
}

/// Whether `answer` is `expected`: the status, and for refusals a challenge of `scheme` with the
/// right `error`.
fn matches(answer: &Answer, expected: Expected, scheme: Scheme) -> bool {
    let Answer::Http {
        status,
        challenge,
        tool_list,
        unavailable,
    } = answer
    else {
        return false;
    };
    match expected {
        Expected::Served => *status == 200 && *tool_list,
        Expected::Unavailable => *status == 503 && *unavailable && challenge.is_none(),
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
            let scheme_ok = challenge
                .strip_prefix(scheme.name())
                .is_some_and(|rest| rest.starts_with(' '));
            *status == wanted && scheme_ok && error_ok
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
        Answer::Http {
            status: 503,
            unavailable: true,
            ..
        } => "503 (temporarily_unavailable)".into(),
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
            unavailable: status == 503,
        }
    }

    const EXPIRED: &str = r#"Bearer resource_metadata="http://127.0.0.1:1/.well-known/oauth-protected-resource/mcp", scope="mcp:tools", error="invalid_token", error_description="the access token has expired""#;
    const DPOP_REPLAYED: &str = r#"DPoP algs="ES256", resource_metadata="http://127.0.0.1:1/x", scope="mcp:tools", error="invalid_dpop_proof", error_description="the proof was used before""#;

    const DPOP_SHARED: Setting = Setting {
        scheme: Scheme::Dpop,
        replay_memory: ReplayMemory::Shared,
    };
    const DPOP_PER_INSTANCE: Setting = Setting {
        scheme: Scheme::Dpop,
        replay_memory: ReplayMemory::PerInstance,
    };

    #[test]
    fn a_withdrawn_key_is_graced_only_in_the_window() {
        let expected = Phase::Withdrawn.expected(Kind::Reused(Key::A), Setting::BEARER);
        assert!(!expected.is_settled());
        let bearer = Scheme::Bearer;
        assert_eq!(
            judge(&http(200, None), &expected, bearer, true),
            Verdict::Graced
        );
        assert!(matches!(
            judge(&http(200, None), &expected, bearer, false),
            Verdict::Wrong(_)
        ));
        assert_eq!(
            judge(&http(401, Some(EXPIRED)), &expected, bearer, false),
            Verdict::Right
        );
    }

    #[test]
    fn bad_tokens_are_never_graced() {
        let expected = Phase::Overlap.expected(Kind::UnknownKid, Setting::BEARER);
        assert!(expected.is_settled());
        assert_eq!(
            judge(&http(200, None), &expected, Scheme::Bearer, true),
            Verdict::Wrong("200 (served)".into())
        );
    }

    #[test]
    fn a_request_without_credentials_gets_a_challenge_without_error() {
        let expected = Phase::Steady.expected(Kind::NoToken, Setting::BEARER);
        let bare = r#"Bearer resource_metadata="http://127.0.0.1:1/x", scope="mcp:tools""#;
        let bearer = Scheme::Bearer;
        assert_eq!(
            judge(&http(401, Some(bare)), &expected, bearer, false),
            Verdict::Right
        );
        assert!(matches!(
            judge(&http(401, Some(EXPIRED)), &expected, bearer, false),
            Verdict::Wrong(_)
        ));
    }

    #[test]
    fn a_challenge_of_the_other_scheme_is_wrong() {
        let expected = Phase::Steady.expected(Kind::Expired, DPOP_SHARED);
        let dpop_expired = EXPIRED.replacen("Bearer", "DPoP", 1);
        assert_eq!(
            judge(
                &http(401, Some(&dpop_expired)),
                &expected,
                Scheme::Dpop,
                false
            ),
            Verdict::Right
        );
        assert!(matches!(
            judge(&http(401, Some(EXPIRED)), &expected, Scheme::Dpop, false),
            Verdict::Wrong(_)
        ));
    }

    #[test]
    fn a_replay_taken_through_a_shared_memory_is_wrong_and_through_instances_memories_right() {
        let replay = |setting| Phase::Steady.expected(Kind::Replay, setting);
        let dpop = Scheme::Dpop;
        assert_eq!(
            judge(&http(200, None), &replay(DPOP_SHARED), dpop, false),
            Verdict::Wrong("200 (served)".into())
        );
        assert_eq!(
            judge(
                &http(401, Some(DPOP_REPLAYED)),
                &replay(DPOP_SHARED),
                dpop,
                false
            ),
            Verdict::Right
        );
        assert_eq!(
            judge(&http(200, None), &replay(DPOP_PER_INSTANCE), dpop, false),
            Verdict::Right
        );
        assert_eq!(
            judge(
                &http(401, Some(DPOP_REPLAYED)),
                &replay(DPOP_PER_INSTANCE),
                dpop,
                false
            ),
            Verdict::Right
        );
    }

    #[test]
    fn nothing_is_taken_while_redis_is_down_and_everything_again_after_the_recovery_bound() {
        let dpop = Scheme::Dpop;
        for kind in [Kind::Reused(Key::B), Kind::Fresh(Key::B), Kind::Replay] {
            let down = Phase::RedisDown.expected(kind, DPOP_SHARED);
            assert!(matches!(
                judge(&http(200, None), &down, dpop, true),
                Verdict::Wrong(_)
            ));
            assert_eq!(judge(&http(503, None), &down, dpop, false), Verdict::Right);
            let back = Phase::RedisBack.expected(kind, DPOP_SHARED);
            assert_eq!(judge(&http(503, None), &back, dpop, true), Verdict::Graced);
            assert_eq!(
                judge(&http(503, None), &back, dpop, false),
                Verdict::Wrong("503 (temporarily_unavailable)".into())
            );
        }
        // A withdrawn key's token is refused before any proof is recorded.
        let a = Phase::RedisDown.expected(Kind::Reused(Key::A), DPOP_SHARED);
        let dpop_expired = EXPIRED.replacen("Bearer", "DPoP", 1);
        assert_eq!(
            judge(&http(401, Some(&dpop_expired)), &a, dpop, false),
            Verdict::Right
        );
        // Without Redis, those phases change nothing.
        let per_instance = Phase::RedisDown.expected(Kind::Reused(Key::B), DPOP_PER_INSTANCE);
        assert_eq!(per_instance.right, Expected::Served);
    }
}

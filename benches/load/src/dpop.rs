//! DPoP-bound clients: each has its own ES256 keys, used in turn, its tokens bound to them
//! (`cnf.jkt`), and a fresh proof for every request, signed ahead of each phase so that signing (an ECDSA signature costs
//! about what the server's check of it does) takes no core from the server while timed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use url::Url;
use workos_connect::dpop::DpopKey;
use workos_connect::oauth::AccessToken;

use crate::clients::Mix;
use crate::phase::{Key, Kind, Phase};
use crate::tokens::{BadTokens, KeyRing, Minter, SigningKey};

/// A token as the clients send it: the `Authorization` value, and the token a proof's `ath`
/// hashes.
struct Bound {
    /// `DPoP <token>`.
    authorization: Arc<str>,
    /// The token, for the proof.
    token: Option<AccessToken>,
    /// A proof signed once, sent with every use: for a token the server refuses before it looks at
    /// the proof (the token is checked first), so that no signature is spent on what it never
    /// reads. Were the proof read first, these requests would get `invalid_dpop_proof` instead of
    /// `invalid_token`, a wrong answer.
    once: Option<Arc<str>>,
}

impl Bound {
    /// `token`, sent with the `DPoP` scheme.
    fn new(token: &str) -> Bound {
        Bound {
            authorization: Arc::from(format!("DPoP {token}")),
            token: AccessToken::new(token).ok(),
            once: None,
        }
    }

    /// `token`, sent with the same proof by `key` for `htu` every time.
    fn with_one_proof(token: &str, key: &DpopKey, htu: &Url) -> Bound {
        let mut bound = Bound::new(token);
        bound.once = bound.token.as_ref().and_then(|token| sign(key, htu, token));
        bound
    }
}

/// A fresh proof by `key` for a `POST` to `htu` carrying `token`.
fn sign(key: &DpopKey, htu: &Url, token: &AccessToken) -> Option<Arc<str>> {
    let proof = key.proof("POST", htu).access_token(token).sign();
    proof.ok().map(|proof| Arc::from(proof.as_str()))
}

/// One of a client's keys, and its own good token per issuer key.
struct Client {
    /// The proof key its tokens are bound to.
    key: DpopKey,
    /// Its token signed by A, and by B.
    reused: [Bound; 2],
}

/// The bad tokens of one issuer key, as sent with the `DPoP` scheme.
struct Bad {
    /// See [`BadTokens`].
    bad_signature: Bound,
    /// See [`BadTokens`].
    wrong_audience: Bound,
    /// See [`BadTokens`].
    wrong_issuer: Bound,
    /// See [`BadTokens`].
    expired: Bound,
    /// See [`BadTokens`].
    unknown_kid: Bound,
    /// See [`BadTokens`].
    missing_scope: Bound,
    /// `DPoP not-a-jwt`.
    not_a_jwt: Bound,
}

impl Bad {
    /// `tokens` as sent, their proofs signed by `key` (the one they are bound to) for `htu`. Only
    /// the missing-scope token passes the token check, so that the proof is read (and must be
    /// fresh); the others each carry one proof throughout.
    fn new(tokens: &BadTokens, key: &DpopKey, htu: &Url) -> Bad {
        let once = |token: &str| Bound::with_one_proof(token, key, htu);
        Bad {
            bad_signature: once(&tokens.bad_signature),
            wrong_audience: once(&tokens.wrong_audience),
            wrong_issuer: once(&tokens.wrong_issuer),
            expired: once(&tokens.expired),
            unknown_kid: once(&tokens.unknown_kid),
            missing_scope: Bound::new(&tokens.missing_scope),
            not_a_jwt: once("not-a-jwt"),
        }
    }
}

/// One request made ready: what it is and its headers.
#[derive(Clone)]
pub struct Prepared {
    /// What it carries.
    pub kind: Kind,
    /// Its `Authorization` value, if any.
    pub authorization: Option<Arc<str>>,
    /// Its `DPoP` proof, if any.
    pub proof: Option<Arc<str>>,
}

/// Every DPoP-bound client, with what it needs to make its requests.
pub struct DpopClients {
    /// The issuer's keys, for the fresh tokens.
    keys: KeyRing,
    /// The claims' issuer, resource and scope.
    minter: Minter,
    /// The URL proofs name (`htu`): the resource, whichever instance a request goes to.
    htu: Url,
    /// The clients' keys: client `c`'s are `keys_per_client` from `c * keys_per_client`.
    clients: Vec<Client>,
    /// How many keys each client has.
    keys_per_client: usize,
    /// The key the bad tokens are bound to (and their proofs signed by): one no good token names.
    stranger: DpopKey,
    /// The bad tokens naming A, and those naming B.
    bad: [Bad; 2],
    /// How the requests are mixed.
    mix: Mix,
    /// Requests made ready during a phase, because those signed ahead ran out.
    signed_late: AtomicU64,
}

impl DpopClients {
    /// `clients` clients with `keys_per_client` keys each (at least one) and their tokens, for
    /// requests to `htu` mixed by `mix`.
    ///
    /// A client's requests use its keys in turn. One load client stands for many MCP clients,
    /// each sending a request now and then: with a single key, its hundreds of proofs a second
    /// would meet the server's quota of open proofs per key (5,000 in the example's memory for the
    /// two minutes a proof is remembered), which is there to stop one client filling the memory.
    pub fn new(
        keys: KeyRing,
        minter: Minter,
        htu: Url,
        clients: usize,
        keys_per_client: usize,
        mix: Mix,
    ) -> DpopClients {
        let keys_per_client = keys_per_client.max(1);
        let stranger = DpopKey::generate();
        let bad = [&keys.a, &keys.b].map(|key| {
            let tokens = minter.bad_for(key, &keys.c, Some(stranger.thumbprint()));
            Bad::new(&tokens, &stranger, &htu)
        });
        let clients = (0..clients * keys_per_client)
            .map(|_| {
                let key = DpopKey::generate();
                let jkt = Some(key.thumbprint());
                let reused = [&keys.a, &keys.b].map(|k| Bound::new(&minter.valid_for(k, jkt)));
                Client { key, reused }
            })
            .collect();
        DpopClients {
            keys,
            minter,
            htu,
            clients,
            keys_per_client,
            stranger,
            bad,
            mix,
            signed_late: AtomicU64::new(0),
        }
    }

    /// How many requests were made ready during the phases so far.
    pub fn signed_late(&self) -> u64 {
        self.signed_late.load(Ordering::Relaxed)
    }

    /// Counts one request made ready during a phase.
    pub fn count_late(&self) {
        self.signed_late.fetch_add(1, Ordering::Relaxed);
    }

    /// The first `count` requests of every client in `phase`, on every core.
    pub fn prepare_phase(&self, phase: Phase, count: usize) -> Vec<Vec<Prepared>> {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let clients = self.clients.len() / self.keys_per_client;
        let per_thread = clients.div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|thread| {
                    let first = (thread * per_thread).min(clients);
                    let last = (first + per_thread).min(clients);
                    scope.spawn(move || {
                        (first..last)
                            .map(|client| {
                                (0..count as u64)
                                    .map(|n| self.prepare(phase, client, n))
                                    .collect::<Vec<_>>()
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|handle| handle.join().unwrap_or_default())
                .collect()
        })
    }

    /// Client `client`'s `n`-th request in `phase`, with a proof signed now. A replay has nothing
    /// made ready: it repeats a request another instance accepted.
    pub fn prepare(&self, phase: Phase, client: usize, n: u64) -> Prepared {
        let kind = self.mix.kind(phase, client, n);
        let key = client * self.keys_per_client + (n % self.keys_per_client as u64) as usize;
        let Some(owner) = self.clients.get(key) else {
            return Prepared {
                kind,
                authorization: None,
                proof: None,
            };
        };
        let bad = &self.bad[index(phase.bad_key())];
        let fresh;
        let (bound, key) = match kind {
            Kind::Reused(key) => (&owner.reused[index(key)], &owner.key),
            Kind::Fresh(key) => {
                let token = self
                    .minter
                    .valid_for(self.signing(key), Some(owner.key.thumbprint()));
                fresh = Bound::new(&token);
                (&fresh, &owner.key)
            }
            Kind::BadSignature => (&bad.bad_signature, &self.stranger),
            Kind::WrongAudience => (&bad.wrong_audience, &self.stranger),
            Kind::WrongIssuer => (&bad.wrong_issuer, &self.stranger),
            Kind::Expired => (&bad.expired, &self.stranger),
            Kind::UnknownKid => (&bad.unknown_kid, &self.stranger),
            Kind::MissingScope => (&bad.missing_scope, &self.stranger),
            Kind::NotAJwt => (&bad.not_a_jwt, &self.stranger),
            Kind::BadHeader => {
                return Prepared {
                    kind,
                    authorization: Some(Arc::from("DPoP two tokens")),
                    proof: None,
                };
            }
            Kind::NoToken | Kind::Replay => {
                return Prepared {
                    kind,
                    authorization: None,
                    proof: None,
                };
            }
        };
        let proof = match &bound.once {
            Some(proof) => Some(Arc::clone(proof)),
            None => bound
                .token
                .as_ref()
                .and_then(|token| sign(key, &self.htu, token)),
        };
        Prepared {
            kind,
            authorization: Some(Arc::clone(&bound.authorization)),
            proof,
        }
    }

    /// The issuer's `key`.
    fn signing(&self, key: Key) -> &SigningKey {
        match key {
            Key::A => &self.keys.a,
            Key::B => &self.keys.b,
        }
    }
}

/// The index of `key` in the per-key arrays.
fn index(key: Key) -> usize {
    match key {
        Key::A => 0,
        Key::B => 1,
    }
}

/// How many requests to make ready per client for a phase of `seconds` at `rate` requests a
/// second across `clients` clients: a quarter more than that pace needs, and a few besides, so
/// that a faster phase than the last seldom signs under way.
pub fn ahead(rate: f64, seconds: f64, clients: usize) -> usize {
    let per_client = rate.max(0.0) * seconds.max(0.0) * 1.25 / clients.max(1) as f64;
    per_client.ceil() as usize + 16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enough_is_made_ready_for_the_pace_and_some() {
        // 3200 a second for 5 s is 500 per client, and a quarter more.
        assert_eq!(ahead(3200.0, 5.0, 32), 625 + 16);
        assert_eq!(ahead(0.0, 5.0, 32), 16);
        assert_eq!(ahead(100.0, 1.0, 0), 125 + 16);
    }
}

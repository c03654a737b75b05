//! One renewal of a session's access token at a time.
//!
//! With refresh-token rotation, a refresh token is good for one redemption: a second request
//! redeeming it is taken for a stolen token's replay (RFC 9700 section 4.14.2), and the server
//! revokes the whole grant, which signs the user out. Requests of one session arriving together
//! near expiry must therefore not each redeem the token they read: they take turns, and each
//! re-reads the session when its turn comes, to find the tokens of the renewal before it. A logout
//! and a login's new session ID take the same turns, so that a renewal under way cannot store its
//! tokens under an ID that has just been deleted.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OwnedMutexGuard;
use tower_sessions::session::Id;

/// How long a renewal's lock in Redis lives past its last extension; its holder extends it every
/// third of that while it renews.
#[cfg(feature = "redis")]
const RENEWAL_LOCK_HOLD: std::time::Duration = std::time::Duration::from_secs(15);

/// The sessions with a renewal under way or waiting, in this instance. An entry lives only while a
/// request holds or waits for its turn, so the map holds no more sessions than there are requests
/// in flight.
#[derive(Default)]
pub(crate) struct Renewals {
    sessions: Mutex<HashMap<Id, Arc<tokio::sync::Mutex<Round>>>>,
    /// Numbers the queuings and failures in the order they happen: which came first is all the
    /// turns need to know, and a count, unlike a wall clock, never steps back or ties.
    events: AtomicU64,
    /// The sessions' Redis store, when the app keeps them there: renewals then also take turns
    /// with the other instances sharing it, through a lock in Redis.
    #[cfg(feature = "redis")]
    across: std::sync::OnceLock<crate::RedisStore>,
}

/// What the requests of one session taking turns tell each other.
#[derive(Default)]
struct Round {
    /// The event of the last renewal's failure (the token endpoint down or silent, say): the
    /// requests that were waiting for it take its outcome rather than each trying again in turn.
    failed_at: Option<u64>,
}

/// A request's place in its session's turns; dropping it (done, or the request cancelled) leaves
/// the turns, and the last to leave removes the session's entry.
struct Ticket<'r> {
    renewals: &'r Renewals,
    id: Id,
    round: Arc<tokio::sync::Mutex<Round>>,
    /// The event of this request's queuing.
    queued_at: u64,
}

/// A request's turn: the session is its own until this is dropped.
pub(crate) struct Turn<'r> {
    // Declared first to be dropped first: the ticket counts the holders of the round as it leaves.
    round: OwnedMutexGuard<Round>,
    ticket: Ticket<'r>,
}

impl Renewals {
    /// Waits for a turn of session `id` (first come, first served).
    pub(crate) async fn turn(&self, id: Id) -> Turn<'_> {
        let ticket = self.ticket(id);
        let round = Arc::clone(&ticket.round).lock_owned().await;
        Turn { round, ticket }
    }

    /// Makes renewals take turns across the instances sharing `store` too.
    #[cfg(feature = "redis")]
    pub(crate) fn share(&self, store: crate::RedisStore) {
        // The first session layer's store: an app has one.
        let _ = self.across.set(store);
    }

    /// Session `id`'s turn among the instances sharing its Redis store, after this instance's own
    /// [`turn`](Self::turn), waiting up to `wait` for another instance's: `Ok(None)` when the
    /// sessions are not in Redis. The lock lives [`RENEWAL_LOCK_HOLD`] past its last extension,
    /// so that an instance that stops mid-renewal blocks the others no longer.
    #[cfg(feature = "redis")]
    pub(crate) async fn across_instances(
        &self,
        id: &Id,
        wait: std::time::Duration,
    ) -> Result<Option<crate::redis_store::RenewalLock>, crate::LoginError> {
        let Some(store) = self.across.get() else {
            return Ok(None);
        };
        match store.renewal_lock(id, RENEWAL_LOCK_HOLD, wait).await {
            Ok(Some(lock)) => Ok(Some(lock)),
            // Held past its term by another instance: that renewal is stuck, and this one must
            // not redeem the refresh token beside it.
            Ok(None) => Err(crate::LoginError::RenewalFailed),
            Err(error) => Err(crate::redis_store::session_error(error).into()),
        }
    }

    /// A place in the turns of session `id`.
    fn ticket(&self, id: Id) -> Ticket<'_> {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        let round = Arc::clone(sessions.entry(id).or_default());
        Ticket {
            renewals: self,
            id,
            round,
            queued_at: self.next_event(),
        }
    }

    /// The number of a new event, greater than every one before.
    fn next_event(&self) -> u64 {
        self.events.fetch_add(1, Ordering::Relaxed)
    }

    /// How many sessions have an entry.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Turn<'_> {
    /// Whether a renewal failed while this request waited for its turn: it takes that outcome.
    pub(crate) fn failed_while_waiting(&self) -> bool {
        self.round
            .failed_at
            .is_some_and(|failed_at| failed_at > self.ticket.queued_at)
    }

    /// Tells the requests waiting now that the renewal of this turn failed.
    pub(crate) fn failed(&mut self) {
        self.round.failed_at = Some(self.ticket.renewals.next_event());
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut sessions = self
            .renewals
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Tickets are taken under this lock, so no other can appear between the count and the
        // removal: held by the map and this ticket alone, nobody else waits.
        if let Some(round) = sessions.get(&self.id) {
            if Arc::ptr_eq(round, &self.round) && Arc::strong_count(&self.round) <= 2 {
                sessions.remove(&self.id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn requests_of_one_session_take_turns_and_the_entry_goes_with_the_last() {
        let renewals = Renewals::default();
        let (a, b) = (Id::default(), Id::default());
        let first = renewals.turn(a).await;
        let second = renewals.ticket(a);
        let other = renewals.ticket(b);
        assert_eq!(renewals.len(), 2);
        assert!(second.round.try_lock().is_err(), "the second waits");
        assert!(other.round.try_lock().is_ok(), "another session does not");
        drop(first);
        assert_eq!(renewals.len(), 2, "the second still waits");
        drop(other);
        drop(second);
        assert_eq!(renewals.len(), 0);
        let alone = renewals.turn(a).await;
        drop(alone);
        assert_eq!(renewals.len(), 0);
    }

    #[tokio::test]
    async fn a_cancelled_wait_leaves_no_entry() {
        let renewals = Renewals::default();
        let id = Id::default();
        let holder = renewals.turn(id).await;
        // The waiting request is dropped before its turn comes, as when a client goes away.
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(10), renewals.turn(id))
                .await
                .is_err()
        );
        drop(holder);
        assert_eq!(renewals.len(), 0);
    }

    #[tokio::test]
    async fn a_failure_is_taken_by_the_requests_that_waited_for_it_only() {
        let renewals = Renewals::default();
        let id = Id::default();
        let mut holder = renewals.turn(id).await;
        let waiting = renewals.turn(id);
        let (waited, ()) = tokio::join!(waiting, async {
            tokio::task::yield_now().await;
            holder.failed();
            drop(holder);
        });
        assert!(waited.failed_while_waiting());
        // Queued after the failure, while the entry still lives.
        let (waited, later) = tokio::join!(
            async {
                tokio::task::yield_now().await;
                drop(waited);
            },
            renewals.turn(id)
        );
        let () = waited;
        assert!(
            !later.failed_while_waiting(),
            "a request arriving after the failure tries again"
        );
    }
}

//! One renewal of a session's access token at a time.
//!
//! With refresh-token rotation, a refresh token is good for one redemption: a second request
//! redeeming it is taken for a stolen token's replay (RFC 9700 section 4.14.2), and the server
//! revokes the whole grant, which signs the user out. Requests of one session arriving together
//! near expiry must therefore not each redeem the token they read: they take turns, and each
//! re-reads the session when its turn comes, to find the tokens of the renewal before it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::MutexGuard;
use tower_sessions::session::Id;

use crate::session_data::SessionData;

/// The sessions with a renewal under way or waiting, in this instance. An entry lives only while a
/// request holds or waits for its turn, so the map holds no more sessions than there are requests
/// in flight.
#[derive(Default)]
pub(crate) struct Renewals {
    sessions: Mutex<HashMap<Id, Arc<tokio::sync::Mutex<Round>>>>,
}

/// What the requests of one session taking turns tell each other.
#[derive(Default)]
pub(crate) struct Round {
    /// The session whose renewal failed last (the token endpoint down, say): the requests that
    /// waited for that renewal serve its current token, as it did, rather than each trying again
    /// after the timeout.
    pub(crate) failed: Option<SessionData>,
}

/// A request's place in its session's turns; dropping it (done, or the request cancelled) leaves
/// the turns, and the last to leave removes the session's entry.
pub(crate) struct Ticket<'r> {
    renewals: &'r Renewals,
    id: Id,
    round: Arc<tokio::sync::Mutex<Round>>,
}

impl Renewals {
    /// A place in the turns of session `id`.
    pub(crate) fn ticket(&self, id: Id) -> Ticket<'_> {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        let round = Arc::clone(sessions.entry(id).or_default());
        Ticket {
            renewals: self,
            id,
            round,
        }
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

impl Ticket<'_> {
    /// Waits for this request's turn (first come, first served).
    pub(crate) async fn turn(&self) -> MutexGuard<'_, Round> {
        self.round.lock().await
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
        let first = renewals.ticket(a);
        let second = renewals.ticket(a);
        let other = renewals.ticket(b);
        assert_eq!(renewals.len(), 2);
        let turn = first.turn().await;
        assert!(second.round.try_lock().is_err(), "the second waits");
        assert!(other.round.try_lock().is_ok(), "another session does not");
        drop(turn);
        drop(first);
        assert_eq!(renewals.len(), 2, "the second still waits");
        drop(other);
        drop(second);
        assert_eq!(renewals.len(), 0);
    }

    #[tokio::test]
    async fn a_cancelled_wait_leaves_no_entry() {
        let renewals = Renewals::default();
        let id = Id::default();
        let holder = renewals.ticket(id);
        let turn = holder.turn().await;
        let waiting = async {
            let ticket = renewals.ticket(id);
            let _turn = ticket.turn().await;
        };
        // The waiting request is dropped before its turn comes, as when a client goes away.
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(10), waiting)
                .await
                .is_err()
        );
        drop(turn);
        drop(holder);
        assert_eq!(renewals.len(), 0);
    }
}

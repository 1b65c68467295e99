//! The station sessions of enrolled devices, kept a moment in memory: every scan starts by
//! reading its device's session, and at a busy workshop that read was half of a scan's
//! reads for an answer that changes only when somebody signs in or out, a device is
//! revoked, a station or an account changes.
//!
//! A session is read again when the service has written anything since it was read (after
//! every request that may write, the HTTP layer calls [`SessionCache::forget_all`], unless
//! the answer carries [`SessionsUnchanged`], as a scan's does when it neither read a badge
//! nor refreshed the apprentice's activity time), and at the latest after
//! [`SessionCache::LIFETIME`] in any case. Only a single-instance database keeps them: on
//! SQLite, no other process changes sessions (the CLI has no command that does). On
//! PostgreSQL several instances may share the database and a device's next scan may reach
//! another one, so every request reads its session afresh (the cache is off).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

use crate::error::AppResult;
use crate::services::stations::{self, Session};

/// Sessions by their device's token hash.
#[derive(Debug)]
pub struct SessionCache {
    lifetime: Option<Duration>,
    /// Counts the writes that may have changed a session; an entry read before the last is stale.
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Kept>>,
}

#[derive(Debug)]
struct Kept {
    session: Session,
    generation: u64,
    read_at: Instant,
}

/// Marks an answer that changed no station session: the service need not forget them.
#[derive(Debug, Clone, Copy)]
pub struct SessionsUnchanged;

impl SessionCache {
    /// How long a session is kept at most, even when nothing in this process wrote.
    pub const LIFETIME: Duration = Duration::from_secs(1);

    /// The cache for a database: on for SQLite, off for PostgreSQL (see the module's note).
    pub fn for_database(db: &DatabaseConnection) -> SessionCache {
        match db.get_database_backend() {
            DbBackend::Sqlite => SessionCache::with_lifetime(Some(Self::LIFETIME)),
            _ => SessionCache::with_lifetime(None),
        }
    }

    /// Keeps sessions for `lifetime` at most; `None` keeps none.
    pub fn with_lifetime(lifetime: Option<Duration>) -> SessionCache {
        SessionCache {
            lifetime,
            generation: AtomicU64::new(0),
            entries: Mutex::default(),
        }
    }

    /// The device's live session, as [`stations::resolve`] answers it, read from the
    /// database unless a fresh copy is kept.
    pub async fn resolve(
        &self,
        conn: &impl ConnectionTrait,
        token: &str,
    ) -> AppResult<Option<Session>> {
        let Some(lifetime) = self.lifetime else {
            return stations::resolve(conn, token).await;
        };
        let key = crate::services::secrets::token_hash(token);
        // Taken before the read: a write that lands during it makes this copy stale at once.
        let generation = self.generation.load(Ordering::Acquire);
        if let Some(kept) = self.entries().get(&key)
            && kept.generation == generation
            && kept.read_at.elapsed() < lifetime
        {
            return Ok(Some(kept.session.clone()));
        }
        let found = stations::resolve(conn, token).await?;
        let mut entries = self.entries();
        match &found {
            Some(session) => {
                entries.insert(
                    key,
                    Kept {
                        session: session.clone(),
                        generation,
                        read_at: Instant::now(),
                    },
                );
            }
            // An unknown or revoked token keeps nothing: guesses cannot fill the memory.
            None => {
                entries.remove(&key);
            }
        }
        Ok(found)
    }

    /// Every kept session is read again: something may have changed one. (The stale copies
    /// stay until their device's next request replaces them; there is one per device at most.)
    pub fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// How many times the sessions were forgotten (for tests).
    #[cfg(test)]
    pub(crate) fn forgotten(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Kept>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

//! When a badge is locked after wrong PINs (issue 19): a pure rule over a small counter, so
//! the numbers are tested without a database and the counter can move onto the shared
//! failure counter later unchanged.
//!
//! **Decisions.** Five wrong PINs within fifteen minutes lock the badge for fifteen minutes
//! (or until a supervisor unlocks it); failures older than the window are forgotten, so a
//! child who mistypes once a week is never locked. While locked no PIN is checked at all: the
//! right one is refused like a wrong one, so a locked badge teaches a guesser nothing. A right
//! PIN clears the count.

use chrono::{DateTime, Duration, Utc};

/// Wrong PINs that lock a badge.
pub const MAX_FAILURES: i32 = 5;
/// How long failures are remembered, and how long a lock lasts.
pub const WINDOW_MINUTES: i64 = 15;

/// The counter as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub failures: i32,
    pub first_failure_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

/// Whether the badge is locked at `now`.
pub fn is_locked(count: Option<&Count>, now: DateTime<Utc>) -> bool {
    count
        .and_then(|c| c.locked_until)
        .is_some_and(|until| until > now)
}

/// The counter after one more wrong PIN at `now` (on an unlocked badge).
pub fn after_failure(count: Option<&Count>, now: DateTime<Utc>) -> Count {
    let window = Duration::minutes(WINDOW_MINUTES);
    let (failures, first_failure_at) = match count {
        Some(c) if c.locked_until.is_none() && now - c.first_failure_at < window => {
            (c.failures + 1, c.first_failure_at)
        }
        // No count yet, an old one, or a lock that has run out: start again.
        _ => (1, now),
    };
    Count {
        failures,
        first_failure_at,
        locked_until: (failures >= MAX_FAILURES).then(|| now + window),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(minute)
    }

    #[test]
    fn the_fifth_wrong_pin_within_the_window_locks_for_fifteen_minutes() {
        let mut count = None;
        for n in 1..=4 {
            count = Some(after_failure(count.as_ref(), at(n)));
            assert!(!is_locked(count.as_ref(), at(n)), "locked after {n}");
        }
        let locked = after_failure(count.as_ref(), at(5));
        assert_eq!(locked.locked_until, Some(at(20)));
        assert!(is_locked(Some(&locked), at(19)));
        assert!(!is_locked(Some(&locked), at(20)));
    }

    #[test]
    fn failures_older_than_the_window_are_forgotten() {
        let mut count = None;
        for n in 0..4 {
            count = Some(after_failure(count.as_ref(), at(n)));
        }
        let later = after_failure(count.as_ref(), at(16));
        assert_eq!((later.failures, later.locked_until), (1, None));
    }

    #[test]
    fn a_failure_after_a_lock_ran_out_counts_from_one() {
        let locked = Count {
            failures: 5,
            first_failure_at: at(0),
            locked_until: Some(at(15)),
        };
        let next = after_failure(Some(&locked), at(16));
        assert_eq!((next.failures, next.locked_until), (1, None));
        assert!(!is_locked(None, at(0)));
    }
}

//! How long a throttled key waits, as a pure rule over its count (`services::throttles`
//! keeps the counts). Two kinds of rule:
//!
//! - [`Rule::Delay`] for failures (logins, later PIN entries): a few are free, then each
//!   further attempt waits from the last failure, 1 s doubling to 30 s. A delay rather than a
//!   lock-out: someone guessing without the password can slow an account, never close it for
//!   longer than [`LONGEST_DELAY_S`]. The count is forgotten after a quiet spell.
//! - [`Rule::Limit`] for plain use (public lookups): at most so many per window that starts
//!   at the first one; the rest wait for the window's end.

use chrono::{DateTime, Duration, Utc};

/// The first wait once the free failures are used up, in seconds.
pub const FIRST_DELAY_S: i64 = 1;
/// The longest wait, in seconds: an attacker can keep nobody out for longer.
pub const LONGEST_DELAY_S: i64 = 30;
/// Failures allowed with a device cookie before that cookie is no longer trusted.
pub const DEVICE_FAILURES: u32 = 5;

/// Public certificate lookups per client address: a code has 40 random bits, so at this pace
/// guessing one takes longer than any certificate lives.
pub const LOOKUPS: Rule = Rule::Limit {
    limit: 30,
    window_s: 60,
};

/// `failures → wait` in seconds: none while fewer than `free`, then 1 s, 2, 4, 8, 16, and
/// 30 from then on.
pub fn delay_s(failures: u32, free: u32) -> i64 {
    if failures < free {
        return 0;
    }
    let doublings = (failures - free).min(6);
    (FIRST_DELAY_S << doublings).min(LONGEST_DELAY_S)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// `free` failures, then [`delay_s`] from the last one; forgotten `quiet_s` after it.
    Delay { free: u32, quiet_s: i64 },
    /// `limit` uses per window of `window_s` seconds that starts at the first use.
    Limit { limit: u32, window_s: i64 },
}

/// What is counted for a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub count: u32,
    pub last_at: DateTime<Utc>,
    /// When the count is forgotten.
    pub expires_at: DateTime<Utc>,
}

impl Tally {
    /// The tally still counting at `now` (none once expired).
    pub fn live(tally: Option<&Tally>, now: DateTime<Utc>) -> Option<&Tally> {
        tally.filter(|tally| tally.expires_at > now)
    }
}

impl Rule {
    /// Whole seconds to wait before the next attempt (0: go ahead), rounded up.
    pub fn wait_s(&self, tally: Option<&Tally>, now: DateTime<Utc>) -> u64 {
        let Some(tally) = Tally::live(tally, now) else {
            return 0;
        };
        let until = match *self {
            Rule::Delay { free, .. } => {
                tally.last_at + Duration::seconds(delay_s(tally.count, free))
            }
            Rule::Limit { limit, .. } if tally.count >= limit => tally.expires_at,
            Rule::Limit { .. } => return 0,
        };
        let left_ms = (until - now).num_milliseconds();
        if left_ms <= 0 {
            0
        } else {
            (left_ms + 999) as u64 / 1000
        }
    }

    /// The tally after one more is counted at `now`.
    pub fn counted(&self, tally: Option<&Tally>, now: DateTime<Utc>) -> Tally {
        let live = Tally::live(tally, now);
        let expires_at = match (*self, live) {
            (Rule::Delay { quiet_s, .. }, _) => now + Duration::seconds(quiet_s),
            (Rule::Limit { .. }, Some(live)) => live.expires_at,
            (Rule::Limit { window_s, .. }, None) => now + Duration::seconds(window_s),
        };
        Tally {
            count: live.map_or(0, |live| live.count) + 1,
            last_at: now,
            expires_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DELAY: Rule = Rule::Delay {
        free: 5,
        quiet_s: 900,
    };

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    /// Counts `n` failures one after another, each as soon as it is allowed.
    fn failures(rule: Rule, n: u32) -> (Option<Tally>, DateTime<Utc>) {
        let (mut tally, mut now) = (None, at(0));
        for _ in 0..n {
            now += Duration::seconds(rule.wait_s(tally.as_ref(), now) as i64);
            tally = Some(rule.counted(tally.as_ref(), now));
        }
        (tally, now)
    }

    #[test]
    fn the_delay_is_none_for_four_failures_then_doubles_from_one_second_to_thirty() {
        let table: Vec<i64> = (0..14).map(|n| delay_s(n, 5)).collect();
        assert_eq!(table, [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 30, 30, 30, 30]);
        assert_eq!(delay_s(u32::MAX, 5), 30);
        assert_eq!(delay_s(3, 3), 1, "the free failures are configurable");
    }

    #[test]
    fn the_wait_counts_from_the_last_failure_and_rounds_up() {
        let (tally, last) = failures(DELAY, 7);
        assert_eq!(tally.unwrap().count, 7);
        assert_eq!(DELAY.wait_s(tally.as_ref(), last), 4);
        let later = last + Duration::milliseconds(2500);
        assert_eq!(DELAY.wait_s(tally.as_ref(), later), 2);
        assert_eq!(DELAY.wait_s(tally.as_ref(), last + Duration::seconds(4)), 0);
    }

    #[test]
    fn no_number_of_failures_makes_anyone_wait_longer_than_thirty_seconds() {
        let (tally, last) = failures(DELAY, 500);
        assert_eq!(DELAY.wait_s(tally.as_ref(), last), 30);
        assert_eq!(
            DELAY.wait_s(tally.as_ref(), last + Duration::seconds(30)),
            0
        );
    }

    #[test]
    fn failures_are_forgotten_after_a_quiet_spell_and_kept_while_they_continue() {
        let (tally, last) = failures(DELAY, 12);
        let quiet = last + Duration::seconds(900);
        assert_eq!(DELAY.wait_s(tally.as_ref(), quiet), 0);
        assert_eq!(DELAY.counted(tally.as_ref(), quiet).count, 1);
        let soon = last + Duration::seconds(899);
        assert_eq!(DELAY.counted(tally.as_ref(), soon).count, 13);
        assert_eq!(
            DELAY.counted(tally.as_ref(), soon).expires_at,
            soon + Duration::seconds(900)
        );
    }

    #[test]
    fn a_limit_refuses_until_its_window_ends() {
        let rule = Rule::Limit {
            limit: 3,
            window_s: 60,
        };
        let mut tally = None;
        for s in 0..3 {
            assert_eq!(rule.wait_s(tally.as_ref(), at(s)), 0);
            tally = Some(rule.counted(tally.as_ref(), at(s)));
        }
        assert_eq!(rule.wait_s(tally.as_ref(), at(3)), 57);
        assert_eq!(rule.wait_s(tally.as_ref(), at(60)), 0, "a new window");
        assert_eq!(rule.counted(tally.as_ref(), at(60)).count, 1);
        assert_eq!(LOOKUPS.wait_s(None, at(0)), 0);
    }
}

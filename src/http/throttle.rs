//! Rate limits: failed logins counted per account and per client address, and public
//! certificate lookups per client address.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures within a sliding window. Kept in memory: behind several instances each counts
/// its own, which still bounds guessing to a few attempts per window per instance.
#[derive(Debug)]
pub struct LoginThrottle {
    per_account: u32,
    per_address: u32,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginThrottle {
    pub fn new(per_account: u32, per_address: u32, window: Duration) -> LoginThrottle {
        LoginThrottle {
            per_account,
            per_address,
            window,
            failures: Mutex::default(),
        }
    }

    fn keys(account: &str, address: Option<&str>) -> [(String, bool); 2] {
        [
            (format!("account:{}", account.trim().to_lowercase()), true),
            (format!("address:{}", address.unwrap_or("unknown")), false),
        ]
    }

    /// `Err(seconds until the oldest counted failure leaves the window)` when either limit is reached.
    pub fn check(&self, account: &str, address: Option<&str>, now: Instant) -> Result<(), u64> {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let mut wait = None;
        for (key, is_account) in Self::keys(account, address) {
            let limit = if is_account {
                self.per_account
            } else {
                self.per_address
            } as usize;
            if let Some(times) = failures.get_mut(&key) {
                while times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window)
                {
                    times.pop_front();
                }
                if times.len() >= limit
                    && let Some(oldest) = times.front()
                {
                    let left = self.window.saturating_sub(now.duration_since(*oldest));
                    wait = wait.max(Some(left.as_secs().max(1)));
                }
            }
        }
        wait.map_or(Ok(()), Err)
    }

    pub fn record_failure(&self, account: &str, address: Option<&str>, now: Instant) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        for (key, _) in Self::keys(account, address) {
            failures.entry(key).or_default().push_back(now);
        }
    }

    /// A successful login forgets the account's failures (not the address's).
    pub fn record_success(&self, account: &str) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        failures.remove(&Self::keys(account, None)[0].0);
    }
}

/// Public certificate lookups allowed per client address within [`LOOKUP_WINDOW`]: a code
/// has 40 random bits, so at this pace guessing one takes longer than any certificate lives.
pub const LOOKUPS_PER_WINDOW: u32 = 30;
pub const LOOKUP_WINDOW: Duration = Duration::from_secs(60);

/// Every lookup within a sliding window, per client address. In memory, per instance, as
/// the login limit (behind several instances each counts its own).
#[derive(Debug)]
pub struct LookupThrottle {
    limit: u32,
    window: Duration,
    lookups: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Default for LookupThrottle {
    fn default() -> LookupThrottle {
        LookupThrottle::new(LOOKUPS_PER_WINDOW, LOOKUP_WINDOW)
    }
}

impl LookupThrottle {
    pub fn new(limit: u32, window: Duration) -> LookupThrottle {
        LookupThrottle {
            limit,
            window,
            lookups: Mutex::default(),
        }
    }

    /// Counts one lookup from `address`; `Err(seconds to wait)` when the address has used up
    /// its window (a refused lookup is not counted).
    pub fn hit(&self, address: Option<&str>, now: Instant) -> Result<(), u64> {
        let mut lookups = self
            .lookups
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        // Addresses gone quiet are forgotten, so the map does not grow without bound.
        if lookups.len() > 10_000 {
            let window = self.window;
            lookups.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
        let times = lookups
            .entry(address.unwrap_or("unknown").to_string())
            .or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
        if times.len() >= self.limit as usize
            && let Some(oldest) = times.front()
        {
            let left = self.window.saturating_sub(now.duration_since(*oldest));
            return Err(left.as_secs().max(1));
        }
        times.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_limit_refuses_then_the_window_releases() {
        let throttle = LoginThrottle::new(3, 100, Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(throttle.check("Ahmed", Some("10.0.0.1"), start), Ok(()));
            throttle.record_failure("ahmed", Some("10.0.0.1"), start);
        }
        assert_eq!(throttle.check("ahmed", Some("10.0.0.2"), start), Err(60));
        assert_eq!(throttle.check("other", Some("10.0.0.1"), start), Ok(()));
        assert_eq!(
            throttle.check("ahmed", None, start + Duration::from_secs(61)),
            Ok(())
        );
    }

    #[test]
    fn the_address_limit_spans_accounts() {
        let throttle = LoginThrottle::new(100, 2, Duration::from_secs(60));
        let now = Instant::now();
        throttle.record_failure("a", Some("10.0.0.9"), now);
        throttle.record_failure("b", Some("10.0.0.9"), now);
        assert!(throttle.check("c", Some("10.0.0.9"), now).is_err());
        assert!(throttle.check("c", Some("10.0.0.8"), now).is_ok());
    }

    #[test]
    fn success_clears_the_account() {
        let throttle = LoginThrottle::new(1, 100, Duration::from_secs(60));
        let now = Instant::now();
        throttle.record_failure("a", Some("x"), now);
        assert!(throttle.check("a", Some("x"), now).is_err());
        throttle.record_success("a");
        assert!(throttle.check("a", Some("x"), now).is_ok());
    }

    #[test]
    fn lookups_are_limited_per_address_and_released_by_the_window() {
        let throttle = LookupThrottle::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(throttle.hit(Some("10.0.0.1"), start), Ok(()));
        }
        assert_eq!(throttle.hit(Some("10.0.0.1"), start), Err(60));
        assert_eq!(throttle.hit(Some("10.0.0.2"), start), Ok(()));
        let later = start + Duration::from_secs(60);
        assert_eq!(throttle.hit(Some("10.0.0.1"), later), Ok(()));
    }
}

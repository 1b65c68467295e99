//! Which counts a login and a public lookup take (`services::throttles` keeps them in the
//! database; `domain::throttle` says how long each waits).
//!
//! A login counts against the account (its id, whether the name or the e-mail was typed; an
//! unknown login by a hash of its lower-cased text, so a password typed as a name is never
//! stored) and against the client address, or, from a browser holding a device cookie of
//! that account that has failed fewer than [`DEVICE_FAILURES`] times, against that cookie
//! alone. Every count only delays (1 s doubling to 30 s), never locks out.

use crate::config::Config;
use crate::domain::throttle::{DEVICE_FAILURES, LOOKUPS, Rule};
use crate::entities::user;
use crate::error::AppResult;
use crate::http::AppState;
use crate::services::{secrets, throttles};

/// The rules of the login counts, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct LoginRules {
    pub account: Rule,
    pub address: Rule,
    pub device: Rule,
}

impl LoginRules {
    pub fn of(config: &Config) -> LoginRules {
        let quiet_s = i64::try_from(config.login_window_s).unwrap_or(i64::MAX / 2);
        let delay = |free| Rule::Delay { free, quiet_s };
        LoginRules {
            account: delay(config.login_failures_per_account),
            address: delay(config.login_failures_per_address),
            device: delay(DEVICE_FAILURES),
        }
    }
}

/// The account key of a login: the account it names, or the text typed when it names none.
pub fn account_key(found: Option<&user::Model>, login: &str) -> String {
    match found {
        Some(user) => format!("account:{}", user.id),
        None => format!("name:{}", secrets::token_hash(&login.trim().to_lowercase())),
    }
}

pub fn address_key(address: Option<&str>) -> String {
    format!("address:{}", address.unwrap_or("unknown"))
}

/// Counts one public certificate lookup from `address`; 429 once it has used its minute.
pub async fn look_up(state: &AppState, address: Option<&str>) -> AppResult<()> {
    let key = format!("lookup:{}", address.unwrap_or("unknown"));
    throttles::take(&state.db, &[(&key, LOOKUPS)], crate::clock::now()).await
}

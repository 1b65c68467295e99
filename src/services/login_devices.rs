//! Devices a person has logged in from: after a successful login the browser gets a device
//! cookie (a random token; the table keeps only its SHA-256 and the account it is bound to),
//! and with it that browser skips the account's login delay (`http::auth::log_in`): someone
//! guessing the password elsewhere cannot keep its owner out. A login from the same browser
//! replaces its token, so each browser holds one row.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, ExprTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::entities::login_device;
use crate::error::AppResult;
use crate::services::secrets;

/// How long a device cookie is honoured after the login that issued it.
pub const DEVICE_DAYS: i64 = 365;

/// The account a device token is bound to, while it is valid.
pub async fn resolve(
    db: &DatabaseConnection,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<Uuid>> {
    Ok(
        login_device::Entity::find_by_id(secrets::token_hash(token.trim()))
            .one(db)
            .await?
            .filter(|device| device.expires_at > now)
            .map(|device| device.user_id),
    )
}

/// A new device token for `user_id`, replacing `previous` (the token this browser held).
pub async fn issue(
    db: &DatabaseConnection,
    user_id: Uuid,
    previous: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let token = secrets::token("gcd_", 32);
    login_device::Entity::insert(login_device::ActiveModel {
        token_hash: Set(secrets::token_hash(&token)),
        user_id: Set(user_id),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(DEVICE_DAYS)),
    })
    .exec_without_returning(db)
    .await?;
    let mut stale = login_device::Column::ExpiresAt.lte(now);
    if let Some(previous) = previous {
        stale = stale.or(login_device::Column::TokenHash.eq(secrets::token_hash(previous.trim())));
    }
    login_device::Entity::delete_many()
        .filter(stale)
        .exec(db)
        .await?;
    Ok(token)
}

/// The key under which a device's own failures are counted (`services::throttles`).
pub fn throttle_key(token: &str) -> String {
    format!("device:{}", secrets::token_hash(token.trim()))
}

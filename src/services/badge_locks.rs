//! Wrong PINs counted per badge, and the locks they cause (the rule: `domain::badge_lock`).
//! Every wrong PIN, and every PIN tried on a locked badge, is an audit event
//! (`badge.pin_failed`); a supervisor's unlock is one too (`badge.unlocked`).
//!
//! **Decision:** kept apart from the login throttle, in a table of its own keyed
//! `badge:<code>`, so it can move onto the shared database failure counter unchanged. Callers
//! count inside their write transaction (`db::begin_write`): writers take turns there, so
//! racing guesses cannot each see the count before the others' failures.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::begin_write;
use crate::domain::badge_lock::{self, Count};
use crate::entities::{badge_lock as lock, user};
use crate::error::{AppError, AppResult};
use crate::services::events::{self, NewEvent};

const KEY_PREFIX: &str = "badge:";

fn key(badge: &str) -> String {
    format!("{KEY_PREFIX}{badge}")
}

/// What a PIN was typed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// An apprentice signing in at a station.
    SignIn,
    /// A supervisor approving a step at a station (`flows::resolve_override`).
    Approval,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::SignIn => "sign_in",
            Purpose::Approval => "approval",
        }
    }
}

/// One PIN attempt on a badge.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// The badge code as scanned (checked: a well-formed `AP-…`).
    pub badge: &'a str,
    pub purpose: Purpose,
    pub station_id: Option<Uuid>,
    /// Who asked: the apprentice signed in at the device, for an approval.
    pub actor_id: Option<Uuid>,
}

async fn count_of(conn: &impl ConnectionTrait, badge: &str) -> AppResult<Option<Count>> {
    Ok(lock::Entity::find_by_id(key(badge))
        .one(conn)
        .await?
        .map(|row| Count {
            failures: row.failures,
            first_failure_at: row.first_failure_at,
            locked_until: row.locked_until,
        }))
}

/// Whether the badge is locked now.
pub async fn is_locked(conn: &impl ConnectionTrait, badge: &str) -> AppResult<bool> {
    Ok(badge_lock::is_locked(
        count_of(conn, badge).await?.as_ref(),
        crate::clock::now(),
    ))
}

/// Counts a failed attempt (`reason`: `wrong_pin`, `unknown_badge`, `locked`, …) and records
/// its audit event; answers whether the badge is locked now. A try on a locked badge is
/// recorded but does not lengthen the lock.
pub async fn failed(
    conn: &impl ConnectionTrait,
    attempt: Attempt<'_>,
    reason: &'static str,
) -> AppResult<bool> {
    let now = crate::clock::now();
    let count = count_of(conn, attempt.badge).await?;
    let after = if badge_lock::is_locked(count.as_ref(), now) {
        count
    } else {
        let next = badge_lock::after_failure(count.as_ref(), now);
        let row = lock::ActiveModel {
            key: Set(key(attempt.badge)),
            failures: Set(next.failures),
            first_failure_at: Set(next.first_failure_at),
            locked_until: Set(next.locked_until),
        };
        if count.is_some() {
            row.update(conn).await?;
        } else {
            row.insert(conn).await?;
        }
        Some(next)
    };
    events::record(
        conn,
        NewEvent {
            station_id: attempt.station_id,
            ..NewEvent::new("badge.pin_failed", attempt.actor_id)
        }
        .subject(attempt.badge.to_string())
        .payload(json!({
            "purpose": attempt.purpose.as_str(),
            "reason": reason,
            "failures": after.map(|c| c.failures),
            "locked_until": after.and_then(|c| c.locked_until),
        })),
    )
    .await?;
    Ok(badge_lock::is_locked(after.as_ref(), now))
}

/// A right PIN: the count starts again.
pub async fn succeeded(conn: &impl ConnectionTrait, badge: &str) -> AppResult<()> {
    lock::Entity::delete_by_id(key(badge)).exec(conn).await?;
    Ok(())
}

/// A supervisor unlocks a person's badge (and forgets its wrong PINs).
pub async fn unlock(db: &DatabaseConnection, user_id: Uuid, supervisor_id: Uuid) -> AppResult<()> {
    let txn = begin_write(db).await?;
    let badge = user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .and_then(|u| u.badge_code)
        .ok_or_else(|| AppError::not_found(format!("no badge holder {user_id}")))?;
    let removed = lock::Entity::delete_by_id(key(&badge)).exec(&txn).await?;
    if removed.rows_affected > 0 {
        events::record(
            &txn,
            NewEvent::new("badge.unlocked", Some(supervisor_id))
                .subject(badge)
                .payload(json!({ "user_id": user_id })),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// A badge locked now, and whose it is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LockedBadge {
    pub user_id: Uuid,
    pub name: String,
    pub badge_code: String,
    pub locked_until: DateTime<Utc>,
}

/// Until when a person's badge is locked, if it is.
pub async fn locked_until(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
) -> AppResult<Option<DateTime<Utc>>> {
    let Some(badge) = user::Entity::find_by_id(user_id)
        .one(conn)
        .await?
        .and_then(|u| u.badge_code)
    else {
        return Ok(None);
    };
    let now = crate::clock::now();
    Ok(count_of(conn, &badge)
        .await?
        .and_then(|c| c.locked_until)
        .filter(|until| *until > now))
}

/// The badges locked now (for the supervisors' dashboard), soonest unlocked first.
pub async fn locked(conn: &impl ConnectionTrait) -> AppResult<Vec<LockedBadge>> {
    let rows = lock::Entity::find()
        .filter(lock::Column::LockedUntil.gt(crate::clock::now()))
        .all(conn)
        .await?;
    let badges: Vec<String> = rows
        .iter()
        .filter_map(|r| r.key.strip_prefix(KEY_PREFIX).map(str::to_string))
        .collect();
    let holders = user::Entity::find()
        .filter(user::Column::BadgeCode.is_in(badges))
        .all(conn)
        .await?;
    let mut locked: Vec<LockedBadge> = rows
        .into_iter()
        .filter_map(|row| {
            let badge = row.key.strip_prefix(KEY_PREFIX)?;
            let holder = holders
                .iter()
                .find(|h| h.badge_code.as_deref() == Some(badge))?;
            Some(LockedBadge {
                user_id: holder.id,
                name: holder.display_name.clone(),
                badge_code: badge.to_string(),
                locked_until: row.locked_until?,
            })
        })
        .collect();
    locked.sort_by_key(|l| l.locked_until);
    Ok(locked)
}

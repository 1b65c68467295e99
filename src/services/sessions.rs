//! Login sessions kept in the database, so every instance behind a load balancer sees them.

use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

use crate::db::begin_write;
use crate::entities::{session, user};
use crate::error::AppResult;
use crate::services::events::{self, NewEvent};
use crate::services::secrets;

/// Refresh `last_seen_at` at most this often, so reading pages does not write on every request.
const TOUCH_EVERY_MIN: i64 = 5;

/// A new session: the token goes into the cookie and is never stored.
pub struct NewSession {
    pub token: String,
    pub session: session::Model,
}

/// Opens a session for a user who just proved who they are (a fresh id every login,
/// so a session fixed before login is worthless).
pub async fn open(
    db: &DatabaseConnection,
    user: &user::Model,
    hours: u32,
) -> AppResult<NewSession> {
    let token = secrets::token("", 32);
    let now = Utc::now();
    let txn = begin_write(db).await?;
    // This person's expired sessions go, so the table does not grow without end.
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user.id))
        .filter(session::Column::ExpiresAt.lt(now))
        .exec(&txn)
        .await?;
    let session = session::ActiveModel {
        id: Set(Uuid::now_v7()),
        token_hash: Set(secrets::token_hash(&token)),
        user_id: Set(user.id),
        csrf_token: Set(secrets::token("", 16)),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + Duration::hours(i64::from(hours))),
    }
    .insert(&txn)
    .await?;
    events::record(
        &txn,
        NewEvent::new("auth.login", Some(user.id))
            .subject(user.name.clone())
            .payload(json!({ "session_id": session.id })),
    )
    .await?;
    txn.commit().await?;
    Ok(NewSession { token, session })
}

/// The live session and its user for a cookie token; extends the session while it is used.
pub async fn resolve(
    db: &DatabaseConnection,
    token: &str,
    hours: u32,
) -> AppResult<Option<(session::Model, user::Model)>> {
    let found = session::Entity::find()
        .filter(session::Column::TokenHash.eq(secrets::token_hash(token)))
        .one(db)
        .await?;
    let Some(session) = found else {
        return Ok(None);
    };
    let now = Utc::now();
    if session.expires_at <= now {
        return Ok(None);
    }
    let Some(user) = user::Entity::find_by_id(session.user_id).one(db).await? else {
        return Ok(None);
    };
    if !user.active {
        return Ok(None);
    }
    if now - session.last_seen_at > Duration::minutes(TOUCH_EVERY_MIN) {
        let mut touched: session::ActiveModel = session.clone().into();
        touched.last_seen_at = Set(now);
        touched.expires_at = Set(now + Duration::hours(i64::from(hours)));
        touched.update(db).await?;
    }
    Ok(Some((session, user)))
}

/// Ends a session on the server: the cookie is worthless afterwards, wherever it was copied.
pub async fn close(
    db: &DatabaseConnection,
    session: &session::Model,
    user: &user::Model,
) -> AppResult<()> {
    let txn = begin_write(db).await?;
    session::Entity::delete_by_id(session.id).exec(&txn).await?;
    events::record(
        &txn,
        NewEvent::new("auth.logout", Some(user.id))
            .subject(user.name.clone())
            .payload(json!({ "session_id": session.id })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

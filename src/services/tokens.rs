//! API tokens for scripts and integrations: shown once, stored hashed, revocable.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::db::begin_write;
use crate::domain::roles::Role;
use crate::entities::{api_token, user};
use crate::error::{AppError, AppResult};
use crate::services::events::{self, NewEvent};
use crate::services::{secrets, users};

/// Every token starts with this, so a leaked one is recognisable in logs and scanners.
pub const TOKEN_PREFIX: &str = "gct_";

pub struct CreatedToken {
    /// The secret, to be shown once.
    pub token: String,
    pub record: api_token::Model,
}

pub async fn create(
    db: &DatabaseConnection,
    owner: &user::Model,
    name: &str,
) -> AppResult<CreatedToken> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid("name", "must be 1 to 100 characters"));
    }
    let token = secrets::token(TOKEN_PREFIX, 32);
    let txn = begin_write(db).await?;
    let record = api_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(owner.id),
        name: Set(name.to_string()),
        token_hash: Set(secrets::token_hash(&token)),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await?;
    events::record(
        &txn,
        NewEvent::new("token.created", Some(owner.id))
            .subject(owner.name.clone())
            .payload(json!({ "token_id": record.id, "name": record.name })),
    )
    .await?;
    txn.commit().await?;
    Ok(CreatedToken { token, record })
}

/// The active user a bearer token belongs to, if the token is known and not revoked.
pub async fn resolve(db: &DatabaseConnection, token: &str) -> AppResult<Option<user::Model>> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let found = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(secrets::token_hash(token)))
        .filter(api_token::Column::RevokedAt.is_null())
        .one(db)
        .await?;
    let Some(record) = found else {
        return Ok(None);
    };
    let user = user::Entity::find_by_id(record.user_id).one(db).await?;
    Ok(user.filter(|user| user.active))
}

pub async fn list_for(
    db: &DatabaseConnection,
    owner: &user::Model,
) -> AppResult<Vec<api_token::Model>> {
    Ok(api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(owner.id))
        .order_by_desc(api_token::Column::Id)
        .all(db)
        .await?)
}

/// Revokes a token: its owner may, and so may an admin. Revoking twice is harmless.
pub async fn revoke(
    db: &DatabaseConnection,
    actor: &user::Model,
    token_id: Uuid,
) -> AppResult<api_token::Model> {
    let txn = begin_write(db).await?;
    let record = api_token::Entity::find_by_id(token_id)
        .one(&txn)
        .await?
        .filter(|record| record.user_id == actor.id || users::role_of(actor) == Role::Admin)
        .ok_or_else(|| AppError::not_found("no such token"))?;
    if record.revoked_at.is_some() {
        return Ok(record);
    }
    let mut revoked: api_token::ActiveModel = record.into();
    revoked.revoked_at = Set(Some(Utc::now()));
    let record = revoked.update(&txn).await?;
    events::record(
        &txn,
        NewEvent::new("token.revoked", Some(actor.id))
            .subject(actor.name.clone())
            .payload(json!({ "token_id": record.id })),
    )
    .await?;
    txn.commit().await?;
    Ok(record)
}

//! The workshop's Ed25519 signing keys: made at first start, kept in the database or in the
//! configured key file, rotated on demand. Retired keys keep their public half so the
//! certificates they signed stay verifiable.

use std::path::Path;

use chrono::{DateTime, Utc};
use rand::RngCore;
use rand::rngs::OsRng;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::config::Config;
use crate::db::begin_write;
use crate::domain::certificate::public_key_hex;
use crate::entities::signing_key;
use crate::error::{AppError, AppResult};

/// A public key as `/.well-known/greenchip-signing-key` publishes it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicKey {
    pub algorithm: &'static str,
    /// Hex of the 32-byte Ed25519 public key.
    pub public_key: String,
    pub created_at: DateTime<Utc>,
    /// When it stopped signing; certificates it signed before stay valid.
    pub retired_at: Option<DateTime<Utc>>,
}

impl From<signing_key::Model> for PublicKey {
    fn from(key: signing_key::Model) -> PublicKey {
        PublicKey {
            algorithm: "Ed25519",
            public_key: key.public_key,
            created_at: key.created_at,
            retired_at: key.retired_at,
        }
    }
}

/// The key that signs now, with its secret.
pub struct ActiveKey {
    pub secret: [u8; 32],
    pub public_key: String,
}

fn fresh_secret() -> [u8; 32] {
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut secret);
    secret
}

fn parse_secret(text: &str, source: &str) -> AppResult<[u8; 32]> {
    hex::decode(text.trim())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| {
            AppError::Unexpected(anyhow::anyhow!(
                "{source} does not hold a 32-byte hex Ed25519 secret"
            ))
        })
}

fn read_key_file(path: &Path) -> AppResult<Option<[u8; 32]>> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_secret(&text, &path.display().to_string()).map(Some),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(AppError::Unexpected(anyhow::anyhow!(
            "cannot read the signing key file {}: {error}",
            path.display()
        ))),
    }
}

fn write_key_file(path: &Path, secret: &[u8; 32]) -> AppResult<()> {
    let fail = |error: std::io::Error| {
        AppError::Unexpected(anyhow::anyhow!(
            "cannot write the signing key file {}: {error}",
            path.display()
        ))
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(fail)?;
    std::io::Write::write_all(&mut file, format!("{}\n", hex::encode(secret)).as_bytes())
        .map_err(fail)?;
    file.sync_all().map_err(fail)
}

async fn current(conn: &impl ConnectionTrait) -> AppResult<Option<signing_key::Model>> {
    Ok(signing_key::Entity::find()
        .filter(signing_key::Column::RetiredAt.is_null())
        .order_by_desc(signing_key::Column::CreatedAt)
        .one(conn)
        .await?)
}

async fn register(
    conn: &impl ConnectionTrait,
    secret: &[u8; 32],
    keep_secret: bool,
) -> AppResult<signing_key::Model> {
    let public_key = public_key_hex(secret);
    if let Some(known) = signing_key::Entity::find()
        .filter(signing_key::Column::PublicKey.eq(&public_key))
        .one(conn)
        .await?
    {
        return Ok(known);
    }
    Ok(signing_key::ActiveModel {
        id: Set(Uuid::now_v7()),
        public_key: Set(public_key),
        secret_key: Set(keep_secret.then(|| hex::encode(secret))),
        created_at: Set(Utc::now()),
        retired_at: Set(None),
    }
    .insert(conn)
    .await?)
}

/// Makes sure a signing key exists: at first start one is created (in the key file when one
/// is configured, else in the database). Then signs the public facts of any certificate
/// issued before they existed (`public::backfill`). Idempotent.
pub async fn ensure(db: &DatabaseConnection, config: &Config) -> AppResult<()> {
    let key = active(db, config).await?;
    super::public::backfill(db, &key).await.map(|_| ())
}

/// The key that signs now.
pub async fn active(db: &DatabaseConnection, config: &Config) -> AppResult<ActiveKey> {
    let txn = begin_write(db).await?;
    let secret = match &config.signing_key_file {
        Some(path) => {
            let secret = match read_key_file(path)? {
                Some(secret) => secret,
                None => {
                    let secret = fresh_secret();
                    write_key_file(path, &secret)?;
                    secret
                }
            };
            let key = register(&txn, &secret, false).await?;
            if key.retired_at.is_some() {
                return Err(AppError::Unexpected(anyhow::anyhow!(
                    "the signing key in {} was retired; rotate to make a new one",
                    path.display()
                )));
            }
            // A key file that replaced another retires the one before it.
            retire_others(&txn, key.id).await?;
            secret
        }
        None => match current(&txn).await? {
            Some(key) => match &key.secret_key {
                Some(text) => parse_secret(text, "the stored signing key")?,
                None => {
                    return Err(AppError::Unexpected(anyhow::anyhow!(
                        "the signing key lives in a key file; set `signing_key_file`"
                    )));
                }
            },
            None => {
                let secret = fresh_secret();
                register(&txn, &secret, true).await?;
                secret
            }
        },
    };
    txn.commit().await?;
    Ok(ActiveKey {
        public_key: public_key_hex(&secret),
        secret,
    })
}

async fn retire_others(conn: &impl ConnectionTrait, keep: Uuid) -> AppResult<()> {
    use sea_orm::sea_query::Expr;
    signing_key::Entity::update_many()
        .col_expr(signing_key::Column::RetiredAt, Expr::value(Utc::now()))
        .filter(signing_key::Column::RetiredAt.is_null())
        .filter(signing_key::Column::Id.ne(keep))
        .exec(conn)
        .await?;
    Ok(())
}

/// Retires the signing key and makes a new one. The old public key stays published.
pub async fn rotate(db: &DatabaseConnection, config: &Config) -> AppResult<PublicKey> {
    let secret = fresh_secret();
    let txn = begin_write(db).await?;
    if let Some(path) = &config.signing_key_file {
        if path.exists() {
            let kept =
                path.with_extension(format!("retired-{}", Utc::now().format("%Y%m%dT%H%M%S")));
            std::fs::rename(path, &kept).map_err(|error| {
                AppError::Unexpected(anyhow::anyhow!("cannot keep the old key file: {error}"))
            })?;
        }
        write_key_file(path, &secret)?;
    }
    let key = register(&txn, &secret, config.signing_key_file.is_none()).await?;
    retire_others(&txn, key.id).await?;
    txn.commit().await?;
    Ok(key.into())
}

/// Every key the workshop ever signed with, newest first.
pub async fn published(conn: &impl ConnectionTrait) -> AppResult<Vec<PublicKey>> {
    Ok(signing_key::Entity::find()
        .order_by_desc(signing_key::Column::CreatedAt)
        .all(conn)
        .await?
        .into_iter()
        .map(PublicKey::from)
        .collect())
}

/// Whether a public key is one of the workshop's.
pub async fn is_ours(conn: &impl ConnectionTrait, public_key: &str) -> AppResult<bool> {
    Ok(signing_key::Entity::find()
        .filter(signing_key::Column::PublicKey.eq(public_key))
        .one(conn)
        .await?
        .is_some())
}

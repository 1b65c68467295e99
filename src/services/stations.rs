//! Stations and the devices enrolled as them; apprentices signing in at a device with
//! their badge (and PIN, if they have one); the idle timeout.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::db::begin_write;
use crate::domain::codes::{Code, CodeKind};
use crate::domain::intake;
use crate::domain::lifecycle::StationKind;
use crate::domain::roles::Role;
use crate::entities::{station, station_device, user};
use crate::error::{AppError, AppResult};
use crate::services::events::{self, NewEvent};
use crate::services::{badge_locks, secrets, users};

/// Station session tokens start with this.
pub const DEVICE_TOKEN_PREFIX: &str = "gcs_";

pub fn kind_of(found: &station::Model) -> StationKind {
    found.kind.parse().unwrap_or(StationKind::Intake)
}

pub async fn create(
    db: &DatabaseConnection,
    name: &str,
    kind: StationKind,
    actor_id: Option<Uuid>,
) -> AppResult<station::Model> {
    let mut errors = Vec::new();
    let name = intake::required_text("name", name, 100, &mut errors);
    AppError::invalid_fields(errors)?;
    let txn = begin_write(db).await?;
    let created = station::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(Code::random(CodeKind::Station).to_string()),
        name: Set(name),
        kind: Set(kind.as_str().to_string()),
        active: Set(true),
        created_at: Set(crate::clock::now()),
    }
    .insert(&txn)
    .await?;
    events::record(
        &txn,
        NewEvent::new("station.created", actor_id)
            .subject(created.code.clone())
            .payload(json!({ "name": created.name, "kind": created.kind })),
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

pub async fn list(conn: &impl ConnectionTrait) -> AppResult<Vec<station::Model>> {
    Ok(station::Entity::find()
        .order_by_asc(station::Column::Name)
        .all(conn)
        .await?)
}

/// A station by its code (`ST-…`, typed or scanned).
pub async fn find(conn: &impl ConnectionTrait, reference: &str) -> AppResult<station::Model> {
    let code =
        Code::from_scan(reference).map_err(|e| AppError::invalid("station", e.to_string()))?;
    if code.kind() != CodeKind::Station {
        return Err(AppError::invalid(
            "station",
            format!("{code} is not a station code"),
        ));
    }
    station::Entity::find()
        .filter(station::Column::Code.eq(code.to_string()))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no station {code}")))
}

pub async fn set_active(
    db: &DatabaseConnection,
    reference: &str,
    active: bool,
    actor_id: Option<Uuid>,
) -> AppResult<station::Model> {
    let txn = begin_write(db).await?;
    let found = find(&txn, reference).await?;
    let mut changed: station::ActiveModel = found.into();
    changed.active = Set(active);
    let updated = changed.update(&txn).await?;
    let kind = if active {
        "station.activated"
    } else {
        "station.deactivated"
    };
    events::record(
        &txn,
        NewEvent::new(kind, actor_id).subject(updated.code.clone()),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// A device just enrolled: the token goes into its cookie once and is never stored.
pub struct Enrolled {
    pub token: String,
    pub device: station_device::Model,
}

/// Enrols the device a supervisor is standing at as this station.
pub async fn enrol(
    db: &DatabaseConnection,
    reference: &str,
    device_name: &str,
    supervisor: &user::Model,
) -> AppResult<Enrolled> {
    let mut errors = Vec::new();
    let name = intake::optional_text("name", Some(device_name), 100, &mut errors)
        .unwrap_or_else(|| "device".to_string());
    AppError::invalid_fields(errors)?;
    let token = secrets::token(DEVICE_TOKEN_PREFIX, 32);
    let now = crate::clock::now();
    let txn = begin_write(db).await?;
    let found = find(&txn, reference).await?;
    if !found.active {
        return Err(AppError::conflict(
            "station_inactive",
            format!("station {} is not active", found.code),
        ));
    }
    let device = station_device::ActiveModel {
        id: Set(Uuid::now_v7()),
        station_id: Set(found.id),
        token_hash: Set(secrets::token_hash(&token)),
        name: Set(name),
        enrolled_by: Set(supervisor.id),
        enrolled_at: Set(now),
        revoked_at: Set(None),
        revoked_by: Set(None),
        last_seen_at: Set(now),
        signed_in_user_id: Set(None),
        signed_in_at: Set(None),
        last_activity_at: Set(None),
    }
    .insert(&txn)
    .await?;
    events::record(
        &txn,
        NewEvent::new("station.device_enrolled", Some(supervisor.id))
            .subject(found.code.clone())
            .payload(json!({ "device_id": device.id, "name": device.name })),
    )
    .await?;
    txn.commit().await?;
    Ok(Enrolled { token, device })
}

pub async fn devices_of(
    conn: &impl ConnectionTrait,
    station_id: Uuid,
) -> AppResult<Vec<station_device::Model>> {
    Ok(station_device::Entity::find()
        .filter(station_device::Column::StationId.eq(station_id))
        .order_by_desc(station_device::Column::EnrolledAt)
        .all(conn)
        .await?)
}

/// Revokes a device's station session: its next request is refused with 401.
pub async fn revoke(
    db: &DatabaseConnection,
    device_id: Uuid,
    supervisor: &user::Model,
) -> AppResult<station_device::Model> {
    let txn = begin_write(db).await?;
    let found = station_device::Entity::find_by_id(device_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no device {device_id}")))?;
    if found.revoked_at.is_some() {
        return Ok(found);
    }
    let mut changed: station_device::ActiveModel = found.into();
    changed.revoked_at = Set(Some(crate::clock::now()));
    changed.revoked_by = Set(Some(supervisor.id));
    changed.signed_in_user_id = Set(None);
    let revoked = changed.update(&txn).await?;
    events::record(
        &txn,
        NewEvent::new("station.device_revoked", Some(supervisor.id))
            .payload(json!({ "device_id": revoked.id })),
    )
    .await?;
    txn.commit().await?;
    Ok(revoked)
}

/// A device's live station session: the device, its station, and the user its
/// `signed_in_user_id` names (see [`Session::apprentice`] for the idle timeout).
#[derive(Debug, Clone)]
pub struct Session {
    pub device: station_device::Model,
    pub station: station::Model,
    pub signed_in: Option<user::Model>,
}

impl Session {
    /// The apprentice signed in at the device, unless the idle timeout has passed or the
    /// account was deactivated.
    pub fn apprentice(&self, idle_minutes: u32, now: DateTime<Utc>) -> Option<&user::Model> {
        let last = self.device.last_activity_at?;
        if now - last > Duration::minutes(i64::from(idle_minutes)) {
            return None;
        }
        self.signed_in.as_ref().filter(|u| u.active)
    }

    /// The signed-in apprentice, for an action that needs one: 409 `not_signed_in` without.
    pub fn require_apprentice(
        &self,
        idle_minutes: u32,
        now: DateTime<Utc>,
    ) -> AppResult<&user::Model> {
        self.apprentice(idle_minutes, now).ok_or_else(|| {
            AppError::conflict(
                "not_signed_in",
                "scan your badge first: no apprentice is signed in at this station",
            )
        })
    }
}

/// A device's live station session (none when revoked, unknown, or its station inactive).
pub async fn resolve(conn: &impl ConnectionTrait, token: &str) -> AppResult<Option<Session>> {
    if !token.starts_with(DEVICE_TOKEN_PREFIX) {
        return Ok(None);
    }
    // One query: every scan and action starts here.
    let found = station_device::Entity::find()
        .find_also_related(station::Entity)
        .find_also_related(user::Entity)
        .filter(station_device::Column::TokenHash.eq(secrets::token_hash(token)))
        .filter(station_device::Column::RevokedAt.is_null())
        .one(conn)
        .await?;
    Ok(found.and_then(|(device, station, signed_in)| {
        Some(Session {
            device,
            station: station.filter(|s| s.active)?,
            signed_in,
        })
    }))
}

/// Why a badge did not sign anyone in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInRefusal {
    UnknownBadge,
    PinRequired,
    WrongPin,
    /// Too many wrong PINs: refused whatever the PIN (`services::badge_locks`).
    Locked,
}

/// Signs the badge's apprentice in at the device (replacing whoever was). A badge whose
/// apprentice has a PIN needs it.
pub async fn sign_in(
    conn: &impl ConnectionTrait,
    device: &station_device::Model,
    badge: &Code,
    pin: Option<&str>,
) -> AppResult<Result<user::Model, SignInRefusal>> {
    let Some(apprentice) = user::Entity::find()
        .filter(user::Column::BadgeCode.eq(badge.to_string()))
        .filter(user::Column::Role.eq(Role::Apprentice.as_str()))
        .filter(user::Column::Active.eq(true))
        .one(conn)
        .await?
    else {
        return Ok(Err(SignInRefusal::UnknownBadge));
    };
    if let Some(hash) = apprentice.pin_hash.clone() {
        let badge = badge.to_string();
        let attempt = badge_locks::Attempt {
            badge: &badge,
            purpose: badge_locks::Purpose::SignIn,
            station_id: Some(device.station_id),
            actor_id: None,
        };
        let Some(pin) = pin else {
            if badge_locks::is_locked(conn, &badge).await? {
                return Ok(Err(SignInRefusal::Locked));
            }
            return Ok(Err(SignInRefusal::PinRequired));
        };
        // While locked no PIN is checked: the right one is refused like a wrong one.
        if badge_locks::is_locked(conn, &badge).await? {
            badge_locks::failed(conn, attempt, "locked").await?;
            return Ok(Err(SignInRefusal::Locked));
        }
        if !users::password_matches(hash, pin.trim().to_string()).await {
            return Ok(Err(
                if badge_locks::failed(conn, attempt, "wrong_pin").await? {
                    SignInRefusal::Locked
                } else {
                    SignInRefusal::WrongPin
                },
            ));
        }
        badge_locks::succeeded(conn, &badge).await?;
    }
    let now = crate::clock::now();
    let mut changed: station_device::ActiveModel = device.clone().into();
    changed.signed_in_user_id = Set(Some(apprentice.id));
    changed.signed_in_at = Set(Some(now));
    changed.last_activity_at = Set(Some(now));
    changed.last_seen_at = Set(now);
    changed.update(conn).await?;
    events::record(
        conn,
        NewEvent {
            station_id: Some(device.station_id),
            ..NewEvent::new("station.sign_in", Some(apprentice.id))
        }
        .subject(badge.to_string()),
    )
    .await?;
    Ok(Ok(apprentice))
}

pub async fn sign_out(db: &DatabaseConnection, device: &station_device::Model) -> AppResult<()> {
    let user_id = device.signed_in_user_id;
    let txn = begin_write(db).await?;
    let mut changed: station_device::ActiveModel = device.clone().into();
    changed.signed_in_user_id = Set(None);
    changed.signed_in_at = Set(None);
    changed.update(&txn).await?;
    events::record(
        &txn,
        NewEvent {
            station_id: Some(device.station_id),
            ..NewEvent::new("station.sign_out", user_id)
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Keeps the signed-in apprentice's session alive.
pub async fn touch(conn: &impl ConnectionTrait, device: &station_device::Model) -> AppResult<()> {
    let now = crate::clock::now();
    station_device::Entity::update_many()
        .col_expr(
            station_device::Column::LastSeenAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .col_expr(
            station_device::Column::LastActivityAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(station_device::Column::Id.eq(device.id))
        .exec(conn)
        .await?;
    Ok(())
}

/// A PIN as typed, hashed (`None` clears it).
async fn pin_hash(pin: Option<&str>) -> AppResult<Option<String>> {
    match pin.map(str::trim) {
        Some(pin) if pin.len() == 4 && pin.chars().all(|c| c.is_ascii_digit()) => {
            Ok(Some(users::hash_password(pin.to_string()).await?))
        }
        Some(_) => Err(AppError::invalid("pin", "a PIN is exactly 4 digits")),
        None => Ok(None),
    }
}

/// Sets (or clears, with `None`) an apprentice's 4-digit PIN.
pub async fn set_pin(
    db: &DatabaseConnection,
    apprentice_id: Uuid,
    pin: Option<&str>,
    supervisor_id: Uuid,
) -> AppResult<()> {
    let hash = pin_hash(pin).await?;
    let txn = begin_write(db).await?;
    let apprentice = user::Entity::find_by_id(apprentice_id)
        .one(&txn)
        .await?
        .filter(|u| users::role_of(u) == Role::Apprentice)
        .ok_or_else(|| AppError::not_found(format!("no apprentice {apprentice_id}")))?;
    let name = apprentice.name.clone();
    let mut changed: user::ActiveModel = apprentice.into();
    changed.pin_hash = Set(hash.clone());
    changed.update(&txn).await?;
    let kind = if hash.is_some() {
        "apprentice.pin_set"
    } else {
        "apprentice.pin_cleared"
    };
    events::record(&txn, NewEvent::new(kind, Some(supervisor_id)).subject(name)).await?;
    txn.commit().await?;
    Ok(())
}

/// A supervisor sets (or clears) their own PIN, with which they approve a step at a station
/// (`flows::resolve_override`); an account without a badge gets one. Answers the badge code.
pub async fn set_own_pin(
    db: &DatabaseConnection,
    supervisor: &user::Model,
    pin: Option<&str>,
) -> AppResult<String> {
    let hash = pin_hash(pin).await?;
    let txn = begin_write(db).await?;
    let found = user::Entity::find_by_id(supervisor.id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no user {}", supervisor.id)))?;
    let badge = found
        .badge_code
        .clone()
        .unwrap_or_else(|| Code::random(CodeKind::Apprentice).to_string());
    let mut changed: user::ActiveModel = found.into();
    changed.badge_code = Set(Some(badge.clone()));
    changed.pin_hash = Set(hash.clone());
    changed.update(&txn).await?;
    let kind = if hash.is_some() {
        "supervisor.pin_set"
    } else {
        "supervisor.pin_cleared"
    };
    events::record(
        &txn,
        NewEvent::new(kind, Some(supervisor.id))
            .subject(supervisor.name.clone())
            .payload(json!({ "badge_code": badge })),
    )
    .await?;
    txn.commit().await?;
    Ok(badge)
}

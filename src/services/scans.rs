//! Scans at a station: resolve what was scanned (a code, a scanned URL, a manufacturer
//! barcode), sign an apprentice in by badge, log every scan, and answer what the station
//! may do now. A repeated client scan id answers the first answer and logs nothing new.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::begin_write;
use crate::domain::codes::{Code, CodeError, CodeKind};
use crate::domain::lifecycle::{self, Action};
use crate::entities::{collection, holder, scan, station, station_device, user};
use crate::error::{AppError, AppResult};
use crate::services::scan_log::{Appended, ScanLog};
use crate::services::stations::{self, SignInRefusal};
use crate::services::{actions, items};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    /// Exactly what the scanner typed (or the camera read).
    pub raw: String,
    /// The device's own id for this scan.
    pub client_scan_id: String,
    /// The device's clock at the scan.
    pub device_time: Option<DateTime<Utc>>,
    /// For a badge whose apprentice has a PIN.
    pub pin: Option<String>,
}

/// How a scan went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScanResult {
    /// Found; see `kind` and `code`.
    Ok,
    /// An apprentice signed in.
    SignedIn,
    /// The badge's apprentice has a PIN: scan again with it.
    PinRequired,
    WrongPin,
    /// Too many wrong PINs: the badge is locked (answered as a 423 problem, `badge_locked`).
    BadgeLocked,
    /// A valid code that nothing here carries.
    Unknown,
    /// Not a greenchip code (nor a linked barcode).
    Malformed,
    /// A greenchip code with a wrong check symbol: mistyped or misread.
    BadCheck,
    /// Nothing was scanned.
    Empty,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScanAnswer {
    pub result: ScanResult,
    /// What to tell the person, in plain words.
    pub message: String,
    /// `item`, `collection`, `lot`, `melt`, `apprentice`, `station`.
    pub kind: Option<String>,
    pub code: Option<String>,
    /// A few facts about what was found (kind of equipment, mass, state, …).
    pub summary: Option<serde_json::Value>,
    /// What this station may do to it now (empty until an apprentice has signed in).
    pub actions: Vec<Action>,
    /// Who is signed in at the station after this scan.
    pub apprentice: Option<String>,
    /// True when this answers a repeat of a scan already logged.
    pub replayed: bool,
}

fn answer(result: ScanResult, message: impl Into<String>) -> ScanAnswer {
    ScanAnswer {
        result,
        message: message.into(),
        kind: None,
        code: None,
        summary: None,
        actions: Vec::new(),
        apprentice: None,
        replayed: false,
    }
}

/// A scan's answer, and whether the scan changed its device's session: a badge (which may
/// sign someone in) or the apprentice's activity time refreshed.
#[derive(Debug)]
pub struct Scanned {
    pub answer: ScanAnswer,
    pub changed_session: bool,
}

/// Handles one scan from an enrolled device.
pub async fn scan(
    db: &DatabaseConnection,
    log: &ScanLog,
    session: &stations::Session,
    request: ScanRequest,
    idle_minutes: u32,
) -> AppResult<Scanned> {
    let (device, at_station) = (&session.device, &session.station);
    let client_id = request.client_scan_id.trim().to_string();
    if client_id.is_empty() || client_id.len() > 100 {
        return Err(AppError::invalid(
            "client_scan_id",
            "must be 1 to 100 characters",
        ));
    }
    if request.raw.chars().count() > 500 {
        return Err(AppError::invalid("raw", "a scan is at most 500 characters"));
    }
    // A repeat is caught by the scan log's unique key when its row is written: checking
    // first would cost every scan a query for the rare retry.
    let now = crate::clock::now();
    // A badge scan may change who is signed in; the answer names who is after it.
    let mut signed_in = session.apprentice(idle_minutes, now).cloned();
    let is_badge =
        Code::from_scan(&request.raw).is_ok_and(|code| code.kind() == CodeKind::Apprentice);
    let mut changed_session = is_badge;
    let outcome = if is_badge {
        // A badge signs someone in: the sign-in and its scan row are one transaction.
        let txn = begin_write(db).await?;
        let resolved = resolve(&txn, device, at_station, &request, &mut signed_in).await?;
        let (reply, row) = logged(
            device,
            at_station,
            &request,
            &client_id,
            resolved,
            signed_in.as_ref(),
        )?;
        match row.insert(&txn).await {
            Ok(_) => txn.commit().await.map(|()| reply).map_err(AppError::from),
            Err(error) => Err(error.into()),
        }
    } else {
        // Anything else only reads to resolve; its one write is the scan's row, stored by
        // the scan log's writer together with the rows of other stations' scans.
        let resolved = resolve(db, device, at_station, &request, &mut signed_in).await?;
        let (reply, row) = logged(
            device,
            at_station,
            &request,
            &client_id,
            resolved,
            signed_in.as_ref(),
        )?;
        let reply = match log.append(row.id.clone().unwrap(), row.clone()).await {
            Appended::Stored => Ok(reply),
            Appended::Repeat => replay(db, device.id, &client_id).await?.ok_or_else(|| {
                AppError::Unexpected(anyhow::anyhow!("a repeated scan without its first row"))
            }),
            // Stored alone, the row says what is wrong (or goes in after all).
            Appended::Failed => row.insert(db).await.map(|_| reply).map_err(AppError::from),
        };
        // The apprentice's activity time, at most once a minute (the idle timeout counts in minutes).
        if reply.is_ok()
            && signed_in.is_some()
            && device
                .last_activity_at
                .is_none_or(|at| now - at > chrono::Duration::seconds(TOUCH_EVERY_S))
        {
            stations::touch(db, device).await?;
            changed_session = true;
        }
        reply
    };
    let answer = match outcome {
        // A repeat (or a repeat racing the first): the first one's answer.
        Err(AppError::Database(error))
            if matches!(
                error.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            replay(db, device.id, &client_id)
                .await?
                .ok_or(AppError::Database(error))
        }
        other => other,
    }?;
    // Logged (with the failure it counted), then answered as a problem, replays too.
    if answer.result == ScanResult::BadgeLocked {
        return Err(AppError::badge_locked());
    }
    Ok(Scanned {
        answer,
        changed_session,
    })
}

/// How often a scan refreshes the signed-in apprentice's activity time.
const TOUCH_EVERY_S: i64 = 60;

/// The answer, and the scan log's row recording it.
fn logged(
    device: &station_device::Model,
    at_station: &station::Model,
    request: &ScanRequest,
    client_id: &str,
    resolved: Resolved,
    signed_in: Option<&user::Model>,
) -> AppResult<(ScanAnswer, scan::ActiveModel)> {
    let (mut reply, resolved_kind, resolved_code) = resolved;
    reply.apprentice = signed_in.map(|u| u.display_name.clone());
    let row = scan::ActiveModel {
        id: Set(Uuid::now_v7()),
        device_id: Set(device.id),
        station_id: Set(at_station.id),
        client_scan_id: Set(client_id.to_string()),
        user_id: Set(signed_in.map(|u| u.id)),
        raw: Set(request.raw.clone()),
        resolved_kind: Set(resolved_kind),
        resolved_code: Set(resolved_code),
        result: Set(serde_json::to_value(reply.result)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()),
        message: Set(reply.message.clone()),
        device_time: Set(request.device_time),
        at: Set(crate::clock::now()),
        response: Set(serde_json::to_value(&reply).map_err(anyhow::Error::from)?),
    };
    Ok((reply, row))
}

async fn replay(
    conn: &impl ConnectionTrait,
    device_id: Uuid,
    client_id: &str,
) -> AppResult<Option<ScanAnswer>> {
    Ok(scan::Entity::find()
        .filter(scan::Column::DeviceId.eq(device_id))
        .filter(scan::Column::ClientScanId.eq(client_id))
        .one(conn)
        .await?
        .and_then(|row| serde_json::from_value::<ScanAnswer>(row.response).ok())
        .map(|a| ScanAnswer {
            replayed: true,
            ..a
        }))
}

type Resolved = (ScanAnswer, Option<String>, Option<String>);

async fn resolve(
    conn: &impl ConnectionTrait,
    device: &station_device::Model,
    at_station: &station::Model,
    request: &ScanRequest,
    signed_in: &mut Option<user::Model>,
) -> AppResult<Resolved> {
    let code = match Code::from_scan(&request.raw) {
        Ok(code) => code,
        Err(error) => {
            // Perhaps a manufacturer barcode linked to an item.
            if !request.raw.trim().is_empty()
                && let Ok(found) = items::find(conn, request.raw.trim()).await
                && let Ok(code) = Code::parse(&found.code)
            {
                return item_answer(conn, at_station, &code, signed_in.as_ref()).await;
            }
            let result = match error {
                CodeError::Empty => ScanResult::Empty,
                CodeError::BadCheck(_) => ScanResult::BadCheck,
                _ => ScanResult::Malformed,
            };
            return Ok((answer(result, error.to_string()), None, None));
        }
    };
    let text = code.to_string();
    match code.kind() {
        CodeKind::Apprentice => {
            let outcome = stations::sign_in(conn, device, &code, request.pin.as_deref()).await?;
            let mut reply = match outcome {
                Ok(apprentice) => {
                    let message = format!("{} signed in", apprentice.display_name);
                    *signed_in = Some(apprentice);
                    answer(ScanResult::SignedIn, message)
                }
                Err(SignInRefusal::UnknownBadge) => answer(
                    ScanResult::Unknown,
                    format!("badge {text} belongs to no active apprentice"),
                ),
                Err(SignInRefusal::PinRequired) => {
                    answer(ScanResult::PinRequired, "type your 4-digit PIN")
                }
                Err(SignInRefusal::WrongPin) => {
                    answer(ScanResult::WrongPin, "wrong PIN: try again")
                }
                Err(SignInRefusal::Locked) => answer(
                    ScanResult::BadgeLocked,
                    AppError::badge_locked().to_string(),
                ),
            };
            reply.kind = Some("apprentice".into());
            reply.code = Some(text.clone());
            Ok((reply, Some("apprentice".into()), Some(text)))
        }
        CodeKind::Item => item_answer(conn, at_station, &code, signed_in.as_ref()).await,
        CodeKind::Collection => {
            let found = collection::Entity::find()
                .filter(collection::Column::Code.eq(&text))
                .one(conn)
                .await?;
            Ok(found_or_unknown(
                found
                    .map(|c| serde_json::json!({ "received_on": c.received_on, "state": c.state })),
                "collection",
                text,
            ))
        }
        CodeKind::Lot | CodeKind::Melt => {
            let found = holder::Entity::find()
                .filter(holder::Column::Code.eq(&text))
                .one(conn)
                .await?;
            let kind = if code.kind() == CodeKind::Lot {
                "lot"
            } else {
                "melt"
            };
            Ok(found_or_unknown(
                found.map(|h| serde_json::json!({ "label": h.label, "balance_g": h.balance_g })),
                kind,
                text,
            ))
        }
        CodeKind::Station => Ok(found_or_unknown(
            Some(serde_json::json!({ "this_station": text == at_station.code })),
            "station",
            text,
        )),
        CodeKind::Certificate => Ok(found_or_unknown(None, "certificate", text)),
        CodeKind::Shipment => {
            let found = crate::entities::shipment::Entity::find()
                .filter(crate::entities::shipment::Column::Code.eq(&text))
                .one(conn)
                .await?;
            Ok(found_or_unknown(
                found.map(|s| serde_json::json!({ "shipped_on": s.shipped_on, "transport_document": s.transport_document })),
                "shipment",
                text,
            ))
        }
    }
}

fn found_or_unknown(summary: Option<serde_json::Value>, kind: &str, code: String) -> Resolved {
    let mut reply = match &summary {
        Some(_) => answer(ScanResult::Ok, format!("{kind} {code}")),
        None => answer(ScanResult::Unknown, format!("{code} is not known here")),
    };
    reply.kind = Some(kind.to_string());
    reply.code = Some(code.clone());
    reply.summary = summary;
    (reply, Some(kind.to_string()), Some(code))
}

async fn item_answer(
    conn: &impl ConnectionTrait,
    at_station: &station::Model,
    code: &Code,
    signed_in: Option<&user::Model>,
) -> AppResult<Resolved> {
    let text = code.to_string();
    let Some((found, facts)) = actions::find_with_facts(conn, &text).await? else {
        return Ok(found_or_unknown(None, "item", text));
    };
    let state = actions::state_of(&found);
    let kind = stations::kind_of(at_station);
    let allowed = actions::offered_actions(state, kind, facts);
    let (mut reply, resolved_kind, resolved_code) = found_or_unknown(
        Some(serde_json::json!({
            "state": state, "mass_g": found.gross_mass_g, "data_bearing": found.data_bearing,
            "sanitised": facts.sanitised, "route": found.route, "serial": found.serial,
        })),
        "item",
        text,
    );
    if signed_in.is_none() {
        reply.message = "scan your badge first".to_string();
    } else {
        reply.actions = allowed;
        if facts.data_bearing
            && !facts.sanitised
            && !state.is_final()
            && kind != lifecycle::StationKind::Sanitisation
        {
            reply.message = format!("{}: sanitisation needed", found.code);
        }
    }
    Ok((reply, resolved_kind, resolved_code))
}

/// The scan log of a station, newest first.
pub async fn log_of(
    conn: &impl ConnectionTrait,
    station_id: Uuid,
    limit: u64,
) -> AppResult<Vec<scan::Model>> {
    use sea_orm::{QueryOrder, QuerySelect};
    Ok(scan::Entity::find()
        .filter(scan::Column::StationId.eq(station_id))
        .order_by_desc(scan::Column::At)
        .limit(limit.clamp(1, 500))
        .all(conn)
        .await?)
}

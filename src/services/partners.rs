//! Partners: the organisations that hand equipment over.

use chrono::Utc;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, ExprTrait,
    QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::db::begin_write;
use crate::domain::intake::{self, PartnerKind};
use crate::entities::partner;
use crate::error::{AppError, AppResult};
use crate::services::events::{self, NewEvent};
use crate::services::{Page, Paging, paginate};

/// What a partner is made of; every field optional on update.
#[derive(Debug, Clone, Default)]
pub struct PartnerFields {
    pub name: Option<String>,
    pub kind: Option<PartnerKind>,
    pub address: Option<String>,
    pub contact: Option<String>,
    pub notes: Option<String>,
    /// `fr` or `en`: the language of its certificates (French when not given).
    pub language: Option<String>,
}

/// The languages certificates are issued in.
pub const CERTIFICATE_LANGUAGES: [&str; 2] = ["fr", "en"];

struct Checked {
    name: Option<String>,
    address: Option<String>,
    contact: Option<String>,
    notes: Option<String>,
}

fn check(fields: &PartnerFields, creating: bool) -> AppResult<Checked> {
    let mut errors = Vec::new();
    let name = match (&fields.name, creating) {
        (Some(name), _) => Some(intake::required_text("name", name, 200, &mut errors)),
        (None, true) => {
            errors.push(crate::error::FieldError::new("name", "is required"));
            None
        }
        (None, false) => None,
    };
    if let Some(language) = &fields.language
        && !CERTIFICATE_LANGUAGES.contains(&language.trim())
    {
        errors.push(crate::error::FieldError::new(
            "language",
            "must be `fr` or `en`",
        ));
    }
    if creating && fields.kind.is_none() {
        errors.push(crate::error::FieldError::new("kind", "is required"));
    }
    let checked = Checked {
        name,
        address: intake::optional_text("address", fields.address.as_deref(), 500, &mut errors),
        contact: intake::optional_text("contact", fields.contact.as_deref(), 500, &mut errors),
        notes: intake::optional_text("notes", fields.notes.as_deref(), 2_000, &mut errors),
    };
    AppError::invalid_fields(errors)?;
    Ok(checked)
}

pub async fn create(
    db: &DatabaseConnection,
    fields: PartnerFields,
    actor_id: Option<Uuid>,
) -> AppResult<partner::Model> {
    let checked = check(&fields, true)?;
    let kind = fields.kind.unwrap_or(PartnerKind::Company);
    let txn = begin_write(db).await?;
    let created = partner::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(checked.name.unwrap_or_default()),
        kind: Set(kind.as_str().to_string()),
        address: Set(checked.address),
        contact: Set(checked.contact),
        notes: Set(checked.notes),
        created_at: Set(Utc::now()),
        language: Set(fields
            .language
            .as_deref()
            .map_or("fr", str::trim)
            .to_string()),
    }
    .insert(&txn)
    .await?;
    events::record(
        &txn,
        NewEvent::new("partner.created", actor_id)
            .subject(created.name.clone())
            .payload(json!({ "partner_id": created.id, "kind": created.kind })),
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// Changes the given fields; the audit event keeps what they were.
pub async fn update(
    db: &DatabaseConnection,
    id: Uuid,
    fields: PartnerFields,
    actor_id: Option<Uuid>,
) -> AppResult<partner::Model> {
    let checked = check(&fields, false)?;
    let txn = begin_write(db).await?;
    let found = get(&txn, id).await?;
    let before = json!({ "name": found.name, "kind": found.kind, "address": found.address, "contact": found.contact, "notes": found.notes, "language": found.language });
    let mut changed: partner::ActiveModel = found.into();
    if let Some(name) = checked.name {
        changed.name = Set(name);
    }
    if let Some(kind) = fields.kind {
        changed.kind = Set(kind.as_str().to_string());
    }
    if fields.address.is_some() {
        changed.address = Set(checked.address);
    }
    if fields.contact.is_some() {
        changed.contact = Set(checked.contact);
    }
    if fields.notes.is_some() {
        changed.notes = Set(checked.notes);
    }
    if let Some(language) = &fields.language {
        changed.language = Set(language.trim().to_string());
    }
    let updated = changed.update(&txn).await?;
    events::record(
        &txn,
        NewEvent::new("partner.updated", actor_id)
            .subject(updated.name.clone())
            .payload(json!({ "partner_id": updated.id, "before": before })),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

pub async fn get(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<partner::Model> {
    partner::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no partner {id}")))
}

#[derive(Debug, Clone, Default)]
pub struct PartnerFilter {
    /// Part of the name, any case.
    pub name: Option<String>,
    pub kind: Option<PartnerKind>,
}

pub async fn list(
    db: &DatabaseConnection,
    filter: PartnerFilter,
    paging: Paging,
) -> AppResult<Page<partner::Model>> {
    let mut query = partner::Entity::find().order_by_asc(partner::Column::Name);
    if let Some(name) = filter.name.filter(|n| !n.trim().is_empty()) {
        let lowered = Func::lower(Expr::col(partner::Column::Name));
        query = query.filter(Expr::expr(lowered).like(format!("%{}%", name.trim().to_lowercase())));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(partner::Column::Kind.eq(kind.as_str()));
    }
    Ok(paginate(db, query, paging).await?)
}

/// The partner an item, collection or certificate belongs to, by code (`IT-…`, `CO-…`, `CE-…`,
/// or a certificate number); none for anything else or nothing.
pub async fn owner_of(conn: &impl ConnectionTrait, reference: &str) -> AppResult<Option<Uuid>> {
    use crate::domain::codes::{Code, CodeKind};
    use crate::entities::{certificate, collection, item};
    let Ok(code) = Code::from_scan(reference) else {
        return Ok(certificate::Entity::find()
            .filter(certificate::Column::Number.eq(reference.trim()))
            .one(conn)
            .await?
            .map(|c| c.partner_id));
    };
    let text = code.to_string();
    Ok(match code.kind() {
        CodeKind::Collection => collection::Entity::find()
            .filter(collection::Column::Code.eq(text))
            .one(conn)
            .await?
            .map(|c| c.partner_id),
        CodeKind::Item => {
            let Some(found) = item::Entity::find()
                .filter(item::Column::Code.eq(text))
                .one(conn)
                .await?
            else {
                return Ok(None);
            };
            collection::Entity::find_by_id(found.collection_id)
                .one(conn)
                .await?
                .map(|c| c.partner_id)
        }
        CodeKind::Certificate => certificate::Entity::find()
            .filter(certificate::Column::Code.eq(text))
            .one(conn)
            .await?
            .map(|c| c.partner_id),
        _ => None,
    })
}

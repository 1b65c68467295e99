//! The catalogue: equipment kinds and materials, seeded at install and edited by admins.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::db::begin_write;
use crate::domain::intake;
use crate::entities::{equipment_kind, material};
use crate::error::{AppError, AppResult, FieldError, OnConstraint};
use crate::services::events::{self, NewEvent};

pub async fn kinds(conn: &impl ConnectionTrait) -> AppResult<Vec<equipment_kind::Model>> {
    Ok(equipment_kind::Entity::find()
        .order_by_asc(equipment_kind::Column::Code)
        .all(conn)
        .await?)
}

pub async fn kind(conn: &impl ConnectionTrait, code: &str) -> AppResult<equipment_kind::Model> {
    equipment_kind::Entity::find()
        .filter(equipment_kind::Column::Code.eq(code.trim()))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no equipment kind “{}”", code.trim())))
}

pub async fn materials(conn: &impl ConnectionTrait) -> AppResult<Vec<material::Model>> {
    Ok(material::Entity::find()
        .order_by_asc(material::Column::Code)
        .all(conn)
        .await?)
}

pub async fn material(conn: &impl ConnectionTrait, code: &str) -> AppResult<material::Model> {
    material::Entity::find()
        .filter(material::Column::Code.eq(code.trim().to_uppercase()))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no material “{}”", code.trim())))
}

/// Fields of an equipment kind; all optional on update.
#[derive(Debug, Clone, Default)]
pub struct KindFields {
    pub code: Option<String>,
    pub name_en: Option<String>,
    pub name_fr: Option<String>,
    pub weee_category: Option<i16>,
    pub typical_mass_g: Option<i64>,
    pub data_bearing: Option<bool>,
    /// `FE-STEEL:70;PL-MIX:6;…`, percentages of known materials summing to 100.
    pub typical_fractions: Option<String>,
    pub active: Option<bool>,
}

async fn check_kind(
    conn: &impl ConnectionTrait,
    fields: &KindFields,
    creating: bool,
) -> AppResult<()> {
    let mut errors = Vec::new();
    if let Some(code) = &fields.code
        && (code.is_empty()
            || code.len() > 40
            || !code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
    {
        errors.push(FieldError::new(
            "code",
            "must be 1 to 40 lower-case letters, digits or _",
        ));
    }
    for (field, value) in [("name_en", &fields.name_en), ("name_fr", &fields.name_fr)] {
        if let Some(value) = value {
            intake::required_text(field, value, 100, &mut errors);
        }
    }
    if let Some(category) = fields.weee_category
        && !(1..=6).contains(&category)
    {
        errors.push(FieldError::new(
            "weee_category",
            "must be a WEEE category from 1 to 6",
        ));
    }
    if let Some(mass) = fields.typical_mass_g
        && crate::domain::mass::check(mass).is_err()
    {
        errors.push(FieldError::new(
            "typical_mass_g",
            "must be more than 0 g and at most 2,000 kg",
        ));
    }
    if let Some(fractions) = &fields.typical_fractions {
        let known: Vec<String> = materials(conn).await?.into_iter().map(|m| m.code).collect();
        if let Err(message) = check_fractions(fractions, &known) {
            errors.push(FieldError::new("typical_fractions", message));
        }
    }
    if creating {
        for (field, missing) in [
            ("code", fields.code.is_none()),
            ("name_en", fields.name_en.is_none()),
            ("name_fr", fields.name_fr.is_none()),
            ("weee_category", fields.weee_category.is_none()),
            ("typical_mass_g", fields.typical_mass_g.is_none()),
            ("typical_fractions", fields.typical_fractions.is_none()),
        ] {
            if missing {
                errors.push(FieldError::new(field, "is required"));
            }
        }
    }
    AppError::invalid_fields(errors)
}

/// `FE-STEEL:70;PL-MIX:30`: known material codes with whole percentages summing to 100.
pub fn check_fractions(text: &str, known: &[String]) -> Result<Vec<(String, i64)>, String> {
    let mut parts = Vec::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (code, percent) = part
            .split_once(':')
            .ok_or_else(|| format!("“{part}” is not MATERIAL:PERCENT"))?;
        let code = code.trim().to_uppercase();
        if !known.contains(&code) {
            return Err(format!("unknown material {code}"));
        }
        let percent: i64 = percent
            .trim()
            .parse()
            .map_err(|_| format!("“{percent}” is not a whole percentage"))?;
        if !(1..=100).contains(&percent) {
            return Err(format!("{code}: {percent} % is not between 1 and 100"));
        }
        parts.push((code, percent));
    }
    let total: i64 = parts.iter().map(|(_, p)| p).sum();
    if total != 100 {
        return Err(format!("the percentages add up to {total}, not 100"));
    }
    Ok(parts)
}

pub async fn create_kind(
    db: &DatabaseConnection,
    fields: KindFields,
    actor_id: Option<Uuid>,
) -> AppResult<equipment_kind::Model> {
    check_kind(db, &fields, true).await?;
    let txn = begin_write(db).await?;
    let code = fields.code.clone().unwrap_or_default();
    let created = equipment_kind::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code.clone()),
        name_en: Set(fields
            .name_en
            .clone()
            .unwrap_or_default()
            .trim()
            .to_string()),
        name_fr: Set(fields
            .name_fr
            .clone()
            .unwrap_or_default()
            .trim()
            .to_string()),
        weee_category: Set(fields.weee_category.unwrap_or(6)),
        typical_mass_g: Set(fields.typical_mass_g.unwrap_or(1)),
        data_bearing: Set(fields.data_bearing.unwrap_or(false)),
        typical_fractions: Set(normalise_fractions(
            fields.typical_fractions.as_deref().unwrap_or_default(),
        )),
        active: Set(fields.active.unwrap_or(true)),
    }
    .insert(&txn)
    .await
    .on_unique("kind_exists", || {
        format!("an equipment kind “{code}” already exists")
    })?;
    events::record(
        &txn,
        NewEvent::new("catalogue.kind_created", actor_id).subject(code),
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

fn normalise_fractions(text: &str) -> String {
    text.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.to_uppercase().replace(' ', ""))
        .collect::<Vec<_>>()
        .join(";")
}

pub async fn update_kind(
    db: &DatabaseConnection,
    code: &str,
    fields: KindFields,
    actor_id: Option<Uuid>,
) -> AppResult<equipment_kind::Model> {
    if fields.code.is_some() {
        return Err(AppError::invalid(
            "code",
            "a kind's code cannot change: items refer to it",
        ));
    }
    check_kind(db, &fields, false).await?;
    let txn = begin_write(db).await?;
    let found = kind(&txn, code).await?;
    let before = json!({
        "name_en": found.name_en, "name_fr": found.name_fr, "weee_category": found.weee_category,
        "typical_mass_g": found.typical_mass_g, "data_bearing": found.data_bearing,
        "typical_fractions": found.typical_fractions, "active": found.active,
    });
    let mut changed: equipment_kind::ActiveModel = found.into();
    if let Some(name) = fields.name_en {
        changed.name_en = Set(name.trim().to_string());
    }
    if let Some(name) = fields.name_fr {
        changed.name_fr = Set(name.trim().to_string());
    }
    if let Some(category) = fields.weee_category {
        changed.weee_category = Set(category);
    }
    if let Some(mass) = fields.typical_mass_g {
        changed.typical_mass_g = Set(mass);
    }
    if let Some(data_bearing) = fields.data_bearing {
        changed.data_bearing = Set(data_bearing);
    }
    if let Some(fractions) = fields.typical_fractions {
        changed.typical_fractions = Set(normalise_fractions(&fractions));
    }
    if let Some(active) = fields.active {
        changed.active = Set(active);
    }
    let updated = changed.update(&txn).await?;
    events::record(
        &txn,
        NewEvent::new("catalogue.kind_updated", actor_id)
            .subject(updated.code.clone())
            .payload(json!({ "before": before })),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// Fields of a material; all optional on update.
#[derive(Debug, Clone, Default)]
pub struct MaterialFields {
    pub code: Option<String>,
    pub name_en: Option<String>,
    pub name_fr: Option<String>,
    pub family: Option<String>,
    pub ewc_code: Option<String>,
    pub hazardous: Option<bool>,
    pub handling: Option<String>,
    pub active: Option<bool>,
}

fn check_material(fields: &MaterialFields, creating: bool) -> AppResult<()> {
    let mut errors = Vec::new();
    if let Some(code) = &fields.code
        && (code.is_empty()
            || code.len() > 30
            || !code
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-'))
    {
        errors.push(FieldError::new(
            "code",
            "must be 1 to 30 upper-case letters, digits or -",
        ));
    }
    for (field, value) in [
        ("name_en", &fields.name_en),
        ("name_fr", &fields.name_fr),
        ("family", &fields.family),
    ] {
        if let Some(value) = value {
            intake::required_text(field, value, 100, &mut errors);
        }
    }
    if let Some(ewc) = &fields.ewc_code {
        let digits: String = ewc.chars().filter(char::is_ascii_digit).collect();
        if !ewc.trim().is_empty() && digits.len() != 6 {
            errors.push(FieldError::new(
                "ewc_code",
                "must be a six-digit European Waste Catalogue code, e.g. 16 02 16",
            ));
        }
    }
    intake::optional_text("handling", fields.handling.as_deref(), 500, &mut errors);
    if creating {
        for (field, missing) in [
            ("code", fields.code.is_none()),
            ("name_en", fields.name_en.is_none()),
            ("name_fr", fields.name_fr.is_none()),
            ("family", fields.family.is_none()),
        ] {
            if missing {
                errors.push(FieldError::new(field, "is required"));
            }
        }
    }
    AppError::invalid_fields(errors)
}

pub async fn create_material(
    db: &DatabaseConnection,
    fields: MaterialFields,
    actor_id: Option<Uuid>,
) -> AppResult<material::Model> {
    check_material(&fields, true)?;
    let code = fields.code.clone().unwrap_or_default();
    let ewc = fields.ewc_code.clone().filter(|e| !e.trim().is_empty());
    let txn = begin_write(db).await?;
    let created = material::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code.clone()),
        name_en: Set(fields
            .name_en
            .clone()
            .unwrap_or_default()
            .trim()
            .to_string()),
        name_fr: Set(fields
            .name_fr
            .clone()
            .unwrap_or_default()
            .trim()
            .to_string()),
        family: Set(fields
            .family
            .clone()
            .unwrap_or_default()
            .trim()
            .to_lowercase()),
        hazardous: Set(fields
            .hazardous
            .unwrap_or_else(|| ewc.as_deref().is_some_and(|e| e.contains('*')))),
        ewc_code: Set(ewc),
        handling: Set(fields.handling.clone().filter(|h| !h.trim().is_empty())),
        active: Set(fields.active.unwrap_or(true)),
    }
    .insert(&txn)
    .await
    .on_unique("material_exists", || {
        format!("a material “{code}” already exists")
    })?;
    events::record(
        &txn,
        NewEvent::new("catalogue.material_created", actor_id).subject(code),
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

pub async fn update_material(
    db: &DatabaseConnection,
    code: &str,
    fields: MaterialFields,
    actor_id: Option<Uuid>,
) -> AppResult<material::Model> {
    if fields.code.is_some() {
        return Err(AppError::invalid(
            "code",
            "a material's code cannot change: lots refer to it",
        ));
    }
    check_material(&fields, false)?;
    let txn = begin_write(db).await?;
    let found = material(&txn, code).await?;
    let before = json!({
        "name_en": found.name_en, "name_fr": found.name_fr, "family": found.family,
        "ewc_code": found.ewc_code, "hazardous": found.hazardous, "handling": found.handling, "active": found.active,
    });
    let mut changed: material::ActiveModel = found.into();
    if let Some(name) = fields.name_en {
        changed.name_en = Set(name.trim().to_string());
    }
    if let Some(name) = fields.name_fr {
        changed.name_fr = Set(name.trim().to_string());
    }
    if let Some(family) = fields.family {
        changed.family = Set(family.trim().to_lowercase());
    }
    if let Some(ewc) = fields.ewc_code {
        changed.ewc_code = Set(Some(ewc).filter(|e| !e.trim().is_empty()));
    }
    if let Some(hazardous) = fields.hazardous {
        changed.hazardous = Set(hazardous);
    }
    if let Some(handling) = fields.handling {
        changed.handling = Set(Some(handling).filter(|h| !h.trim().is_empty()));
    }
    if let Some(active) = fields.active {
        changed.active = Set(active);
    }
    let updated = changed.update(&txn).await?;
    events::record(
        &txn,
        NewEvent::new("catalogue.material_updated", actor_id)
            .subject(updated.code.clone())
            .payload(json!({ "before": before })),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_must_name_known_materials_and_add_up_to_100() {
        let known = vec!["FE-STEEL".to_string(), "PL-MIX".to_string()];
        assert_eq!(
            check_fractions("FE-STEEL:70; pl-mix:30", &known),
            Ok(vec![("FE-STEEL".into(), 70), ("PL-MIX".into(), 30)])
        );
        assert!(
            check_fractions("FE-STEEL:70;PL-MIX:20", &known)
                .unwrap_err()
                .contains("90")
        );
        assert!(
            check_fractions("GOLD:100", &known)
                .unwrap_err()
                .contains("GOLD")
        );
        assert!(check_fractions("FE-STEEL", &known).is_err());
        assert!(check_fractions("FE-STEEL:x", &known).is_err());
    }
}

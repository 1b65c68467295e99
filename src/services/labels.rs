//! Labels for what the workshop marks: the detail lines of each code, and print runs through
//! the one renderer (items, collections, lots, ingots, melts, badges).

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::domain::codes::{Code, CodeKind};
use crate::entities::{collection, equipment_kind, holder, item, material, partner, user};
use crate::error::{AppError, AppResult, FieldError};
use crate::i18n::Lang;
use crate::render::{Label, LabelOptions, Templates};
use crate::services::items::{self, ItemFilter};
use crate::services::{Paging, collections};

/// The most labels one print run may hold (a hundred A4 sheets of L7651 would be 6,500).
pub const MAX_LABELS: usize = 5_000;

/// The detail lines of a label for each code, in the order given. Codes are parsed as
/// scanned or typed; an unknown or malformed one is an error naming its position.
pub async fn for_codes(
    conn: &impl ConnectionTrait,
    codes: &[String],
    lang: Lang,
) -> AppResult<Vec<Label>> {
    if codes.is_empty() {
        return Err(AppError::invalid("codes", "give at least one code"));
    }
    if codes.len() > MAX_LABELS {
        return Err(AppError::invalid(
            "codes",
            format!(
                "at most {MAX_LABELS} labels per print run, not {}",
                codes.len()
            ),
        ));
    }
    let mut errors = Vec::new();
    let mut parsed = Vec::with_capacity(codes.len());
    for (index, text) in codes.iter().enumerate() {
        match Code::from_scan(text) {
            Ok(code) => parsed.push(code),
            Err(error) => errors.push(FieldError::new(format!("codes/{index}"), error.to_string())),
        }
    }
    AppError::invalid_fields(errors)?;
    let mut labels = Vec::with_capacity(parsed.len());
    let mut errors = Vec::new();
    for (index, code) in parsed.into_iter().enumerate() {
        match lines_of(conn, &code, lang).await? {
            Some(lines) => labels.push(Label { code, lines }),
            None => errors.push(FieldError::new(
                format!("codes/{index}"),
                format!("{code} is not known here"),
            )),
        }
    }
    AppError::invalid_fields(errors)?;
    Ok(labels)
}

/// Labels for every item of a collection, in the order they were received.
pub async fn for_collection(
    conn: &impl ConnectionTrait,
    reference: &str,
    lang: Lang,
) -> AppResult<Vec<Label>> {
    let found = collections::find(conn, reference).await?;
    let received = items::list(
        conn,
        ItemFilter {
            collection_id: Some(found.id),
            ..Default::default()
        },
        Paging {
            page: Some(1),
            per_page: Some(500),
        },
    )
    .await?;
    let mut all = received.items;
    let pages = received.total.div_ceil(500);
    for page in 2..=pages {
        all.extend(
            items::list(
                conn,
                ItemFilter {
                    collection_id: Some(found.id),
                    ..Default::default()
                },
                Paging {
                    page: Some(page),
                    per_page: Some(500),
                },
            )
            .await?
            .items,
        );
    }
    if all.is_empty() {
        return Err(AppError::invalid(
            "collection",
            format!("collection {} has no items yet", found.code),
        ));
    }
    let kinds = kind_names(conn, lang).await?;
    all.into_iter()
        .map(|i| {
            let code = Code::parse(&i.code).map_err(|e| {
                AppError::Unexpected(anyhow::anyhow!("stored code {}: {e}", i.code))
            })?;
            Ok(Label {
                code,
                lines: item_lines(&i, &kinds, &found, lang),
            })
        })
        .collect()
}

async fn kind_names(
    conn: &impl ConnectionTrait,
    lang: Lang,
) -> AppResult<HashMap<uuid::Uuid, String>> {
    Ok(equipment_kind::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|k| {
            (
                k.id,
                if lang == Lang::En {
                    k.name_en
                } else {
                    k.name_fr
                },
            )
        })
        .collect())
}

fn item_lines(
    i: &item::Model,
    kinds: &HashMap<uuid::Uuid, String>,
    from: &collection::Model,
    lang: Lang,
) -> Vec<String> {
    let mut kind = kinds.get(&i.kind_id).cloned().unwrap_or_default();
    if i.quantity > 1 {
        kind = format!("{kind} ×{}", i.quantity);
    }
    vec![
        kind,
        format!(
            "{} · {}",
            lang.kg(i.gross_mass_g).replace(['\u{a0}', '\u{202f}'], " "),
            from.received_on
        ),
    ]
}

/// The detail lines for one code, or none when nothing carries it.
async fn lines_of(
    conn: &impl ConnectionTrait,
    code: &Code,
    lang: Lang,
) -> AppResult<Option<Vec<String>>> {
    let text = code.to_string();
    Ok(match code.kind() {
        CodeKind::Item => {
            let Some(found) = item::Entity::find()
                .filter(item::Column::Code.eq(&text))
                .one(conn)
                .await?
            else {
                return Ok(None);
            };
            let from = collection::Entity::find_by_id(found.collection_id)
                .one(conn)
                .await?;
            let kinds = kind_names(conn, lang).await?;
            from.map(|from| item_lines(&found, &kinds, &from, lang))
        }
        CodeKind::Collection => {
            let Some(found) = collection::Entity::find()
                .filter(collection::Column::Code.eq(&text))
                .one(conn)
                .await?
            else {
                return Ok(None);
            };
            let from = partner::Entity::find_by_id(found.partner_id)
                .one(conn)
                .await?;
            Some(vec![
                from.map(|p| p.name).unwrap_or_default(),
                format!(
                    "{} {}",
                    found.received_on,
                    found.reference.unwrap_or_default()
                )
                .trim()
                .to_string(),
            ])
        }
        CodeKind::Lot | CodeKind::Melt => {
            let Some(found) = holder::Entity::find()
                .filter(holder::Column::Code.eq(&text))
                .one(conn)
                .await?
            else {
                return Ok(None);
            };
            let material = match found.material_id {
                Some(id) => material::Entity::find_by_id(id).one(conn).await?,
                None => None,
            };
            let first = match &material {
                Some(m) => format!(
                    "{} · {}",
                    m.code,
                    if lang == Lang::En {
                        &m.name_en
                    } else {
                        &m.name_fr
                    }
                ),
                None => found.label.clone(),
            };
            let second = if found.balance_g > 0 {
                format!(
                    "{} · {}",
                    lang.kg(found.balance_g)
                        .replace(['\u{a0}', '\u{202f}'], " "),
                    found.created_at.date_naive()
                )
            } else {
                found.created_at.date_naive().to_string()
            };
            Some(vec![first, second])
        }
        CodeKind::Apprentice => user::Entity::find()
            .filter(user::Column::BadgeCode.eq(&text))
            .one(conn)
            .await?
            .map(|u| vec![u.display_name, lang.t("role.apprentice").to_string()]),
        CodeKind::Station => crate::entities::station::Entity::find()
            .filter(crate::entities::station::Column::Code.eq(&text))
            .one(conn)
            .await?
            .map(|s| {
                vec![
                    s.name,
                    lang.t(&format!("station_kind.{}", s.kind)).to_string(),
                ]
            }),
        CodeKind::Certificate | CodeKind::Shipment => None,
    })
}

/// A print run's settings, as asked for.
#[derive(Debug, Clone, Default)]
pub struct PrintRun {
    pub template: String,
    pub skip: usize,
    pub offset_x_mm: f32,
    pub offset_y_mm: f32,
    pub cut_borders: bool,
}

/// Renders labels into a PDF off the async runtime (a thousand labels take a moment).
pub async fn render(
    templates: &Templates,
    run: &PrintRun,
    labels: Vec<Label>,
    public_url: Option<String>,
) -> AppResult<Vec<u8>> {
    let template = templates
        .get(&run.template)
        .map_err(|error| AppError::invalid("template", error.to_string()))?
        .clone();
    let options = LabelOptions {
        skip: run.skip,
        offset_x_mm: run.offset_x_mm,
        offset_y_mm: run.offset_y_mm,
        cut_borders: run.cut_borders,
        public_url,
    };
    tokio::task::spawn_blocking(move || crate::render::render_pdf(&template, &labels, &options))
        .await
        .map_err(|error| AppError::Unexpected(error.into()))?
        .map_err(|error| {
            let field = match &error {
                crate::render::RenderError::SkipTooLarge { .. } => "skip",
                crate::render::RenderError::OffsetOutOfRange { axis: "x", .. } => "offset_x_mm",
                crate::render::RenderError::OffsetOutOfRange { .. } => "offset_y_mm",
                crate::render::RenderError::Template(_) => "template",
                // Writing the PDF failed: our fault, not the request's.
                crate::render::RenderError::Write(_) => {
                    return AppError::Unexpected(anyhow::anyhow!("writing a label PDF: {error}"));
                }
                _ => "codes",
            };
            AppError::invalid(field, error.to_string())
        })
}

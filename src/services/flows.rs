//! What every material-flow step shares: who does it and where, masses as typed, the lots its
//! outputs go to (existing ones scanned, or new ones opened on the spot), the weighing
//! tolerance, and the answer a device gets back, the same on a retry.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::codes::{Code, CodeKind};
use crate::domain::ledger::{Account, Basis, Movement, OperationKind};
use crate::domain::lots::LotState;
use crate::domain::mass::{self, Unit};
use crate::domain::roles::Role;
use crate::domain::tolerance::{self, Residual};
use crate::entities::{holder, lot, material, station, user};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::catalogue;
use crate::services::ledger::{self, NewHolder, NewOperation, PostedOperation};

/// Who does a step, and at which station: an apprentice signed in at an enrolled device, or a
/// supervisor through the pages or the API (naming a station or not).
#[derive(Debug, Clone)]
pub struct Performer {
    pub user: user::Model,
    pub role: Role,
    pub station: Option<station::Model>,
    /// The enrolled device the step came from, if any.
    pub device_id: Option<Uuid>,
}

impl Performer {
    /// A person acting without a station device (a supervisor's page or API call, the demo).
    pub fn person(user: user::Model, station: Option<station::Model>) -> Performer {
        Performer {
            role: crate::services::users::role_of(&user),
            user,
            station,
            device_id: None,
        }
    }

    pub fn station_id(&self) -> Option<Uuid> {
        self.station.as_ref().map(|s| s.id)
    }

    /// The kind of the station, by name, or `default` off a station: what the tolerance
    /// and its refusal are about.
    pub fn station_kind_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.station.as_ref().map_or(default, |s| s.kind.as_str())
    }

    /// A step's operation: by this person, at this station, under this key, with the
    /// supervisor's reason when one overrode the tolerance.
    pub fn operation(
        &self,
        kind: OperationKind,
        key: &str,
        overridden: Option<&Override>,
        movements: Vec<Movement>,
    ) -> NewOperation {
        let mut operation = NewOperation::new(kind, Some(self.user.id), movements);
        operation.station_id = self.station_id();
        operation.idempotency_key = Some(key.to_string());
        operation.reason = overridden.map(|o| o.reason.clone());
        operation
    }

    /// The station, which this step cannot do without.
    pub fn require_station(&self, what: &str) -> AppResult<&station::Model> {
        self.station.as_ref().ok_or_else(|| {
            AppError::invalid("station", format!("say at which station {what} happens"))
        })
    }

    /// The idempotency key of a step: a retry from the same device (whoever is signed in
    /// there by then), or from the same person elsewhere, with the same client id finds the
    /// first.
    pub fn key(&self, step: &str, client_id: &str) -> AppResult<String> {
        let client_id = client_id.trim();
        if client_id.is_empty() || client_id.len() > 100 {
            return Err(AppError::invalid(
                "client_id",
                "must be 1 to 100 characters",
            ));
        }
        Ok(match self.device_id {
            Some(device) => format!("{step}:device:{device}:{client_id}"),
            None => format!("{step}:{}:{client_id}", self.user.id),
        })
    }

    fn may_override(&self) -> bool {
        matches!(self.role, Role::Supervisor | Role::Admin)
    }
}

/// A supervisor accepting a weighing outside the tolerance, and why.
#[derive(Debug, Clone)]
pub struct Override {
    pub by: user::Model,
    pub reason: String,
}

/// A supervisor's override as sent: the reason, and, from a station device, the supervisor's
/// badge and PIN (an apprentice's session cannot override). A supervisor's password is never
/// typed at a station: `login` and `password` are refused.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideRequest {
    pub reason: String,
    /// The supervisor's own badge code (`AP-…`), scanned at the device.
    pub badge: Option<String>,
    /// The supervisor's 4-digit PIN.
    pub pin: Option<String>,
    /// No longer accepted (answered 422 `override_password_removed`): use `badge` and `pin`.
    #[schema(deprecated)]
    pub login: Option<String>,
    /// No longer accepted (answered 422 `override_password_removed`): use `badge` and `pin`.
    #[schema(deprecated)]
    pub password: Option<String>,
}

/// The supervisor overriding: the performer themself, or whoever's badge and PIN are given.
/// The approval is judged before anything else in the request, and a failed one always
/// answers the same (403 `approval_refused`, or 423 `badge_locked`), counted against the badge
/// like a station sign-in (`services::badge_locks`) and recorded in the audit log.
pub async fn resolve_override(
    db: &sea_orm::DatabaseConnection,
    performer: &Performer,
    request: Option<&OverrideRequest>,
) -> AppResult<Option<Override>> {
    let Some(request) = request else {
        return Ok(None);
    };
    if request.login.is_some() || request.password.is_some() {
        return Err(AppError::Unprocessable {
            code: "override_password_removed",
            detail: "a supervisor's password is no longer typed at a station: the supervisor \
                     scans their own badge and types their PIN (`override.badge`, `override.pin`)"
                .into(),
            errors: vec![FieldError::new(
                "override/password",
                "send the supervisor's badge and PIN instead",
            )],
        });
    }
    let by = match (&request.badge, &request.pin) {
        (None, None) if performer.may_override() => performer.user.clone(),
        (None, None) => {
            return Err(AppError::invalid(
                "override",
                "only a supervisor can override: they scan their badge and type their PIN",
            ));
        }
        (badge, pin) => {
            approving_supervisor(
                db,
                performer,
                badge.as_deref().unwrap_or_default(),
                pin.as_deref().unwrap_or_default(),
            )
            .await?
        }
    };
    let reason = request.reason.trim();
    if reason.is_empty() || reason.len() > 500 {
        return Err(AppError::invalid(
            "override/reason",
            "say why the weighing is accepted (up to 500 characters)",
        ));
    }
    Ok(Some(Override {
        by,
        reason: reason.to_string(),
    }))
}

/// The supervisor whose badge and PIN these are, or one refusal whatever was wrong.
async fn approving_supervisor(
    db: &sea_orm::DatabaseConnection,
    performer: &Performer,
    badge: &str,
    pin: &str,
) -> AppResult<user::Model> {
    use crate::services::{badge_locks, users};
    let Some(badge) = Code::from_scan(badge)
        .ok()
        .filter(|code| code.kind() == CodeKind::Apprentice)
        .map(|code| code.to_string())
    else {
        return Err(AppError::approval_refused());
    };
    let attempt = badge_locks::Attempt {
        badge: &badge,
        purpose: badge_locks::Purpose::Approval,
        station_id: performer.station_id(),
        actor_id: Some(performer.user.id),
    };
    // One write transaction: racing guesses take turns at the count.
    let txn = crate::db::begin_write(db).await?;
    if badge_locks::is_locked(&txn, &badge).await? {
        badge_locks::failed(&txn, attempt, "locked").await?;
        txn.commit().await?;
        return Err(AppError::badge_locked());
    }
    let supervisor = user::Entity::find()
        .filter(user::Column::BadgeCode.eq(&badge))
        .filter(user::Column::Active.eq(true))
        .one(&txn)
        .await?
        .filter(|u| matches!(users::role_of(u), Role::Supervisor | Role::Admin));
    let pin = pin.trim().to_string();
    let failure = match supervisor.as_ref().and_then(|s| s.pin_hash.clone()) {
        Some(hash) => (!users::password_matches(hash, pin).await).then_some("wrong_pin"),
        None => {
            // The same time as a real check: the answer's delay does not tell badges apart.
            let _ = users::hash_password(pin).await;
            Some(if supervisor.is_some() {
                "no_pin"
            } else {
                "not_a_supervisor"
            })
        }
    };
    match (failure, supervisor) {
        (None, Some(supervisor)) => {
            badge_locks::succeeded(&txn, &badge).await?;
            txn.commit().await?;
            Ok(supervisor)
        }
        (failure, _) => {
            let locked = badge_locks::failed(&txn, attempt, failure.unwrap_or("wrong_pin")).await?;
            txn.commit().await?;
            Err(if locked {
                AppError::badge_locked()
            } else {
                AppError::approval_refused()
            })
        }
    }
}

/// A mass as sent: a JSON number, or text as typed or sent by a scale (`1,5`, `1,5 kg`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Typed {
    Number(serde_json::Number),
    Text(String),
}

impl utoipa::PartialSchema for Typed {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .item(ObjectBuilder::new().schema_type(Type::String))
            .description(Some("A number, or the text typed or sent by a scale."))
            .into()
    }
}

impl ToSchema for Typed {}

/// Reads a mass given as whole grams (`…_g`) or kilograms (`…_kg`), exactly one of them.
/// `1,5 kg` is read only where the field says kg; a gram field refuses it clearly.
pub fn weighed(
    field: &str,
    grams: Option<&Typed>,
    kilograms: Option<&Typed>,
    errors: &mut Vec<FieldError>,
) -> Option<i64> {
    match (grams, kilograms) {
        (None, None) => {
            errors.push(FieldError::new(
                format!("{field}_kg"),
                "give the mass read on the scale",
            ));
            None
        }
        (Some(_), Some(_)) => {
            errors.push(FieldError::new(
                format!("{field}_g"),
                "give the mass in grams or in kilograms, not both",
            ));
            None
        }
        (Some(typed), None) => read_mass(&format!("{field}_g"), typed, Unit::Grams, errors),
        (None, Some(typed)) => read_mass(&format!("{field}_kg"), typed, Unit::Kilograms, errors),
    }
}

/// Like [`weighed`], where giving no mass means "all of it".
pub fn weighed_or_all(
    field: &str,
    grams: Option<&Typed>,
    kilograms: Option<&Typed>,
    errors: &mut Vec<FieldError>,
) -> Option<Option<i64>> {
    if grams.is_none() && kilograms.is_none() {
        return Some(None);
    }
    weighed(field, grams, kilograms, errors).map(Some)
}

fn read_mass(field: &str, typed: &Typed, unit: Unit, errors: &mut Vec<FieldError>) -> Option<i64> {
    let read = match typed {
        Typed::Text(text) => mass::parse(text, unit),
        Typed::Number(number) => match (unit, number.as_i64(), number.as_f64()) {
            (Unit::Grams, Some(grams), _) => mass::check(grams),
            (Unit::Grams, None, _) => Err(mass::MassError::FractionOfGram(number.to_string())),
            (Unit::Kilograms, _, Some(kg)) if kg.is_finite() && kg.abs() < 1e9 => {
                mass::check((kg * 1000.0).round() as i64)
            }
            (Unit::Kilograms, _, _) => Err(mass::MassError::NotANumber(number.to_string())),
        },
    };
    match read {
        Ok(grams) => Some(grams),
        Err(error) => {
            errors.push(FieldError::new(field, error.to_string()));
            None
        }
    }
}

/// Where one weighed output goes: a lot scanned by its label, or a new lot of a material
/// opened on the spot (its label is then printed).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Output {
    /// An existing open lot (`LT-…`), as scanned.
    pub lot: Option<String>,
    /// The material (`PCB-HIGH`): opens a new lot when no lot is named; checked against it
    /// when one is.
    pub material: Option<String>,
    pub mass_g: Option<Typed>,
    pub mass_kg: Option<Typed>,
    /// A new lot's empty container, in grams.
    pub tare_g: Option<i64>,
}

/// An output lot with what goes into it.
#[derive(Debug, Clone)]
pub struct Placed {
    pub lot: lot::Model,
    pub material: material::Model,
    pub mass_g: i64,
    pub opened: bool,
}

/// What a step allows into its output lots, and how it names them in refusals.
pub type MaterialRule<'a> = &'a (dyn Fn(&material::Model) -> Result<(), String> + Sync);

/// Resolves a step's outputs: checks every line (reporting all the problems at once),
/// then opens the new lots. Lines naming the same lot add up; a line whose material
/// disagrees with its lot's is refused.
pub async fn place_outputs(
    txn: &DatabaseTransaction,
    performer: &Performer,
    field: &str,
    outputs: &[Output],
    rule: MaterialRule<'_>,
) -> AppResult<Vec<Placed>> {
    let mut errors = Vec::new();
    let mut lines = Vec::new();
    for (index, output) in outputs.iter().enumerate() {
        let path = format!("{field}/{index}");
        let mass_g = weighed(
            &format!("{path}/mass"),
            output.mass_g.as_ref(),
            output.mass_kg.as_ref(),
            &mut errors,
        );
        let named_material = match output.material.as_deref().map(str::trim) {
            Some(code) if !code.is_empty() => match catalogue::material(txn, code).await {
                Ok(found) if found.active || output.lot.is_some() => Some(found),
                Ok(_) => {
                    errors.push(FieldError::new(
                        format!("{path}/material"),
                        format!("{code} is no longer in use"),
                    ));
                    None
                }
                Err(AppError::NotFound(_)) => {
                    errors.push(FieldError::new(
                        format!("{path}/material"),
                        format!("no material {code}"),
                    ));
                    None
                }
                Err(error) => return Err(error),
            },
            _ => None,
        };
        let target = match output.lot.as_deref().map(str::trim) {
            Some(code) if !code.is_empty() => match find_lot(txn, code).await {
                Ok((found, material)) => {
                    if let Some(named) = &named_material
                        && named.id != material.id
                    {
                        errors.push(FieldError::new(
                            format!("{path}/material"),
                            format!(
                                "{} holds {}, not {}: scan the right bin",
                                found.code, material.code, named.code
                            ),
                        ));
                    }
                    if output.tare_g.is_some() {
                        errors.push(FieldError::new(
                            format!("{path}/tare_g"),
                            "a tare is given when a lot is opened, not for an existing lot",
                        ));
                    }
                    Some((Some(found), material))
                }
                Err(AppError::NotFound(detail)) | Err(AppError::Unprocessable { detail, .. }) => {
                    errors.push(FieldError::new(format!("{path}/lot"), detail));
                    None
                }
                Err(error) => return Err(error),
            },
            _ => match named_material.clone() {
                Some(material) => Some((None, material)),
                None if output.material.is_none() => {
                    errors.push(FieldError::new(
                        format!("{path}/lot"),
                        "scan the lot's label, or choose the material to open a new lot",
                    ));
                    None
                }
                None => None,
            },
        };
        if let Some(tare) = output.tare_g
            && !(0..=mass::MAX_MASS_G).contains(&tare)
        {
            errors.push(FieldError::new(
                format!("{path}/tare_g"),
                "a tare is 0 to 2,000,000 g",
            ));
        }
        if let Some((_, material)) = &target
            && let Err(message) = rule(material)
        {
            errors.push(FieldError::new(format!("{path}/material"), message));
        }
        lines.push((target, mass_g, output.tare_g));
    }
    if outputs.is_empty() {
        errors.push(FieldError::new(field, "weigh at least one output"));
    }
    AppError::invalid_fields(errors)?;

    let mut placed: Vec<Placed> = Vec::new();
    let mut by_lot: HashMap<Uuid, usize> = HashMap::new();
    for (target, mass_g, tare_g) in lines {
        let (Some((existing, material)), Some(mass_g)) = (target, mass_g) else {
            continue;
        };
        match existing {
            Some(found) => {
                let state: LotState = found.state.parse().map_err(anyhow::Error::msg)?;
                if !state.accepts_input() {
                    return Err(AppError::conflict(
                        "lot_not_open",
                        format!(
                            "{} is {state}: it takes nothing in (open a new lot, or reopen it with a reason)",
                            found.code
                        ),
                    ));
                }
                match by_lot.get(&found.id) {
                    Some(&at) => placed[at].mass_g += mass_g,
                    None => {
                        by_lot.insert(found.id, placed.len());
                        placed.push(Placed {
                            lot: found,
                            material,
                            mass_g,
                            opened: false,
                        });
                    }
                }
            }
            None => {
                let opened = open_lot(txn, performer, &material, tare_g, None, None).await?;
                placed.push(Placed {
                    lot: opened,
                    material,
                    mass_g,
                    opened: true,
                });
            }
        }
    }
    Ok(placed)
}

/// A lot and its material, by its code as scanned.
pub async fn find_lot(
    conn: &impl ConnectionTrait,
    reference: &str,
) -> AppResult<(lot::Model, material::Model)> {
    let code =
        Code::parse(reference).map_err(|error| AppError::invalid("lot", error.to_string()))?;
    if code.kind() != CodeKind::Lot {
        return Err(AppError::invalid(
            "lot",
            format!("{code} is not a lot: scan the label on the bin"),
        ));
    }
    let found = lot::Entity::find()
        .filter(lot::Column::Code.eq(code.to_string()))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no lot {code}")))?;
    let material = material::Entity::find_by_id(found.material_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("lot without its material")))?;
    Ok((found, material))
}

/// Lots a step takes mass out of, locked on PostgreSQL (in id order) so their states cannot
/// change under the step; each must still give mass out.
pub async fn lock_sources(
    txn: &DatabaseTransaction,
    ids: &[Uuid],
) -> AppResult<BTreeMap<Uuid, lot::Model>> {
    let mut query = lot::Entity::find()
        .filter(lot::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(lot::Column::Id);
    if txn.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    let found: BTreeMap<Uuid, lot::Model> = query
        .all(txn)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    for lot in found.values() {
        let state: LotState = lot.state.parse().map_err(anyhow::Error::msg)?;
        if !state.gives_output() {
            return Err(AppError::conflict(
                "lot_finished",
                format!("{} is {state}: nothing can be taken from it", lot.code),
            ));
        }
    }
    Ok(found)
}

/// Opens a new lot of `material` at the performer's station: its holder, then its row.
pub async fn open_lot(
    txn: &DatabaseTransaction,
    performer: &Performer,
    material: &material::Model,
    tare_g: Option<i64>,
    melt_id: Option<Uuid>,
    client_key: Option<String>,
) -> AppResult<lot::Model> {
    let code = Code::random(CodeKind::Lot).to_string();
    let holder = ledger::create_holder(
        txn,
        NewHolder {
            kind: crate::domain::ledger::HolderKind::Lot,
            code: Some(code.clone()),
            label: format!("{} {}", material.code, code),
            material_id: Some(material.id),
            collection_id: None,
        },
    )
    .await?;
    let ingot = material.code == crate::services::ledger::summary::INGOT_MATERIAL;
    Ok(lot::ActiveModel {
        id: Set(holder.id),
        code: Set(code),
        material_id: Set(material.id),
        station_id: Set(performer.station_id()),
        // An ingot is poured whole: nothing more goes into it.
        state: Set(if ingot {
            LotState::Closed
        } else {
            LotState::Open
        }
        .as_str()
        .to_string()),
        tare_g: Set(tare_g),
        pieces: Set(ingot.then_some(1)),
        melt_id: Set(melt_id),
        opened_by: Set(Some(performer.user.id)),
        opened_at: Set(crate::clock::now()),
        closed_at: Set(ingot.then(Utc::now)),
        client_key: Set(client_key),
    }
    .insert(txn)
    .await?)
}

/// After mass left lots: those left empty become emptied (or shipped).
pub async fn settle_sources(
    txn: &DatabaseTransaction,
    sources: impl IntoIterator<Item = lot::Model>,
    shipped: bool,
) -> AppResult<()> {
    for source in sources {
        let balance = holder::Entity::find_by_id(source.id)
            .one(txn)
            .await?
            .map(|h| h.balance_g)
            .unwrap_or(0);
        let state: LotState = source.state.parse().map_err(anyhow::Error::msg)?;
        let next = state.after_output(balance, shipped);
        if next != state {
            let mut changed: lot::ActiveModel = source.into();
            changed.state = Set(next.as_str().to_string());
            changed.closed_at = Set(Some(crate::clock::now()));
            changed.update(txn).await?;
        }
    }
    Ok(())
}

/// Where a difference between input and weighed outputs goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResidualTo {
    /// Scale noise (the default).
    WeighingVariance,
    /// Real loss: dust, stripped insulation, burnt coating.
    ProcessLoss,
}

/// Checks outputs against their input at a station kind's tolerance; outside it, a
/// supervisor's override lets the step through and is kept with it.
pub fn within_tolerance(
    subject: &str,
    residual: Residual,
    station_kind: &str,
    overridden: Option<&Override>,
) -> AppResult<()> {
    if residual.within || overridden.is_some() {
        return Ok(());
    }
    let percent = if residual.input_g > 0 {
        residual.residual_g.unsigned_abs() as f64 * 100.0 / residual.input_g as f64
    } else {
        100.0
    };
    let (difference, direction) = if residual.residual_g >= 0 {
        (residual.residual_g, "missing")
    } else {
        (-residual.residual_g, "more than went in")
    };
    Err(AppError::conflict(
        "outside_tolerance",
        format!(
            "{subject}: {} kg in, {} kg weighed out: {difference} g ({percent:.1} %) {direction}, \
             beyond the ±{} g allowed at {station_kind}. Weigh again, or a supervisor accepts it with a reason.",
            mass::kilograms(residual.input_g),
            mass::kilograms(residual.outputs_g),
            residual.limit_g,
        ),
    ))
}

/// The movements of a step: out of `source` into each output, with the residual to its
/// account (a gain is drawn from `weighing_variance` first, attributed like the source).
pub async fn movements_with_residual(
    txn: &DatabaseTransaction,
    source: Uuid,
    placed: &[Placed],
    residual_g: i64,
    residual_to: ResidualTo,
) -> AppResult<Vec<Movement>> {
    let mut movements = Vec::new();
    if residual_g < 0 {
        let variance = ledger::account(txn, Account::WeighingVariance, None).await?;
        movements.push(Movement::new(variance.id, source, -residual_g).basis(Basis::Like(source)));
    }
    movements.extend(
        placed
            .iter()
            .map(|p| Movement::new(source, p.lot.id, p.mass_g)),
    );
    if residual_g > 0 {
        let account = match residual_to {
            ResidualTo::WeighingVariance => Account::WeighingVariance,
            ResidualTo::ProcessLoss => Account::ProcessLoss,
        };
        let sink = ledger::account(txn, account, None).await?;
        movements.push(Movement::new(source, sink.id, residual_g));
    }
    Ok(movements)
}

/// What a step answers, the same on a retry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FlowAnswer {
    /// None when there was nothing to post (a reweighing that matched the ledger).
    pub operation_id: Option<Uuid>,
    /// `dismantle`, `transfer`, `reweigh`, `charge`, `pour`, `ship`.
    pub kind: String,
    /// The item, lot or melt the step was about.
    pub subject: String,
    pub movements: Vec<MovementLine>,
    /// Lots opened by this step (print their labels).
    pub opened_lots: Vec<String>,
    /// Input, outputs and their difference, where the step weighed outputs.
    pub residual: Option<Residual>,
    /// A supervisor's reason for accepting a weighing outside the tolerance.
    pub override_reason: Option<String>,
    pub message: String,
    /// True when this answers a retry of a step already recorded.
    pub replayed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MovementLine {
    /// A code, or an account (`weighing_variance`, `shipped:PCB-HIGH`).
    pub from: String,
    pub to: String,
    pub mass_g: i64,
}

/// The facts a step keeps with its operation, from which its answer is rebuilt.
pub fn payload(
    subject: &str,
    placed: &[Placed],
    residual: Option<Residual>,
    overridden: Option<&Override>,
    message: &str,
    extra: Value,
) -> Value {
    let mut facts = json!({
        "subject": subject,
        "opened_lots": placed.iter().filter(|p| p.opened).map(|p| p.lot.code.clone()).collect::<Vec<_>>(),
        "residual": residual,
        "message": message,
    });
    if let Some(overridden) = overridden {
        facts["override"] = json!({
            "by": overridden.by.id, "by_name": overridden.by.display_name, "reason": overridden.reason,
        });
    }
    if let (Value::Object(facts), Value::Object(extra)) = (&mut facts, extra) {
        facts.extend(extra);
    }
    facts
}

/// The answer of a posted (or replayed) step.
pub async fn answer_of(
    conn: &impl ConnectionTrait,
    posted: &PostedOperation,
) -> AppResult<FlowAnswer> {
    let ids: Vec<Uuid> = posted
        .movements
        .iter()
        .flat_map(|m| [m.from_holder_id, m.to_holder_id])
        .collect();
    let names: HashMap<Uuid, String> = holder::Entity::find()
        .filter(holder::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|h| (h.id, h.code.or(h.account_key).unwrap_or(h.label)))
        .collect();
    let name = |id: &Uuid| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let facts = &posted.operation.payload;
    let text = |key: &str| facts.get(key).and_then(Value::as_str).map(str::to_string);
    Ok(FlowAnswer {
        operation_id: Some(posted.operation.id),
        kind: posted.operation.kind.clone(),
        subject: text("subject").unwrap_or_default(),
        movements: posted
            .movements
            .iter()
            .map(|m| MovementLine {
                from: name(&m.from_holder_id),
                to: name(&m.to_holder_id),
                mass_g: m.mass_g,
            })
            .collect(),
        opened_lots: serde_json::from_value(facts["opened_lots"].clone()).unwrap_or_default(),
        residual: serde_json::from_value(facts["residual"].clone()).unwrap_or(None),
        override_reason: facts
            .get("override")
            .and_then(|o| o.get("reason"))
            .and_then(Value::as_str)
            .map(str::to_string),
        message: text("message").unwrap_or_default(),
        replayed: posted.replayed,
    })
}

/// The residual of `outputs` against `input_g` at a station kind's tolerance.
pub fn residual_of(input_g: i64, placed: &[Placed], tolerance_bp: u32) -> Residual {
    let outputs: Vec<i64> = placed.iter().map(|p| p.mass_g).collect();
    tolerance::check(input_g, &outputs, tolerance_bp)
}

/// One lot to take mass from (to charge or to ship): all of it, or the mass given.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Take {
    /// The lot's code, as scanned.
    pub lot: String,
    pub mass_g: Option<Typed>,
    pub mass_kg: Option<Typed>,
}

/// Reads the masses of `takes` (none: all of the lot), checking that there is at least one.
pub fn take_masses(takes: &[Take], none_message: &str) -> AppResult<Vec<Option<i64>>> {
    let mut errors = Vec::new();
    let masses = takes
        .iter()
        .enumerate()
        .map(|(i, take)| {
            weighed_or_all(
                &format!("lots/{i}/mass"),
                take.mass_g.as_ref(),
                take.mass_kg.as_ref(),
                &mut errors,
            )
            .flatten()
        })
        .collect();
    if takes.is_empty() {
        errors.push(FieldError::new("lots", none_message));
    }
    AppError::invalid_fields(errors)?;
    Ok(masses)
}

/// A lot mass is taken from, with its material and the grams taken.
#[derive(Debug, Clone)]
pub struct Taken {
    pub lot: lot::Model,
    pub material: material::Model,
    pub mass_g: i64,
}

/// Resolves the lots of `takes`, refusing (with `problem` as the code, every line's problem
/// at once) unknown lots, lots named twice and materials `rule` refuses; then locks them and
/// checks each holds what is taken. Answers what is taken and the locked lots.
pub async fn take_from(
    txn: &DatabaseTransaction,
    takes: &[Take],
    masses: &[Option<i64>],
    rule: MaterialRule<'_>,
    problem: &'static str,
    verb: &str,
) -> AppResult<(Vec<Taken>, BTreeMap<Uuid, lot::Model>)> {
    let mut found: Vec<(lot::Model, material::Model, Option<i64>)> = Vec::new();
    let mut errors = Vec::new();
    for (index, take) in takes.iter().enumerate() {
        let field = format!("lots/{index}/lot");
        match find_lot(txn, &take.lot).await {
            Ok((lot, material)) => {
                if let Err(message) = rule(&material) {
                    errors.push(FieldError::new(&field, message));
                }
                if found.iter().any(|(l, _, _)| l.id == lot.id) {
                    errors.push(FieldError::new(
                        &field,
                        format!("{} is named twice", lot.code),
                    ));
                }
                found.push((lot, material, masses.get(index).copied().flatten()));
            }
            Err(AppError::NotFound(detail)) | Err(AppError::Unprocessable { detail, .. }) => {
                errors.push(FieldError::new(&field, detail));
            }
            Err(error) => return Err(error),
        }
    }
    if !errors.is_empty() {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(AppError::Unprocessable {
            code: problem,
            detail,
            errors,
        });
    }
    let ids: Vec<Uuid> = found.iter().map(|(l, _, _)| l.id).collect();
    let locked = lock_sources(txn, &ids).await?;
    let mut taken = Vec::new();
    for (lot, material, mass) in found {
        let balance = ledger::find_holder(txn, &lot.code).await?.balance_g;
        let mass_g = mass.unwrap_or(balance);
        if mass_g <= 0 || mass_g > balance {
            return Err(AppError::conflict(
                "not_enough_in_lot",
                format!(
                    "{} holds {} kg; {} kg cannot be {verb} from it",
                    lot.code,
                    mass::kilograms(balance),
                    mass::kilograms(mass_g)
                ),
            ));
        }
        taken.push(Taken {
            lot,
            material,
            mass_g,
        });
    }
    Ok((taken, locked))
}

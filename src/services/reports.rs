//! Yield reports for supervisors (DESIGN.md section 8): for a period and filters, what came
//! in, what became of it, what was recovered by family and material against the equipment
//! kinds' typical split, the copper chain to ingots, losses and weighing variance by station
//! kind and apprentice, stock, and throughput. Every figure is read from the items, the
//! ledger's operations and movements, lots and tasks: none is kept in a counter of its own.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::db::sum_i64;
use crate::domain::ledger::Account;
use crate::entities::{
    collection, equipment_kind, holder, item, lot, material, movement, operation, station, task,
    user,
};
use crate::error::{AppError, AppResult};
use crate::services::ledger::daily::{self, FlowKey, Table};
use crate::services::ledger::summary::INGOT_MATERIAL;

/// What a report covers: days `from` to `to`, both included, and optional filters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// First day (default: the first of this month).
    pub from: Option<NaiveDate>,
    /// Last day (default: today).
    pub to: Option<NaiveDate>,
    /// Only equipment from this partner.
    pub partner_id: Option<Uuid>,
    /// Only this collection (`CO-…`).
    pub collection: Option<String>,
    /// Only this equipment kind (`desktop_pc`).
    pub kind: Option<String>,
    /// Only work done at this station (`ST-…`).
    pub station: Option<String>,
    /// Only work done by this apprentice.
    pub apprentice_id: Option<Uuid>,
}

/// The period and filters resolved to ids.
#[derive(Debug, Clone)]
pub struct Scope {
    pub from: NaiveDate,
    pub to: NaiveDate,
    partner_id: Option<Uuid>,
    collection_id: Option<Uuid>,
    kind_id: Option<Uuid>,
    station_id: Option<Uuid>,
    apprentice_id: Option<Uuid>,
}

impl Scope {
    fn start(&self) -> DateTime<Utc> {
        self.from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
    }

    /// The first instant after the period.
    fn end(&self) -> DateTime<Utc> {
        (self.to + Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc()
    }

    /// Whether the equipment is narrowed to a partner or a collection: figures then come
    /// from the detail that names the collection, not from the totals.
    fn narrowed(&self) -> bool {
        self.partner_id.is_some() || self.collection_id.is_some()
    }

    /// Whether work done at this station by this person passes the work filters.
    fn work_passes(&self, station: Option<Uuid>, actor: Option<Uuid>) -> bool {
        self.station_id.is_none_or(|s| station == Some(s))
            && self.apprentice_id.is_none_or(|a| actor == Some(a))
    }
}

pub async fn resolve(conn: &impl ConnectionTrait, query: &ReportQuery) -> AppResult<Scope> {
    let today = Utc::now().date_naive();
    let from = query.from.unwrap_or_else(|| first_of_month(today));
    let to = query.to.unwrap_or(today);
    if to < from {
        return Err(AppError::invalid("to", "must not be before `from`"));
    }
    if (to - from).num_days() > 3_660 {
        return Err(AppError::invalid(
            "from",
            "a report covers at most ten years",
        ));
    }
    let collection_id = match &query.collection {
        Some(code) => Some(
            crate::services::collections::find(conn, code)
                .await
                .map_err(|e| AppError::invalid("collection", e.to_string()))?
                .id,
        ),
        None => None,
    };
    let kind_id = match &query.kind {
        Some(code) => Some(
            crate::services::catalogue::kind(conn, code)
                .await
                .map_err(|_| AppError::invalid("kind", format!("unknown equipment kind “{code}”")))?
                .id,
        ),
        None => None,
    };
    let station_id = match &query.station {
        Some(code) => Some(
            crate::services::stations::find(conn, code)
                .await
                .map_err(|e| AppError::invalid("station", e.to_string()))?
                .id,
        ),
        None => None,
    };
    Ok(Scope {
        from,
        to,
        partner_id: query.partner_id,
        collection_id,
        kind_id,
        station_id,
        apprentice_id: query.apprentice_id,
    })
}

/// The first day of the month holding `day`.
pub fn first_of_month(day: NaiveDate) -> NaiveDate {
    chrono::Datelike::with_day(&day, 1).unwrap_or(day)
}

/// The first day of the month before the one holding `day`.
fn month_before(day: NaiveDate) -> NaiveDate {
    first_of_month(first_of_month(day) - Duration::days(1))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IntakeLine {
    pub kind: String,
    pub kind_name: String,
    pub weee_category: i64,
    /// Pieces (a bulk item of 40 keyboards counts 40).
    pub items: i64,
    pub mass_g: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FateLine {
    /// `reused`, `dismantled`, `shipped_whole` or `in_process`.
    pub fate: String,
    pub items: i64,
    pub mass_g: i64,
    /// Share of the intake's mass, in basis points (10,000 = 100 %).
    pub share_bp: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecoveryLine {
    pub family: String,
    pub material: String,
    pub material_name: String,
    pub mass_g: i64,
    /// Share of the dismantled input, in basis points.
    pub share_bp: i64,
    /// What the equipment kinds' typical split predicts for the same input, in grams.
    pub typical_g: i64,
}

/// Documented as `MeltYield`: `services::melts::MeltLine` is another schema.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = MeltYield)]
pub struct MeltLine {
    pub melt: String,
    pub state: String,
    /// The day it was poured out, once finished.
    pub finished_on: Option<NaiveDate>,
    pub charged_g: i64,
    pub ingot_g: i64,
    /// Ingot out of copper charged, in basis points; none before the pour.
    pub yield_bp: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CopperChain {
    /// Copper-bearing fractions dismantled into lots in the period.
    pub recovered_g: i64,
    /// Copper lots opened in the period.
    pub lots_opened: i64,
    /// Charged into melts in the period.
    pub charged_g: i64,
    /// Poured into ingots in the period.
    pub ingot_g: i64,
    /// Ingot out of what the period's poured melts were charged with, in basis points.
    pub melt_yield_bp: Option<i64>,
    /// Ingot kilograms per tonne of equipment received in the period, in grams per tonne.
    pub ingot_g_per_tonne: Option<i64>,
    pub melts: Vec<MeltLine>,
    /// Whose equipment the copper came from: recovered by dismantling, and ingot poured in
    /// the period attributed by mass balance.
    pub by_partner: Vec<PartnerCopper>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartnerCopper {
    pub partner_id: Uuid,
    pub partner: String,
    pub recovered_g: i64,
    pub ingot_g: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LossLine {
    /// A station kind or an apprentice's name.
    pub who: String,
    /// For an apprentice's line: at which kind of station (an apprentice has one line per
    /// kind, so "who needs practice at dismantling" reads straight off).
    pub station_kind: Option<String>,
    /// The weighed steps' input.
    pub input_g: i64,
    /// Process loss booked.
    pub loss_g: i64,
    /// Weighing variance booked (positive: outputs weighed less than input).
    pub variance_g: i64,
    /// (loss + variance) of input, in basis points.
    pub rate_bp: i64,
    /// Steps outside tolerance that a supervisor let through.
    pub overrides: i64,
}

impl LossLine {
    fn new(who: String, station_kind: Option<String>) -> LossLine {
        LossLine {
            who,
            station_kind,
            input_g: 0,
            loss_g: 0,
            variance_g: 0,
            rate_bp: 0,
            overrides: 0,
        }
    }

    fn add(&mut self, input: i64, loss: i64, variance: i64) {
        self.input_g += input;
        self.loss_g += loss;
        self.variance_g += variance;
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Outlier {
    pub at: DateTime<Utc>,
    pub kind: String,
    pub station_kind: String,
    pub who: String,
    pub reason: String,
    pub loss_and_variance_g: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockLine {
    pub material: String,
    pub material_name: String,
    pub station: String,
    pub lots: i64,
    pub mass_g: i64,
    /// The oldest of these lots, in days since it was opened.
    pub oldest_days: i64,
    /// Closed and full: ready to ship or to melt.
    pub ready_lots: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ThroughputLine {
    pub day: NaiveDate,
    pub station_kind: String,
    /// Distinct items worked on.
    pub items: i64,
    pub tasks: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApprenticeLine {
    pub apprentice_id: Uuid,
    pub apprentice: String,
    pub tasks: i64,
    /// Worked time of finished tasks, in seconds.
    pub worked_s: i64,
    pub items: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct YieldReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub intake: Vec<IntakeLine>,
    pub intake_g: i64,
    pub fate: Vec<FateLine>,
    pub recovery: Vec<RecoveryLine>,
    /// Mass that left items in dismantlings in the period.
    pub dismantled_g: i64,
    pub recovered_g: i64,
    pub copper: CopperChain,
    pub losses_by_station_kind: Vec<LossLine>,
    pub losses_by_apprentice: Vec<LossLine>,
    pub outliers: Vec<Outlier>,
    pub stock: Vec<StockLine>,
    pub throughput: Vec<ThroughputLine>,
    pub apprentices: Vec<ApprenticeLine>,
    /// Where the period's intake went: equipment kind → fate → material family.
    pub mass_balance: MassBalance,
}

/// A mass balance as columns of node names and flows in grams between adjacent columns;
/// every middle node gives out what it receives.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MassBalance {
    pub columns: Vec<Vec<String>>,
    pub flows: Vec<BalanceFlow>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BalanceFlow {
    pub from: String,
    pub to: String,
    pub grams: i64,
}

fn share_bp(part: i64, whole: i64) -> i64 {
    if whole == 0 {
        0
    } else {
        ((i128::from(part) * 10_000 + i128::from(whole) / 2) / i128::from(whole)) as i64
    }
}

/// One movement of an operation in the period, with both ends: read only for the few
/// operations the daily flows do not describe alone (pours by collection, steps with a reason).
#[derive(Debug, Clone, FromQueryResult)]
struct MoveRow {
    operation_id: Uuid,
    op_kind: String,
    at: DateTime<Utc>,
    actor_id: Option<Uuid>,
    station_id: Option<Uuid>,
    reason: Option<String>,
    mass_g: i64,
    /// Grams by collection id.
    parts: serde_json::Value,
    from_kind: String,
    from_account: Option<String>,
    to_account: Option<String>,
    to_material: Option<Uuid>,
}

/// The movements of the period's operations that meet `only` (a condition on `operations`).
async fn movements_in(
    conn: &impl ConnectionTrait,
    scope: &Scope,
    only: sea_orm::sea_query::SimpleExpr,
) -> AppResult<Vec<MoveRow>> {
    let from = Alias::new("hf");
    let to = Alias::new("ht");
    let mut query = Query::select();
    query
        .expr_as(
            Expr::col((operation::Entity, operation::Column::Id)),
            Alias::new("operation_id"),
        )
        .expr_as(
            Expr::col((operation::Entity, operation::Column::Kind)),
            Alias::new("op_kind"),
        )
        .columns([
            (operation::Entity, operation::Column::At),
            (operation::Entity, operation::Column::ActorId),
            (operation::Entity, operation::Column::StationId),
            (operation::Entity, operation::Column::Reason),
        ])
        .column((movement::Entity, movement::Column::MassG))
        .column((movement::Entity, movement::Column::Parts))
        .expr_as(
            Expr::col((from.clone(), holder::Column::Kind)),
            Alias::new("from_kind"),
        )
        .expr_as(
            Expr::col((from.clone(), holder::Column::Account)),
            Alias::new("from_account"),
        )
        .expr_as(
            Expr::col((to.clone(), holder::Column::Account)),
            Alias::new("to_account"),
        )
        .expr_as(
            Expr::col((to.clone(), holder::Column::MaterialId)),
            Alias::new("to_material"),
        )
        .from(operation::Entity)
        .inner_join(
            movement::Entity,
            Expr::col((operation::Entity, operation::Column::Id))
                .equals((movement::Entity, movement::Column::OperationId)),
        )
        .join_as(
            sea_orm::sea_query::JoinType::InnerJoin,
            holder::Entity,
            from.clone(),
            Expr::col((from.clone(), holder::Column::Id))
                .equals((movement::Entity, movement::Column::FromHolderId)),
        )
        .join_as(
            sea_orm::sea_query::JoinType::InnerJoin,
            holder::Entity,
            to.clone(),
            Expr::col((to.clone(), holder::Column::Id))
                .equals((movement::Entity, movement::Column::ToHolderId)),
        )
        // The operations by a subquery of their own, so PostgreSQL's planner too finds them
        // through their index before it joins their movements.
        .and_where(
            Expr::col((operation::Entity, operation::Column::Id)).in_subquery(
                Query::select()
                    .column((operation::Entity, operation::Column::Id))
                    .from(operation::Entity)
                    .and_where(only)
                    .and_where(
                        Expr::col((operation::Entity, operation::Column::At)).gte(scope.start()),
                    )
                    .and_where(
                        Expr::col((operation::Entity, operation::Column::At)).lt(scope.end()),
                    )
                    .to_owned(),
            ),
        );
    let statement = conn.get_database_backend().build(&query);
    Ok(MoveRow::find_by_statement(statement).all(conn).await?)
}

fn is_account(account: &Option<String>, wanted: Account) -> bool {
    account
        .as_deref()
        .and_then(|a| a.parse::<Account>().ok())
        .is_some_and(|a| a == wanted)
}

/// A weighed step's input, process loss and weighing variance, by the accounts it touches.
fn weighing(
    from_account: &Option<String>,
    to_account: &Option<String>,
    mass_g: i64,
) -> (i64, i64, i64) {
    if is_account(to_account, Account::ProcessLoss) {
        (mass_g, mass_g, 0)
    } else if is_account(to_account, Account::WeighingVariance) {
        (mass_g, 0, mass_g)
    } else if is_account(from_account, Account::WeighingVariance) {
        (0, 0, -mass_g)
    } else {
        (mass_g, 0, 0)
    }
}

/// Operation kinds whose outputs are weighed against their input.
const WEIGHED: [&str; 4] = ["dismantle", "transfer", "reweigh", "pour"];

/// "desktop_pc" → [("FE-STEEL", 70), …] from the kinds' `typical_fractions`.
fn typical_split(text: &str) -> Vec<(String, i64)> {
    text.split(';')
        .filter_map(|part| part.split_once(':'))
        .filter_map(|(code, pct)| Some((code.trim().to_string(), pct.trim().parse().ok()?)))
        .collect()
}

/// The items received in the period that pass the equipment filters, counted by kind,
/// WEEE category and state (from the `items_intake` index alone).
#[derive(Debug, Clone, FromQueryResult)]
struct IntakeRow {
    kind_id: Uuid,
    weee_category: i16,
    state: String,
    items: i64,
    mass_g: i64,
}

async fn intake_in(conn: &impl ConnectionTrait, scope: &Scope) -> AppResult<Vec<IntakeRow>> {
    if !scope.narrowed() {
        return intake_days(conn, scope).await;
    }
    let mut query = Query::select();
    query
        .columns([
            (item::Entity, item::Column::KindId),
            (item::Entity, item::Column::WeeeCategory),
            (item::Entity, item::Column::State),
        ])
        .expr_as(sum_i64("items.quantity"), Alias::new("items"))
        .expr_as(sum_i64("items.gross_mass_g"), Alias::new("mass_g"))
        .from(item::Entity)
        .and_where(
            Expr::col((item::Entity, item::Column::CollectionId))
                .in_subquery(collections_kept(scope, Some((scope.from, scope.to)))),
        )
        .group_by_columns([
            (item::Entity, item::Column::KindId),
            (item::Entity, item::Column::WeeeCategory),
            (item::Entity, item::Column::State),
        ]);
    if let Some(kind) = scope.kind_id {
        query.and_where(Expr::col((item::Entity, item::Column::KindId)).eq(kind));
    }
    let statement = conn.get_database_backend().build(&query);
    Ok(IntakeRow::find_by_statement(statement).all(conn).await?)
}

/// The same from `intake_days` (kept by triggers on items and collections, migration 8): a
/// few hundred rows a month instead of every item received.
async fn intake_days(conn: &impl ConnectionTrait, scope: &Scope) -> AppResult<Vec<IntakeRow>> {
    let days = Alias::new("intake_days");
    let col = |name: &str| Expr::col((days.clone(), Alias::new(name)));
    let mut query = Query::select();
    query
        .columns(["kind_id", "weee_category", "state"].map(|name| (days.clone(), Alias::new(name))))
        .expr_as(sum_i64("intake_days.items"), Alias::new("items"))
        .expr_as(sum_i64("intake_days.mass_g"), Alias::new("mass_g"))
        .from(days.clone())
        .and_where(col("received_on").gte(scope.from))
        .and_where(col("received_on").lte(scope.to))
        .and_where(col("items").ne(0))
        .group_by_columns(
            ["kind_id", "weee_category", "state"].map(|name| (days.clone(), Alias::new(name))),
        );
    if let Some(kind) = scope.kind_id {
        query.and_where(col("kind_id").eq(kind));
    }
    let statement = conn.get_database_backend().build(&query);
    Ok(IntakeRow::find_by_statement(statement).all(conn).await?)
}

/// These collections' partners.
async fn partners_of(
    conn: &impl ConnectionTrait,
    collections: HashSet<Uuid>,
) -> AppResult<HashMap<Uuid, Uuid>> {
    if collections.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(collection::Entity::find()
        .select_only()
        .columns([collection::Column::Id, collection::Column::PartnerId])
        .filter(collection::Column::Id.is_in(collections))
        .into_tuple::<(Uuid, Uuid)>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

/// The collections the equipment filters keep (partner, collection), received in `days`
/// when given; the kind filter applies to the flows themselves.
fn collections_kept(
    scope: &Scope,
    days: Option<(NaiveDate, NaiveDate)>,
) -> sea_orm::sea_query::SelectStatement {
    let mut query = Query::select();
    query
        .column((collection::Entity, collection::Column::Id))
        .from(collection::Entity);
    if let Some((from, to)) = days {
        query
            .and_where(Expr::col((collection::Entity, collection::Column::ReceivedOn)).gte(from))
            .and_where(Expr::col((collection::Entity, collection::Column::ReceivedOn)).lte(to));
    }
    if let Some(partner) = scope.partner_id {
        query.and_where(Expr::col((collection::Entity, collection::Column::PartnerId)).eq(partner));
    }
    if let Some(id) = scope.collection_id {
        query.and_where(Expr::col((collection::Entity, collection::Column::Id)).eq(id));
    }
    query
}

/// Copper dismantled into lots in the period, by the partner whose equipment it came from.
async fn copper_recovered_by_partner(
    conn: &impl ConnectionTrait,
    scope: &Scope,
    copper: Vec<Uuid>,
) -> AppResult<Vec<(Uuid, i64)>> {
    if copper.is_empty() {
        return Ok(Vec::new());
    }
    let flows = Alias::new("flow_days");
    let col = |name: &str| Expr::col((flows.clone(), Alias::new(name)));
    let mut query = Query::select();
    query
        .expr_as(
            Expr::col((collection::Entity, collection::Column::PartnerId)),
            Alias::new("id"),
        )
        .expr_as(sum_i64("flow_days.mass_g"), Alias::new("mass_g"))
        .from(flows.clone())
        .inner_join(
            collection::Entity,
            Expr::col((collection::Entity, collection::Column::Id))
                .equals((flows.clone(), Alias::new("collection_id"))),
        )
        .and_where(col("to_material_id").is_in(copper))
        .and_where(col("day").gte(scope.from))
        .and_where(col("day").lte(scope.to))
        .and_where(col("op_kind").eq("dismantle"))
        .and_where(col("from_kind").eq("item"))
        .and_where(col("to_kind").eq("lot"))
        .group_by_col((collection::Entity, collection::Column::PartnerId));
    if scope.narrowed() {
        query.and_where(
            Expr::col((collection::Entity, collection::Column::Id))
                .in_subquery(collections_kept(scope, None)),
        );
    }
    if let Some(station) = scope.station_id {
        query.and_where(col("station_id").eq(station));
    }
    if let Some(apprentice) = scope.apprentice_id {
        query.and_where(col("actor_id").eq(apprentice));
    }
    if let Some(kind) = scope.kind_id {
        query.and_where(col("item_kind_id").eq(kind));
    }
    masses_by_id(conn, &query).await
}

/// The `(id, mass_g)` rows of a grouped query, collected as pairs.
async fn masses_by_id<C: FromIterator<(Uuid, i64)>>(
    conn: &impl ConnectionTrait,
    query: &sea_orm::sea_query::SelectStatement,
) -> AppResult<C> {
    #[derive(FromQueryResult)]
    struct Line {
        id: Uuid,
        mass_g: i64,
    }
    let statement = conn.get_database_backend().build(query);
    Ok(Line::find_by_statement(statement)
        .all(conn)
        .await?
        .into_iter()
        .map(|l| (l.id, l.mass_g))
        .collect())
}

/// The names the report looks up: equipment kinds, materials, stations, people, partners.
struct Catalogue {
    kinds: HashMap<Uuid, equipment_kind::Model>,
    materials: HashMap<Uuid, material::Model>,
    stations: HashMap<Uuid, station::Model>,
    people: HashMap<Uuid, String>,
    partners: HashMap<Uuid, String>,
}

impl Catalogue {
    /// Reads the five tables at once, each over a connection of its own.
    async fn read(conn: &impl ConnectionTrait) -> AppResult<Self> {
        let (kinds, materials, stations, people, partners) = tokio::try_join!(
            equipment_kind::Entity::find().all(conn),
            material::Entity::find().all(conn),
            station::Entity::find().all(conn),
            user::Entity::find().all(conn),
            crate::entities::partner::Entity::find().all(conn),
        )?;
        Ok(Self {
            kinds: kinds.into_iter().map(|k| (k.id, k)).collect(),
            materials: materials.into_iter().map(|m| (m.id, m)).collect(),
            stations: stations.into_iter().map(|s| (s.id, s)).collect(),
            people: people.into_iter().map(|u| (u.id, u.display_name)).collect(),
            partners: partners.into_iter().map(|p| (p.id, p.name)).collect(),
        })
    }
}

/// The yield report of a scope. Its reads do not depend on each other, so they run at once,
/// each over a connection of its own from the pool (one after another inside a transaction):
/// on PostgreSQL the slowest of them, not their sum, sets how long the report takes.
pub async fn yields(
    conn: &impl ConnectionTrait,
    scope: &Scope,
    lang: crate::i18n::Lang,
) -> AppResult<YieldReport> {
    let Catalogue {
        kinds,
        materials,
        stations,
        people,
        partners: partner_names,
    } = Catalogue::read(conn).await?;
    let material_name = |m: &material::Model| lang.name(&m.name_en, &m.name_fr).to_string();
    let kind_name = |k: &equipment_kind::Model| lang.name(&k.name_en, &k.name_fr).to_string();
    let ingot_material: HashSet<Uuid> = materials
        .values()
        .filter(|m| m.code == INGOT_MATERIAL)
        .map(|m| m.id)
        .collect();
    let copper_materials: Vec<Uuid> = materials
        .values()
        .filter(|m| m.family == "copper")
        .map(|m| m.id)
        .collect();
    let copper_lot_materials: Vec<Uuid> = materials
        .values()
        .filter(|m| m.family == "copper" && m.code != INGOT_MATERIAL)
        .map(|m| m.id)
        .collect();

    // The period's movements, summed over its days by what the report tells apart.
    let days = Some((scope.from, scope.to));
    let totals = daily::read(
        conn,
        Table::Totals,
        daily::Period {
            days,
            over_days: true,
            ..Default::default()
        },
    );
    // Dismantlings narrowed to a partner or a collection come from the detail, which names
    // the collection; otherwise from the totals.
    let narrowed_dismantlings = async {
        if !scope.narrowed() {
            return Ok(None);
        }
        let detail = daily::read(
            conn,
            Table::Detail,
            daily::Period {
                days,
                collections: Some(collections_kept(scope, None)),
                item_kind: scope.kind_id,
                op_kind: Some("dismantle"),
                over_days: true,
            },
        );
        detail.await.map(Some)
    };
    let copper_lots = async {
        Ok::<_, AppError>(
            lot::Entity::find()
                .filter(lot::Column::OpenedAt.gte(scope.start()))
                .filter(lot::Column::OpenedAt.lt(scope.end()))
                .filter(lot::Column::MaterialId.is_in(copper_lot_materials))
                .count(conn)
                .await? as i64,
        )
    };
    let (
        received,
        flows,
        narrowed_dismantlings,
        partner_copper,
        pours,
        reasoned,
        melts,
        copper_lots,
        stock,
        tasks,
        mass_balance,
    ) = tokio::try_join!(
        intake_in(conn, scope),
        totals,
        narrowed_dismantlings,
        copper_recovered_by_partner(conn, scope, copper_materials),
        // Ingot by whose equipment it came from: the pour movements' parts, by collection.
        movements_in(
            conn,
            scope,
            Expr::col((operation::Entity, operation::Column::Kind)).eq("pour"),
        ),
        // Steps a supervisor let through with a reason: read movement by movement.
        movements_in(
            conn,
            scope,
            Expr::col((operation::Entity, operation::Column::Reason)).is_not_null(),
        ),
        melt_lines(conn, scope, &ingot_material),
        copper_lots,
        stock(conn, &materials, &stations, lang),
        tasks_in(conn, scope),
        mass_balance(conn, scope, &kinds, &materials, lang),
    )?;

    // Intake and its fate: the items received in the period.
    let mut intake: BTreeMap<(String, i64), (String, i64, i64)> = BTreeMap::new();
    let mut fates: BTreeMap<&'static str, (i64, i64)> = BTreeMap::new();
    for found in &received {
        let kind = kinds.get(&found.kind_id);
        let entry = intake
            .entry((
                kind.map(|k| k.code.clone()).unwrap_or_default(),
                i64::from(found.weee_category),
            ))
            .or_insert_with(|| (kind.map(&kind_name).unwrap_or_default(), 0, 0));
        entry.1 += found.items;
        entry.2 += found.mass_g;
        let fate = match found.state.as_str() {
            "reused" => "reused",
            "dismantled" => "dismantled",
            "shipped_whole" => "shipped_whole",
            _ => "in_process",
        };
        let bucket = fates.entry(fate).or_default();
        bucket.0 += found.items;
        bucket.1 += found.mass_g;
    }
    let intake_g: i64 = received.iter().map(|i| i.mass_g).sum();
    let intake: Vec<IntakeLine> = intake
        .into_iter()
        .map(
            |((kind, weee_category), (kind_name, items, mass_g))| IntakeLine {
                kind,
                kind_name,
                weee_category,
                items,
                mass_g,
            },
        )
        .collect();
    let fate = ["reused", "dismantled", "shipped_whole", "in_process"]
        .into_iter()
        .map(|name| {
            let (items, mass_g) = fates.get(name).copied().unwrap_or_default();
            FateLine {
                fate: name.to_string(),
                items,
                mass_g,
                share_bp: share_bp(mass_g, intake_g),
            }
        })
        .collect();

    let dismantled = narrowed_dismantlings.as_ref().unwrap_or(&flows);

    // Recovery: dismantlings of items that pass the equipment filters, by work filters.
    let dismantle_passes = |f: &FlowKey| {
        f.op_kind == "dismantle"
            && f.from_kind == "item"
            && scope.work_passes(f.station_id, f.actor_id)
            && f.item_kind_id.is_some()
            && scope.kind_id.is_none_or(|k| f.item_kind_id == Some(k))
    };
    let mut dismantled_g = 0;
    let mut by_material: BTreeMap<Uuid, i64> = BTreeMap::new();
    let mut input_by_kind: HashMap<Uuid, i64> = HashMap::new();
    let mut copper_recovered = 0;
    let mut copper_by_partner: BTreeMap<Uuid, (i64, i64)> = BTreeMap::new();
    for flow in dismantled.iter().filter(|f| dismantle_passes(&f.key)) {
        let (f, mass_g) = (&flow.key, flow.sum.mass_g);
        dismantled_g += mass_g;
        if let Some(kind) = f.item_kind_id {
            *input_by_kind.entry(kind).or_default() += mass_g;
        }
        if f.to_kind == "lot"
            && let Some(material_id) = f.to_material_id
        {
            *by_material.entry(material_id).or_default() += mass_g;
            if materials
                .get(&material_id)
                .is_some_and(|mat| mat.family == "copper")
            {
                copper_recovered += mass_g;
            }
        }
    }
    let mut typical: HashMap<String, i64> = HashMap::new();
    for (kind_id, input) in &input_by_kind {
        if let Some(kind) = kinds.get(kind_id) {
            for (code, pct) in typical_split(&kind.typical_fractions) {
                *typical.entry(code).or_default() += input * pct / 100;
            }
        }
    }
    let mut recovery: Vec<RecoveryLine> = by_material
        .iter()
        .filter_map(|(id, grams)| {
            let found = materials.get(id)?;
            Some(RecoveryLine {
                family: found.family.clone(),
                material: found.code.clone(),
                material_name: material_name(found),
                mass_g: *grams,
                share_bp: share_bp(*grams, dismantled_g),
                typical_g: typical.get(&found.code).copied().unwrap_or(0),
            })
        })
        .collect();
    recovery.sort_by(|a, b| a.family.cmp(&b.family).then(b.mass_g.cmp(&a.mass_g)));
    let recovered_g = recovery.iter().map(|r| r.mass_g).sum();

    // The copper chain.
    let is_ingot = |material: Option<Uuid>| material.is_some_and(|id| ingot_material.contains(&id));
    let mut charged_g = 0;
    let mut ingot_g = 0;
    for flow in &flows {
        let f = &flow.key;
        if f.op_kind == "charge"
            && f.to_kind == "melt"
            && scope.work_passes(f.station_id, f.actor_id)
        {
            charged_g += flow.sum.mass_g;
        }
        if f.op_kind == "pour"
            && f.from_kind == "melt"
            && is_ingot(f.to_material_id)
            && scope.work_passes(f.station_id, f.actor_id)
        {
            ingot_g += flow.sum.mass_g;
        }
    }
    for (partner, grams) in partner_copper {
        copper_by_partner.entry(partner).or_default().0 += grams;
    }
    let poured: Vec<_> = pours
        .iter()
        .filter(|m| {
            m.from_kind == "melt"
                && is_ingot(m.to_material)
                && scope.work_passes(m.station_id, m.actor_id)
        })
        .map(|m| crate::services::ledger::parts_of_json(&m.parts))
        .collect();
    let partner_of = partners_of(
        conn,
        poured
            .iter()
            .flat_map(|parts| parts.keys().copied())
            .collect(),
    )
    .await?;
    for parts in poured {
        for (collection_id, grams) in parts {
            if let Some(partner) = partner_of.get(&collection_id)
                && scope.partner_id.is_none_or(|p| p == *partner)
                && scope.collection_id.is_none_or(|c| c == collection_id)
            {
                copper_by_partner.entry(*partner).or_default().1 += grams;
            }
        }
    }
    let mut by_partner: Vec<PartnerCopper> = copper_by_partner
        .into_iter()
        .map(|(partner_id, (recovered_g, ingot_g))| PartnerCopper {
            partner: partner_names.get(&partner_id).cloned().unwrap_or_default(),
            partner_id,
            recovered_g,
            ingot_g,
        })
        .collect();
    by_partner.sort_by(|a, b| {
        b.recovered_g
            .cmp(&a.recovered_g)
            .then(a.partner.cmp(&b.partner))
    });
    let poured_charge: i64 = melts
        .iter()
        .filter(|line| line.yield_bp.is_some())
        .map(|line| line.charged_g)
        .sum();
    let poured_ingot: i64 = melts
        .iter()
        .filter(|line| line.yield_bp.is_some())
        .map(|line| line.ingot_g)
        .sum();
    let copper = CopperChain {
        recovered_g: copper_recovered,
        lots_opened: copper_lots,
        charged_g,
        ingot_g,
        melt_yield_bp: (poured_charge > 0).then(|| share_bp(poured_ingot, poured_charge)),
        ingot_g_per_tonne: (intake_g > 0)
            .then(|| (i128::from(ingot_g) * 1_000_000 / i128::from(intake_g)) as i64),
        melts,
        by_partner,
    };

    // Losses and weighing variance, by station kind and by apprentice.
    let station_kind_of = |station: Option<Uuid>| {
        station
            .and_then(|id| stations.get(&id))
            .map_or_else(|| "office".to_string(), |s| s.kind.clone())
    };
    let person_of = |actor: Option<Uuid>| {
        actor
            .and_then(|id| people.get(&id))
            .cloned()
            .unwrap_or_default()
    };
    let mut by_kind: BTreeMap<String, LossLine> = BTreeMap::new();
    let mut by_person: BTreeMap<(String, String), LossLine> = BTreeMap::new();
    for flow in flows.iter().filter(|f| {
        WEIGHED.contains(&f.key.op_kind.as_str())
            && scope.work_passes(f.key.station_id, f.key.actor_id)
    }) {
        let f = &flow.key;
        let station_kind = station_kind_of(f.station_id);
        let person = person_of(f.actor_id);
        let (input, loss, variance) = weighing(&f.from_account, &f.to_account, flow.sum.mass_g);
        by_kind
            .entry(station_kind.clone())
            .or_insert_with(|| LossLine::new(station_kind.clone(), None))
            .add(input, loss, variance);
        by_person
            .entry((person.clone(), station_kind.clone()))
            .or_insert_with(|| LossLine::new(person, Some(station_kind)))
            .add(input, loss, variance);
    }
    let mut per_operation: BTreeMap<Uuid, (i64, &MoveRow)> = BTreeMap::new();
    for m in reasoned.iter().filter(|m| {
        WEIGHED.contains(&m.op_kind.as_str()) && scope.work_passes(m.station_id, m.actor_id)
    }) {
        let (_, loss, variance) = weighing(&m.from_account, &m.to_account, m.mass_g);
        per_operation.entry(m.operation_id).or_insert((0, m)).0 += loss + variance;
    }
    let mut outliers = Vec::new();
    for (lost, m) in per_operation.values() {
        let Some(reason) = &m.reason else { continue };
        let station_kind = station_kind_of(m.station_id);
        let person = person_of(m.actor_id);
        if let Some(line) = by_kind.get_mut(&station_kind) {
            line.overrides += 1;
        }
        if let Some(line) = by_person.get_mut(&(person.clone(), station_kind.clone())) {
            line.overrides += 1;
        }
        outliers.push(Outlier {
            at: m.at,
            kind: m.op_kind.clone(),
            station_kind,
            who: person,
            reason: reason.clone(),
            loss_and_variance_g: *lost,
        });
    }
    outliers.sort_by_key(|o| o.at);
    fn finish<K>(table: BTreeMap<K, LossLine>) -> Vec<LossLine> {
        table
            .into_values()
            .map(|mut line| {
                line.rate_bp = share_bp(line.loss_g + line.variance_g, line.input_g);
                line
            })
            .collect()
    }

    Ok(YieldReport {
        from: scope.from,
        to: scope.to,
        intake,
        intake_g,
        fate,
        recovery,
        dismantled_g,
        recovered_g,
        copper,
        losses_by_station_kind: finish(by_kind),
        losses_by_apprentice: finish(by_person),
        outliers,
        stock,
        throughput: throughput(&tasks, &stations),
        apprentices: apprentices(&tasks, &people),
        mass_balance,
    })
}

/// Where the items received in the period went, from the ledger: each kind's mass reused,
/// shipped whole, dismantled or still in the items; what dismantling gave, by material
/// family, and lost.
async fn mass_balance(
    conn: &impl ConnectionTrait,
    scope: &Scope,
    kinds: &HashMap<Uuid, equipment_kind::Model>,
    materials: &HashMap<Uuid, material::Model>,
    lang: crate::i18n::Lang,
) -> AppResult<MassBalance> {
    let kind_label = |id: &Uuid| {
        kinds.get(id).map_or_else(String::new, |k| {
            lang.name(&k.name_en, &k.name_fr).to_string()
        })
    };
    let fate_label = |fate: &str| lang.t(&format!("reports.fate.{fate}")).to_string();
    let losses = lang.t("reports.loss").to_string();
    let mut flows: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut kind_names: Vec<String> = Vec::new();
    let mut families: Vec<String> = Vec::new();
    let received = Some((scope.from, scope.to));
    // Narrowed to a partner or a collection: the detail of the collections received; else
    // what left items by the day they were received.
    let out_of_received = if scope.narrowed() {
        daily::read(
            conn,
            Table::Detail,
            daily::Period {
                collections: Some(collections_kept(scope, received)),
                item_kind: scope.kind_id,
                over_days: true,
                ..Default::default()
            },
        )
        .await?
    } else {
        daily::read(
            conn,
            Table::Intake,
            daily::Period {
                days: received,
                item_kind: scope.kind_id,
                over_days: true,
                ..Default::default()
            },
        )
        .await?
    };
    for out in out_of_received {
        let Some(kind_id) = out.key.item_kind_id else {
            continue;
        };
        if out.key.from_kind != "item" {
            continue;
        }
        let kind = kind_label(&kind_id);
        let fate = match out.key.op_kind.as_str() {
            "reuse" => "reused",
            "ship" => "shipped_whole",
            "dismantle" => "dismantled",
            // Corrections and the like: still counted where the item is now.
            _ => continue,
        };
        *flows.entry((kind.clone(), fate_label(fate))).or_default() += out.sum.mass_g;
        if !kind_names.contains(&kind) {
            kind_names.push(kind);
        }
        if fate == "dismantled" {
            let family = match (
                out.key.to_kind.as_str(),
                out.key.to_material_id.and_then(|m| materials.get(&m)),
            ) {
                ("lot", Some(found)) => lang.t(&format!("family.{}", found.family)).to_string(),
                _ => losses.clone(),
            };
            *flows.entry((fate_label(fate), family.clone())).or_default() += out.sum.mass_g;
            if !families.contains(&family) {
                families.push(family);
            }
        }
    }
    // What the received items still hold (the `holders_kind_balance` index).
    let mut query = Query::select();
    query
        .column((item::Entity, item::Column::KindId))
        .column((holder::Entity, holder::Column::BalanceG))
        .from(holder::Entity)
        .inner_join(
            item::Entity,
            Expr::col((item::Entity, item::Column::Id))
                .equals((holder::Entity, holder::Column::Id)),
        )
        .and_where(Expr::col((holder::Entity, holder::Column::Kind)).eq("item"))
        .and_where(Expr::col((holder::Entity, holder::Column::BalanceG)).gt(0))
        .and_where(
            Expr::col((item::Entity, item::Column::CollectionId))
                .in_subquery(collections_kept(scope, received)),
        );
    if let Some(kind) = scope.kind_id {
        query.and_where(Expr::col((item::Entity, item::Column::KindId)).eq(kind));
    }
    #[derive(FromQueryResult)]
    struct Holding {
        kind_id: Uuid,
        balance_g: i64,
    }
    let statement = conn.get_database_backend().build(&query);
    for Holding { kind_id, balance_g } in Holding::find_by_statement(statement).all(conn).await? {
        let kind = kind_label(&kind_id);
        *flows
            .entry((kind.clone(), fate_label("in_process")))
            .or_default() += balance_g;
        if !kind_names.contains(&kind) {
            kind_names.push(kind);
        }
    }
    kind_names.sort();
    families.sort();
    Ok(MassBalance {
        columns: vec![
            kind_names,
            ["reused", "dismantled", "shipped_whole", "in_process"]
                .iter()
                .map(|f| fate_label(f))
                .collect(),
            families,
        ],
        flows: flows
            .into_iter()
            .map(|((from, to), grams)| BalanceFlow { from, to, grams })
            .collect(),
    })
}

impl MassBalance {
    /// The checked diagram (what enters every middle node leaves it).
    pub fn sankey(
        &self,
    ) -> Result<crate::render::sankey::Sankey, crate::render::sankey::SankeyError> {
        crate::render::sankey::Sankey::new(
            &self.columns,
            self.flows
                .iter()
                .map(|f| crate::render::sankey::Flow {
                    from: f.from.clone(),
                    to: f.to.clone(),
                    grams: f.grams,
                })
                .collect(),
        )
    }
}

/// Melts with a charge or a pour in the period: what went in (all time) and what came out.
async fn melt_lines(
    conn: &impl ConnectionTrait,
    scope: &Scope,
    ingot_material: &HashSet<Uuid>,
) -> AppResult<Vec<MeltLine>> {
    use crate::entities::melt;
    // Melts started in the period, or finished in it after starting before.
    let mut found = melt::Entity::find()
        .filter(melt::Column::StartedAt.lt(scope.end()))
        .filter(
            melt::Column::StartedAt
                .gte(scope.start())
                .or(melt::Column::FinishedAt
                    .gte(scope.start())
                    .and(melt::Column::FinishedAt.lt(scope.end()))),
        )
        .order_by_asc(melt::Column::StartedAt);
    if let Some(station) = scope.station_id {
        found = found.filter(melt::Column::StationId.eq(station));
    }
    let found = found.all(conn).await?;
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = found.iter().map(|m| m.id).collect();
    // What went into each melt, and what of it came out as ingot: two reads for all of them.
    let (charged, poured) = tokio::try_join!(
        mass_by_melt(conn, movement::Column::ToHolderId, &ids, None),
        mass_by_melt(
            conn,
            movement::Column::FromHolderId,
            &ids,
            Some(ingot_material)
        ),
    )?;
    Ok(found
        .into_iter()
        .map(|melt| {
            let charged_g = charged.get(&melt.id).copied().unwrap_or(0);
            let ingot_g = poured.get(&melt.id).copied().unwrap_or(0);
            MeltLine {
                finished_on: melt.finished_at.map(|at| at.date_naive()),
                melt: melt.code,
                yield_bp: (melt.finished_at.is_some() && charged_g > 0)
                    .then(|| share_bp(ingot_g, charged_g)),
                state: melt.state,
                charged_g,
                ingot_g,
            }
        })
        .collect())
}

/// The mass of the movements whose `side` (into or out of a holder) is one of `melts`, by
/// melt; with `into_material`, only those into a holder of one of those materials.
async fn mass_by_melt(
    conn: &impl ConnectionTrait,
    side: movement::Column,
    melts: &[Uuid],
    into_material: Option<&HashSet<Uuid>>,
) -> AppResult<HashMap<Uuid, i64>> {
    let mut query = Query::select();
    query
        .expr_as(Expr::col((movement::Entity, side)), Alias::new("id"))
        .expr_as(sum_i64("movements.mass_g"), Alias::new("mass_g"))
        .from(movement::Entity)
        .and_where(Expr::col((movement::Entity, side)).is_in(melts.iter().copied()))
        .group_by_col((movement::Entity, side));
    if let Some(materials) = into_material {
        query
            .inner_join(
                holder::Entity,
                Expr::col((holder::Entity, holder::Column::Id))
                    .equals((movement::Entity, movement::Column::ToHolderId)),
            )
            .and_where(
                Expr::col((holder::Entity, holder::Column::MaterialId))
                    .is_in(materials.iter().copied()),
            );
    }
    masses_by_id(conn, &query).await
}

/// Lots holding mass now, by material and station.
async fn stock(
    conn: &impl ConnectionTrait,
    materials: &HashMap<Uuid, material::Model>,
    stations: &HashMap<Uuid, station::Model>,
    lang: crate::i18n::Lang,
) -> AppResult<Vec<StockLine>> {
    // The lots open or closed, with what they hold (a lot's holder has the lot's id).
    let holding: Vec<(lot::Model, Option<holder::Model>)> = lot::Entity::find()
        .filter(lot::Column::State.is_in(["open", "closed"]))
        .find_also_related(holder::Entity)
        .all(conn)
        .await?;
    let balances: HashMap<Uuid, i64> = holding
        .iter()
        .filter_map(|(_, h)| h.as_ref())
        .filter(|h| h.balance_g > 0)
        .map(|h| (h.id, h.balance_g))
        .collect();
    let lots: Vec<lot::Model> = holding.into_iter().map(|(found, _)| found).collect();
    let now = Utc::now();
    let mut lines: BTreeMap<(String, String), StockLine> = BTreeMap::new();
    for found in lots {
        let Some(grams) = balances.get(&found.id) else {
            continue;
        };
        let Some(mat) = materials.get(&found.material_id) else {
            continue;
        };
        let station = found
            .station_id
            .and_then(|id| stations.get(&id))
            .map(|s| s.code.clone())
            .unwrap_or_default();
        let line = lines
            .entry((mat.code.clone(), station.clone()))
            .or_insert_with(|| StockLine {
                material: mat.code.clone(),
                material_name: lang.name(&mat.name_en, &mat.name_fr).to_string(),
                station,
                lots: 0,
                mass_g: 0,
                oldest_days: 0,
                ready_lots: 0,
            });
        line.lots += 1;
        line.mass_g += grams;
        line.oldest_days = Ord::max(line.oldest_days, (now - found.opened_at).num_days());
        if found.state == "closed" {
            line.ready_lots += 1;
        }
    }
    Ok(lines.into_values().collect())
}

async fn tasks_in(conn: &impl ConnectionTrait, scope: &Scope) -> AppResult<Vec<task::Model>> {
    let mut query = task::Entity::find()
        .filter(task::Column::StartedAt.gte(scope.start()))
        .filter(task::Column::StartedAt.lt(scope.end()));
    if let Some(station_id) = scope.station_id {
        query = query.filter(task::Column::StationId.eq(station_id));
    }
    if let Some(apprentice_id) = scope.apprentice_id {
        query = query.filter(task::Column::ApprenticeId.eq(apprentice_id));
    }
    Ok(query.all(conn).await?)
}

/// Items and tasks per day per station kind.
fn throughput(
    tasks: &[task::Model],
    stations: &HashMap<Uuid, station::Model>,
) -> Vec<ThroughputLine> {
    let mut days: BTreeMap<(NaiveDate, String), (HashSet<Uuid>, i64)> = BTreeMap::new();
    for found in tasks {
        let kind = stations
            .get(&found.station_id)
            .map(|s| s.kind.clone())
            .unwrap_or_default();
        let entry = days
            .entry((found.started_at.date_naive(), kind))
            .or_default();
        if let Some(item_id) = found.item_id {
            entry.0.insert(item_id);
        }
        entry.1 += 1;
    }
    days.into_iter()
        .map(|((day, station_kind), (items, tasks))| ThroughputLine {
            day,
            station_kind,
            items: items.len() as i64,
            tasks,
        })
        .collect()
}

/// Tasks, hours and items per apprentice.
fn apprentices(tasks: &[task::Model], people: &HashMap<Uuid, String>) -> Vec<ApprenticeLine> {
    let mut lines: BTreeMap<Uuid, (i64, i64, HashSet<Uuid>)> = BTreeMap::new();
    for found in tasks {
        let entry = lines.entry(found.apprentice_id).or_default();
        entry.0 += 1;
        if let Some(ended) = found.ended_at {
            entry.1 += Ord::max((ended - found.started_at).num_seconds(), 0);
        }
        if let Some(item_id) = found.item_id {
            entry.2.insert(item_id);
        }
    }
    let mut lines: Vec<ApprenticeLine> = lines
        .into_iter()
        .map(|(id, (tasks, worked_s, items))| ApprenticeLine {
            apprentice_id: id,
            apprentice: people.get(&id).cloned().unwrap_or_default(),
            tasks,
            worked_s,
            items: items.len() as i64,
        })
        .collect();
    lines.sort_by(|a, b| a.apprentice.cmp(&b.apprentice));
    lines
}

/// One table of a report as CSV: a header row with SI units in the names, then the rows.
pub fn csv(report: &YieldReport, table: &str) -> AppResult<String> {
    fn kg(grams: i64) -> String {
        crate::domain::mass::kilograms(grams)
    }
    fn pct(bp: i64) -> String {
        format!("{}.{:02}", bp / 100, (bp % 100).abs())
    }
    let (header, rows): (&str, Vec<Vec<String>>) = match table {
        "intake" => (
            "kind,kind_name,weee_category,items,mass_kg",
            report
                .intake
                .iter()
                .map(|l| {
                    vec![
                        l.kind.clone(),
                        l.kind_name.clone(),
                        l.weee_category.to_string(),
                        l.items.to_string(),
                        kg(l.mass_g),
                    ]
                })
                .collect(),
        ),
        "fate" => (
            "fate,items,mass_kg,share_percent",
            report
                .fate
                .iter()
                .map(|l| {
                    vec![
                        l.fate.clone(),
                        l.items.to_string(),
                        kg(l.mass_g),
                        pct(l.share_bp),
                    ]
                })
                .collect(),
        ),
        "recovery" => (
            "family,material,material_name,mass_kg,share_percent,typical_mass_kg",
            report
                .recovery
                .iter()
                .map(|l| {
                    vec![
                        l.family.clone(),
                        l.material.clone(),
                        l.material_name.clone(),
                        kg(l.mass_g),
                        pct(l.share_bp),
                        kg(l.typical_g),
                    ]
                })
                .collect(),
        ),
        "melts" => (
            "melt,state,charged_mass_kg,ingot_mass_kg,yield_percent",
            report
                .copper
                .melts
                .iter()
                .map(|l| {
                    vec![
                        l.melt.clone(),
                        l.state.clone(),
                        kg(l.charged_g),
                        kg(l.ingot_g),
                        l.yield_bp.map(pct).unwrap_or_default(),
                    ]
                })
                .collect(),
        ),
        "copper_by_partner" => (
            "partner,recovered_copper_mass_kg,ingot_mass_kg",
            report
                .copper
                .by_partner
                .iter()
                .map(|l| vec![l.partner.clone(), kg(l.recovered_g), kg(l.ingot_g)])
                .collect(),
        ),
        "losses_by_station_kind" | "losses_by_apprentice" => (
            "who,station_kind,input_mass_kg,loss_mass_kg,variance_mass_kg,rate_percent,overrides",
            if table == "losses_by_station_kind" {
                &report.losses_by_station_kind
            } else {
                &report.losses_by_apprentice
            }
            .iter()
            .map(|l| {
                vec![
                    l.who.clone(),
                    kg(l.input_g),
                    kg(l.loss_g),
                    kg(l.variance_g),
                    pct(l.rate_bp),
                    l.overrides.to_string(),
                ]
            })
            .collect(),
        ),
        "stock" => (
            "material,material_name,station,lots,mass_kg,oldest_days,ready_lots",
            report
                .stock
                .iter()
                .map(|l| {
                    vec![
                        l.material.clone(),
                        l.material_name.clone(),
                        l.station.clone(),
                        l.lots.to_string(),
                        kg(l.mass_g),
                        l.oldest_days.to_string(),
                        l.ready_lots.to_string(),
                    ]
                })
                .collect(),
        ),
        "throughput" => (
            "day,station_kind,items,tasks",
            report
                .throughput
                .iter()
                .map(|l| {
                    vec![
                        l.day.to_string(),
                        l.station_kind.clone(),
                        l.items.to_string(),
                        l.tasks.to_string(),
                    ]
                })
                .collect(),
        ),
        "apprentices" => (
            "apprentice,tasks,worked_h,items",
            report
                .apprentices
                .iter()
                .map(|l| {
                    vec![
                        l.apprentice.clone(),
                        l.tasks.to_string(),
                        format!("{:.2}", l.worked_s as f64 / 3600.0),
                        l.items.to_string(),
                    ]
                })
                .collect(),
        ),
        other => {
            return Err(AppError::invalid(
                "table",
                format!(
                    "unknown table “{other}” (intake, fate, recovery, melts, copper_by_partner, losses_by_station_kind, losses_by_apprentice, stock, throughput, apprentices)"
                ),
            ));
        }
    };
    let mut out = String::from(header);
    out.push('\n');
    for row in rows {
        let cells: Vec<String> = row.iter().map(|cell| csv_cell(cell)).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    Ok(out)
}

/// A CSV cell: quoted when it holds a comma, quote or line break; a cell a spreadsheet could
/// run as a formula (one starting with `=`, `+`, `-`, `@`, a tab or a carriage return, as
/// OWASP lists them, a negative number excepted) is prefixed with `'`.
fn csv_cell(cell: &str) -> String {
    let formula = cell.starts_with(['=', '+', '@', '\t', '\r', '\n'])
        || (cell.starts_with('-') && cell.parse::<f64>().is_err());
    let guarded = if formula {
        format!("'{cell}")
    } else {
        cell.to_string()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod csv_tests {
    use super::csv_cell;

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_prefixed() {
        for (cell, written) in [
            ("=1+1", "'=1+1"),
            ("+33 6 12", "'+33 6 12"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("-cmd", "'-cmd"),
            ("\t=3+3", "'\t=3+3"),
            ("\r=3+3", "\"'\r=3+3\""),
            ("\n=3+3", "\"'\n=3+3\""),
        ] {
            assert_eq!(csv_cell(cell), written, "{cell:?}");
        }
    }

    #[test]
    fn plain_cells_and_negative_numbers_are_written_as_they_are() {
        for cell in [
            "-310",
            "-0.5",
            "12964",
            "Lycée Ibn Sina",
            "CO-00000001X",
            "a=b",
        ] {
            assert_eq!(csv_cell(cell), cell);
        }
    }

    #[test]
    fn commas_quotes_and_line_breaks_are_quoted() {
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
    }
}

/// The names of the tables [`csv`] exports.
pub const TABLES: [&str; 10] = [
    "intake",
    "fate",
    "recovery",
    "melts",
    "copper_by_partner",
    "losses_by_station_kind",
    "losses_by_apprentice",
    "stock",
    "throughput",
    "apprentices",
];

/// What a supervisor sees first: this month's figures and what needs attention.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Dashboard {
    pub month_from: NaiveDate,
    pub intake_g: i64,
    pub ingot_g: i64,
    /// Fractions recovered into lots out of what was dismantled this month, in basis points.
    pub recovery_bp: i64,
    pub open_lots: i64,
    pub apprentices_today: i64,
    pub alerts: Alerts,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Alerts {
    /// Lots opened more than [`STALE_LOT_DAYS`] days ago and still open, oldest first.
    pub stale_lots: Vec<String>,
    /// Steps outside tolerance that a supervisor let through this month.
    pub variance_outliers: i64,
    /// Data-bearing items triaged but not yet sanitised.
    pub awaiting_sanitisation: Vec<String>,
    /// Finished, closed collections with no certificate yet.
    pub ready_for_certificate: Vec<String>,
}

/// A lot open longer than this is flagged.
pub const STALE_LOT_DAYS: i64 = 30;

pub async fn dashboard(conn: &impl ConnectionTrait) -> AppResult<Dashboard> {
    let today = Utc::now().date_naive();
    let scope = resolve(conn, &ReportQuery::default()).await?;
    let today_scope = Scope {
        from: today,
        to: today,
        ..scope.clone()
    };
    let open_lots = async {
        let open = lot::Entity::find()
            .filter(lot::Column::State.eq("open"))
            .all(conn);
        Ok::<_, AppError>(open.await?)
    };
    let awaiting_sanitisation = async {
        let triaged = item::Entity::find()
            .filter(item::Column::DataBearing.eq(true))
            .filter(item::Column::State.eq("triaged"))
            .all(conn)
            .await?;
        let mut awaiting = Vec::new();
        for found in triaged {
            let facts = crate::services::actions::facts_of(conn, &found).await?;
            if !facts.sanitised {
                awaiting.push(found.code);
            }
        }
        Ok(awaiting)
    };
    let (report, open, tasks_today, awaiting, ready) = tokio::try_join!(
        yields(conn, &scope, crate::i18n::Lang::En),
        open_lots,
        tasks_in(conn, &today_scope),
        awaiting_sanitisation,
        crate::services::certificates::ready(conn, 20),
    )?;
    let stale_before = Utc::now() - Duration::days(STALE_LOT_DAYS);
    let mut stale: Vec<&lot::Model> = open.iter().filter(|l| l.opened_at < stale_before).collect();
    stale.sort_by_key(|l| l.opened_at);
    let apprentices_today = tasks_today
        .iter()
        .map(|t| t.apprentice_id)
        .collect::<HashSet<_>>()
        .len() as i64;
    Ok(Dashboard {
        month_from: scope.from,
        intake_g: report.intake_g,
        ingot_g: report.copper.ingot_g,
        recovery_bp: share_bp(report.recovered_g, report.dismantled_g),
        open_lots: open.len() as i64,
        apprentices_today,
        alerts: Alerts {
            stale_lots: stale.into_iter().map(|l| l.code.clone()).collect(),
            variance_outliers: report.outliers.len() as i64,
            awaiting_sanitisation: awaiting,
            ready_for_certificate: ready.into_iter().map(|r| r.collection).collect(),
        },
    })
}

/// Intake and ingot of one calendar month.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MonthLine {
    /// `YYYY-MM`.
    pub month: String,
    pub intake_g: i64,
    pub ingot_g: i64,
}

/// Intake (by reception date) and copper ingot poured, month by month, for the `months`
/// calendar months ending with the one holding `last_day`.
pub async fn monthly(
    conn: &impl ConnectionTrait,
    last_day: NaiveDate,
    months: u32,
) -> AppResult<Vec<MonthLine>> {
    use chrono::Datelike;
    let mut first = first_of_month(last_day);
    for _ in 1..Ord::max(months, 1) {
        first = month_before(first);
    }
    let month_of = |day: NaiveDate| format!("{:04}-{:02}", day.year(), day.month());
    let mut lines: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut cursor = first;
    while cursor <= last_day {
        lines.insert(month_of(cursor), (0, 0));
        cursor = first_of_month(cursor + Duration::days(32));
    }
    #[derive(FromQueryResult)]
    struct Received {
        received_on: NaiveDate,
        gross_mass_g: i64,
    }
    let days = Alias::new("intake_days");
    let received_on = (days.clone(), Alias::new("received_on"));
    let mut query = Query::select();
    query
        .column(received_on.clone())
        .expr_as(sum_i64("intake_days.mass_g"), Alias::new("gross_mass_g"))
        .from(days.clone())
        .and_where(Expr::col(received_on.clone()).gte(first))
        .and_where(Expr::col(received_on.clone()).lte(last_day))
        .group_by_col(received_on);
    let statement = conn.get_database_backend().build(&query);
    for row in Received::find_by_statement(statement).all(conn).await? {
        if let Some(line) = lines.get_mut(&month_of(row.received_on)) {
            line.0 += row.gross_mass_g;
        }
    }
    let ingot: HashSet<Uuid> = material::Entity::find()
        .filter(material::Column::Code.eq(INGOT_MATERIAL))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect();
    let flows = daily::read(
        conn,
        Table::Totals,
        daily::Period {
            days: Some((first, last_day)),
            op_kind: Some("pour"),
            ..Default::default()
        },
    )
    .await?;
    for flow in flows {
        if flow.key.op_kind == "pour"
            && flow
                .key
                .to_material_id
                .is_some_and(|id| ingot.contains(&id))
            && let Some(line) = lines.get_mut(&month_of(flow.key.day))
        {
            line.1 += flow.sum.mass_g;
        }
    }
    Ok(lines
        .into_iter()
        .map(|(month, (intake_g, ingot_g))| MonthLine {
            month,
            intake_g,
            ingot_g,
        })
        .collect())
}

/// One apprentice in the cohort overview.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CohortLine {
    pub record: crate::services::worklogs::TrainingRecord,
    pub hours: f64,
    /// Loss and variance at dismantling over the last [`TREND_DAYS`] days, in basis points
    /// of what they dismantled; none when they dismantled nothing.
    pub dismantling_rate_bp: Option<i64>,
    pub dismantled_g: i64,
}

/// How far back the cohort's recent figures look.
pub const TREND_DAYS: i64 = 90;

/// Every active apprentice's training record with their recent weighing at dismantling.
pub async fn cohort(conn: &impl ConnectionTrait) -> AppResult<Vec<CohortLine>> {
    let today = Utc::now().date_naive();
    let scope = resolve(
        conn,
        &ReportQuery {
            from: Some(today - Duration::days(TREND_DAYS)),
            to: Some(today),
            ..Default::default()
        },
    )
    .await?;
    let report = yields(conn, &scope, crate::i18n::Lang::En).await?;
    let apprentices = user::Entity::find()
        .filter(user::Column::Role.eq("apprentice"))
        .filter(user::Column::Active.eq(true))
        .all(conn)
        .await?;
    let mut lines = Vec::new();
    for apprentice in apprentices {
        let record = crate::services::worklogs::training_record(conn, apprentice.id).await?;
        let at_dismantling = report.losses_by_apprentice.iter().find(|l| {
            l.who == apprentice.display_name && l.station_kind.as_deref() == Some("dismantling")
        });
        lines.push(CohortLine {
            hours: record.hours_by_station_kind.values().sum(),
            dismantling_rate_bp: at_dismantling.filter(|l| l.input_g > 0).map(|l| l.rate_bp),
            dismantled_g: at_dismantling.map_or(0, |l| l.input_g),
            record,
        });
    }
    lines.sort_by(|a, b| a.record.name.cmp(&b.record.name));
    Ok(lines)
}

/// One month of an apprentice's work.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrendLine {
    pub month: String,
    pub hours: f64,
    pub dismantled_g: i64,
    /// Loss and variance at dismantling, in basis points; none without dismantling.
    pub dismantling_rate_bp: Option<i64>,
}

/// An apprentice's hours and weighing at dismantling, month by month.
pub async fn trend(
    conn: &impl ConnectionTrait,
    apprentice_id: Uuid,
    months: u32,
) -> AppResult<Vec<TrendLine>> {
    use chrono::Datelike;
    let today = Utc::now().date_naive();
    let mut starts = Vec::new();
    let mut first = first_of_month(today);
    for _ in 0..Ord::max(months, 1) {
        starts.push(first);
        first = month_before(first);
    }
    starts.reverse();
    let mut lines = Vec::new();
    for start in starts {
        let end = Ord::min(
            first_of_month(start + Duration::days(32)) - Duration::days(1),
            today,
        );
        let scope = resolve(
            conn,
            &ReportQuery {
                from: Some(start),
                to: Some(end),
                apprentice_id: Some(apprentice_id),
                ..Default::default()
            },
        )
        .await?;
        let report = yields(conn, &scope, crate::i18n::Lang::En).await?;
        let at_dismantling = report
            .losses_by_apprentice
            .iter()
            .find(|l| l.station_kind.as_deref() == Some("dismantling"));
        lines.push(TrendLine {
            month: format!("{:04}-{:02}", start.year(), start.month()),
            hours: report
                .apprentices
                .iter()
                .map(|a| a.worked_s as f64 / 3600.0)
                .sum(),
            dismantled_g: at_dismantling.map_or(0, |l| l.input_g),
            dismantling_rate_bp: at_dismantling.filter(|l| l.input_g > 0).map(|l| l.rate_bp),
        });
    }
    Ok(lines)
}

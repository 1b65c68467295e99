//! The mass ledger's rules, without I/O: holders, movements of whole grams, operations that
//! validate as a whole, and the collection split each movement carries.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::attribution::{self, AttributionError, CollectionId, Composition};

pub type HolderId = Uuid;

/// The ledger's own accounts, where mass comes from and goes to outside items, lots and melts.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Account {
    /// Where received mass comes from: its balance is minus everything ever received.
    Intake,
    /// Equipment that left whole for a second life.
    Reuse,
    /// Fractions or whole equipment handed to a downstream processor.
    Shipped,
    /// Dust, stripping and melt loss.
    ProcessLoss,
    /// Scale noise, both ways.
    WeighingVariance,
}

impl Account {
    pub const ALL: [Account; 5] = [
        Account::Intake,
        Account::Reuse,
        Account::Shipped,
        Account::ProcessLoss,
        Account::WeighingVariance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Account::Intake => "intake",
            Account::Reuse => "reuse",
            Account::Shipped => "shipped",
            Account::ProcessLoss => "process_loss",
            Account::WeighingVariance => "weighing_variance",
        }
    }

    /// Two-sided accounts may hold a negative balance: `intake` is the source of all mass,
    /// and `weighing_variance` absorbs scale noise in both directions (outputs that weigh
    /// more than their input draw on it).
    pub fn is_two_sided(self) -> bool {
        matches!(self, Account::Intake | Account::WeighingVariance)
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Account {
    type Err = String;
    fn from_str(text: &str) -> Result<Account, String> {
        Account::ALL
            .into_iter()
            .find(|account| account.as_str() == text)
            .ok_or_else(|| format!("unknown account “{text}”"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "kind", content = "account")]
pub enum HolderKind {
    Item,
    Lot,
    Melt,
    Account(Account),
}

impl HolderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HolderKind::Item => "item",
            HolderKind::Lot => "lot",
            HolderKind::Melt => "melt",
            HolderKind::Account(_) => "account",
        }
    }

    pub fn may_go_negative(self) -> bool {
        matches!(self, HolderKind::Account(account) if account.is_two_sided())
    }
}

/// The kinds of operation (DESIGN.md section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    Intake,
    Dismantle,
    Transfer,
    Reweigh,
    Charge,
    Pour,
    Reuse,
    Ship,
    Correction,
}

impl OperationKind {
    pub const ALL: [OperationKind; 9] = [
        OperationKind::Intake,
        OperationKind::Dismantle,
        OperationKind::Transfer,
        OperationKind::Reweigh,
        OperationKind::Charge,
        OperationKind::Pour,
        OperationKind::Reuse,
        OperationKind::Ship,
        OperationKind::Correction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Intake => "intake",
            OperationKind::Dismantle => "dismantle",
            OperationKind::Transfer => "transfer",
            OperationKind::Reweigh => "reweigh",
            OperationKind::Charge => "charge",
            OperationKind::Pour => "pour",
            OperationKind::Reuse => "reuse",
            OperationKind::Ship => "ship",
            OperationKind::Correction => "correction",
        }
    }
}

impl FromStr for OperationKind {
    type Err = String;
    fn from_str(text: &str) -> Result<OperationKind, String> {
        OperationKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| format!("unknown operation kind “{text}”"))
    }
}

/// A holder as the ledger sees it while posting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolderState {
    pub kind: HolderKind,
    pub balance_g: i64,
    pub composition: Composition,
}

impl HolderState {
    pub fn empty(kind: HolderKind) -> HolderState {
        HolderState {
            kind,
            balance_g: 0,
            composition: Composition::new(),
        }
    }
}

/// How a movement's mass is split by collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// A proportional share of the source's composition (the usual case).
    Source,
    /// All of it from one collection: receiving an item.
    Collection(CollectionId),
    /// In proportion to another holder's composition as the operation began: a weighing gain
    /// drawn from `weighing_variance` is attributed like the item or lot that was weighed.
    Like(HolderId),
    /// Exactly these parts: a correction mirrors the movement it reverses.
    Exact(Composition),
}

/// A movement asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    pub from: HolderId,
    pub to: HolderId,
    pub mass_g: i64,
    pub basis: Basis,
}

impl Movement {
    pub fn new(from: HolderId, to: HolderId, mass_g: i64) -> Movement {
        Movement {
            from,
            to,
            mass_g,
            basis: Basis::Source,
        }
    }

    pub fn basis(mut self, basis: Basis) -> Movement {
        self.basis = basis;
        self
    }
}

/// A movement as posted, with its split by collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// Its position in the request.
    pub seq: usize,
    pub from: HolderId,
    pub to: HolderId,
    pub mass_g: i64,
    pub parts: Composition,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("an operation needs at least one movement")]
    NoMovements,
    #[error("movement {seq}: a mass must be a positive number of grams, not {mass_g}")]
    NonPositiveMass { seq: usize, mass_g: i64 },
    #[error("movement {seq}: mass cannot move from a holder to itself")]
    SelfMovement { seq: usize },
    #[error("movement {seq}: unknown holder {holder}")]
    UnknownHolder { seq: usize, holder: HolderId },
    #[error("holder {holder} holds {balance_g} g; this would take {short_g} g more than it holds")]
    WouldGoNegative {
        holder: HolderId,
        balance_g: i64,
        short_g: i64,
    },
    #[error(
        "movement {seq}: mass drawn from the {account} account must say which collection it belongs to"
    )]
    MissingBasis { seq: usize, account: Account },
    #[error("movement {seq}: {reason}")]
    Attribution {
        seq: usize,
        reason: AttributionError,
    },
    #[error("movement {seq}: the parts by collection add up to {parts_g} g, not {mass_g} g")]
    PartsMismatch {
        seq: usize,
        parts_g: i64,
        mass_g: i64,
    },
    #[error("holder {holder} no longer holds {short_g} g of collection {collection}")]
    CompositionShort {
        holder: HolderId,
        collection: CollectionId,
        short_g: i64,
    },
    #[error("a mass total overflowed")]
    Overflow,
}

/// Posts `movements` as one operation against `holders`, which must hold every holder named.
///
/// The operation validates as a whole: no holder that may not go negative ends below zero.
/// Movements are applied in request order where possible, and otherwise in the first order
/// in which each source holds what it gives, so a list need not be sorted by its author.
/// On success `holders` carries the new balances and compositions; on error it is unchanged.
pub fn post(
    holders: &mut HashMap<HolderId, HolderState>,
    movements: &[Movement],
) -> Result<Vec<Posted>, LedgerError> {
    if movements.is_empty() {
        return Err(LedgerError::NoMovements);
    }
    let mut net: HashMap<HolderId, i64> = HashMap::new();
    for (seq, movement) in movements.iter().enumerate() {
        if movement.mass_g <= 0 {
            return Err(LedgerError::NonPositiveMass {
                seq,
                mass_g: movement.mass_g,
            });
        }
        if movement.from == movement.to {
            return Err(LedgerError::SelfMovement { seq });
        }
        for holder in [movement.from, movement.to] {
            if !holders.contains_key(&holder) {
                return Err(LedgerError::UnknownHolder { seq, holder });
            }
        }
        if let Basis::Like(holder) = movement.basis
            && !holders.contains_key(&holder)
        {
            return Err(LedgerError::UnknownHolder { seq, holder });
        }
        if let HolderKind::Account(account) = holders[&movement.from].kind
            && account.is_two_sided()
            && matches!(movement.basis, Basis::Source)
        {
            return Err(LedgerError::MissingBasis { seq, account });
        }
        let from = net.entry(movement.from).or_insert(0);
        *from = from
            .checked_sub(movement.mass_g)
            .ok_or(LedgerError::Overflow)?;
        let to = net.entry(movement.to).or_insert(0);
        *to = to
            .checked_add(movement.mass_g)
            .ok_or(LedgerError::Overflow)?;
    }
    let mut touched: Vec<HolderId> = net.keys().copied().collect();
    touched.sort();
    for holder in &touched {
        let state = &holders[holder];
        let after = state
            .balance_g
            .checked_add(net[holder])
            .ok_or(LedgerError::Overflow)?;
        if after < 0 && !state.kind.may_go_negative() {
            return Err(LedgerError::WouldGoNegative {
                holder: *holder,
                balance_g: state.balance_g,
                short_g: -after,
            });
        }
    }

    // Weighing gains are attributed like a holder as the operation began.
    let initial: HashMap<HolderId, Composition> = movements
        .iter()
        .filter_map(|m| match m.basis {
            Basis::Like(holder) => Some((holder, holders[&holder].composition.clone())),
            _ => None,
        })
        .collect();
    // Work on copies so a refusal leaves the caller's states untouched.
    let mut working: HashMap<HolderId, HolderState> = touched
        .iter()
        .map(|id| (*id, holders[id].clone()))
        .collect();
    let mut pending: Vec<usize> = (0..movements.len()).collect();
    let mut posted = Vec::with_capacity(movements.len());
    while !pending.is_empty() {
        let ready = pending.iter().position(|&seq| {
            let movement = &movements[seq];
            let source = &working[&movement.from];
            source.kind.may_go_negative() || source.balance_g >= movement.mass_g
        });
        let Some(position) = ready else {
            // Only a cycle with nothing to start it can get here (A→B and B→A, both empty).
            let movement = &movements[pending[0]];
            let source = &working[&movement.from];
            return Err(LedgerError::WouldGoNegative {
                holder: movement.from,
                balance_g: source.balance_g,
                short_g: movement.mass_g - source.balance_g,
            });
        };
        let seq = pending.remove(position);
        let movement = &movements[seq];
        let parts = parts_of(seq, movement, &working, &initial)?;
        let source = working.get_mut(&movement.from).expect("touched");
        if !source.kind.may_go_negative() {
            for (&collection, &grams) in &parts {
                let held = source.composition.get(&collection).copied().unwrap_or(0);
                if held < grams {
                    return Err(LedgerError::CompositionShort {
                        holder: movement.from,
                        collection,
                        short_g: grams - held,
                    });
                }
            }
        }
        source.balance_g -= movement.mass_g;
        attribution::apply(&mut source.composition, &parts, -1);
        let destination = working.get_mut(&movement.to).expect("touched");
        destination.balance_g += movement.mass_g;
        attribution::apply(&mut destination.composition, &parts, 1);
        posted.push(Posted {
            seq,
            from: movement.from,
            to: movement.to,
            mass_g: movement.mass_g,
            parts,
        });
    }
    for (id, state) in working {
        holders.insert(id, state);
    }
    Ok(posted)
}

fn parts_of(
    seq: usize,
    movement: &Movement,
    working: &HashMap<HolderId, HolderState>,
    initial: &HashMap<HolderId, Composition>,
) -> Result<Composition, LedgerError> {
    let share = |composition: &Composition| {
        attribution::proportional(composition, movement.mass_g)
            .map_err(|reason| LedgerError::Attribution { seq, reason })
    };
    let parts = match &movement.basis {
        Basis::Source => share(&working[&movement.from].composition)?,
        Basis::Collection(collection) => Composition::from([(*collection, movement.mass_g)]),
        Basis::Like(holder) => share(&initial[holder])?,
        Basis::Exact(parts) => parts.clone(),
    };
    let parts_g = attribution::total(&parts);
    if parts_g != movement.mass_g || parts.values().any(|&g| g <= 0) {
        return Err(LedgerError::PartsMismatch {
            seq,
            parts_g,
            mass_g: movement.mass_g,
        });
    }
    Ok(parts)
}

/// The movements that reverse posted ones: each mirrored, with the same parts.
pub fn reversal(posted: &[Posted]) -> Vec<Movement> {
    posted
        .iter()
        .map(|p| Movement::new(p.to, p.from, p.mass_g).basis(Basis::Exact(p.parts.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    const INTAKE: u128 = 100;
    const VARIANCE: u128 = 101;
    const LOSS: u128 = 102;
    const C1: u128 = 1001;
    const C2: u128 = 1002;

    fn ledger(real: &[(u128, HolderKind)]) -> HashMap<HolderId, HolderState> {
        let mut holders: HashMap<HolderId, HolderState> = [
            (INTAKE, HolderKind::Account(Account::Intake)),
            (VARIANCE, HolderKind::Account(Account::WeighingVariance)),
            (LOSS, HolderKind::Account(Account::ProcessLoss)),
        ]
        .into_iter()
        .map(|(n, kind)| (id(n), HolderState::empty(kind)))
        .collect();
        for (n, kind) in real {
            holders.insert(id(*n), HolderState::empty(*kind));
        }
        holders
    }

    fn receive(
        holders: &mut HashMap<HolderId, HolderState>,
        item: u128,
        collection: u128,
        mass_g: i64,
    ) {
        post(
            holders,
            &[
                Movement::new(id(INTAKE), id(item), mass_g)
                    .basis(Basis::Collection(id(collection))),
            ],
        )
        .unwrap();
    }

    #[test]
    fn a_dismantling_moves_the_item_into_lots_and_the_residual_to_variance() {
        let mut holders = ledger(&[
            (1, HolderKind::Item),
            (10, HolderKind::Lot),
            (11, HolderKind::Lot),
        ]);
        receive(&mut holders, 1, C1, 8_400);
        let posted = post(
            &mut holders,
            &[
                Movement::new(id(1), id(10), 7_000),
                Movement::new(id(1), id(11), 930),
                Movement::new(id(1), id(VARIANCE), 470),
            ],
        )
        .unwrap();
        assert_eq!(posted.len(), 3);
        assert_eq!(holders[&id(1)].balance_g, 0);
        assert!(holders[&id(1)].composition.is_empty());
        assert_eq!(
            holders[&id(10)].composition,
            Composition::from([(id(C1), 7_000)])
        );
        assert_eq!(holders[&id(VARIANCE)].balance_g, 470);
        assert_eq!(holders[&id(INTAKE)].balance_g, -8_400);
    }

    #[test]
    fn outputs_heavier_than_the_input_draw_on_variance_attributed_like_the_item() {
        let mut holders = ledger(&[(1, HolderKind::Item), (10, HolderKind::Lot)]);
        receive(&mut holders, 1, C1, 1_000);
        post(
            &mut holders,
            &[
                Movement::new(id(1), id(10), 1_000),
                Movement::new(id(VARIANCE), id(10), 20).basis(Basis::Like(id(1))),
            ],
        )
        .unwrap();
        assert_eq!(
            holders[&id(10)].composition,
            Composition::from([(id(C1), 1_020)])
        );
        assert_eq!(holders[&id(VARIANCE)].balance_g, -20);
    }

    #[test]
    fn an_operation_that_would_drive_a_holder_negative_is_refused_and_changes_nothing() {
        let mut holders = ledger(&[(1, HolderKind::Item), (10, HolderKind::Lot)]);
        receive(&mut holders, 1, C1, 500);
        let before = holders.clone();
        let refused = post(&mut holders, &[Movement::new(id(1), id(10), 600)]);
        assert_eq!(
            refused,
            Err(LedgerError::WouldGoNegative {
                holder: id(1),
                balance_g: 500,
                short_g: 100
            })
        );
        assert_eq!(holders, before);
    }

    #[test]
    fn bad_movements_are_refused() {
        let mut holders = ledger(&[(1, HolderKind::Item), (10, HolderKind::Lot)]);
        receive(&mut holders, 1, C1, 500);
        let before = holders.clone();
        let cases = [
            (vec![], LedgerError::NoMovements),
            (
                vec![Movement::new(id(1), id(10), 0)],
                LedgerError::NonPositiveMass { seq: 0, mass_g: 0 },
            ),
            (
                vec![Movement::new(id(1), id(10), -5)],
                LedgerError::NonPositiveMass { seq: 0, mass_g: -5 },
            ),
            (
                vec![Movement::new(id(1), id(1), 5)],
                LedgerError::SelfMovement { seq: 0 },
            ),
            (
                vec![Movement::new(id(1), id(99), 5)],
                LedgerError::UnknownHolder {
                    seq: 0,
                    holder: id(99),
                },
            ),
            (
                vec![Movement::new(id(INTAKE), id(10), 5)],
                LedgerError::MissingBasis {
                    seq: 0,
                    account: Account::Intake,
                },
            ),
            (
                vec![
                    Movement::new(id(1), id(10), 5)
                        .basis(Basis::Exact(Composition::from([(id(C1), 4)]))),
                ],
                LedgerError::PartsMismatch {
                    seq: 0,
                    parts_g: 4,
                    mass_g: 5,
                },
            ),
        ];
        for (movements, expected) in cases {
            assert_eq!(post(&mut holders, &movements), Err(expected));
            assert_eq!(holders, before);
        }
    }

    #[test]
    fn an_operation_validates_as_a_whole_whatever_the_order_of_its_movements() {
        let mut holders = ledger(&[
            (1, HolderKind::Item),
            (10, HolderKind::Lot),
            (11, HolderKind::Lot),
        ]);
        receive(&mut holders, 1, C1, 500);
        // Lot 10 passes on mass it only receives later in the list.
        post(
            &mut holders,
            &[
                Movement::new(id(10), id(11), 300),
                Movement::new(id(1), id(10), 500),
            ],
        )
        .unwrap();
        assert_eq!(holders[&id(10)].balance_g, 200);
        assert_eq!(
            holders[&id(11)].composition,
            Composition::from([(id(C1), 300)])
        );
    }

    #[test]
    fn a_reversal_restores_every_balance_and_composition() {
        let mut holders = ledger(&[
            (1, HolderKind::Item),
            (2, HolderKind::Item),
            (10, HolderKind::Lot),
        ]);
        receive(&mut holders, 1, C1, 600);
        receive(&mut holders, 2, C2, 400);
        let before = holders.clone();
        let posted = post(
            &mut holders,
            &[
                Movement::new(id(1), id(10), 600),
                Movement::new(id(2), id(10), 400),
            ],
        )
        .unwrap();
        post(&mut holders, &reversal(&posted)).unwrap();
        assert_eq!(holders, before);
    }

    #[test]
    fn a_reversal_is_refused_once_the_mass_has_moved_on() {
        let mut holders = ledger(&[
            (1, HolderKind::Item),
            (2, HolderKind::Item),
            (10, HolderKind::Lot),
            (11, HolderKind::Lot),
        ]);
        receive(&mut holders, 1, C1, 600);
        let first = post(&mut holders, &[Movement::new(id(1), id(10), 600)]).unwrap();
        post(&mut holders, &[Movement::new(id(10), id(11), 300)]).unwrap();
        receive(&mut holders, 2, C2, 400);
        post(&mut holders, &[Movement::new(id(2), id(10), 400)]).unwrap();
        // Lot 10 holds 700 g, but only 300 g of collection 1: the 600 g cannot go back whole.
        let refused = post(&mut holders, &reversal(&first));
        assert_eq!(
            refused,
            Err(LedgerError::CompositionShort {
                holder: id(10),
                collection: id(C1),
                short_g: 300
            })
        );
    }

    // ---- property tests: random histories keep every invariant ----

    #[derive(Debug, Clone)]
    enum Step {
        Receive {
            item: usize,
            collection: usize,
            mass_g: i64,
        },
        Move {
            from: usize,
            to: usize,
            per_mille: i64,
        },
        Gain {
            to: usize,
            like: usize,
            mass_g: i64,
        },
        Reverse {
            back: usize,
        },
    }

    const REAL: usize = 6; // holders 0..6 are items and lots
    const SINKS: usize = 2; // then reuse and process loss

    fn holder_id(index: usize) -> Uuid {
        id(index as u128 + 1)
    }

    fn any_step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0..REAL, 0..3usize, 1i64..20_000).prop_map(|(item, collection, mass_g)| {
                Step::Receive {
                    item,
                    collection,
                    mass_g,
                }
            }),
            (0..REAL, 0..REAL + SINKS, 1i64..=1000).prop_map(|(from, to, per_mille)| Step::Move {
                from,
                to,
                per_mille
            }),
            (0..REAL, 0..REAL, 1i64..300).prop_map(|(to, like, mass_g)| Step::Gain {
                to,
                like,
                mass_g
            }),
            (0..5usize).prop_map(|back| Step::Reverse { back }),
        ]
    }

    fn property_ledger() -> HashMap<HolderId, HolderState> {
        let mut holders = ledger(&[]);
        for index in 0..REAL {
            let kind = if index % 2 == 0 {
                HolderKind::Item
            } else {
                HolderKind::Lot
            };
            holders.insert(holder_id(index), HolderState::empty(kind));
        }
        holders.insert(
            holder_id(REAL),
            HolderState::empty(HolderKind::Account(Account::Reuse)),
        );
        holders.insert(
            holder_id(REAL + 1),
            HolderState::empty(HolderKind::Account(Account::ProcessLoss)),
        );
        holders
    }

    fn check_invariants(holders: &HashMap<HolderId, HolderState>) -> Result<(), TestCaseError> {
        let mut sum = 0i64;
        let mut by_collection: HashMap<CollectionId, i64> = HashMap::new();
        for (id, state) in holders {
            if !state.kind.may_go_negative() {
                prop_assert!(state.balance_g >= 0, "{id} is at {}", state.balance_g);
                prop_assert!(state.composition.values().all(|g| *g > 0));
            }
            prop_assert_eq!(
                attribution::total(&state.composition),
                state.balance_g,
                "composition of {}",
                id
            );
            sum += state.balance_g;
            for (collection, grams) in &state.composition {
                *by_collection.entry(*collection).or_default() += grams;
            }
        }
        prop_assert_eq!(sum, 0, "mass is conserved");
        // Every collection's intake equals the sum of its shares everywhere else.
        for (collection, grams) in by_collection {
            prop_assert_eq!(grams, 0, "collection {} is conserved", collection);
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn random_histories_keep_balances_compositions_and_conservation(steps in prop::collection::vec(any_step(), 1..60)) {
            let mut holders = property_ledger();
            let mut history: Vec<Vec<Posted>> = Vec::new();
            for step in steps {
                let movements = match step {
                    Step::Receive { item, collection, mass_g } => vec![
                        Movement::new(id(INTAKE), holder_id(item), mass_g).basis(Basis::Collection(id(C1 + collection as u128))),
                    ],
                    Step::Move { from, to, per_mille } => {
                        let mass_g = holders[&holder_id(from)].balance_g * per_mille / 1000;
                        vec![Movement::new(holder_id(from), holder_id(to), mass_g.max(1))]
                    }
                    Step::Gain { to, like, mass_g } => vec![
                        Movement::new(id(VARIANCE), holder_id(to), mass_g).basis(Basis::Like(holder_id(like))),
                    ],
                    Step::Reverse { back } => match history.iter().rev().nth(back) {
                        Some(posted) => reversal(posted),
                        None => continue,
                    },
                };
                let before = holders.clone();
                match post(&mut holders, &movements) {
                    Ok(posted) => history.push(posted),
                    // A refusal must change nothing.
                    Err(_) => prop_assert_eq!(&holders, &before),
                }
                check_invariants(&holders)?;
            }
        }
    }
}

//! An item's lifecycle (DESIGN.md section 2) as one pure function:
//! `(state, action, station kind, facts) -> Result<state, Refusal>`.
//!
//! ```text
//! received ─▶ triaged ─┬─▶ (sanitised) ─▶ refurbishing ─▶ reused
//!                      ├─▶ (sanitised) ─▶ dismantling  ─▶ dismantled
//!                      └─▶ (sanitised) ─▶ shipped_whole
//! ```
//! A data-bearing item leaves `triaged` towards reuse, dismantling or a whole shipment only
//! with a successful, verified sanitisation record.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(text: &str) -> Result<$name, String> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str() == text.trim())
                    .ok_or_else(|| format!("unknown {} “{}”", stringify!($name), text.trim()))
            }
        }
    };
}

named_enum!(
    /// Where an item is in its life at the workshop.
    ItemState {
        Received => "received",
        Triaged => "triaged",
        Sanitised => "sanitised",
        Refurbishing => "refurbishing",
        Reused => "reused",
        Dismantling => "dismantling",
        Dismantled => "dismantled",
        ShippedWhole => "shipped_whole",
    }
);

named_enum!(
    /// What a workstation is for.
    StationKind {
        Intake => "intake",
        Triage => "triage",
        Sanitisation => "sanitisation",
        Refurbishment => "refurbishment",
        Dismantling => "dismantling",
        Sorting => "sorting",
        Smelting => "smelting",
        Shipping => "shipping",
    }
);

named_enum!(
    /// What triage decides for an item.
    Route {
        Reuse => "reuse",
        Dismantle => "dismantle",
        ShipWhole => "ship_whole",
    }
);

named_enum!(
    /// What can be done to an item at a station.
    Action {
        Triage => "triage",
        Sanitise => "sanitise",
        StartRefurbishment => "start_refurbishment",
        FinishRefurbishment => "finish_refurbishment",
        MarkReused => "mark_reused",
        StartDismantling => "start_dismantling",
        FinishDismantling => "finish_dismantling",
        ShipWhole => "ship_whole",
    }
);

impl ItemState {
    /// End states: the item has left, or left the ledger as fractions.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ItemState::Reused | ItemState::Dismantled | ItemState::ShippedWhole
        )
    }
}

/// What the rules need to know about the item besides its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Facts {
    pub data_bearing: bool,
    /// A successful, verified sanitisation record exists.
    pub sanitised: bool,
    /// Triage's decision, once made.
    pub route: Option<Route>,
    /// For `triage`: the route decided now.
    pub decision: Option<Route>,
    /// For `sanitise`: whether this record is successful and verified.
    pub record_ok: bool,
}

/// Why an action is refused; the kiosk shows it and what may be done instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("cannot {action} an item that is {state}")]
    NotInThisState { state: ItemState, action: Action },
    #[error("{action} is done at a {} station, not at a {station} station", .wanted.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(" or "))]
    WrongStation {
        station: StationKind,
        action: Action,
        wanted: Vec<StationKind>,
    },
    #[error(
        "sanitisation needed: this item bears data and has no successful, verified sanitisation record"
    )]
    SanitisationNeeded,
    #[error("triage decided “{route}” for this item, not “{wanted}”")]
    WrongRoute { route: Route, wanted: Route },
    #[error("triage must decide a route: reuse, dismantle or ship_whole")]
    NoDecision,
}

/// The station kinds where an action is done.
pub fn stations_for(action: Action) -> &'static [StationKind] {
    match action {
        Action::Triage => &[StationKind::Triage],
        Action::Sanitise => &[StationKind::Sanitisation],
        Action::StartRefurbishment | Action::FinishRefurbishment => &[StationKind::Refurbishment],
        Action::MarkReused => &[StationKind::Refurbishment, StationKind::Shipping],
        Action::StartDismantling | Action::FinishDismantling => &[StationKind::Dismantling],
        Action::ShipWhole => &[StationKind::Shipping],
    }
}

/// The one rule: the state an action leads to, or why it may not happen.
pub fn transition(
    state: ItemState,
    action: Action,
    station: StationKind,
    facts: Facts,
) -> Result<ItemState, Refusal> {
    use ItemState::*;
    let not_here = || Refusal::NotInThisState { state, action };
    // The state must allow the action before the station is judged: "this item is
    // reused" is what a person needs to hear, whatever station they stand at.
    let next = match (action, state) {
        (Action::Triage, Received | Triaged | Sanitised) => match facts.decision {
            None => return Err(Refusal::NoDecision),
            Some(_) if state == Received => Triaged,
            Some(_) => state,
        },
        (Action::Sanitise, Triaged | Sanitised) => {
            if facts.record_ok {
                Sanitised
            } else {
                state
            }
        }
        (Action::StartRefurbishment, Triaged | Sanitised) => {
            ready(facts, Route::Reuse, Refurbishing)?
        }
        (Action::FinishRefurbishment, Refurbishing) => Refurbishing,
        (Action::MarkReused, Refurbishing) => Reused,
        (Action::StartDismantling, Triaged | Sanitised) => {
            ready(facts, Route::Dismantle, Dismantling)?
        }
        // Refurbishment that fails sends the item to dismantling.
        (Action::StartDismantling, Refurbishing) => gate(facts, Dismantling)?,
        (Action::FinishDismantling, Dismantling) => Dismantled,
        (Action::ShipWhole, Triaged | Sanitised) => ready(facts, Route::ShipWhole, ShippedWhole)?,
        _ => return Err(not_here()),
    };
    let wanted = stations_for(action);
    if !wanted.contains(&station) {
        return Err(Refusal::WrongStation {
            station,
            action,
            wanted: wanted.to_vec(),
        });
    }
    Ok(next)
}

/// Leaving triage for `route`: the decision must match and data must be gone.
fn ready(facts: Facts, route: Route, next: ItemState) -> Result<ItemState, Refusal> {
    match facts.route {
        Some(decided) if decided != route => Err(Refusal::WrongRoute {
            route: decided,
            wanted: route,
        }),
        None => Err(Refusal::NoDecision),
        Some(_) => gate(facts, next),
    }
}

fn gate(facts: Facts, next: ItemState) -> Result<ItemState, Refusal> {
    if facts.data_bearing && !facts.sanitised {
        Err(Refusal::SanitisationNeeded)
    } else {
        Ok(next)
    }
}

/// The actions a station may take on an item now, for the kiosk's buttons. Triage is offered
/// with any decision; sanitisation whatever its outcome.
pub fn allowed_actions(state: ItemState, station: StationKind, facts: Facts) -> Vec<Action> {
    Action::ALL
        .iter()
        .copied()
        .filter(|&action| {
            let trial = Facts {
                decision: Some(facts.decision.or(facts.route).unwrap_or(Route::Dismantle)),
                record_ok: true,
                ..facts
            };
            transition(state, action, station, trial).is_ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ItemState::*;

    fn facts(data_bearing: bool, sanitised: bool, route: Option<Route>) -> Facts {
        Facts {
            data_bearing,
            sanitised,
            route,
            decision: Some(Route::Dismantle),
            record_ok: true,
        }
    }

    /// Every allowed (state, action, station) with its result, for an item that bears no
    /// data and was routed as the action needs. Everything not listed must be refused.
    fn allowed() -> Vec<(ItemState, Action, StationKind, ItemState)> {
        use Action as A;
        use StationKind as K;
        vec![
            (Received, A::Triage, K::Triage, Triaged),
            (Triaged, A::Triage, K::Triage, Triaged),
            (Sanitised, A::Triage, K::Triage, Sanitised),
            (Triaged, A::Sanitise, K::Sanitisation, Sanitised),
            (Sanitised, A::Sanitise, K::Sanitisation, Sanitised),
            (
                Triaged,
                A::StartRefurbishment,
                K::Refurbishment,
                Refurbishing,
            ),
            (
                Sanitised,
                A::StartRefurbishment,
                K::Refurbishment,
                Refurbishing,
            ),
            (
                Refurbishing,
                A::FinishRefurbishment,
                K::Refurbishment,
                Refurbishing,
            ),
            (Refurbishing, A::MarkReused, K::Refurbishment, Reused),
            (Refurbishing, A::MarkReused, K::Shipping, Reused),
            (Triaged, A::StartDismantling, K::Dismantling, Dismantling),
            (Sanitised, A::StartDismantling, K::Dismantling, Dismantling),
            (
                Refurbishing,
                A::StartDismantling,
                K::Dismantling,
                Dismantling,
            ),
            (
                Dismantling,
                A::FinishDismantling,
                K::Dismantling,
                Dismantled,
            ),
            (Triaged, A::ShipWhole, K::Shipping, ShippedWhole),
            (Sanitised, A::ShipWhole, K::Shipping, ShippedWhole),
        ]
    }

    fn route_for(action: Action) -> Option<Route> {
        match action {
            Action::StartRefurbishment => Some(Route::Reuse),
            Action::ShipWhole => Some(Route::ShipWhole),
            _ => Some(Route::Dismantle),
        }
    }

    #[test]
    fn the_transition_table_is_exactly_as_designed() {
        let allowed = allowed();
        let mut checked = 0;
        for &state in ItemState::ALL {
            for &action in Action::ALL {
                for &station in StationKind::ALL {
                    let outcome = transition(
                        state,
                        action,
                        station,
                        facts(false, false, route_for(action)),
                    );
                    let expected = allowed
                        .iter()
                        .find(|(s, a, k, _)| *s == state && *a == action && *k == station)
                        .map(|(_, _, _, next)| *next);
                    match expected {
                        Some(next) => {
                            assert_eq!(outcome, Ok(next), "{state} {action} at {station}")
                        }
                        None => assert!(
                            outcome.is_err(),
                            "{state} {action} at {station} must be refused"
                        ),
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 8 * 8 * 8);
    }

    #[test]
    fn final_states_take_no_action() {
        for &state in ItemState::ALL.iter().filter(|s| s.is_final()) {
            for &station in StationKind::ALL {
                assert!(
                    allowed_actions(state, station, facts(false, true, Some(Route::Reuse)))
                        .is_empty()
                );
            }
        }
    }

    #[test]
    fn a_data_bearing_item_cannot_leave_triage_unsanitised() {
        for (action, station, route) in [
            (
                Action::StartRefurbishment,
                StationKind::Refurbishment,
                Route::Reuse,
            ),
            (
                Action::StartDismantling,
                StationKind::Dismantling,
                Route::Dismantle,
            ),
            (Action::ShipWhole, StationKind::Shipping, Route::ShipWhole),
        ] {
            assert_eq!(
                transition(Triaged, action, station, facts(true, false, Some(route))),
                Err(Refusal::SanitisationNeeded)
            );
            assert!(transition(Sanitised, action, station, facts(true, true, Some(route))).is_ok());
        }
        assert_eq!(
            transition(
                Refurbishing,
                Action::StartDismantling,
                StationKind::Dismantling,
                facts(true, false, Some(Route::Reuse))
            ),
            Err(Refusal::SanitisationNeeded)
        );
    }

    #[test]
    fn a_failed_sanitisation_changes_nothing() {
        let failed = Facts {
            record_ok: false,
            ..facts(true, false, Some(Route::Dismantle))
        };
        assert_eq!(
            transition(Triaged, Action::Sanitise, StationKind::Sanitisation, failed),
            Ok(Triaged)
        );
    }

    #[test]
    fn leaving_triage_follows_its_decision() {
        assert_eq!(
            transition(
                Triaged,
                Action::StartDismantling,
                StationKind::Dismantling,
                facts(false, false, Some(Route::Reuse))
            ),
            Err(Refusal::WrongRoute {
                route: Route::Reuse,
                wanted: Route::Dismantle
            })
        );
        let undecided = Facts {
            decision: None,
            ..facts(false, false, None)
        };
        assert_eq!(
            transition(Received, Action::Triage, StationKind::Triage, undecided),
            Err(Refusal::NoDecision)
        );
    }

    #[test]
    fn the_state_is_judged_before_the_station() {
        assert_eq!(
            transition(
                Reused,
                Action::StartDismantling,
                StationKind::Triage,
                facts(false, false, None)
            ),
            Err(Refusal::NotInThisState {
                state: Reused,
                action: Action::StartDismantling
            })
        );
        let refused = transition(
            Triaged,
            Action::ShipWhole,
            StationKind::Dismantling,
            facts(false, false, Some(Route::ShipWhole)),
        );
        assert!(
            refused
                .unwrap_err()
                .to_string()
                .contains("shipping station")
        );
    }

    #[test]
    fn the_kiosk_offers_what_the_state_and_station_allow() {
        assert_eq!(
            allowed_actions(Received, StationKind::Triage, facts(false, false, None)),
            [Action::Triage]
        );
        assert_eq!(
            allowed_actions(
                Triaged,
                StationKind::Dismantling,
                facts(false, false, Some(Route::Dismantle))
            ),
            [Action::StartDismantling]
        );
        assert!(
            allowed_actions(
                Triaged,
                StationKind::Dismantling,
                facts(true, false, Some(Route::Dismantle))
            )
            .is_empty()
        );
        assert_eq!(
            allowed_actions(
                Refurbishing,
                StationKind::Refurbishment,
                facts(false, true, Some(Route::Reuse))
            ),
            [Action::FinishRefurbishment, Action::MarkReused]
        );
    }
}

//! What a lot accepts in each of its states.
//!
//! An open lot takes mass in and gives it out; a closed one (a full bin, a poured ingot)
//! only gives out: it can be reweighed, sorted, charged or shipped, and reopened with a reason.
//! An emptied or shipped lot is done with.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LotState {
    Open,
    Closed,
    Emptied,
    Shipped,
}

impl LotState {
    pub fn as_str(self) -> &'static str {
        match self {
            LotState::Open => "open",
            LotState::Closed => "closed",
            LotState::Emptied => "emptied",
            LotState::Shipped => "shipped",
        }
    }

    /// Whether mass may be put into the lot.
    pub fn accepts_input(self) -> bool {
        self == LotState::Open
    }

    /// Whether mass may be taken out of (or reweighed in) the lot.
    pub fn gives_output(self) -> bool {
        matches!(self, LotState::Open | LotState::Closed)
    }

    /// The state after mass left the lot: an empty lot is emptied, or shipped when the last
    /// of it left in a shipment.
    pub fn after_output(self, balance_g: i64, shipped: bool) -> LotState {
        match (balance_g, shipped) {
            (0, true) => LotState::Shipped,
            (0, false) => LotState::Emptied,
            _ => self,
        }
    }
}

impl fmt::Display for LotState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LotState {
    type Err = String;

    fn from_str(text: &str) -> Result<LotState, String> {
        [
            LotState::Open,
            LotState::Closed,
            LotState::Emptied,
            LotState::Shipped,
        ]
        .into_iter()
        .find(|state| state.as_str() == text)
        .ok_or_else(|| format!("unknown lot state {text}"))
    }
}

/// Material families a melt may take: copper, and nothing else.
pub fn meltable(family: &str) -> bool {
    family == "copper"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_open_lot_takes_mass_in() {
        assert!(LotState::Open.accepts_input());
        for state in [LotState::Closed, LotState::Emptied, LotState::Shipped] {
            assert!(!state.accepts_input(), "{state}");
        }
    }

    #[test]
    fn open_and_closed_lots_give_mass_out_and_finished_ones_do_not() {
        assert!(LotState::Open.gives_output());
        assert!(LotState::Closed.gives_output());
        assert!(!LotState::Emptied.gives_output());
        assert!(!LotState::Shipped.gives_output());
    }

    #[test]
    fn a_lot_left_empty_is_emptied_or_shipped() {
        assert_eq!(LotState::Open.after_output(10, false), LotState::Open);
        assert_eq!(LotState::Closed.after_output(0, false), LotState::Emptied);
        assert_eq!(LotState::Open.after_output(0, true), LotState::Shipped);
        assert_eq!(LotState::Closed.after_output(5, true), LotState::Closed);
    }

    #[test]
    fn states_read_back_from_their_names() {
        for state in [
            LotState::Open,
            LotState::Closed,
            LotState::Emptied,
            LotState::Shipped,
        ] {
            assert_eq!(state.as_str().parse::<LotState>(), Ok(state));
        }
        assert!("full".parse::<LotState>().is_err());
    }

    #[test]
    fn only_copper_melts() {
        assert!(meltable("copper"));
        assert!(!meltable("aluminium"));
        assert!(!meltable("pcb"));
    }
}

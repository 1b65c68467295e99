//! Weighing tolerance: how far weighed outputs may stray from their input before a
//! supervisor has to say why.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The default tolerance: ±3 % of the input, in basis points (1 bp = 0.01 %).
pub const DEFAULT_BP: u32 = 300;

/// Input, outputs and the difference between them, in grams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Residual {
    pub input_g: i64,
    pub outputs_g: i64,
    /// `input_g − outputs_g`: positive when mass went missing, negative when outputs weigh more.
    pub residual_g: i64,
    /// The largest |residual| allowed.
    pub limit_g: i64,
    pub within: bool,
}

/// Compares weighed outputs with their input. Integer arithmetic: |r| · 10 000 ≤ input · bp.
pub fn check(input_g: i64, outputs_g: &[i64], tolerance_bp: u32) -> Residual {
    let outputs: i64 = outputs_g.iter().sum();
    let residual_g = input_g - outputs;
    let limit_g = i64::try_from(i128::from(input_g.max(0)) * i128::from(tolerance_bp) / 10_000)
        .unwrap_or(i64::MAX);
    Residual {
        input_g,
        outputs_g: outputs,
        residual_g,
        limit_g,
        within: residual_g.unsigned_abs() <= limit_g.unsigned_abs(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pc_dismantled_within_three_percent_passes() {
        // 8,400 g in, 8,150 g weighed out: 250 g missing, limit 252 g.
        let residual = check(8_400, &[7_000, 1_150], DEFAULT_BP);
        assert_eq!(residual.residual_g, 250);
        assert_eq!(residual.limit_g, 252);
        assert!(residual.within);
    }

    #[test]
    fn beyond_the_tolerance_either_way_is_flagged() {
        // The design's example: 8,400 g into 7,930 g is 470 g (5.6 %) missing.
        assert!(!check(8_400, &[7_930], DEFAULT_BP).within);
        let heavier = check(1_000, &[1_031], DEFAULT_BP);
        assert_eq!(heavier.residual_g, -31);
        assert!(!heavier.within);
        assert!(check(1_000, &[1_030], DEFAULT_BP).within);
    }

    #[test]
    fn the_tolerance_is_configurable() {
        assert!(check(10_000, &[9_000], 1_000).within);
        assert!(!check(10_000, &[9_000], 999).within);
        assert!(check(10_000, &[10_000], 0).within);
        assert!(!check(10_000, &[9_999], 0).within);
    }
}

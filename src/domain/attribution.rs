//! Mass-balance attribution (ISO 22095): a holder's mass by collection of origin, and how a
//! movement carries a proportional share of it, in whole grams that always add up.

use std::collections::BTreeMap;

use uuid::Uuid;

pub type CollectionId = Uuid;

/// Grams by collection. Entries are never zero; they sum to the holder's balance.
pub type Composition = BTreeMap<CollectionId, i64>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttributionError {
    #[error("there is nothing to take a share of")]
    Empty,
    #[error("a composition to share out must hold no negative part")]
    Negative,
}

/// Splits `mass_g` in proportion to `composition` with the largest-remainder method:
/// each collection gets ⌊w·m/W⌋, and the grams left over go one each to the largest
/// remainders, ties going to the smaller collection id. The parts sum exactly to `mass_g`,
/// and when `mass_g` ≤ W no part exceeds its collection's share of the source.
pub fn proportional(
    composition: &Composition,
    mass_g: i64,
) -> Result<Composition, AttributionError> {
    if composition.values().any(|&w| w < 0) {
        return Err(AttributionError::Negative);
    }
    let total: i128 = composition.values().map(|&w| i128::from(w)).sum();
    if total == 0 {
        return Err(AttributionError::Empty);
    }
    let mass = i128::from(mass_g);
    let mut parts: Vec<(CollectionId, i128, i128)> = composition
        .iter()
        .map(|(&collection, &w)| {
            let exact = i128::from(w) * mass;
            (collection, exact / total, exact % total)
        })
        .collect();
    let floor_sum: i128 = parts.iter().map(|(_, floor, _)| floor).sum();
    let left_over = usize::try_from(mass - floor_sum).expect("fewer left-over grams than parts");
    // Largest remainder first; BTreeMap order already sorts ties by collection id.
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|&a, &b| {
        parts[b]
            .2
            .cmp(&parts[a].2)
            .then(parts[a].0.cmp(&parts[b].0))
    });
    for &index in order.iter().take(left_over) {
        parts[index].1 += 1;
    }
    Ok(parts
        .into_iter()
        .filter(|(_, grams, _)| *grams != 0)
        .map(|(collection, grams, _)| {
            (
                collection,
                i64::try_from(grams).expect("a part fits in i64"),
            )
        })
        .collect())
}

/// Adds `parts` into `composition` (or takes them out with `sign` = -1), dropping zeros.
pub fn apply(composition: &mut Composition, parts: &Composition, sign: i64) {
    for (&collection, &grams) in parts {
        let entry = composition.entry(collection).or_insert(0);
        *entry += sign * grams;
        if *entry == 0 {
            composition.remove(&collection);
        }
    }
}

pub fn total(composition: &Composition) -> i64 {
    composition.values().sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(n: u128) -> CollectionId {
        Uuid::from_u128(n)
    }

    #[test]
    fn a_share_is_proportional_and_adds_up() {
        let composition = Composition::from([(id(1), 600), (id(2), 400)]);
        assert_eq!(
            proportional(&composition, 500),
            Ok(Composition::from([(id(1), 300), (id(2), 200)]))
        );
        // 100 g in three equal shares: 33 g each, and the gram left over breaks the tie by id.
        let thirds = Composition::from([(id(1), 100), (id(2), 100), (id(3), 100)]);
        assert_eq!(
            proportional(&thirds, 100),
            Ok(Composition::from([(id(1), 34), (id(2), 33), (id(3), 33)]))
        );
    }

    #[test]
    fn the_largest_remainder_gets_the_left_over_gram() {
        // 7 g out of 10/20/70: exact 0.7, 1.4, 4.9 → floors 0, 1, 4 = 5; 2 left: 0.9 then 0.7.
        let composition = Composition::from([(id(1), 10), (id(2), 20), (id(3), 70)]);
        assert_eq!(
            proportional(&composition, 7),
            Ok(Composition::from([(id(1), 1), (id(2), 1), (id(3), 5)]))
        );
    }

    #[test]
    fn nothing_to_share_is_refused() {
        assert_eq!(
            proportional(&Composition::new(), 5),
            Err(AttributionError::Empty)
        );
        let negative = Composition::from([(id(1), 10), (id(2), -3)]);
        assert_eq!(proportional(&negative, 5), Err(AttributionError::Negative));
    }

    fn any_composition() -> impl Strategy<Value = Composition> {
        prop::collection::btree_map((0u128..20).prop_map(id), 1i64..5_000_000, 1..8)
    }

    proptest! {
        #[test]
        fn parts_always_sum_to_the_mass_and_never_exceed_the_source(
            composition in any_composition(), fraction in 0.0f64..=1.0
        ) {
            let whole = total(&composition);
            let mass = ((whole as f64) * fraction) as i64;
            let parts = proportional(&composition, mass).unwrap();
            prop_assert_eq!(total(&parts), mass);
            for (collection, grams) in &parts {
                prop_assert!(*grams > 0);
                prop_assert!(*grams <= composition[collection]);
            }
            let mut rest = composition.clone();
            apply(&mut rest, &parts, -1);
            prop_assert_eq!(total(&rest), whole - mass);
            prop_assert!(rest.values().all(|g| *g > 0));
        }

        #[test]
        fn splitting_is_deterministic(composition in any_composition(), mass in 0i64..10_000_000) {
            prop_assert_eq!(proportional(&composition, mass), proportional(&composition, mass));
        }
    }
}

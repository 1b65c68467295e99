//! The time the services stamp on what they record. Always the real clock, except inside
//! [`simulated`], where the demo replays three months of workshop life and each step
//! happens at the simulated time it sets with [`set`].

use std::cell::Cell;
use std::future::Future;

use chrono::{DateTime, Utc};

tokio::task_local! {
    static SIMULATED: Cell<DateTime<Utc>>;
}

/// Now: the real time, or the simulated time inside [`simulated`].
pub fn now() -> DateTime<Utc> {
    SIMULATED.try_with(Cell::get).unwrap_or_else(|_| Utc::now())
}

/// Runs `work` with the clock starting at `start`; [`set`] moves it.
pub async fn simulated<F: Future>(start: DateTime<Utc>, work: F) -> F::Output {
    SIMULATED.scope(Cell::new(start), work).await
}

/// Moves the simulated clock; does nothing outside [`simulated`].
pub fn set(time: DateTime<Utc>) {
    let _ = SIMULATED.try_with(|clock| clock.set(time));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_clock_is_real_outside_a_simulation_and_set_inside_one() {
        let start = DateTime::parse_from_rfc3339("2026-09-01T08:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let later = start + chrono::Duration::minutes(7);
        let seen = simulated(start, async {
            let first = now();
            set(later);
            (first, now())
        })
        .await;
        assert_eq!(seen, (start, later));
        assert!(now() > later, "outside, the real clock");
        set(start);
        assert!(now() > later, "set outside a simulation does nothing");
    }
}

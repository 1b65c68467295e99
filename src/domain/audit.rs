//! The audit log's hash chain: each event's hash covers the previous event's hash and the
//! event's canonical form, so editing, removing or reordering a stored event shows. The
//! format lives in the migration crate, whose migration chained the events recorded before
//! it, so that both hash with the one same code.

pub use migration::audit_chain::{GENESIS, Link, canonical, hash, to_micros};

use crate::entities::event;

/// The key of the chain-head row.
pub const HEAD_ID: i32 = 1;

/// The chain link a stored event claims to be.
pub fn link_of(event: &event::Model) -> Link<'_> {
    Link {
        seq: event.seq,
        id: event.id,
        at: event.at,
        actor_id: event.actor_id,
        station_id: event.station_id,
        kind: &event.kind,
        subjects: &event.subjects,
        payload: &event.payload,
        idempotency_key: event.idempotency_key.as_deref(),
    }
}

/// What is wrong with a link of the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// The event's fields do not hash to its stored hash: it was changed.
    HashMismatch { stored: String, computed: String },
    /// The event does not name the previous event's hash: an event before it was changed,
    /// removed or inserted.
    PrevHashMismatch { stored: String, expected: String },
    /// Sequence numbers jump: the events in between were removed.
    Gap { expected_seq: i64 },
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::HashMismatch { stored, computed } => write!(
                f,
                "hash mismatch: its fields hash to {computed}, it stores {stored} (the event was changed)"
            ),
            Break::PrevHashMismatch { stored, expected } => write!(
                f,
                "previous-hash mismatch: it names {stored}, the event before it hashes to {expected} (an event before it was changed, removed or inserted)"
            ),
            Break::Gap { expected_seq } => write!(
                f,
                "gap in sequence: expected sequence {expected_seq} here (events were removed)"
            ),
        }
    }
}

/// Checks one event against the one before it (`expected_seq` and `prev_hash`); sequence
/// first, then the link to the previous hash, then the event's own hash.
pub fn check(event: &event::Model, expected_seq: i64, prev_hash: &str) -> Result<(), Break> {
    if event.seq != expected_seq {
        return Err(Break::Gap { expected_seq });
    }
    if event.prev_hash != prev_hash {
        return Err(Break::PrevHashMismatch {
            stored: event.prev_hash.clone(),
            expected: prev_hash.to_string(),
        });
    }
    let computed = hash(prev_hash, &link_of(event));
    if computed != event.hash {
        return Err(Break::HashMismatch {
            stored: event.hash.clone(),
            computed,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use serde_json::json;
    use uuid::Uuid;

    fn chain(length: i64) -> Vec<event::Model> {
        let mut prev = GENESIS.to_string();
        (1..=length)
            .map(|seq| {
                let mut event = event::Model {
                    id: Uuid::now_v7(),
                    at: to_micros(Utc::now()),
                    actor_id: None,
                    station_id: None,
                    kind: "test.fact".into(),
                    subjects: json!([format!("IT-{seq}")]),
                    payload: json!({"mass_g": seq * 100}),
                    idempotency_key: None,
                    seq,
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                event.hash = hash(&prev, &link_of(&event));
                prev = event.hash.clone();
                event
            })
            .collect()
    }

    fn first_break(events: &[event::Model]) -> Option<(i64, Break)> {
        let mut prev = GENESIS.to_string();
        for (index, event) in events.iter().enumerate() {
            if let Err(broken) = check(event, index as i64 + 1, &prev) {
                return Some((event.seq, broken));
            }
            prev = event.hash.clone();
        }
        None
    }

    #[test]
    fn a_clean_chain_checks() {
        assert_eq!(first_break(&chain(5)), None);
    }

    #[test]
    fn a_changed_payload_is_a_hash_mismatch_at_that_event() {
        let mut events = chain(5);
        events[2].payload = json!({"mass_g": 1});
        assert!(matches!(
            first_break(&events),
            Some((3, Break::HashMismatch { .. }))
        ));
    }

    #[test]
    fn a_changed_event_with_a_recomputed_hash_breaks_the_next_link() {
        let mut events = chain(5);
        events[2].kind = "test.forged".into();
        events[2].hash = hash(&events[1].hash, &link_of(&events[2]));
        assert!(matches!(
            first_break(&events),
            Some((4, Break::PrevHashMismatch { .. }))
        ));
    }

    #[test]
    fn a_removed_event_is_a_gap() {
        let mut events = chain(5);
        events.remove(1);
        assert_eq!(
            first_break(&events),
            Some((3, Break::Gap { expected_seq: 2 }))
        );
    }
}

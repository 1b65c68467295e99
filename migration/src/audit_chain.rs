//! The audit log's hash chain: how one event is serialised and hashed. Defined here, beside
//! the migration that chains the events already recorded, so that the migration and the
//! service (`greenchip::domain::audit`) hash with the one same code.

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The previous hash of the first event: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of an event that its hash covers.
#[derive(Debug, Clone, Copy)]
pub struct Link<'a> {
    pub seq: i64,
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub station_id: Option<Uuid>,
    pub kind: &'a str,
    pub subjects: &'a Value,
    pub payload: &'a Value,
    pub idempotency_key: Option<&'a str>,
}

/// A time as both databases keep it: PostgreSQL stores microseconds, SQLite whatever it is
/// given; events are stored and hashed at microseconds.
pub fn to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

/// The canonical form of an event: a compact JSON array
/// `[seq, id, at, actor_id, station_id, kind, subjects, payload, idempotency_key]`, the time
/// as RFC 3339 UTC with six decimals, objects with their keys sorted (PostgreSQL's `jsonb`
/// reorders keys, so the stored text is never what is hashed).
pub fn canonical(link: &Link<'_>) -> String {
    let uuid = |id: Option<Uuid>| id.map_or(Value::Null, |id| Value::String(id.to_string()));
    let fields = [
        Value::from(link.seq),
        Value::String(link.id.to_string()),
        Value::String(
            to_micros(link.at)
                .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                .to_string(),
        ),
        uuid(link.actor_id),
        uuid(link.station_id),
        Value::String(link.kind.to_string()),
    ];
    let mut out = String::from("[");
    for field in &fields {
        canonical_json(field, &mut out);
        out.push(',');
    }
    canonical_json(link.subjects, &mut out);
    out.push(',');
    canonical_json(link.payload, &mut out);
    out.push(',');
    canonical_json(
        &link
            .idempotency_key
            .map_or(Value::Null, |key| Value::String(key.to_string())),
        &mut out,
    );
    out.push(']');
    out
}

/// Writes `value` as compact JSON with every object's keys in byte order.
pub fn canonical_json(value: &Value, out: &mut String) {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                canonical_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                canonical_json(item, out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The event's hash: SHA-256, in lower-case hex, of the previous event's hash (hex) followed
/// by the event's canonical form.
pub fn hash(prev_hash: &str, link: &Link<'_>) -> String {
    let mut digest = Sha256::new();
    digest.update(prev_hash.as_bytes());
    digest.update(canonical(link).as_bytes());
    hex::encode(digest.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn link<'a>(subjects: &'a Value, payload: &'a Value) -> Link<'a> {
        Link {
            seq: 7,
            id: Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001),
            at: DateTime::parse_from_rfc3339("2026-11-29T10:00:00.123456789Z")
                .unwrap()
                .with_timezone(&Utc),
            actor_id: None,
            station_id: Some(Uuid::from_u128(2)),
            kind: "ledger.transfer",
            subjects,
            payload,
            idempotency_key: Some("scan-1"),
        }
    }

    #[test]
    fn the_canonical_form_sorts_keys_and_keeps_microseconds() {
        let subjects = json!(["LT-1"]);
        let payload = json!({"z": 1, "a": {"y": [true, null], "b": "é\"x"}});
        assert_eq!(
            canonical(&link(&subjects, &payload)),
            r#"[7,"01930000-0000-7000-8000-000000000001","2026-11-29T10:00:00.123456Z",null,"00000000-0000-0000-0000-000000000002","ledger.transfer",["LT-1"],{"a":{"b":"é\"x","y":[true,null]},"z":1},"scan-1"]"#
        );
    }

    #[test]
    fn key_order_and_nanoseconds_do_not_change_the_hash_but_any_field_does() {
        let subjects = json!(["LT-1"]);
        let payload: Value = serde_json::from_str(r#"{"b": 2, "a": 1}"#).unwrap();
        let reordered: Value = serde_json::from_str(r#"{"a":1,"b":2}"#).unwrap();
        let base = link(&subjects, &payload);
        let expected = hash(GENESIS, &base);
        assert_eq!(expected.len(), 64);
        assert_eq!(hash(GENESIS, &link(&subjects, &reordered)), expected);
        let truncated = Link {
            at: to_micros(base.at),
            ..base
        };
        assert_eq!(hash(GENESIS, &truncated), expected);

        let changed = json!({"a": 1, "b": 3});
        assert_ne!(hash(GENESIS, &link(&subjects, &changed)), expected);
        assert_ne!(hash(&expected, &base), expected);
        assert_ne!(hash(GENESIS, &Link { seq: 8, ..base }), expected);
        assert_ne!(
            hash(
                GENESIS,
                &Link {
                    idempotency_key: None,
                    ..base
                }
            ),
            expected
        );
        assert_ne!(
            hash(
                GENESIS,
                &Link {
                    kind: "ledger.ship",
                    ..base
                }
            ),
            expected
        );
    }
}

//! Verifying the audit log's hash chain: every event in sequence, each naming the hash of the
//! one before and hashing to its own, the last one matching the chain head.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::domain::audit::{self, Break, GENESIS};
use crate::entities::{audit_chain_head, event};
use crate::error::AppResult;

/// Events read at a time.
const PAGE: u64 = 1000;

/// What a walk of the chain found.
#[derive(Debug, Clone)]
pub struct ChainReport {
    /// Events that checked out before the first damage (all of them when there is none).
    pub verified: u64,
    /// The chain head: the last sequence number and hash, as the writers left them.
    pub head_seq: i64,
    pub head_hash: String,
    pub damage: Option<Damage>,
}

impl ChainReport {
    pub fn is_intact(&self) -> bool {
        self.damage.is_none()
    }
}

/// The first place where the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    /// This event was changed, or one before it removed or changed.
    Event {
        id: Uuid,
        seq: i64,
        kind: String,
        problem: Break,
    },
    /// Every stored event chains, but the head names another end: events at the end were
    /// removed (or the last one replaced).
    Head {
        head_seq: i64,
        head_hash: String,
        last_seq: i64,
        last_hash: String,
    },
    /// The chain head's row was removed.
    HeadMissing,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::Event {
                id,
                seq,
                kind,
                problem,
            } => write!(f, "event {id} (sequence {seq}, {kind}): {problem}"),
            Damage::Head {
                head_seq,
                head_hash,
                last_seq,
                last_hash,
            } => write!(
                f,
                "the chain head names sequence {head_seq} ({head_hash}), the last event is sequence {last_seq} ({last_hash}): events at the end were removed or replaced"
            ),
            Damage::HeadMissing => {
                f.write_str("the chain head (table audit_chain_head) is missing")
            }
        }
    }
}

/// Walks the whole chain in sequence order and stops at the first damage.
pub async fn verify(conn: &impl ConnectionTrait) -> AppResult<ChainReport> {
    let head = audit_chain_head::Entity::find_by_id(audit::HEAD_ID)
        .one(conn)
        .await?;
    let mut report = ChainReport {
        verified: 0,
        head_seq: head.as_ref().map_or(0, |head| head.seq),
        head_hash: head
            .as_ref()
            .map_or_else(String::new, |head| head.hash.clone()),
        damage: None,
    };
    let mut last_seq = 0i64;
    let mut prev_hash = GENESIS.to_string();
    // Events numbered 0 or below (none should be) come first and show as a gap.
    let mut after = i64::MIN;
    loop {
        let page = event::Entity::find()
            .filter(event::Column::Seq.gt(after))
            .order_by_asc(event::Column::Seq)
            .limit(PAGE)
            .all(conn)
            .await?;
        for stored in &page {
            if let Err(problem) = audit::check(stored, last_seq + 1, &prev_hash) {
                report.damage = Some(Damage::Event {
                    id: stored.id,
                    seq: stored.seq,
                    kind: stored.kind.clone(),
                    problem,
                });
                return Ok(report);
            }
            report.verified += 1;
            last_seq = stored.seq;
            prev_hash.clone_from(&stored.hash);
        }
        match page.last() {
            Some(last) if page.len() as u64 == PAGE => after = last.seq,
            _ => break,
        }
    }
    if head.is_none() {
        report.damage = Some(Damage::HeadMissing);
    } else if last_seq != report.head_seq || prev_hash != report.head_hash {
        report.damage = Some(Damage::Head {
            head_seq: report.head_seq,
            head_hash: report.head_hash.clone(),
            last_seq,
            last_hash: prev_hash,
        });
    }
    Ok(report)
}

//! The scan log's writer: group commit.
//!
//! Scans arrive from many stations at once, and each must be stored before it is answered.
//! Stored one by one, every scan takes the database's write lock for itself: on SQLite the
//! connections then queue on its single writer and sleep in the busy handler. Here one
//! writer task takes every row that is waiting and stores them in one statement, one
//! commit, and only then answers each waiting scan: as durable as a row per commit, with
//! one write per batch. A row whose device already logged its client scan id is skipped
//! and its scan told so, to answer the first answer.

use std::sync::OnceLock;

use sea_orm::sea_query::OnConflict;
use sea_orm::{DatabaseConnection, DbErr, EntityTrait};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::entities::scan;

/// The most rows stored in one statement (13 columns each: well within both databases'
/// limits on bound parameters).
const BATCH: usize = 256;

/// What became of a row handed to the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Stored and committed.
    Stored,
    /// Its device had already logged this client scan id: nothing stored.
    Repeat,
    /// The batch failed (the database is away, say): store it yourself to learn why.
    Failed,
}

struct Waiting {
    row: scan::ActiveModel,
    id: Uuid,
    done: oneshot::Sender<Appended>,
}

/// The writer of one database's scan log; its task starts with the first row.
pub struct ScanLog {
    db: DatabaseConnection,
    sender: OnceLock<mpsc::Sender<Waiting>>,
}

impl ScanLog {
    pub fn new(db: DatabaseConnection) -> ScanLog {
        ScanLog {
            db,
            sender: OnceLock::new(),
        }
    }

    /// Stores one row (whose `id` must be set) with whatever other rows are waiting.
    pub async fn append(&self, id: Uuid, row: scan::ActiveModel) -> Appended {
        let sender = self.sender.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(4 * BATCH);
            tokio::spawn(write(self.db.clone(), receiver));
            sender
        });
        let (done, answer) = oneshot::channel();
        if sender.send(Waiting { row, id, done }).await.is_err() {
            return Appended::Failed;
        }
        answer.await.unwrap_or(Appended::Failed)
    }
}

/// The writer task: until every sender is gone, store what waits, then answer it.
async fn write(db: DatabaseConnection, mut receiver: mpsc::Receiver<Waiting>) {
    let mut batch = Vec::with_capacity(BATCH);
    while receiver.recv_many(&mut batch, BATCH).await > 0 {
        let rows = batch.iter().map(|waiting| waiting.row.clone());
        let stored = store(&db, rows).await;
        for waiting in batch.drain(..) {
            let appended = match &stored {
                Ok(ids) if ids.contains(&waiting.id) => Appended::Stored,
                Ok(_) => Appended::Repeat,
                Err(_) => Appended::Failed,
            };
            // A scan whose request was dropped no longer waits for its answer.
            let _ = waiting.done.send(appended);
        }
    }
}

/// One statement: the ids of the rows stored (a repeat is skipped, not an error).
async fn store(
    db: &DatabaseConnection,
    rows: impl IntoIterator<Item = scan::ActiveModel>,
) -> Result<Vec<Uuid>, DbErr> {
    let stored = scan::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([scan::Column::DeviceId, scan::Column::ClientScanId])
                .do_nothing()
                .to_owned(),
        )
        .exec_with_returning_keys(db)
        .await;
    match stored {
        Err(DbErr::RecordNotInserted) => Ok(Vec::new()),
        other => other,
    }
}

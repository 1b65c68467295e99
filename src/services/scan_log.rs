//! The scan log's writer: group commit.
//!
//! Scans arrive from many stations at once, and each must be stored before it is answered.
//! Stored one by one, every scan takes the database's write lock for itself: on SQLite the
//! connections then queue on its single writer and sleep in the busy handler. Here one
//! writer task takes every row that is waiting and stores them in one commit (in a few
//! statements of fixed sizes), and only then answers each waiting scan: as durable as a
//! row per commit, with one write per batch. A row whose device already logged its client scan id is skipped
//! and its scan told so, to answer the first answer.

use std::sync::OnceLock;

use sea_orm::sea_query::OnConflict;
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, TransactionTrait};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::entities::scan;

/// The most rows stored in one commit.
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

/// The sizes of the statements a batch is stored in, largest first. A statement of 37 rows
/// is a new text for the database to parse and plan; 16 + 16 + 4 + 1 rows are statements
/// it has prepared before (a connection keeps its prepared statements by text), and parsing
/// was a fifth of a scan's time on SQLite.
const STATEMENT_ROWS: [usize; 4] = [64, 16, 4, 1];

/// The batch in one transaction: the ids of the rows stored (a repeat is skipped, not an
/// error).
async fn store(
    db: &DatabaseConnection,
    rows: impl IntoIterator<Item = scan::ActiveModel>,
) -> Result<Vec<Uuid>, DbErr> {
    let mut rows = rows.into_iter().collect::<Vec<_>>();
    let txn = db.begin().await?;
    let mut stored = Vec::with_capacity(rows.len());
    while !rows.is_empty() {
        let size = STATEMENT_ROWS
            .into_iter()
            .find(|size| *size <= rows.len())
            .unwrap_or(1);
        let inserted = scan::Entity::insert_many(rows.drain(..size))
            .on_conflict(
                OnConflict::columns([scan::Column::DeviceId, scan::Column::ClientScanId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_with_returning_keys(&txn)
            .await;
        match inserted {
            Ok(ids) => stored.extend(ids),
            Err(DbErr::RecordNotInserted) => {}
            Err(error) => return Err(error),
        }
    }
    txn.commit().await?;
    Ok(stored)
}

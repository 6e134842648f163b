//! Group commit on SQLite's single writer connection.
//!
//! Every SQLite write goes through one connection (see [`super::Db::connect`]). Committing one
//! transaction per action made that connection pay, per action, a pool hand-over, `BEGIN`,
//! `COMMIT`, the WAL frames of every page the action touched and the other connections' page
//! caches going stale. When actions queue for the writer, they now share one transaction:
//!
//! - the action that finds the writer free begins the transaction (`BEGIN`), as before;
//! - when an action commits and others are waiting, its work stays in the open transaction,
//!   a savepoint is opened for the next action and the connection is handed to the first
//!   waiter; each later action runs inside that savepoint, so one that fails, is dropped or
//!   panics rolls back to it and takes nothing of its neighbours with it;
//! - the last action of the batch (no one waiting, [`MAX_ACTIONS`] reached or the first
//!   acknowledged action has waited [`MAX_WAIT`]) runs `COMMIT`; only then do the after-commit
//!   hooks of every action run and every action's `commit()` return. If `COMMIT` fails, every
//!   action of the batch gets the error: nothing is acknowledged that is not stored.
//!
//! With no one waiting this is exactly one transaction per action. Code that takes the writer
//! pool directly (single statements, operator paths) queues on the pool as before and gets the
//! connection between batches. The steps after an action's work (release, hand-over, commit)
//! run on a spawned task, so a request dropped half-way cannot cancel a commit that other
//! actions are waiting for.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sqlx::any::AnyTransactionManager;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Executor, TransactionManager};
use tokio::sync::oneshot;

use super::{AfterCommit, DbError, DbResult};

/// Most actions one `COMMIT` carries.
pub const MAX_ACTIONS: usize = 32;

/// Longest the first acknowledged action of a batch waits for later ones to join it.
pub const MAX_WAIT: Duration = Duration::from_millis(4);

/// The savepoint each action after the first of a batch runs in. Only one action runs at a
/// time, so one name suffices: it is released (or rolled back to) before the next is opened.
const SAVEPOINT: &str = "SAVEPOINT portico_action";
const RELEASE_AND_NEXT: &str = "RELEASE portico_action; SAVEPOINT portico_action";
const ROLLBACK_TO: &str = "ROLLBACK TO portico_action";

/// How many commits the writer made and how many write actions they carried.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteBatches {
    /// Real `COMMIT`s of grouped transactions.
    pub commits: u64,
    /// Write actions those commits carried.
    pub actions: u64,
    /// The most actions one commit carried.
    pub largest: u64,
}

type Ack = oneshot::Sender<DbResult<()>>;

/// The queue of actions waiting for the writer, and what the batches did.
#[derive(Default)]
pub(crate) struct GroupCommit {
    waiters: Mutex<VecDeque<(u64, oneshot::Sender<Box<Batch>>)>>,
    next_id: AtomicU64,
    commits: AtomicU64,
    actions: AtomicU64,
    largest: AtomicU64,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl GroupCommit {
    fn queue(&self) -> MutexGuard<'_, VecDeque<(u64, oneshot::Sender<Box<Batch>>)>> {
        // The queue holds no invariant a panic could break half-way.
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What the batches did so far.
    pub(crate) fn stats(&self) -> WriteBatches {
        WriteBatches {
            commits: self.commits.load(Ordering::Relaxed),
            actions: self.actions.load(Ordering::Relaxed),
            largest: self.largest.load(Ordering::Relaxed),
        }
    }

    /// Actions waiting for the writer right now.
    pub(crate) fn waiting(&self) -> usize {
        self.queue().len()
    }

    fn record(&self, actions: usize) {
        let n = actions as u64;
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.actions.fetch_add(n, Ordering::Relaxed);
        self.largest.fetch_max(n, Ordering::Relaxed);
        metrics::histogram!("portico_db_group_commit_actions").record(actions as f64);
    }

    /// Gives `batch` to the longest-waiting action that is still there.
    fn hand_off(&self, mut batch: Box<Batch>) -> Result<(), Box<Batch>> {
        let mut q = self.queue();
        while let Some((_, w)) = q.pop_front() {
            match w.send(batch) {
                Ok(()) => return Ok(()),
                Err(back) => batch = back,
            }
        }
        Err(batch)
    }

    /// Starts an action: joins the open batch when one is handed over, else takes the writer
    /// connection from the pool and begins a transaction.
    pub(crate) async fn begin(self: &Arc<Self>, pool: &AnyPool) -> DbResult<Action> {
        let (tx, rx) = oneshot::channel();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.queue().push_back((id, tx));
        let mut ticket = Ticket {
            lane: self.clone(),
            id,
            rx: Some(rx),
        };
        let handed = async {
            match ticket.rx.as_mut() {
                Some(rx) => rx.await.ok(),
                None => None,
            }
        };
        let batch = tokio::select! {
            biased;
            Some(batch) = handed => batch,
            conn = pool.acquire() => Box::new(Batch::new(conn?, self.clone())),
        };
        drop(ticket);
        let whole = !batch.open;
        let mut action = Action {
            batch: Some(batch),
            whole,
        };
        if whole {
            // Marked open before the await: if this future is dropped half-way, the rollback
            // in `Action::drop` covers a BEGIN that did run (and is a no-op if it did not).
            if let Some(b) = action.batch.as_mut() {
                b.open = true;
            }
            AnyTransactionManager::begin(action.conn(), None).await?;
        }
        Ok(action)
    }
}

/// A place in the writer queue; leaving it (dropped while waiting) takes the place out and
/// passes on a batch that was handed over just as the wait ended.
struct Ticket {
    lane: Arc<GroupCommit>,
    id: u64,
    rx: Option<oneshot::Receiver<Box<Batch>>>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.lane.queue().retain(|(id, _)| *id != self.id);
        if let Some(mut rx) = self.rx.take() {
            rx.close();
            if let Ok(batch) = rx.try_recv() {
                batch.pass_on();
            }
        }
    }
}

/// The writer connection while it carries a transaction for one or more actions.
pub(crate) struct Batch {
    conn: PoolConnection<Any>,
    lane: Arc<GroupCommit>,
    /// A transaction is (or may be) begun; when handed over with members, the savepoint for
    /// the next action is open too.
    open: bool,
    /// Actions whose work is in the transaction, waiting for the commit.
    members: Vec<Ack>,
    hooks: Vec<AfterCommit>,
    first_ack: Option<Instant>,
}

/// What sits on top of the transaction when an action is done with it.
#[derive(Clone, Copy)]
enum Top {
    /// The first action's work, straight in the transaction.
    Plain,
    /// A later action's work, in the savepoint.
    Savepoint,
    /// The savepoint, rolled back and empty.
    Empty,
}

impl Batch {
    fn new(conn: PoolConnection<Any>, lane: Arc<GroupCommit>) -> Batch {
        Batch {
            conn,
            lane,
            open: false,
            members: Vec::new(),
            hooks: Vec::new(),
            first_ack: None,
        }
    }

    fn may_grow(&self) -> bool {
        self.members.len() < MAX_ACTIONS && self.first_ack.is_none_or(|t| t.elapsed() < MAX_WAIT)
    }

    /// After an action: hand the transaction to the next waiter, or commit it.
    async fn proceed(mut self: Box<Self>, top: Top) {
        if !self.open {
            // Nothing of anyone's is in it (the first action was rolled back).
            if let Err(b) = self.lane.clone().hand_off(self) {
                drop(b);
            }
            return;
        }
        if self.may_grow() && self.lane.waiting() > 0 {
            let next = match top {
                Top::Plain => Some(SAVEPOINT),
                Top::Savepoint => Some(RELEASE_AND_NEXT),
                Top::Empty => None,
            };
            if let Some(sql) = next
                && let Err(e) = self.conn.execute(sql).await
            {
                return self.fail(e).await;
            }
            match self.lane.clone().hand_off(self) {
                Ok(()) => return,
                // The waiters left meanwhile; COMMIT ends the empty savepoint too.
                Err(b) => self = b,
            }
        }
        self.finish().await
    }

    /// Like [`Batch::proceed`] for a batch whose savepoint is ready, from code that cannot wait.
    fn pass_on(self: Box<Self>) {
        let batch = if self.may_grow() || !self.open {
            match self.lane.clone().hand_off(self) {
                Ok(()) => return,
                Err(b) => b,
            }
        } else {
            self
        };
        if batch.open
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            rt.spawn(batch.finish());
        }
        // Otherwise dropping it rolls back and tells the members.
    }

    /// The real COMMIT: then the hooks, then every action hears it is stored.
    async fn finish(mut self: Box<Self>) {
        match AnyTransactionManager::commit(&mut self.conn).await {
            Ok(()) => {
                self.open = false;
                self.lane.record(self.members.len());
                for f in std::mem::take(&mut self.hooks) {
                    f();
                }
                for m in std::mem::take(&mut self.members) {
                    let _ = m.send(Ok(()));
                }
            }
            Err(e) => self.fail(e).await,
        }
    }

    /// Rolls the whole transaction back and gives every member the error.
    async fn fail(mut self: Box<Self>, e: sqlx::Error) {
        tracing::error!(error = %e, actions = self.members.len(), "grouped write transaction failed");
        if AnyTransactionManager::rollback(&mut self.conn)
            .await
            .is_err()
        {
            // A connection that cannot roll back is not given to anyone else.
            self.conn.close_on_drop();
        }
        self.open = false;
        self.hooks.clear();
        let msg = e.to_string();
        let mut first = Some(DbError::from(e));
        for m in std::mem::take(&mut self.members) {
            let err = first
                .take()
                .unwrap_or_else(|| DbError::CommitFailed(msg.clone()));
            let _ = m.send(Err(err));
        }
    }

    /// Takes back an action that ended without committing, then carries on with the batch.
    async fn roll_back_action(mut self: Box<Self>, whole: bool) {
        if whole {
            // Depth-aware: ROLLBACK if the BEGIN ran, nothing if it did not.
            if AnyTransactionManager::rollback(&mut self.conn)
                .await
                .is_err()
            {
                self.conn.close_on_drop();
                self.open = false;
                return;
            }
            self.open = false;
            self.proceed(Top::Plain).await
        } else {
            if let Err(e) = self.conn.execute(ROLLBACK_TO).await {
                return self.fail(e).await;
            }
            self.proceed(Top::Empty).await
        }
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        if self.open {
            // Members' acks drop with it, so each of them gets an error.
            AnyTransactionManager::start_rollback(&mut self.conn);
        }
    }
}

/// One write action's use of the writer on SQLite.
pub(crate) struct Action {
    batch: Option<Box<Batch>>,
    /// This action began the transaction (it runs without a savepoint).
    whole: bool,
}

impl Action {
    /// The writer connection; the action owns it until it commits or is dropped.
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        match self.batch.as_mut() {
            Some(b) => &mut b.conn,
            // `batch` is only taken by `commit` (which consumes the action) and `drop`.
            None => unreachable!("a write action without its connection"),
        }
    }

    /// Puts the action's work in the batch and returns once the COMMIT that carries it has
    /// succeeded and the hooks ran.
    pub(crate) async fn commit(mut self, hooks: Vec<AfterCommit>) -> DbResult<()> {
        let Some(mut batch) = self.batch.take() else {
            return Err(DbError::CommitFailed("write action already ended".into()));
        };
        let (ack, acked) = oneshot::channel();
        batch.members.push(ack);
        batch.hooks.extend(hooks);
        batch.first_ack.get_or_insert_with(Instant::now);
        let top = if self.whole {
            Top::Plain
        } else {
            Top::Savepoint
        };
        tokio::spawn(batch.proceed(top));
        acked.await.unwrap_or_else(|_| {
            Err(DbError::CommitFailed(
                "the write batch was abandoned".into(),
            ))
        })
    }
}

impl Drop for Action {
    fn drop(&mut self) {
        let Some(batch) = self.batch.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(batch.roll_back_action(self.whole));
            }
            // No runtime to roll back on: dropping the batch rolls all of it back.
            Err(_) => drop(batch),
        }
    }
}

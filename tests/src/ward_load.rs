//! A steady night's load on a cluster, for the fault suites: nurses'
//! devices raising cannula tasks on Ward 7, doctors' devices accepting
//! what is offered to them, and a coordinator's device watching every
//! event, each a [`Roaming`] device that follows the owner across
//! takeovers. A [`Ledger`] records every answer with when it came, so a
//! test can check afterwards that everything acknowledged is in the
//! database, that no task was accepted twice, that the watcher saw every
//! acknowledged raise once, and when acknowledgements came.

use crate::roaming::Roaming;
use crate::story::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use wardpage_proto::{
    Command, ErrorCode, Event, OfferState, StaffId, TaskChange, TaskId, TaskView,
};

/// One acknowledged command: what, when the answer came, from which node.
#[derive(Debug, Clone)]
pub struct Ack {
    pub task: TaskId,
    pub at: Instant,
    pub node: String,
    /// The accepter, for an accept.
    pub by: Option<StaffId>,
}

/// Everything the load's devices were told.
#[derive(Debug, Default)]
pub struct Ledger {
    pub raised: Vec<Ack>,
    pub accepted: Vec<Ack>,
    /// Refusals: the code, and when.
    pub refused: Vec<(ErrorCode, Instant)>,
    /// Why the devices' connections ended, and when (every device's).
    pub closes: Vec<(Instant, String)>,
    /// How many times each device resumed on a node (the watcher last).
    pub resumes: Vec<u64>,
}

/// The running load; [`Load::stop`] ends it and hands back the watcher.
pub struct Load {
    pub ledger: Arc<Mutex<Ledger>>,
    /// Bumped on every acknowledgement, for waits on progress.
    pub progress: watch::Receiver<usize>,
    stop: watch::Sender<bool>,
    devices: Vec<JoinHandle<anyhow::Result<Roaming>>>,
    watcher: JoinHandle<anyhow::Result<(Roaming, BTreeMap<TaskId, u32>)>>,
}

impl Load {
    /// Starts `raisers` nurses' devices and the accepting doctors' on the
    /// cluster at `bases`, and the coordinator's watcher.
    pub async fn start(bases: &[String], raisers: usize) -> anyhow::Result<Load> {
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let (stop, stopped) = watch::channel(false);
        let (bump, progress) = watch::channel(0usize);
        let bump = Arc::new(bump);
        let watcher = Roaming::connect(bases, "coord.hale").await?;
        let watcher = tokio::spawn(watch_raises(watcher, stopped.clone()));
        let mut devices = Vec::new();
        for _ in 0..raisers {
            let d = Roaming::connect(bases, "nurse.okafor").await?;
            devices.push(tokio::spawn(raise(
                d,
                ledger.clone(),
                bump.clone(),
                stopped.clone(),
            )));
        }
        for who in ["fy1.patel", "sho.khan"] {
            let d = Roaming::connect(bases, who).await?;
            devices.push(tokio::spawn(accept(
                d,
                ledger.clone(),
                bump.clone(),
                stopped.clone(),
            )));
        }
        Ok(Load {
            ledger,
            progress,
            stop,
            devices,
            watcher,
        })
    }

    /// Raises acknowledged so far.
    pub fn raised(&self) -> usize {
        self.lock().raised.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until `more` raises beyond those acknowledged now are
    /// acknowledged (at most `within`).
    pub async fn until_more_raised(&mut self, more: usize, within: Duration) -> anyhow::Result<()> {
        let target = self.raised() + more;
        let ledger = self.ledger.clone();
        let reached = move || ledger.lock().map_or(0, |l| l.raised.len()) >= target;
        tokio::time::timeout(within, self.progress.wait_for(|_| reached()))
            .await
            .map_err(|_| {
                anyhow::anyhow!("fewer than {more} more raises acknowledged in {within:?}")
            })??;
        Ok(())
    }

    /// Ends the load: every device's last command is answered first. The
    /// watcher then reads on until it has seen every acknowledged raise;
    /// its count of `raised` events per task.
    pub async fn stop(self) -> anyhow::Result<(Ledger, Roaming, BTreeMap<TaskId, u32>)> {
        let _ = self.stop.send(true);
        let mut closes = Vec::new();
        let mut resumes = Vec::new();
        for d in self.devices {
            let dev = d.await??;
            anyhow::ensure!(
                dev.duplicates_now() == 0,
                "a device was shown an event twice"
            );
            closes.extend(dev.closes);
            resumes.push(dev.resumes);
        }
        let (watcher, seen) = self.watcher.await??;
        closes.extend(watcher.closes.iter().cloned());
        resumes.push(watcher.resumes);
        let mut ledger =
            std::mem::take(&mut *self.ledger.lock().unwrap_or_else(|p| p.into_inner()));
        ledger.closes = closes;
        ledger.resumes = resumes;
        Ok((ledger, watcher, seen))
    }
}

async fn raise(
    mut d: Roaming,
    ledger: Arc<Mutex<Ledger>>,
    bump: Arc<watch::Sender<usize>>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Roaming> {
    let mut pace = tokio::time::interval(Duration::from_millis(25));
    while !*stop.borrow() {
        pace.tick().await;
        let answer = d.command(cannula_w7()).await?;
        let node = d.base().unwrap_or_default().to_owned();
        let mut l = ledger.lock().unwrap_or_else(|p| p.into_inner());
        match answer {
            Some(Ok(r)) => l.raised.push(Ack {
                task: task_of(&r).id,
                at: Instant::now(),
                node,
                by: None,
            }),
            Some(Err(e)) => l.refused.push((e.code, Instant::now())),
            None => {}
        }
        drop(l);
        bump.send_modify(|n| *n += 1);
    }
    Ok(d)
}

/// Whether `task` is offered to `me` and nobody holds it yet.
fn offered_to(task: &TaskView, me: Option<StaffId>) -> bool {
    task.assignee.is_none()
        && task
            .offers
            .iter()
            .any(|o| Some(o.staff.id) == me && o.state == OfferState::Offered)
}

async fn accept(
    mut d: Roaming,
    ledger: Arc<Mutex<Ledger>>,
    bump: Arc<watch::Sender<usize>>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Roaming> {
    let mut tried = BTreeSet::new();
    while !*stop.borrow() {
        let Some(Event::Task { task, .. }) =
            d.next_event_within(Duration::from_millis(100)).await?
        else {
            continue;
        };
        if !offered_to(&task, d.me) || !tried.insert(task.id) {
            continue;
        }
        let answer = d.command(Command::Accept { task: task.id }).await?;
        let node = d.base().unwrap_or_default().to_owned();
        let mut l = ledger.lock().unwrap_or_else(|p| p.into_inner());
        match answer {
            Some(Ok(_)) => l.accepted.push(Ack {
                task: task.id,
                at: Instant::now(),
                node,
                by: d.me,
            }),
            Some(Err(e)) => l.refused.push((e.code, Instant::now())),
            None => {}
        }
        drop(l);
        bump.send_modify(|n| *n += 1);
    }
    Ok(d)
}

/// Counts `raised` events per task until stopped, then reads on until
/// quiet (a second with no event) so the last raises arrive.
async fn watch_raises(
    mut d: Roaming,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<(Roaming, BTreeMap<TaskId, u32>)> {
    let mut seen = BTreeMap::new();
    loop {
        let quiet = *stop.borrow();
        let within = Duration::from_millis(if quiet { 1000 } else { 100 });
        match d.next_event_within(within).await? {
            Some(Event::Task {
                task,
                change: TaskChange::Raised,
                ..
            }) => *seen.entry(task.id).or_insert(0) += 1,
            Some(_) => {}
            None if quiet => return Ok((d, seen)),
            None => {}
        }
    }
}

/// The checks every fault test makes at the end, against `tasks` (the
/// open tasks as the serving node holds them): every acknowledged raise
/// is there, every acknowledged accept holds (one holder per task, the
/// one told so), and the watcher saw every acknowledged raise exactly
/// once, nothing twice.
pub fn verify(
    ledger: &Ledger,
    watcher: &Roaming,
    seen: &BTreeMap<TaskId, u32>,
    tasks: &[TaskView],
) -> anyhow::Result<()> {
    let by_id: BTreeMap<TaskId, &TaskView> = tasks.iter().map(|t| (t.id, t)).collect();
    let lost: Vec<_> = ledger
        .raised
        .iter()
        .filter(|a| !by_id.contains_key(&a.task))
        .collect();
    anyhow::ensure!(
        lost.is_empty(),
        "{} of {} acknowledged raises are not in the database: {lost:?}",
        lost.len(),
        ledger.raised.len()
    );
    let mut holders: BTreeMap<TaskId, StaffId> = BTreeMap::new();
    for a in &ledger.accepted {
        let by =
            a.by.ok_or_else(|| anyhow::anyhow!("an accept without its accepter"))?;
        if let Some(first) = holders.insert(a.task, by) {
            anyhow::bail!(
                "task {:?} was acknowledged to two accepters ({first:?}, {by:?})",
                a.task
            );
        }
        let holder = by_id
            .get(&a.task)
            .and_then(|t| t.assignee.as_ref())
            .map(|s| s.id);
        anyhow::ensure!(
            holder == Some(by),
            "task {:?} was acknowledged as accepted by {by:?}, the database says {holder:?}",
            a.task
        );
    }
    let unseen = ledger
        .raised
        .iter()
        .filter(|a| !seen.contains_key(&a.task))
        .count();
    anyhow::ensure!(
        unseen == 0,
        "the coordinator's device missed {unseen} acknowledged raises"
    );
    let twice = seen.values().filter(|n| **n > 1).count();
    anyhow::ensure!(
        twice == 0,
        "the coordinator's device was shown {twice} raises twice"
    );
    anyhow::ensure!(
        watcher.duplicates_now() == 0,
        "the coordinator's device got duplicates"
    );
    Ok(())
}

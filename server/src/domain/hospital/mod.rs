//! The whole hospital's live state and the one entry point that changes it:
//! [`Hospital::apply`]. It checks permissions, runs the state machine, picks
//! the recipients of each event and numbers every recipient's stream.
//!
//! This module holds the state, `apply` and the stream numbering every
//! change goes through; `dispatch` holds `apply`'s dispatch tables. One handler per command
//! lives with its kind: `tasks` (raise and the task commands), `pages`,
//! `shifts`, `assignment` (acknowledging or declining an assignment),
//! `handover` (handing held tasks over, and what a shift's end
//! returns to offering), `queries` (snapshot, history, timeline, directory),
//! `scheduling` (when a task or page next escalates, and escalating now),
//! `firing` (carrying out a due escalation step) and `transport` (the
//! transport acks that mark pages delivered).

mod assignment;
mod busy;
mod dispatch;
mod firing;
mod fresh;
mod handover;
mod observations;
mod offline;
mod overdue;
mod pages;
mod patient_notes;
mod patients;
mod queries;
mod reach;
mod reviews;
mod scheduling;
mod shifts;
mod tasks;
mod transport;

use super::escalation::Policies;
use super::ids::{Ids, Stamp};
use super::page::Page;
use super::patient::{Charts, Patient};
use super::roster::{Roster, Shift};
use super::task::Task;
use super::{AuditRecord, DomainError, Targets};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use wardpage_proto::{
    Command, CommandResult, Event, Millis, ObservationView, PageId, PatientId, StaffId, TaskId,
    WardId,
};

/// Something the store must write because of a command.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    Task(Box<Task>),
    Page(Box<Page>),
    Patient(Box<Patient>),
    /// A new set of observations: a clinical record, never changed or pruned.
    Observation(Arc<ObservationView>),
    /// A shift started, replaced (`Some`) or ended (`None`).
    Shift(StaffId, Option<Shift>),
}

/// One event and the stream position it takes in each recipient's stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub at: Millis,
    pub event: Event,
    pub recipients: Vec<(StaffId, u64)>,
}

/// What a successful command changed. Nothing of it may reach anyone before
/// the store has committed it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effects {
    /// The `ok` result for the command's sender (`None` for the hub's own changes).
    pub result: Option<CommandResult>,
    pub writes: Vec<Write>,
    pub audit: Vec<AuditRecord>,
    pub deliveries: Vec<Delivery>,
}

/// Something that can escalate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    Task(TaskId),
    Page(PageId),
    /// A patient's next set of observations (due, then overdue).
    Patient(PatientId),
    /// The end of a member of staff's busy state.
    Busy(StaffId),
}

impl Effects {
    /// Appends `other`'s writes, audit rows and deliveries; its result wins.
    pub fn merge(&mut self, other: Effects) {
        if other.result.is_some() {
            self.result = other.result;
        }
        self.writes.extend(other.writes);
        self.audit.extend(other.audit);
        self.deliveries.extend(other.deliveries);
    }
}

/// The live state of the hospital.
///
/// Its fields are the domain's own: the hub's writer loads the state with
/// [`Hospital::load`], changes it only through `apply`, the escalation
/// timer and the few methods below, and reads it through accessors, so the
/// indexes kept beside the maps (beds, undelivered pages, the roster's
/// shift index) cannot be left stale from outside.
#[derive(Debug, Clone, Default)]
pub struct Hospital {
    pub(in crate::domain) roster: Roster,
    pub(in crate::domain) tasks: HashMap<TaskId, Box<Task>>,
    pub(in crate::domain) pages: HashMap<PageId, Box<Page>>,
    /// Last sequence number used in each member of staff's stream.
    pub(in crate::domain) streams: HashMap<StaffId, u64>,
    pub(super) targets: Targets,
    pub(in crate::domain) policies: Policies,
    /// Who has a device connected, and when each was last seen; kept by
    /// the hub's edge through [`Hospital::set_presence`], read here for
    /// the directory.
    pub(super) presence: HashMap<StaffId, (bool, Millis)>,
    /// When each member of staff last changed something, since start.
    pub(super) last_action: HashMap<StaffId, Millis>,
    /// Pages not yet delivered to each recipient, by the stream position of
    /// the event that carries them: a transport ack looks only here.
    undelivered: HashMap<StaffId, BTreeSet<(u64, PageId)>>,
    /// Patients admitted now (and those discharged since start).
    pub(in crate::domain) patients: HashMap<PatientId, Box<Patient>>,
    /// Which admitted patient lies in each (ward, bed).
    beds: HashMap<(WardId, String), PatientId>,
    /// Every admitted patient's sets of the last 72 hours.
    charts: Charts,
}

/// Everything the hub loads from the store to rebuild the state.
pub struct LoadedState {
    pub roster: Roster,
    pub tasks: Vec<Task>,
    pub pages: Vec<Page>,
    /// (staff, last seq) of every stream.
    pub streams: Vec<(StaffId, u64)>,
    pub patients: Vec<Patient>,
    pub observations: Vec<ObservationView>,
}

impl Hospital {
    /// An empty hospital with these targets and escalation policies.
    pub fn new(targets: Targets, policies: Policies) -> Hospital {
        Hospital {
            targets,
            policies,
            ..Hospital::default()
        }
    }

    /// The pages awaiting each recipient's transport ack, for the property tests.
    #[cfg(test)]
    pub(crate) fn undelivered_index(&self) -> HashMap<StaffId, BTreeSet<(u64, PageId)>> {
        self.undelivered.clone()
    }

    /// Which admitted patient lies in each bed, for the property tests.
    #[cfg(test)]
    pub(crate) fn bed_index(&self) -> HashMap<(WardId, String), PatientId> {
        self.beds.clone()
    }

    /// Puts loaded patients and their sets into the state (at start and
    /// reload): the bed index and charts are rebuilt from them.
    fn load_patients(&mut self, patients: Vec<Patient>, sets: Vec<ObservationView>, now: Millis) {
        self.patients.clear();
        self.beds.clear();
        self.charts = Charts::default();
        for p in patients.into_iter().filter(|p| p.is_admitted()) {
            self.beds
                .insert((p.view.ward.clone(), p.view.bed.clone()), p.view.id);
            self.patients.insert(p.view.id, Box::new(p));
        }
        for o in sets {
            if self.patients.contains_key(&o.patient) {
                self.charts.add(Arc::new(o), now);
            }
        }
    }

    /// Replaces the whole state with what the store holds (at start, and
    /// after a failed commit), rebuilding every index from it. Presence
    /// and last actions are the hub's own since start and are kept.
    pub fn load(&mut self, loaded: LoadedState, now: Millis) {
        self.roster = loaded.roster;
        self.tasks = loaded
            .tasks
            .into_iter()
            .map(|t| (t.view.id, Box::new(t)))
            .collect();
        self.pages = loaded
            .pages
            .into_iter()
            .map(|p| (p.view.id, Box::new(p)))
            .collect();
        self.streams = loaded.streams.into_iter().collect();
        self.load_patients(loaded.patients, loaded.observations, now);
        self.rebuild_indexes();
        self.refresh_holder_shift_ends();
    }

    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// Takes a roster read from the store (a reload), then `shifts` on top
    /// of it: changes applied here whose commit may not be in that read.
    pub fn replace_roster<'a>(
        &mut self,
        roster: Roster,
        shifts: impl IntoIterator<Item = &'a (StaffId, Option<Shift>)>,
    ) {
        self.roster = roster;
        for (staff, shift) in shifts {
            self.roster.set_shift(*staff, shift.clone());
        }
        self.refresh_holder_shift_ends();
    }

    /// The tasks in the working set.
    pub fn tasks(&self) -> impl Iterator<Item = &Task> {
        self.tasks.values().map(|t| &**t)
    }

    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// Whether a device of theirs is connected, as last recorded.
    pub fn presence(&self) -> impl Iterator<Item = (StaffId, bool)> + '_ {
        self.presence.iter().map(|(s, (c, _))| (*s, *c))
    }

    /// Records presence; returns whether it changed.
    pub fn set_presence(&mut self, staff: StaffId, connected: bool, at: Millis) -> bool {
        let changed = self
            .presence
            .get(&staff)
            .is_none_or(|(was, _)| *was != connected);
        self.presence.insert(staff, (connected, at));
        changed
    }

    /// The newest `seq` in this member of staff's stream (0 when empty).
    pub fn cursor(&self, staff: StaffId) -> u64 {
        self.streams.get(&staff).copied().unwrap_or(0)
    }

    /// Carries out `cmd` for `actor` at `at.now`; whatever it makes takes
    /// its id from `at.command` (see `ids`). On error nothing changed.
    pub fn apply(
        &mut self,
        actor: StaffId,
        cmd: &Command,
        at: Stamp,
    ) -> Result<Effects, DomainError> {
        let now = at.now;
        let mut ids = Ids::for_command(at.command);
        let fx = self.apply_command(actor, cmd, now, &mut ids)?;
        if !cmd.is_read_only() {
            self.last_action.insert(actor, now);
        }
        Ok(fx)
    }

    fn require_overseer(&self, actor: StaffId, now: Millis, what: &str) -> Result<(), DomainError> {
        if self.roster.oversees(actor, now) {
            Ok(())
        } else {
            Err(DomainError::Forbidden(format!(
                "only a coordinator may {what}"
            )))
        }
    }

    /// Numbers the event in each recipient's stream and adds it to `fx`.
    fn deliver(
        &mut self,
        fx: &mut Effects,
        at: Millis,
        event: Event,
        recipients: BTreeSet<StaffId>,
    ) {
        let d = self.deliver_only(at, event, recipients);
        fx.deliveries.push(d);
    }

    fn deliver_only(
        &mut self,
        at: Millis,
        event: Event,
        recipients: BTreeSet<StaffId>,
    ) -> Delivery {
        let recipients = recipients
            .into_iter()
            .map(|r| {
                let seq = self.streams.entry(r).or_insert(0);
                *seq += 1;
                (r, *seq)
            })
            .collect();
        Delivery {
            at,
            event,
            recipients,
        }
    }

    /// Drops closed tasks and answered pages last changed before
    /// `CLOSED_KEPT` ago: the hub's memory, and the cost of `history`, stay
    /// bounded however long it runs, and match what a restart loads.
    /// Returns how many went.
    pub fn forget_closed(&mut self, now: Millis) -> usize {
        let kept = now - super::CLOSED_KEPT;
        let (tasks, pages) = (self.tasks.len(), self.pages.len());
        self.tasks
            .retain(|_, t| !t.state().is_terminal() || t.view.updated_at >= kept);
        self.pages
            .retain(|_, p| p.is_open() || p.updated_at() >= kept);
        // Discharged patients stay only as long as closed tasks do.
        self.patients
            .retain(|_, p| p.is_admitted() || p.view.updated_at >= kept);
        if self.pages.len() != pages {
            self.rebuild_indexes();
        }
        tasks - self.tasks.len() + pages - self.pages.len()
    }
}

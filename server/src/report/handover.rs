//! `wardpage report --handover`: what the next shift takes over, for one
//! ward or the whole site, read from the store beside a running hub. Five
//! lists, as the RCP and BMA handover guidance has them: the open tasks
//! with their owner, age and priority; the patients with NEWS2 5 or more
//! or a red flag, with their trend and handover note; the observations
//! overdue; the night's escalations (and shifts that ended holding work);
//! and the pages nobody answered. "Now" is the report's time: the end of
//! the window, or the present if that is earlier.

use super::{ReportError, Window};
use crate::domain::Roster;
use crate::store::Store;
use serde::Serialize;
use std::collections::HashMap;
use wardpage_proto::{Millis, PageState, PageTarget, StaffId, TaskView, WardId};

/// A NEWS2 total from which a patient is on the report (RCP: urgent response).
pub const NEWS2_REPORTED: u8 = 5;

/// Which part of the hospital a report covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Site,
    Ward(WardId),
}

impl Scope {
    fn has(&self, ward: &WardId) -> bool {
        match self {
            Scope::Site => true,
            Scope::Ward(w) => w == ward,
        }
    }
}

/// An open task as the next shift must see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TaskRow {
    pub ward: String,
    pub bed: String,
    pub patient: String,
    pub priority: String,
    pub category: String,
    pub state: String,
    /// Who holds it, or who it waits for.
    pub owner: String,
    pub age_min: i64,
    pub situation: String,
    /// The incoming person named by a handover still waiting.
    pub handover_to: String,
    pub task: String,
}

/// A patient with NEWS2 5 or more, or a red flag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PatientRow {
    pub ward: String,
    pub bed: String,
    pub name: String,
    pub number: String,
    pub news2: String,
    pub band: String,
    pub red_flag: bool,
    pub trend: String,
    pub taken_at: Millis,
    pub note_situation: String,
    pub note_plan: String,
    pub note_what_if: String,
}

/// A patient whose next set of observations is overdue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OverdueRow {
    pub ward: String,
    pub bed: String,
    pub name: String,
    pub due_at: Millis,
    pub late_min: i64,
}

/// An escalation in the window, or a shift that ended holding work.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EscalationRow {
    pub at: Millis,
    /// `task`, `page` or `shift`.
    pub about: String,
    pub ward: String,
    pub bed: String,
    pub priority: String,
    pub detail: String,
    pub id: String,
}

/// A page sent in the window (or still open) that someone has not answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PageRow {
    pub sent_at: Millis,
    pub from: String,
    /// The recipients who have not acknowledged it.
    pub waiting_on: String,
    pub priority: String,
    pub state: String,
    pub message: String,
    pub callback: String,
    pub escalation_level: u32,
    pub page: String,
}

/// The report: its scope, its time and the five lists.
#[derive(Clone, Debug, Default)]
pub struct Handover {
    pub scope_name: String,
    pub at: Millis,
    pub tasks: Vec<TaskRow>,
    pub patients: Vec<PatientRow>,
    pub overdue: Vec<OverdueRow>,
    pub escalations: Vec<EscalationRow>,
    pub pages: Vec<PageRow>,
}

/// Its name on the wire (`"urgent"`, `"no_one_accepted"`), for the CSV.
fn wire<T: Serialize>(x: &T) -> String {
    match serde_json::to_value(x) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn ward_name(roster: &Roster, ward: &WardId) -> String {
    roster
        .wards
        .get(ward)
        .map(|w| w.name.clone())
        .unwrap_or_else(|| ward.to_string())
}

fn priority_rank(t: &TaskView) -> u8 {
    use wardpage_proto::Priority::*;
    match t.priority {
        Emergency => 0,
        Urgent => 1,
        Soon => 2,
        Routine => 3,
    }
}

/// Who the task is with: its holder, or whom it waits for.
pub fn owner(t: &TaskView) -> String {
    if let Some(a) = &t.assignee {
        if t.state == wardpage_proto::TaskState::Assigned {
            return format!("{} (assigned, not acknowledged)", a.name);
        }
        return a.name.clone();
    }
    let offered = t
        .offers
        .iter()
        .filter(|o| o.state == wardpage_proto::OfferState::Offered)
        .count();
    match (t.state, offered) {
        (wardpage_proto::TaskState::Offering, n) if n > 0 => format!("offered to {n}"),
        _ => "nobody (coordinator told)".to_owned(),
    }
}

/// Reads the store and builds the report for `scope` over `w`, as of `at`.
pub async fn gather(
    store: &dyn Store,
    w: &Window,
    scope: &Scope,
    at: Millis,
) -> Result<Handover, ReportError> {
    let loaded = store.load(w.from, Millis::MAX).await?;
    let roster = &loaded.roster;
    let scope_name = match scope {
        Scope::Site => "the whole site".to_owned(),
        Scope::Ward(ward) => ward_name(roster, ward),
    };
    let mut open: Vec<&TaskView> = loaded
        .tasks
        .iter()
        .map(|t| &t.view)
        .filter(|t| !t.state.is_terminal() && scope.has(&t.ward) && t.raised_at <= at)
        .collect();
    open.sort_by_key(|t| (priority_rank(t), t.raised_at, t.id));
    let tasks = open
        .into_iter()
        .map(|t| TaskRow {
            ward: ward_name(roster, &t.ward),
            bed: t.bed.clone(),
            patient: t
                .patient_ref
                .as_ref()
                .map(|p| p.name.clone())
                .unwrap_or_else(|| t.patient.clone()),
            priority: wire(&t.priority),
            category: wire(&t.category),
            state: wire(&t.state),
            owner: owner(t),
            age_min: (at - t.raised_at) / 60_000,
            situation: t.sbar.situation.clone(),
            handover_to: t
                .handover
                .as_ref()
                .map(|h| h.to.name.clone())
                .unwrap_or_default(),
            task: t.id.to_string(),
        })
        .collect();
    let (patients, overdue) = patient_rows(&loaded.patients, roster, scope, at);
    let by_id: HashMap<String, &TaskView> = loaded
        .tasks
        .iter()
        .map(|t| (t.view.id.to_string(), &t.view))
        .collect();
    let escalations = escalation_rows(store, w, scope, roster, &by_id).await?;
    let pages = page_rows(&loaded.pages, roster, scope, w, at);
    Ok(Handover {
        scope_name,
        at,
        tasks,
        patients,
        overdue,
        escalations,
        pages,
    })
}

/// The patients to watch (NEWS2 5+ or a red flag, highest first) and those
/// whose observations are overdue (the longest overdue first).
fn patient_rows(
    patients: &[crate::domain::patient::Patient],
    roster: &Roster,
    scope: &Scope,
    at: Millis,
) -> (Vec<PatientRow>, Vec<OverdueRow>) {
    let here: Vec<_> = patients
        .iter()
        .map(|p| &p.view)
        .filter(|p| p.discharged_at.is_none() && scope.has(&p.ward))
        .collect();
    let mut watch: Vec<_> = here
        .iter()
        .filter_map(|p| {
            let l = p.latest.as_ref()?;
            let high = l.score.total.is_some_and(|t| t >= NEWS2_REPORTED);
            (high || l.score.red_flag).then_some((p, l))
        })
        .collect();
    watch.sort_by_key(|(p, l)| {
        (
            std::cmp::Reverse(l.score.total),
            p.ward.clone(),
            p.bed.clone(),
        )
    });
    let watched = watch
        .into_iter()
        .map(|(p, l)| {
            let note = p.handover_note.as_ref();
            let part = |f: fn(&wardpage_proto::HandoverNote) -> &String| {
                note.map(|n| f(n).clone()).unwrap_or_default()
            };
            PatientRow {
                ward: ward_name(roster, &p.ward),
                bed: p.bed.clone(),
                name: p.details.name.clone(),
                number: p
                    .details
                    .nhs_number
                    .clone()
                    .or_else(|| p.details.local_number.clone())
                    .unwrap_or_default(),
                news2: l.score.total.map(|t| t.to_string()).unwrap_or_default(),
                band: l
                    .score
                    .band
                    .map(|b| b.as_str().to_owned())
                    .unwrap_or_default(),
                red_flag: l.score.red_flag,
                trend: wire(&l.trend),
                taken_at: l.taken_at,
                note_situation: part(|n| &n.situation),
                note_plan: part(|n| &n.recommendation),
                note_what_if: part(|n| &n.what_if),
            }
        })
        .collect();
    let mut overdue: Vec<OverdueRow> = here
        .iter()
        .filter_map(|p| {
            let due = p.obs_due_at.filter(|d| *d <= at)?;
            Some(OverdueRow {
                ward: ward_name(roster, &p.ward),
                bed: p.bed.clone(),
                name: p.details.name.clone(),
                due_at: due,
                late_min: (at - due) / 60_000,
            })
        })
        .collect();
    overdue.sort_by_key(|o| (o.due_at, o.ward.clone(), o.bed.clone()));
    (watched, overdue)
}

/// The audit's escalations in the window (tasks of the scope; pages and
/// shift ends on the site report only, as they belong to no ward).
async fn escalation_rows(
    store: &dyn Store,
    w: &Window,
    scope: &Scope,
    roster: &Roster,
    tasks: &HashMap<String, &TaskView>,
) -> Result<Vec<EscalationRow>, ReportError> {
    let mut rows = Vec::new();
    let mut after = 0;
    loop {
        let page = store.audit_page(after, 2_000).await?;
        let Some((last, _)) = page.last() else { break };
        after = last.id;
        for (row, _) in page {
            if row.at < w.from || row.at >= w.to {
                continue;
            }
            let wanted = matches!(
                (row.entity.as_str(), row.action.as_str()),
                ("task" | "page", "escalate") | ("shift", "held_at_shift_end")
            );
            if !wanted {
                continue;
            }
            let task = tasks.get(&row.entity_id).filter(|_| row.entity == "task");
            let in_scope = match (task, scope) {
                (Some(t), _) => scope.has(&t.ward),
                (None, Scope::Site) => true,
                (None, Scope::Ward(_)) => false,
            };
            if !in_scope {
                continue;
            }
            rows.push(EscalationRow {
                at: row.at,
                about: row.entity.clone(),
                ward: task.map(|t| ward_name(roster, &t.ward)).unwrap_or_default(),
                bed: task.map(|t| t.bed.clone()).unwrap_or_default(),
                priority: task.map(|t| wire(&t.priority)).unwrap_or_default(),
                detail: row.detail,
                id: row.entity_id,
            });
        }
    }
    Ok(rows)
}

/// Pages sent in the window, or still open, with someone yet to answer:
/// on a ward report, those whose sender or a waiting recipient is on a
/// shift covering the ward.
fn page_rows(
    pages: &[crate::domain::Page],
    roster: &Roster,
    scope: &Scope,
    w: &Window,
    at: Millis,
) -> Vec<PageRow> {
    let covers = |s: StaffId| match scope {
        Scope::Site => true,
        Scope::Ward(ward) => roster
            .shifts()
            .get(&s)
            .is_some_and(|sh| sh.wards.contains(ward)),
    };
    let mut rows: Vec<PageRow> = pages
        .iter()
        .map(|p| &p.view)
        .filter(|p| p.sent_at <= at && (p.sent_at >= w.from || p.state == PageState::Open))
        .filter_map(|p| {
            let waiting: Vec<_> = p
                .recipients
                .iter()
                .filter(|r| r.acked_at.is_none())
                .collect();
            let answered = p.state == PageState::Acknowledged || waiting.is_empty();
            if answered || !(covers(p.from.id) || waiting.iter().any(|r| covers(r.staff.id))) {
                return None;
            }
            let names: Vec<&str> = waiting.iter().map(|r| r.staff.name.as_str()).collect();
            let to = match p.target {
                PageTarget::Role(role) => format!("{} (all {})", names.join("; "), wire(&role)),
                PageTarget::Staff(_) => names.join("; "),
            };
            Some(PageRow {
                sent_at: p.sent_at,
                from: p.from.name.clone(),
                waiting_on: to,
                priority: wire(&p.priority),
                state: wire(&p.state),
                message: p.message.clone(),
                callback: p.callback.clone(),
                escalation_level: p.escalation_level,
                page: p.id.to_string(),
            })
        })
        .collect();
    rows.sort_by_key(|r| (r.sent_at, r.page.clone()));
    rows
}

//! The review of a patient's episode: raised by the hub for a NEWS2
//! score that calls for one (or by a nurse's clinical concern), offered to
//! the roles the band names and, for an emergency, paged; while it is open
//! a new score updates it (`rescored`) and a higher band moves it to the
//! higher response at once, so a patient never has two reviews open.

use super::observations::{hub_ref, HUB_STAFF};
use super::pages::PageDraft;
use super::tasks::Draft;
use super::{Effects, Hospital};
use crate::domain::escalation::{EscalationState, Phase};
use crate::domain::ids::Ids;
use crate::domain::patient::Patient;
use crate::domain::response::Review;
use crate::domain::task::Task;
use std::collections::BTreeSet;
use wardpage_proto::{
    Category, Millis, PageTarget, Priority, Requirement, ReviewTrigger, Sbar, StaffId, StaffRef,
    TaskChange, TaskId, TaskState, TaskView,
};

/// What a review is raised for.
pub(super) struct ReviewAsk {
    pub trigger: ReviewTrigger,
    pub review: Review,
    /// The nurse who raised a concern (`None`: the hub, for a score).
    pub raiser: Option<StaffId>,
    /// Also told of the review: the nurse who took the set, and the nurse
    /// in charge for an urgent or emergency score.
    pub watchers: BTreeSet<StaffId>,
}

impl Hospital {
    pub(super) fn open_review(&self, p: &Patient) -> Option<TaskId> {
        p.view
            .review
            .filter(|t| self.tasks.get(t).is_some_and(|t| !t.state().is_terminal()))
    }

    /// Raises the episode's review, or updates the open one.
    pub(super) fn review(
        &mut self,
        fx: &mut Effects,
        p: &mut Patient,
        ask: ReviewAsk,
        now: Millis,
        ids: &mut Ids,
    ) -> Option<TaskView> {
        if let Some(task) = self.open_review(p) {
            let score = (ask.trigger, Some(ask.review));
            return self.rescore(fx, task, score, ask.watchers, now, ids);
        }
        let task = self.raise_review(fx, p, ask, now, ids);
        p.view.review = task.as_ref().map(|t| t.id);
        task
    }

    fn raise_review(
        &mut self,
        fx: &mut Effects,
        p: &Patient,
        ask: ReviewAsk,
        now: Millis,
        ids: &mut Ids,
    ) -> Option<TaskView> {
        let ReviewAsk {
            trigger,
            review,
            raiser,
            watchers,
        } = ask;
        let what = match review.priority {
            Priority::Emergency => "Emergency review",
            _ => "Urgent review",
        };
        let cause = match trigger.observation {
            Some(o) => format!("{} from observation {o}", trigger.summary),
            None => trigger.summary.clone(),
        };
        let draft = Draft {
            ward: p.view.ward.clone(),
            bed: p.view.bed.clone(),
            patient: p.view.details.name.clone(),
            patient_ref: Some(p.reference()),
            category: Category::MedicalReview,
            priority: review.priority,
            requirement: Requirement::AnyRole(review.roles),
            sbar: Sbar {
                situation: format!("{what}: {}", trigger.summary),
                background: p.view.details.alerts.clone(),
                ..Sbar::default()
            },
            review: Some(trigger),
            raised_by: raiser.map_or_else(hub_ref, |r| self.roster.staff_ref(r)),
            involved: watchers,
        };
        let task = self.draft_task(draft, now, ids);
        let id = task.view.id;
        let more = self.launch_task(task, raiser, Some(&cause), now);
        fx.merge(more);
        if review.page {
            self.page_review(fx, id, review, now, ids);
        }
        self.tasks.get(&id).map(|t| t.view.clone())
    }

    /// The open review hears a new score (its trigger, and the review it
    /// calls for if any); if that is a higher response the task moves to
    /// it at once: the new priority, the new roles offered (or told, if
    /// someone holds it already), paged.
    pub(super) fn rescore(
        &mut self,
        fx: &mut Effects,
        id: TaskId,
        (trigger, review): (ReviewTrigger, Option<Review>),
        watchers: BTreeSet<StaffId>,
        now: Millis,
        ids: &mut Ids,
    ) -> Option<TaskView> {
        let mut t = (**self.tasks.get(&id)?).clone();
        let from = t.state();
        let rose = review.filter(|r| r.priority > t.view.priority);
        t.involved.extend(watchers);
        let was = t.view.review.as_ref().and_then(|r| r.total);
        let mut detail = match (was, trigger.total) {
            (Some(a), Some(b)) if a != b => format!("{} (was NEWS2 {a})", trigger.summary),
            _ => trigger.summary.clone(),
        };
        t.view.review = Some(trigger);
        if let Some(r) = rose {
            self.rise(&mut t, from, r, now);
            detail = format!("{detail}; now {}", r.priority.as_str());
        }
        t.view.version += 1;
        t.view.updated_at = now;
        self.audit_task(fx, None, &t, "rescore", Some(from), detail, now);
        // Scheduling keeps a mid-ladder time; a rise must replan from now.
        if rose.is_some() {
            t.view.next_escalation_at = None;
            t.escalation.step = 0;
        }
        let more = self.finish_task(Effects::default(), None, t, TaskChange::Rescored, now);
        fx.merge(Effects {
            result: None,
            ..more
        });
        let more = self.escalate_at_once(Effects::default(), id, now);
        fx.merge(more);
        if let Some(r) = rose.filter(|r| r.page) {
            self.page_review(fx, id, r, now, ids);
        }
        self.tasks.get(&id).map(|t| t.view.clone())
    }

    /// Moves an open review to the higher response `r`: its priority,
    /// targets and roles, offered to the new roles (or told of it, if
    /// someone holds it already), on the new ladder from now.
    fn rise(&self, t: &mut Task, from: TaskState, r: Review, now: Millis) {
        let target = self.targets.for_priority(r.priority);
        let requirement = Requirement::AnyRole(r.roles);
        t.view.priority = r.priority;
        t.view.requirement = requirement;
        t.view.accept_by = now + target.accept_within;
        t.view.complete_by = now + target.complete_within;
        t.view.sbar.situation = format!(
            "Emergency review: {}",
            t.view
                .review
                .as_ref()
                .map(|r| r.summary.as_str())
                .unwrap_or("")
        );
        let new: Vec<StaffId> = self
            .roster
            .candidates(&t.view.ward, requirement, HUB_STAFF, now)
            .into_iter()
            .filter(|c| !t.view.offers.iter().any(|o| o.staff.id == *c))
            .collect();
        if matches!(from, TaskState::Offering | TaskState::NoOneAccepted) {
            let mut offers: Vec<StaffRef> = t
                .view
                .offers
                .iter()
                .filter(|o| o.state == wardpage_proto::OfferState::Offered)
                .map(|o| o.staff.clone())
                .collect();
            offers.extend(new.iter().map(|c| self.roster.staff_ref(*c)));
            t.offer_to(offers);
        } else {
            t.involved.extend(new.iter().copied());
        }
        // The higher response's ladder starts now, on its own cadence.
        t.escalation = EscalationState {
            phase: t.escalation.phase,
            step: 0,
            started_at: now,
        };
        if t.escalation.phase == Phase::Done {
            t.escalation.phase = Phase::Accept;
        }
    }

    /// Pages each role of an emergency review: everyone on shift in it
    /// covering the ward (or the whole site, where seniors usually are).
    fn page_review(
        &mut self,
        fx: &mut Effects,
        task: TaskId,
        review: Review,
        now: Millis,
        ids: &mut Ids,
    ) {
        let Some(t) = self.tasks.get(&task) else {
            return;
        };
        let (ward, bed) = (t.view.ward.clone(), t.view.bed.clone());
        // A page names the patient as a task does: name and NHS number (or
        // local number), so nobody goes to the wrong bed on a page alone.
        let who = t.view.patient_ref.as_ref().map_or_else(String::new, |p| {
            let id = match (&p.nhs_number, &p.local_number) {
                (Some(n), _) if n.len() == 10 => {
                    format!("NHS {} {} {}", &n[..3], &n[3..6], &n[6..])
                }
                (Some(n), _) => format!("NHS {n}"),
                (None, Some(l)) => l.clone(),
                (None, None) => String::new(),
            };
            format!(" {}, {id}:", p.name)
        });
        let message = format!(
            "{} bed {bed}:{who} {}",
            self.ward_name(&ward),
            t.view
                .review
                .as_ref()
                .map(|r| r.summary.as_str())
                .unwrap_or("")
        );
        // As the hospital names the ward: a night doctor does not know
        // ward ids.
        let callback = format!("{} bed {bed}", self.ward_name(&ward));
        for role in review.roles.roles() {
            let mut to = self.roster.on_shift_in(&[role], Some(&ward), now);
            if to.is_empty() {
                to = self.roster.on_shift_in(&[role], None, now);
            }
            let to: Vec<StaffId> = to.into_iter().collect();
            let draft = PageDraft {
                target: PageTarget::Role(role),
                priority: review.priority,
                callback: &callback,
                message: &message,
                ward: Some(&ward),
            };
            let mut page = self.new_page(hub_ref(), &draft, &to, now, ids);
            // The callback is a place (ward and bed): a bed numbered 123
            // is not an extension to dial.
            page.view.callback_number = None;
            let more = self.publish_page(None, page, &to, now);
            fx.merge(Effects {
                result: None,
                ..more
            });
        }
    }

    /// A patient's review closed (completed or cancelled): their episode
    /// ends, so the next score that calls for a review raises a new one,
    /// and the ward sees the patient without an open review.
    pub(super) fn end_episode(
        &mut self,
        fx: &mut Effects,
        patient: wardpage_proto::PatientId,
        task: TaskId,
        now: Millis,
    ) {
        let Some(p) = self
            .patients
            .get(&patient)
            .filter(|p| p.view.review == Some(task))
        else {
            return;
        };
        let mut p = (**p).clone();
        p.view.review = None;
        p.touch(now);
        let audience = self.patient_audience(&p.view.ward, &[], now);
        self.deliver(
            fx,
            now,
            wardpage_proto::Event::Patient {
                change: wardpage_proto::PatientChange::Updated,
                patient: p.view.clone(),
                observation: None,
                by: None,
            },
            audience,
        );
        self.store_patient(fx, p);
    }
}

//! Bedside observations and the clinical response the hub starts itself:
//! a set is scored (`news2`), charted, and sets when the next is due; a
//! score that calls for a review raises one (the hub is the raiser, and the
//! audit names the set), or, while that patient's review is open, updates
//! it and moves it to the higher response if the band rose: one review per
//! episode. A nurse's clinical concern raises or joins the same review. An
//! overdue set alerts the ward, then becomes a task for the nurse in charge.

use super::patients::scale_name;
use super::{Effects, Hospital};
use crate::domain::escalation::{EscalationState, Phase};
use crate::domain::news2;
use crate::domain::patient::{ObsStage, Patient};
use crate::domain::response::Review;
use crate::domain::task::Task;
use crate::domain::DomainError;
use std::collections::BTreeSet;
use std::sync::Arc;
use uuid::Uuid;
use wardpage_proto::{
    Band, Category, CommandResult, Event, LatestScore, Millis, ObservationId, ObservationSet,
    ObservationView, PageTarget, PatientChange, PatientId, Priority, Requirement, ReviewTrigger,
    Role, Sbar, StaffId, StaffRef, TaskChange, TaskId, TaskState, TaskView, Trend,
};

/// The hub as the raiser of the tasks and pages it starts itself.
pub const HUB_STAFF: StaffId = StaffId(Uuid::nil());

pub fn hub_ref() -> StaffRef {
    StaffRef {
        id: HUB_STAFF,
        name: "NEWS2 (hub)".into(),
    }
}

/// What a review is raised for.
struct ReviewAsk {
    trigger: ReviewTrigger,
    review: Review,
    /// The nurse who raised a concern (`None`: the hub, for a score).
    raiser: Option<StaffId>,
    /// Also told of the review: the nurse who took the set, and the nurse
    /// in charge for an urgent or emergency score.
    watchers: BTreeSet<StaffId>,
}

impl Hospital {
    pub(super) fn record_observations(
        &mut self,
        actor: StaffId,
        id: PatientId,
        set: &ObservationSet,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        let mut p = self.visible_patient(actor, id, now)?.clone();
        let score = news2::score(set, p.view.scale);
        let previous = self
            .charts
            .last_complete_before(id, set.taken_at)
            .and_then(|o| o.score.total);
        let obs = Arc::new(ObservationView {
            id: ObservationId::new_ordered(now),
            patient: id,
            set: set.clone(),
            trend: trend(previous, score.total),
            score,
            recorded_at: now,
            recorded_by: self.roster.staff_ref(actor),
        });
        // A set queued offline and taken before the newest one is charted
        // but does not move the latest score or the next due time.
        let newest = p
            .view
            .latest
            .as_ref()
            .is_none_or(|l| set.taken_at >= l.taken_at);
        let mut fx = Effects::default();
        let summary = news2::summary(&obs.score, set);
        let detail = format!(
            "observation {}: {summary} ({}){}",
            obs.id,
            scale_name(obs.score.scale),
            if newest {
                ""
            } else {
                "; taken before the newest set"
            }
        );
        self.audit_patient(&mut fx, Some(actor), &p, "observe", detail, now);
        fx.writes.push(super::Write::Observation(obs.clone()));
        self.charts.add(obs.clone(), now);
        if newest {
            p.view.latest = Some(LatestScore {
                observation: obs.id,
                taken_at: set.taken_at,
                score: obs.score.clone(),
                trend: obs.trend,
            });
            if let Some(band) = obs.score.band {
                // Only a complete set meets the monitoring the last score asked for.
                p.view.obs_due_at = Some(set.taken_at + self.policies.news2.every(band));
                p.view.obs_overdue = false;
                p.stage = ObsStage::Due;
                if let Some(task) = p.obs_task.take() {
                    let note = format!("observations recorded by {}", obs.recorded_by.name);
                    self.close_obs_task(&mut fx, task, &note, now);
                }
            }
        }
        p.touch(now);
        let review = if newest {
            self.respond(&mut fx, &mut p, &obs, actor, &summary, now)
        } else {
            None
        };
        let audience = self.patient_audience(&p.view.ward, &[], now);
        self.deliver(
            &mut fx,
            now,
            Event::Patient {
                change: PatientChange::Observed,
                patient: p.view.clone(),
                observation: Some(obs.as_ref().clone()),
                by: Some(self.roster.staff_ref(actor)),
            },
            audience,
        );
        fx.result = Some(CommandResult::Observation {
            observation: obs.as_ref().clone(),
            patient: p.view.clone(),
            review,
        });
        self.store_patient(&mut fx, p);
        Ok(fx)
    }

    /// Starts the response the score calls for; returns the review task
    /// raised or changed.
    fn respond(
        &mut self,
        fx: &mut Effects,
        p: &mut Patient,
        obs: &ObservationView,
        actor: StaffId,
        summary: &str,
        now: Millis,
    ) -> Option<TaskView> {
        // A red flag on an incomplete set is a fact: at least an urgent
        // ward review, never nothing because the total is unknown.
        let band = obs
            .score
            .band
            .or(obs.score.red_flag.then_some(Band::LowMedium));
        let trigger = ReviewTrigger {
            observation: Some(obs.id),
            total: obs.score.total,
            band,
            red_flag: obs.score.red_flag,
            trend: obs.trend,
            scale: obs.score.scale,
            summary: summary.to_owned(),
        };
        let open = self.open_review(p);
        match (band.and_then(|b| self.policies.news2.review(b)), open) {
            (Some(review), _) => {
                let mut watchers = BTreeSet::from([actor]);
                if review.priority >= Priority::Urgent && band >= Some(Band::Medium) {
                    watchers.extend(self.roster.on_shift_in(
                        &[Role::NurseInCharge],
                        Some(&p.view.ward),
                        now,
                    ));
                }
                let ask = ReviewAsk {
                    trigger,
                    review,
                    raiser: None,
                    watchers,
                };
                self.review(fx, p, ask, now)
            }
            // The score fell below a review: the open one hears the new score.
            (None, Some(task)) => self.rescore(fx, task, trigger, None, BTreeSet::new(), now),
            (None, None) => None,
        }
    }

    pub(super) fn raise_concern(
        &mut self,
        actor: StaffId,
        id: PatientId,
        concern: &str,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        let mut p = self.visible_patient(actor, id, now)?.clone();
        if self.roster.on_shift(actor, now).is_none() {
            return Err(DomainError::Forbidden(
                "only staff on shift may raise a clinical concern".into(),
            ));
        }
        let latest = p.view.latest.as_ref();
        let trigger = ReviewTrigger {
            observation: None,
            total: latest.and_then(|l| l.score.total),
            band: latest.and_then(|l| l.score.band),
            red_flag: latest.is_some_and(|l| l.score.red_flag),
            trend: latest.map(|l| l.trend).unwrap_or(Trend::First),
            scale: p.view.scale,
            summary: format!(
                "Clinical concern from {}: {concern}",
                self.roster.staff_ref(actor).name
            ),
        };
        let review =
            self.policies.news2.review(Band::Medium).ok_or_else(|| {
                DomainError::InvalidState("no urgent review is configured".into())
            })?;
        let mut fx = Effects::default();
        self.audit_patient(&mut fx, Some(actor), &p, "concern", concern.to_owned(), now);
        p.touch(now);
        let ask = ReviewAsk {
            trigger,
            review,
            raiser: Some(actor),
            watchers: BTreeSet::from([actor]),
        };
        let task = self.review(&mut fx, &mut p, ask, now);
        let view = p.view.clone();
        // The ward sees the patient's review change, as for a score.
        let audience = self.patient_audience(&p.view.ward, &[], now);
        self.deliver(
            &mut fx,
            now,
            Event::Patient {
                change: PatientChange::Updated,
                patient: view.clone(),
                observation: None,
                by: Some(self.roster.staff_ref(actor)),
            },
            audience,
        );
        self.store_patient(&mut fx, p);
        fx.result = Some(match task {
            Some(task) => CommandResult::Task { task },
            None => CommandResult::Patient { patient: view },
        });
        Ok(fx)
    }

    fn open_review(&self, p: &Patient) -> Option<TaskId> {
        p.view
            .review
            .filter(|t| self.tasks.get(t).is_some_and(|t| !t.state().is_terminal()))
    }

    /// Raises the episode's review, or updates the open one.
    fn review(
        &mut self,
        fx: &mut Effects,
        p: &mut Patient,
        ask: ReviewAsk,
        now: Millis,
    ) -> Option<TaskView> {
        if let Some(task) = self.open_review(p) {
            return self.rescore(fx, task, ask.trigger, Some(ask.review), ask.watchers, now);
        }
        let task = self.raise_review(fx, p, ask, now);
        p.view.review = task.as_ref().map(|t| t.id);
        task
    }

    fn raise_review(
        &mut self,
        fx: &mut Effects,
        p: &Patient,
        ask: ReviewAsk,
        now: Millis,
    ) -> Option<TaskView> {
        let ReviewAsk {
            trigger,
            review,
            raiser,
            watchers,
        } = ask;
        let requirement = Requirement::AnyRole(review.roles);
        let target = self.targets.for_priority(review.priority);
        let raised_by = raiser.map_or_else(hub_ref, |r| self.roster.staff_ref(r));
        let what = match review.priority {
            Priority::Emergency => "Emergency review",
            _ => "Urgent review",
        };
        let mut task = Task {
            view: TaskView {
                id: TaskId::new_ordered(now),
                version: 1,
                ward: p.view.ward.clone(),
                bed: p.view.bed.clone(),
                patient: p.view.details.name.clone(),
                patient_ref: Some(p.reference()),
                review: Some(trigger.clone()),
                category: Category::MedicalReview,
                priority: review.priority,
                requirement,
                sbar: Sbar {
                    situation: format!("{what}: {}", trigger.summary),
                    background: p.view.details.alerts.clone(),
                    assessment: String::new(),
                    recommendation: String::new(),
                },
                state: TaskState::Offering,
                unassigned_reason: None,
                raised_by,
                offers: Vec::new(),
                assignee: None,
                raised_at: now,
                updated_at: now,
                accept_by: now + target.accept_within,
                complete_by: now + target.complete_within,
                accepted_at: None,
                started_at: None,
                closed_at: None,
                closing_note: None,
                escalation_level: 0,
                next_escalation_at: None,
            },
            involved: watchers,
            escalation: Default::default(),
        };
        let candidates =
            self.roster
                .candidates(&p.view.ward, requirement, raiser.unwrap_or(HUB_STAFF), now);
        task.offer_to(
            candidates
                .iter()
                .map(|c| self.roster.staff_ref(*c))
                .collect(),
        );
        let change = if task.state() == TaskState::Offering {
            TaskChange::Raised
        } else {
            TaskChange::NoOneAccepted
        };
        let names: Vec<&str> = task
            .view
            .offers
            .iter()
            .map(|o| o.staff.name.as_str())
            .collect();
        let cause = match trigger.observation {
            Some(o) => format!("{} from observation {o}", trigger.summary),
            None => trigger.summary.clone(),
        };
        let detail = if names.is_empty() {
            format!("{cause}; nobody on shift can take it")
        } else {
            format!("{cause}; offered to {}", names.join(", "))
        };
        let id = task.view.id;
        self.audit_task(fx, raiser, &task, "raise", None, detail, now);
        if let Ok(more) = self.finish_task(Effects::default(), raiser, task, change, now) {
            fx.merge(more);
        }
        let more = self.escalate_at_once(Effects::default(), id, now);
        fx.merge(more);
        if review.page {
            self.page_review(fx, id, review, now);
        }
        self.tasks.get(&id).map(|t| t.view.clone())
    }

    /// The open review hears a new score; if it calls for a higher
    /// response the task moves to it at once: the new priority, the new
    /// roles offered (or told, if someone holds it already), paged.
    fn rescore(
        &mut self,
        fx: &mut Effects,
        id: TaskId,
        trigger: ReviewTrigger,
        review: Option<Review>,
        watchers: BTreeSet<StaffId>,
        now: Millis,
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
        if let Ok(more) = self.finish_task(Effects::default(), None, t, TaskChange::Rescored, now) {
            fx.merge(Effects {
                result: None,
                ..more
            });
        }
        let more = self.escalate_at_once(Effects::default(), id, now);
        fx.merge(more);
        if let Some(r) = rose.filter(|r| r.page) {
            self.page_review(fx, id, r, now);
        }
        self.tasks.get(&id).map(|t| t.view.clone())
    }

    /// Pages each role of an emergency review: everyone on shift in it
    /// covering the ward (or the whole site, where seniors usually are).
    fn page_review(&mut self, fx: &mut Effects, task: TaskId, review: Review, now: Millis) {
        let Some(t) = self.tasks.get(&task) else {
            return;
        };
        let (ward, bed) = (t.view.ward.clone(), t.view.bed.clone());
        let message = format!(
            "{} bed {bed}: {}",
            self.ward_name(&ward),
            t.view
                .review
                .as_ref()
                .map(|r| r.summary.as_str())
                .unwrap_or("")
        );
        let callback = format!("{ward} bed {bed}");
        for role in review.roles.roles() {
            let mut to = self.roster.on_shift_in(&[role], Some(&ward), now);
            if to.is_empty() {
                to = self.roster.on_shift_in(&[role], None, now);
            }
            let to: Vec<StaffId> = to.into_iter().collect();
            let page = self.new_page(
                hub_ref(),
                PageTarget::Role(role),
                review.priority,
                &callback,
                &message,
                &to,
                now,
            );
            let more = self.publish_page(None, page, &to, now);
            fx.merge(Effects {
                result: None,
                ..more
            });
        }
    }

    /// A set recorded (or a discharge) closes the "observations overdue" task.
    pub(super) fn close_obs_task(&mut self, fx: &mut Effects, id: TaskId, note: &str, now: Millis) {
        let Some(t) = self.tasks.get(&id) else {
            return;
        };
        if t.state().is_terminal() {
            return;
        }
        let mut t = (**t).clone();
        let from = t.state();
        if t.cancel(note, now).is_ok() {
            self.audit_task(fx, None, &t, "cancel", Some(from), note.to_owned(), now);
            if let Ok(more) =
                self.finish_task(Effects::default(), None, t, TaskChange::Cancelled, now)
            {
                fx.merge(Effects {
                    result: None,
                    ..more
                });
            }
        }
    }

    /// The timer found a patient's check due: the first time the set is
    /// overdue, the ward is alerted; once the grace passes too, the nurse
    /// in charge gets a task. `None` if nothing is due (a set came in).
    pub(super) fn escalate_patient(&mut self, id: PatientId, now: Millis) -> Option<Effects> {
        let p = self.patients.get(&id)?;
        if p.next_check_at.is_none_or(|d| d > now) || !p.is_admitted() {
            return None;
        }
        let mut p = (**p).clone();
        let mut fx = Effects::default();
        match p.stage {
            ObsStage::Due => {
                p.stage = ObsStage::Alerted;
                p.view.obs_overdue = true;
                p.touch(now);
                let detail = format!(
                    "observations overdue (due {})",
                    p.view.obs_due_at.unwrap_or(now)
                );
                self.audit_patient(&mut fx, None, &p, "observations_overdue", detail, now);
                let audience = self.patient_audience(&p.view.ward, &[], now);
                self.deliver(
                    &mut fx,
                    now,
                    Event::Patient {
                        change: PatientChange::ObservationsOverdue,
                        patient: p.view.clone(),
                        observation: None,
                        by: None,
                    },
                    audience,
                );
            }
            ObsStage::Alerted => {
                p.stage = ObsStage::Tasked;
                p.obs_task = Some(self.raise_obs_task(&mut fx, &p, now));
            }
            ObsStage::Tasked => return None,
        }
        fx.result = None;
        self.store_patient(&mut fx, p);
        Some(fx)
    }

    fn raise_obs_task(&mut self, fx: &mut Effects, p: &Patient, now: Millis) -> TaskId {
        let target = self.targets.for_priority(Priority::Urgent);
        let overdue = now - p.view.obs_due_at.unwrap_or(now);
        let mut task = Task {
            view: TaskView {
                id: TaskId::new_ordered(now),
                version: 1,
                ward: p.view.ward.clone(),
                bed: p.view.bed.clone(),
                patient: p.view.details.name.clone(),
                patient_ref: Some(p.reference()),
                review: None,
                category: Category::Observations,
                priority: Priority::Urgent,
                requirement: Requirement::Role(Role::NurseInCharge),
                sbar: Sbar {
                    situation: format!("Observations overdue by {} min", overdue / 60_000),
                    ..Sbar::default()
                },
                state: TaskState::Offering,
                unassigned_reason: None,
                raised_by: hub_ref(),
                offers: Vec::new(),
                assignee: None,
                raised_at: now,
                updated_at: now,
                accept_by: now + target.accept_within,
                complete_by: now + target.complete_within,
                accepted_at: None,
                started_at: None,
                closed_at: None,
                closing_note: None,
                escalation_level: 0,
                next_escalation_at: None,
            },
            involved: BTreeSet::new(),
            escalation: Default::default(),
        };
        let candidates =
            self.roster
                .candidates(&p.view.ward, task.view.requirement, HUB_STAFF, now);
        task.offer_to(
            candidates
                .iter()
                .map(|c| self.roster.staff_ref(*c))
                .collect(),
        );
        let change = if task.state() == TaskState::Offering {
            TaskChange::Raised
        } else {
            TaskChange::NoOneAccepted
        };
        let id = task.view.id;
        let detail = format!("observations overdue for {}", p.view.details.name);
        self.audit_task(fx, None, &task, "raise", None, detail, now);
        if let Ok(more) = self.finish_task(Effects::default(), None, task, change, now) {
            fx.merge(more);
        }
        let more = self.escalate_at_once(Effects::default(), id, now);
        fx.merge(more);
        id
    }
}

fn trend(previous: Option<u8>, now: Option<u8>) -> Trend {
    match (previous, now) {
        (Some(a), Some(b)) if b > a => Trend::Rising,
        (Some(a), Some(b)) if b < a => Trend::Falling,
        (Some(_), Some(_)) => Trend::Same,
        _ => Trend::First,
    }
}

//! Bedside observations and the clinical response the hub starts itself:
//! a set is scored (`news2`), charted, and sets when the next is due; a
//! score that calls for a review raises one or joins the open one
//! (`reviews`: the hub is the raiser, and the audit names the set). A
//! nurse's clinical concern does the same whatever the score. Overdue sets
//! are `overdue`'s.

use super::patients::scale_name;
use super::reviews::ReviewAsk;
use super::{Effects, Hospital};
use crate::domain::ids::Ids;
use crate::domain::news2;
use crate::domain::patient::{ObsStage, Patient};
use crate::domain::DomainError;
use std::collections::BTreeSet;
use std::sync::Arc;
use uuid::Uuid;
use wardpage_proto::{
    Band, CommandResult, Event, LatestScore, Millis, ObservationSet, ObservationView,
    PatientChange, PatientId, Priority, ReviewTrigger, Role, StaffId, StaffRef, TaskView, Trend,
};

/// The hub as the raiser of the tasks and pages it starts itself.
pub(super) const HUB_STAFF: StaffId = StaffId(Uuid::nil());

pub(super) fn hub_ref() -> StaffRef {
    StaffRef {
        id: HUB_STAFF,
        name: "NEWS2 (hub)".into(),
    }
}

impl Hospital {
    pub(super) fn record_observations(
        &mut self,
        actor: StaffId,
        id: PatientId,
        set: &ObservationSet,
        now: Millis,
        ids: &mut Ids,
    ) -> Result<Effects, DomainError> {
        let mut p = self.visible_patient(actor, id, now)?.clone();
        let score = news2::score(set, p.view.scale);
        let previous = self
            .charts
            .last_complete_before(id, set.taken_at)
            .and_then(|o| o.score.total);
        let obs = Arc::new(ObservationView {
            id: self.fresh_observation_id(id, now, ids),
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
            self.take_newest(&mut fx, &mut p, &obs, now);
        }
        p.touch(now);
        let review = if newest {
            self.respond(&mut fx, &mut p, (&obs, &summary), actor, now, ids)
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

    /// The newest set is the patient's latest score; a complete one also
    /// sets when the next is due and closes an "observations overdue" task.
    fn take_newest(
        &mut self,
        fx: &mut Effects,
        p: &mut Patient,
        obs: &ObservationView,
        now: Millis,
    ) {
        p.view.latest = Some(LatestScore {
            observation: obs.id,
            taken_at: obs.set.taken_at,
            score: obs.score.clone(),
            trend: obs.trend,
        });
        if let Some(band) = obs.score.band {
            // Only a complete set meets the monitoring the last score asked for.
            p.view.obs_due_at = Some(obs.set.taken_at + self.policies.news2.every(band));
            p.view.obs_overdue = false;
            p.stage = ObsStage::Due;
            if let Some(task) = p.obs_task.take() {
                let note = format!("observations recorded by {}", obs.recorded_by.name);
                self.close_obs_task(fx, task, &note, now);
            }
        }
    }

    /// Starts the response the set (and its summary) calls for; returns
    /// the review task raised or changed.
    fn respond(
        &mut self,
        fx: &mut Effects,
        p: &mut Patient,
        (obs, summary): (&ObservationView, &str),
        actor: StaffId,
        now: Millis,
        ids: &mut Ids,
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
                self.review(fx, p, ask, now, ids)
            }
            // The score fell below a review: the open one hears the new score.
            (None, Some(task)) => {
                self.rescore(fx, task, (trigger, None), BTreeSet::new(), now, ids)
            }
            (None, None) => None,
        }
    }

    pub(super) fn raise_concern(
        &mut self,
        actor: StaffId,
        id: PatientId,
        concern: &str,
        now: Millis,
        ids: &mut Ids,
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
        let task = self.review(&mut fx, &mut p, ask, now, ids);
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
}

fn trend(previous: Option<u8>, now: Option<u8>) -> Trend {
    match (previous, now) {
        (Some(a), Some(b)) if b > a => Trend::Rising,
        (Some(a), Some(b)) if b < a => Trend::Falling,
        (Some(_), Some(_)) => Trend::Same,
        _ => Trend::First,
    }
}

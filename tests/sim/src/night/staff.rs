//! What the night team does on a handheld: filing each event (and deciding,
//! after the planned delay, on every offer it brings), raising the planned
//! tasks, accepting or declining, completing, walking through not-spots and
//! sleeping, and taking the planned observation sets.

use super::super::episodes::SetOutcome;
use super::super::ledger::AckedRaise;
use super::super::plan::OutageKind;
use super::{plan_raise, Action, Actor, RAISE_TAG, REVIEW_DRAWS};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::time::Instant;
use wardpage_proto::{Command, CommandResult, Event, OfferState, Sbar, TaskChange, TaskId, WardId};

impl Actor {
    /// Files one new event: bookkeeping, and schedules reactions to offers
    /// (on a raise, and when an escalation offers the task to more people).
    pub(super) fn handle(&mut self, seq: u64, e: Event) {
        if self.traced() {
            eprintln!("TRACE seq {seq} {e:?}");
        }
        let (change, task) = match e {
            Event::Task { change, task, .. } => (Some(change), task),
            Event::TaskEscalated { task, level, .. } => {
                if self.is_coordinator() {
                    self.res.escalations.insert((task.id, level));
                }
                (None, task)
            }
            _ => return,
        };
        let raised = change == Some(TaskChange::Raised);
        self.res.log.tasks.insert(task.id);
        if self.is_coordinator() {
            self.res.episodes.file(change, &task);
            let entry = self
                .views
                .entry(task.id)
                .or_insert((0, task.state, task.raised_at, None));
            if task.version >= entry.0 {
                *entry = (task.version, task.state, task.raised_at, task.accepted_at);
            }
        }
        if raised && !self.shown.insert(task.id) {
            self.res.log.shown_twice += 1;
        }
        let me = self.sh.ids[self.idx];
        let offered = task
            .offers
            .iter()
            .any(|o| o.staff.id == me && o.state == OfferState::Offered);
        if !offered || !self.decided.insert(task.id) {
            return;
        }
        let review = task.review.is_some();
        let draw = match plan_raise(&task) {
            Some(r) => {
                let sent = self.sh.sent.lock().ok().and_then(|m| m.get(&r).copied());
                if let (true, Some(sent)) = (raised, sent) {
                    if self.connected_since <= sent {
                        self.res.delivery_latency.push(sent.elapsed());
                    } else {
                        self.res.resumed_deliveries += 1;
                    }
                }
                self.sh.live.delivered.fetch_add(1, Relaxed);
                r
            }
            // A review the hub raised: drawn per patient and episode, so
            // the same night decides the same way.
            None if review => {
                let Some(&p) = task
                    .patient_ref
                    .as_ref()
                    .and_then(|r| self.sh.patient_index.get(&r.id))
                else {
                    return;
                };
                let n = self.reviews_seen.entry(p).or_default();
                *n += 1;
                REVIEW_DRAWS + p * 64 + *n
            }
            None => return,
        };
        let d = self.sh.plan.decision(draw, self.idx, task.priority);
        let at = Instant::now() + Duration::from_millis(d.after_ms);
        self.schedule(
            at,
            Action::Decide {
                task: task.id,
                accept: d.accept,
                work_ms: d.work_ms,
                review,
            },
        );
    }

    pub(super) async fn act(&mut self, a: Action) {
        match a {
            Action::Raise(i) => self.raise(i).await,
            Action::Outage(i) => {
                let o = self.sh.plan.outages[i].clone();
                if let (OutageKind::Sleep, Some(c)) = (o.kind, self.client.as_mut()) {
                    // A sleeping phone's OS closes the socket; a not-spot just drops it.
                    let _ = c.ack().await;
                }
                self.disconnect();
                tokio::time::sleep(Duration::from_millis(o.dur_ms)).await;
                self.sh.live.reconnects.fetch_add(1, Relaxed);
                let _ = self.ensure_connected().await;
            }
            Action::Decide {
                task,
                accept,
                work_ms,
                review,
            } => self.decide(task, accept, work_ms, review).await,
            Action::Complete(task) => {
                let _ = self
                    .exec(Command::Complete {
                        task,
                        outcome: "Done".into(),
                    })
                    .await;
            }
            Action::Observe(i) => self.observe(i).await,
        }
    }

    /// Raises planned task `i`, noting when it was first sent (for delivery
    /// latency) and what the hub answered.
    async fn raise(&mut self, i: usize) {
        let sh = self.sh.clone();
        let r = &sh.plan.raises[i];
        let cmd = Command::RaiseTask {
            ward: WardId(r.ward.clone()),
            bed: r.bed.clone(),
            patient: r.patient.clone(),
            patient_id: None,
            category: r.category,
            priority: r.priority,
            requirement: r.requirement,
            sbar: Sbar {
                situation: format!("{:?} needed, bed {}", r.category, r.bed),
                background: format!("{RAISE_TAG}{i}"),
                assessment: format!("{:?}", r.priority),
                recommendation: "Please review".into(),
            },
        };
        let sent = Instant::now();
        if let Ok(mut m) = self.sh.sent.lock() {
            m.insert(i, sent);
        }
        let answer = self.exec(cmd).await;
        match &answer {
            Some(Err(e)) => self
                .res
                .raise_problems
                .push(format!("raise {} refused: {e}", r.patient)),
            None => self
                .res
                .raise_problems
                .push(format!("raise {} got no answer", r.patient)),
            _ => {}
        }
        if let Some(Ok(CommandResult::Task { task })) = answer {
            self.res.ack_latency.push(sent.elapsed());
            self.sh.live.acked.fetch_add(1, Relaxed);
            self.res.acked.push(AckedRaise {
                task: task.id,
                candidates: task
                    .offers
                    .iter()
                    .filter(|o| o.state == OfferState::Offered)
                    .map(|o| o.staff.id)
                    .collect(),
            });
        }
    }

    /// Accepts (and schedules completing after `work_ms`) or declines.
    async fn decide(&mut self, task: TaskId, accept: bool, work_ms: u64, review: bool) {
        if accept {
            if let Some(Ok(_)) = self.exec(Command::Accept { task }).await {
                if review {
                    self.res.accepted_reviews.push((task, Instant::now()));
                    self.sh.live.reviews.fetch_add(1, Relaxed);
                }
                self.schedule(
                    Instant::now() + Duration::from_millis(work_ms),
                    Action::Complete(task),
                );
            }
        } else {
            let _ = self
                .exec(Command::Decline {
                    task,
                    reason: "Busy with a sick patient on another ward".into(),
                })
                .await;
        }
    }

    /// Takes planned set `i`: its time is the device's clock when first
    /// sent, kept on every re-send, as a handheld queues a set offline.
    async fn observe(&mut self, i: usize) {
        let planned = self.sh.plan.sets[i];
        let Some(&patient) = self.sh.patients.get(planned.patient) else {
            return;
        };
        let taken_at = wardpage_server::clock::now_ms();
        let cmd = Command::RecordObservations {
            patient,
            set: super::super::obsplan::set_for(planned.total, taken_at),
        };
        let sent = Instant::now();
        match self.exec(cmd).await {
            Some(Ok(CommandResult::Observation {
                observation,
                review,
                ..
            })) => {
                self.sh.live.observed.fetch_add(1, Relaxed);
                self.res.sets.push(SetOutcome {
                    patient: planned.patient,
                    planned: planned.total,
                    sent,
                    observation: observation.id,
                    total: observation.score.total,
                    band: observation.score.band,
                    red_flag: observation.score.red_flag,
                    review: review.map(|t| t.id),
                });
            }
            Some(Ok(other)) => self
                .res
                .set_problems
                .push(format!("set {i} answered {other:?}")),
            Some(Err(e)) => self.res.set_problems.push(format!("set {i} refused: {e}")),
            None => self.res.set_problems.push(format!("set {i} got no answer")),
        }
    }
}

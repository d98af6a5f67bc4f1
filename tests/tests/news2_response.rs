//! Patients, bedside observations and the clinical response the hub starts
//! itself, end to end against real hubs: a NEWS2 of 7 or more offers an
//! emergency review to the registrar and outreach and pages both; a 5
//! offers an urgent review to the FY1; a later 7 moves that same task up;
//! overdue observations fire across a SIGKILL; a clinical concern raises
//! a review whatever the score; Scale 2 scores by its own rules; a
//! completed review ends the episode. Patients as records (transfers, bad
//! input, sets across a restart, the demo hospital) are in
//! `patient_records.rs`.

use wardpage_proto::{
    Band, Category, Command, CommandResult, ErrorCode, Event, PageChange, PatientChange, Priority,
    Requirement, Role, StaffId, TaskChange, TaskState,
};
use wardpage_tests::hub::HubProcess;
use wardpage_tests::patients::*;
use wardpage_tests::story::*;
use wardpage_tests::{Client, TestHub};

#[tokio::test]
async fn a_seven_offers_an_emergency_review_to_the_registrar_and_outreach_and_pages_both(
) -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nic = Client::login_connect(&base, "nic.grant").await?;
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut reg = Client::login_connect(&base, "reg.evans").await?;
    let mut ccot = Client::login_connect(&base, "ccot.adeyemi").await?;
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let p = admit(&mut nic, "w7", "3", details(1, "Robin Testperson")).await?;
    let (obs, after, review) = observe(&mut nurse, p.id, eleven(now())).await?;
    assert_eq!(obs.score.total, Some(11));
    assert_eq!(obs.score.band, Some(Band::High));
    assert!(obs.score.red_flag);
    let review = review.expect("a 7 or more raises a review");
    assert_eq!(review.priority, Priority::Emergency);
    assert_eq!(review.category, Category::MedicalReview);
    assert_eq!(
        review.raised_by.id,
        StaffId(uuid::Uuid::nil()),
        "the hub is the raiser"
    );
    assert_eq!(review.patient_ref.as_ref().map(|r| r.id), Some(p.id));
    let offers = offered_to(&review);
    assert!(
        offers.contains(&"Dr Claire Evans".to_string()),
        "{offers:?}"
    );
    assert!(
        offers.contains(&"Tobi Adeyemi (Outreach)".to_string()),
        "{offers:?}"
    );
    assert!(
        matches!(review.requirement, Requirement::AnyRole(r) if r.contains(Role::Registrar) && r.contains(Role::CriticalCareOutreach))
    );
    assert_eq!(after.review, Some(review.id));
    assert_eq!(
        after.obs_due_at,
        Some(obs.set.taken_at + 15 * MIN),
        "continuous: every 15 min"
    );
    for who in [&mut reg, &mut ccot] {
        let page = who
            .wait_for(|e| matches!(e, Event::Page { change: PageChange::Sent, page, .. } if page.from.id.0.is_nil()))
            .await?;
        let Event::Page { page, .. } = page else {
            unreachable!()
        };
        assert_eq!(page.priority, Priority::Emergency);
        assert!(page.message.contains("NEWS2 11"), "{}", page.message);
        // The page names the patient, as a task does.
        assert!(
            page.message.contains("Robin Testperson, NHS 999"),
            "{}",
            page.message
        );
    }
    coord
        .wait_for(|e| matches!(e, Event::Task { change: TaskChange::Raised, task, .. } if task.id == review.id))
        .await?;
    // The audit names the set that caused it.
    let trail = match coord.ok(Command::Timeline { task: review.id }).await? {
        CommandResult::Timeline { entries, .. } => entries,
        other => anyhow::bail!("timeline answered {other:?}"),
    };
    assert!(trail[0].actor.is_none(), "raised by the hub");
    assert!(
        trail[0].detail.contains(&obs.id.to_string()),
        "{}",
        trail[0].detail
    );
    hub.stop().await
}

#[tokio::test]
async fn a_five_offers_an_urgent_review_to_the_fy1_and_a_later_seven_moves_that_same_task_up(
) -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nic = Client::login_connect(&base, "nic.grant").await?;
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut patel = Client::login_connect(&base, "fy1.patel").await?;
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let p = admit(&mut nic, "w7", "4", details(2, "Jamie Sampleton")).await?;
    let t0 = now() - 30 * MIN;
    let (obs, after, review) = observe(&mut nurse, p.id, five(t0)).await?;
    assert_eq!(obs.score.total, Some(5));
    assert_eq!(after.obs_due_at, Some(t0 + 60 * MIN), "hourly");
    let review = review.expect("a 5 raises an urgent review");
    assert_eq!(review.priority, Priority::Urgent);
    assert!(offered_to(&review).contains(&"Dr Asha Patel".to_string()));
    patel
        .wait_for(|e| matches!(e, Event::Task { change: TaskChange::Raised, task, .. } if task.id == review.id))
        .await?;
    // The nurse in charge is alerted of a 5 or more.
    nic.wait_for(|e| matches!(e, Event::Task { task, .. } if task.id == review.id))
        .await?;

    let (later, _, again) = observe(&mut nurse, p.id, eleven(now())).await?;
    let again = again.expect("the open review is updated");
    assert_eq!(
        again.id, review.id,
        "never a second review for the same episode"
    );
    assert_eq!(
        again.priority,
        Priority::Emergency,
        "moved to the higher response at once"
    );
    assert!(offered_to(&again).contains(&"Dr Claire Evans".to_string()));
    assert!(
        offered_to(&again).contains(&"Dr Asha Patel".to_string()),
        "earlier offers stand"
    );
    let trigger = again.review.clone().expect("the trigger");
    assert_eq!(trigger.observation, Some(later.id));
    assert_eq!(trigger.total, Some(11));
    patel
        .wait_for(|e| matches!(e, Event::Task { change: TaskChange::Rescored, task, .. } if task.id == review.id))
        .await?;
    let snap = coord.snapshot_all().await?;
    let reviews = snap
        .tasks
        .iter()
        .filter(|t| {
            t.patient_ref.as_ref().is_some_and(|r| r.id == p.id)
                && t.category == Category::MedicalReview
        })
        .count();
    assert_eq!(reviews, 1);
    hub.stop().await
}

#[tokio::test]
async fn overdue_observations_alert_the_ward_then_task_the_nurse_in_charge_across_a_sigkill(
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("hub.db");
    // The demo hospital with its patients: ours takes a free bed.
    let hub = HubProcess::start_with_patients(&db, "127.0.0.1:0".parse()?, &[]).await?;
    let base = hub.base();
    let mut nic = Client::login_connect(&base, "nic.grant").await?;
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let bed = free_bed(&mut nic, "w7").await?;
    let p = admit(&mut nic, "w7", &bed, details(3, "Casey Demoford")).await?;
    // A 7 taken 45 min ago, less 6 s: its next set was due 30 min ago, and
    // the grace after the alert (30 min) ends 6 s from now.
    let taken = now() - 45 * MIN + 6_000;
    let (_, after, _) = observe(&mut nurse, p.id, eleven(taken)).await?;
    let due = after.obs_due_at.expect("a due time");
    let task_due = due + 30 * MIN;
    let alert = nurse
        .wait_for(|e| matches!(e, Event::Patient { change: PatientChange::ObservationsOverdue, patient, .. } if patient.id == p.id))
        .await?;
    let Event::Patient { patient, .. } = alert else {
        unreachable!()
    };
    assert!(patient.obs_overdue);
    let token = nic.token.clone();
    drop((nic, nurse));
    hub.kill9().await?;
    assert!(now() < task_due, "killed before the task was due");

    let hub = HubProcess::start_with_patients(&db, "127.0.0.1:0".parse()?, &[]).await?;
    let ready = now();
    let mut nic = Client::connect(&hub.base(), &token, 0).await?;
    let raised = nic
        .wait_for(|e| matches!(e, Event::Task { task, .. } if task.category == Category::Observations && task.patient_ref.as_ref().is_some_and(|r| r.id == p.id)))
        .await?;
    let Event::Task { task, .. } = raised else {
        unreachable!()
    };
    assert!(task.raised_at >= task_due, "not before it was due");
    assert!(
        task.raised_at <= task_due.max(ready) + 1_000,
        "within 1 s of due after the restart: raised {} ms after due, restart ready {} ms after due",
        task.raised_at - task_due,
        ready - task_due
    );
    assert_eq!(task.requirement, Requirement::Role(Role::NurseInCharge));
    assert!(offered_to(&task).contains(&"Charge Nurse Ian Grant".to_string()));
    // The next set closes it.
    let mut nurse = Client::login_connect(&hub.base(), "nurse.okafor").await?;
    observe(&mut nurse, p.id, five(now())).await?;
    nic.wait_for(|e| matches!(e, Event::Task { change: TaskChange::Cancelled, task: t, .. } if t.id == task.id))
        .await?;
    hub.kill9().await
}

async fn free_bed(c: &mut Client, ward: &str) -> anyhow::Result<String> {
    let mut taken = Vec::new();
    let mut after = None;
    loop {
        match c
            .ok(Command::Patients {
                ward: Some(ward.into()),
                after: after.clone(),
            })
            .await?
        {
            CommandResult::Patients { patients, next } => {
                taken.extend(patients.into_iter().map(|p| p.bed));
                match next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
            other => anyhow::bail!("patients answered {other:?}"),
        }
    }
    (1..=24)
        .map(|b| b.to_string())
        .find(|b| !taken.contains(b))
        .ok_or_else(|| anyhow::anyhow!("no free bed on {ward}"))
}

#[tokio::test]
async fn a_clinical_concern_raises_an_urgent_review_whatever_the_score() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nic = Client::login_connect(&base, "nic.grant").await?;
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let p = admit(&mut nic, "w7", "10", details(8, "Avery Exampleby")).await?;
    let (obs, _, none) = observe(&mut nurse, p.id, obs_on_air(16, 97, 124, 76, 368, now())).await?;
    assert_eq!(obs.score.total, Some(0));
    assert!(none.is_none());
    let r = nurse
        .ok(Command::RaiseConcern {
            patient: p.id,
            concern: "Not himself, new oliguria".into(),
        })
        .await?;
    let CommandResult::Task { task } = r else {
        anyhow::bail!("concern answered {r:?}")
    };
    assert_eq!(task.priority, Priority::Urgent);
    assert_eq!(task.state, TaskState::Offering);
    assert!(task.sbar.situation.contains("new oliguria"));
    assert_eq!(task.raised_by.name, "Nurse Sam Okafor");
    hub.stop().await
}

#[tokio::test]
async fn scale_2_is_set_by_a_doctor_with_a_reason_and_scores_by_its_own_rules() -> anyhow::Result<()>
{
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nic = Client::login_connect(&base, "nic.grant").await?;
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut patel = Client::login_connect(&base, "fy1.patel").await?;
    let p = admit(&mut nic, "w7", "11", details(9, "Sage Trialsby")).await?;
    let scale2 = |reason: &str| Command::SetSpo2Scale {
        patient: p.id,
        scale: wardpage_proto::Spo2Scale::Scale2,
        reason: reason.into(),
        target_low: None,
        target_high: None,
    };
    let e = nurse
        .command(scale2("COPD"))
        .await?
        .expect_err("nurses may not");
    assert_eq!(e.code, ErrorCode::Forbidden);
    let e = patel
        .command(scale2(""))
        .await?
        .expect_err("a reason is required");
    assert_eq!(e.code, ErrorCode::InvalidField);
    let r = patel
        .ok(scale2(
            "Hypercapnic respiratory failure (COPD), ABG reviewed",
        ))
        .await?;
    let CommandResult::Patient { patient } = r else {
        anyhow::bail!("answered {r:?}")
    };
    let order = patient.scale2.expect("the prescription");
    assert_eq!((order.target_low, order.target_high), (88, 92));
    assert_eq!(order.by.name, "Dr Asha Patel");
    // SpO2 90% on air: 3 on Scale 1, 0 on Scale 2.
    let (obs, _, review) =
        observe(&mut nurse, p.id, obs_on_air(16, 90, 124, 76, 368, now())).await?;
    assert_eq!(obs.score.scale, wardpage_proto::Spo2Scale::Scale2);
    assert_eq!(obs.score.sub_scores.spo2, Some(0));
    assert_eq!(obs.score.total, Some(0));
    assert!(review.is_none());
    let audit = hub.store.audit_for(&p.id.to_string()).await?;
    assert!(
        audit
            .iter()
            .any(|a| a.action == "set_spo2_scale" && a.detail.contains("Scale 2, target 88-92%")),
        "the scale is in the audit trail"
    );
    hub.stop().await
}

#[tokio::test]
async fn a_completed_review_ends_the_episode_and_the_next_trigger_raises_a_new_one(
) -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nic = Client::login_connect(&base, "nic.grant").await?;
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut patel = Client::login_connect(&base, "fy1.patel").await?;
    let p = admit(&mut nic, "w7", "12", details(10, "Rowan Pretendle")).await?;
    let (_, _, first) = observe(&mut nurse, p.id, five(now())).await?;
    let first = first.expect("a review");
    patel.ok(Command::Accept { task: first.id }).await?;
    patel
        .ok(Command::Complete {
            task: first.id,
            outcome: "Reviewed: sepsis screen, fluids".into(),
        })
        .await?;
    let ended = nurse
        .wait_for(|e| matches!(e, Event::Patient { change: PatientChange::Updated, patient, .. } if patient.id == p.id && patient.review.is_none()))
        .await?;
    assert!(
        matches!(ended, Event::Patient { by: None, .. }),
        "the hub ends the episode"
    );
    let (_, after, second) = observe(&mut nurse, p.id, five(now())).await?;
    let second = second.expect("a new episode's review");
    assert_ne!(second.id, first.id);
    assert_eq!(after.review, Some(second.id));
    hub.stop().await
}

//! Escalation end to end, with policies measured in seconds: nobody accepts,
//! and the hub alerts more people, on time, even across a SIGKILL. The
//! timing tests run the writer on a manual clock: time moves only when the
//! test moves it, so "a millisecond before due" is exact, and a read
//! through the writer (which fires what is due first) shows what fired.
//! The SIGKILL test runs the binary in real time: that is its point.

use anyhow::Context;
use std::time::Duration;
use wardpage_proto::{Command, Event, Millis, Priority, Requirement, Role, TaskView};
use wardpage_server::config::{Config, EscalationConfig};
use wardpage_tests::story::*;
use wardpage_tests::{Client, HubProcess, TestHub};

/// Not accepted within `first` s: re-alert; 1 s later widen to the
/// registrar; 1 s later the coordinator, repeating every 30 s.
fn short_policy(first: u32) -> String {
    // Not about reach: an offer to someone not connected waits for its step.
    format!(
        r#"
[escalation]
nobody_connected = "wait"

[[escalation.task]]
name = "test"
accept = {{ steps = [
  {{ action = "realert", after_secs = {first} }},
  {{ action = "widen", roles = ["registrar"], after_secs = 1 }},
  {{ action = "coordinator", after_secs = 1 }},
], repeat_every_secs = 30 }}
complete = {{ steps = [{{ action = "coordinator", after_secs = 600 }}] }}
"#
    )
}

fn with_policy(first: u32) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        let parsed: Config = Config::parse(&short_policy(first)).expect("test policy parses");
        c.escalation = parsed.escalation;
    }
}

async fn escalation(
    c: &mut Client,
    task: &TaskView,
) -> anyhow::Result<(u32, String, Vec<String>, TaskView)> {
    loop {
        let (_, e) = c.next_event().await?;
        if let Event::TaskEscalated {
            task: t,
            level,
            reason,
            alerted,
        } = e
        {
            if t.id == task.id {
                return Ok((
                    level,
                    reason,
                    alerted.into_iter().map(|a| a.name).collect(),
                    t,
                ));
            }
        }
    }
}

/// Moves `hub`'s manual clock on to `at` (the writer's time).
fn advance_to(hub: &TestHub, at: Millis) -> anyhow::Result<()> {
    let by = at - hub.now();
    anyhow::ensure!(by >= 0, "{by} ms: the clock only moves on");
    hub.advance(Duration::from_millis(by as u64))
}

/// The task as the writer has it now, and how many escalations it has
/// audited. A barrier: the writer fires whatever is due by its time before
/// it answers a read, and the audit rows are committed before the answer
/// leaves; so what this shows is every step that had fired by then.
async fn as_it_stands(
    hub: &TestHub,
    c: &mut Client,
    task: &TaskView,
) -> anyhow::Result<(TaskView, usize)> {
    let (_, tasks) = snapshot(c).await?;
    let t = tasks
        .into_iter()
        .find(|t| t.id == task.id)
        .context("the task is still open")?;
    let audit = hub.store.audit_for(&task.id.to_string()).await?;
    let escalations = audit.iter().filter(|a| a.action == "escalate").count();
    Ok((t, escalations))
}

/// Each step on time to the millisecond, on a clock the test moves: not a
/// millisecond early, once, and on to the coordinator and its repeat.
#[tokio::test]
async fn an_unaccepted_task_climbs_the_ladder_to_the_coordinator() -> anyhow::Result<()> {
    let hub = TestHub::start_on_manual_clock(with_policy(1)).await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.lee").await?;
    let mut fy1 = Client::login_connect(&base, "fy1.patel").await?;
    let mut reg = Client::login_connect(&base, "reg.evans").await?;
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let task = raise_ok(&mut nurse, needs_role("w8", Role::Fy1)).await?;
    assert_eq!(task.offers.len(), 1, "Dr Patel is the only FY1 on Ward 8");
    let due = task.next_escalation_at.context("a countdown is running")?;
    assert_eq!(due, task.raised_at + 1_000);

    // A millisecond short of due: nothing.
    advance_to(&hub, due - 1)?;
    let (t, fired) = as_it_stands(&hub, &mut nurse, &task).await?;
    assert_eq!((t.escalation_level, fired), (0, 0), "not before it is due");
    advance_to(&hub, due)?;
    let (level, reason, alerted, t) = escalation(&mut fy1, &task).await?;
    assert_eq!((level, alerted), (1, vec!["Dr Asha Patel".to_string()]));
    assert!(
        reason.starts_with("not accepted 1 s after it was raised, by any FY1 on Ward 8 (Surgery) (soon, bed 12): alerted again"),
        "{reason}"
    );
    assert_eq!(t.updated_at, due, "fired at its due time");

    // Once: up to a millisecond short of the next step, still one.
    let widen = t.next_escalation_at.context("the ladder goes on")?;
    assert_eq!(widen, due + 1_000);
    advance_to(&hub, widen - 1)?;
    let (t, fired) = as_it_stands(&hub, &mut nurse, &task).await?;
    assert_eq!(
        (t.escalation_level, fired),
        (1, 1),
        "the re-alert fired once"
    );
    advance_to(&hub, widen)?;
    let (level, _, alerted, t) = escalation(&mut reg, &task).await?;
    assert_eq!((level, alerted), (2, vec!["Dr Claire Evans".to_string()]));
    assert!(
        t.offers.iter().any(|o| o.staff.name == "Dr Claire Evans"),
        "the registrar is offered it"
    );

    let to_coordinator = t.next_escalation_at.context("the ladder goes on")?;
    assert_eq!(to_coordinator, widen + 1_000);
    advance_to(&hub, to_coordinator)?;
    // The coordinator sees every step, the raiser too.
    for c in [&mut coord, &mut nurse] {
        let levels = [
            escalation(c, &task).await?.0,
            escalation(c, &task).await?.0,
            escalation(c, &task).await?.0,
        ];
        assert_eq!(levels, [1, 2, 3]);
    }

    // Then the coordinator again every 30 s, and not before.
    let (t, fired) = as_it_stands(&hub, &mut nurse, &task).await?;
    assert_eq!((t.escalation_level, fired), (3, 3));
    let repeat = t.next_escalation_at.context("the last step repeats")?;
    assert_eq!(repeat, to_coordinator + 30_000);
    advance_to(&hub, repeat - 1)?;
    let (t, fired) = as_it_stands(&hub, &mut nurse, &task).await?;
    assert_eq!((t.escalation_level, fired), (3, 3), "no repeat before 30 s");
    advance_to(&hub, repeat)?;
    let (level, _, alerted, t) = escalation(&mut coord, &task).await?;
    assert_eq!(level, 4);
    assert!(
        alerted.iter().any(|a| a == "Sister Jo Hale"),
        "the repeat reaches the coordinator: {alerted:?}"
    );
    assert_eq!(t.updated_at, repeat);

    // The registrar can take it now.
    reg.ok(Command::Accept { task: task.id }).await?;
    let audit = hub.store.audit_for(&task.id.to_string()).await?;
    let escalations = audit.iter().filter(|a| a.action == "escalate").count();
    assert_eq!(escalations, 4);
    hub.stop().await
}

#[tokio::test]
async fn a_task_accepted_before_its_deadline_is_not_escalated() -> anyhow::Result<()> {
    let hub = TestHub::start_on_manual_clock(with_policy(2)).await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.lee").await?;
    let mut fy1 = Client::login_connect(&base, "fy1.patel").await?;
    let task = raise_ok(&mut nurse, needs_role("w8", Role::Fy1)).await?;
    let due = task.next_escalation_at.context("a countdown is running")?;
    // Accepted a millisecond before the re-alert was due.
    advance_to(&hub, due - 1)?;
    let held = task_of(&fy1.ok(Command::Accept { task: task.id }).await?).clone();
    assert_eq!(held.accepted_at, Some(due - 1));
    // Well past the old deadline (and short of the new one): nothing fired.
    advance_to(&hub, due + 2_500)?;
    let (t, fired) = as_it_stands(&hub, &mut nurse, &task).await?;
    assert_eq!(
        (t.escalation_level, fired),
        (0, 0),
        "accepted in time: never escalated"
    );
    assert_eq!(
        t.next_escalation_at,
        Some(due - 1 + 600_000),
        "now on the complete ladder"
    );
    hub.stop().await
}

/// A countdown survives SIGKILL: after a restart the escalation fires
/// within a second of its due time.
#[tokio::test]
async fn sigkill_during_a_countdown_still_escalates_on_time() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("hub.db");
    let config = dir.path().join("wardpage.toml");
    std::fs::write(&config, short_policy(3))?;
    let env = [("WARDPAGE_CONFIG", config.to_str().unwrap_or_default())];
    let hub = HubProcess::start(&db, "127.0.0.1:0".parse()?, &env).await?;
    let mut nurse = Client::login_connect(&hub.base(), "nurse.lee").await?;
    let task = raise_ok(&mut nurse, needs_role("w8", Role::Fy1)).await?;
    let due = task.next_escalation_at.expect("a countdown is running");
    assert_eq!(due, task.raised_at + 3000);
    // Part of the scenario, not a wait for anything: the hub dies 0.8 s
    // into the countdown, so a restarted hub that began the countdown
    // afresh would fire at least 0.8 s late and fail the check below.
    tokio::time::sleep(Duration::from_millis(800)).await;
    hub.kill9().await?;

    let hub = HubProcess::start(&db, "127.0.0.1:0".parse()?, &env).await?;
    let token =
        wardpage_tests::client::login(&hub.base(), "fy1.patel", wardpage_tests::DEMO_PASSWORD)
            .await?;
    let mut fy1 = Client::connect(&hub.base(), &token, 0).await?;
    let fired_at = loop {
        let (_, e) = fy1.next_event().await?;
        if let Event::TaskEscalated {
            task: t, level: 1, ..
        } = &e
        {
            assert_eq!(t.id, task.id);
            break t.updated_at;
        }
    };
    let late = fired_at - due;
    assert!(
        (0..1000).contains(&late),
        "fired {late} ms after due (must be within 1 s)"
    );
    hub.terminate().await?;
    Ok(())
}

#[test]
fn escalation_config_errors_name_the_policy() {
    let bad = r#"
[[escalation.task]]
name = "nights"
accept = { steps = [{ action = "realert" }, { action = "widen", after_mins = 5 }] }
complete = { steps = [{ action = "coordinator", after_mins = 5 }] }
"#;
    let cfg = Config::parse(bad).expect("parses");
    let e = cfg.validate().expect_err("ends with widen");
    assert!(
        e.to_string().contains("`nights`") && e.to_string().contains("end with `coordinator`"),
        "{e}"
    );
    let both = r#"
[escalation.page]
steps = [{ action = "coordinator", after_secs = 5, after_mins = 1 }]
"#;
    let e = Config::parse(both)
        .expect("parses")
        .validate()
        .expect_err("two delays");
    assert!(e.to_string().contains("not both"), "{e}");
    assert!(Config::parse("[escalation.page]\nsteps = [{ action = \"launch\" }]").is_err());
    let unknown = "[escalation.page_by_priority.asap]\nsteps = [{ action = \"coordinator\", after_mins = 1 }]";
    let e = Config::parse(unknown)
        .expect("parses")
        .validate()
        .expect_err("no such priority");
    assert!(e.to_string().contains("not a priority"), "{e}");
    assert_eq!(
        EscalationConfig::default().to_policies().expect("defaults"),
        wardpage_server::domain::Policies::default()
    );
}

#[tokio::test]
async fn a_priority_raised_part_way_up_the_ladder_escalates_on_the_new_cadence(
) -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let task = raise_ok(
        &mut nurse,
        raise(
            "w7",
            Requirement::Skill(wardpage_proto::Skill::Cannulation),
            Priority::Routine,
        ),
    )
    .await?;
    // Its first step fires (by hand here): the routine ladder's next step
    // is five minutes on.
    let fired = task_of(&coord.ok(Command::EscalateNow { task: task.id }).await?).clone();
    let routine_next = fired.next_escalation_at.expect("still on the ladder");
    let before = wardpage_server::clock::now_ms();
    let changed = coord
        .ok(Command::SetPriority {
            task: task.id,
            priority: Priority::Emergency,
        })
        .await?;
    let next = task_of(&changed)
        .next_escalation_at
        .expect("still on the ladder");
    // The emergency ladder's steps are a minute apart (the default policy).
    assert!(
        next <= before + 60_000 + 1_000,
        "next escalation {} ms after the change, on the routine cadence (was due {} ms on)",
        next - before,
        routine_next - before
    );
    assert!(next >= before, "not in the past: no flood of firings");
    hub.stop().await
}

//! Escalation end to end, with policies measured in seconds: nobody accepts,
//! and the hub alerts more people, on time, even across a SIGKILL.

use std::time::Duration;
use wardpage_proto::{Command, Event, Priority, Requirement, Role, TaskView};
use wardpage_server::config::{Config, EscalationConfig};
use wardpage_tests::story::*;
use wardpage_tests::{Client, HubProcess, TestHub};

/// Not accepted within `first` s: re-alert; 1 s later widen to the
/// registrar; 1 s later the coordinator, repeating every 30 s.
fn short_policy(first: u32) -> String {
    format!(
        r#"
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

#[tokio::test]
async fn an_unaccepted_task_climbs_the_ladder_to_the_coordinator() -> anyhow::Result<()> {
    let hub = TestHub::start_with(with_policy(1)).await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.lee").await?;
    let mut fy1 = Client::login_connect(&base, "fy1.patel").await?;
    let mut reg = Client::login_connect(&base, "reg.evans").await?;
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let task = raise_ok(&mut nurse, needs_role("w8", Role::Fy1)).await?;
    assert_eq!(task.offers.len(), 1, "Dr Patel is the only FY1 on Ward 8");

    let (level, reason, alerted, _) = escalation(&mut fy1, &task).await?;
    assert_eq!((level, alerted), (1, vec!["Dr Asha Patel".to_string()]));
    assert!(
        reason.starts_with("not accepted 1 s after it was raised, by any FY1 on Ward 8 (Surgery) (soon, bed 12): alerted again"),
        "{reason}"
    );

    let (level, _, alerted, t) = escalation(&mut reg, &task).await?;
    assert_eq!((level, alerted), (2, vec!["Dr Claire Evans".to_string()]));
    assert!(
        t.offers.iter().any(|o| o.staff.name == "Dr Claire Evans"),
        "the registrar is offered it"
    );

    // The coordinator sees every step, the raiser too.
    for c in [&mut coord, &mut nurse] {
        let levels = [
            escalation(c, &task).await?.0,
            escalation(c, &task).await?.0,
            escalation(c, &task).await?.0,
        ];
        assert_eq!(levels, [1, 2, 3]);
    }
    // The registrar can take it now.
    reg.ok(Command::Accept { task: task.id }).await?;
    let audit = hub.store.audit_for(&task.id.to_string()).await?;
    let escalations = audit.iter().filter(|a| a.action == "escalate").count();
    assert_eq!(escalations, 3);
    hub.stop().await
}

#[tokio::test]
async fn a_task_accepted_before_its_deadline_is_not_escalated() -> anyhow::Result<()> {
    let hub = TestHub::start_with(with_policy(2)).await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.lee").await?;
    let mut fy1 = Client::login_connect(&base, "fy1.patel").await?;
    let task = raise_ok(&mut nurse, needs_role("w8", Role::Fy1)).await?;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    fy1.ok(Command::Accept { task: task.id }).await?;
    // Well past the old deadline: nothing fired.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (_, tasks) = snapshot(&mut nurse).await?;
    let t = tasks.iter().find(|t| t.id == task.id).expect("still open");
    assert_eq!(t.escalation_level, 0, "accepted in time: never escalated");
    assert_eq!(
        t.next_escalation_at,
        Some(t.accepted_at.unwrap_or(0) + 600_000),
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

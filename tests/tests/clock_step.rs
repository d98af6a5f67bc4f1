//! Escalation deadlines survive the wall clock being stepped under a
//! running hub: set back an hour, an emergency still escalates on time
//! (not an hour late); set forward an hour, deadlines still an hour away
//! do not all fall due at once. (One test: the injected step is process-wide.)

use wardpage_proto::{Command, Event, Role};
use wardpage_server::clock::{now_ms, step_wall_clock_for_tests};
use wardpage_server::config::Config;
use wardpage_tests::story::*;
use wardpage_tests::{Client, TestHub};

const HOUR: i64 = 3_600_000;

fn system_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Not accepted within 2 s: re-alert (then the coordinator ten minutes
/// on); not completed within 10 minutes: the coordinator.
fn short_policy(c: &mut Config) {
    let policy = r#"
[[escalation.task]]
name = "test"
accept = { steps = [
  { action = "realert", after_secs = 2 },
  { action = "coordinator", after_secs = 600 },
], repeat_every_secs = 600 }
complete = { steps = [{ action = "coordinator", after_secs = 600 }] }
"#;
    c.escalation = Config::parse(policy)
        .expect("test policy parses")
        .escalation;
}

#[tokio::test]
async fn a_stepped_wall_clock_neither_delays_nor_floods_escalations() -> anyhow::Result<()> {
    let hub = TestHub::start_with(short_policy).await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.lee").await?;
    let mut fy1 = Client::login_connect(&base, "fy1.patel").await?;

    // Set back an hour, just after a task was raised.
    let task = raise_ok(&mut nurse, needs_role("w8", Role::Fy1)).await?;
    step_wall_clock_for_tests(-HOUR);
    let late = Client::login_connect(&base, "coord.hale").await?;
    assert!(
        (late.server_time - system_ms()).abs() < 60_000,
        "the hub's time did not jump back with the wall clock"
    );
    // Its re-alert comes two seconds on, not an hour and two seconds.
    fy1.wait_for(|e| matches!(e, Event::TaskEscalated { task: t, .. } if t.id == task.id))
        .await?;

    // Set forward two hours (an hour past the truth): a task accepted
    // just before has its next deadline ten minutes on, and the hub's time
    // stays short of it.
    let accepted = raise_ok(&mut nurse, needs_role("w8", Role::Fy1)).await?;
    let held = task_of(&fy1.ok(Command::Accept { task: accepted.id }).await?).clone();
    let due = held.next_escalation_at.expect("on the completion ladder");
    step_wall_clock_for_tests(2 * HOUR);
    let coord = Client::login_connect(&base, "coord.hale").await?;
    assert!(
        coord.server_time < due,
        "the hub's time jumped {} ms past a deadline ten minutes away",
        coord.server_time - due
    );
    assert!(now_ms() < due, "nor does the clock the writer times by");
    step_wall_clock_for_tests(-HOUR);
    hub.stop().await
}

//! Building blocks for tests that read as a night on the ward.

use crate::Client;
use wardpage_proto::{
    Breathing, Category, Command, CommandResult, Consciousness, Event, ObservationSet, Priority,
    Requirement, Role, Sbar, Skill, TaskChange, TaskId, TaskView, Tenths, WardId, Whole,
};

/// A raise command for `ward`, bed 12, needing `requirement`.
pub fn raise(ward: &str, requirement: Requirement, priority: Priority) -> Command {
    Command::RaiseTask {
        ward: WardId(ward.into()),
        bed: "12".into(),
        patient: "RX1234567".into(),
        patient_id: None,
        category: Category::Cannula,
        priority,
        requirement,
        sbar: Sbar {
            situation: "Tissued cannula, IV antibiotics due".into(),
            background: "Day 2 IV co-amoxiclav".into(),
            assessment: "Obs stable".into(),
            recommendation: "Re-site cannula".into(),
        },
    }
}

/// "Cannula, Ward 7 bed 12, urgent".
pub fn cannula_w7() -> Command {
    raise(
        "w7",
        Requirement::Skill(Skill::Cannulation),
        Priority::Urgent,
    )
}

pub fn needs_role(ward: &str, role: Role) -> Command {
    raise(ward, Requirement::Role(role), Priority::Soon)
}

/// The task in an `ok` result.
pub fn task_of(r: &CommandResult) -> &TaskView {
    match r {
        CommandResult::Task { task } => task,
        other => panic!("expected a task result, got {other:?}"),
    }
}

/// Raises and returns the task as the hub stored it.
pub async fn raise_ok(nurse: &mut Client, cmd: Command) -> anyhow::Result<TaskView> {
    Ok(task_of(&nurse.ok(cmd).await?).clone())
}

/// Waits for an event about `task` with `change`.
pub async fn task_event(
    c: &mut Client,
    task: TaskId,
    change: TaskChange,
) -> anyhow::Result<TaskView> {
    let e = c
        .wait_for(|e| matches!(e, Event::Task { task: t, change: ch, .. } if t.id == task && *ch == change))
        .await?;
    match e {
        Event::Task { task, .. } => Ok(task),
        _ => unreachable!("filtered above"),
    }
}

/// The user's stream position and visible open tasks, per the hub (every
/// part of the snapshot).
pub async fn snapshot(c: &mut Client) -> anyhow::Result<(u64, Vec<TaskView>)> {
    let all = c.snapshot_all().await?;
    Ok((all.cursor, all.tasks))
}

/// A complete set on air with these values.
pub fn obs_on_air(
    resp: i32,
    spo2: i32,
    systolic: i32,
    pulse: i32,
    temp_tenths: i32,
    taken_at: i64,
) -> ObservationSet {
    ObservationSet {
        respiration_rate: Some(Whole(resp)),
        spo2: Some(Whole(spo2)),
        breathing: Some(Breathing::Air),
        systolic: Some(Whole(systolic)),
        diastolic: Some(Whole(60)),
        pulse: Some(Whole(pulse)),
        consciousness: Some(Consciousness::Alert),
        temperature: Some(Tenths(temp_tenths)),
        taken_at,
    }
}

/// NEWS2 11: respiration 26 (3), SpO2 91 (3), systolic 98 (2), pulse 118 (2), 38.5 (1).
pub fn eleven(at: i64) -> ObservationSet {
    obs_on_air(26, 91, 98, 118, 385, at)
}

/// NEWS2 5: respiration 22 (2), SpO2 94 (1), pulse 105 (1), 38.3 (1).
pub fn five(at: i64) -> ObservationSet {
    obs_on_air(22, 94, 124, 105, 383, at)
}

/// `[escalation] nobody_connected = "wait"`, for tests about something
/// other than reach whose candidates are not connected on purpose: there an
/// offer waits for its step as before, instead of escalating at once.
pub const OFFERS_WAIT: &str = "[escalation]\nnobody_connected = \"wait\"\n";

/// [`OFFERS_WAIT`] for [`crate::TestHub::start_with`].
pub fn offers_wait(c: &mut wardpage_server::config::Config) {
    if let Ok(parsed) = wardpage_server::config::Config::parse(OFFERS_WAIT) {
        c.escalation = parsed.escalation;
    }
}

/// [`OFFERS_WAIT`] as a config file in `dir`, for a `HubProcess`'s
/// `WARDPAGE_CONFIG`.
pub fn offers_wait_file(dir: &std::path::Path) -> anyhow::Result<std::path::PathBuf> {
    let file = dir.join("offers-wait.toml");
    std::fs::write(&file, OFFERS_WAIT)?;
    Ok(file)
}

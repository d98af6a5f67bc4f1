//! `wardpage report --handover` against a seeded night on a real hub: the
//! rows of its CSV files are the ones this test works out by itself from
//! what the hub shows a coordinator (the snapshot, the ward's patients, the
//! escalation events it sent), for one ward and for the whole site.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use wardpage_proto::{
    Breathing, Command, CommandResult, Consciousness, Event, HandoverNoteText, ObservationSet,
    PageTarget, PatientDetails, PatientId, PatientView, Priority, Requirement, Role, Sex, Skill,
    TaskView, Tenths, Whole,
};
use wardpage_tests::hub::wardpage_cli;
use wardpage_tests::report_files::{read_csv, rfc3339};
use wardpage_tests::story::*;
use wardpage_tests::{Client, TestHub};

const MIN: i64 = 60_000;

/// One column of a CSV, as a set.
fn column(rows: &[BTreeMap<String, String>], key: &str) -> BTreeSet<String> {
    rows.iter().filter_map(|r| r.get(key).cloned()).collect()
}

fn details(nhs: &str, name: &str) -> PatientDetails {
    PatientDetails {
        nhs_number: Some(nhs.into()),
        local_number: None,
        name: name.into(),
        born: "1950-01-01".into(),
        sex: Sex::Male,
        consultant: "Dr A Example".into(),
        alerts: String::new(),
    }
}

/// A complete set on air; `resp` 22, SpO2 94, pulse 105, 38.3 scores 5.
fn set(resp: i32, spo2: i32, pulse: i32, temp: i32, taken_at: i64) -> ObservationSet {
    ObservationSet {
        respiration_rate: Some(Whole(resp)),
        spo2: Some(Whole(spo2)),
        breathing: Some(Breathing::Air),
        systolic: Some(Whole(124)),
        diastolic: Some(Whole(70)),
        pulse: Some(Whole(pulse)),
        consciousness: Some(Consciousness::Alert),
        temperature: Some(Tenths(temp)),
        taken_at,
    }
}

async fn admit(
    nic: &mut Client,
    ward: &str,
    bed: &str,
    d: PatientDetails,
) -> anyhow::Result<PatientId> {
    let r = nic
        .ok(Command::AdmitPatient {
            ward: ward.into(),
            bed: bed.into(),
            patient: d,
        })
        .await?;
    match r {
        CommandResult::Patient { patient } => Ok(patient.id),
        other => anyhow::bail!("admit answered {other:?}"),
    }
}

async fn patients(c: &mut Client, ward: &str) -> anyhow::Result<Vec<PatientView>> {
    match c
        .ok(Command::Patients {
            ward: Some(ward.into()),
            after: None,
        })
        .await?
    {
        CommandResult::Patients { patients, .. } => Ok(patients),
        other => anyhow::bail!("patients answered {other:?}"),
    }
}

/// Who the report must name as a task's owner, worked out from the view.
fn expected_owner(t: &TaskView) -> String {
    match (
        &t.assignee,
        t.offers
            .iter()
            .filter(|o| o.state == wardpage_proto::OfferState::Offered)
            .count(),
    ) {
        (Some(a), _) => a.name.clone(),
        (None, n) if n > 0 && t.state == wardpage_proto::TaskState::Offering => {
            format!("offered to {n}")
        }
        _ => "nobody (coordinator told)".into(),
    }
}

/// The What-if of the one Ward 7 patient's note.
const PLAN: &str = "If NEWS2 reaches 7, call outreach";

/// The seeded night: what the checks need to know of it.
struct Night {
    held: TaskView,
    done: TaskView,
    /// The task the coordinator escalated.
    escalated: BTreeSet<String>,
}

/// Ward 7: a patient scoring 5 taken 90 minutes ago (so due again and
/// overdue) with a handover note, one calm, one just admitted; Ward 8 one
/// scoring 5. The hub raises a review for each 5.
async fn seed_patients(base: &str) -> anyhow::Result<()> {
    let mut nic = Client::login_connect(base, "nic.grant").await?;
    let mut nurse = Client::login_connect(base, "nurse.okafor").await?;
    let mut nurse8 = Client::login_connect(base, "nurse.lee").await?;
    let mut fy1 = Client::login_connect(base, "fy1.patel").await?;
    let sick = admit(&mut nic, "w7", "1", details("9990000018", "Alan Sickly")).await?;
    let calm = admit(&mut nic, "w7", "2", details("9990000026", "Bea Calm")).await?;
    admit(&mut nic, "w7", "3", details("9990000034", "Cal Newcome")).await?;
    let w8 = admit(&mut nic, "w8", "4", details("9990000042", "Dee Eight")).await?;
    let now = wardpage_server::clock::now_ms();
    let sets = [
        (sick, set(22, 94, 105, 383, now - 90 * MIN)),
        (calm, set(16, 97, 76, 368, now - MIN)),
    ];
    for (patient, set) in sets {
        nurse
            .ok(Command::RecordObservations { patient, set })
            .await?;
    }
    let set = set(22, 94, 105, 383, now - 5 * MIN);
    nurse8
        .ok(Command::RecordObservations { patient: w8, set })
        .await?;
    let note = HandoverNoteText {
        situation: "Pneumonia, day 1".into(),
        background: String::new(),
        assessment: "NEWS2 5".into(),
        recommendation: "Review antibiotics at 08:00".into(),
        what_if: PLAN.into(),
    };
    fy1.ok(Command::SetHandoverNote {
        patient: sick,
        note,
    })
    .await?;
    Ok(())
}

/// Tasks: one held, one offered and escalated by the coordinator, one
/// done (not on the report), one on Ward 8; pages: one nobody answered,
/// one acknowledged.
async fn seed_work(base: &str, coord: &mut Client) -> anyhow::Result<Night> {
    let mut nurse = Client::login_connect(base, "nurse.okafor").await?;
    let mut nurse8 = Client::login_connect(base, "nurse.lee").await?;
    let mut fy1 = Client::login_connect(base, "fy1.patel").await?;
    let mut sho = Client::login_connect(base, "sho.khan").await?;
    let held = task_of(&nurse.ok(cannula_w7()).await?).clone();
    fy1.ok(Command::Accept { task: held.id }).await?;
    let bloods = raise("w7", Requirement::Skill(Skill::Bloods), Priority::Soon);
    let waiting = task_of(&nurse.ok(bloods).await?).clone();
    coord.ok(Command::EscalateNow { task: waiting.id }).await?;
    let routine = raise("w7", Requirement::Role(Role::Sho), Priority::Routine);
    let done = task_of(&nurse.ok(routine).await?).clone();
    sho.ok(Command::Accept { task: done.id }).await?;
    let outcome = String::new();
    sho.ok(Command::Complete {
        task: done.id,
        outcome,
    })
    .await?;
    nurse8
        .ok(raise("w8", Requirement::Role(Role::Fy1), Priority::Urgent))
        .await?;
    for (to, message) in [
        (fy1.id(), "Family on the phone, bed 2"),
        (sho.id(), "Drug chart"),
    ] {
        let target = PageTarget::Staff(to);
        let (priority, callback) = (Priority::Soon, "4471".into());
        let message = message.into();
        nurse
            .ok(Command::SendPage {
                target,
                priority,
                callback,
                message,
                ward: None,
            })
            .await?;
    }
    let to_sho = sho.wait_for(|e| matches!(e, Event::Page { .. })).await?;
    if let Event::Page { page, .. } = to_sho {
        sho.ok(Command::PageAck {
            page: page.id,
            reply: None,
        })
        .await?;
    }
    let e = coord
        .wait_for(|e| matches!(e, Event::TaskEscalated { task, .. } if task.id == waiting.id))
        .await?;
    let Event::TaskEscalated { task, .. } = e else {
        anyhow::bail!("filtered above")
    };
    let escalated = BTreeSet::from([task.id.to_string()]);
    Ok(Night {
        held,
        done,
        escalated,
    })
}

/// What the report must hold, worked out from what the hub shows a coordinator.
struct Expected {
    tasks: Vec<TaskView>,
    all_tasks: BTreeSet<String>,
    watch: BTreeSet<String>,
    overdue: BTreeSet<String>,
    unanswered: BTreeSet<String>,
}

async fn expected(coord: &mut Client, at: i64) -> anyhow::Result<Expected> {
    let snap = coord.snapshot_all().await?;
    let tasks: Vec<TaskView> = snap
        .tasks
        .iter()
        .filter(|t| t.ward.0 == "w7")
        .cloned()
        .collect();
    let ward7 = patients(coord, "w7").await?;
    let scores_5 = |p: &&PatientView| {
        p.latest
            .as_ref()
            .is_some_and(|l| l.score.total.is_some_and(|t| t >= 5) || l.score.red_flag)
    };
    let watch = ward7
        .iter()
        .filter(scores_5)
        .map(|p| p.details.name.clone())
        .collect();
    let overdue = ward7
        .iter()
        .filter(|p| p.obs_due_at.is_some_and(|d| d <= at))
        .map(|p| p.details.name.clone())
        .collect();
    let unanswered = snap
        .pages
        .iter()
        .filter(|p| {
            p.state == wardpage_proto::PageState::Open
                && p.recipients.iter().any(|r| r.acked_at.is_none())
        })
        .map(|p| p.id.to_string())
        .collect();
    let all_tasks = snap.tasks.iter().map(|t| t.id.to_string()).collect();
    Ok(Expected {
        tasks,
        all_tasks,
        watch,
        overdue,
        unanswered,
    })
}

/// Runs `wardpage report --handover` on `db` into `out`, for `ward` or the site.
fn report(
    db: &Path,
    out: &Path,
    ward: Option<&str>,
    from: &str,
    to: &str,
) -> anyhow::Result<String> {
    let out = out.to_str().unwrap_or_default();
    let mut args = vec![
        "report",
        "--handover",
        "--from",
        from,
        "--to",
        to,
        "--tz",
        "UTC",
        "--out",
        out,
    ];
    if let Some(w) = ward {
        args.extend(["--ward", w]);
    }
    wardpage_cli(db, &args, "")
}

/// The open tasks' file: exactly the ward's open tasks, each with its
/// owner, priority and age, the most urgent first.
fn check_tasks(dir: &Path, want: &Expected, night: &Night) -> anyhow::Result<()> {
    let tasks = read_csv(&dir.join("handover-tasks.csv"))?;
    let ids = column(&tasks, "task");
    let expected: BTreeSet<String> = want.tasks.iter().map(|t| t.id.to_string()).collect();
    assert_eq!(ids, expected, "exactly Ward 7's open tasks");
    assert!(
        !ids.contains(&night.done.id.to_string()),
        "a completed task is not handed over"
    );
    assert!(ids.contains(&night.held.id.to_string()));
    for t in &want.tasks {
        let row = tasks
            .iter()
            .find(|r| r.get("task") == Some(&t.id.to_string()))
            .ok_or_else(|| anyhow::anyhow!("{} not listed", t.id))?;
        assert_eq!(row.get("owner"), Some(&expected_owner(t)));
        let prio = serde_json::to_value(t.priority)?;
        assert_eq!(row.get("priority").map(String::as_str), prio.as_str());
        let age: i64 = row
            .get("age_min")
            .map(|a| a.parse())
            .transpose()?
            .unwrap_or(-1);
        assert!((0..=2).contains(&age), "raised moments ago: {age}");
    }
    let rank = |p: &str| {
        ["emergency", "urgent", "soon", "routine"]
            .iter()
            .position(|x| *x == p)
    };
    let ranks: Vec<_> = tasks
        .iter()
        .map(|r| rank(r.get("priority").map(String::as_str).unwrap_or("")))
        .collect();
    assert!(
        ranks.windows(2).all(|w| w[0] <= w[1]),
        "most urgent first: {ranks:?}"
    );
    Ok(())
}

#[tokio::test]
async fn the_handover_report_lists_what_the_next_shift_takes_over() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let start = wardpage_server::clock::now_ms();
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    seed_patients(&base).await?;
    let night = seed_work(&base, &mut coord).await?;
    let at_end = wardpage_server::clock::now_ms() + MIN;
    let want = expected(&mut coord, at_end).await?;
    let alan = BTreeSet::from(["Alan Sickly".to_owned()]);
    assert_eq!(
        want.watch, alan,
        "the seeded night has one patient to watch on Ward 7"
    );
    assert_eq!(want.overdue, alan);
    assert_eq!(want.unanswered.len(), 1);

    let out = tempfile::tempdir()?;
    let (dir, db) = (out.path().join("w7"), hub.config.database.clone());
    let (from, to) = (rfc3339(start - MIN), rfc3339(at_end));
    let printed = report(&db, &dir, Some("w7"), &from, &to)?;
    let head = format!(
        "handover for Ward 7 (Medicine): {} open tasks",
        want.tasks.len()
    );
    assert!(printed.starts_with(&head), "{printed}");
    check_tasks(&dir, &want, &night)?;
    let watched = read_csv(&dir.join("handover-patients.csv"))?;
    assert_eq!(column(&watched, "name"), want.watch);
    assert_eq!(watched[0].get("news2").map(String::as_str), Some("5"));
    assert_eq!(
        watched[0].get("note_what_if").map(String::as_str),
        Some(PLAN)
    );
    assert_eq!(
        column(&read_csv(&dir.join("handover-overdue.csv"))?, "name"),
        want.overdue
    );
    let esc = column(&read_csv(&dir.join("handover-escalations.csv"))?, "id");
    assert_eq!(
        esc, night.escalated,
        "the night's escalations of Ward 7's tasks"
    );
    let pages = column(&read_csv(&dir.join("handover-pages.csv"))?, "page");
    assert_eq!(pages, want.unanswered);
    let html = std::fs::read_to_string(dir.join("handover.html"))?;
    assert!(html.contains("@media print"), "the page is made to print");
    assert!(html.contains("Alan Sickly") && html.contains(PLAN));

    // The site: Ward 8's task and patient too.
    let site = out.path().join("site");
    report(&db, &site, None, &from, &to)?;
    let tasks = column(&read_csv(&site.join("handover-tasks.csv"))?, "task");
    assert_eq!(tasks, want.all_tasks);
    let names = column(&read_csv(&site.join("handover-patients.csv"))?, "name");
    assert_eq!(
        names,
        BTreeSet::from(["Alan Sickly".to_owned(), "Dee Eight".to_owned()])
    );
    hub.stop().await
}

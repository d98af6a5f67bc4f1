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
use wardpage_tests::story::*;
use wardpage_tests::{Client, TestHub};

const MIN: i64 = 60_000;

fn rfc3339(ms: i64) -> String {
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let days = ms.div_euclid(86_400_000);
    let rest = ms.rem_euclid(86_400_000) / 1000;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

fn split_csv(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn read_csv(path: &Path) -> anyhow::Result<Vec<BTreeMap<String, String>>> {
    let text = std::fs::read_to_string(path)?;
    let mut lines = text.lines();
    let header = split_csv(lines.next().unwrap_or_default());
    Ok(lines
        .map(|l| header.iter().cloned().zip(split_csv(l)).collect())
        .collect())
}

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

#[tokio::test]
async fn the_handover_report_lists_what_the_next_shift_takes_over() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let start = wardpage_server::clock::now_ms();
    let mut nic = Client::login_connect(&base, "nic.grant").await?;
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut fy1 = Client::login_connect(&base, "fy1.patel").await?;
    let mut coord = Client::login_connect(&base, "coord.hale").await?;

    // Ward 7: a patient scoring 5 taken 90 minutes ago (so due again and
    // overdue), one calm, one just admitted; Ward 8: one scoring 5.
    let sick = admit(&mut nic, "w7", "1", details("9990000018", "Alan Sickly")).await?;
    let calm = admit(&mut nic, "w7", "2", details("9990000026", "Bea Calm")).await?;
    let _new = admit(&mut nic, "w7", "3", details("9990000034", "Cal Newcome")).await?;
    let w8 = admit(&mut nic, "w8", "4", details("9990000042", "Dee Eight")).await?;
    let now = wardpage_server::clock::now_ms();
    nurse
        .ok(Command::RecordObservations {
            patient: sick,
            set: set(22, 94, 105, 383, now - 90 * MIN),
        })
        .await?;
    nurse
        .ok(Command::RecordObservations {
            patient: calm,
            set: set(16, 97, 76, 368, now - MIN),
        })
        .await?;
    let mut nurse8 = Client::login_connect(&base, "nurse.lee").await?;
    nurse8
        .ok(Command::RecordObservations {
            patient: w8,
            set: set(22, 94, 105, 383, now - 5 * MIN),
        })
        .await?;
    let plan = "If NEWS2 reaches 7, call outreach";
    fy1.ok(Command::SetHandoverNote {
        patient: sick,
        note: HandoverNoteText {
            situation: "Pneumonia, day 1".into(),
            background: String::new(),
            assessment: "NEWS2 5".into(),
            recommendation: "Review antibiotics at 08:00".into(),
            what_if: plan.into(),
        },
    })
    .await?;

    // Tasks: one held, one offered and escalated by the coordinator, one
    // done (not on the report), one on Ward 8.
    let held = task_of(&nurse.ok(cannula_w7()).await?).clone();
    fy1.ok(Command::Accept { task: held.id }).await?;
    let waiting = task_of(
        &nurse
            .ok(raise(
                "w7",
                Requirement::Skill(Skill::Bloods),
                Priority::Soon,
            ))
            .await?,
    )
    .clone();
    coord.ok(Command::EscalateNow { task: waiting.id }).await?;
    let done = task_of(
        &nurse
            .ok(raise("w7", Requirement::Role(Role::Sho), Priority::Routine))
            .await?,
    )
    .clone();
    let mut sho = Client::login_connect(&base, "sho.khan").await?;
    sho.ok(Command::Accept { task: done.id }).await?;
    sho.ok(Command::Complete {
        task: done.id,
        outcome: String::new(),
    })
    .await?;
    nurse8
        .ok(raise("w8", Requirement::Role(Role::Fy1), Priority::Urgent))
        .await?;
    // Pages: one nobody answered, one acknowledged.
    nurse
        .ok(Command::SendPage {
            target: PageTarget::Staff(fy1.id()),
            priority: Priority::Soon,
            callback: "4471".into(),
            message: "Family on the phone, bed 2".into(),
        })
        .await?;
    let answered = nurse
        .ok(Command::SendPage {
            target: PageTarget::Staff(sho.id()),
            priority: Priority::Soon,
            callback: "4472".into(),
            message: "Drug chart".into(),
        })
        .await?;
    if let CommandResult::Page { page } = &answered {
        sho.ok(Command::PageAck { page: page.id }).await?;
    }
    let escalated: BTreeSet<String> = {
        let e = coord
            .wait_for(|e| matches!(e, Event::TaskEscalated { task, .. } if task.id == waiting.id))
            .await?;
        let Event::TaskEscalated { task, .. } = e else {
            anyhow::bail!("filtered above")
        };
        BTreeSet::from([task.id.to_string()])
    };

    // What the coordinator's screen shows, worked out independently.
    let snap = coord.snapshot_all().await?;
    let open_w7: Vec<&TaskView> = snap.tasks.iter().filter(|t| t.ward.0 == "w7").collect();
    let at_end = wardpage_server::clock::now_ms() + MIN;
    let ward7 = patients(&mut coord, "w7").await?;
    let watch: BTreeSet<String> = ward7
        .iter()
        .filter(|p| {
            p.latest
                .as_ref()
                .is_some_and(|l| l.score.total.is_some_and(|t| t >= 5) || l.score.red_flag)
        })
        .map(|p| p.details.name.clone())
        .collect();
    let overdue: BTreeSet<String> = ward7
        .iter()
        .filter(|p| p.obs_due_at.is_some_and(|d| d <= at_end))
        .map(|p| p.details.name.clone())
        .collect();
    let unanswered: BTreeSet<String> = snap
        .pages
        .iter()
        .filter(|p| {
            p.state == wardpage_proto::PageState::Open
                && p.recipients.iter().any(|r| r.acked_at.is_none())
        })
        .map(|p| p.id.to_string())
        .collect();
    assert_eq!(
        watch,
        BTreeSet::from(["Alan Sickly".to_owned()]),
        "the seeded night has one patient to watch on Ward 7"
    );
    assert_eq!(overdue, BTreeSet::from(["Alan Sickly".to_owned()]));
    assert_eq!(unanswered.len(), 1);

    let out = tempfile::tempdir()?;
    let dir = out.path().join("w7");
    let (from, to) = (rfc3339(start - MIN), rfc3339(at_end));
    let db = hub.config.database.clone();
    let printed = wardpage_cli(
        &db,
        &[
            "report",
            "--handover",
            "--ward",
            "w7",
            "--from",
            &from,
            "--to",
            &to,
            "--tz",
            "UTC",
            "--out",
            dir.to_str().unwrap_or_default(),
        ],
        "",
    )?;
    let head = format!(
        "handover for Ward 7 (Medicine): {} open tasks",
        open_w7.len()
    );
    assert!(printed.starts_with(&head), "{printed}");

    let tasks = read_csv(&dir.join("handover-tasks.csv"))?;
    let ids = column(&tasks, "task");
    let expected: BTreeSet<String> = open_w7.iter().map(|t| t.id.to_string()).collect();
    assert_eq!(ids, expected, "exactly Ward 7's open tasks");
    assert!(
        !ids.contains(&done.id.to_string()),
        "a completed task is not handed over"
    );
    for t in &open_w7 {
        let row = tasks
            .iter()
            .find(|r| r.get("task") == Some(&t.id.to_string()))
            .expect("listed");
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
    // The most urgent first.
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
    assert!(ids.contains(&held.id.to_string()));

    let watched = read_csv(&dir.join("handover-patients.csv"))?;
    assert_eq!(column(&watched, "name"), watch);
    assert_eq!(watched[0].get("news2").map(String::as_str), Some("5"));
    assert_eq!(
        watched[0].get("note_what_if").map(String::as_str),
        Some(plan)
    );
    assert_eq!(
        column(&read_csv(&dir.join("handover-overdue.csv"))?, "name"),
        overdue
    );
    let esc = read_csv(&dir.join("handover-escalations.csv"))?;
    assert_eq!(
        column(&esc, "id"),
        escalated,
        "the night's escalations of Ward 7's tasks"
    );
    assert_eq!(
        column(&read_csv(&dir.join("handover-pages.csv"))?, "page"),
        unanswered
    );
    let html = std::fs::read_to_string(dir.join("handover.html"))?;
    assert!(html.contains("@media print"), "the page is made to print");
    assert!(html.contains("Alan Sickly") && html.contains(plan));

    // The site: Ward 8's task and patient too.
    let site = out.path().join("site");
    wardpage_cli(
        &db,
        &[
            "report",
            "--handover",
            "--from",
            &from,
            "--to",
            &to,
            "--tz",
            "UTC",
            "--out",
            site.to_str().unwrap_or_default(),
        ],
        "",
    )?;
    let all: BTreeSet<String> = snap.tasks.iter().map(|t| t.id.to_string()).collect();
    assert_eq!(
        column(&read_csv(&site.join("handover-tasks.csv"))?, "task"),
        all
    );
    let names = column(&read_csv(&site.join("handover-patients.csv"))?, "name");
    assert_eq!(
        names,
        BTreeSet::from(["Alan Sickly".to_owned(), "Dee Eight".to_owned()])
    );
    hub.stop().await
}

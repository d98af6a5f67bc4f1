//! `wardpage report`'s NEWS2 response compliance against a night on a
//! real hub whose clock the test moves: patients score 5 or 7 and more,
//! doctors accept the hub's reviews in time, late, or not yet, and one
//! patient's 5 becomes an 11 on the same review. The share of episodes
//! whose review was accepted within its target is worked out here from
//! what the hub answered, and must be what `news2.csv` says.

use std::collections::BTreeMap;
use std::time::Duration;
use wardpage_proto::{
    Command, CommandResult, ObservationSet, PatientDetails, PatientId, Sex, TaskView,
};
use wardpage_tests::hub::wardpage_cli;
use wardpage_tests::report_files::{read_csv, rfc3339};
use wardpage_tests::story::{eleven, five};
use wardpage_tests::{Client, TestHub};

/// How an episode's review is answered.
#[derive(Clone, Copy, PartialEq)]
enum Answer {
    AtOnce,
    AfterItsTarget,
    NotYet,
}

/// Each patient's sets in turn (each a NEWS2 total) and how the review is
/// answered after the last of them.
const NIGHT: [(&[u8], Answer); 6] = [
    (&[5], Answer::AtOnce),
    (&[5], Answer::AfterItsTarget),
    (&[11], Answer::AtOnce),
    (&[11], Answer::AfterItsTarget),
    (&[5, 11], Answer::AtOnce),
    (&[5], Answer::NotYet),
];

/// A set on air scoring `total` (5 or 11), taken at `at`.
fn set(total: u8, at: i64) -> ObservationSet {
    if total >= 7 {
        eleven(at)
    } else {
        five(at)
    }
}

fn details(n: usize) -> PatientDetails {
    PatientDetails {
        nhs_number: None,
        local_number: Some(format!("RX{n:05}")),
        name: format!("Patient {n}"),
        born: "1950-01-01".into(),
        sex: Sex::Male,
        consultant: "Dr A Example".into(),
        alerts: String::new(),
    }
}

/// One episode as the hub answered it: its highest score, and the review
/// as accepted (or as last seen).
struct Episode {
    total: u8,
    review: TaskView,
}

async fn admit(nic: &mut Client, bed: usize) -> anyhow::Result<PatientId> {
    match nic
        .ok(Command::AdmitPatient {
            ward: "w7".into(),
            bed: bed.to_string(),
            patient: details(bed),
        })
        .await?
    {
        CommandResult::Patient { patient } => Ok(patient.id),
        other => anyhow::bail!("admit answered {other:?}"),
    }
}

/// Records `totals` in turn for a patient; the review the last one left.
async fn observe(
    nurse: &mut Client,
    patient: PatientId,
    totals: &[u8],
) -> anyhow::Result<TaskView> {
    let mut review = None;
    for &total in totals {
        // Taken now by the machine's clock, which the hub reads a set's
        // time against (its writer's clock, which the test moves, has run
        // ahead: the set is simply recorded late).
        let cmd = Command::RecordObservations {
            patient,
            set: set(total, wardpage_server::clock::now_ms()),
        };
        match nurse.ok(cmd).await? {
            CommandResult::Observation {
                observation,
                review: r,
                ..
            } => {
                anyhow::ensure!(observation.score.total == Some(total), "scored as planned");
                review = r.or(review);
            }
            other => anyhow::bail!("record_observations answered {other:?}"),
        }
    }
    review.ok_or_else(|| anyhow::anyhow!("a 5 or more raises a review"))
}

async fn run_the_night(hub: &TestHub) -> anyhow::Result<Vec<Episode>> {
    let base = hub.base();
    let mut nic = Client::login_connect(&base, "nic.grant").await?;
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut fy1 = Client::login_connect(&base, "fy1.patel").await?;
    let mut reg = Client::login_connect(&base, "reg.evans").await?;
    let mut night = Vec::new();
    for (i, (totals, answer)) in NIGHT.iter().enumerate() {
        let patient = admit(&mut nic, i + 1).await?;
        let review = observe(&mut nurse, patient, totals).await?;
        let total = totals.iter().copied().max().unwrap_or(0);
        if *answer == Answer::AfterItsTarget {
            let late = review.accept_by + 1_000 - hub.now();
            hub.advance(Duration::from_millis(u64::try_from(late)?))?;
        }
        let review = if *answer == Answer::NotYet {
            review
        } else {
            // Urgent reviews go to the ward's FY1, emergencies to the registrar.
            let doctor = if total >= 7 { &mut reg } else { &mut fy1 };
            match doctor.ok(Command::Accept { task: review.id }).await? {
                CommandResult::Task { task } => task,
                other => anyhow::bail!("accept answered {other:?}"),
            }
        };
        night.push(Episode { total, review });
    }
    Ok(night)
}

/// `news2.csv` as this test works it out: episodes at or above 5 and 7,
/// those judged (accepted, or open past their target at the report's
/// end), and those accepted by their target.
fn expected(night: &[Episode], until: i64) -> BTreeMap<String, [u64; 3]> {
    let mut want = BTreeMap::new();
    for threshold in [5u8, 7] {
        let mut row = [0u64; 3];
        for e in night.iter().filter(|e| e.total >= threshold) {
            let r = &e.review;
            let judged = r.accepted_at.is_some() || r.accept_by <= until;
            let met = r.accepted_at.is_some_and(|a| a <= r.accept_by);
            row[0] += 1;
            row[1] += u64::from(judged);
            row[2] += u64::from(met);
        }
        want.insert(threshold.to_string(), row);
    }
    want
}

#[tokio::test]
async fn the_report_shares_news2_reviews_accepted_within_their_targets() -> anyhow::Result<()> {
    let hub = TestHub::start_on_manual_clock(|_| {}).await?;
    let start = hub.now();
    let night = run_the_night(&hub).await?;
    // The report judges what is open at the earlier of its end and the
    // machine's clock, which this night's moved clock has run ahead of.
    let until = wardpage_server::clock::now_ms();
    let want = expected(&night, until);
    assert_eq!(want["5"], [6, 5, 3], "the night is the one planned");
    assert_eq!(want["7"], [3, 3, 2], "the night is the one planned");

    let out = tempfile::tempdir()?;
    let dir = out.path().join("report");
    let (from, to) = (rfc3339(start - 60_000), rfc3339(hub.now() + 3_600_000));
    let args = ["report", "--from", &from, "--to", &to, "--tz", "UTC"];
    let dir_arg = dir.to_str().unwrap_or_default();
    wardpage_cli(
        &hub.config.database,
        &[&args[..], &["--out", dir_arg]].concat(),
        "",
    )?;
    let got: BTreeMap<String, [u64; 3]> = read_csv(&dir.join("news2.csv"))?
        .into_iter()
        .map(|r| {
            let n = |c: &str| r[c].parse().unwrap_or(u64::MAX);
            (
                r["score_at_least"].clone(),
                [n("episodes"), n("judged"), n("accepted_in_target")],
            )
        })
        .collect();
    assert_eq!(got, want, "NEWS2 response compliance by score");
    let rows = read_csv(&dir.join("news2.csv"))?;
    assert_eq!(rows[0]["share_pct"], "60.0", "3 of 5 judged 5+ episodes");
    hub.stop().await
}

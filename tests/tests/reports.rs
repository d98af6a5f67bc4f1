//! `wardpage report` against a seeded night on a real hub: the figures in
//! its CSV files are the ones this test works out by itself from the tasks
//! as the hub reports them and the declines the test sent.

use std::collections::BTreeMap;
use std::path::Path;
use wardpage_proto::{
    Category, Command, Event, Priority, Requirement, Role, Skill, TaskState, TaskView,
};
use wardpage_server::config::Config;
use wardpage_tests::hub::wardpage_cli;
use wardpage_tests::report_files::{read_csv, rfc3339};
use wardpage_tests::story::*;
use wardpage_tests::{Client, TestHub};

/// Re-alert after 1 s, so the night has escalations to count.
const POLICY: &str = r#"
[[escalation.task]]
name = "test"
accept = { steps = [
  { action = "realert", after_secs = 1 },
  { action = "coordinator", after_secs = 600 },
], repeat_every_secs = 600 }
complete = { steps = [{ action = "coordinator", after_secs = 600 }] }
"#;

const REASONS: [&str; 3] = ["In resus", "Not my ward tonight", "=cmd|' /C calc'!A0"];

/// A small deterministic generator (xorshift), so the night is the same
/// every run.
struct Seeded(u64);
impl Seeded {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The value at nearest rank `p` percent of `xs`, in seconds to 0.1.
fn rank(xs: &mut [i64], p: usize) -> String {
    if xs.is_empty() {
        return String::new();
    }
    xs.sort_unstable();
    let k = (p * xs.len()).div_ceil(100).max(1);
    format!("{:.1}", (xs[k - 1] as f64 / 100.0).round() / 10.0)
}

struct Night {
    tasks: Vec<TaskView>,
    declines: Vec<&'static str>,
}

/// Raises 24 tasks of mixed priority, category and ward, and settles each
/// as the generator says: completed, declined then accepted, cancelled,
/// accepted, or left to escalate once and then accepted.
async fn seeded_night(hub: &TestHub) -> anyhow::Result<Night> {
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut fy1 = Client::login_connect(&base, "fy1.patel").await?;
    let mut sho = Client::login_connect(&base, "sho.khan").await?;
    let mut np = Client::login_connect(&base, "np.murphy").await?;
    let mut rng = Seeded(0x5eed_2026);
    let priorities = [
        Priority::Routine,
        Priority::Soon,
        Priority::Urgent,
        Priority::Emergency,
    ];
    let categories = [
        Category::Cannula,
        Category::Bloods,
        Category::Ecg,
        Category::DrugChart,
    ];
    let mut declines = Vec::new();
    for i in 0..24 {
        let (ward, requirement) = if rng.next(3) == 0 {
            ("w8", Requirement::Role(Role::Fy1))
        } else {
            ("w7", Requirement::Skill(Skill::Cannulation))
        };
        let mut cmd = raise(ward, requirement, priorities[rng.next(4) as usize]);
        if let Command::RaiseTask { category, bed, .. } = &mut cmd {
            *category = categories[rng.next(4) as usize];
            *bed = format!("{}", i + 1);
        }
        let task = raise_ok(&mut nurse, cmd).await?;
        match (rng.next(5), ward) {
            (0, _) => {
                fy1.ok(Command::Accept { task: task.id }).await?;
                fy1.ok(Command::Complete {
                    task: task.id,
                    outcome: "Done".into(),
                })
                .await?;
            }
            (1, "w7") => {
                let reason = REASONS[rng.next(3) as usize];
                sho.ok(Command::Decline {
                    task: task.id,
                    reason: reason.into(),
                })
                .await?;
                declines.push(reason);
                np.ok(Command::Accept { task: task.id }).await?;
            }
            (2, _) => {
                nurse
                    .ok(Command::Cancel {
                        task: task.id,
                        reason: "Patient went to theatre".into(),
                    })
                    .await?;
            }
            (3, _) => {
                // Left alone until the hub re-alerts, then taken.
                fy1.wait_for(
                    |e| matches!(e, Event::TaskEscalated { task: t, .. } if t.id == task.id),
                )
                .await?;
                fy1.ok(Command::Accept { task: task.id }).await?;
            }
            _ => {
                fy1.ok(Command::Accept { task: task.id }).await?;
            }
        }
    }
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let tasks = coord.history_all(0).await?;
    Ok(Night { tasks, declines })
}

#[tokio::test]
async fn the_report_gives_the_figures_worked_out_from_the_night() -> anyhow::Result<()> {
    let policy = Config::parse(POLICY)?;
    let hub = TestHub::start_with(|c: &mut Config| c.escalation = policy.escalation).await?;
    let night = seeded_night(&hub).await?;
    assert_eq!(night.tasks.len(), 24, "every raised task is in the history");
    assert!(
        night.tasks.iter().any(|t| t.escalation_level > 0),
        "the night has an escalation to count"
    );
    assert!(
        !night.declines.is_empty(),
        "the night has declines to count"
    );
    let first = night.tasks.iter().map(|t| t.raised_at).min().unwrap_or(0);
    let last = night.tasks.iter().map(|t| t.updated_at).max().unwrap_or(0);
    let (from, to) = (rfc3339(first - 60_000), rfc3339(last + 60_000));

    let out = tempfile::tempdir()?;
    let out_dir = out.path().join("report");
    let printed = wardpage_cli(
        &hub.config.database,
        &[
            "report",
            "--from",
            &from,
            "--to",
            &to,
            "--tz",
            "UTC",
            "--out",
            out_dir.to_str().unwrap_or_default(),
        ],
        "",
    )?;
    assert!(printed.starts_with("24 tasks raised"), "{printed}");

    check_response_times(&out_dir, &night.tasks)?;
    check_declines_and_escalations(&out_dir, &night)?;
    let html = std::fs::read_to_string(out_dir.join("report.html"))?;
    assert!(html.contains("<svg"), "the page draws its charts inline");
    assert!(
        !html.contains("<script") && !html.contains("http"),
        "nothing is fetched or run"
    );
    hub.stop().await
}

/// Every row of response-times.csv, against figures computed here.
fn check_response_times(dir: &Path, tasks: &[TaskView]) -> anyhow::Result<()> {
    let rows = read_csv(&dir.join("response-times.csv"))?;
    let mut groups: BTreeMap<(String, String), Vec<&TaskView>> = BTreeMap::new();
    for t in tasks {
        let category = serde_json::to_value(t.category)?
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let hour = format!("{:02}", t.raised_at / 3_600_000 % 24);
        for key in [
            ("all".to_owned(), "all".to_owned()),
            ("priority".into(), t.priority.as_str().to_owned()),
            ("category".into(), category),
            ("ward".into(), t.ward.0.clone()),
            ("hour".into(), hour),
        ] {
            groups.entry(key).or_default().push(t);
        }
    }
    assert_eq!(rows.len(), groups.len(), "one row per group");
    for row in rows {
        let key = (row["group"].clone(), row["key"].clone());
        let ts = groups
            .get(&key)
            .ok_or_else(|| anyhow::anyhow!("a row for no group: {key:?}"))?;
        let mut accept: Vec<i64> = ts
            .iter()
            .filter_map(|t| t.accepted_at.map(|a| a - t.raised_at))
            .collect();
        let mut complete: Vec<i64> = ts
            .iter()
            .filter(|t| t.state == TaskState::Completed)
            .filter_map(|t| t.closed_at.map(|c| c - t.raised_at))
            .collect();
        let met = ts
            .iter()
            .filter(|t| t.accepted_at.is_some_and(|a| a <= t.accept_by))
            .count();
        // Nothing here stays unaccepted long enough to miss a target, and
        // a task cancelled unaccepted before its target is not judged.
        let judged = ts.iter().filter(|t| t.accepted_at.is_some()).count();
        let want = [
            ("raised", ts.len().to_string()),
            ("accepted", accept.len().to_string()),
            ("accept_p50_s", rank(&mut accept, 50)),
            ("accept_p90_s", rank(&mut accept, 90)),
            ("accept_max_s", rank(&mut accept, 100)),
            ("accept_judged", judged.to_string()),
            ("accept_met", met.to_string()),
            ("completed", complete.len().to_string()),
            ("complete_p50_s", rank(&mut complete, 50)),
        ];
        for (column, value) in want {
            assert_eq!(row[column], value, "{column} of {key:?}");
        }
    }
    Ok(())
}

fn check_declines_and_escalations(dir: &Path, night: &Night) -> anyhow::Result<()> {
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for r in &night.declines {
        // A reason a spreadsheet would run as a formula is written inert.
        let shown = if r.starts_with('=') {
            format!("'{r}")
        } else {
            r.to_string()
        };
        *want.entry(shown).or_default() += 1;
    }
    let got: BTreeMap<String, u64> = read_csv(&dir.join("declines.csv"))?
        .into_iter()
        .map(|r| (r["reason"].clone(), r["declines"].parse().unwrap_or(0)))
        .collect();
    assert_eq!(got, want, "declines by reason");

    let mut steps: BTreeMap<u32, u64> = BTreeMap::new();
    for t in &night.tasks {
        for s in 1..=t.escalation_level {
            *steps.entry(s).or_default() += 1;
        }
    }
    let got: BTreeMap<u32, u64> = read_csv(&dir.join("escalations.csv"))?
        .into_iter()
        .map(|r| {
            (
                r["step"].parse().unwrap_or(0),
                r["tasks"].parse().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(got, steps, "escalations by step");
    Ok(())
}

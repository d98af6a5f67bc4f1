//! `wardpage-sim`: drives a whole hospital through a wardpage hub over real
//! WebSockets, checks that nothing acknowledged was lost, and measures.
//! Each scenario is a subcommand; every run prints a summary table, writes
//! a JSON result and an HTML report, and exits non-zero if an invariant
//! broke.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use wardpage_sim::fleet::{self, FleetParams};
use wardpage_sim::hubctl::{HubChoice, SimHub};
use wardpage_sim::load::{self, LoadParams};
use wardpage_sim::mqtt::{self, CompareParams};
use wardpage_sim::news2::{self, News2Params};
use wardpage_sim::night;
use wardpage_sim::plan::{NightParams, NightPlan};
use wardpage_sim::report::RunReport;
use wardpage_sim::SIM_PASSWORD;

#[derive(Parser)]
#[command(
    name = "wardpage-sim",
    about = "Simulate a hospital night against a wardpage hub, check invariants, measure"
)]
struct Cli {
    /// `spawn` (start the wardpage binary: $WARDPAGE_BIN or beside this
    /// one), `inproc` (a hub inside this process), or http://HOST:PORT of a
    /// hub that already has the simulated roster.
    #[arg(long, global = true, default_value = "spawn")]
    hub: HubChoice,
    /// Folder for the JSON and HTML results.
    #[arg(long, global = true, default_value = "artifacts/sim")]
    out: PathBuf,
    /// Password given to every simulated account.
    #[arg(long, global = true, default_value = SIM_PASSWORD)]
    password: String,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Args, Clone)]
struct NightArgs {
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, default_value_t = 1000)]
    beds: u32,
    #[arg(long, default_value_t = 30)]
    handhelds: usize,
    /// Real seconds for the 12-hour night.
    #[arg(long, default_value_t = 60.0)]
    night_secs: f64,
    #[arg(long, default_value_t = 125.0)]
    tasks_per_1000_beds: f64,
    /// Share of patients whose NEWS2 rises over the night.
    #[arg(long, default_value_t = 0.05)]
    deteriorate: f64,
    /// No patients and no observation rounds (raises only).
    #[arg(long)]
    no_observations: bool,
    /// Print the plan's fingerprint and stop (the same seed gives the same night).
    #[arg(long)]
    plan_only: bool,
}

#[derive(Subcommand)]
enum Scenario {
    /// A realistic night: raises, accepts, declines, not-spots, sleeping phones.
    Night(NightArgs),
    /// A night with five times the outages and, when the simulator started
    /// the hub, SIGKILL and restart mid-run on the same database and port.
    Chaos {
        #[command(flatten)]
        night: NightArgs,
        #[arg(long, default_value_t = 2)]
        kills: usize,
    },
    /// Maximum durable raises per second with many clients (closed loop).
    Throughput {
        #[arg(long, default_value_t = 128)]
        pairs: usize,
        #[arg(long, default_value_t = 10.0)]
        secs: f64,
        #[arg(long, default_value_t = 2.0)]
        warmup: f64,
        #[arg(long, default_value_t = 64)]
        window: usize,
    },
    /// Raise-to-candidate latency percentiles at a paced rate.
    Latency {
        #[arg(long, default_value_t = 5000.0)]
        rate: f64,
        #[arg(long, default_value_t = 128)]
        pairs: usize,
        #[arg(long, default_value_t = 10.0)]
        secs: f64,
        #[arg(long, default_value_t = 2.0)]
        warmup: f64,
    },
    /// NEWS2 sets that trigger reviews beside ordinary raises: set to
    /// review offered against raise to candidate, in the same run.
    News2 {
        /// Observation sets per second (all nurses together).
        #[arg(long, default_value_t = 1000.0)]
        rate: f64,
        /// Ordinary raises per second alongside.
        #[arg(long, default_value_t = 100.0)]
        raise_rate: f64,
        #[arg(long, default_value_t = 64)]
        pairs: usize,
        #[arg(long, default_value_t = 10.0)]
        secs: f64,
        #[arg(long, default_value_t = 2.0)]
        warmup: f64,
    },
    /// Tens of thousands of idle connections; hub memory per connection.
    Idle {
        #[command(flatten)]
        fleet: FleetArgs,
    },
    /// Every handheld drops and reconnects at once; time until all resumed.
    Storm {
        #[command(flatten)]
        fleet: FleetArgs,
    },
    /// Fill the hub with open tasks, SIGKILL it, time the restart.
    Restart {
        #[arg(long, default_value_t = 100_000)]
        tasks: u64,
        #[arg(long, default_value_t = 64)]
        pairs: usize,
        #[arg(long, default_value_t = 3)]
        restarts: usize,
    },
    /// The hub against Mosquitto: same messages, size and subscribers.
    Compare {
        #[arg(long, default_value_t = 128)]
        pairs: usize,
        #[arg(long, default_value_t = 100_000)]
        messages: u64,
        #[arg(long, default_value = "127.0.0.1")]
        mqtt_host: String,
        #[arg(long, default_value_t = 1883)]
        mqtt_port: u16,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
}

#[derive(Args, Clone)]
struct FleetArgs {
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    #[arg(long, default_value_t = 100)]
    pairs: usize,
    #[arg(long, default_value_t = 3.0)]
    settle_secs: f64,
    #[arg(long, default_value_t = 1)]
    raises_before: u64,
    #[arg(long, default_value_t = 2)]
    raises_during: u64,
    #[arg(long, default_value_t = 256)]
    ramp: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

impl FleetArgs {
    fn params(&self) -> FleetParams {
        FleetParams {
            connections: self.connections,
            pairs: self.pairs,
            settle_secs: self.settle_secs,
            raises_before: self.raises_before,
            raises_during: self.raises_during,
            ramp_concurrency: self.ramp,
            seed: self.seed,
        }
    }
}

fn night_params(a: &NightArgs) -> NightParams {
    let mut p = NightParams::new(a.seed);
    p.beds = a.beds;
    p.handhelds = a.handhelds;
    p.night_secs = a.night_secs;
    p.tasks_per_1000_beds = a.tasks_per_1000_beds;
    p.deteriorate_share = a.deteriorate;
    p.observations = !a.no_observations;
    p
}

async fn run_night(
    cli: &Cli,
    a: &NightArgs,
    chaos: Option<usize>,
) -> anyhow::Result<Option<RunReport>> {
    let mut p = night_params(a);
    if let Some(k) = chaos {
        p.chaos = true;
        p.hub_kills = k;
    }
    let plan = NightPlan::new(p);
    if a.plan_only {
        println!(
            "plan fingerprint {:016x}: {} raises, {} outages, {} patients, {} observation sets",
            plan.fingerprint(),
            plan.raises.len(),
            plan.outages.len(),
            plan.patients.len(),
            plan.sets.len()
        );
        return Ok(None);
    }
    let mut hub = SimHub::start(&cli.hub, &plan.hospital, &cli.password, None).await?;
    let report = night::run(&mut hub, plan, &cli.password, true).await;
    hub.stop().await?;
    Ok(Some(report?))
}

async fn run(cli: &Cli) -> anyhow::Result<Option<RunReport>> {
    let pw = cli.password.as_str();
    Ok(Some(match &cli.scenario {
        Scenario::Night(a) => return run_night(cli, a, None).await,
        Scenario::Chaos { night, kills } => return run_night(cli, night, Some(*kills)).await,
        Scenario::Throughput {
            pairs,
            secs,
            warmup,
            window,
        } => {
            let p = LoadParams {
                pairs: *pairs,
                secs: *secs,
                warmup_secs: *warmup,
                window: *window,
                rate: None,
                max_per_raiser: None,
            };
            load::run(&cli.hub, p, pw).await?
        }
        Scenario::Latency {
            rate,
            pairs,
            secs,
            warmup,
        } => {
            let p = LoadParams {
                pairs: *pairs,
                secs: *secs,
                warmup_secs: *warmup,
                window: 64,
                rate: Some(*rate),
                max_per_raiser: None,
            };
            load::run(&cli.hub, p, pw).await?
        }
        Scenario::News2 {
            rate,
            raise_rate,
            pairs,
            secs,
            warmup,
        } => {
            let p = News2Params {
                rate: *rate,
                raise_rate: *raise_rate,
                pairs: *pairs,
                secs: *secs,
                warmup_secs: *warmup,
            };
            news2::run(&cli.hub, p, pw).await?
        }
        Scenario::Idle { fleet: f } => fleet::run(&cli.hub, f.params(), false, pw).await?,
        Scenario::Storm { fleet: f } => fleet::run(&cli.hub, f.params(), true, pw).await?,
        Scenario::Restart {
            tasks,
            pairs,
            restarts,
        } => load::restart(*tasks, *pairs, *restarts, pw).await?,
        Scenario::Compare {
            pairs,
            messages,
            mqtt_host,
            mqtt_port,
            runs,
        } => {
            let p = CompareParams {
                pairs: *pairs,
                messages: *messages,
                mqtt_host: mqtt_host.clone(),
                mqtt_port: *mqtt_port,
                runs: *runs,
            };
            mqtt::compare(&cli.hub, p, pw).await?
        }
    }))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli).await {
        Ok(None) => ExitCode::SUCCESS,
        Ok(Some(report)) => {
            println!("{}", report.table());
            match report.write(&cli.out) {
                Ok((json, html)) => {
                    println!("  results: {} and {}", json.display(), html.display())
                }
                Err(e) => eprintln!("could not write results: {e:#}"),
            }
            if report.ok() {
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "invariants broken: {}",
                    report.invariants.failures().join("; ")
                );
                ExitCode::from(2)
            }
        }
        Err(e) => {
            eprintln!("wardpage-sim: {e:#}");
            ExitCode::FAILURE
        }
    }
}

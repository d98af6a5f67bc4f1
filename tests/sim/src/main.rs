//! `wardpage-sim`: drives a whole hospital through a wardpage hub over real
//! WebSockets, checks that nothing acknowledged was lost, and measures.
//! Each scenario is a subcommand; every run prints a summary table, writes
//! a JSON result and an HTML report, and exits non-zero if an invariant
//! broke.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use wardpage_sim::cluster::{self, ClusterParams};
use wardpage_sim::escalation::{self, EscalationParams};
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
    Throughput(ThroughputArgs),
    /// Raise-to-candidate latency percentiles at a paced rate.
    Latency(LatencyArgs),
    /// NEWS2 sets that trigger reviews beside ordinary raises: set to
    /// review offered against raise to candidate, in the same run.
    News2(News2Args),
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
    /// How late escalations fire with many live tasks on staggered
    /// deadlines; with --restart, across a SIGKILL and restart of the hub.
    Escalation(EscalationArgs),
    /// The hub against Mosquitto: same messages, size and subscribers.
    Compare(CompareArgs),
    /// Several nodes on one PostgreSQL; SIGKILL the owner every few
    /// seconds, time every handheld back onto the new owner.
    Cluster(ClusterArgs),
    /// A share of a `cluster` run's handhelds in a process of its own,
    /// started by that run (its spec and orders on stdin, its progress on
    /// stdout).
    #[command(hide = true)]
    ClusterShard,
}

#[derive(Args, Clone)]
struct ClusterArgs {
    /// PostgreSQL server for a fresh database (dropped afterwards).
    #[arg(long, env = "WARDPAGE_TEST_POSTGRES")]
    pg: String,
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Sites (hospitals) of the deployment, each with the same roster and
    /// its share of the devices; more than one are `s1`, `s2`...
    #[arg(long, default_value_t = 1)]
    sites: usize,
    #[arg(long, default_value_t = 2000)]
    devices: usize,
    #[arg(long, default_value_t = 50)]
    pairs: usize,
    #[arg(long, default_value_t = 5)]
    kills: usize,
    /// Which node each kill takes: the owner, a node that does not own
    /// (with --nats it serves devices), or the two in turn.
    #[arg(long, value_enum, default_value = "owner")]
    kill: cluster::KillTarget,
    /// Seconds from every device resumed to the next kill.
    #[arg(long, default_value_t = 10.0)]
    every: f64,
    #[arg(long, default_value_t = 3000)]
    lease_ttl_ms: u64,
    /// Raises per second, all nurses together (a night's trickle).
    #[arg(long, default_value_t = 5.0)]
    raise_rate: f64,
    /// Each doctor accepts one raise in this many (0: none).
    #[arg(long, default_value_t = 3)]
    accept_every: u64,
    #[arg(long, default_value_t = 128)]
    ramp: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Simulator processes to spread the handhelds over (one process may
    /// open at most 20,000 files here).
    #[arg(long, default_value_t = 1)]
    procs: usize,
    /// NATS for the nodes (`[cluster] nats_url`), so that every node serves
    /// devices; without it a standby answers 503.
    #[arg(long)]
    nats: Option<String>,
}

impl ClusterArgs {
    fn params(&self) -> ClusterParams {
        ClusterParams {
            nodes: self.nodes,
            sites: self.sites,
            devices: self.devices,
            pairs: self.pairs,
            kills: self.kills,
            kill: self.kill,
            every_secs: self.every,
            lease_ttl_ms: self.lease_ttl_ms,
            raise_rate: self.raise_rate,
            accept_every: self.accept_every,
            ramp_concurrency: self.ramp,
            seed: self.seed,
            procs: self.procs,
            nats: self.nats.clone(),
            shard_bin: None,
        }
    }
}

#[derive(Args, Clone)]
struct ThroughputArgs {
    #[arg(long, default_value_t = 128)]
    pairs: usize,
    #[arg(long, default_value_t = 10.0)]
    secs: f64,
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    #[arg(long, default_value_t = 64)]
    window: usize,
}

impl ThroughputArgs {
    fn params(&self) -> LoadParams {
        LoadParams {
            pairs: self.pairs,
            secs: self.secs,
            warmup_secs: self.warmup,
            window: self.window,
            rate: None,
            max_per_raiser: None,
        }
    }
}

#[derive(Args, Clone)]
struct LatencyArgs {
    #[arg(long, default_value_t = 5000.0)]
    rate: f64,
    #[arg(long, default_value_t = 128)]
    pairs: usize,
    #[arg(long, default_value_t = 10.0)]
    secs: f64,
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
}

impl LatencyArgs {
    fn params(&self) -> LoadParams {
        LoadParams {
            pairs: self.pairs,
            secs: self.secs,
            warmup_secs: self.warmup,
            window: 64,
            rate: Some(self.rate),
            max_per_raiser: None,
        }
    }
}

#[derive(Args, Clone)]
struct News2Args {
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
}

impl News2Args {
    fn params(&self) -> News2Params {
        News2Params {
            rate: self.rate,
            raise_rate: self.raise_rate,
            pairs: self.pairs,
            secs: self.secs,
            warmup_secs: self.warmup,
        }
    }
}

#[derive(Args, Clone)]
struct EscalationArgs {
    /// Tasks raised in all (none is accepted, so each must escalate).
    #[arg(long, default_value_t = 10_000)]
    tasks: u64,
    /// Seconds from a raise to its escalation.
    #[arg(long, default_value_t = 30)]
    after_secs: u64,
    /// Seconds over which the raises, and so the due times, are spread.
    #[arg(long, default_value_t = 20)]
    spread_secs: u64,
    /// SIGKILL and restart the hub halfway through the firing window
    /// (needs --hub spawn).
    #[arg(long)]
    restart: bool,
    /// Raising nurses, one connection each.
    #[arg(long, default_value_t = 10)]
    pairs: usize,
}

impl EscalationArgs {
    fn params(&self) -> EscalationParams {
        EscalationParams {
            tasks: self.tasks,
            after_secs: self.after_secs,
            spread_secs: self.spread_secs,
            restart: self.restart,
            pairs: self.pairs,
        }
    }
}

#[derive(Args, Clone)]
struct CompareArgs {
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
}

impl CompareArgs {
    fn params(&self) -> CompareParams {
        CompareParams {
            pairs: self.pairs,
            messages: self.messages,
            mqtt_host: self.mqtt_host.clone(),
            mqtt_port: self.mqtt_port,
            runs: self.runs,
        }
    }
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
    let (hub, pw) = (&cli.hub, cli.password.as_str());
    Ok(Some(match &cli.scenario {
        Scenario::Night(a) => return run_night(cli, a, None).await,
        Scenario::Chaos { night, kills } => return run_night(cli, night, Some(*kills)).await,
        Scenario::Throughput(a) => load::run(hub, a.params(), pw).await?,
        Scenario::Latency(a) => load::run(hub, a.params(), pw).await?,
        Scenario::News2(a) => news2::run(hub, a.params(), pw).await?,
        Scenario::Idle { fleet: f } => fleet::run(hub, f.params(), false, pw).await?,
        Scenario::Storm { fleet: f } => fleet::run(hub, f.params(), true, pw).await?,
        Scenario::Restart {
            tasks,
            pairs,
            restarts,
        } => load::restart(*tasks, *pairs, *restarts, pw).await?,
        Scenario::Escalation(a) => escalation::run(hub, a.params(), pw).await?,
        Scenario::Compare(a) => mqtt::compare(hub, a.params(), pw).await?,
        Scenario::Cluster(a) => cluster::run(a.params(), &a.pg, pw).await?,
        Scenario::ClusterShard => {
            cluster::shard::run_child().await?;
            return Ok(None);
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

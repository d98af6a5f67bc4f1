//! The hub under test. [`HubProc`] runs the `wardpage` binary as a child
//! (so the simulator can read its RSS, SIGKILL it and restart it on the same
//! database file and port); [`SimHub`] also covers an in-process
//! [`wardpage_tests::TestHub`] (for CI) and a hub someone else started (a URL).

use super::hospital::Hospital;
use anyhow::{bail, Context};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Where the `wardpage` binary is: `$WARDPAGE_BIN`, beside this executable
/// (the simulator binary lives in the same target folder), or where the
/// test harness looks for it.
pub fn hub_binary() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("WARDPAGE_BIN") {
        return Ok(PathBuf::from(p));
    }
    if let Some(dir) = std::env::current_exe()?.parent() {
        let bin = dir.join(format!("wardpage{}", std::env::consts::EXE_SUFFIX));
        if bin.exists() {
            return Ok(bin);
        }
    }
    wardpage_tests::hub::wardpage_bin()
}

/// The hub's protective limits, lifted for load runs: a simulated hospital
/// sends each user's load from one loopback address at rates no person
/// could (a raiser makes hundreds of commands a second, a storm opens
/// thousands of sockets from one source), and the runs measure the hub's
/// capacity, not its limits (which `tests/tests/hardening.rs` tests).
pub const LOAD_LIMITS: &str = "[limits]
login_attempts_per_source_per_min = 100000
login_in_flight_per_source = 64
login_queue = 100000
max_connections = 60000
max_connections_per_source = 60000
max_sockets_per_user = 1000
commands_per_user_per_sec = 1000000
command_burst_per_user = 1000000
";

/// A `wardpage serve` child process on its own database file.
pub struct HubProc {
    child: tokio::process::Child,
    pub pid: u32,
    pub addr: SocketAddr,
    pub db: PathBuf,
    pub bin: PathBuf,
    /// The config file's text ([`LOAD_LIMITS`] and a scenario's sections),
    /// written again on every restart.
    pub config: String,
    /// Where that config file is written.
    pub config_path: PathBuf,
    /// From spawn to the "listening" line on stdout.
    pub startup: Duration,
}

impl HubProc {
    /// Starts `wardpage serve` on `db`, listening on `listen` (port 0: any),
    /// with `config` as its config file.
    pub async fn spawn(
        bin: &Path,
        db: &Path,
        listen: SocketAddr,
        config: &str,
    ) -> anyhow::Result<HubProc> {
        HubProc::spawn_at(bin, db, &db.with_extension("sim.toml"), listen, config).await
    }

    /// [`HubProc::spawn`] with the config file at `config_path` (beside no
    /// file when `db` is a PostgreSQL URL).
    pub async fn spawn_at(
        bin: &Path,
        db: &Path,
        config_path: &Path,
        listen: SocketAddr,
        config: &str,
    ) -> anyhow::Result<HubProc> {
        let started = Instant::now();
        let config_text = config;
        let config = config_path.to_owned();
        std::fs::write(&config, config_text)
            .with_context(|| format!("writing {}", config.display()))?;
        let mut child = tokio::process::Command::new(bin)
            .arg("--db")
            .arg(db)
            .arg("--config")
            .arg(&config)
            .args(["serve", "--listen"])
            .arg(listen.to_string())
            .env(
                "RUST_LOG",
                std::env::var("WARDPAGE_SIM_HUB_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("spawning {}", bin.display()))?;
        let pid = child.id().context("hub exited at once")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(120), lines.next_line())
            .await
            .context("hub did not start within 120 s")??
            .context("hub exited before listening")?;
        let startup = started.elapsed();
        let url = line
            .strip_prefix("wardpage listening on http://")
            .with_context(|| format!("unexpected first line: {line}"))?;
        let addr = url.parse()?;
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(HubProc {
            child,
            pid,
            addr,
            db: db.to_owned(),
            bin: bin.to_owned(),
            config: config_text.to_owned(),
            config_path: config,
            startup,
        })
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The hub's resident memory in KiB (`VmRSS` in /proc/PID/status).
    pub fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.pid)
    }

    /// SIGKILL: no chance to flush or say goodbye.
    pub async fn kill9(mut self) -> anyhow::Result<(PathBuf, PathBuf, SocketAddr)> {
        self.child.start_kill()?;
        self.child.wait().await?;
        Ok((self.bin, self.db, self.addr))
    }

    /// SIGKILL, then start again on the same database and port.
    pub async fn kill9_and_restart(self) -> anyhow::Result<HubProc> {
        let (config, config_path) = (self.config.clone(), self.config_path.clone());
        let (bin, db, addr) = self.kill9().await?;
        // The port may linger briefly; retry the bind for a few seconds.
        let mut last = None;
        for _ in 0..50 {
            match HubProc::spawn_at(&bin, &db, &config_path, addr, &config).await {
                Ok(h) => return Ok(h),
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("restart failed")))
    }
}

/// `VmRSS` of a process, in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// CPU time a process has used so far (user + system), in seconds, from
/// /proc/PID/stat. The kernel reports it in USER_HZ ticks, fixed at 100 per
/// second in Linux's user-space ABI.
pub fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; fields after it are plain.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // After the name: state is field 3, utime 14, stime 15.
    let utime: f64 = fields.nth(11)?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Busy CPU time of the whole machine so far, in seconds, from /proc/stat.
pub fn machine_busy_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<f64> = line
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal ...: idle and iowait are not busy.
    let total: f64 = v.iter().take(8).sum();
    Some((total - v.get(3)? - v.get(4)?) / 100.0)
}

/// CPU used over a window by the hub (when it is our child), the
/// simulator and the whole machine, in seconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuUse {
    pub hub: Option<f64>,
    pub sim: Option<f64>,
    pub machine: Option<f64>,
}

impl CpuUse {
    /// Readings now; subtract two with [`CpuUse::since`].
    pub fn now(hub_pid: Option<u32>) -> CpuUse {
        CpuUse {
            hub: hub_pid.and_then(cpu_secs),
            sim: cpu_secs(std::process::id()),
            machine: machine_busy_secs(),
        }
    }

    pub fn since(self, start: CpuUse) -> CpuUse {
        let d = |a: Option<f64>, b: Option<f64>| Some(a? - b?);
        CpuUse {
            hub: d(self.hub, start.hub),
            sim: d(self.sim, start.sim),
            machine: d(self.machine, start.machine),
        }
    }
}

/// How the simulator reaches a hub.
pub enum SimHub {
    /// A child process the simulator started (and may kill).
    Proc {
        hub: Option<Box<HubProc>>,
        _dir: Option<tempfile::TempDir>,
    },
    /// A hub inside this process (no binary needed; used by CI).
    InProcess(Box<wardpage_tests::TestHub>),
    /// A hub started by someone else; the hospital must already be loaded.
    External(String),
}

/// Which kind of hub a scenario asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubChoice {
    Spawn,
    InProcess,
    External(String),
}

impl std::str::FromStr for HubChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "spawn" => Ok(HubChoice::Spawn),
            "inproc" | "in-process" => Ok(HubChoice::InProcess),
            u if u.starts_with("http://") => {
                Ok(HubChoice::External(u.trim_end_matches('/').to_owned()))
            }
            other => Err(format!(
                "--hub takes spawn, inproc or http://HOST:PORT, not `{other}`"
            )),
        }
    }
}

impl SimHub {
    /// Starts (or reaches) a hub with `hospital` loaded, every account's
    /// password being `password`. `db` keeps the database somewhere known
    /// (else a temporary folder).
    pub async fn start(
        choice: &HubChoice,
        hospital: &Hospital,
        password: &str,
        db: Option<&Path>,
    ) -> anyhow::Result<SimHub> {
        SimHub::start_configured(choice, hospital, password, db, "").await
    }

    /// [`SimHub::start`] with `extra` config sections after
    /// [`LOAD_LIMITS`] (a scenario's `[[escalation.task]]` policy). An
    /// in-process hub takes their `[limits]` and `[escalation]`; a hub
    /// someone else started cannot be configured, so it is refused.
    pub async fn start_configured(
        choice: &HubChoice,
        hospital: &Hospital,
        password: &str,
        db: Option<&Path>,
        extra: &str,
    ) -> anyhow::Result<SimHub> {
        let config = format!("{LOAD_LIMITS}{extra}");
        match choice {
            HubChoice::Spawn => {
                let bin = hub_binary()?;
                let (dir, db) = match db {
                    Some(p) => (None, p.to_owned()),
                    None => {
                        let d = tempfile::tempdir()?;
                        let p = d.path().join("sim.db");
                        (Some(d), p)
                    }
                };
                hospital.import_with_cli(&bin, &db, password).await?;
                let hub = HubProc::spawn(&bin, &db, "127.0.0.1:0".parse()?, &config).await?;
                Ok(SimHub::Proc {
                    hub: Some(Box::new(hub)),
                    _dir: dir,
                })
            }
            HubChoice::InProcess => {
                let parsed = wardpage_server::config::Config::parse(&config)
                    .context("the simulator's hub config")?;
                let hub = wardpage_tests::TestHub::start_with(|c| {
                    c.limits = parsed.limits;
                    c.escalation = parsed.escalation;
                })
                .await?;
                hospital.import_in_process(&hub, password).await?;
                Ok(SimHub::InProcess(Box::new(hub)))
            }
            HubChoice::External(_) if !extra.is_empty() => {
                bail!("this scenario configures its hub: use --hub spawn or --hub inproc")
            }
            HubChoice::External(url) => Ok(SimHub::External(url.clone())),
        }
    }

    pub fn base(&self) -> String {
        match self {
            SimHub::Proc { hub: Some(h), .. } => h.base(),
            SimHub::Proc { hub: None, .. } => String::new(),
            SimHub::InProcess(h) => h.base(),
            SimHub::External(u) => u.clone(),
        }
    }

    pub fn addr(&self) -> anyhow::Result<SocketAddr> {
        let base = self.base();
        let rest = base
            .strip_prefix("http://")
            .context("hub URL must be http://")?;
        // A site's base (`http://host:port/site/<name>`) is on the same address.
        let hostport = rest.split('/').next().unwrap_or(rest);
        use std::net::ToSocketAddrs;
        hostport
            .to_socket_addrs()?
            .next()
            .context("hub address does not resolve")
    }

    pub fn proc(&self) -> Option<&HubProc> {
        match self {
            SimHub::Proc { hub, .. } => hub.as_deref(),
            _ => None,
        }
    }

    /// Whether the simulator may SIGKILL and restart this hub.
    pub fn can_restart(&self) -> bool {
        self.proc().is_some()
    }

    /// SIGKILL and restart on the same database and port; returns the time
    /// from spawn to the listening line.
    pub async fn kill9_and_restart(&mut self) -> anyhow::Result<Duration> {
        let SimHub::Proc { hub, .. } = self else {
            bail!("only a hub the simulator started can be killed");
        };
        let h = hub.take().context("hub already gone")?;
        let new = h.kill9_and_restart().await?;
        let t = new.startup;
        *hub = Some(Box::new(new));
        Ok(t)
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        match self {
            SimHub::Proc { hub: Some(h), .. } => {
                h.kill9().await?;
                Ok(())
            }
            SimHub::InProcess(h) => h.stop().await,
            _ => Ok(()),
        }
    }
}

/// Waits until the hub has loaded the roster: `login`'s welcome shows a shift.
pub async fn wait_for_roster(base: &str, login: &str, password: &str) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(token) = wardpage_tests::client::login(base, login, password).await {
            if let Ok(c) = wardpage_tests::Client::connect(base, &token, 0).await {
                let on = c.me.shift.is_some();
                c.close().await;
                if on {
                    return Ok(token);
                }
            }
        }
        if Instant::now() > deadline {
            bail!(
                "the hub did not load the simulated roster within 15 s ({login} is not on shift)"
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

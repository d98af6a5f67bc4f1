//! Starting real hubs for tests: [`TestHub`] runs one inside the test
//! process on port 0 with a fresh SQLite file (its writer on the hub clock,
//! or on a manual clock the test moves: [`TestHub::start_on_manual_clock`]);
//! [`HubProcess`] runs the
//! `wardpage` binary so that a test can kill it with SIGKILL and restart it
//! on the same database.

use anyhow::Context;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::oneshot;
use wardpage_server::clock::{Clock, ManualClock};
use wardpage_server::config::Config;
use wardpage_server::roster::{RosterFile, DEMO_PASSWORD, DEMO_ROSTER};
use wardpage_server::store::Store;

/// A hub running in this process with the demo hospital loaded.
pub struct TestHub {
    pub addr: SocketAddr,
    pub store: Arc<dyn Store>,
    pub config: Config,
    /// The clock the hub's writer and escalation timer run on.
    pub clock: Clock,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    pub dir: TempDir,
}

impl TestHub {
    /// A hub with the demo hospital and default config.
    pub async fn start() -> anyhow::Result<TestHub> {
        Self::start_with(|_| {}).await
    }

    /// A hub with the demo hospital; `tweak` may change the config.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> anyhow::Result<TestHub> {
        let dir = tempfile::tempdir()?;
        let mut config = Config {
            listen: "127.0.0.1:0".parse()?,
            database: dir.path().join("hub.db"),
            ..Config::default()
        };
        tweak(&mut config);
        Self::start_in(dir, config, Clock::Hub).await
    }

    /// As [`TestHub::start_with`], with the writer on a manual clock that
    /// stands still until [`TestHub::advance`] moves it.
    pub async fn start_on_manual_clock(tweak: impl FnOnce(&mut Config)) -> anyhow::Result<TestHub> {
        let dir = tempfile::tempdir()?;
        let mut config = Config {
            listen: "127.0.0.1:0".parse()?,
            database: dir.path().join("hub.db"),
            ..Config::default()
        };
        tweak(&mut config);
        Self::start_in(dir, config, Clock::Manual(ManualClock::new())).await
    }

    /// Moves the writer's manual clock on by `by` (an error on the hub
    /// clock, which no test may move).
    pub fn advance(&self, by: std::time::Duration) -> anyhow::Result<()> {
        match &self.clock {
            Clock::Manual(m) => {
                m.advance(by);
                Ok(())
            }
            Clock::Hub => anyhow::bail!("this hub runs on the hub clock"),
        }
    }

    /// The writer's time now.
    pub fn now(&self) -> wardpage_proto::Millis {
        self.clock.now()
    }

    /// Stops the hub gracefully and starts a new one on the same database
    /// and port.
    pub async fn restart(mut self) -> anyhow::Result<TestHub> {
        let mut config = self.config.clone();
        config.listen = self.addr;
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await??;
        }
        drop(self.store);
        Self::start_in(self.dir, config, self.clock.clone()).await
    }

    async fn start_in(dir: TempDir, config: Config, clock: Clock) -> anyhow::Result<TestHub> {
        let store = wardpage_server::open_store(&config).await?;
        RosterFile::parse(DEMO_ROSTER)?
            // On the writer's clock: shifts start when the writer says it is.
            .import(&*store, clock.now(), Some(DEMO_PASSWORD))
            .await?;
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(wardpage_server::run_on_clock(
            listener,
            config.clone(),
            store.clone(),
            clock.clone(),
            async move {
                let _ = stopped.await;
            },
        ));
        Ok(TestHub {
            addr,
            store,
            config,
            clock,
            stop: Some(stop),
            task: Some(task),
            dir,
        })
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits up to `within` for the hub to stop on its own; its result.
    pub async fn stopped_within(
        &mut self,
        within: std::time::Duration,
    ) -> anyhow::Result<anyhow::Result<()>> {
        let task = self.task.as_mut().context("the hub was already stopped")?;
        let result = tokio::time::timeout(within, task)
            .await
            .context("the hub is still running")??;
        self.task = None;
        Ok(result)
    }

    /// Graceful shutdown; returns the hub's own result.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        match self.task.take() {
            Some(t) => t.await?,
            None => Ok(()),
        }
    }
}

/// Where the `wardpage` binary is: `$WARDPAGE_BIN`, or beside the test
/// executable's `deps` folder in the cargo target dir.
pub fn wardpage_bin() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("WARDPAGE_BIN") {
        return Ok(PathBuf::from(p));
    }
    // Test executables live in `<profile>/deps`, binaries in `<profile>`.
    let exe = std::env::current_exe()?;
    let name = format!("wardpage{}", std::env::consts::EXE_SUFFIX);
    let candidates: Vec<PathBuf> = exe
        .ancestors()
        .skip(1)
        .take(2)
        .map(|d| d.join(&name))
        .collect();
    candidates
        .iter()
        .find(|p| p.exists())
        .cloned()
        .with_context(|| {
            format!(
                "{name} not found beside {}: build it first (cargo build -p wardpage-server) or set WARDPAGE_BIN",
                exe.display()
            )
        })
}

/// A `wardpage serve --demo --no-patients` process on its own database
/// file (the demo's wards and night team, a quiet hospital), or with the
/// demo's patients too ([`HubProcess::start_with_patients`]).
pub struct HubProcess {
    child: tokio::process::Child,
    pub addr: SocketAddr,
    pub db: PathBuf,
}

impl HubProcess {
    /// Starts the binary on `db`, listening on `listen` (port 0 for any).
    pub async fn start(
        db: &Path,
        listen: SocketAddr,
        extra_env: &[(&str, &str)],
    ) -> anyhow::Result<HubProcess> {
        Self::launch(db, listen, extra_env, &["--no-patients"]).await
    }

    /// As [`HubProcess::start`], with the demo hospital's patients.
    pub async fn start_with_patients(
        db: &Path,
        listen: SocketAddr,
        extra_env: &[(&str, &str)],
    ) -> anyhow::Result<HubProcess> {
        Self::launch(db, listen, extra_env, &[]).await
    }

    async fn launch(
        db: &Path,
        listen: SocketAddr,
        extra_env: &[(&str, &str)],
        flags: &[&str],
    ) -> anyhow::Result<HubProcess> {
        let mut cmd = tokio::process::Command::new(wardpage_bin()?);
        cmd.args(["serve", "--demo"])
            .args(flags)
            .arg("--listen")
            .arg(listen.to_string())
            .arg("--db")
            .arg(db)
            // Warnings only, unless a run asks for more to find out why a
            // test failed (WARDPAGE_TEST_HUB_LOG=info).
            .env(
                "RUST_LOG",
                std::env::var("WARDPAGE_TEST_HUB_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().context("spawning wardpage")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
            .await
            .context("hub did not start within 30 s")??
            .context("hub exited before listening")?;
        let url = line
            .strip_prefix("wardpage listening on http://")
            .or_else(|| line.strip_prefix("wardpage listening on https://"))
            .with_context(|| format!("unexpected first line: {line}"))?;
        let addr = url.parse()?;
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(HubProcess {
            child,
            addr,
            db: db.to_owned(),
        })
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The process id, for signals (SIGSTOP, SIGCONT).
    pub fn pid(&self) -> anyhow::Result<u32> {
        self.child.id().context("the hub has already exited")
    }

    /// Sends `signal` (a name `kill` knows: STOP, CONT, ...).
    pub fn signal(&self, signal: &str) -> anyhow::Result<()> {
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid()?.to_string())
            .status()?;
        anyhow::ensure!(status.success(), "kill -{signal} failed");
        Ok(())
    }

    /// Waits up to `within` for the hub to exit on its own.
    pub async fn exited_within(
        &mut self,
        within: std::time::Duration,
    ) -> anyhow::Result<std::process::ExitStatus> {
        tokio::time::timeout(within, self.child.wait())
            .await
            .context("the hub is still running")?
            .context("waiting for the hub")
    }

    /// SIGKILL: no chance to flush or say goodbye.
    pub async fn kill9(mut self) -> anyhow::Result<()> {
        self.child.start_kill()?;
        self.child.wait().await?;
        Ok(())
    }

    /// SIGTERM and wait: the graceful path.
    pub async fn terminate(mut self) -> anyhow::Result<std::process::ExitStatus> {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status();
        }
        Ok(self.child.wait().await?)
    }
}

/// Runs the `wardpage` CLI on `db` with `stdin`, as hospital IT would beside
/// a running hub; its stdout, or an error with its stderr if it failed.
pub fn wardpage_cli(db: &Path, args: &[&str], stdin: &str) -> anyhow::Result<String> {
    use std::io::Write;
    let mut child = std::process::Command::new(wardpage_bin()?)
        .args(args)
        .arg("--db")
        .arg(db)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut i) = child.stdin.take() {
        i.write_all(stdin.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    anyhow::ensure!(
        out.status.success(),
        "wardpage {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

//! A PostgreSQL server of a test's own, which the test can stop and start
//! again under running hub nodes (the shared server of
//! `WARDPAGE_TEST_POSTGRES` must not be restarted under other tests).
//!
//! `initdb` and `pg_ctl` from Debian's packages (`/usr/lib/postgresql/*/bin`)
//! on a temporary directory, a free port on 127.0.0.1, trust
//! authentication for the `postgres` role. PostgreSQL refuses to run as
//! root, so when the tests do (CI's containers) every command runs as the
//! `postgres` user through `runuser`. A machine without the binaries makes
//! [`PgInstance::start`] answer `None`, and the test says loudly that it
//! skipped, as [`crate::pg`] does without a server.

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

/// A running (or stopped) PostgreSQL server in a temporary directory;
/// dropping it stops the server and removes the directory.
pub struct PgInstance {
    bin: PathBuf,
    dir: TempDir,
    pub port: u16,
    /// The OS user the server runs as (`None`: this process's own).
    user: Option<String>,
}

/// How [`PgInstance::stop`] stops the server (`pg_ctl stop -m`).
#[derive(Debug, Clone, Copy)]
pub enum StopMode {
    /// Ends every session and shuts down cleanly.
    Fast,
    /// Kills every process at once, as a crash would: the next start
    /// replays the write-ahead log.
    Immediate,
}

/// The newest `/usr/lib/postgresql/<version>/bin` with `initdb` and `pg_ctl`.
pub fn server_bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").exists() && bin.join("pg_ctl").exists()).then_some((version, bin))
        })
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, bin)| bin)
}

impl PgInstance {
    /// Initialises and starts a server; `None` (after saying that `test`
    /// skipped) if this machine has no PostgreSQL server binaries.
    pub async fn start(test: &str) -> anyhow::Result<Option<PgInstance>> {
        let Some(bin) = server_bin_dir() else {
            eprintln!(
                "SKIPPED {test}: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin \
                 (apt-get install postgresql)"
            );
            return Ok(None);
        };
        let running_as_root = run_output(Command::new("id").arg("-u"))?.trim() == "0";
        let user = running_as_root.then(|| "postgres".to_owned());
        let dir = tempfile::tempdir()?;
        if let Some(u) = &user {
            // The data directory must belong to the server's user.
            let uid: u32 = run_output(Command::new("id").args(["-u", u]))?
                .trim()
                .parse()
                .context("the postgres user's uid")?;
            let gid: u32 = run_output(Command::new("id").args(["-g", u]))?
                .trim()
                .parse()
                .context("the postgres user's gid")?;
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let pg = PgInstance {
            bin,
            dir,
            port,
            user,
        };
        let data = pg.data().display().to_string();
        let out = pg.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        anyhow::ensure!(out.status.success(), "initdb failed: {}", out_text(&out));
        pg.start_again().await?;
        Ok(Some(pg))
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The server's log (what it said while the test ran).
    pub fn log(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// The URL of database `db` on this server.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates database `name` (through the `postgres` database).
    pub async fn create_database(&self, name: &str) -> anyhow::Result<String> {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&self.url("postgres")).await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        Ok(self.url(name))
    }

    /// Stops the server (and waits until it has).
    pub async fn stop(&self, mode: StopMode) -> anyhow::Result<()> {
        let mode = match mode {
            StopMode::Fast => "fast",
            StopMode::Immediate => "immediate",
        };
        let data = self.data().display().to_string();
        let out = self
            .run_blocking(
                "pg_ctl",
                vec![
                    "-D".into(),
                    data,
                    "-m".into(),
                    mode.into(),
                    "-w".into(),
                    "stop".into(),
                ],
            )
            .await?;
        anyhow::ensure!(
            out.status.success(),
            "pg_ctl stop failed: {}",
            out_text(&out)
        );
        Ok(())
    }

    /// Starts the (stopped) server again on the same port and data, and
    /// waits until it accepts connections.
    pub async fn start_again(&self) -> anyhow::Result<()> {
        let data = self.data().display().to_string();
        let log = self.log().display().to_string();
        // Unix sockets in the test's own directory (the system's is not
        // writable by every user), fsync off: a test's data need not
        // survive the machine, only the server (an immediate stop keeps
        // what the write-ahead log holds in the OS's cache).
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c max_connections=100",
            self.port,
            self.dir.path().display()
        );
        let args = vec![
            "-D".into(),
            data,
            "-l".into(),
            log,
            "-o".into(),
            opts,
            "-w".into(),
            "-t".into(),
            "30".into(),
            "start".into(),
        ];
        let out = self.run_blocking("pg_ctl", args).await?;
        anyhow::ensure!(
            out.status.success(),
            "pg_ctl start failed: {}\n{}",
            out_text(&out),
            std::fs::read_to_string(self.log()).unwrap_or_default()
        );
        Ok(())
    }

    fn command(&self, tool: &str) -> Command {
        let path = self.bin.join(tool);
        match &self.user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(path);
                c
            }
            None => Command::new(path),
        }
    }

    fn run(&self, tool: &str, args: &[&str]) -> anyhow::Result<std::process::Output> {
        let out = self
            .command(tool)
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .with_context(|| format!("running {tool}"))?;
        Ok(out)
    }

    /// [`PgInstance::run`] off the async runtime's threads (`pg_ctl -w`
    /// takes seconds).
    async fn run_blocking(
        &self,
        tool: &str,
        args: Vec<String>,
    ) -> anyhow::Result<std::process::Output> {
        let mut cmd = self.command(tool);
        cmd.args(&args).current_dir(self.dir.path());
        let tool = tool.to_owned();
        tokio::task::spawn_blocking(move || cmd.output().with_context(|| format!("running {tool}")))
            .await?
    }
}

impl Drop for PgInstance {
    fn drop(&mut self) {
        let data = self.data().display().to_string();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "stop"])
            .current_dir(Path::new("/"))
            .output();
    }
}

fn run_output(cmd: &mut Command) -> anyhow::Result<String> {
    let out = cmd.output()?;
    anyhow::ensure!(out.status.success(), "{cmd:?} failed: {}", out_text(&out));
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn out_text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

//! The command line: `wardpage serve`, the admin commands beside it, and
//! their flags, as clap reads them. `main.rs` runs them.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use wardpage_proto::{Role, Skill};

#[derive(Parser)]
#[command(
    name = "wardpage",
    version,
    about = "Overnight ward task and paging hub"
)]
pub struct Cli {
    /// TOML config file (see wardpage.example.toml).
    #[arg(long, global = true, env = "WARDPAGE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database file (overrides the config's `database`).
    #[arg(long, global = true)]
    pub db: Option<PathBuf>,
    /// The site an admin command acts on, in a deployment of several
    /// (`[cluster] sites`; default: the first).
    #[arg(long, global = true)]
    pub site: Option<String>,
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Run the hub.
    Serve {
        /// Address to listen on (overrides the config's `listen`).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Load the demo hospital (password "night-shift" for every login)
        /// and put its night team on shift now. Without --db or a config,
        /// uses wardpage-demo.db in the current folder.
        #[arg(long)]
        demo: bool,
        /// With --demo: the wards and night team only, no patients (a
        /// quiet hospital, for tests and training).
        #[arg(long, requires = "demo")]
        no_patients: bool,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        action: UserCmd,
    },
    /// Import wards, staff and tonight's shifts.
    Roster {
        #[command(subcommand)]
        action: RosterCmd,
    },
    /// Admit the patients already on the wards, from a CSV census (the
    /// columns of server/demo/patients.csv), before the hub first starts:
    /// every row is checked first, then all are admitted in one transaction.
    /// Refused while a hub serves the database.
    Census {
        #[command(subcommand)]
        action: CensusCmd,
    },
    /// Copy the SQLite database into a new file, while the hub runs: one
    /// consistent snapshot, integrity-checked. (PostgreSQL: use pg_dump.)
    Backup {
        /// The new file to write.
        to: PathBuf,
    },
    /// The response figures for tasks raised in a window: CSV files and a
    /// self-contained HTML page with charts. Runs beside the hub.
    Report {
        /// Start, as the hospital's date and time (2026-12-01T20:00) or
        /// RFC 3339 with an offset.
        #[arg(long)]
        from: String,
        /// End (exclusive), the same way.
        #[arg(long)]
        to: String,
        /// The hospital's IANA time zone (default: this machine's).
        #[arg(long)]
        tz: Option<String>,
        /// Folder to write into (created if missing).
        #[arg(long, default_value = "wardpage-report")]
        out: PathBuf,
        /// The handover report instead: open tasks, patients to watch,
        /// observations overdue, the window's escalations and unanswered
        /// pages, as CSV and a printable page.
        #[arg(long)]
        handover: bool,
        /// With --handover: one ward (default: the whole site).
        #[arg(long, requires = "handover")]
        ward: Option<String>,
    },
    /// API keys for other systems (FHIR at /fhir): create, list, revoke.
    Apikey {
        #[command(subcommand)]
        action: wardpage_server::apikeys::ApiKeyCmd,
    },
    /// Check the audit trail.
    Audit {
        #[command(subcommand)]
        action: AuditCmd,
    },
    /// Several nodes on one PostgreSQL database (`[cluster]`).
    Cluster {
        #[command(subcommand)]
        action: ClusterCmd,
    },
}

#[derive(Subcommand)]
pub enum ClusterCmd {
    /// The owner node, its epoch and its lease's end, as the database says.
    Status,
}

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Check that every audit row links to the one before it (SHA-256
    /// chain): fails, naming the row, if any was edited, inserted or
    /// deleted. Prints the newest row's hash: keep it with your backups,
    /// since removing the newest rows leaves a valid shorter chain.
    Verify,
}

#[derive(Subcommand)]
pub enum UserCmd {
    /// Add an account (or update it, by login). Reads the password from stdin.
    Add {
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: Role,
        /// Comma-separated, e.g. cannulation,bloods
        #[arg(long, value_delimiter = ',')]
        skills: Vec<Skill>,
    },
    /// Set a password, read from stdin. Ends every session of the account
    /// (a running hub closes its sockets within seconds).
    Passwd {
        #[arg(long)]
        login: String,
    },
    /// Disable an account: it can no longer log in, and its sessions end.
    Disable {
        #[arg(long)]
        login: String,
    },
    /// Enable a disabled account again (its old sessions stay ended).
    Enable {
        #[arg(long)]
        login: String,
    },
    /// End every session of an account (a lost phone), keeping its password.
    Revoke {
        #[arg(long)]
        login: String,
    },
    /// List accounts.
    List,
}

#[derive(Subcommand)]
pub enum CensusCmd {
    /// Import a census CSV file.
    Import { file: PathBuf },
}

#[derive(Subcommand)]
pub enum RosterCmd {
    /// Import a roster TOML file (see server/demo/hospital.toml).
    Import {
        file: PathBuf,
        /// Give new accounts this password, read from stdin.
        #[arg(long)]
        password_stdin: bool,
    },
}

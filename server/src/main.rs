//! The `wardpage` binary: runs the hub and manages accounts and rosters.

use anyhow::{bail, Context};
use clap::Parser;
use std::io::BufRead;
use std::path::PathBuf;
use tracing_subscriber::EnvFilter;
use wardpage_server::config::Config;
use wardpage_server::domain::Staff;
use wardpage_server::roster::{RosterFile, DEMO_PASSWORD, DEMO_ROSTER};
use wardpage_server::store::audit_chain;
use wardpage_server::{auth, census, clock, open_site_store, report, run_claimed};

mod cli;
use cli::{AuditCmd, CensusCmd, Cli, Cmd, RosterCmd, UserCmd};

fn read_password() -> anyhow::Result<String> {
    eprintln!("password (one line on stdin):");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let pw = line.trim_end_matches(['\r', '\n']).to_owned();
    if pw.chars().count() < 8 {
        bail!("passwords must have at least 8 characters");
    }
    Ok(pw)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(db) = cli.db {
        config.database = db;
    } else if matches!(cli.command, Cmd::Serve { demo: true, .. })
        && cli.config.is_none()
        && std::env::var_os("WARDPAGE_DATABASE").is_none()
    {
        config.database = PathBuf::from("wardpage-demo.db");
    }
    if let Cmd::Backup { to } = &cli.command {
        return backup(&config, to).await;
    }
    if let Some(done) = cluster_commands(&cli.command, &config).await {
        return done;
    }
    let site = match &cli.site {
        Some(site) => site.clone(),
        None => config.cluster.sites.first().cloned().unwrap_or_default(),
    };
    let store = open_site_store(&config, &site)
        .await
        .with_context(|| format!("opening {}", config.database.display()))?;
    match cli.command {
        Cmd::Serve {
            listen,
            demo,
            no_patients,
        } => serve(config, store, listen, demo, no_patients).await,
        Cmd::User { action } => user(&*store, action).await,
        Cmd::Census {
            action: CensusCmd::Import { file },
        } => census_import(&config, &*store, &file).await,
        Cmd::Roster {
            action:
                RosterCmd::Import {
                    file,
                    password_stdin,
                },
        } => roster_import(&*store, &file, password_stdin).await,
        // Done above, without opening the store (and migrating the file).
        Cmd::Backup { .. } => Ok(()),
        Cmd::Report {
            from,
            to,
            tz,
            out,
            handover,
            ward,
        } => {
            let window = report::Window::parse(&from, &to, tz.as_deref())?;
            if handover {
                handover_report(&*store, &window, ward, &out).await
            } else {
                response_report(&*store, &window, &out).await
            }
        }
        Cmd::Audit {
            action: AuditCmd::Verify,
        } => audit_verify(&*store).await,
        Cmd::Apikey { action } => Ok(wardpage_server::apikeys::cli(&*store, action).await?),
        // Done in `cluster_commands`.
        Cmd::Cluster { .. } => Ok(()),
    }
}

/// `cluster status`, and `serve` as a node of a cluster; `None` for every
/// other command (and for `serve` on SQLite, which is single-node).
async fn cluster_commands(cmd: &Cmd, config: &Config) -> Option<anyhow::Result<()>> {
    use wardpage_server::cluster;
    let pg = wardpage_server::uses_postgres(config);
    match cmd {
        Cmd::Cluster { .. } => Some(cluster::status_command(config).await),
        Cmd::Serve { .. } if !pg && config.cluster.sites != ["default"] => {
            Some(Err(anyhow::anyhow!(
                "[cluster] sites need a PostgreSQL database: SQLite is single-node and single-site"
            )))
        }
        Cmd::Serve { .. } if config.cluster.enabled && !pg => {
            tracing::warn!(
                "[cluster] is enabled, but SQLite is single-node: serving as a single hub"
            );
            None
        }
        Cmd::Serve {
            listen,
            demo,
            no_patients,
        } if config.cluster.enabled => {
            let mut config = config.clone();
            config.listen = listen.unwrap_or(config.listen);
            let (demo, patients, cfg) = (*demo, !*no_patients, config.clone());
            let prepare: cluster::Prepare = Box::new(move |store| {
                let cfg = cfg.clone();
                Box::pin(async move {
                    if demo {
                        load_demo(&*store, &cfg, patients).await?;
                    }
                    Ok(())
                })
            });
            Some(cluster::serve_node(config, prepare, shutdown_signal()).await)
        }
        _ => None,
    }
}

type DynStore = std::sync::Arc<dyn wardpage_server::store::Store>;

async fn serve(
    mut config: Config,
    store: DynStore,
    listen: Option<std::net::SocketAddr>,
    demo: bool,
    no_patients: bool,
) -> anyhow::Result<()> {
    if let Some(l) = listen {
        config.listen = l;
    }
    // Before the demo roster is written: a second hub started by
    // mistake on a running hub's database changes nothing.
    let claim = store.claim_hub().await?;
    if demo {
        load_demo(&*store, &config, !no_patients).await?;
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    let scheme = if config.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    // Printed once the state is loaded: tests and scripts wait for
    // this line, and it means the hub is ready to welcome.
    run_claimed(listener, config, store, claim, shutdown_signal(), || {
        println!("wardpage listening on {scheme}://{addr}");
    })
    .await
}

async fn user(store: &dyn wardpage_server::store::Store, action: UserCmd) -> anyhow::Result<()> {
    match action {
        UserCmd::Add {
            login,
            name,
            role,
            skills,
        } => {
            let password = read_password()?;
            let hash = auth::hash_password(&password)?;
            let id = match store.staff_by_login(&login).await? {
                Some(s) => s.id,
                None => wardpage_proto::StaffId::new_random(),
            };
            let staff = Staff {
                id,
                login: login.clone(),
                name,
                role,
                skills,
                active: true,
            };
            store.upsert_staff(&staff, Some(&hash)).await?;
            println!("saved {login} ({id})");
        }
        UserCmd::Passwd { login } => {
            let password = read_password()?;
            let hash = auth::hash_password(&password)?;
            if !store.set_password(&login, &hash).await? {
                bail!("no account with login {login:?}");
            }
            let ended = store.revoke_sessions(&login).await?.unwrap_or(0);
            println!("password changed for {login}; {ended} sessions ended");
        }
        UserCmd::Disable { login } => {
            if !store.set_active(&login, false).await? {
                bail!("no account with login {login:?}");
            }
            let ended = store.revoke_sessions(&login).await?.unwrap_or(0);
            println!("disabled {login}; {ended} sessions ended");
        }
        UserCmd::Enable { login } => {
            if !store.set_active(&login, true).await? {
                bail!("no account with login {login:?}");
            }
            println!("enabled {login}");
        }
        UserCmd::Revoke { login } => {
            let Some(ended) = store.revoke_sessions(&login).await? else {
                bail!("no account with login {login:?}");
            };
            println!("{ended} sessions of {login} ended");
        }
        UserCmd::List => {
            for s in store.list_staff().await? {
                let skills: Vec<&str> = s.skills.iter().map(|k| k.as_str()).collect();
                println!(
                    "{:<20} {:<28} {:<20} {}{}",
                    s.login,
                    s.name,
                    s.role.as_str(),
                    skills.join(","),
                    if s.active { "" } else { " (inactive)" }
                );
            }
        }
    }
    Ok(())
}

async fn census_import(
    config: &Config,
    store: &dyn wardpage_server::store::Store,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let rows = census::parse(&text)?;
    // The hub's state is loaded once, at its start: an import beside a
    // running hub would be overwritten by it.
    let claim = store.claim_hub().await?;
    let policies = wardpage_server::domain::Policies {
        news2: config.news2.to_policy()?,
        ..config.escalation.to_policies()?
    };
    let now = clock::now_ms();
    let targets = config.priorities.to_targets();
    let c = census::import(store, targets, policies, &rows, &[], now, now).await?;
    claim.release().await;
    println!("admitted {} patients", c.admitted);
    Ok(())
}

async fn roster_import(
    store: &dyn wardpage_server::store::Store,
    file: &std::path::Path,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let roster = RosterFile::parse(&text)?;
    let password = if password_stdin {
        Some(read_password()?)
    } else {
        None
    };
    let s = roster
        .import(store, clock::now_ms(), password.as_deref())
        .await?;
    println!(
        "imported {} wards, {} staff, {} shifts",
        s.wards, s.staff, s.shifts
    );
    Ok(())
}

async fn audit_verify(store: &dyn wardpage_server::store::Store) -> anyhow::Result<()> {
    let v = audit_chain::verify(store).await?;
    if let Some((id, why)) = v.broken {
        bail!(
            "audit chain broken at row {id}: {why} ({} rows read)",
            v.rows
        );
    }
    println!(
        "audit chain intact: {} rows, {} of them older than the chain; newest hash {}",
        v.rows,
        v.unchained,
        v.head().unwrap_or_else(|| "(none yet)".into())
    );
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Loads the demo hospital into a new database; an existing one is kept as
/// it is (what the coordinator changed tonight survives a restart) unless
/// its night is over, when only the demo's shifts start again.
async fn load_demo(
    store: &dyn wardpage_server::store::Store,
    config: &Config,
    patients: bool,
) -> anyhow::Result<()> {
    let now = clock::now_ms();
    let existing = store.load_roster().await?;
    let on_now = existing.shifts().values().filter(|s| s.is_on(now)).count();
    if !existing.staff.is_empty() && on_now > 0 {
        eprintln!(
            "demo hospital: kept as it was ({} staff, {on_now} on shift); delete the demo database for a fresh night",
            existing.staff.len()
        );
    } else {
        let roster = RosterFile::parse(DEMO_ROSTER)?;
        let s = roster.import(store, now, Some(DEMO_PASSWORD)).await?;
        let what = if existing.staff.is_empty() {
            "new"
        } else {
            "its night was over, so its shifts start again now"
        };
        eprintln!(
            "demo hospital ({what}): {} wards, {} staff, {} on shift for 12 hours; every password is \"{DEMO_PASSWORD}\"",
            s.wards, s.staff, s.shifts
        );
        if existing.staff.is_empty() && patients {
            let rows = census::parse(census::DEMO_PATIENTS)?;
            let sets = census::demo_sets(&rows, now);
            let policies = wardpage_server::domain::Policies {
                news2: config.news2.to_policy()?,
                ..config.escalation.to_policies()?
            };
            let c = census::import(
                store,
                config.priorities.to_targets(),
                policies,
                &rows,
                &sets,
                now - 14 * 3_600_000,
                now,
            )
            .await?;
            eprintln!(
                "demo patients: {} admitted, {} sets of observations, {} reviews and tasks open",
                c.admitted, c.observations, c.tasks
            );
        }
    }
    eprintln!("  nurse: nurse.okafor   doctor: fy1.patel   coordinator: coord.hale   (see server/demo/hospital.toml)");
    Ok(())
}

/// `report --handover`: open work, patients to watch and the night's
/// escalations, for one ward or the site.
async fn handover_report(
    store: &dyn wardpage_server::store::Store,
    window: &report::Window,
    ward: Option<String>,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    let scope = match ward {
        Some(w) => report::handover::Scope::Ward(w.as_str().into()),
        None => report::handover::Scope::Site,
    };
    let at = window.to.min(clock::now_ms());
    let r = report::handover::gather(store, window, &scope, at).await?;
    report::handover_write::all(out, &r, window)?;
    println!(
        "handover for {}: {} open tasks, {} patients to watch, {} overdue, {} escalations, {} unanswered pages; report in {}",
        r.scope_name,
        r.tasks.len(),
        r.patients.len(),
        r.overdue.len(),
        r.escalations.len(),
        r.pages.len(),
        out.display()
    );
    Ok(())
}

/// `report`: the response figures of the tasks raised in the window.
async fn response_report(
    store: &dyn wardpage_server::store::Store,
    window: &report::Window,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    let tasks = report::gather(store, window).await?;
    let figures = report::figures::compute(&tasks, window.to.min(clock::now_ms()));
    report::write::all(out, &figures, window)?;
    println!(
        "{} tasks raised from {} to {} ({}); report in {}",
        figures.tasks,
        window.local(window.from),
        window.local(window.to),
        window.tz_name,
        out.display()
    );
    Ok(())
}

/// `backup --to FILE`: a checked copy of the SQLite file, made beside a
/// running hub.
async fn backup(config: &Config, to: &std::path::Path) -> anyhow::Result<()> {
    if wardpage_server::uses_postgres(config) {
        bail!("the database is PostgreSQL: back it up with pg_dump");
    }
    let s = wardpage_server::store::sqlite::backup(&config.database, to)
        .await
        .with_context(|| format!("backing up {}", config.database.display()))?;
    println!(
        "backed up {} to {}: {} bytes, integrity ok, {} audit {}, newest audit hash {}",
        config.database.display(),
        to.display(),
        s.bytes,
        s.audit_rows,
        if s.audit_rows == 1 { "row" } else { "rows" },
        s.audit_head.as_deref().unwrap_or("(none)")
    );
    Ok(())
}

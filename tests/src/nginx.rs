//! Debian's nginx with the shipped site (`deploy/nginx/wardpage.conf`) in
//! front of test nodes: the same upstream options and `location`, made to
//! run unprivileged in a test's folder on a free loopback port, with no
//! TLS and no port-80 redirect. What a hospital's IT copies is what the
//! cluster tests go through.

use crate::hub::HubProcess;
use anyhow::Context;
use std::path::{Path, PathBuf};

/// A running nginx; dropping it kills it.
pub struct Nginx {
    child: tokio::process::Child,
    port: u16,
}

/// Debian's nginx binary, if installed.
pub fn which_nginx() -> anyhow::Result<PathBuf> {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .context("no nginx")
}

/// nginx, or `None` (said loudly) when it is not installed and the run
/// does not require it: the README's test command installs nginx and sets
/// `WARDPAGE_TEST_NGINX`, and there a missing nginx fails rather than
/// passing untested.
pub fn nginx_or_skip(test: &str) -> anyhow::Result<Option<PathBuf>> {
    match which_nginx() {
        Ok(p) => Ok(Some(p)),
        Err(_) => {
            anyhow::ensure!(
                std::env::var_os("WARDPAGE_TEST_NGINX").is_none(),
                "WARDPAGE_TEST_NGINX is set but no nginx is installed"
            );
            eprintln!("SKIPPED {test}: no nginx (apt-get install nginx-light)");
            Ok(None)
        }
    }
}

impl Nginx {
    /// `binary` with the shipped site in front of `nodes` (in that order:
    /// nginx tries the first one first), its files in `dir`; returns once
    /// it listens.
    pub async fn start(binary: &Path, dir: &Path, nodes: &[&HubProcess]) -> anyhow::Result<Nginx> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, nginx_config(dir, port, nodes)?)?;
        let child = tokio::process::Command::new(binary)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf)
            .kill_on_drop(true)
            .spawn()
            .context("spawning nginx")?;
        crate::eventually("nginx listens", || async {
            Ok(tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .ok()
                .map(|_| ()))
        })
        .await?;
        Ok(Nginx { child, port })
    }

    /// `http://127.0.0.1:<port>`: the one URL devices keep.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops it and waits for it to go.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.child.start_kill()?;
        self.child.wait().await?;
        Ok(())
    }
}

/// The shipped site, made to run unprivileged in `dir` on `port` in front
/// of `nodes`.
pub fn nginx_config(dir: &Path, port: u16, nodes: &[&HubProcess]) -> anyhow::Result<String> {
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/nginx/wardpage.conf"),
    )?;
    let site = shipped
        .split("\nserver {\n    listen 80;")
        .next()
        .context("the site")?;
    let mut servers = nodes.iter();
    let mut out = Vec::new();
    for line in site.lines() {
        let t = line.trim_start();
        if t.starts_with("server 10.0.0.") {
            // `server 10.0.0.11:8080 max_fails=...;`: the address swapped.
            let shipped_addr = t.split_whitespace().nth(1).unwrap_or_default();
            if let Some(n) = servers.next() {
                out.push(line.replacen(shipped_addr, &n.addr.to_string(), 1));
            }
        } else if t.starts_with("listen 443") {
            out.push(format!("    listen 127.0.0.1:{port};"));
        } else if !t.starts_with("ssl_certificate") {
            out.push(line.to_owned());
        }
    }
    let d = dir.display();
    // One process (no master and workers), so that killing it ends it.
    Ok(format!(
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 256; }}\nhttp {{\naccess_log off;\n\
         client_body_temp_path {d}/body;\nproxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\nuwsgi_temp_path {d}/uwsgi;\nscgi_temp_path {d}/scgi;\n\
         {}\n}}\n",
        out.join("\n")
    ))
}

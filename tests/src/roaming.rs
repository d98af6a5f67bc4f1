//! A device that follows the owner of a cluster: when its socket closes
//! (its node stood down, stopped or died) it finds the node that serves
//! now among the cluster's addresses and resumes there from its cursor,
//! as a handheld behind a load balancer does. A gap in its stream, or a
//! resync (the hub could not replay from its cursor), is an error, never
//! a reconnect: the fault suites assert that no device misses anything.

use crate::nodes::serving_base;
use crate::{client, Client, CommandError};
use anyhow::Context;
use std::time::Duration;
use wardpage_proto::{Command, CommandResult, Event};

/// How long a device looks for a serving node before it gives up.
const FIND_OWNER_WITHIN: Duration = Duration::from_secs(30);

/// A device of `username` on whichever of `bases` serves.
pub struct Roaming {
    bases: Vec<String>,
    username: String,
    token: Option<String>,
    client: Option<Client>,
    cursor: u64,
    /// Events delivered twice, over every connection so far.
    pub duplicates: u64,
    /// How many times it resumed on a node after its socket closed.
    pub resumes: u64,
    /// Who the device is logged in as (once it has connected).
    pub me: Option<wardpage_proto::StaffId>,
    /// Why each of its connections ended, and when.
    pub closes: Vec<(std::time::Instant, String)>,
}

impl Roaming {
    /// Connects to the node that serves now (waiting for one).
    pub async fn connect(bases: &[String], username: &str) -> anyhow::Result<Roaming> {
        let mut r = Roaming {
            bases: bases.to_vec(),
            username: username.to_owned(),
            token: None,
            client: None,
            cursor: 0,
            duplicates: 0,
            resumes: 0,
            me: None,
            closes: Vec::new(),
        };
        r.ensure().await?;
        Ok(r)
    }

    /// The cluster's addresses, for a test that moves a node to a new one.
    pub fn set_bases(&mut self, bases: &[String]) {
        self.bases = bases.to_vec();
    }

    /// The connected client, reconnecting first if the last one closed.
    async fn ensure(&mut self) -> anyhow::Result<&mut Client> {
        let deadline = tokio::time::Instant::now() + FIND_OWNER_WITHIN;
        while self.client.is_none() {
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "{}: no node served for {FIND_OWNER_WITHIN:?}",
                self.username
            );
            if let Some(base) = serving_base(&self.bases).await? {
                if let Ok(c) = self.open(&base).await {
                    anyhow::ensure!(
                        !c.resync || self.cursor == 0,
                        "{} had to resync at {} (the hub could not replay from its cursor)",
                        self.username,
                        self.cursor
                    );
                    if self.cursor > 0 {
                        self.resumes += 1;
                    }
                    self.me = Some(c.id());
                    self.client = Some(c);
                    break;
                }
            }
            // The pace of looking for the next owner, not a wait for it.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.client.as_mut().context("connected above")
    }

    async fn open(&mut self, base: &str) -> anyhow::Result<Client> {
        let token = match &self.token {
            Some(t) => t.clone(),
            None => {
                let t = client::login(base, &self.username, crate::DEMO_PASSWORD).await?;
                self.token = Some(t.clone());
                t
            }
        };
        let mut c = Client::connect(base, &token, self.cursor).await?;
        c.duplicates = self.duplicates;
        Ok(c)
    }

    /// Files what the closed client had seen and drops it; a gap in its
    /// stream is the test's failure, not a reason to reconnect.
    fn lost(&mut self, e: anyhow::Error) -> anyhow::Result<()> {
        if let Some(c) = self.client.take() {
            self.cursor = c.cursor;
            self.duplicates = c.duplicates;
        }
        let text = format!("{e:#}");
        self.closes.push((std::time::Instant::now(), text.clone()));
        anyhow::ensure!(!text.contains("gap in stream"), "{}: {text}", self.username);
        Ok(())
    }

    /// Sends `cmd` and waits for its answer; `None` if the socket closed
    /// first (then it is unknown whether the command was applied).
    pub async fn command(
        &mut self,
        cmd: Command,
    ) -> anyhow::Result<Option<Result<CommandResult, CommandError>>> {
        let c = self.ensure().await?;
        match c.command(cmd).await {
            Ok(answer) => Ok(Some(answer)),
            Err(e) => {
                self.lost(e)?;
                Ok(None)
            }
        }
    }

    /// The next new event within `within`, resuming on the serving node
    /// if the socket closes meanwhile; `None` if nothing came.
    pub async fn next_event_within(&mut self, within: Duration) -> anyhow::Result<Option<Event>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let c = self.ensure().await?;
            match c.next_event_within(left).await {
                Ok(e) => return Ok(e.map(|(_, e)| e)),
                Err(e) => self.lost(e)?,
            }
        }
    }

    /// Gives up on the node it is connected to, keeping its cursor, as the
    /// app does when a frozen node stops answering its heartbeats (the
    /// socket of a stopped process stays open); the next call resumes on
    /// the node that serves.
    pub fn abandon(&mut self, why: &str) -> anyhow::Result<()> {
        self.lost(anyhow::anyhow!("{why}"))
    }

    /// The node it is connected to now, if any.
    pub fn base(&self) -> Option<&str> {
        self.client.as_ref().map(|c| c.base.as_str())
    }

    /// Events delivered twice, counting the current connection's.
    pub fn duplicates_now(&self) -> u64 {
        self.client
            .as_ref()
            .map_or(self.duplicates, |c| c.duplicates)
    }
}

//! One site on one node: stands by, claims the site's lease, loads and
//! serves the site's hospital, stands down, and again, as the database
//! decides. A node runs one member per configured site, each with its own
//! store (the site's schema), lease keeper, hub and bus subjects.
//!
//! Spreading: members of one node claim one at a time, and a node that
//! already owns `k` sites lets a site it could claim stay free for
//! `k` × [`SPREAD_PER_SITE`] first, so that a node that owns fewer (one
//! that owns none claims on its next round) gets it, and sites spread
//! over the nodes at start and at every takeover. With NATS, `balance`
//! also hands a site over while the nodes run (`Member::hand_over`).

use super::{bus, db_time, forward, front, keeper, tunnel, Prepare, Status};
use crate::metrics::Metrics;
use crate::store::postgres::{Claimed, Lease, PgStore};
use crate::store::Store;
use crate::{config::Config, Clock};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::{error, info, warn};

/// How often a standby tries to claim.
pub(super) const CLAIM_EVERY: Duration = Duration::from_secs(1);
/// A claim attempt that takes longer (an unreachable database) is given up
/// until the next round.
const CLAIM_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a free site waits, per site this node owns already, before
/// this node claims it: two rounds of [`CLAIM_EVERY`], so that a node
/// owning fewer has surely tried first.
pub(super) const SPREAD_PER_SITE: Duration = Duration::from_secs(2);

/// What the members of one node share: how many sites it owns, and the
/// turn to claim (one member at a time, so that two of its members do
/// not both claim as if the node owned nothing).
#[derive(Default)]
pub(super) struct Spread {
    pub owned: AtomicUsize,
    turn: tokio::sync::Mutex<()>,
}

/// One site as served by this node.
pub(super) struct Member {
    pub site: String,
    pub store: Arc<PgStore>,
    pub status: Arc<Status>,
    pub front: Arc<front::Front>,
    pub metrics: Arc<Metrics>,
    pub bus: Option<Arc<bus::Bus>>,
    /// The node's thread for leases, shared by its members (`keeper`).
    pub lease_thread: keeper::LeaseThread,
    /// Wakes the site's hub, if this node owns it, to hand it over
    /// (`balance`); nothing while it does not.
    pub hand_over: tokio::sync::Notify,
}

/// Runs `member` until the node stops: standing by, owning and serving,
/// standing by again.
pub(super) async fn run(
    member: Arc<Member>,
    config: Arc<Config>,
    prepare: Arc<Prepare>,
    spread: Arc<Spread>,
    mut stopping: watch::Receiver<bool>,
) {
    loop {
        member.front.stand_by();
        let lease = tokio::select! {
            l = wait_for_claim(&member, &config, &spread) => l,
            _ = stopping.wait_for(|s| *s) => break,
        };
        // Taken at once only while the node owns no other site: an owned
        // site's scheduled deadlines would move with a step.
        let alone = spread.owned.load(Ordering::Acquire) <= 1;
        db_time::follow_database(&member.status, lease.clock_offset_ms(), alone);
        let stop = own(&member, &config, &prepare, lease, &stopping).await;
        spread.owned.fetch_sub(1, Ordering::AcqRel);
        if stop {
            break;
        }
        // Not at once: a node that stood down because its store
        // failed would otherwise claim and fail again in a loop.
        tokio::select! {
            _ = tokio::time::sleep(CLAIM_EVERY) => {}
            _ = stopping.wait_for(|s| *s) => break,
        }
    }
    // The site's tunnels close with the standing-down reason.
    if let Some(bus) = &member.bus {
        bus.stop().await;
    }
}

/// Tries to claim every [`CLAIM_EVERY`], and at once when a tunnel open
/// finds the owner gone (`Bus::owner_unreachable`), until it has (leaving
/// a free site to nodes that own fewer for a while: see the module's doc).
async fn wait_for_claim(member: &Member, config: &Config, spread: &Spread) -> Lease {
    let (store, status) = (&member.store, &member.status);
    let node = &config.cluster.node;
    let ttl_ms = i64::try_from(config.cluster.lease_ttl_ms).unwrap_or(15_000);
    let mut every = tokio::time::interval(CLAIM_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut free_since: Option<Instant> = None;
    loop {
        match &member.bus {
            // At once when the owner is seen gone on the bus, not only
            // at the next round.
            Some(bus) => tokio::select! {
                _ = every.tick() => {}
                _ = bus.owner_gone.notified() => {}
            },
            None => {
                every.tick().await;
            }
        }
        let _turn = spread.turn.lock().await;
        let owned = spread.owned.load(Ordering::Acquire);
        if owned > 0 {
            let wait = SPREAD_PER_SITE * u32::try_from(owned).unwrap_or(u32::MAX);
            match leave_to_others(store, &mut free_since, wait).await {
                Ok(None) => {}
                Ok(Some(why)) => {
                    status.set(|s| {
                        s.owns = false;
                        s.owner = why.0;
                        s.reason = why.1;
                    });
                    continue;
                }
                Err(e) => {
                    status.set(|s| s.reason = format!("cannot claim: {e}"));
                    continue;
                }
            }
        }
        let claim = member
            .lease_thread
            .claim(store, node, ttl_ms, CLAIM_TIMEOUT);
        let why = match claim.await {
            Some(Ok(Claimed::Got(lease))) => {
                spread.owned.fetch_add(1, Ordering::AcqRel);
                return lease;
            }
            Some(Ok(Claimed::Held(row))) => {
                let alone = spread.owned.load(Ordering::Acquire) == 0;
                db_time::follow_database(status, row.clock_offset_ms, alone);
                let reason = if row.owned() {
                    "another node owns the site".to_owned()
                } else {
                    "the owner's lease has lapsed: taking over".to_owned()
                };
                (row.holder, reason)
            }
            Some(Err(e)) => (None, format!("cannot claim: {e}")),
            None => (
                None,
                "cannot claim: the database does not answer".to_owned(),
            ),
        };
        status.set(|s| {
            s.owns = false;
            s.owner = why.0;
            s.reason = why.1;
        });
    }
}

/// For a node that owns sites already: `None` once the site has been
/// free (no owner, or its lease lapsed) for `wait`; else the owner and
/// why this node does not claim yet.
async fn leave_to_others(
    store: &PgStore,
    free_since: &mut Option<Instant>,
    wait: Duration,
) -> anyhow::Result<Option<(Option<String>, String)>> {
    let row = tokio::time::timeout(CLAIM_TIMEOUT, store.lease_row()).await??;
    if row.owned() {
        *free_since = None;
        return Ok(Some((row.holder, "another node owns the site".to_owned())));
    }
    let since = *free_since.get_or_insert_with(Instant::now);
    if since.elapsed() >= wait {
        return Ok(None);
    }
    Ok(Some((
        row.holder,
        "the site is free: leaving it to a node that owns fewer sites for now".to_owned(),
    )))
}

/// Owns the site from a claim until this node stops serving it: loads the
/// hospital, serves it, and winds it down. Whether the node is to stop.
async fn own(
    member: &Member,
    config: &Config,
    prepare: &Prepare,
    lease: Lease,
    stopping: &watch::Receiver<bool>,
) -> bool {
    let Member {
        store,
        front,
        metrics,
        bus,
        ..
    } = member;
    let epoch = lease.epoch();
    metrics.cluster_takeovers.inc();
    metrics.cluster_epoch.set(epoch);
    info!(epoch, "took ownership: loading the hospital");
    // Renewals start now: loading must not let the lease lapse.
    let keeper = keeper::Keeper::start(lease, config.cluster.ttl(), &member.lease_thread);
    let dyn_store: Arc<dyn Store> = store.clone();
    let started = async {
        // The commit connection may be one the database ended (it
        // restarted while this node stood by, or since its last claim).
        store.check_writer().await?;
        prepare(dyn_store.clone()).await?;
        crate::start_hub(config.clone(), dyn_store, Clock::Hub, metrics.clone()).await
    };
    let started = tokio::select! {
        s = started => s,
        why = keeper.lost() => Err(anyhow::anyhow!("lost the lease while loading: {why}")),
    };
    let started = match started {
        Ok(s) => s,
        Err(e) => {
            error!(error = %e, "could not take over: standing by");
            keeper.finish().await;
            return *stopping.borrow();
        }
    };
    let app = crate::http::router(started.hub.clone());
    // On the bus: the answers to what the other nodes forward, and then
    // (once NATS has both subscriptions, so that no node hears of this
    // owner before it listens) the heartbeat that tells them who owns.
    let on_bus: Vec<tokio::task::JoinHandle<()>> = match bus {
        Some(bus) => {
            let forwarded = forward::serve(bus.clone(), app.clone()).await;
            let tunnels = tunnel::accept(bus.clone(), started.hub.clone(), epoch).await;
            bus.settle().await;
            vec![forwarded, tunnels, bus.beat_owner(epoch)]
        }
        None => Vec::new(),
    };
    front.serve(app, epoch);
    metrics.cluster_owner.set(1);
    info!(epoch, "serving");
    let mut stopping = stopping.clone();
    let stop = tokio::select! {
        why = keeper.lost() => {
            warn!(reason = why, "standing down");
            // A commit still in flight cannot be counted on now (it may
            // hang on the connection that cost the lease): its devices
            // are told at once that it is unconfirmed, and closed.
            store.abandon_commit();
            false
        }
        _ = started.writer_stopped.notified() => {
            warn!("the writer stopped (a commit was refused, or the store failed): standing down");
            false
        }
        _ = member.hand_over.notified() => {
            info!("handing the site over to a node that owns fewer");
            false
        }
        _ = stopping.wait_for(|s| *s) => true,
    };
    // New requests get the standby answers from here on; sockets close
    // with the standing-down reason and reconnect to whoever serves next.
    front.stand_by();
    // No more heartbeats, forwarded requests or new tunnels; open tunnels
    // close with the hub's goodbye below.
    for task in on_bus {
        task.abort();
    }
    metrics.cluster_owner.set(0);
    started
        .hub
        .standing_down
        .store(true, std::sync::atomic::Ordering::Release);
    if let Err(e) = started.stop().await {
        warn!(error = %e, "the hub stopped with an error");
    }
    // After the last commit: the next owner loads it.
    keeper.finish().await;
    stop
}

//! Opening a tunnel (`tunnel.rs`) on the device's node, before the
//! device's WebSocket upgrade is answered: so that a device that arrives
//! while the site has no owner it can reach (the owner was just killed,
//! and a standby is taking over) is held and then served by the next
//! owner, instead of being answered and closed at once and coming back
//! after a backoff, with every other device of the hospital doing the
//! same.
//!
//! The owner's NATS connection ends with its process, so a tunnel open
//! sent to it meets "no responders" at once, 1.5 s before its heartbeat
//! would go stale: the node then forgets that owner and wakes its own
//! claim (`Bus::owner_unreachable`).

use super::bus::{Bus, OwnerBeat};
use super::tunnel::{down, Open};
use crate::metrics::KindLabels;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tracing::debug;

/// How long a `/ws` upgrade waits for an owner that accepts its tunnel,
/// before it is answered 503 (the standby answer): longer than a
/// takeover takes when nothing else is wrong (1-4 s at 25,000 handhelds).
pub const HOLD: Duration = Duration::from_secs(5);
/// How long the owner has to accept a tunnel.
const OPEN_TIMEOUT: Duration = Duration::from_secs(2);

/// A tunnel the owner accepted, not yet joined to the device's socket.
pub struct Opened {
    pub id: String,
    pub owner: OwnerBeat,
    pub downs: async_nats::Subscriber,
}

/// What a held upgrade came to.
pub enum Held {
    /// The owner accepted a tunnel.
    Opened(Opened),
    /// This node has become the owner meanwhile: its own routes serve.
    OwnedHere,
    /// No owner accepted within [`HOLD`], or this node is cut off from
    /// NATS.
    NoOwner,
}

/// A tunnel to the site's owner, trying each owner heard within [`HOLD`]
/// until one accepts (one that refuses, or has nobody listening, only
/// once).
pub async fn open_held(bus: &Arc<Bus>) -> Held {
    let deadline = Instant::now() + HOLD;
    let mut live = bus.watch_owner();
    let mut tried: Option<(String, i64)> = None;
    loop {
        live.borrow_and_update();
        if !bus.connected() || Instant::now() >= deadline {
            return Held::NoOwner;
        }
        if let Some(owner) = bus.owner() {
            if owner.node == bus.node {
                return Held::OwnedHere;
            }
            let this = (owner.node.clone(), owner.epoch);
            if tried.as_ref() != Some(&this) {
                let id = uuid::Uuid::new_v4().simple().to_string();
                match open(bus, &id, &owner).await {
                    Ok(downs) => return Held::Opened(Opened { id, owner, downs }),
                    Err(e) => {
                        debug!(error = %e, owner = %owner.node, epoch = owner.epoch,
                            "the owner did not accept a tunnel: waiting for the next");
                        if nobody_answers(&e) {
                            bus.owner_unreachable(owner.epoch);
                        }
                        // A busy owner (a crowd of opens after a takeover)
                        // is asked again while the hold lasts; one that
                        // refused is not, until another is heard.
                        if !timed_out(&e) {
                            tried = Some(this);
                        }
                    }
                }
                continue;
            }
        }
        // Until the owner heard changes (a new one, or this one lost);
        // not past the node's own stop.
        let changed = tokio::select! {
            c = tokio::time::timeout_at(deadline, live.changed()) => matches!(c, Ok(Ok(()))),
            _ = bus.stopped() => false,
        };
        if !changed {
            return Held::NoOwner;
        }
    }
}

/// Whether NATS said nobody listens on the owner's tunnel subject.
fn nobody_answers(e: &anyhow::Error) -> bool {
    e.downcast_ref::<async_nats::RequestError>()
        .is_some_and(|r| r.kind() == async_nats::RequestErrorKind::NoResponders)
}

/// Whether the owner did not answer within [`OPEN_TIMEOUT`].
fn timed_out(e: &anyhow::Error) -> bool {
    e.downcast_ref::<async_nats::RequestError>()
        .is_some_and(|r| r.kind() == async_nats::RequestErrorKind::TimedOut)
}

/// Asks `owner` to accept tunnel `id`: subscribes its down subject
/// first, so that nothing the owner sends is missed.
async fn open(bus: &Bus, id: &str, owner: &OwnerBeat) -> anyhow::Result<async_nats::Subscriber> {
    let downs = bus.client.subscribe(down(bus, id)).await?;
    let req = Open {
        id: id.to_owned(),
        node: bus.node.clone(),
        epoch: owner.epoch,
    };
    let request = async_nats::Request::new()
        .payload(serde_json::to_vec(&req)?.into())
        .timeout(Some(OPEN_TIMEOUT));
    let answer = bus
        .client
        .send_request(bus.subject("tunnel"), request)
        .await?;
    if answer.payload.as_ref() != b"ok" {
        anyhow::bail!("refused: {}", String::from_utf8_lossy(&answer.payload));
    }
    bus.metrics
        .cluster_forwarded
        .get_or_create(&KindLabels { kind: "tunnel" })
        .inc();
    Ok(downs)
}

//! Live connections by member of staff. The writer pushes committed events
//! into each connection's bounded queue without ever waiting; a full queue
//! kicks that connection (it resumes from the store). Entries leave the
//! registry when their [`Registration`] is dropped, so a connection that
//! ends by any path, panic included, leaves no ghost.

use std::collections::BTreeSet;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, Notify};
use wardpage_proto::{Millis, StaffId};

/// Frames queued per connection before it counts as a slow consumer.
pub const OUTBOUND_QUEUE: usize = 1024;

/// Something queued for a connection.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// A numbered event; its body is serialised once for all recipients.
    Event {
        seq: u64,
        at: Millis,
        body: Arc<str>,
    },
    /// An unnumbered frame (presence), sent as is.
    Frame(Arc<str>),
}

/// The `event` frame for one recipient.
pub fn event_frame(seq: u64, at: Millis, body: &str) -> String {
    format!(r#"{{"type":"event","seq":{seq},"at":{at},"event":{body}}}"#)
}

/// Why the hub is closing a connection from outside its task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kick {
    pub code: u16,
    pub reason: &'static str,
}

/// The registry's handle on one connection.
pub struct ConnEntry {
    pub id: u64,
    pub staff: StaffId,
    pub session: String,
    tx: mpsc::Sender<Outbound>,
    kick: Mutex<Option<Kick>>,
    kicked: Notify,
}

impl ConnEntry {
    pub fn kick(&self, k: Kick) {
        if let Ok(mut slot) = self.kick.lock() {
            slot.get_or_insert(k);
        }
        self.kicked.notify_one();
    }

    /// Waits until the connection is kicked, and says why.
    pub async fn kicked(&self) -> Kick {
        loop {
            self.kicked.notified().await;
            if let Some(k) = self.kick.lock().ok().and_then(|s| *s) {
                return k;
            }
        }
    }
}

#[derive(Default)]
pub struct Registry {
    conns: Mutex<HashMap<StaffId, Vec<Arc<ConnEntry>>>>,
    next_id: AtomicU64,
}

/// A connection's place in the registry; dropping it removes the entry.
pub struct Registration {
    registry: Arc<Registry>,
    pub entry: Arc<ConnEntry>,
    pub rx: mpsc::Receiver<Outbound>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut map) = self.registry.conns.lock() {
            if let Some(list) = map.get_mut(&self.entry.staff) {
                list.retain(|c| c.id != self.entry.id);
                if list.is_empty() {
                    map.remove(&self.entry.staff);
                }
            }
        }
    }
}

impl Registry {
    pub fn register(self: &Arc<Self>, staff: StaffId, session: String) -> Registration {
        let (tx, rx) = mpsc::channel(OUTBOUND_QUEUE);
        let entry = Arc::new(ConnEntry {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            staff,
            session,
            tx,
            kick: Mutex::new(None),
            kicked: Notify::new(),
        });
        if let Ok(mut map) = self.conns.lock() {
            map.entry(staff).or_default().push(entry.clone());
        }
        Registration {
            registry: self.clone(),
            entry,
            rx,
        }
    }

    /// Queues one event to every live connection of each recipient. Never
    /// waits; returns how many frames were queued.
    pub fn publish(&self, at: Millis, body: &Arc<str>, recipients: &[(StaffId, u64)]) -> u64 {
        let Ok(map) = self.conns.lock() else {
            return 0;
        };
        let mut queued = 0;
        for (staff, seq) in recipients {
            for conn in map.get(staff).into_iter().flatten() {
                let out = Outbound::Event {
                    seq: *seq,
                    at,
                    body: body.clone(),
                };
                match conn.tx.try_send(out) {
                    Ok(()) => queued += 1,
                    Err(mpsc::error::TrySendError::Full(_)) => conn.kick(Kick {
                        code: 1013,
                        reason: "slow consumer: resume from your cursor",
                    }),
                    Err(mpsc::error::TrySendError::Closed(_)) => {}
                }
            }
        }
        queued
    }

    /// Queues an unnumbered frame to every connection of these staff; a
    /// full queue just misses it (it is a hint, and the queue's owner is
    /// about to be kicked for the events it cannot take anyway).
    pub fn send_frame(&self, staff: &[StaffId], frame: &Arc<str>) {
        let Ok(map) = self.conns.lock() else {
            return;
        };
        for conn in staff.iter().filter_map(|s| map.get(s)).flatten() {
            let _ = conn.tx.try_send(Outbound::Frame(frame.clone()));
        }
    }

    /// How many connections this member of staff has open.
    pub fn count(&self, staff: StaffId) -> usize {
        self.conns
            .lock()
            .map(|m| m.get(&staff).map_or(0, Vec::len))
            .unwrap_or(0)
    }

    /// Closes every connection of these members of staff, so that each
    /// resumes from its cursor (after a commit that failed: it may have
    /// landed, and then its events are in the store but were never sent).
    pub fn kick_staff(&self, staff: &BTreeSet<StaffId>, k: Kick) {
        if let Ok(map) = self.conns.lock() {
            staff
                .iter()
                .filter_map(|s| map.get(s))
                .flatten()
                .for_each(|c| c.kick(k));
        }
    }

    /// Closes every connection opened with this session (logout).
    pub fn kick_session(&self, session: &str, k: Kick) {
        if let Ok(map) = self.conns.lock() {
            map.values()
                .flatten()
                .filter(|c| c.session == session)
                .for_each(|c| c.kick(k));
        }
    }

    /// Who is connected now, for the directory and metrics.
    pub fn connected(&self) -> Vec<StaffId> {
        self.conns
            .lock()
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default()
    }
}

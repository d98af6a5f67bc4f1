//! Connection caps (overall and per source address), the open-file limit,
//! the per-user command rate, and which address a request comes from.
//!
//! A connection is counted from accept until its socket is dropped, which
//! for a WebSocket is long after the HTTP exchange that opened it: the
//! count travels with the socket ([`Counted`]), not with a task.

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use wardpage_proto::StaffId;

/// File descriptors kept back from connections for the database, the WAL,
/// the lock file and the listener.
const FD_RESERVE: u64 = 256;

/// Raises the soft open-file limit to the hard one (services commonly start
/// with 1,024, which a thousand half-open sockets use up) and returns the
/// number of connections the hub can hold: `wanted`, or fewer if the
/// limit is lower.
pub fn raise_open_files(wanted: u32) -> u32 {
    let before = rlimit::getrlimit(rlimit::Resource::NOFILE).ok();
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(now) => {
            let (soft, hard) = before.unwrap_or((now, now));
            if soft < now {
                tracing::info!(from = soft, to = now, hard, "raised the open-file limit");
            } else {
                tracing::info!(limit = now, hard, "open-file limit");
            }
            let room = now.saturating_sub(FD_RESERVE).max(1);
            let cap = u64::from(wanted).min(room) as u32;
            if cap < wanted {
                tracing::warn!(
                    max_connections = wanted,
                    effective = cap,
                    "the open-file limit holds fewer connections than limits.max_connections; raise the hard limit (LimitNOFILE=) for more"
                );
            }
            cap
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not raise the open-file limit");
            wanted
        }
    }
}

/// Open connections, overall and by source address.
pub struct ConnLimits {
    max_total: u32,
    max_per_source: u32,
    /// Trusted reverse proxies: every user behind one shares its address,
    /// so only the overall cap applies to them.
    proxies: Vec<IpAddr>,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: u32,
    by_source: HashMap<IpAddr, u32>,
}

/// Why a new connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    Total,
    Source,
}

impl Full {
    pub fn as_str(self) -> &'static str {
        match self {
            Full::Total => "connection cap",
            Full::Source => "per-source connection cap",
        }
    }
}

/// One counted connection; uncounts itself when dropped.
pub struct Slot {
    limits: Arc<ConnLimits>,
    source: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.limits.open.lock() {
            open.total = open.total.saturating_sub(1);
            if let Some(n) = open.by_source.get_mut(&self.source) {
                *n -= 1;
                if *n == 0 {
                    open.by_source.remove(&self.source);
                }
            }
        }
    }
}

impl ConnLimits {
    pub fn new(max_total: u32, max_per_source: u32, proxies: Vec<IpAddr>) -> Arc<ConnLimits> {
        Arc::new(ConnLimits {
            max_total: max_total.max(1),
            max_per_source: max_per_source.max(1),
            proxies,
            open: Mutex::new(Open::default()),
        })
    }

    /// Counts a new connection from `source`, or refuses it.
    pub fn admit(self: &Arc<Self>, source: IpAddr) -> Result<Slot, Full> {
        let mut open = self.open.lock().map_err(|_| Full::Total)?;
        if open.total >= self.max_total {
            return Err(Full::Total);
        }
        let n = open.by_source.entry(source).or_insert(0);
        if *n >= self.max_per_source && !self.proxies.contains(&source) {
            return Err(Full::Source);
        }
        *n += 1;
        open.total += 1;
        Ok(Slot {
            limits: self.clone(),
            source,
        })
    }
}

/// A socket that holds its connection's [`Slot`] for as long as it lives,
/// through an upgrade to WebSocket.
pub struct Counted<T> {
    io: T,
    _slot: Slot,
}

impl<T> Counted<T> {
    pub fn new(io: T, slot: Slot) -> Self {
        Counted { io, _slot: slot }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Counted<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Counted<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// Commands per member of staff, over all their sockets (GCRA).
pub struct CommandRate {
    limiter: DefaultKeyedRateLimiter<StaffId>,
}

impl CommandRate {
    pub fn new(per_sec: u32, burst: u32) -> CommandRate {
        let per_sec = NonZeroU32::new(per_sec).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(per_sec);
        CommandRate {
            limiter: RateLimiter::keyed(Quota::per_second(per_sec).allow_burst(burst)),
        }
    }

    /// Whether `staff` may send one more command now.
    pub fn allow(&self, staff: StaffId) -> bool {
        self.limiter.check_key(&staff).is_ok()
    }
}

/// The address a request comes from: the peer, or, when the peer is a
/// trusted reverse proxy, the nearest address in `X-Forwarded-For` that is
/// not one of the trusted proxies.
pub fn client_ip(peer: IpAddr, headers: &axum::http::HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|h| h.trim().parse().ok())
        .collect();
    hops.into_iter()
        .rev()
        .find(|h| !trusted.contains(h))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_count_per_source_and_release_on_drop() {
        let limits = ConnLimits::new(3, 2, Vec::new());
        let a: IpAddr = [127, 0, 0, 2].into();
        let b: IpAddr = [127, 0, 0, 3].into();
        let s1 = limits.admit(a).expect("first");
        let _s2 = limits.admit(a).expect("second");
        assert_eq!(limits.admit(a).err(), Some(Full::Source));
        let _s3 = limits.admit(b).expect("other source");
        assert_eq!(limits.admit(b).err(), Some(Full::Total));
        drop(s1);
        assert!(limits.admit(a).is_ok());
        let proxied = ConnLimits::new(3, 1, vec![a]);
        let _held: Vec<_> = (0..3).map(|_| proxied.admit(a).expect("proxy")).collect();
        assert_eq!(proxied.admit(b).err(), Some(Full::Total));
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let proxy: IpAddr = [10, 0, 0, 1].into();
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7".parse().expect("header"),
        );
        assert_eq!(client_ip(proxy, &h, &[]), proxy);
        assert_eq!(
            client_ip(proxy, &h, &[proxy]),
            "198.51.100.7".parse::<IpAddr>().expect("ip")
        );
        let other: IpAddr = [10, 0, 0, 2].into();
        assert_eq!(client_ip(other, &h, &[proxy]), other);
    }
}

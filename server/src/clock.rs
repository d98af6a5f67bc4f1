//! Wall-clock time in protocol units. The only place the hub reads the clock
//! for timestamps; the domain is handed `now` instead.

use wardpage_proto::Millis;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

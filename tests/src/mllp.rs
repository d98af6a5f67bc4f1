//! A PAS's side of an HL7 v2 ADT feed for tests: ADT messages as a
//! patient administration system writes them, sent over MLLP (framed
//! `0x0B` ... `0x1C 0x0D`), and the ACK's MSA read back.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An ADT message (`event`: `A01` ...) with control id `control`, for the
/// patient with NHS number `nhs` at `location` (`ward^room^bed`, the
/// PAS's ward code). Segments end in CR.
pub fn adt(event: &str, control: &str, nhs: &str, location: &str) -> String {
    [
        format!(
            "MSH|^~\\&|PAS|RXH|WARDPAGE|RXH|20261202013000||ADT^{event}^ADT_A01|{control}|P|2.4"
        ),
        format!("EVN|{event}|20261202013000"),
        format!("PID|1||{nhs}^^^NHS^NH~RX123456^^^RXH^MR||Dummyworth^Harper^J||19480314|F"),
        format!("PV1|1|I|{location}|||||||MED"),
    ]
    .join("\r")
        + "\r"
}

/// Sends one framed message on `feed` and reads the framed answer.
pub async fn send(feed: &mut TcpStream, message: &str) -> anyhow::Result<String> {
    let mut framed = vec![0x0b];
    framed.extend_from_slice(message.as_bytes());
    framed.extend_from_slice(&[0x1c, 0x0d]);
    feed.write_all(&framed).await?;
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(&[0x1c, 0x0d]) {
        anyhow::ensure!(feed.read(&mut byte).await? == 1, "the feed closed");
        answer.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&answer[1..answer.len() - 2]).into_owned())
}

/// MSA-1 (`AA`, `AE`, `AR`) and MSA-3 (what was done, or why not) of an ACK.
pub fn msa(ack: &str) -> (String, String) {
    let msa = ack
        .split('\r')
        .find(|s| s.starts_with("MSA|"))
        .unwrap_or_default();
    let f: Vec<&str> = msa.split('|').collect();
    (
        f.get(1).copied().unwrap_or_default().to_owned(),
        f.get(3).copied().unwrap_or_default().to_owned(),
    )
}

/// A loopback address no one listens on now (for a listener to come).
pub fn free_addr() -> anyhow::Result<std::net::SocketAddr> {
    let free = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(free.local_addr()?)
}

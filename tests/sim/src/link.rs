//! A lean protocol v1 connection for the scale scenarios, where the shared
//! [`wardpage_tests::Client`] does not fit: it binds a chosen source address
//! (127.0.0.N) so tens of thousands of sockets never run out of ephemeral
//! ports, uses small WebSocket buffers so 19,000 of them fit in one process,
//! and parses only the fields the simulator needs. It keeps the client's
//! rules: de-duplication by `seq`, gap detection, cumulative acks.

use anyhow::{bail, Context};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use wardpage_proto::{CommandId, PatientId, StaffId, TaskId};

pub type Ws = WebSocketStream<TcpStream>;

/// The `n`th loopback source address, 127.0.0.2 to 127.0.0.251: each has
/// its own 28,000 ephemeral ports towards the hub.
pub fn source_ip(n: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (n % 250) as u8))
}

/// Buffers sized for many small frames rather than the library's 128 KiB
/// defaults, which would cost gigabytes at 19,000 connections.
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(Some(64 << 20))
}

/// Opens the TCP connection from `src` (if given) and upgrades it.
pub async fn open(addr: SocketAddr, src: Option<IpAddr>) -> anyhow::Result<Ws> {
    open_at(addr, src, "/ws").await
}

/// As [`open`], at `path` (a site's `/site/<name>/ws`).
pub async fn open_at(addr: SocketAddr, src: Option<IpAddr>, path: &str) -> anyhow::Result<Ws> {
    let sock = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(ip) = src {
        sock.bind(SocketAddr::new(ip, 0))?;
    }
    sock.set_nodelay(true)?;
    let tcp = tokio::time::timeout(Duration::from_secs(20), sock.connect(addr))
        .await
        .context("TCP connect timed out")??;
    let url = format!("ws://{addr}{path}");
    let (ws, _) = tokio::time::timeout(
        Duration::from_secs(20),
        tokio_tungstenite::client_async_with_config(url, tcp, Some(ws_config())),
    )
    .await
    .context("WebSocket upgrade timed out")??;
    Ok(ws)
}

/// The few fields of a server frame the simulator reads. Everything else
/// is skipped by serde without building it.
#[derive(Deserialize)]
struct RawFrame<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    seq: Option<u64>,
    id: Option<CommandId>,
    #[serde(borrow)]
    event: Option<RawEvent<'a>>,
    #[serde(borrow)]
    result: Option<RawResult<'a>>,
    #[serde(borrow)]
    code: Option<Cow<'a, str>>,
    cursor: Option<u64>,
    resync: Option<bool>,
    me: Option<RawMe>,
}

#[derive(Deserialize)]
struct RawEvent<'a> {
    #[serde(borrow)]
    change: Option<Cow<'a, str>>,
    #[serde(borrow)]
    task: Option<RawTask<'a>>,
}

#[derive(Deserialize)]
struct RawResult<'a> {
    #[serde(borrow)]
    task: Option<RawTask<'a>>,
    /// `record_observations`: the review raised or updated.
    #[serde(borrow)]
    review: Option<RawTask<'a>>,
}

#[derive(Deserialize)]
struct RawTask<'a> {
    id: TaskId,
    #[serde(borrow)]
    patient: Cow<'a, str>,
    #[serde(default)]
    offers: Vec<RawOffer>,
    #[serde(default)]
    patient_ref: Option<RawPatientRef>,
    #[serde(default)]
    review: Option<RawReview>,
}

#[derive(Deserialize)]
struct RawPatientRef {
    id: PatientId,
}

#[derive(Deserialize)]
struct RawReview {
    total: Option<u8>,
}

#[derive(Deserialize)]
struct RawOffer {
    staff: RawMe,
}

#[derive(Deserialize)]
struct RawMe {
    id: StaffId,
}

/// What a frame meant to the simulator.
#[derive(Debug)]
pub enum Incoming {
    /// A new event (duplicates are counted, not returned).
    Event {
        seq: u64,
        change: String,
        task: Option<TaskId>,
        patient: String,
        bytes: usize,
        /// A review task's patient and the total that last changed it.
        review: Option<(Option<PatientId>, Option<u8>)>,
    },
    /// An `ok` for a command, with the task and its candidates if any, or
    /// the review task a set raised or updated.
    Ok {
        id: CommandId,
        task: Option<(TaskId, Vec<StaffId>)>,
        review: Option<TaskId>,
    },
    /// An `error` naming a command.
    Refused { id: CommandId, code: String },
    /// Anything else (pong, protocol error).
    Other,
}

/// Stream bookkeeping shared by every lean connection.
#[derive(Debug, Default, Clone)]
pub struct StreamState {
    pub cursor: u64,
    pub duplicates: u64,
    pub gaps: u64,
}

impl StreamState {
    /// Files one text frame: de-duplicates by seq, notes gaps.
    pub fn file(&mut self, text: &str) -> anyhow::Result<Incoming> {
        let f: RawFrame = serde_json::from_str(text)
            .with_context(|| format!("unreadable frame: {:.200}", text))?;
        Ok(match f.ty.as_ref() {
            "event" => {
                let seq = f.seq.context("event without seq")?;
                if seq <= self.cursor {
                    self.duplicates += 1;
                    return Ok(Incoming::Other);
                }
                if seq != self.cursor + 1 {
                    self.gaps += 1;
                }
                self.cursor = seq;
                let (change, task, patient, review) = match f.event {
                    Some(e) => (
                        e.change.map(|c| c.into_owned()).unwrap_or_default(),
                        e.task.as_ref().map(|t| t.id),
                        e.task
                            .as_ref()
                            .map(|t| t.patient.clone().into_owned())
                            .unwrap_or_default(),
                        e.task
                            .and_then(|t| t.review.map(|r| (t.patient_ref.map(|p| p.id), r.total))),
                    ),
                    None => (String::new(), None, String::new(), None),
                };
                Incoming::Event {
                    seq,
                    change,
                    task,
                    patient,
                    bytes: text.len(),
                    review,
                }
            }
            "ok" => {
                let (task, review) = match f.result {
                    Some(r) => (r.task, r.review.map(|t| t.id)),
                    None => (None, None),
                };
                Incoming::Ok {
                    id: f.id.context("ok without id")?,
                    task: task.map(|t| (t.id, t.offers.into_iter().map(|o| o.staff.id).collect())),
                    review,
                }
            }
            "error" => match f.id {
                Some(id) => Incoming::Refused {
                    id,
                    code: f.code.map(|c| c.into_owned()).unwrap_or_default(),
                },
                None => Incoming::Other,
            },
            _ => Incoming::Other,
        })
    }
}

/// What a `welcome` said.
#[derive(Debug, Clone, Copy)]
pub struct Welcome {
    pub me: StaffId,
    /// The top of the user's stream when welcomed.
    pub top: u64,
    pub resync: bool,
}

/// A hello refused because the hub is busy (`unavailable`, then close
/// 1013 "try again later"): the caller waits longer before the next try.
#[derive(Debug, thiserror::Error)]
#[error("the hub is busy: try again later")]
pub struct Busy;

/// Says hello with `token` from `cursor` and waits for the welcome.
pub async fn hello(ws: &mut Ws, token: &str, cursor: u64) -> anyhow::Result<Welcome> {
    let hello = format!(r#"{{"type":"hello","version":1,"token":"{token}","cursor":{cursor}}}"#);
    ws.send(Message::Text(hello.into())).await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .context("no welcome in 30 s")?;
        match msg {
            None => bail!("closed before welcome"),
            Some(Err(e)) => bail!("socket error before welcome: {e}"),
            Some(Ok(Message::Text(t))) => {
                let f: RawFrame = serde_json::from_str(t.as_str()).context("unreadable welcome")?;
                if f.ty == "error" && f.code.as_deref() == Some("unavailable") {
                    return Err(Busy.into());
                }
                if f.ty == "welcome" {
                    return Ok(Welcome {
                        me: f.me.context("welcome without me")?.id,
                        top: f.cursor.unwrap_or(0),
                        resync: f.resync.unwrap_or(false),
                    });
                }
                bail!("expected welcome, got {}", t.as_str());
            }
            Some(Ok(Message::Close(c))) => bail!("closed before welcome: {c:?}"),
            Some(Ok(_)) => {}
        }
    }
}

/// Opens a socket from `src` and says hello.
pub async fn connect(
    addr: SocketAddr,
    src: Option<IpAddr>,
    token: &str,
    cursor: u64,
) -> anyhow::Result<(Ws, Welcome)> {
    connect_at(addr, src, "/ws", token, cursor).await
}

/// As [`connect`], at `path` (a site's `/site/<name>/ws`).
pub async fn connect_at(
    addr: SocketAddr,
    src: Option<IpAddr>,
    path: &str,
    token: &str,
    cursor: u64,
) -> anyhow::Result<(Ws, Welcome)> {
    let mut ws = open_at(addr, src, path).await?;
    let w = hello(&mut ws, token, cursor).await?;
    Ok((ws, w))
}

/// A raise frame for the load scenarios: a cannula on `ward`, with the
/// send time (microseconds since the run's epoch) in the patient field so
/// the candidate can compute delivery latency without a shared table.
pub fn raise_frame(id: CommandId, ward: &str, sent_us: u64) -> String {
    format!(
        concat!(
            r#"{{"type":"cmd","id":"{id}","cmd":{{"op":"raise_task","ward":"{ward}","bed":"12","patient":"t{sent}","#,
            r#""category":"cannula","priority":"urgent","requirement":{{"skill":"cannulation"}},"#,
            r#""sbar":{{"situation":"Tissued cannula, IV antibiotics due 02:00","background":"Day 2 IV co-amoxiclav for CAP","#,
            r#""assessment":"Obs stable, NEWS 2","recommendation":"Re-site cannula before 02:00"}}}}}}"#
        ),
        id = id,
        ward = ward,
        sent = sent_us
    )
}

/// The send time encoded by [`raise_frame`].
pub fn sent_us_of(patient: &str) -> Option<u64> {
    patient.strip_prefix('t').and_then(|s| s.parse().ok())
}

pub fn ack_frame(seq: u64) -> String {
    format!(r#"{{"type":"ack","seq":{seq}}}"#)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raise_frames_are_valid_protocol() {
        let id = CommandId::new_random();
        let text = raise_frame(id, "p3", 123_456);
        let f = wardpage_proto::ClientFrame::parse(&text).expect("valid frame");
        match f {
            wardpage_proto::ClientFrame::Cmd { id: got, cmd, .. } => {
                assert_eq!(got, id);
                assert_eq!(cmd.op(), "raise_task");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(sent_us_of("t123456"), Some(123_456));
    }

    #[test]
    fn the_stream_state_drops_duplicates_and_counts_gaps() {
        let mut s = StreamState::default();
        let ev = |seq: u64| {
            format!(
                r#"{{"type":"event","seq":{seq},"at":1,"event":{{"kind":"shift","staff":{{"id":"7b1c2a3e-0000-4000-8000-000000000001","name":"A"}},"shift":null,"by":null}}}}"#
            )
        };
        assert!(matches!(
            s.file(&ev(1)).expect("ok"),
            Incoming::Event { seq: 1, .. }
        ));
        assert!(matches!(s.file(&ev(1)).expect("ok"), Incoming::Other));
        assert_eq!(s.duplicates, 1);
        assert!(matches!(
            s.file(&ev(3)).expect("ok"),
            Incoming::Event { seq: 3, .. }
        ));
        assert_eq!(s.gaps, 1);
    }
}

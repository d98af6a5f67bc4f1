//! A protocol v1 client: login over HTTP, hello/welcome, commands that wait
//! for their own reply, and an event stream de-duplicated by `seq`.

use anyhow::{anyhow, bail, Context};
use futures_util::{SinkExt, StreamExt};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use wardpage_proto::{
    ClientFrame, Command, CommandId, CommandResult, ErrorCode, Event, PageView, ServerFrame,
    StaffView, TaskView, PROTOCOL_VERSION,
};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A command the hub refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
}

/// A whole snapshot, read part by part ([`Client::snapshot_all`]).
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    pub cursor: u64,
    pub tasks: Vec<TaskView>,
    pub pages: Vec<PageView>,
    /// How many parts it came in.
    pub parts: usize,
}

/// How long helpers wait for a frame before calling it lost.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct Client {
    ws: Ws,
    pub base: String,
    pub token: String,
    pub me: StaffView,
    /// The welcome frame's fields.
    pub welcome_cursor: u64,
    pub resync: bool,
    /// The hub's time when it welcomed this connection.
    pub server_time: wardpage_proto::Millis,
    /// Highest `seq` processed; events at or below it are duplicates.
    pub cursor: u64,
    /// Events received but not yet taken by [`Client::next_event`].
    events: VecDeque<(u64, Event)>,
    replies: HashMap<CommandId, VecDeque<ServerFrame>>,
    /// Events that arrived twice (allowed on the wire, never shown twice).
    pub duplicates: u64,
    /// Error frames without a command id (protocol errors).
    pub errors: VecDeque<(ErrorCode, String)>,
    /// Presence frames (coordinators only): (staff, connected).
    pub presence: VecDeque<(wardpage_proto::StaffId, bool)>,
}

/// Logs in and returns the token.
pub async fn login(base: &str, username: &str, password: &str) -> anyhow::Result<String> {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({ "username": username, "password": password }))
        .send()
        .await?;
    if !res.status().is_success() {
        bail!("login {username}: HTTP {}", res.status());
    }
    let body: serde_json::Value = res.json().await?;
    body["token"]
        .as_str()
        .map(String::from)
        .context("login answer has no token")
}

/// Opens a raw WebSocket to the hub, optionally with an Origin header.
pub async fn open_socket(base: &str, origin: Option<&str>) -> anyhow::Result<Ws> {
    let url = format!("{}/ws", base.replacen("http", "ws", 1));
    let mut req = url.into_client_request()?;
    if let Some(o) = origin {
        req.headers_mut()
            .insert("Origin", HeaderValue::from_str(o)?);
    }
    let (ws, _) = tokio_tungstenite::connect_async(req).await?;
    Ok(ws)
}

impl Client {
    /// Logs in as `username` (demo password) and connects from a fresh device.
    pub async fn login_connect(base: &str, username: &str) -> anyhow::Result<Client> {
        let token = login(base, username, crate::DEMO_PASSWORD).await?;
        Client::connect(base, &token, 0).await
    }

    /// Says hello with `token` and `cursor`; returns once welcomed.
    pub async fn connect(base: &str, token: &str, cursor: u64) -> anyhow::Result<Client> {
        Self::hello(base, token, cursor, None).await
    }

    /// Says hello as a device that wants no history (`fresh`).
    pub async fn connect_fresh(base: &str, token: &str) -> anyhow::Result<Client> {
        Self::hello(base, token, 0, Some(true)).await
    }

    async fn hello(
        base: &str,
        token: &str,
        cursor: u64,
        fresh: Option<bool>,
    ) -> anyhow::Result<Client> {
        let mut ws = open_socket(base, None).await?;
        let hello = ClientFrame::Hello {
            version: PROTOCOL_VERSION,
            token: token.to_owned(),
            cursor,
            fresh,
        };
        ws.send(Message::Text(serde_json::to_string(&hello)?.into()))
            .await?;
        let frame = tokio::time::timeout(WAIT, next_frame(&mut ws))
            .await
            .context("no welcome")??;
        match frame {
            ServerFrame::Welcome {
                me,
                cursor: top,
                resync,
                server_time,
                ..
            } => Ok(Client {
                server_time,
                ws,
                base: base.to_owned(),
                token: token.to_owned(),
                me,
                welcome_cursor: top,
                resync,
                cursor: if resync { top } else { cursor },
                events: VecDeque::new(),
                replies: HashMap::new(),
                duplicates: 0,
                errors: VecDeque::new(),
                presence: VecDeque::new(),
            }),
            ServerFrame::Error { code, message, .. } => {
                Err(anyhow!(CommandError { code, message }))
            }
            other => bail!("expected welcome, got {other:?}"),
        }
    }

    /// Reconnects with the same token from the current cursor.
    pub async fn reconnect(self) -> anyhow::Result<Client> {
        let (base, token, cursor, dups) = (
            self.base.clone(),
            self.token.clone(),
            self.cursor,
            self.duplicates,
        );
        drop(self);
        let mut c = Client::connect(&base, &token, cursor).await?;
        c.duplicates = dups;
        Ok(c)
    }

    pub fn id(&self) -> wardpage_proto::StaffId {
        self.me.id
    }

    /// Sends a command frame with a fresh id; does not wait.
    pub async fn send(&mut self, cmd: Command) -> anyhow::Result<CommandId> {
        let id = CommandId::new_random();
        self.send_with_id(id, cmd).await?;
        Ok(id)
    }

    pub async fn send_with_id(&mut self, id: CommandId, cmd: Command) -> anyhow::Result<()> {
        self.send_issued(id, cmd, None).await
    }

    /// Sends a command frame saying when the command was first made.
    pub async fn send_issued(
        &mut self,
        id: CommandId,
        cmd: Command,
        issued_at: Option<wardpage_proto::Millis>,
    ) -> anyhow::Result<()> {
        let frame = ClientFrame::Cmd { id, cmd, issued_at };
        self.send_text(serde_json::to_string(&frame)?).await
    }

    pub async fn send_text(&mut self, text: String) -> anyhow::Result<()> {
        self.ws.send(Message::Text(text.into())).await?;
        Ok(())
    }

    /// Sends `parts` as one text message, a frame each. Each frame can be
    /// within the hub's limits while the message is not: the hub then reads
    /// every byte sent before it refuses, so its close frame arrives
    /// rather than a reset for unread bytes (which one oversized frame,
    /// refused on its header, would bring about).
    pub async fn send_fragmented(&mut self, parts: &[&str]) -> anyhow::Result<()> {
        use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
        use tokio_tungstenite::tungstenite::protocol::frame::Frame;
        for (i, part) in parts.iter().enumerate() {
            let opcode = OpCode::Data(if i == 0 { Data::Text } else { Data::Continue });
            let last = i + 1 == parts.len();
            let frame = Frame::message(part.as_bytes().to_vec(), opcode, last);
            self.ws.feed(Message::Frame(frame)).await?;
        }
        self.ws.flush().await?;
        Ok(())
    }

    /// Waits for the reply to `id`, buffering events that come first.
    pub async fn reply(
        &mut self,
        id: CommandId,
    ) -> anyhow::Result<Result<CommandResult, CommandError>> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(frame) = self.replies.get_mut(&id).and_then(VecDeque::pop_front) {
                return Ok(match frame {
                    ServerFrame::Ok { result, .. } => Ok(result),
                    ServerFrame::Error { code, message, .. } => Err(CommandError { code, message }),
                    other => bail!("unexpected reply {other:?}"),
                });
            }
            tokio::time::timeout_at(deadline, self.pump())
                .await
                .with_context(|| format!("no reply to command {id}"))??;
        }
    }

    /// Sends `cmd` and waits for its reply.
    pub async fn command(
        &mut self,
        cmd: Command,
    ) -> anyhow::Result<Result<CommandResult, CommandError>> {
        let id = self.send(cmd).await?;
        self.reply(id).await
    }

    /// Sends `cmd` under a chosen id and waits for its reply.
    pub async fn command_with_id(
        &mut self,
        id: CommandId,
        cmd: Command,
    ) -> anyhow::Result<Result<CommandResult, CommandError>> {
        self.send_with_id(id, cmd).await?;
        self.reply(id).await
    }

    /// Like [`Client::command`] but a refusal is an error.
    pub async fn ok(&mut self, cmd: Command) -> anyhow::Result<CommandResult> {
        let op = cmd.op();
        self.command(cmd)
            .await?
            .map_err(|e| anyhow!("{op} refused: {e}"))
    }

    /// The next new event (duplicates skipped), or `None` after `within`.
    pub async fn next_event_within(
        &mut self,
        within: Duration,
    ) -> anyhow::Result<Option<(u64, Event)>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(e) = self.events.pop_front() {
                return Ok(Some(e));
            }
            match tokio::time::timeout_at(deadline, self.pump()).await {
                Err(_) => return Ok(None),
                Ok(r) => r?,
            }
        }
    }

    /// The next new event; an error if none arrives in time.
    pub async fn next_event(&mut self) -> anyhow::Result<(u64, Event)> {
        self.next_event_within(WAIT)
            .await?
            .context("no event arrived in time")
    }

    /// Takes events until one satisfies `pred`, returning it.
    pub async fn wait_for(
        &mut self,
        mut pred: impl FnMut(&Event) -> bool,
    ) -> anyhow::Result<Event> {
        loop {
            let (_, e) = self.next_event().await?;
            if pred(&e) {
                return Ok(e);
            }
        }
    }

    /// Events already received and not yet taken.
    pub fn buffered(&self) -> usize {
        self.events.len()
    }

    /// Acknowledges everything processed so far.
    pub async fn ack(&mut self) -> anyhow::Result<()> {
        let frame = ClientFrame::Ack { seq: self.cursor };
        self.send_text(serde_json::to_string(&frame)?).await
    }

    /// Reads one frame and files it. Returns an error when the socket closes.
    pub async fn pump(&mut self) -> anyhow::Result<()> {
        let frame = next_frame(&mut self.ws).await?;
        match frame {
            ServerFrame::Event { seq, event, .. } => {
                if seq <= self.cursor {
                    self.duplicates += 1;
                } else {
                    if seq != self.cursor + 1 {
                        bail!("gap in stream: had {}, got {seq}", self.cursor);
                    }
                    self.cursor = seq;
                    self.events.push_back((seq, event));
                }
            }
            ServerFrame::Ok { id, .. } | ServerFrame::Error { id: Some(id), .. } => {
                self.replies.entry(id).or_default().push_back(frame);
            }
            ServerFrame::Error {
                id: None,
                code,
                message,
            } => self.errors.push_back((code, message)),
            ServerFrame::Presence {
                staff, connected, ..
            } => self.presence.push_back((staff, connected)),
            ServerFrame::Pong { .. } | ServerFrame::Welcome { .. } => {}
        }
        Ok(())
    }

    /// Reads frames until the hub closes the socket; returns its close code
    /// and reason, 1006 if the socket ended without a close frame (which
    /// no test expects: it asserts the code the hub sends).
    pub async fn closed(&mut self) -> anyhow::Result<(u16, String)> {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next())
                .await
                .context("socket stayed open")?
            {
                None => return Ok((1006, String::new())),
                Some(Err(_)) => return Ok((1006, String::new())),
                Some(Ok(Message::Close(Some(f)))) => {
                    return Ok((f.code.into(), f.reason.to_string()))
                }
                Some(Ok(Message::Close(None))) => return Ok((1005, String::new())),
                Some(Ok(Message::Text(t))) => {
                    if let Ok(ServerFrame::Error {
                        id: None,
                        code,
                        message,
                    }) = serde_json::from_str(t.as_str())
                    {
                        self.errors.push_back((code, message));
                    }
                }
                Some(Ok(_)) => {}
            }
        }
    }

    /// The next protocol error without a command id.
    pub async fn next_error(&mut self) -> anyhow::Result<(ErrorCode, String)> {
        loop {
            if let Some(e) = self.errors.pop_front() {
                return Ok(e);
            }
            tokio::time::timeout(WAIT, self.pump())
                .await
                .context("no error frame")??;
        }
    }

    /// Every part of a snapshot, merged: the cursor of the first part (the
    /// events after it bring anything the later parts missed or changed),
    /// and the tasks and pages, each once.
    pub async fn snapshot_all(&mut self) -> anyhow::Result<Snapshot> {
        let mut all = Snapshot::default();
        let mut after = None;
        for part in 0.. {
            match self.ok(Command::Snapshot { after }).await? {
                CommandResult::Snapshot {
                    cursor,
                    tasks,
                    pages,
                    next,
                } => {
                    if part == 0 {
                        all.cursor = cursor;
                    }
                    all.parts += 1;
                    all.tasks.extend(tasks);
                    all.pages.extend(pages);
                    match next {
                        Some(n) => after = Some(n),
                        None => return Ok(all),
                    }
                }
                other => bail!("expected a snapshot part, got {other:?}"),
            }
        }
        unreachable!("the loop returns")
    }

    /// Every part of `history` since `since`, in order.
    pub async fn history_all(&mut self, since: i64) -> anyhow::Result<Vec<TaskView>> {
        let mut tasks = Vec::new();
        let mut after = None;
        loop {
            match self.ok(Command::History { since, after }).await? {
                CommandResult::History { tasks: part, next } => {
                    tasks.extend(part);
                    match next {
                        Some(n) => after = Some(n),
                        None => return Ok(tasks),
                    }
                }
                other => bail!("expected a history part, got {other:?}"),
            }
        }
    }

    /// Waits for a presence frame about `staff`.
    pub async fn presence_of(&mut self, staff: wardpage_proto::StaffId) -> anyhow::Result<bool> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(i) = self.presence.iter().position(|(s, _)| *s == staff) {
                if let Some((_, connected)) = self.presence.remove(i) {
                    return Ok(connected);
                }
            }
            tokio::time::timeout_at(deadline, self.pump())
                .await
                .context("no presence frame")??;
        }
    }

    /// Closes the socket politely.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// Reads the next server frame, skipping control frames.
pub async fn next_frame(ws: &mut Ws) -> anyhow::Result<ServerFrame> {
    loop {
        match ws.next().await {
            None => bail!("socket closed"),
            Some(Err(e)) => bail!("socket error: {e}"),
            Some(Ok(Message::Text(t))) => {
                return serde_json::from_str(t.as_str())
                    .with_context(|| format!("unreadable frame: {t}"));
            }
            Some(Ok(Message::Close(f))) => bail!("socket closed by hub: {f:?}"),
            Some(Ok(_)) => {}
        }
    }
}

//! The HL7 v2 ADT feed: a listener (off unless `[hl7] listen` is set) that
//! takes admissions (A01), transfers (A02), discharges (A03), updates (A08)
//! and cancelled admissions (A11) from the patient administration system
//! over MLLP, applies each as the protocol's own census command through the
//! writer, acting as the configured feed account, and answers with an ACK
//! only once the change is committed (`AA`), or with `AE`/`AR` and the
//! reason when nothing changed.
//!
//! A resent message (same sender and control id) applies once: its command
//! id is derived from them, so the writer answers a resend with the stored
//! answer, across restarts. A discharge resent after the patient left is
//! recognised from the listener's memory of recent messages only.
//!
//! With `[hl7] tls_cert` and `tls_key` the listener accepts TLS only: a
//! connection that does not complete the handshake (a plain MLLP client,
//! or one that does not trust the certificate) is logged and closed before
//! anything is read as a message.

pub mod ack;
pub mod adt;
pub mod config;
mod mllp;

use crate::hub::Hub;
use adt::{AdtError, Event, Header};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tracing::{info, warn, Instrument};
use wardpage_proto::{Command, CommandId, CommandResult, PatientView, ServerFrame, StaffId};

/// How many recent messages' answers the listener remembers for resends.
const REMEMBERED: usize = 4_096;

/// Acknowledgements of recent messages that were applied, by (sender,
/// control id).
#[derive(Default)]
struct Recent {
    order: VecDeque<String>,
    acks: HashMap<String, (ack::Code, String)>,
}

impl Recent {
    fn get(&self, key: &str) -> Option<(ack::Code, String)> {
        self.acks.get(key).cloned()
    }

    fn put(&mut self, key: String, answer: (ack::Code, String)) {
        if self.acks.insert(key.clone(), answer).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.acks.remove(&old);
            }
        }
    }
}

/// The listener's TLS acceptor, if `[hl7] tls_cert` and `tls_key` are set:
/// loaded at start so that a bad certificate stops the hub there.
pub fn tls_acceptor(
    config: &config::Hl7Config,
) -> Result<Option<TlsAcceptor>, crate::tls::TlsError> {
    match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => {
            let server = crate::tls::server_config(cert, key)?;
            Ok(Some(TlsAcceptor::from(Arc::new(server))))
        }
        _ => Ok(None),
    }
}

/// Serves the feed on `listener` until the hub shuts down: TLS only if
/// `tls` is given, plain MLLP otherwise.
pub async fn serve(listener: TcpListener, tls: Option<TlsAcceptor>, hub: Arc<Hub>) {
    let recent = Arc::new(Mutex::new(Recent::default()));
    let mut stop = hub.shutdown.clone();
    // A PAS completes its handshake at once; one that stalls holds a task.
    let handshake_within = Duration::from_secs(u64::from(hub.config.limits.header_timeout_secs));
    loop {
        let accepted = tokio::select! {
            _ = stop.changed() => return,
            a = listener.accept() => a,
        };
        let (socket, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                warn!(error = %e, "HL7 listener: accept failed");
                continue;
            }
        };
        let (hub, recent, tls) = (hub.clone(), recent.clone(), tls.clone());
        let span = tracing::info_span!("hl7", %peer, tls = tls.is_some());
        hub.connections.clone().spawn(
            async move {
                let Some(acceptor) = tls else {
                    return feed(socket, &hub, &recent).await;
                };
                let mut stop = hub.shutdown.clone();
                let shaken = tokio::select! {
                    _ = stop.changed() => return,
                    r = tokio::time::timeout(handshake_within, acceptor.accept(socket)) => r,
                };
                match shaken {
                    Ok(Ok(stream)) => feed(stream, &hub, &recent).await,
                    // Why it failed (not TLS at all, an unknown CA alert
                    // from the peer) is in the error: the interface team
                    // needs it to tell a misconfigured engine from a probe.
                    Ok(Err(e)) => warn!(
                        error = %e,
                        "ADT feed refused: TLS handshake failed (a plain MLLP client, or one that does not trust the certificate)"
                    ),
                    Err(_) => warn!("ADT feed refused: TLS handshake timed out"),
                }
            }
            .instrument(span),
        );
    }
}

/// One connection's messages, answered in order until it closes.
async fn feed<S>(stream: S, hub: &Arc<Hub>, recent: &Arc<Mutex<Recent>>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    info!("ADT feed connected");
    mllp::serve(stream, hub.shutdown.clone(), |text| {
        answer(hub, recent, text)
    })
    .await;
    info!("ADT feed disconnected");
}

/// The ACK for one message's text.
async fn answer(hub: &Hub, recent: &Mutex<Recent>, text: String) -> String {
    let now = crate::clock::now_ms();
    let (message, header) = match adt::parse(&text) {
        Ok(p) => p,
        Err(e) => return ack::ack(&Header::default(), ack::Code::Reject, &e.to_string(), now),
    };
    let key = format!(
        "{}|{}|{}",
        header.sender.0, header.sender.1, header.control_id
    );
    let remembered = recent.lock().ok().and_then(|r| r.get(&key));
    let (code, why) = match remembered {
        Some(a) => a,
        None => {
            let span = tracing::info_span!("adt", control_id = %header.control_id, trigger = %header.trigger);
            let outcome = apply(hub, &message, &header).instrument(span).await;
            let answer = match outcome {
                Ok(text) => (ack::Code::Accept, text),
                Err(AdtError::Reject(why)) => (ack::Code::Reject, why),
                Err(AdtError::Error(why)) => (ack::Code::Error, why),
            };
            info!(code = answer.0.as_str(), reason = %answer.1, control_id = %header.control_id, "ADT message answered");
            // Only what was applied is remembered: a refusal may not hold
            // on a resend (the hub was stopping, a bed has since freed, the
            // ward map was fixed), so a resend of one is read afresh.
            if answer.0 == ack::Code::Accept {
                if let Ok(mut r) = recent.lock() {
                    r.put(key, answer.clone());
                }
            }
            answer
        }
    };
    ack::ack(&header, code, &why, now)
}

/// The command id a message's changes are committed under: the same for a
/// resend, different for every other message.
fn command_id(h: &Header) -> CommandId {
    let digest = Sha256::digest(
        format!(
            "hl7\u{0}{}\u{0}{}\u{0}{}",
            h.sender.0, h.sender.1, h.control_id
        )
        .as_bytes(),
    );
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    CommandId(uuid::Builder::from_random_bytes(bytes).into_uuid())
}

async fn apply(hub: &Hub, m: &hl7_net::Message, h: &Header) -> Result<String, AdtError> {
    let config = &hub.config.hl7;
    let adt = adt::read(m, h, config)?;
    let actor = feed_account(hub).await?;
    let located = |what: &str| {
        adt.location
            .clone()
            .ok_or_else(|| AdtError::Error(format!("PV1-3 (ward^room^bed) is needed to {what}")))
    };
    let cmd = match adt.event {
        Event::Admit => {
            let (ward, bed) = located("admit")?;
            Command::AdmitPatient {
                ward,
                bed,
                patient: adt.details.clone(),
            }
        }
        Event::Transfer => {
            let (ward, bed) = located("transfer")?;
            let p = find(hub, actor, &adt.details).await?;
            Command::TransferPatient {
                patient: p.id,
                ward,
                bed,
            }
        }
        Event::Discharge | Event::CancelAdmit => Command::DischargePatient {
            patient: find(hub, actor, &adt.details).await?.id,
        },
        Event::Update => {
            let p = find(hub, actor, &adt.details).await?;
            let mut details = adt.details.clone();
            // The PAS does not carry these; keep what the ward wrote.
            details.consultant = p.details.consultant.clone();
            details.alerts = p.details.alerts.clone();
            Command::UpdatePatient {
                patient: p.id,
                details,
            }
        }
    };
    cmd.validate()
        .map_err(|e| AdtError::Error(format!("{}: {}", e.field, e.problem)))?;
    match submit(hub, actor, command_id(h), cmd).await? {
        CommandResult::Patient { patient } => Ok(format!(
            "{} {} in {} bed {}",
            patient.details.name,
            match adt.event {
                Event::Admit => "admitted",
                Event::Transfer => "transferred",
                Event::Discharge => "discharged",
                Event::CancelAdmit => "admission cancelled",
                Event::Update => "updated",
            },
            patient.ward,
            patient.bed
        )),
        _ => Ok("applied".into()),
    }
}

/// The feed's account: configured by login, an active admin or coordinator.
async fn feed_account(hub: &Hub) -> Result<StaffId, AdtError> {
    let login = &hub.config.hl7.account;
    match hub.store.staff_by_login(login).await {
        Ok(Some(s)) if s.active => Ok(s.id),
        Ok(_) => Err(AdtError::Error(format!(
            "the feed's account {login:?} does not exist or is disabled"
        ))),
        Err(e) => Err(AdtError::Error(format!(
            "the hub could not read accounts: {e}"
        ))),
    }
}

/// Sends `cmd` through the writer and waits for its committed answer.
async fn submit(
    hub: &Hub,
    actor: StaffId,
    id: CommandId,
    cmd: Command,
) -> Result<CommandResult, AdtError> {
    let gone = || AdtError::Error("the hub is shutting down; send again".into());
    let rx = hub
        .writer
        .submit(actor, id, cmd, None)
        .await
        .map_err(|_| gone())?;
    let frame = rx.await.map_err(|_| gone())?;
    match serde_json::from_str::<ServerFrame>(&frame) {
        Ok(ServerFrame::Ok { result, .. }) => Ok(result),
        Ok(ServerFrame::Error { code, message, .. }) => {
            Err(AdtError::Error(format!("{code}: {message}")))
        }
        _ => Err(AdtError::Error("the hub gave no answer".into())),
    }
}

/// The admitted patient with the message's NHS number (or, lacking one,
/// its local number).
async fn find(
    hub: &Hub,
    actor: StaffId,
    d: &wardpage_proto::PatientDetails,
) -> Result<PatientView, AdtError> {
    let nhs = d
        .nhs_number
        .as_deref()
        .and_then(|n| wardpage_proto::nhs_number_digits(n).ok());
    let mut after = None;
    loop {
        let read = Command::Patients { ward: None, after };
        // A read changes nothing: any fresh id will do.
        let id = CommandId(uuid::Uuid::new_v4());
        let CommandResult::Patients { patients, next } = submit(hub, actor, id, read).await? else {
            return Err(AdtError::Error("the hub gave no patient list".into()));
        };
        let found = patients
            .into_iter()
            .find(|p| match (&nhs, &p.details.nhs_number) {
                (Some(want), Some(have)) => {
                    wardpage_proto::nhs_number_digits(have).ok().as_ref() == Some(want)
                }
                (None, _) => d.local_number.is_some() && p.details.local_number == d.local_number,
                _ => false,
            });
        if let Some(p) = found {
            return Ok(p);
        }
        match next {
            Some(n) => after = Some(n),
            None => {
                return Err(AdtError::Error(format!(
                    "no admitted patient with {}",
                    match (&nhs, &d.local_number) {
                        (Some(n), _) => format!("NHS number {n}"),
                        (None, Some(l)) => format!("local number {l}"),
                        _ => "these identifiers".into(),
                    }
                )))
            }
        }
    }
}

//! The HL7 v2 ADT feed end to end: a real hub with its MLLP listener on a
//! free port, messages written as a patient administration system sends
//! them, and the census read back through the protocol. A01 admits, A02
//! moves the patient and their open task, A03 discharges, a resend applies
//! once, and bad messages are refused with a NAK and change nothing.

use std::collections::BTreeMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wardpage_proto::{Command, CommandResult, PatientView, TaskChange};
use wardpage_server::config::Config;
use wardpage_tests::story::*;
use wardpage_tests::{Client, TestHub};

/// A hub whose ADT feed listens on a free loopback port, acting as the
/// demo's admin, with the PAS's codes for Wards 7 and 8.
async fn hub_with_feed() -> anyhow::Result<(TestHub, std::net::SocketAddr)> {
    let free = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = free.local_addr()?;
    drop(free);
    let hub = TestHub::start_with(|c: &mut Config| {
        c.hl7.listen = Some(addr);
        c.hl7.account = "admin".into();
        c.hl7.wards = BTreeMap::from([("WD7".into(), "w7".into()), ("WD8".into(), "w8".into())]);
    })
    .await?;
    Ok((hub, addr))
}

/// An ADT message as a PAS writes it (segments end in CR).
fn adt(event: &str, control: &str, nhs: &str, location: &str) -> String {
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

/// Sends one framed message and reads the framed answer.
async fn send(feed: &mut TcpStream, message: &str) -> anyhow::Result<String> {
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

/// MSA-1 and MSA-3 of an ACK.
fn msa(ack: &str) -> (String, String) {
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

async fn patients(c: &mut Client) -> anyhow::Result<Vec<PatientView>> {
    match c
        .ok(Command::Patients {
            ward: None,
            after: None,
        })
        .await?
    {
        CommandResult::Patients { patients, .. } => Ok(patients),
        other => anyhow::bail!("patients answered {other:?}"),
    }
}

#[tokio::test]
async fn an_adt_feed_admits_moves_with_open_tasks_and_discharges_once_each() -> anyhow::Result<()> {
    let (hub, addr) = hub_with_feed().await?;
    // Logged in: the hub is serving, so its feed listener is bound.
    let mut coord = Client::login_connect(&hub.base(), "coord.hale").await?;
    let mut feed = TcpStream::connect(addr).await?;

    let admit = adt("A01", "MSG0001", "9990000018", "WD7^^3");
    let ack = send(&mut feed, &admit).await?;
    assert_eq!(msa(&ack).0, "AA", "{ack}");
    assert!(
        ack.contains("MSA|AA|MSG0001"),
        "the ACK names the message: {ack}"
    );
    let ps = patients(&mut coord).await?;
    assert_eq!(ps.len(), 1);
    let p = &ps[0];
    assert_eq!((p.ward.0.as_str(), p.bed.as_str()), ("w7", "3"));
    assert_eq!(p.details.name, "Harper Dummyworth");
    assert_eq!(p.details.nhs_number.as_deref(), Some("9990000018"));
    assert_eq!(p.details.local_number.as_deref(), Some("RX123456"));
    assert_eq!(p.details.born, "1948-03-14");

    // The PAS did not hear the ACK and sends the same message again.
    let again = send(&mut feed, &admit).await?;
    assert_eq!(msa(&again).0, "AA", "{again}");
    assert_eq!(patients(&mut coord).await?.len(), 1, "a resend admits once");

    // A nurse raises a task for the patient; the PAS then moves them.
    let mut nurse = Client::login_connect(&hub.base(), "nurse.okafor").await?;
    let mut raise = cannula_w7();
    if let Command::RaiseTask {
        bed, patient_id, ..
    } = &mut raise
    {
        *bed = "3".into();
        *patient_id = Some(p.id);
    }
    let task = raise_ok(&mut nurse, raise).await?;
    let ack = send(&mut feed, &adt("A02", "MSG0002", "9990000018", "WD8^^5")).await?;
    assert_eq!(msa(&ack).0, "AA", "{ack}");
    let moved = task_event(&mut coord, task.id, TaskChange::Moved).await?;
    assert_eq!((moved.ward.0.as_str(), moved.bed.as_str()), ("w8", "5"));
    let ps = patients(&mut coord).await?;
    assert_eq!((ps[0].ward.0.as_str(), ps[0].bed.as_str()), ("w8", "5"));

    let ack = send(&mut feed, &adt("A03", "MSG0003", "9990000018", "")).await?;
    assert_eq!(msa(&ack).0, "AA", "{ack}");
    assert!(patients(&mut coord).await?.is_empty(), "discharged");
    // A resend of the discharge is answered as before, not refused.
    let ack = send(&mut feed, &adt("A03", "MSG0003", "9990000018", "")).await?;
    assert_eq!(msa(&ack).0, "AA", "{ack}");
    let audit = hub.store.audit_for(&p.id.to_string()).await?;
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "admit").count(),
        1,
        "{actions:?}"
    );
    hub.stop().await
}

#[tokio::test]
async fn bad_adt_messages_get_a_nak_with_the_reason_and_change_nothing() -> anyhow::Result<()> {
    let (hub, addr) = hub_with_feed().await?;
    // Logged in: the hub is serving, so its feed listener is bound.
    let mut coord = Client::login_connect(&hub.base(), "coord.hale").await?;
    let mut feed = TcpStream::connect(addr).await?;

    let cases = [
        (adt("A01", "BAD1", "9990000018", "WD99^^3"), "AE", "WD99"),
        (
            adt("A01", "BAD2", "9990000019", "WD7^^3"),
            "AE",
            "check digit",
        ),
        (adt("A01", "BAD3", "9990000018", "WD7^^99"), "AE", "bed"),
        (
            adt("A02", "BAD4", "9990000026", "WD8^^5"),
            "AE",
            "no admitted patient",
        ),
        (
            adt("A01", "BAD5", "9990000018", "WD7^^3")
                .replace("ADT^A01^ADT_A01", "ORU^R01^ORU_R01"),
            "AR",
            "ORU",
        ),
        (adt("A04", "BAD6", "9990000018", "WD7^^3"), "AR", "A04"),
        (
            "PID|1||9990000018^^^NHS^NH\r".to_owned(),
            "AR",
            "not an HL7 v2 message",
        ),
    ];
    for (message, code, why) in cases {
        let ack = send(&mut feed, &message).await?;
        let (got, text) = msa(&ack);
        assert_eq!(got, code, "{message:?} -> {ack}");
        assert!(
            text.contains(why),
            "{message:?}: the reason names {why:?}: {ack}"
        );
    }
    assert!(
        patients(&mut coord).await?.is_empty(),
        "nothing was admitted"
    );

    // A refusal is not remembered: once the patient is admitted, the same
    // transfer sent again applies.
    let ack = send(&mut feed, &adt("A01", "OK1", "9990000026", "WD7^^4")).await?;
    assert_eq!(msa(&ack).0, "AA", "{ack}");
    let ack = send(&mut feed, &adt("A02", "BAD4", "9990000026", "WD8^^5")).await?;
    assert_eq!(msa(&ack).0, "AA", "a resent refusal is read afresh: {ack}");
    let ps = patients(&mut coord).await?;
    assert_eq!((ps[0].ward.0.as_str(), ps[0].bed.as_str()), ("w8", "5"));

    // Bytes outside a frame close the connection.
    feed.write_all(b"GET / HTTP/1.1\r\n\r\n").await?;
    let mut rest = Vec::new();
    feed.read_to_end(&mut rest).await?;
    assert!(rest.is_empty(), "no answer to unframed bytes");
    hub.stop().await
}

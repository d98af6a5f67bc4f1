//! The comparison with Mosquitto: the same number of messages, of the same
//! size, to the same number of subscribers. Each of `pairs` publishers
//! publishes to its own topic at QoS 1 and, like a raising nurse who hears
//! of her own task, is subscribed to it; one more subscriber per topic plays
//! the doctor. So every message is delivered twice, as every hub raise is.
//! The rate is messages per second from the first publish until the last
//! delivery arrived.

use super::hubctl::HubChoice;
use super::load::{self, LoadParams, Rig};
use super::report::RunReport;
use anyhow::Context;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug, Clone, Serialize)]
pub struct CompareParams {
    pub pairs: usize,
    pub messages: u64,
    pub mqtt_host: String,
    pub mqtt_port: u16,
    pub runs: usize,
}

/// Publishes about `messages` (rounded up to a multiple of `pairs`) through
/// the broker; returns (seconds, deliveries, messages published).
pub async fn mosquitto(
    host: &str,
    port: u16,
    pairs: usize,
    messages: u64,
    payload: usize,
) -> anyhow::Result<(f64, u64, u64)> {
    let delivered = Arc::new(AtomicU64::new(0));
    let mut loops = Vec::new();
    let mut publishers = Vec::new();
    let run = uuid::Uuid::new_v4().simple().to_string();
    for k in 0..pairs {
        for role in ["pub", "sub"] {
            let mut opts = MqttOptions::new(format!("wp-{role}-{k}-{}", &run[..8]), host, port);
            opts.set_keep_alive(Duration::from_secs(30));
            opts.set_inflight(64);
            opts.set_max_packet_size(64 * 1024, 64 * 1024);
            let (client, mut ev) = AsyncClient::new(opts, 128);
            let topic = format!("wardpage-sim/{run}/p{k}");
            client.subscribe(topic.clone(), QoS::AtLeastOnce).await?;
            let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
            let d = delivered.clone();
            loops.push(tokio::spawn(async move {
                let mut ready = Some(ready_tx);
                loop {
                    match ev.poll().await {
                        Ok(Event::Incoming(Packet::SubAck(_))) => {
                            if let Some(r) = ready.take() {
                                let _ = r.send(());
                            }
                        }
                        Ok(Event::Incoming(Packet::Publish(_))) => {
                            d.fetch_add(1, Relaxed);
                        }
                        Ok(_) => {}
                        Err(e) => return Err::<(), _>(anyhow::anyhow!("mqtt: {e}")),
                    }
                }
            }));
            tokio::time::timeout(Duration::from_secs(10), ready_rx)
                .await
                .context("no SUBACK from the broker in 10 s")?
                .context("broker connection failed")?;
            if role == "pub" {
                publishers.push((client, topic));
            }
        }
    }
    let per = messages.div_ceil(pairs as u64);
    let total = per * pairs as u64;
    let body = vec![b'x'; payload];
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for (client, topic) in publishers.clone() {
        let body = body.clone();
        set.spawn(async move {
            for _ in 0..per {
                client
                    .publish(topic.clone(), QoS::AtLeastOnce, false, body.clone())
                    .await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while delivered.load(Relaxed) < 2 * total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    for l in loops {
        l.abort();
    }
    Ok((secs, delivered.load(Relaxed), total))
}

/// `compare`: the hub (durable raises) against Mosquitto (QoS 1), `runs`
/// times each, alternating, on the same machine in one invocation.
pub async fn compare(
    choice: &HubChoice,
    p: CompareParams,
    password: &str,
) -> anyhow::Result<RunReport> {
    let mut report = RunReport::new("compare", 0, serde_json::to_value(&p)?);
    let lp = LoadParams {
        pairs: p.pairs,
        secs: 3600.0,
        warmup_secs: 0.0,
        window: 64,
        rate: None,
        max_per_raiser: Some(p.messages.div_ceil(p.pairs as u64)),
    };
    let mut ratios = Vec::new();
    for run in 1..=p.runs {
        // A fresh hub each run: the hub slows as tasks accumulate, and each
        // run should start from the same empty state as the broker does.
        let rig = Rig::start(choice, p.pairs, password, None).await?;
        let phase = load::drive(&rig, &lp, true, &format!("hub run {run}")).await?;
        rig.hub.stop().await?;
        let hub_secs = phase.elapsed_all.as_secs_f64();
        let mut r = RunReport::new("compare", 0, serde_json::Value::Null);
        load::fill(&mut r, phase);
        let payload = r
            .figures
            .get("event frame bytes")
            .copied()
            .unwrap_or(1200.0) as usize;
        let hub_rate = r.raises_acked as f64 / hub_secs;
        let (mq_secs, mq_delivered, mq_total) =
            mosquitto(&p.mqtt_host, p.mqtt_port, p.pairs, p.messages, payload).await?;
        let mq_rate = mq_total as f64 / mq_secs;
        let ratio = hub_rate / mq_rate;
        ratios.push(ratio);
        eprintln!("run {run}: hub {hub_rate:.0} msg/s ({} to candidates), mosquitto {mq_rate:.0} msg/s ({mq_delivered} delivered), ratio {ratio:.2}", r.deliveries);
        report
            .figures
            .insert(format!("run {run}: hub messages/s"), hub_rate.round());
        report
            .figures
            .insert(format!("run {run}: mosquitto messages/s"), mq_rate.round());
        report.figures.insert(
            format!("run {run}: ratio hub/mosquitto"),
            (ratio * 100.0).round() / 100.0,
        );
        report
            .figures
            .insert("payload bytes".into(), payload as f64);
        if mq_delivered < 2 * mq_total {
            report.notes.push(format!(
                "run {run}: mosquitto delivered only {mq_delivered} of {}",
                2 * mq_total
            ));
        }
        // The last run's details go in the report; a broken invariant in
        // any run fails the comparison.
        if run == 1 || report.invariants.ok {
            report.invariants = r.invariants;
        }
        report.raises_acked += r.raises_acked;
        report.delivery_latency_ms = r.delivery_latency_ms;
        report.ack_latency_ms = r.ack_latency_ms;
        report.histogram = r.histogram;
        report.timeline = r.timeline;
        report.throughput_per_s = hub_rate;
        report.duration_s += hub_secs + mq_secs;
    }
    ratios.sort_by(f64::total_cmp);
    if let Some(m) = ratios.get(ratios.len() / 2) {
        report.figures.insert(
            "median ratio hub/mosquitto".into(),
            (m * 100.0).round() / 100.0,
        );
    }
    report.notes.push("hub: each message is a raise committed to SQLite (WAL, synchronous=FULL) before its ok and events; mosquitto: QoS 1 with its default (in-memory) persistence".into());
    Ok(report)
}

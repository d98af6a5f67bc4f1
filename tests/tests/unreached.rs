//! Offers that ring nowhere (issue 17, hazard 4): a task offered only to
//! people with no connected device says so to the raiser and the
//! coordinator (`unreached_at`, `unconnected` on each such offer), and by
//! default escalates at once as if nobody were on shift for that step;
//! with `nobody_connected = "wait"` it waits for its step as before.

use anyhow::Context;
use wardpage_proto::{Event, OfferState, Role, TaskView};
use wardpage_server::config::Config;
use wardpage_tests::story::*;
use wardpage_tests::{Client, TestHub};

fn offer<'a>(t: &'a TaskView, name: &str) -> anyhow::Result<&'a wardpage_proto::Offer> {
    t.offers
        .iter()
        .find(|o| o.staff.name == name)
        .with_context(|| format!("{name} is offered it: {:?}", t.offers))
}

/// Dr Patel, Ward 7's only FY1, never logged in: the raise falls through
/// at once to the next grade (Dr Khan, connected), and the raiser's answer
/// says whose phone did not ring.
#[tokio::test]
async fn an_offer_to_nobody_connected_falls_through_at_once() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let _sho = Client::login_connect(&base, "sho.khan").await?;
    let mut coord = Client::login_connect(&base, "coord.hale").await?;

    let t = raise_ok(&mut nurse, needs_role("w7", Role::Fy1)).await?;
    assert_eq!(t.escalation_level, 1, "escalated at once: {t:?}");
    let patel = offer(&t, "Dr Asha Patel")?;
    assert_eq!(patel.unconnected, Some(true), "her phone did not ring");
    let khan = offer(&t, "Dr Omar Khan")?;
    assert_eq!(khan.state, OfferState::Offered);
    assert_eq!(khan.unconnected, None, "his did");
    assert_eq!(t.unreached_at, None, "someone connected has it on offer");

    let reason = coord
        .wait_for(|e| matches!(e, Event::TaskEscalated { task, .. } if task.id == t.id))
        .await?;
    let Event::TaskEscalated { reason, .. } = reason else {
        unreachable!("filtered above")
    };
    assert!(
        reason.contains("offered to the next grade up (nobody connected for: alerted again)"),
        "{reason}"
    );
    let audit = hub.store.audit_for(&t.id.to_string()).await?;
    let raise = audit
        .iter()
        .find(|a| a.action == "raise")
        .context("the raise is audited")?;
    assert!(
        raise
            .detail
            .ends_with("offered to Dr Asha Patel; none of them has a connected device"),
        "{}",
        raise.detail
    );
    hub.stop().await
}

/// The same raise with Dr Patel connected rings her and escalates nothing.
#[tokio::test]
async fn an_offer_to_someone_connected_waits_for_them() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let _fy1 = Client::login_connect(&base, "fy1.patel").await?;
    let t = raise_ok(&mut nurse, needs_role("w7", Role::Fy1)).await?;
    assert_eq!(t.escalation_level, 0, "{t:?}");
    assert_eq!(t.unreached_at, None);
    assert_eq!(offer(&t, "Dr Asha Patel")?.unconnected, None);
    hub.stop().await
}

/// With `nobody_connected = "wait"` the offer stands until its step is due,
/// and the raiser and the coordinator are told that it rang nowhere; once
/// Dr Patel connects, the next change of the task clears it.
#[tokio::test]
async fn with_wait_the_raiser_and_coordinator_are_told() -> anyhow::Result<()> {
    let hub = TestHub::start_with(|c: &mut Config| {
        let parsed = Config::parse("[escalation]\nnobody_connected = \"wait\"\n")
            .expect("the option parses");
        c.escalation = parsed.escalation;
    })
    .await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let t = raise_ok(&mut nurse, needs_role("w7", Role::Fy1)).await?;
    assert_eq!(t.escalation_level, 0, "waits for its step: {t:?}");
    assert_eq!(t.unreached_at, Some(t.raised_at));
    assert_eq!(offer(&t, "Dr Asha Patel")?.unconnected, Some(true));
    let seen = coord
        .wait_for(|e| matches!(e, Event::Task { task, .. } if task.id == t.id))
        .await?;
    let Event::Task { task: seen, .. } = seen else {
        unreachable!("filtered above")
    };
    assert_eq!(
        seen.unreached_at,
        Some(t.raised_at),
        "the coordinator sees it"
    );

    let mut fy1 = Client::login_connect(&base, "fy1.patel").await?;
    let taken = fy1
        .ok(wardpage_proto::Command::Accept { task: t.id })
        .await?;
    let taken = task_of(&taken);
    assert_eq!(taken.unreached_at, None, "accepted: no longer on offer");
    assert!(taken.offers.iter().all(|o| o.unconnected.is_none()));
    hub.stop().await
}

/// The option is checked at load: a misspelt value is refused.
#[test]
fn a_misspelt_option_is_refused() {
    let e =
        Config::parse("[escalation]\nnobody_connected = \"later\"\n").expect_err("unknown value");
    assert!(e.to_string().contains("as_nobody_on_shift"), "{e}");
}

//! Pages: "call me now" to a person or a team. Delivered, read and
//! acknowledged are three facts, each seen live by the sender.

use wardpage_proto::{
    Command, CommandResult, Event, PageChange, PageState, PageTarget, PageView, Priority, Role,
};
use wardpage_tests::{Client, TestHub};

fn page_of(r: &CommandResult) -> &PageView {
    match r {
        CommandResult::Page { page } => page,
        other => panic!("expected a page, got {other:?}"),
    }
}

async fn page_event(c: &mut Client, change: PageChange) -> anyhow::Result<PageView> {
    let e = c
        .wait_for(|e| matches!(e, Event::Page { change: ch, .. } if *ch == change))
        .await?;
    match e {
        Event::Page { page, .. } => Ok(page),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn a_page_is_delivered_read_and_acknowledged() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut doctor = Client::login_connect(&base, "fy1.patel").await?;
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let sent = nurse
        .ok(Command::SendPage {
            target: PageTarget::Staff(doctor.id()),
            priority: Priority::Urgent,
            callback: "ext 4471".into(),
            message: "Bed 12 NEWS 7, please come".into(),
            ward: None,
        })
        .await?;
    let page = page_of(&sent).clone();
    assert_eq!(page.state, PageState::Open);
    assert!(page.recipients[0].delivered_at.is_none());

    let got = page_event(&mut doctor, PageChange::Sent).await?;
    assert_eq!(got.id, page.id);
    doctor.ack().await?; // the phone has it
    let p = page_event(&mut nurse, PageChange::Delivered).await?;
    assert!(p.recipients[0].delivered_at.is_some() && p.recipients[0].read_at.is_none());

    doctor.ok(Command::PageRead { page: page.id }).await?;
    let p = page_event(&mut nurse, PageChange::Read).await?;
    assert!(p.recipients[0].read_at.is_some() && p.recipients[0].acked_at.is_none());

    let acked = doctor
        .ok(Command::PageAck {
            page: page.id,
            reply: None,
        })
        .await?;
    assert_eq!(page_of(&acked).state, PageState::Acknowledged);
    let p = page_event(&mut nurse, PageChange::Acknowledged).await?;
    assert!(p.recipients[0].acked_at.is_some());
    page_event(&mut coord, PageChange::Acknowledged).await?;

    // Only a recipient may acknowledge; a repeat ack changes nothing.
    let e = coord
        .command(Command::PageAck {
            page: page.id,
            reply: None,
        })
        .await?
        .expect_err("not a recipient");
    assert_eq!(e.code, wardpage_proto::ErrorCode::Forbidden);
    let again = doctor
        .ok(Command::PageAck {
            page: page.id,
            reply: None,
        })
        .await?;
    assert_eq!(page_of(&again).version, page_of(&acked).version);
    let audit = hub.store.audit_for(&page.id.to_string()).await?;
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["send", "delivered", "read", "acknowledge"]);
    hub.stop().await
}

#[tokio::test]
async fn a_team_call_reaches_everyone_in_the_role_and_one_ack_closes_it() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.lee").await?;
    let mut patel = Client::login_connect(&base, "fy1.patel").await?;
    let mut ruiz = Client::login_connect(&base, "fy1.ruiz").await?;
    let sent = nurse
        .ok(Command::SendPage {
            target: PageTarget::Role(Role::Fy1),
            priority: Priority::Emergency,
            callback: "Ward 8 bay 2, ext 4480".into(),
            message: "Peri-arrest".into(),
            ward: None,
        })
        .await?;
    assert_eq!(page_of(&sent).recipients.len(), 2);
    page_event(&mut patel, PageChange::Sent).await?;
    page_event(&mut ruiz, PageChange::Sent).await?;
    ruiz.ok(Command::PageAck {
        page: page_of(&sent).id,
        reply: None,
    })
    .await?;
    // Patel's alert clears because she hears of Ruiz's acknowledgement.
    let p = page_event(&mut patel, PageChange::Acknowledged).await?;
    assert_eq!(p.state, PageState::Acknowledged);

    // A team call to a role nobody holds tonight is undeliverable, and says so.
    let none = nurse
        .ok(Command::SendPage {
            target: PageTarget::Role(Role::Consultant),
            priority: Priority::Urgent,
            callback: "bleep 2231".into(),
            message: String::new(),
            ward: None,
        })
        .await?;
    assert_eq!(page_of(&none).state, PageState::Undeliverable);
    hub.stop().await
}

/// A page is chased at its priority's pace (the defaults: every step after
/// 30 s for an emergency, 1 min urgent, 5 min soon, 15 min routine), on a
/// clock the test moves: a "soon" page is not escalated after a minute.
#[tokio::test]
async fn a_page_escalates_at_the_pace_of_its_priority() -> anyhow::Result<()> {
    let hub = TestHub::start_on_manual_clock(|_| {}).await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let doctor = Client::login_connect(&base, "fy1.patel").await?;
    let mut send = async |priority| -> anyhow::Result<PageView> {
        let sent = nurse
            .ok(Command::SendPage {
                target: PageTarget::Staff(doctor.id()),
                priority,
                callback: "ext 4471".into(),
                message: "Please call".into(),
                ward: None,
            })
            .await?;
        Ok(page_of(&sent).clone())
    };
    let mut due = Vec::new();
    for (priority, after) in [
        (Priority::Emergency, 30_000),
        (Priority::Urgent, 60_000),
        (Priority::Soon, 300_000),
        (Priority::Routine, 900_000),
    ] {
        let p = send(priority).await?;
        assert_eq!(
            p.next_escalation_at,
            Some(p.sent_at + after),
            "{priority:?} page"
        );
        due.push(p);
    }
    // A minute on: the emergency and urgent pages were chased, not the others.
    hub.advance(std::time::Duration::from_secs(60))?;
    let levels: Vec<u32> = {
        let pages = nurse.snapshot_all().await?.pages;
        due.iter()
            .map(|d| {
                pages
                    .iter()
                    .find(|p| p.id == d.id)
                    .map_or(u32::MAX, |p| p.escalation_level)
            })
            .collect()
    };
    // (A jump of the clock fires each due page once, at the jump's time.)
    assert_eq!(
        levels,
        [1, 1, 0, 0],
        "emergency and urgent chased, soon and routine not yet"
    );
    // At five minutes the soon page is chased too, and the routine one still waits.
    hub.advance(std::time::Duration::from_secs(240))?;
    let pages = nurse.snapshot_all().await?.pages;
    let level = |i: usize| {
        pages
            .iter()
            .find(|p| p.id == due[i].id)
            .map(|p| p.escalation_level)
    };
    assert_eq!((level(2), level(3)), (Some(1), Some(0)));
    hub.stop().await
}

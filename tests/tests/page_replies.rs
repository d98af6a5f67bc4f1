//! Pages a tired doctor can answer: a callback that holds a number (sent
//! on as `callback_number`, to dial), the ward the sender is on, and the
//! one-tap replies ("5 min", "Call me", "On my way") that acknowledge and
//! that the sender sees. Real hub, real sockets, the audit trail as stored.

use wardpage_proto::{
    Command, CommandResult, ErrorCode, Event, PageChange, PageReply, PageState, PageTarget,
    PageView, Priority, WardId,
};
use wardpage_tests::{Client, TestHub};

fn page_of(r: &CommandResult) -> anyhow::Result<&PageView> {
    match r {
        CommandResult::Page { page } => Ok(page),
        other => anyhow::bail!("expected a page, got {other:?}"),
    }
}

/// The next page event of `change` about `page`, as `c` received it.
async fn told(c: &mut Client, change: PageChange, page: &PageView) -> anyhow::Result<PageView> {
    let id = page.id;
    let e = c
        .wait_for(
            |e| matches!(e, Event::Page { change: ch, page, .. } if *ch == change && page.id == id),
        )
        .await?;
    match e {
        Event::Page { page, .. } => Ok(page),
        other => anyhow::bail!("not a page event: {other:?}"),
    }
}

fn page_to(to: &Client, callback: &str, ward: Option<&str>) -> Command {
    Command::SendPage {
        target: PageTarget::Staff(to.id()),
        priority: Priority::Urgent,
        callback: callback.into(),
        message: "Bed 12 NEWS 7, please come".into(),
        ward: ward.map(|w| WardId(w.into())),
    }
}

#[tokio::test]
async fn a_page_carries_the_number_to_dial_and_the_senders_ward() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    // Nurse Okafor's shift covers Ward 7 only: her pages are from there.
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut doctor = Client::login_connect(&base, "fy1.patel").await?;
    let sent = nurse
        .ok(page_to(&doctor, "ext 4471, Ward 7 desk", None))
        .await?;
    let page = page_of(&sent)?.clone();
    assert_eq!(page.callback_number.as_deref(), Some("4471"));
    let ward = page.from_ward.clone().map(|w| (w.id.0, w.name));
    assert_eq!(ward, Some(("w7".into(), "Ward 7 (Medicine)".into())));
    let got = told(&mut doctor, PageChange::Sent, &page).await?;
    assert_eq!(got.from_ward, page.from_ward, "the alert has the ward");
    assert_eq!(got.callback_number.as_deref(), Some("4471"));

    // Dr Patel covers two wards: only the ward she names is on her page.
    let sent = doctor
        .ok(page_to(&nurse, "020 7946 0000", Some("w8")))
        .await?;
    let page = page_of(&sent)?;
    assert_eq!(page.callback_number.as_deref(), Some("02079460000"));
    assert_eq!(
        page.from_ward.as_ref().map(|w| w.name.as_str()),
        Some("Ward 8 (Surgery)")
    );
    let unnamed = doctor.ok(page_to(&nurse, "bleep 2231", None)).await?;
    assert_eq!(
        page_of(&unnamed)?.from_ward,
        None,
        "two wards: none guessed"
    );

    // A ward that does not exist is refused.
    let e = doctor
        .command(page_to(&nurse, "4471", Some("w99")))
        .await?
        .err()
        .map(|e| e.code);
    assert_eq!(e, Some(ErrorCode::NotFound));
    hub.stop().await
}

#[tokio::test]
async fn a_callback_without_a_number_is_refused() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let doctor = Client::login_connect(&base, "fy1.patel").await?;
    for callback in ["Ward 7 bay 2", "Site coordinator", "ext 12"] {
        let e = nurse
            .command(page_to(&doctor, callback, None))
            .await?
            .err()
            .ok_or_else(|| anyhow::anyhow!("{callback:?} was taken"))?;
        assert_eq!(e.code, ErrorCode::InvalidField, "{callback:?}");
        assert!(
            e.message.starts_with("callback: must include a number"),
            "{callback:?}: {}",
            e.message
        );
    }
    assert!(nurse.snapshot_all().await?.pages.is_empty(), "no page sent");
    hub.stop().await
}

#[tokio::test]
async fn a_reply_acknowledges_is_stored_audited_and_reaches_the_sender() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut doctor = Client::login_connect(&base, "fy1.patel").await?;
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let sent = nurse.ok(page_to(&doctor, "4471", None)).await?;
    let page = page_of(&sent)?.clone();
    told(&mut doctor, PageChange::Sent, &page).await?;

    // One tap: "On my way" acknowledges the page.
    let ack = Command::PageAck {
        page: page.id,
        reply: Some(PageReply::OnMyWay),
    };
    let answered = doctor.ok(ack.clone()).await?;
    let answered = page_of(&answered)?.clone();
    assert_eq!(answered.state, PageState::Acknowledged);
    assert_eq!(answered.next_escalation_at, None, "no more chasing");
    let r = &answered.recipients[0];
    assert_eq!(r.reply, Some(PageReply::OnMyWay));
    assert!(r.acked_at.is_some() && r.replied_at == r.acked_at);
    // The sender's phone and the coordinator's dashboard are told.
    let seen = told(&mut nurse, PageChange::Acknowledged, &page).await?;
    assert_eq!(seen.recipients[0].reply, Some(PageReply::OnMyWay));
    told(&mut coord, PageChange::Acknowledged, &page).await?;

    // The same reply again changes nothing; another one replaces it.
    let again = doctor.ok(ack).await?;
    assert_eq!(page_of(&again)?.version, answered.version);
    let changed = doctor
        .ok(Command::PageAck {
            page: page.id,
            reply: Some(PageReply::FiveMin),
        })
        .await?;
    assert_eq!(
        page_of(&changed)?.recipients[0].reply,
        Some(PageReply::FiveMin)
    );
    let seen = told(&mut nurse, PageChange::Replied, &page).await?;
    assert_eq!(seen.recipients[0].reply, Some(PageReply::FiveMin));

    // Stored (the latest reply), and audited: each reply in the words the
    // sender saw.
    let stored = hub
        .store
        .page(&page.id.to_string())
        .await?
        .ok_or_else(|| anyhow::anyhow!("page not stored"))?;
    assert_eq!(stored.view.recipients[0].reply, Some(PageReply::FiveMin));
    let audit = hub.store.audit_for(&page.id.to_string()).await?;
    let rows: Vec<(&str, &str)> = audit
        .iter()
        .filter(|a| a.action != "delivered")
        .map(|a| (a.action.as_str(), a.detail.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("send", "Bed 12 NEWS 7, please come"),
            ("acknowledge", "On my way"),
            ("reply", "5 min"),
        ]
    );
    hub.stop().await
}

#[tokio::test]
async fn a_bad_reply_or_a_reply_from_someone_not_paged_is_refused() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut doctor = Client::login_connect(&base, "fy1.patel").await?;
    let mut other = Client::login_connect(&base, "fy1.ruiz").await?;
    let sent = nurse.ok(page_to(&doctor, "4471", None)).await?;
    let page = page_of(&sent)?.clone();

    // Not one of the fixed replies: refused as a bad field, nothing changes.
    let id = wardpage_proto::CommandId::new_random();
    let frame = serde_json::json!({
        "type": "cmd", "id": id.to_string(),
        "cmd": {"op": "page_ack", "page": page.id.to_string(), "reply": "ten_min"},
    });
    doctor.send_text(frame.to_string()).await?;
    let e = doctor
        .reply(id)
        .await?
        .err()
        .ok_or_else(|| anyhow::anyhow!("a made-up reply was taken"))?;
    assert_eq!(e.code, ErrorCode::InvalidField);
    assert!(e.message.contains("`ten_min`"), "{}", e.message);

    // Someone the page was not sent to cannot answer it.
    let e = other
        .command(Command::PageAck {
            page: page.id,
            reply: Some(PageReply::CallMe),
        })
        .await?
        .err()
        .map(|e| e.code);
    assert_eq!(e, Some(ErrorCode::Forbidden));

    let open = nurse.snapshot_all().await?.pages;
    let now = open
        .iter()
        .find(|p| p.id == page.id)
        .ok_or_else(|| anyhow::anyhow!("the page is no longer open"))?;
    assert_eq!(now.state, PageState::Open);
    assert!(now.recipients.iter().all(|r| r.reply.is_none()));
    hub.stop().await
}

//! The doctor's busy state, end to end against a real hub: set by the
//! doctor, told to her devices and the coordinator (event and directory),
//! audited on the shift, kept across a hub restart and ended by the hub when
//! its time passes; ended by hand; refused input changes nothing; a busy
//! doctor is still offered work (busy holds alerts back on the phone, it
//! does not take her off the rota).

use std::time::Duration;
use wardpage_proto::{
    BusyView, Command, CommandResult, ErrorCode, Event, Priority, Requirement, Role, StaffId,
};
use wardpage_server::config::Config;
use wardpage_tests::pg::on_fresh_postgres;
use wardpage_tests::story::{raise, raise_ok};
use wardpage_tests::{Client, TestHub};

const MIN: i64 = 60_000;

fn set_busy(reason: &str, minutes: u32) -> Command {
    Command::SetBusy {
        reason: reason.into(),
        minutes,
    }
}

/// The busy state a `shift` result carries.
fn busy_of(r: &CommandResult) -> anyhow::Result<Option<BusyView>> {
    match r {
        CommandResult::Shift { shift, .. } => Ok(shift.as_ref().and_then(|s| s.busy.clone())),
        other => anyhow::bail!("expected a shift result, got {other:?}"),
    }
}

/// Waits for a `shift` event about `staff`; its busy state and `by`.
async fn shift_event(
    c: &mut Client,
    staff: StaffId,
    mut want: impl FnMut(Option<&BusyView>, Option<StaffId>) -> bool,
) -> anyhow::Result<Option<BusyView>> {
    let e = c
        .wait_for(|e| match e {
            Event::Shift {
                staff: s,
                shift,
                by,
            } if s.id == staff => want(
                shift.as_ref().and_then(|v| v.busy.as_ref()),
                by.as_ref().map(|b| b.id),
            ),
            _ => false,
        })
        .await?;
    match e {
        Event::Shift { shift, .. } => Ok(shift.and_then(|s| s.busy)),
        _ => anyhow::bail!("not a shift event"),
    }
}

/// The busy state the directory shows for `staff`.
async fn directory_busy(c: &mut Client, staff: StaffId) -> anyhow::Result<Option<BusyView>> {
    let r = c.ok(Command::Directory {}).await?;
    let CommandResult::Directory { staff: people, .. } = r else {
        anyhow::bail!("directory answered {r:?}")
    };
    let me = people
        .into_iter()
        .find(|s| s.id == staff)
        .ok_or_else(|| anyhow::anyhow!("{staff} not in the directory"))?;
    Ok(me.shift.and_then(|s| s.busy))
}

/// The busy audit rows on `staff`'s shift: (action, actor, from, to, detail).
async fn busy_audit(
    hub: &TestHub,
    staff: StaffId,
) -> anyhow::Result<Vec<(String, Option<String>, String, String, String)>> {
    let rows = hub.store.audit_for(&staff.to_string()).await?;
    Ok(rows
        .into_iter()
        .filter(|a| a.entity == "shift" && a.action.contains("busy"))
        .map(|a| {
            (
                a.action,
                a.actor,
                a.from_state.unwrap_or_default(),
                a.to_state.unwrap_or_default(),
                a.detail,
            )
        })
        .collect())
}

#[tokio::test]
async fn busy_is_told_and_audited_survives_a_restart_and_the_hub_ends_it_at_its_time(
) -> anyhow::Result<()> {
    told_kept_and_ended_by_the_hub(TestHub::start_on_manual_clock(|_| {}).await?).await
}

#[tokio::test]
async fn busy_survives_a_restart_and_ends_at_its_time_on_postgres() -> anyhow::Result<()> {
    on_fresh_postgres("busy_on_postgres", |url| async move {
        let hub = TestHub::start_on_manual_clock(|c: &mut Config| c.database = url.into()).await?;
        told_kept_and_ended_by_the_hub(hub).await
    })
    .await
}

/// Set, told (event and directory), kept across a restart, ended by the
/// hub at its time, and audited: on whichever database `hub` runs.
async fn told_kept_and_ended_by_the_hub(hub: TestHub) -> anyhow::Result<()> {
    let mut fy1 = Client::login_connect(&hub.base(), "fy1.patel").await?;
    let mut coord = Client::login_connect(&hub.base(), "coord.hale").await?;
    let me = fy1.id();
    let t0 = hub.now();

    let set = fy1.ok(set_busy("In resus", 15)).await?;
    let busy = busy_of(&set)?.expect("the result shows her busy");
    assert_eq!(busy.reason, "In resus");
    assert_eq!((busy.since, busy.until), (t0, t0 + 15 * MIN));

    // Her own devices and the coordinator hear it, and the directory shows it.
    let told = shift_event(&mut coord, me, |b, by| b.is_some() && by == Some(me)).await?;
    assert_eq!(told.as_ref(), Some(&busy));
    let own = shift_event(&mut fy1, me, |b, _| b.is_some()).await?;
    assert_eq!(own.as_ref(), Some(&busy));
    assert_eq!(directory_busy(&mut coord, me).await?, Some(busy.clone()));

    // Kept across a restart, not yet ended a minute before its time.
    let hub = hub.restart().await?;
    hub.advance(Duration::from_secs(14 * 60))?;
    let mut coord = Client::login_connect(&hub.base(), "coord.hale").await?;
    assert_eq!(directory_busy(&mut coord, me).await?, Some(busy.clone()));

    // At its time the hub ends it: a shift event by nobody, without busy.
    hub.advance(Duration::from_secs(60))?;
    let ended = shift_event(&mut coord, me, |b, by| b.is_none() && by.is_none()).await?;
    assert_eq!(ended, None);
    let mut fy1 = Client::login_connect(&hub.base(), "fy1.patel").await?;
    shift_event(&mut fy1, me, |b, by| b.is_none() && by.is_none()).await?;
    assert_eq!(directory_busy(&mut coord, me).await?, None);

    let audit = busy_audit(&hub, me).await?;
    let actions: Vec<&str> = audit.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(actions, ["set_busy", "busy_expired"]);
    let (_, actor, from, to, detail) = &audit[0];
    assert_eq!(actor.as_deref(), Some(me.to_string().as_str()));
    assert_eq!((from.as_str(), to.as_str()), ("available", "busy"));
    assert!(detail.starts_with("In resus"), "{detail}");
    let (_, actor, from, to, _) = &audit[1];
    assert_eq!(actor, &None, "the hub ended it");
    assert_eq!((from.as_str(), to.as_str()), ("busy", "available"));
    Ok(())
}

#[tokio::test]
async fn busy_is_ended_by_hand_and_a_busy_doctor_is_still_offered_work() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let mut fy1 = Client::login_connect(&hub.base(), "fy1.patel").await?;
    let mut coord = Client::login_connect(&hub.base(), "coord.hale").await?;
    let mut nurse = Client::login_connect(&hub.base(), "nurse.okafor").await?;
    let me = fy1.id();

    let first = busy_of(&fy1.ok(set_busy("With a sick patient", 30)).await?)?;
    assert!(first.is_some());
    // Set again: replaced, with the new reason and length.
    let again = busy_of(&fy1.ok(set_busy("Breaking bad news", 60)).await?)?.expect("still busy");
    assert_eq!(again.reason, "Breaking bad news");
    assert_eq!(again.until - again.since, 60 * MIN);

    // Busy holds alerts back on her phone; the hub still offers her the work.
    let task = raise_ok(
        &mut nurse,
        raise("w7", Requirement::Role(Role::Fy1), Priority::Urgent),
    )
    .await?;
    assert!(
        task.offers.iter().any(|o| o.staff.id == me),
        "a busy doctor is still offered tasks: {:?}",
        task.offers
    );

    let ended = fy1.ok(Command::EndBusy {}).await?;
    assert_eq!(busy_of(&ended)?, None);
    shift_event(&mut coord, me, |b, by| b.is_none() && by == Some(me)).await?;
    assert_eq!(directory_busy(&mut coord, me).await?, None);

    let actions: Vec<String> = busy_audit(&hub, me)
        .await?
        .into_iter()
        .map(|a| a.0)
        .collect();
    assert_eq!(actions, ["set_busy", "set_busy", "end_busy"]);
    Ok(())
}

#[tokio::test]
async fn refused_busy_commands_change_nothing() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let mut fy1 = Client::login_connect(&hub.base(), "fy1.patel").await?;
    let mut admin = Client::login_connect(&hub.base(), "admin").await?;
    let me = fy1.id();
    let too_long = "x".repeat(61);
    let refused = [
        (set_busy("In resus", 0), ErrorCode::InvalidField, "minutes"),
        (set_busy("In resus", 4), ErrorCode::InvalidField, "minutes"),
        (
            set_busy("In resus", 121),
            ErrorCode::InvalidField,
            "minutes",
        ),
        (set_busy("", 15), ErrorCode::InvalidField, "reason"),
        (set_busy("   ", 15), ErrorCode::InvalidField, "reason"),
        (set_busy(&too_long, 15), ErrorCode::InvalidField, "reason"),
        (
            set_busy("In resus\nbed 4", 15),
            ErrorCode::InvalidField,
            "reason",
        ),
        (
            set_busy("In\u{202e} resus", 15),
            ErrorCode::InvalidField,
            "reason",
        ),
        (Command::EndBusy {}, ErrorCode::InvalidState, "not busy"),
    ];
    for (cmd, code, says) in refused {
        let op = format!("{cmd:?}");
        let e = fy1
            .command(cmd)
            .await?
            .err()
            .ok_or_else(|| anyhow::anyhow!("{op} was applied"))?;
        assert_eq!(e.code, code, "{op}: {}", e.message);
        assert!(e.message.starts_with(says), "{op}: {}", e.message);
    }
    // Someone not on shift cannot be busy.
    let e = admin
        .command(set_busy("In theatre", 30))
        .await?
        .expect_err("refused off shift");
    assert_eq!(
        (e.code, e.message.as_str()),
        (ErrorCode::InvalidState, "not on shift")
    );
    assert_eq!(directory_busy(&mut admin, me).await?, None);
    assert!(busy_audit(&hub, me).await?.is_empty());
    assert!(busy_audit(&hub, admin.id()).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn a_busy_state_replaced_ends_at_its_new_time_not_the_old_one() -> anyhow::Result<()> {
    let hub = TestHub::start_on_manual_clock(|_| {}).await?;
    let mut fy1 = Client::login_connect(&hub.base(), "fy1.patel").await?;
    let mut coord = Client::login_connect(&hub.base(), "coord.hale").await?;
    let me = fy1.id();
    fy1.ok(set_busy("In resus", 15)).await?;
    hub.advance(Duration::from_secs(5 * 60))?;
    let longer = busy_of(&fy1.ok(set_busy("In theatre", 30)).await?)?.expect("busy");
    // Past the first until: the replaced state's deadline fires nothing.
    hub.advance(Duration::from_secs(11 * 60))?;
    assert_eq!(directory_busy(&mut coord, me).await?, Some(longer));
    hub.advance(Duration::from_secs(19 * 60))?;
    shift_event(&mut coord, me, |b, by| b.is_none() && by.is_none()).await?;
    let actions: Vec<String> = busy_audit(&hub, me)
        .await?
        .into_iter()
        .map(|a| a.0)
        .collect();
    assert_eq!(actions, ["set_busy", "set_busy", "busy_expired"]);
    Ok(())
}

//! Input that misleads people: text that displays as something other than
//! what it is, shifts that never end, nil command ids, commands larger than
//! a frame. Each is refused by a real hub with a clear code, and none of
//! them changes anything.

use wardpage_proto::{
    limits, Category, Command, CommandId, CommandResult, ErrorCode, PageTarget, Priority,
    Requirement, Role, Sbar, Skill, WardId,
};
use wardpage_server::clock::now_ms;
use wardpage_tests::story::*;
use wardpage_tests::{Client, TestHub};

const HOUR: i64 = 3_600_000;

fn raise_with(bed: &str, patient: &str, sbar: Sbar) -> Command {
    Command::RaiseTask {
        ward: WardId("w7".into()),
        bed: bed.into(),
        patient: patient.into(),
        patient_id: None,
        category: Category::Cannula,
        priority: Priority::Urgent,
        requirement: Requirement::Skill(Skill::Cannulation),
        sbar,
    }
}

fn situation(text: &str) -> Sbar {
    Sbar {
        situation: text.into(),
        ..Sbar::default()
    }
}

/// Sends `cmd` and returns the refusal's code and message.
async fn refused(c: &mut Client, cmd: Command) -> anyhow::Result<(ErrorCode, String)> {
    let op = cmd.op();
    match c.command(cmd).await? {
        Ok(r) => anyhow::bail!("{op} was accepted: {r:?}"),
        Err(e) => Ok((e.code, e.message)),
    }
}

#[tokio::test]
async fn invisible_and_reordering_characters_in_identifiers_are_refused() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    // `RX\u{202e}7654321` displays as `RX1234567`: the wrong patient.
    let cases = [
        ("12", "RX\u{202e}7654321", "patient", "U+202E"),
        ("12", "RX123\u{200b}4567", "patient", "U+200B"),
        ("12", "RX1234567\u{2066}", "patient", "U+2066"),
        ("12", "\u{feff}RX1234567", "patient", "U+FEFF"),
        ("12", "RX1234567\u{2028}", "patient", "U+2028"),
        ("12", "RX\u{a0}1234567", "patient", "U+00A0"),
        ("12", "RX1234567 ", "patient", "space"),
        ("1\u{200d}2", "RX1234567", "bed", "U+200D"),
        ("1\u{2029}2", "RX1234567", "bed", "U+2029"),
        ("\u{200e}12", "RX1234567", "bed", "U+200E"),
    ];
    for (bed, patient, field, shown) in cases {
        let (code, message) =
            refused(&mut nurse, raise_with(bed, patient, situation("Tissued"))).await?;
        assert_eq!(
            code,
            ErrorCode::InvalidField,
            "{field} {patient:?}: {message}"
        );
        assert!(
            message.starts_with(field) && message.contains(shown),
            "the message names the field and the character: {message}"
        );
    }
    // The callback is dialled or walked to: held to the same rule.
    let (code, message) = refused(
        &mut nurse,
        Command::SendPage {
            target: PageTarget::Role(Role::Fy1),
            priority: Priority::Urgent,
            callback: "ext 44\u{202e}71".into(),
            message: "Bed 12 NEWS 7".into(),
            ward: None,
        },
    )
    .await?;
    assert_eq!(code, ErrorCode::InvalidField, "{message}");
    assert!(message.starts_with("callback"), "{message}");
    // Nothing was raised or sent.
    let (_, tasks) = snapshot(&mut nurse).await?;
    assert!(tasks.is_empty(), "{tasks:?}");
    hub.stop().await
}

#[tokio::test]
async fn format_characters_in_free_text_are_refused_and_newlines_kept() -> anyhow::Result<()> {
    let hub = TestHub::start_with(offers_wait).await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    for (text, shown) in [
        ("Give 10 mg \u{202e}IV\u{202c} now", "U+202E"),
        ("NEWS\u{2028}7", "U+2028"),
        ("NEWS\u{2029}7", "U+2029"),
        ("isolate\u{2067}d", "U+2067"),
        ("hidden\u{200b}text", "U+200B"),
    ] {
        let (code, message) = refused(&mut nurse, raise_with("12", "RX1", situation(text))).await?;
        assert_eq!(code, ErrorCode::InvalidField, "{text:?}: {message}");
        assert!(
            message.starts_with("sbar.situation") && message.contains(shown),
            "{message}"
        );
    }
    let (code, message) = refused(
        &mut nurse,
        Command::SendPage {
            target: PageTarget::Role(Role::Fy1),
            priority: Priority::Urgent,
            callback: "ext 4471".into(),
            message: "Bed 12\u{2066} NEWS 7".into(),
            ward: None,
        },
    )
    .await?;
    assert_eq!(
        (code, message.starts_with("message")),
        (ErrorCode::InvalidField, true),
        "{message}"
    );
    // Ordinary newlines, tabs and emoji (joined with U+200D) stay as sent.
    let text = "Line one\nLine two\tindented 👩\u{200d}⚕️";
    let task = raise_ok(&mut nurse, raise_with("12", "RX1234567", situation(text))).await?;
    assert_eq!(task.sbar.situation, text);
    let (code, message) = refused(
        &mut nurse,
        Command::Cancel {
            task: task.id,
            reason: "wrong\u{202e} patient".into(),
        },
    )
    .await?;
    assert_eq!(code, ErrorCode::InvalidField, "{message}");
    let (_, tasks) = snapshot(&mut nurse).await?;
    assert_eq!(tasks.len(), 1, "only the clean raise happened");
    assert_eq!(tasks[0].version, 1, "the refused cancel changed nothing");
    hub.stop().await
}

#[tokio::test]
async fn a_shift_may_not_end_more_than_a_day_from_now() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let fy1 = Client::login_connect(&base, "fy1.patel").await?;
    let year_2500 = 16_725_225_600_000;
    for ends_at in [year_2500, i64::MAX, now_ms() + 25 * HOUR] {
        let (code, message) = refused(
            &mut coord,
            Command::StartShift {
                staff: fy1.id(),
                role: Role::Fy1,
                wards: vec!["w7".into()],
                ends_at,
            },
        )
        .await?;
        assert_eq!(code, ErrorCode::InvalidField, "{ends_at}: {message}");
        assert!(message.starts_with("ends_at"), "{message}");
    }
    let before = fy1.me.shift.clone();
    let CommandResult::Directory { staff, .. } = coord.ok(Command::Directory {}).await? else {
        anyhow::bail!("expected a directory");
    };
    let now_shift = staff
        .iter()
        .find(|s| s.id == fy1.id())
        .map(|s| s.shift.clone());
    assert_eq!(
        now_shift,
        Some(before),
        "the refused shifts changed nothing"
    );
    let r = coord
        .ok(Command::StartShift {
            staff: fy1.id(),
            role: Role::Fy1,
            wards: vec!["w7".into()],
            ends_at: now_ms() + 13 * HOUR,
        })
        .await?;
    assert!(matches!(r, CommandResult::Shift { shift: Some(_), .. }));
    hub.stop().await
}

#[tokio::test]
async fn a_nil_command_id_is_refused_with_a_null_id() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let frame = serde_json::json!({
        "type": "cmd",
        "id": uuid::Uuid::nil().to_string(),
        "cmd": serde_json::to_value(cannula_w7())?,
    });
    nurse.send_text(frame.to_string()).await?;
    let (code, message) = nurse.next_error().await?;
    assert_eq!(code, ErrorCode::InvalidField, "{message}");
    assert!(message.starts_with("id"), "{message}");
    let (_, tasks) = snapshot(&mut nurse).await?;
    assert!(tasks.is_empty(), "the nil-id raise did not happen");
    hub.stop().await
}

/// The field limits count characters; the frame limit counts bytes and
/// wins. Text of characters up to three UTF-8 bytes (the Basic
/// Multilingual Plane) at every field's limit fits; four-byte characters
/// (emoji) at every limit do not, and the hub says `too_large`, id null.
#[tokio::test]
async fn the_frame_limit_wins_over_the_field_limits() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let full = |c: char| {
        let field = |n: usize| std::iter::repeat_n(c, n).collect::<String>();
        Sbar {
            situation: field(limits::MAX_SBAR_CHARS),
            background: field(limits::MAX_SBAR_CHARS),
            assessment: field(limits::MAX_SBAR_CHARS),
            recommendation: field(limits::MAX_SBAR_CHARS),
        }
    };
    let patient: String = std::iter::repeat_n('€', limits::MAX_PATIENT_CHARS).collect();
    let bmp = raise_with("12", &patient, full('€'));
    assert!(bmp.validate().is_ok());
    let task = raise_ok(&mut nurse, bmp).await?;
    assert_eq!(
        task.sbar.recommendation.chars().count(),
        limits::MAX_SBAR_CHARS
    );

    let stethoscopes: String = std::iter::repeat_n('🩺', limits::MAX_PATIENT_CHARS).collect();
    let emoji = raise_with("12", &stethoscopes, full('🩺'));
    assert!(emoji.validate().is_ok(), "every field is within its limit");
    let id = CommandId::new_random();
    let text = serde_json::to_string(&wardpage_proto::ClientFrame::Cmd {
        id,
        cmd: emoji,
        issued_at: None,
    })?;
    assert!(text.len() > limits::MAX_FRAME_BYTES);
    nurse.send_text(text).await?;
    let (code, message) = nurse.next_error().await?;
    assert_eq!(code, ErrorCode::TooLarge, "{message}");
    let (_, tasks) = snapshot(&mut nurse).await?;
    assert_eq!(tasks.len(), 1, "the oversized raise changed nothing");
    hub.stop().await
}

/// The hub's answers keep the hub-to-client limit: a coordinator's
/// snapshot (and history) of many large tasks comes in parts, each under
/// 1 MiB, which together hold every task exactly once.
#[tokio::test]
async fn a_large_snapshot_and_history_come_in_parts_under_the_limit() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    // 120 tasks of about 12 KB each (three-byte characters at every SBAR
    // limit), and 150 small ones: 270 tasks, about 1.5 MB in all.
    let big: String = std::iter::repeat_n('€', limits::MAX_SBAR_CHARS).collect();
    let mut raised = Vec::new();
    for i in 0..270 {
        let sbar = if i < 120 {
            Sbar {
                situation: big.clone(),
                background: big.clone(),
                assessment: big.clone(),
                recommendation: big.clone(),
            }
        } else {
            situation("Tissued cannula")
        };
        raised.push(
            raise_ok(&mut nurse, raise_with("12", "RX1234567", sbar))
                .await?
                .id,
        );
    }
    let mut after = None;
    let mut seen = Vec::new();
    let mut parts = 0;
    loop {
        let id = CommandId::new_random();
        let result = coord
            .command_with_id(id, Command::Snapshot { after })
            .await?
            .map_err(|e| anyhow::anyhow!("snapshot refused: {e}"))?;
        let size = wardpage_proto::ServerFrame::Ok {
            id,
            result: result.clone(),
        }
        .to_text()
        .len();
        assert!(
            size <= limits::MAX_SERVER_FRAME_BYTES,
            "part {parts} is {size} bytes"
        );
        let CommandResult::Snapshot { tasks, next, .. } = result else {
            anyhow::bail!("expected a snapshot");
        };
        assert!(tasks.len() <= wardpage_proto::paging::PART_ITEMS);
        seen.extend(tasks.iter().map(|t| t.id));
        parts += 1;
        match next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert!(parts >= 3, "{parts} parts");
    assert_eq!(seen, raised, "every task once, in the order raised");
    // A token the hub never gave is refused.
    let e = coord
        .command(Command::Snapshot {
            after: Some("page 2 please".into()),
        })
        .await?
        .expect_err("not a token");
    assert_eq!(e.code, ErrorCode::InvalidField, "{e}");
    // History comes in parts the same way, each under the limit.
    let mut after = None;
    let mut history = Vec::new();
    loop {
        let id = CommandId::new_random();
        let result = coord
            .command_with_id(id, Command::History { since: 0, after })
            .await?
            .map_err(|e| anyhow::anyhow!("history refused: {e}"))?;
        let size = wardpage_proto::ServerFrame::Ok {
            id,
            result: result.clone(),
        }
        .to_text()
        .len();
        assert!(size <= limits::MAX_SERVER_FRAME_BYTES, "{size} bytes");
        let CommandResult::History { tasks, next } = result else {
            anyhow::bail!("expected history");
        };
        history.extend(tasks.iter().map(|t| t.id));
        match next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(history, raised);
    assert_eq!(coord.history_all(0).await?.len(), 270);
    // The nurse's own snapshot, read whole by the test client.
    let all = nurse.snapshot_all().await?;
    assert_eq!((all.tasks.len(), all.parts > 1), (270, true));
    hub.stop().await
}

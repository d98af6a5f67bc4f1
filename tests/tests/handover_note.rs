//! The shift handover note per patient, end to end against a real hub: a
//! doctor on the ward writes it, the ward is told, it is audited whole and
//! is still there after the hub restarts (carried to the next shift); bad
//! input and a writer not on the ward are refused and change nothing.

use wardpage_proto::{
    Command, CommandResult, ErrorCode, Event, HandoverNoteText, PatientChange, PatientDetails,
    PatientId, PatientView, Sex,
};
use wardpage_tests::{Client, TestHub};

fn details() -> PatientDetails {
    PatientDetails {
        nhs_number: Some("9990000018".into()),
        local_number: None,
        name: "Ada Testpatient".into(),
        born: "1941-06-30".into(),
        sex: Sex::Female,
        consultant: "Dr A Example".into(),
        alerts: String::new(),
    }
}

fn note(what_if: &str) -> HandoverNoteText {
    HandoverNoteText {
        situation: "Community-acquired pneumonia, day 2".into(),
        background: "COPD, lives alone".into(),
        assessment: "NEWS2 3, improving".into(),
        recommendation: "IV antibiotics due 02:00; repeat CRP in the morning".into(),
        what_if: what_if.into(),
    }
}

async fn admit(nic: &mut Client) -> anyhow::Result<PatientView> {
    let admitted = nic
        .ok(Command::AdmitPatient {
            ward: "w7".into(),
            bed: "5".into(),
            patient: details(),
        })
        .await?;
    match admitted {
        CommandResult::Patient { patient } => Ok(patient),
        other => anyhow::bail!("admit answered {other:?}"),
    }
}

/// The patient as a ward read shows them now.
async fn read(c: &mut Client, id: PatientId) -> anyhow::Result<PatientView> {
    let read = c
        .ok(Command::Patients {
            ward: Some("w7".into()),
            after: None,
        })
        .await?;
    let CommandResult::Patients { patients, .. } = read else {
        anyhow::bail!("patients answered {read:?}")
    };
    patients
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| anyhow::anyhow!("patient {id} not listed"))
}

#[tokio::test]
async fn a_handover_note_is_told_to_the_ward_audited_and_carried_across_a_restart(
) -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nic = Client::login_connect(&base, "nic.grant").await?;
    let mut fy1 = Client::login_connect(&base, "fy1.patel").await?;
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let p = admit(&mut nic).await?;
    let what_if = "If NEWS2 reaches 5, call the registrar and send a gas";
    let written = fy1
        .ok(Command::SetHandoverNote {
            patient: p.id,
            note: note(what_if),
        })
        .await?;
    let CommandResult::Patient { patient } = written else {
        anyhow::bail!("set_handover_note answered {written:?}")
    };
    let n = patient
        .handover_note
        .clone()
        .expect("the note is on the patient");
    assert_eq!((n.what_if.as_str(), n.by.id), (what_if, fy1.id()));
    assert_eq!(patient.version, p.version + 1);
    let told = nurse
        .wait_for(|e| {
            matches!(e, Event::Patient { change: PatientChange::HandoverNote, patient, .. } if patient.id == p.id)
        })
        .await?;
    let Event::Patient { patient: seen, .. } = told else {
        anyhow::bail!("not a patient event")
    };
    assert_eq!(seen.handover_note, patient.handover_note);

    let audit = hub.store.audit_for(&p.id.to_string()).await?;
    let row = audit
        .iter()
        .find(|a| a.action == "set_handover_note")
        .expect("the note is audited");
    assert!(
        row.detail.contains(&format!("What if: {what_if}")),
        "{}",
        row.detail
    );
    assert!(
        row.detail.contains("S: Community-acquired pneumonia"),
        "{}",
        row.detail
    );

    // The next shift (after a restart) reads the same note.
    let hub = hub.restart().await?;
    let mut sho = Client::login_connect(&hub.base(), "sho.khan").await?;
    let later = read(&mut sho, p.id).await?;
    assert_eq!(later.handover_note, patient.handover_note);
    hub.stop().await
}

#[tokio::test]
async fn a_bad_or_unauthorised_handover_note_is_refused_and_changes_nothing() -> anyhow::Result<()>
{
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nic = Client::login_connect(&base, "nic.grant").await?;
    let mut fy1 = Client::login_connect(&base, "fy1.patel").await?;
    let mut ruiz = Client::login_connect(&base, "fy1.ruiz").await?;
    let p = admit(&mut nic).await?;
    fy1.ok(Command::SetHandoverNote {
        patient: p.id,
        note: note("Call the registrar"),
    })
    .await?;
    let before = read(&mut nic, p.id).await?;

    let long = "x".repeat(1001);
    let mut empty = note("");
    empty.situation = String::new();
    let mut control = note("");
    control.assessment = "stable\u{7}".into();
    for (bad, field) in [
        (note(&long), "note.what_if"),
        (empty, "note.situation"),
        (control, "note.assessment"),
    ] {
        let refused = fy1
            .command(Command::SetHandoverNote {
                patient: p.id,
                note: bad,
            })
            .await?
            .expect_err("bad input accepted");
        assert_eq!(refused.code, ErrorCode::InvalidField, "{}", refused.message);
        assert!(refused.message.starts_with(field), "{}", refused.message);
    }
    // Dr Ruiz covers AMU and Ward 12, not Ward 7: the patient is not hers to see.
    let refused = ruiz
        .command(Command::SetHandoverNote {
            patient: p.id,
            note: note("Overwritten"),
        })
        .await?
        .expect_err("written from another ward");
    assert_eq!(refused.code, ErrorCode::NotFound, "{}", refused.message);

    assert_eq!(read(&mut nic, p.id).await?, before, "nothing changed");
    let audit = hub.store.audit_for(&p.id.to_string()).await?;
    let notes = audit
        .iter()
        .filter(|a| a.action == "set_handover_note")
        .count();
    assert_eq!(notes, 1, "only the good note is audited");
    hub.stop().await
}

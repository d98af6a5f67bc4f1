// What a command result or an event frame says about the hospital, read once
// for both apps: which task, page and patient views it carries, the directory,
// a shift change, and an escalation. Each app's state is a `Sink`: the
// handheld's Store and the dashboard's DashState keep their own shapes (and
// their own rule for which views to keep) and only say how to put a view.
// What an app makes of an event beyond that (the handheld's notices, the
// dashboard's feed and announcements) stays in the app.

/** @typedef {import('./types.js').TaskView} TaskView */
/** @typedef {import('./types.js').PageView} PageView */
/** @typedef {import('./types.js').PatientView} PatientView */
/** @typedef {import('./types.js').StaffView} StaffView */
/** @typedef {import('./types.js').WardView} WardView */
/** @typedef {import('./types.js').ShiftView} ShiftView */
/** @typedef {import('./types.js').CommandResult} CommandResult */
/** @typedef {import('./types.js').EventFrame} EventFrame */
/** @typedef {Extract<import('./types.js').WireEvent, {kind: 'task_escalated' | 'page_escalated'}>} Escalated */

/**
 * Where the views go. Each `put` must keep the newest `version` of a view
 * (an older one can arrive after a newer: a snapshot part read before an
 * event, a replay).
 * @typedef {object} Sink
 * @property {(task: TaskView) => void} putTask
 * @property {(page: PageView) => void} putPage
 * @property {(patient: PatientView) => void} putPatient
 * @property {(wards: WardView[], staff: StaffView[]) => void} putDirectory
 * @property {(staff: string, shift: ShiftView | null) => void} putShift
 * @property {(ev: Escalated, at: number) => void} escalated the hub escalated a task or page (its view is already put)
 */

/**
 * Put what a command's answer carries.
 * @param {Sink} sink
 * @param {CommandResult} result
 */
export function reduceResult(sink, result) {
  switch (result.kind) {
    case 'task':
      sink.putTask(result.task);
      break;
    case 'page':
      sink.putPage(result.page);
      break;
    case 'snapshot':
      for (const t of result.tasks) sink.putTask(t);
      for (const p of result.pages) sink.putPage(p);
      break;
    case 'directory':
      sink.putDirectory(result.wards, result.staff);
      break;
    case 'shift':
      sink.putShift(result.staff, result.shift);
      break;
    case 'patient':
    case 'chart':
      sink.putPatient(result.patient);
      break;
    case 'observation':
      sink.putPatient(result.patient);
      if (result.review) sink.putTask(result.review);
      break;
    case 'patients':
      for (const p of result.patients) sink.putPatient(p);
      break;
    case 'handover':
      for (const t of result.tasks) sink.putTask(t);
      for (const p of result.pages) sink.putPage(p);
      break;
  }
}

/**
 * Put what an event carries. Whether the frame is new (its `seq`) is the
 * caller's business: this is the meaning of the event, not its delivery.
 * @param {Sink} sink
 * @param {EventFrame} frame
 */
export function reduceEvent(sink, frame) {
  const ev = frame.event;
  switch (ev.kind) {
    case 'task':
      sink.putTask(ev.task);
      break;
    case 'page':
      sink.putPage(ev.page);
      break;
    case 'patient':
      sink.putPatient(ev.patient);
      break;
    case 'task_escalated':
      sink.putTask(ev.task);
      sink.escalated(ev, frame.at);
      break;
    case 'page_escalated':
      sink.putPage(ev.page);
      sink.escalated(ev, frame.at);
      break;
    case 'shift':
      sink.putShift(ev.staff.id, ev.shift);
      break;
    case 'held_at_shift_end':
      // The tasks as offered again; the pages still open.
      for (const t of ev.tasks) sink.putTask(t);
      for (const p of ev.pages) sink.putPage(p);
      break;
  }
}

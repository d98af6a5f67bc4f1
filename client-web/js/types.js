// Type names for the JSDoc annotations of the other modules. The wire types are
// generated from the hub's Rust types (../types/, do not edit), so a protocol
// change that breaks this client fails `tsc --checkJs` in tests/web.
// This module holds no code; it only exports types.

/** @typedef {import('../types/ServerFrame').ServerFrame} ServerFrame */
/** @typedef {import('../types/ClientFrame').ClientFrame} ClientFrame */
/** @typedef {import('../types/Command').Command} Command */
/** @typedef {import('../types/CommandResult').CommandResult} CommandResult */
/** @typedef {import('../types/ErrorCode').ErrorCode} ErrorCode */
/** @typedef {import('../types/Event').Event} WireEvent */
/** @typedef {import('../types/TaskView').TaskView} TaskView */
/** @typedef {import('../types/PageView').PageView} PageView */
/** @typedef {import('../types/PageTarget').PageTarget} PageTarget */
/** @typedef {import('../types/PageReceipt').PageReceipt} PageReceipt */
/** @typedef {import('../types/StaffView').StaffView} StaffView */
/** @typedef {import('../types/StaffRef').StaffRef} StaffRef */
/** @typedef {import('../types/ShiftView').ShiftView} ShiftView */
/** @typedef {import('../types/BusyView').BusyView} BusyView */
/** @typedef {import('../types/WardView').WardView} WardView */
/** @typedef {import('../types/Priority').Priority} Priority */
/** @typedef {import('../types/Category').Category} Category */
/** @typedef {import('../types/Role').Role} Role */
/** @typedef {import('../types/Skill').Skill} Skill */
/** @typedef {import('../types/Requirement').Requirement} Requirement */
/** @typedef {import('../types/TaskState').TaskState} TaskState */
/** @typedef {import('../types/TaskChange').TaskChange} TaskChange */
/** @typedef {import('../types/PageChange').PageChange} PageChange */
/** @typedef {import('../types/PatientView').PatientView} PatientView */
/** @typedef {import('../types/PatientDetails').PatientDetails} PatientDetails */
/** @typedef {import('../types/PatientRef').PatientRef} PatientRef */
/** @typedef {import('../types/ObservationSet').ObservationSet} ObservationSet */
/** @typedef {import('../types/ObservationView').ObservationView} ObservationView */
/** @typedef {import('../types/News2Score').News2Score} News2Score */
/** @typedef {import('../types/SubScores').SubScores} SubScores */
/** @typedef {import('../types/Band').Band} Band */
/** @typedef {import('../types/Trend').Trend} Trend */
/** @typedef {import('../types/Spo2Scale').Spo2Scale} Spo2Scale */
/** @typedef {import('../types/Consciousness').Consciousness} Consciousness */
/** @typedef {import('../types/OxygenDevice').OxygenDevice} OxygenDevice */
/** @typedef {import('../types/Breathing').Breathing} Breathing */
/** @typedef {import('../types/Sex').Sex} Sex */
/** @typedef {import('../types/HandoverNote').HandoverNote} HandoverNote */
/** @typedef {import('../types/HandoverNoteText').HandoverNoteText} HandoverNoteText */

/** A `{"type":"event"}` frame. @typedef {Extract<ServerFrame, {type: 'event'}>} EventFrame */
/** A `{"type":"welcome"}` frame. @typedef {Extract<ServerFrame, {type: 'welcome'}>} WelcomeFrame */

/**
 * What `POST /api/login` answers, kept in localStorage so a reload stays logged in.
 * @typedef {{token: string, expires_at: number, staff: StaffView}} Session
 */

export {};

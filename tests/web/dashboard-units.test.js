// The dashboard's arithmetic without a browser: percentiles, tasks per hour,
// time to accept/complete against targets, the CSV export (quoting and
// formula neutralising), overdue wording, the shift end time picker, and
// when work reported done offline was done.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { percentile, perHour, timeTo, totals, toCsv, csvCell, CSV_COLUMNS } from '../../client-web/dashboard/metrics.js';
import { targetText, whoText, comparator, ago, statusText } from '../../client-web/dashboard/task-text.js';
import { nextTime } from '../../client-web/dashboard/staff.js';
import { escalationWords, listWords } from '../../client-web/js/escalation-words.js';
import { meetsRequirement, workloadWords } from '../../client-web/dashboard/task-text.js';
import { doneAt } from '../../client-web/dashboard/attention.js';
import { acceptJudged, declinesByReason, escalationsByStep, news2Compliance, sharesBy } from '../../client-web/dashboard/response.js';

const MIN = 60000;
const T0 = Date.UTC(2026, 10, 28, 22, 0);

/** @param {Partial<import('../../client-web/types/TaskView').TaskView>} over */
function task(over = {}) {
  return /** @type {import('../../client-web/types/TaskView').TaskView} */ ({
    id: `t-${Math.random()}`, version: 1, ward: 'w7', bed: '12', patient: 'RX1', category: 'cannula', priority: 'urgent',
    requirement: { skill: 'cannulation' }, sbar: { situation: 's', background: '', assessment: '', recommendation: '' },
    state: 'offering', unassigned_reason: null, raised_by: { id: 'n', name: 'Nurse Sam Okafor' }, offers: [], assignee: null,
    raised_at: T0, updated_at: T0, accept_by: T0 + 15 * MIN, complete_by: T0 + 60 * MIN, accepted_at: null, started_at: null,
    closed_at: null, closing_note: null, escalation_level: 0, next_escalation_at: null, ...over,
  });
}

describe('dashboard metrics', () => {
  it('computes nearest-rank percentiles', () => {
    assert.equal(percentile([], 50), null);
    assert.equal(percentile([5], 90), 5);
    assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50), 5);
    assert.equal(percentile([10, 1, 9, 2, 8, 3, 7, 4, 6, 5], 90), 9);
  });

  it('counts tasks per hour by ward and by category', () => {
    const tasks = [task({ raised_at: T0 + 5 * MIN }), task({ raised_at: T0 + 65 * MIN, ward: 'w8', category: 'bloods' }), task({ raised_at: T0 + 70 * MIN })];
    const byWard = perHour(tasks, 'ward', T0, T0 + 2 * 60 * MIN);
    assert.deepEqual(byWard.hours, [T0, T0 + 60 * MIN]);
    assert.deepEqual(byWard.series, [{ key: 'w7', counts: [1, 1] }, { key: 'w8', counts: [0, 1] }]);
    const byCat = perHour(tasks, 'category', T0, T0 + 2 * 60 * MIN);
    assert.deepEqual(byCat.series.map((s) => s.key), ['bloods', 'cannula']);
  });

  it('measures time to accept and complete against the target, per priority', () => {
    const tasks = [
      task({ accepted_at: T0 + 5 * MIN, state: 'completed', closed_at: T0 + 30 * MIN }),
      task({ accepted_at: T0 + 10 * MIN, state: 'accepted' }),
      task({ accepted_at: T0 + 20 * MIN, state: 'completed', closed_at: T0 + 90 * MIN }),
      task({ priority: 'routine', accept_by: T0 + 240 * MIN, complete_by: T0 + 720 * MIN }),
    ];
    const accept = timeTo(tasks, 'accept');
    const urgent = accept.find((s) => s.priority === 'urgent');
    assert.deepEqual(urgent, { priority: 'urgent', n: 3, median: 10 * MIN, p90: 20 * MIN, target: 15 * MIN, within: 2 / 3 });
    const routine = accept.find((s) => s.priority === 'routine');
    assert.deepEqual(routine, { priority: 'routine', n: 0, median: null, p90: null, target: 240 * MIN, within: null });
    const complete = timeTo(tasks, 'complete').find((s) => s.priority === 'urgent');
    assert.equal(complete?.n, 2);
    assert.equal(complete?.median, 30 * MIN);
    assert.equal(complete?.within, 0.5);
    assert.deepEqual(totals(tasks), { raised: 4, open: 2, completed: 2, cancelled: 0, escalated: 0 });
  });

  it('writes CSV that a spreadsheet reads safely', () => {
    assert.equal(csvCell('plain'), 'plain');
    assert.equal(csvCell('a, b'), '"a, b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvCell('-1'), "'-1");
    const csv = toCsv([task({ id: 'b', raised_at: T0 + MIN, closing_note: 'line\nbreak' }), task({ id: 'a' })], (w) => (w === 'w7' ? 'Ward 7 (Medicine)' : w));
    const lines = csv.split('\r\n');
    assert.equal(lines[0], CSV_COLUMNS.join(','));
    assert.ok(lines[1].startsWith('a,w7,Ward 7 (Medicine),12,RX1,Cannula,Urgent,Cannulation,Offering,Nurse Sam Okafor,2026-11-28T22:00:00.000Z,'), lines[1]);
    assert.ok(csv.includes('"line\nbreak"'));
    assert.ok(csv.endsWith('\r\n'));
  });
});

describe('dashboard task wording', () => {
  it('shows an assignment as waiting for its assignee, never as an accept', () => {
    const khan = { id: 'k', name: 'Dr Omar Khan' };
    const waiting = task({ state: 'assigned', assignee: khan, assigned_by: { id: 'c', name: 'Sister Jo Hale' }, assigned_at: T0 + 2 * MIN });
    assert.equal(statusText(waiting, T0 + 6 * MIN), 'Assigned — waiting for Dr Omar Khan to acknowledge (4 min)');
    assert.equal(whoText(waiting), 'Dr Omar Khan (not acknowledged)');
    assert.match(targetText(waiting, T0 + 6 * MIN).text, /^Accept by /, 'the accept target still counts');
    const acked = { ...waiting, state: /** @type {const} */ ('accepted'), accepted_at: T0 + 7 * MIN };
    const urgent = (/** @type {any[]} */ ts) => timeTo(ts, 'accept').find((s) => s.priority === 'urgent');
    assert.equal(urgent([waiting])?.n, 0, 'an assignment is not an accept');
    assert.equal(urgent([acked])?.median, 7 * MIN, 'the acknowledgement is');
    assert.equal(workloadWords({ offered: 1, assigned: 1, accepted: 0, started: 0 }), '1 offered, 1 assigned (not acknowledged)');
  });

  it('says overdue in words, against accept-by then complete-by', () => {
    assert.deepEqual(targetText(task(), T0 + 5 * MIN).overdue, false);
    assert.match(targetText(task(), T0 + 5 * MIN).text, /^Accept by \d\d:\d\d \(10 min left\)$/);
    assert.match(targetText(task(), T0 + 20 * MIN).text, /^OVERDUE: accept by \d\d:\d\d, 5 min late$/);
    const held = task({ state: 'accepted', assignee: { id: 'k', name: 'Dr Omar Khan' } });
    assert.match(targetText(held, T0 + 20 * MIN).text, /^Complete by/);
    assert.match(targetText(held, T0 + 61 * MIN).text, /^OVERDUE: complete by \d\d:\d\d, 1 min late$/);
    assert.match(targetText(task(), T0 + 15 * MIN + 1000).text, /less than a minute late/);
  });

  it('names who holds a task or who it is offered to', () => {
    const offers = ['A', 'B', 'C', 'D', 'E'].map((n) => ({ staff: { id: n, name: n }, state: /** @type {const} */ ('offered'), reason: null }));
    offers[4] = { ...offers[4], state: 'declined' };
    assert.equal(whoText(task({ offers })), 'Offered to A, B, C +1; 1 declined');
    assert.equal(whoText(task({ assignee: { id: 'k', name: 'Dr Omar Khan' }, state: 'accepted' })), 'Dr Omar Khan');
    assert.equal(whoText(task()), 'Nobody');
    assert.equal(ago(T0, T0 + 30000), 'just now');
    assert.equal(ago(T0, T0 + 65 * MIN), '1h 05m ago');
  });

  it('orders tasks totally, whatever the sort', () => {
    const a = task({ id: 'a', priority: 'routine', accept_by: T0 + 240 * MIN });
    const b = task({ id: 'b', priority: 'emergency', accept_by: T0 + 2 * MIN });
    const c = task({ id: 'c', priority: 'emergency', accept_by: T0 + 2 * MIN });
    assert.deepEqual([a, c, b].sort(comparator('due', false)).map((t) => t.id), ['b', 'c', 'a']);
    // Descending reverses the key; equal keys still fall back to the id.
    assert.deepEqual([a, c, b].sort(comparator('priority', true)).map((t) => t.id), ['a', 'b', 'c']);
  });

  it('picks the next time a shift end comes round', () => {
    const evening = new Date(2026, 10, 28, 20, 0).getTime();
    const end = new Date(nextTime('08:00', evening));
    assert.equal(end.getDate(), 29);
    assert.equal(end.getHours(), 8);
    assert.equal(new Date(nextTime('23:30', evening)).getDate(), 28);
  });

  it('tells an escalation in plain words: what did not happen, for how long, who was turned to', () => {
    /** @type {Record<string, import('../../client-web/types/Role').Role>} */
    const roles = { k: 'sho', e: 'registrar', h: 'coordinator' };
    const roleOf = (/** @type {string} */ id) => roles[id];
    const people = [{ id: 'k', name: 'Dr Omar Khan' }, { id: 'h', name: 'Sister Jo Hale' }, { id: 'e', name: 'Dr Claire Evans' }];
    const waiting = /** @type {any} */ ({ kind: 'task_escalated', task: task(), level: 1, reason: 'x: offered to the registrar', alerted: people });
    assert.equal(
      escalationWords(waiting, T0 + 2 * MIN, roleOf),
      'Nobody accepted it in 2 min. Offered to Dr Claire Evans (Registrar) and Dr Omar Khan (SHO); Sister Jo Hale (Coordinator) told.',
    );
    const held = task({ state: 'accepted', assignee: { id: 'p', name: 'Dr Asha Patel' }, accepted_at: T0 + MIN });
    const chasing = /** @type {any} */ ({ kind: 'task_escalated', task: held, level: 2, reason: '', alerted: [people[1]] });
    assert.equal(escalationWords(chasing, T0 + 61 * MIN, roleOf), 'Not completed 1 h 00 min after Dr Asha Patel accepted it. Sister Jo Hale (Coordinator) told.');
    const alone = /** @type {any} */ ({ kind: 'task_escalated', task: task(), level: 3, reason: '', alerted: [] });
    assert.match(escalationWords(alone, T0 + 30 * MIN, roleOf), /^Nobody accepted it in 30 min\. Nobody else is on shift to alert\.$/);
    const page = /** @type {any} */ ({ kind: 'page_escalated', page: { sent_at: T0 }, level: 1, reason: '', alerted: [people[2]] });
    assert.equal(escalationWords(page, T0 + 5 * MIN, roleOf), 'Nobody acknowledged it in 5 min. Also paged Dr Claire Evans (Registrar).');
    assert.equal(listWords(['A', 'B', 'C']), 'A, B and C');
  });

  it('counts open offers in a workload and knows who could take a task', () => {
    assert.equal(workloadWords({ offered: 3, accepted: 1, started: 0 }), '3 offered, 1 accepted');
    assert.equal(workloadWords({ offered: 0, accepted: 0, started: 2 }), '2 started');
    assert.equal(workloadWords({ offered: 0, accepted: 0, started: 0 }), 'none');
    const khan = /** @type {any} */ ({ role: 'sho', skills: ['cannulation'], shift: { role: 'sho', wards: ['w7'] } });
    assert.equal(meetsRequirement(khan, { skill: 'cannulation' }), true);
    assert.equal(meetsRequirement(khan, { skill: 'ecg' }), false);
    assert.equal(meetsRequirement(khan, { role: 'fy1' }), false);
    assert.equal(meetsRequirement(khan, { any_role: ['registrar', 'sho'] }), true);
  });

  it('judges accept targets as the report does, and counts escalations, declines and NEWS2 episodes', () => {
    const due = T0 + 15 * MIN;
    assert.deepEqual(acceptJudged(task({ accepted_at: T0 + 5 * MIN, state: 'accepted' }), T0 + 20 * MIN), { judged: true, met: true });
    assert.deepEqual(acceptJudged(task({ accepted_at: due + 1, state: 'accepted' }), T0 + 20 * MIN), { judged: true, met: false });
    assert.deepEqual(acceptJudged(task(), due - 1), { judged: false, met: false }, 'still waiting before its target: not judged');
    assert.deepEqual(acceptJudged(task(), due), { judged: true, met: false }, 'waiting past its target: a miss');
    assert.deepEqual(acceptJudged(task({ state: 'cancelled', closed_at: due - 1 }), T0 + 60 * MIN), { judged: false, met: false }, 'cancelled before its target');
    const tasks = [
      task({ ward: 'w7', accepted_at: T0 + MIN, state: 'accepted', escalation_level: 2 }),
      task({ ward: 'w7', escalation_level: 1, offers: [{ staff: { id: 'a', name: 'A' }, state: 'declined', reason: 'In resus' }, { staff: { id: 'b', name: 'B' }, state: 'declined', reason: ' ' }] }),
      task({ ward: 'w8', offers: [{ staff: { id: 'a', name: 'A' }, state: 'declined', reason: 'In resus' }] }),
    ];
    assert.deepEqual(sharesBy(tasks, (t) => t.ward, T0 + 20 * MIN), [{ key: 'w7', judged: 2, met: 1 }, { key: 'w8', judged: 1, met: 0 }]);
    assert.deepEqual(escalationsByStep(tasks), [[1, 2], [2, 1]]);
    assert.deepEqual(declinesByReason(tasks), [['In resus', 2], ['(no reason)', 1]]);
    const review = (/** @type {number} */ total, /** @type {Partial<import('../../client-web/types/TaskView').TaskView>} */ over) =>
      task({ review: /** @type {any} */ ({ total }), ...over });
    const reviews = [review(7, { accepted_at: T0 + MIN, state: 'accepted' }), review(5, { accepted_at: due + MIN, state: 'accepted' }), review(6, {}), task()];
    assert.deepEqual(news2Compliance(reviews, T0 + 10 * MIN), [
      { threshold: 5, episodes: 3, judged: 2, met: 1 },
      { threshold: 7, episodes: 1, judged: 1, met: 1 },
    ]);
  });
});

describe('when work reported done offline was done', () => {
  it('reads the hub’s "before the hub heard" words back to a time', () => {
    assert.deepEqual(doneAt(T0, '5 s'), { at: T0 - 5000, about: false });
    assert.deepEqual(doneAt(T0, '14 min'), { at: T0 - 14 * MIN, about: true });
    assert.deepEqual(doneAt(T0, '2 h 5 min'), { at: T0 - 125 * MIN, about: true });
    assert.equal(doneAt(T0, null), null);
    assert.equal(doneAt(T0, 'a while'), null);
  });
});

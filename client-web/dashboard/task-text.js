// How a task reads on the coordinator's screen: who has it or who it is
// offered to, which target it is measured against now and whether it is
// overdue, and the keys the board sorts by. Pure functions (no DOM), shared by
// the board, the task dialog, the CSV export and the tests.

import { PRIORITIES, clock, duration, requirementLabel, STATE_LABEL, CATEGORY_LABEL, ROLE_LABEL } from '../js/format.js';

/** @typedef {import('../js/types.js').TaskView} TaskView */
/** @typedef {import('../js/types.js').TaskState} TaskState */
/** @typedef {import('../js/types.js').Category} Category */
/** @typedef {import('../js/types.js').Role} Role */
/** @typedef {import('../js/types.js').Requirement} Requirement */

/**
 * Words for what the shared labels may not have yet (the hub's newer roles
 * and categories), so that a label is never blank or "undefined".
 * @type {Record<string, string>}
 */
const NEWER_LABEL = { critical_care_outreach: 'Critical care outreach', observations: 'Observations' };

/** @param {Role} r */
export function roleLabel(r) {
  return /** @type {Record<string, string | undefined>} */ (ROLE_LABEL)[r] ?? NEWER_LABEL[r] ?? r;
}

/** @param {Category} c */
export function categoryLabel(c) {
  return /** @type {Record<string, string | undefined>} */ (CATEGORY_LABEL)[c] ?? NEWER_LABEL[c] ?? c;
}

/**
 * Every role as [value, words] for a select, the newer ones included
 * (before Coordinator, as the hub lists them).
 * @returns {[Role, string][]}
 */
export function roleOptions() {
  const roles = /** @type {Role[]} */ (Object.keys(ROLE_LABEL));
  if (!roles.includes('critical_care_outreach')) roles.splice(Math.max(0, roles.indexOf('coordinator')), 0, 'critical_care_outreach');
  return roles.map((r) => [r, roleLabel(r)]);
}

/** Who may take it: a role, a skill, or any of several roles ("Registrar or Critical care outreach"). @param {Requirement} req */
export function needsLabel(req) {
  if ('any_role' in req) return req.any_role.map(roleLabel).join(' or ');
  if ('role' in req) return roleLabel(req.role);
  return requirementLabel(req);
}

/** Nobody has said yes: offered, unassigned, or assigned but not acknowledged. @param {TaskView} t */
export function isWaiting(t) {
  return t.state === 'offering' || t.state === 'no_one_accepted' || t.state === 'assigned';
}

/**
 * "Assigned — waiting for Dr Omar Khan to acknowledge (4 min)": an
 * assignment is not an accept until its assignee says yes.
 * @param {TaskView} t @param {number} now
 */
export function awaitingWords(t, now) {
  const since = t.assigned_at ?? t.updated_at;
  const wait = now - since < 60000 ? 'under 1 min' : duration(now - since);
  return `Assigned — waiting for ${t.assignee?.name ?? 'the assignee'} to acknowledge (${wait})`;
}

/** The target that counts now: accept-by until someone holds it, then complete-by. @param {TaskView} t */
export function dueAt(t) {
  return isWaiting(t) ? t.accept_by : t.complete_by;
}

/** @param {TaskView} t @param {number} now */
export function isOverdue(t, now) {
  return now > dueAt(t);
}

/**
 * The target cell: overdue says so in words (not colour alone).
 * @param {TaskView} t
 * @param {number} now
 * @returns {{text: string, overdue: boolean}}
 */
export function targetText(t, now) {
  const due = dueAt(t);
  const what = isWaiting(t) ? 'Accept' : 'Complete';
  if (now > due) {
    const late = now - due < 60000 ? 'less than a minute' : duration(now - due);
    return { text: `OVERDUE: ${what.toLowerCase()} by ${clock(due)}, ${late} late`, overdue: true };
  }
  return { text: `${what} by ${clock(due)} (${duration(due - now)} left)`, overdue: false };
}

/** @param {TaskView} t @param {number} [now] hub time: an assignment shows how long it has waited */
export function statusText(t, now) {
  if (t.state === 'assigned') return now === undefined ? STATE_LABEL[t.state] : awaitingWords(t, now);
  if (t.state === 'no_one_accepted') {
    return t.unassigned_reason === 'all_declined' ? 'No one accepted: all declined' : 'No one accepted: no candidates';
  }
  return STATE_LABEL[t.state];
}

/** Who holds the task, or who it is offered to. @param {TaskView} t */
export function whoText(t) {
  if (t.assignee && t.state === 'assigned') return `${t.assignee.name} (not acknowledged)`;
  if (t.assignee) return t.assignee.name;
  const open = t.offers.filter((o) => o.state === 'offered').map((o) => o.staff.name);
  const declined = t.offers.filter((o) => o.state === 'declined').length;
  const parts = [];
  if (open.length) parts.push(`Offered to ${open.length > 3 ? `${open.slice(0, 3).join(', ')} +${open.length - 3}` : open.join(', ')}`);
  if (declined) parts.push(`${declined} declined`);
  return parts.length ? parts.join('; ') : 'Nobody';
}

/** @param {TaskView} t */
export function needsText(t) {
  return `needs ${needsLabel(t.requirement)}`;
}

/** "just now", "4 min ago", "1h 05m ago": short enough for a narrow column. @param {number} ms @param {number} now */
export function ago(ms, now) {
  const minutes = Math.floor(Math.max(0, now - ms) / 60000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m ago`;
}

/** @type {Record<TaskState, number>} */
const STATE_RANK = { no_one_accepted: 0, offering: 1, assigned: 2, accepted: 3, started: 4, completed: 5, cancelled: 6 };

/**
 * Sort orders; each key is independent of the clock, so a row's place only
 * changes when its task does.
 * @typedef {'due' | 'priority' | 'raised' | 'ward' | 'status'} SortKey
 * @type {Record<SortKey, (a: TaskView, b: TaskView) => number>}
 */
export const COMPARE = {
  due: (a, b) => dueAt(a) - dueAt(b) || PRIORITIES.indexOf(a.priority) - PRIORITIES.indexOf(b.priority),
  priority: (a, b) => PRIORITIES.indexOf(a.priority) - PRIORITIES.indexOf(b.priority) || dueAt(a) - dueAt(b),
  raised: (a, b) => a.raised_at - b.raised_at,
  ward: (a, b) => (a.ward < b.ward ? -1 : a.ward > b.ward ? 1 : 0) || a.bed.localeCompare(b.bed, 'en', { numeric: true }),
  status: (a, b) => STATE_RANK[a.state] - STATE_RANK[b.state] || dueAt(a) - dueAt(b),
};

/**
 * A total order for `key` (ties broken by id, so that binary search finds
 * one place for every task).
 * @param {SortKey} key
 * @param {boolean} descending
 * @returns {(a: TaskView, b: TaskView) => number}
 */
export function comparator(key, descending) {
  const cmp = COMPARE[key];
  const sign = descending ? -1 : 1;
  return (a, b) => sign * cmp(a, b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * "2 offered, 1 assigned, 1 started": the counts that are not nought, or "none".
 * @param {{offered: number, assigned?: number, accepted: number, started: number}} l
 */
export function workloadWords(l) {
  const parts = [[l.offered, 'offered'], [l.assigned ?? 0, 'assigned (not acknowledged)'], [l.accepted, 'accepted'], [l.started, 'started']]
    .filter(([n]) => n)
    .map(([n, w]) => `${n} ${w}`);
  return parts.length ? parts.join(', ') : 'none';
}

/**
 * Whether a person on shift could take a task by its requirement: the role
 * they hold on this shift, or a skill of theirs (the hub's own rule for
 * candidates, less the ward, which the caller shows apart).
 * @param {import('../js/types.js').StaffView} s @param {Requirement} req
 */
export function meetsRequirement(s, req) {
  const role = s.shift?.role ?? s.role;
  if ('role' in req) return role === req.role;
  if ('any_role' in req) return req.any_role.includes(role);
  return s.skills.includes(req.skill);
}

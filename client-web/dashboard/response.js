// The night's response figures for the Insight view, the same ones
// `wardpage report` writes, worked out in the browser from the tasks of
// `history`: the share accepted within target by ward and by category,
// escalations by step, declines by reason, and NEWS2 response compliance
// (the share of 5+ and 7+ episodes whose review was accepted within its
// target). A target is judged once it was met or could have been missed:
// a task still waiting before its accept-by time, or cancelled before it
// unaccepted, does not count as a miss. Pure (no DOM).

/** @typedef {import('../js/types.js').TaskView} TaskView */

/** @typedef {{key: string, judged: number, met: number}} Share */

/**
 * Whether a task's accept target was judged by `now`, and met.
 * @param {TaskView} t @param {number} now
 * @returns {{judged: boolean, met: boolean}}
 */
export function acceptJudged(t, now) {
  if (t.accepted_at !== null) return { judged: true, met: t.accepted_at <= t.accept_by };
  // Never accepted: a miss once its target passed while it waited (until
  // it was closed, or until now).
  const closed = t.state === 'cancelled' || t.state === 'completed';
  const gaveUp = closed ? t.closed_at ?? now : now;
  return { judged: gaveUp >= t.accept_by, met: false };
}

/**
 * Share accepted within target per key, keys in order of most tasks judged.
 * @param {TaskView[]} tasks @param {(t: TaskView) => string} keyOf @param {number} now
 * @returns {Share[]}
 */
export function sharesBy(tasks, keyOf, now) {
  /** @type {Map<string, Share>} */
  const by = new Map();
  for (const t of tasks) {
    const { judged, met } = acceptJudged(t, now);
    const key = keyOf(t);
    const s = by.get(key) ?? { key, judged: 0, met: 0 };
    s.judged += Number(judged);
    s.met += Number(met);
    by.set(key, s);
  }
  return [...by.values()].sort((a, b) => b.judged - a.judged || a.key.localeCompare(b.key));
}

/** How many tasks reached each escalation step (1 = the first). @param {TaskView[]} tasks @returns {[number, number][]} */
export function escalationsByStep(tasks) {
  /** @type {Map<number, number>} */
  const steps = new Map();
  for (const t of tasks) for (let s = 1; s <= t.escalation_level; s += 1) steps.set(s, (steps.get(s) ?? 0) + 1);
  return [...steps.entries()].sort((a, b) => a[0] - b[0]);
}

/**
 * Declines by reason, most first, from each task's offers (a task's view
 * keeps its latest round of offers: the report, which reads the audit
 * trail, also counts earlier rounds).
 * @param {TaskView[]} tasks @returns {[string, number][]}
 */
export function declinesByReason(tasks) {
  /** @type {Map<string, number>} */
  const by = new Map();
  for (const t of tasks) {
    for (const o of t.offers) {
      if (o.state !== 'declined') continue;
      const reason = o.reason?.trim() || '(no reason)';
      by.set(reason, (by.get(reason) ?? 0) + 1);
    }
  }
  return [...by.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/**
 * NEWS2 response compliance: review episodes at 5 or more and at 7 or
 * more, those judged, and those whose review was accepted within target.
 * @param {TaskView[]} tasks @param {number} now
 * @returns {{threshold: number, episodes: number, judged: number, met: number}[]}
 */
export function news2Compliance(tasks, now) {
  return [5, 7].map((threshold) => {
    let episodes = 0;
    let judged = 0;
    let met = 0;
    for (const t of tasks) {
      const total = t.review?.total;
      if (total === null || total === undefined || total < threshold) continue;
      const j = acceptJudged(t, now);
      episodes += 1;
      judged += Number(j.judged);
      met += Number(j.met);
    }
    return { threshold, episodes, judged, met };
  });
}

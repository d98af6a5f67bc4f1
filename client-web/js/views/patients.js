// The "Patients" tab and the screens under it, each with its own address so
// that Back and a reload land where the nurse was:
//   #patients                 the ward list
//   #patients/<id>            one patient: who, latest score, what to do
//   #patients/<id>/obs        entering a set of observations
//   #patients/<id>/chart      the 72-hour chart
//   #patients/admit/<ward>/<bed>   admitting to an empty bed
// The list is kept between visits (its rows are keyed); the other screens
// are built when opened and only refreshed in place afterwards.

import { h, replaceChildren, updateKeyed } from '../dom.js';
import { clock } from '../format.js';
import { BAND_LABEL, SEX_LABEL, TREND, age, bandClass, dueStatus, mayManage, patientNumber, scaleLabel } from '../clinical.js';
import { patientList } from './patient-list.js';
import { obsEntry } from './obs-entry.js';
import { chartView } from './chart.js';
import { admitForm, patientActions } from './patient-actions.js';
import { taskCard } from './task-card.js';
import { handoverNoteSection } from './handover-note.js';

/** @typedef {import('../types.js').PatientView} PatientView */
/** @typedef {import('../types.js').ObservationView} ObservationView */
/** @typedef {import('./context.js').ViewContext} ViewContext */
/** @typedef {{key: string, el: HTMLElement, update: () => void, close?: () => void}} Screen */

/** @returns {string[]} the parts of the address after "patients" */
function route() {
  const [tab, ...rest] = location.hash.slice(1).split('/');
  return tab === 'patients' ? rest.map(decodeURIComponent) : [];
}

/** @param {ViewContext} ctx */
export function patientsView(ctx) {
  const { store, link } = ctx;
  const list = patientList(ctx);
  const actions = patientActions(ctx);
  /** The last chart read of each patient opened, kept for offline use and "previous" values. @type {Map<string, ObservationView[]>} */
  const charts = new Map();
  const el = h('section', { class: 'view', 'aria-label': 'Patients' });
  /** @type {Screen | null} */
  let screen = null;

  // A set recorded for a patient whose chart is held: add it there too.
  link.addEventListener('frame', (e) => {
    const ev = /** @type {CustomEvent} */ (e).detail.event;
    if (ev.kind !== 'patient' || !ev.observation) return;
    const held = charts.get(ev.patient.id);
    if (held && !held.some((o) => o.id === ev.observation.id)) held.push(ev.observation);
  });
  link.addEventListener('result', (e) => {
    const { result } = /** @type {CustomEvent} */ (e).detail;
    if (result.kind !== 'observation') return;
    const held = charts.get(result.patient.id);
    if (held && !held.some((o) => o.id === result.observation.id)) held.push(result.observation);
  });

  /** Fetch a chart (when online), then call back. @param {string} id @param {() => void} done */
  function loadChart(id, done) {
    link.read({ op: 'chart', patient: id }).then(
      (r) => {
        if (r.kind === 'chart') charts.set(id, r.observations);
        done();
      },
      () => done(),
    );
  }

  /** @param {string} id @returns {ObservationView | null} the newest set held */
  const previous = (id) => {
    const c = charts.get(id);
    return c && c.length ? c[c.length - 1] : null;
  };

  /** @param {string} text */
  const gone = (text) => ({ key: `gone:${text}`, el: h('div', null, h('h2', { class: 'view-title', text: 'Patient' }), h('p', { class: 'empty', text }), h('a', { class: 'btn secondary', href: '#patients', text: 'Back to patients' })), update() {} });

  /** @param {PatientView} p @returns {Screen} */
  function detail(p) {
    const id = p.id;
    const info = h('div', { class: 'pt-detail' });
    const review = h('div', { class: 'pt-review' });
    const note = handoverNoteSection(ctx, id);
    const manage = mayManage(store.me);
    const buttons = h(
      'div',
      { class: 'pt-actions' },
      h('a', { class: 'btn primary wide big-action', href: `#patients/${id}/obs`, text: 'Enter observations' }),
      h('a', { class: 'btn secondary wide', href: `#patients/${id}/chart`, text: 'Chart (72 h)' }),
      h('button', { type: 'button', class: 'btn danger wide', text: 'Clinical concern', onclick: () => void actions.concern(/** @type {PatientView} */ (store.patients.get(id))) }),
      manage
        ? h(
            'div',
            { class: 'row' },
            h('button', { type: 'button', class: 'btn secondary', text: 'Transfer', onclick: () => void actions.transfer(/** @type {PatientView} */ (store.patients.get(id))) }),
            h('button', { type: 'button', class: 'btn secondary', text: 'Discharge', onclick: () => void actions.discharge(/** @type {PatientView} */ (store.patients.get(id))) }),
          )
        : null,
    );
    let shown = -1;
    const update = () => {
      const now = store.patients.get(id);
      if (!now) return;
      if (now.discharged_at !== null) {
        replaceChildren(info, h('p', { class: 'notice pending', text: `Discharged ${clock(now.discharged_at)}.` }));
        buttons.hidden = true;
        return;
      }
      note.update();
      const task = now.review ? store.tasks.get(now.review) : undefined;
      updateKeyed(review, task ? [['head', h('h3', { class: 'subhead', text: 'Open review' })], [`t:${task.id}`, taskCard(task, { now: store.now(), wardName: ctx.wardName })]] : []);
      if (now.version === shown) return;
      shown = now.version;
      const d = now.details;
      const l = now.latest;
      const s = l?.score ?? null;
      const due = dueStatus(now, store.now());
      replaceChildren(
        info,
        h('h2', { class: 'view-title', id: 'pt-title', text: `Bed ${now.bed} · ${d.name}` }),
        h('p', { class: 'pt-ident' }, h('strong', { text: patientNumber(d) }), ` · born ${d.born} (${age(d.born, store.now())}) · ${SEX_LABEL[d.sex]}`),
        d.consultant ? h('p', { class: 'meta', text: `Consultant: ${d.consultant}` }) : null,
        d.alerts ? h('p', { class: 'pt-alerts', text: `Alerts: ${d.alerts}` }) : null,
        h(
          'p',
          { class: `pt-latest ${s ? bandClass(s.band) : 'band-none'}` },
          s === null ? 'No observations yet' : s.total === null || s.band === null ? 'Latest set incomplete: no score' : `NEWS2 ${s.total} ${BAND_LABEL[s.band]}`,
          ` · ${scaleLabel(now.scale)}`,
          l && TREND[l.trend].arrow ? ` · ${TREND[l.trend].arrow} ${TREND[l.trend].text}` : '',
        ),
        l ? h('p', { class: 'meta', text: `Taken ${clock(l.taken_at)}` }) : null,
        now.scale2 ? h('p', { class: 'meta', text: `Scale 2 (target ${now.scale2.target_low}–${now.scale2.target_high}%) set by ${now.scale2.by.name}: ${now.scale2.reason}` }) : null,
        due ? h('p', { class: `target${due.overdue ? ' overdue' : ''}`, text: due.text }) : null,
      );
    };
    update();
    return { key: `p:${id}`, el: h('div', null, info, buttons, review, note.el, h('a', { class: 'btn ghost wide back', href: '#patients', text: 'All patients' })), update };
  }

  /** @param {PatientView} p @returns {Screen} */
  function chartScreen(p) {
    const id = p.id;
    const body = h('div', { class: 'chart-body' }, h('p', { class: 'empty', text: 'Loading the chart…' }));
    let drawn = -1;
    const draw = () => {
      const obs = charts.get(id);
      const now = store.patients.get(id) ?? p;
      if (!obs) {
        if (link.status !== 'online') replaceChildren(body, h('p', { class: 'notice pending', text: 'Offline: the chart can only be fetched from the hub.' }));
        return;
      }
      if (obs.length === drawn) return;
      drawn = obs.length;
      replaceChildren(
        body,
        h('p', { class: 'meta', text: `${scaleLabel(now.scale)} · shaded by the points each value scores: none, 1, 2, 3` }),
        h('div', { class: 'chart-key', 'aria-hidden': 'true' }, [0, 1, 2, 3].map((n) => h('span', { class: `key pts-${n}`, text: `${n}` }))),
        chartView({ observations: obs, scale: now.scale, name: now.details.name }),
        obs.length ? null : h('p', { class: 'empty', text: 'No observations in the last 72 hours.' }),
      );
    };
    loadChart(id, draw);
    return {
      key: `c:${id}`,
      el: h('div', { class: 'chart-screen' }, h('h2', { class: 'view-title', text: `Chart · Bed ${p.bed} · ${p.details.name}` }), body, h('a', { class: 'btn ghost wide back', href: `#patients/${id}`, text: 'Back to patient' })),
      update: draw,
    };
  }

  /** @param {PatientView} p @returns {Screen} */
  function entryScreen(p) {
    const entry = obsEntry(ctx, { patient: p, previous: () => previous(p.id) });
    if (!charts.has(p.id)) loadChart(p.id, entry.update);
    return { key: `o:${p.id}`, el: h('div', null, entry.el, h('a', { class: 'btn ghost wide back', href: `#patients/${p.id}`, text: 'Back to patient (the entry is kept)' })), update() {}, close: entry.close };
  }

  /** @returns {Screen} */
  function build() {
    const r = route();
    if (r.length === 0) return { key: 'list', el: list.el, update: list.update };
    if (r[0] === 'admit' && r.length === 3) {
      const s = admitForm(ctx, { ward: r[1], bed: r[2] });
      return { key: `a:${r[1]}:${r[2]}`, ...s };
    }
    const p = store.patients.get(r[0]);
    if (!p) return gone('This patient is not on your wards (or not loaded yet).');
    if (r[1] === 'obs') return entryScreen(p);
    if (r[1] === 'chart') return chartScreen(p);
    return detail(p);
  }

  /** The key of the screen the address asks for. */
  function wanted() {
    const r = route();
    if (r.length === 0) return 'list';
    if (r[0] === 'admit') return `a:${r[1]}:${r[2]}`;
    if (!store.patients.has(r[0])) return `gone:This patient is not on your wards (or not loaded yet).`;
    return `${r[1] === 'obs' ? 'o' : r[1] === 'chart' ? 'c' : 'p'}:${r[0]}`;
  }

  function update() {
    if (!screen || screen.key !== wanted()) {
      screen?.close?.();
      screen = build();
      replaceChildren(el, screen.el);
    }
    screen.update();
  }

  return { el, update };
}

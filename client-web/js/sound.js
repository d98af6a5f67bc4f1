// Alert sounds, synthesised with Web Audio so there are no files to cache and
// each priority is told apart by ear: emergency a fast two-tone siren, urgent
// triple beeps, soon a double beep, routine one soft tone. Browsers only let
// audio start after a user gesture, so `unlock()` is called from the login tap
// (and from any tap after a reload) before an alert can need it.

/** @typedef {import('./types.js').Priority} Priority */

/**
 * One repetition of each priority's pattern: tones of [frequency Hz, start s,
 * length s], the wave shape, and how often the pattern repeats.
 * @type {Record<Priority, {wave: OscillatorType, every: number, tones: [number, number, number][]}>}
 */
const PATTERNS = {
  emergency: { wave: 'square', every: 0.8, tones: [[1200, 0, 0.18], [900, 0.2, 0.18], [1200, 0.4, 0.18], [900, 0.6, 0.18]] },
  urgent: { wave: 'square', every: 1.6, tones: [[880, 0, 0.12], [880, 0.2, 0.12], [880, 0.4, 0.12]] },
  soon: { wave: 'triangle', every: 3, tones: [[660, 0, 0.15], [660, 0.25, 0.15]] },
  routine: { wave: 'sine', every: 6, tones: [[520, 0, 0.3]] },
};

/** @type {AudioContext | null} */
let ctx = null;
/** @type {ReturnType<typeof setInterval> | undefined} */
let loop;
/** @type {Priority | null} */
let playing = null;

/** Create or resume the audio context. Must run inside a user gesture. */
export function unlock() {
  try {
    ctx ??= new AudioContext();
    if (ctx.state === 'suspended') void ctx.resume();
  } catch {
    ctx = null;
  }
}

/** Whether sound can play without another tap. */
export function unlocked() {
  return ctx !== null && ctx.state === 'running';
}

/** @param {Priority} priority */
function playOnce(priority) {
  if (!ctx || ctx.state !== 'running') return;
  const { wave, tones } = PATTERNS[priority];
  const t0 = ctx.currentTime + 0.02;
  for (const [freq, start, length] of tones) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = wave;
    osc.frequency.value = freq;
    // Short ramps avoid clicks; square waves are loud, so keep the gain low.
    gain.gain.setValueAtTime(0, t0 + start);
    gain.gain.linearRampToValueAtTime(wave === 'square' ? 0.18 : 0.35, t0 + start + 0.01);
    gain.gain.setValueAtTime(wave === 'square' ? 0.18 : 0.35, t0 + start + length - 0.02);
    gain.gain.linearRampToValueAtTime(0, t0 + start + length);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t0 + start);
    osc.stop(t0 + start + length + 0.01);
  }
}

/** Loop the pattern for `priority` until `stop()`. @param {Priority} priority */
export function play(priority) {
  if (playing === priority) return;
  stop();
  playing = priority;
  playOnce(priority);
  loop = setInterval(() => playOnce(priority), PATTERNS[priority].every * 1000);
}

export function stop() {
  clearInterval(loop);
  playing = null;
}

/** What is sounding now, for tests and the status line. */
export function nowPlaying() {
  return playing;
}

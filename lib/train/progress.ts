// Progress display: a cli-progress bar (loss, phase, ETA) for the command line, and a one-line
// carriage-return display for notebooks (Jupyter redraws a stream line that starts with '\r'). A notebook
// executed by `crossflow notebooks` has no screen of its own: its progress also goes, as JSON lines, to the
// file the runner names in CROSSFLOW_PROGRESS_FILE, and the runner shows them on the terminal.
import * as fs from 'fs';
import * as cliProgress from 'cli-progress';
import type { Phase } from './config';

/** What the trainer reports after each step (and each autoencoder step before training). */
export interface ProgressInfo {
  step: number;
  total: number;
  phase: Phase['name'];
  loss: number;
  flow: number;
  enc: number;
  kl: number;
  lr: number;
  elapsedS: number;
  etaS: number;
  /** 'autoencoder' while the dataset's autoencoder trains first (step/total count its steps). */
  stage: 'autoencoder' | 'model';
}

/** 75 -> '1m15s', 9 -> '9s', NaN -> '?'. */
export function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

/** A terminal progress bar on stderr; call stop() at the end. */
export function cliProgressBar(): { update: (p: ProgressInfo) => void; stop: () => void } {
  const bar = new cliProgress.SingleBar(
    { format: '{stage} [{bar}] {value}/{total} | {phase} | loss {loss} | {speed} | ETA {eta_s}', stream: process.stderr, hideCursor: true, etaBuffer: 50, fps: 5 },
    cliProgress.Presets.shades_classic,
  );
  let stage = '';
  return {
    update: (p) => {
      if (p.stage !== stage) {
        if (stage) bar.stop();
        stage = p.stage;
        bar.start(p.total, 0, { stage, phase: p.phase, loss: '-', speed: '', eta_s: '?' });
      }
      const speed = p.elapsedS > 0 ? `${(p.elapsedS / Math.max(1, p.step)).toFixed(2)} s/step` : '';
      bar.update(p.step, { stage: p.stage, phase: p.stage === 'autoencoder' ? 'ae' : p.phase, loss: p.loss.toFixed(4), speed, eta_s: fmtTime(p.etaS) });
    },
    stop: () => bar.stop(),
  };
}

/** The variable naming the file a notebook kernel appends its progress records to (set by the notebook runner). */
export const PROGRESS_FILE_ENV = 'CROSSFLOW_PROGRESS_FILE';

/** One line of that file (JSON; a non-finite loss or ETA is written as null). */
export interface ProgressRecord {
  stage: ProgressInfo['stage'];
  step: number;
  total: number;
  phase: ProgressInfo['phase'];
  loss: number | null;
  elapsedS: number;
  etaS: number | null;
}

/**
 * Appends progress records to the file named by CROSSFLOW_PROGRESS_FILE, or null when it is not set. A failed
 * write (the runner gone, its folder removed) turns the writer off rather than failing the training.
 */
export function progressFileWriter(env: NodeJS.ProcessEnv = process.env): ((p: ProgressInfo) => void) | null {
  const file = env[PROGRESS_FILE_ENV];
  if (!file) return null;
  let broken = false;
  return (p) => {
    if (broken) return;
    const record: ProgressRecord = { stage: p.stage, step: p.step, total: p.total, phase: p.phase, loss: p.loss, elapsedS: p.elapsedS, etaS: p.etaS };
    try {
      fs.appendFileSync(file, JSON.stringify(record) + '\n');
    } catch {
      broken = true;
    }
  };
}

/**
 * For notebooks: rewrites one status line in place at most every `everyMs` (and the first step of each stage);
 * under `crossflow notebooks` the same updates also go to the runner's progress file.
 */
export function notebookProgress(everyMs = 1000): (p: ProgressInfo) => void {
  let last = 0;
  let stage = '';
  const toFile = progressFileWriter();
  return (p) => {
    const now = Date.now();
    if (now - last < everyMs && p.step < p.total && p.stage === stage) return;
    last = now;
    stage = p.stage;
    toFile?.(p);
    const pct = ((100 * p.step) / p.total).toFixed(0).padStart(3);
    const what = p.stage === 'autoencoder' ? 'autoencoder' : `${p.phase} loss ${p.loss.toFixed(4)} (flow ${p.flow.toFixed(4)}, enc ${p.enc.toFixed(3)}, kl ${p.kl.toFixed(2)})`;
    process.stdout.write(`\r${pct}% step ${p.step}/${p.total} | ${what} | ${fmtTime(p.elapsedS)} elapsed, ETA ${fmtTime(p.etaS)}   ${p.step === p.total ? '\n' : ''}`);
  };
}

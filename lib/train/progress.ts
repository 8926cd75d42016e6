// Progress display: a cli-progress bar (loss, phase, ETA) for the command line, and a one-line
// carriage-return display for notebooks (Jupyter redraws a stream line that starts with '\r').
import * as cliProgress from 'cli-progress';
import type { ProgressInfo } from './trainer';

/**
 * Lets the event loop run once (pending I/O, timers, signals). Long training loops await this every
 * step: a loop that never awaits starves a tslab kernel, whose stream messages then queue unsent; after
 * about 500 queued writes the kernel's stdout write throws, and the cell fails with no message (a cell
 * that blocked and wrote every 50 ms failed after 504 writes; the same loop awaiting this ran through
 * 1476). It also lets a kernel interrupt reach the process. Costs microseconds per step.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function fmtTime(s: number): string {
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

/** For notebooks: rewrites one status line in place at most every `everyMs`. */
export function notebookProgress(everyMs = 1000): (p: ProgressInfo) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < everyMs && p.step < p.total) return;
    last = now;
    const pct = ((100 * p.step) / p.total).toFixed(0).padStart(3);
    const what = p.stage === 'autoencoder' ? 'autoencoder' : `${p.phase} loss ${p.loss.toFixed(4)} (flow ${p.flow.toFixed(4)}, enc ${p.enc.toFixed(3)}, kl ${p.kl.toFixed(2)})`;
    process.stdout.write(`\r${pct}% step ${p.step}/${p.total} | ${what} | ${fmtTime(p.elapsedS)} elapsed, ETA ${fmtTime(p.etaS)}   ${p.step === p.total ? '\n' : ''}`);
  };
}

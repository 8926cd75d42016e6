// The runner's side of a notebook's training progress: while nbconvert executes a notebook, its kernel appends
// JSON progress records (lib/train/progress.ts, progressFileWriter) to a file the runner names in
// CROSSFLOW_PROGRESS_FILE; this reads the new complete lines now and then and shows the latest on the terminal,
// at most one line every `everyMs` (plus the first and last step of each stage), so a 13-minute training cell
// is no longer 13 silent minutes.
import * as fs from 'fs';
import { fmtTime, ProgressRecord } from '../train/progress';

/** One terminal line: `02_quickstart: training step 1200/5000 (24%) | joint loss 0.4321 | 3m10s elapsed, ETA 10m02s`. */
export function formatProgress(name: string, r: ProgressRecord): string {
  const pct = r.total > 0 ? Math.floor((100 * r.step) / r.total) : 0;
  const what = r.stage === 'autoencoder' ? 'autoencoder' : 'training';
  const loss = r.loss === null || !Number.isFinite(r.loss) ? '?' : r.loss.toFixed(4);
  const phase = r.stage === 'autoencoder' ? '' : `${r.phase} `;
  return `${name}: ${what} step ${r.step}/${r.total} (${pct}%) | ${phase}loss ${loss} | ${fmtTime(r.elapsedS)} elapsed, ETA ${fmtTime(r.etaS ?? NaN)}`;
}

/** Reads a growing progress file from where it last stopped and reports the latest record, throttled. */
export class ProgressTail {
  private offset = 0;
  private partial = '';
  private latest: ProgressRecord | null = null;
  private shown: ProgressRecord | null = null;
  private lastShownAt = -Infinity;

  constructor(
    private readonly file: string,
    private readonly name: string,
    private readonly log: (message: string) => void,
    private readonly everyMs = 10_000,
  ) {}

  /** Reads what was appended since the last poll; shows the latest record when it is due. */
  poll(now = Date.now()): void {
    for (const r of this.readNew()) {
      const stageChange = this.latest === null || r.stage !== this.latest.stage;
      this.latest = r;
      // The first and last step of a stage are always shown (a stage starting, a stage done).
      if (stageChange || r.step === r.total) this.show(r, now);
    }
    if (this.latest && this.latest !== this.shown && now - this.lastShownAt >= this.everyMs) this.show(this.latest, now);
  }

  /** A last poll when the notebook is done: the final record is shown if it was not. */
  stop(): void {
    this.poll(Infinity);
  }

  private show(r: ProgressRecord, now: number): void {
    if (r === this.shown) return;
    this.shown = r;
    this.lastShownAt = now;
    this.log(formatProgress(this.name, r));
  }

  private readNew(): ProgressRecord[] {
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch {
      return []; // nothing written yet
    }
    let text = '';
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= this.offset) return [];
      const buf = Buffer.alloc(size - this.offset);
      const n = fs.readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      text = buf.subarray(0, n).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
    // A line the kernel is still writing stays for the next poll.
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    const records: ProgressRecord[] = [];
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        const r = JSON.parse(line) as ProgressRecord;
        if (typeof r.step === 'number' && typeof r.total === 'number') records.push(r);
      } catch {
        // A malformed line (not ours) is skipped: progress is a display, never a failure.
      }
    }
    return records;
  }
}

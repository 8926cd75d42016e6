// Measured step times per (backend, workload) on this machine, kept in .cache/backend-timings.json so
// that the selector measures a model once and later processes read the answer. An entry counts only
// for the same machine and software (its fingerprint: CPUs, Node ABI, tfjs, BLAS threads, the
// TensorFlow build) and the same load (busy or quiet); a new build or another machine measures again.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { repoPath } from '../paths';

export interface TimingEntry {
  backend: string;
  /** The workload's key (what was measured: model shape, batch). */
  workload: string;
  label: string;
  fingerprint: string;
  /** Median wall-clock ms per step. */
  ms: number;
  steps: number;
  /** 'probe': measured by the selector before a run; 'bench': by `crossflow bench`. */
  source: 'probe' | 'bench';
  measured_at: string;
}

export function timingsFile(): string {
  return process.env.CROSSFLOW_TIMINGS_FILE || repoPath('.cache', 'backend-timings.json');
}

export function readTimings(file = timingsFile()): TimingEntry[] {
  try {
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as { entries?: TimingEntry[] };
    return Array.isArray(data.entries) ? data.entries : [];
  } catch {
    return [];
  }
}

/** Adds entries, replacing older ones of the same (backend, workload, fingerprint). Written atomically. */
export function recordTimings(added: TimingEntry[], file = timingsFile()): void {
  const same = (a: TimingEntry, b: TimingEntry) => a.backend === b.backend && a.workload === b.workload && a.fingerprint === b.fingerprint;
  const kept = readTimings(file).filter((e) => !added.some((n) => same(e, n)));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify({ entries: [...kept, ...added] }, null, 1) + '\n');
  fs.renameSync(tmp, file);
}

/** The latest entry for (backend, workload, fingerprint), or null. */
export function lookupTiming(entries: TimingEntry[], backend: string, workload: string, fingerprint: string): TimingEntry | null {
  const hits = entries.filter((e) => e.backend === backend && e.workload === workload && e.fingerprint === fingerprint);
  return hits.length ? hits.reduce((a, b) => (a.measured_at >= b.measured_at ? a : b)) : null;
}

let regime: { busy: boolean; load: number } | null = null;

/**
 * Whether the machine is busy (1-minute load average at least 1.5 per CPU), read once per process. A busy
 * machine changes the answer: OpenBLAS's spinning threads (native) suffer more from sharing cores than
 * TensorFlow's thread pool does, so times measured busy and quiet are kept apart.
 */
export function machineLoad(): { busy: boolean; load: number } {
  if (!regime) {
    const load = os.loadavg()[0];
    regime = { busy: load >= 1.5 * os.cpus().length, load: Math.round(load * 100) / 100 };
  }
  return regime;
}

/**
 * What a measurement on `backend` depends on besides the workload. `detail` is backend specific:
 * the BLAS threads for native, the TensorFlow wheel and package version for tfjs-node.
 */
export function fingerprint(backend: string, tfjsVersion: string, detail: string): string {
  const cpus = os.cpus();
  const load = machineLoad().busy ? 'busy' : 'quiet';
  return [backend, `${cpus.length}x${cpus[0]?.model ?? '?'}`, `node-abi-${process.versions.modules}`, `tfjs-${tfjsVersion}`, detail, load].join('|');
}

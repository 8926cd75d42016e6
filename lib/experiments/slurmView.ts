// What the Slurm executor (slurm.ts) records of a submission and reads back from Slurm: types only, so the
// sweep's status (status.ts) can read them without importing the executor.
import type { Profile } from '../notebooks/profile';

export interface SlurmOptions {
  partition?: string;
  /** Time limit per task, in one of Slurm's formats. */
  time?: string;
  /** CPUs per task (its BLAS threads). */
  cpus?: number;
  /** Memory per task, Slurm's format: 4G, 4000 (MB). */
  mem?: string;
  /** At most this many tasks at once (`--array=...%J`). */
  throttle?: number;
}

export interface SlurmTask {
  index: number;
  /** `<array job>_<index>`, as squeue names it. */
  job: string;
  row: string;
  seed: number;
  runDir: string;
  resultFile: string;
  log: string;
  command: string;
  submitted: string;
}

export interface SlurmHelperJob {
  kind: 'prepare' | 'report';
  job: string;
  log: string;
  /** Its exit code goes to `<markerBase>.exit`. */
  markerBase: string;
  command: string;
}

/** `<runs-dir>/slurm/<job>.json`: one submission. */
export interface SlurmSubmission {
  job: string;
  study: string;
  profile: Profile;
  results: string;
  runs: string;
  submitted: string;
  options: SlurmOptions;
  /** The array's sbatch command line. */
  sbatch: string[];
  script: string;
  manifest: string;
  tasks: SlurmTask[];
  prepare: SlurmHelperJob | null;
  report: SlurmHelperJob | null;
}

export interface QueueEntry {
  state: string;
  reason: string;
}

/** What Slurm knows about this results folder: its submissions and the queue (null when squeue failed). */
export interface SlurmView {
  submissions: SlurmSubmission[];
  queue: Map<string, QueueEntry> | null;
  queueError?: string;
}

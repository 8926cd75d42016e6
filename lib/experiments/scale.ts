// How big a study's runs are under each profile: the preset, training steps and evaluation sizes.
// `smoke` proves the code path in CI in seconds per run; `small` is what results/ablations/ holds
// (chosen so all of Table 3, 12 distinct rows x 3 seeds, fits in about 4 hours on 2 cores with two
// 1-thread jobs); `paper` doubles the steps and the evaluation for a machine with more time.
import type { Solver } from '../flow/solver';
import type { Profile } from '../notebooks/profile';
import type { EvalSizes } from '../runs/evaluate';

/** A study's sampling step (`crossflow ablate <study> --sampling`): quality against solver evaluations and guidance weight. */
export interface SamplingScale {
  /** Solver, steps and guidance weight (default: the study's) of each quality point (each evaluated with `eval`, at the run's last step). */
  points: Array<{ solver: Solver; steps: number; cfg?: number }>;
  /** Evaluation sizes of each point (sampleSteps is the point's). */
  eval: Omit<EvalSizes, 'sampleSteps'>;
  /** Seeds of each row measured (the first ones of the row's). */
  seeds: number;
}

/**
 * A study's speed measurement (`crossflow ablate <study> --speed`): `images` test captions sampled in batches
 * of `batch` with Euler at `steps`, guided and unguided, after a warm-up batch, for every row in each of `rounds`.
 */
export interface SpeedScale {
  images: number;
  batch: number;
  steps: number;
  rounds: number;
}

export interface Scale {
  preset: string;
  /** `key=value` overrides every run of the profile gets (steps, the 2-stage strategies' VE steps). */
  sets: string[];
  eval: EvalSizes;
  /** Seeds a sweep runs when --seeds is not given. */
  seeds: number;
  /** Per-row `key=value` overrides at this profile, after the row's own (the scaling study's smoke: smaller models). */
  rowSets?: Record<string, string[]>;
  /** Steps whose kept checkpoints (log.keepSteps) each run is also evaluated at; the last is the run's end. */
  evalSteps?: number[];
  sampling?: SamplingScale;
  speed?: SpeedScale;
}

export const SCALES: Record<Profile, Scale> = {
  smoke: {
    preset: 'tiny',
    sets: ['steps=20', 'stage1Steps=10'],
    eval: { fidCount: 32, realCount: 64, genevalSamples: 1, perPromptSeen: 1, perPromptHeldout: 2, sampleSteps: 4 },
    seeds: 1,
  },
  // `small` at 2500 steps: 0.19 s a step with two 1-thread jobs side by side, so about 8 minutes of
  // training and 3 of evaluation per run.
  small: {
    preset: 'small',
    sets: ['steps=2500', 'stage1Steps=1000'],
    eval: { fidCount: 1000, realCount: 5000, genevalSamples: 2, perPromptSeen: 8, perPromptHeldout: 32, sampleSteps: 50 },
    seeds: 3,
  },
  paper: {
    preset: 'small',
    sets: ['steps=5000', 'stage1Steps=2000'],
    eval: { fidCount: 2000, realCount: 5000, genevalSamples: 4, perPromptSeen: 16, perPromptHeldout: 64, sampleSteps: 50 },
    seeds: 5,
  },
};

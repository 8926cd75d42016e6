// Learning-rate schedules: linear warm-up, then constant (the official CrossFlow code) or a cosine
// decay to a floor (what short CPU-scale runs need: the last steps at a small lr are where samples
// sharpen; see results/quickstart/README.md).
import { invalidValue } from '../errors';
import { LR_SCHEDULES, LrSchedule } from '../config/choices';


export interface ScheduleSpec {
  /** Peak learning rate (reached at the end of warm-up). */
  lr: number;
  warmupSteps: number;
  schedule: LrSchedule;
  /** cosine: the lr at the last step as a fraction of the peak. */
  minLrFraction: number;
}

/** The learning rate of 0-based `step` in a run of `total` steps. */
export function scheduledLr(s: ScheduleSpec, step: number, total: number): number {
  const w = s.warmupSteps;
  if (w > 0 && step < w) return (s.lr * (step + 1)) / w;
  if (s.schedule === 'constant') return s.lr;
  if (s.schedule !== 'cosine') throw invalidValue('optim.schedule', s.schedule, LR_SCHEDULES.join(', '));
  const span = Math.max(1, total - 1 - w);
  const progress = Math.min(1, Math.max(0, (step - w) / span)); // 0 right after warm-up, 1 at the last step
  return s.lr * (s.minLrFraction + (1 - s.minLrFraction) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

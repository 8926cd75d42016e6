// A study: one block of the paper's ablations (or our own), defined in code. A base config delta,
// named rows (each a delta on the base), the paper's numbers for each row, the guidance weight the
// rows are evaluated at, and the pairs to compare. `lib/experiments/studies/` holds one file per study.
// Table 3's blocks share the profile's scale (scale.ts); a study may bring its own (the scaling study:
// a preset and a seed count per row, checkpoints evaluated along training, a sampling step).
import type { Profile } from '../notebooks/profile';
import { Scale, SCALES } from './scale';
export interface PaperNumbers {
  /** Zero-shot COCO FID-10K (lower is better). */
  fid: number;
  /** CLIP score. */
  clip: number;
  /** The paper's name for the row, where ours differs (e.g. 'T5-XXL' for our `lm`). */
  as?: string;
}

export interface StudyRow {
  /** Folder name under results/ablations/<study>/. */
  name: string;
  /** As the paper's table names it. */
  label: string;
  /** `key=value` overrides on the study's base config. */
  sets: string[];
  paper: PaperNumbers | null;
  /** Guidance weight at evaluation, when it is not the study's. */
  cfg?: number;
  /** The row's own preset (family and size), in place of its scale's. */
  preset?: string;
  /** Seeds a sweep runs for this row, where not its scale's (fewer at larger sizes). */
  seeds?: Partial<Record<Profile, number>>;
}

export interface Study {
  name: string;
  /** The paper's block: '3a' ... '3e'. */
  block: string;
  title: string;
  /** What the paper did and found, in a sentence or two (rendered in reports and notebooks). */
  paperFinding: string;
  /** `key=value` overrides on the profile's preset: the study's base (the paper's final configuration). */
  base: string[];
  /** Guidance weight w at evaluation: 1 for the paper's no-CFG blocks (a*, b*). */
  cfg: number;
  rows: StudyRow[];
  /** [a, b]: b is compared with a on every metric (b - a). */
  compare: Array<[string, string]>;
  /** Its own scale per profile, in place of scale.ts's SCALES (the scaling study). */
  scales?: Record<Profile, Scale>;
  /** How its reports are written: 'table' (Table 3's, the default) or 'scaling' (curves over size, steps and solvers). */
  report?: 'table' | 'scaling';
}

/** The paper's final configuration: VE, I-T contrast, CFG indicator, joint training, CLIP text encoder. */
export const PAPER_BASE: readonly string[] = ['ve.variant=ve', 'enc.kind=it-contrast', 'guidance.mode=indicator', 'strategy=joint', 'text.encoder=clip'];

/** The paper's ordering of a study's rows by FID, best first (ties keep table order). */
export function paperOrder(study: Study): string[] {
  return study.rows.filter((r) => r.paper).sort((a, b) => a.paper!.fid - b.paper!.fid).map((r) => r.name);
}

/** The scale a study runs at under a profile: its own, else the profile's. */
export function scaleOf(study: Study, profile: Profile): Scale {
  return study.scales?.[profile] ?? SCALES[profile];
}

/** Overrides as they take effect: the last value of each key, in the order keys first appear (for reports). */
export function effectiveSets(sets: readonly string[]): string[] {
  const last = new Map<string, string>();
  for (const set of sets) last.set(set.split('=')[0], set);
  return [...last.values()];
}

// The registry of studies: `crossflow ablate <name>`.
import { invalidValue } from '../../errors';
import type { Study } from '../study';
import { encoderStudy } from './encoder';
import { encLossStudy } from './encLoss';
import { guidanceRecipeStudy, guidanceStudy } from './guidance';
import { scalingStudy } from './scaling';
import { textEncoderStudy } from './textEncoder';
import { trainingStudy } from './training';

export const STUDIES: Record<string, Study> = Object.fromEntries(
  [encoderStudy, encLossStudy, guidanceStudy, textEncoderStudy, trainingStudy, guidanceRecipeStudy, scalingStudy].map((s) => [s.name, s]),
);

export const TABLE3_STUDIES = ['encoder', 'enc-loss', 'guidance', 'text-encoder', 'training'] as const;

/** Studies of Table 3's kind beyond the paper's table: results/ablations/README.md adds them below it. */
export const BEYOND_TABLE3 = ['guidance-recipe'] as const;

export function studyByName(name: string): Study {
  const s = STUDIES[name];
  if (!s) throw invalidValue('study', name, Object.keys(STUDIES).join(', '));
  return s;
}

// Retrains the committed judges (the command their manifests name): Shapes, MNIST, Fashion-MNIST.
import { trainShapesJudge } from './trainShapes';
import { trainDigitJudge } from './digitJudge';
import { judgesDir, JudgeManifest } from './weights';
import { invalidValue } from '../../errors';

export const JUDGE_NAMES = ['shapes', 'mnist', 'fashion'] as const;
export type JudgeName = (typeof JUDGE_NAMES)[number];

export function parseJudgeNames(list: string | undefined): JudgeName[] {
  if (!list) return [...JUDGE_NAMES];
  return list.split(',').map((n) => {
    if (!(JUDGE_NAMES as readonly string[]).includes(n)) throw invalidValue('judge', n, JUDGE_NAMES.join(', '));
    return n as JudgeName;
  });
}

export async function trainJudges(names: JudgeName[], opts: { outDir?: string; steps?: number; log?: (m: string) => void } = {}): Promise<JudgeManifest[]> {
  const outDir = opts.outDir ?? judgesDir();
  const out: JudgeManifest[] = [];
  for (const name of names) {
    const common = { log: opts.log, ...(opts.steps ? { steps: opts.steps } : {}) };
    const r = name === 'shapes' ? await trainShapesJudge(common, outDir) : await trainDigitJudge(name, common, outDir);
    r.model.dispose();
    if (r.manifest) out.push(r.manifest);
  }
  return out;
}

// The judges measured on real data: Shapes per-attribute accuracy, MNIST / Fashion accuracy and
// confusion matrices, each beside its target.
import { generateShapes } from '../data/shapes/index';
import { loadJudge, judgeShapes, shapesJudgeAccuracy, judgeDigits, confusionMatrix, digitTestSplit, DIGIT_TARGETS } from './judges/index';
import { SHAPES_TARGETS } from './judges/trainShapes';
import { SHAPES, COLORS } from '../data/shapes/world';
import * as fs from 'fs';
import * as path from 'path';
import { judgesDir } from './judges/weights';

export interface DigitJudgeReport {
  n: number;
  accuracy: number;
  target: number;
  meets_target: boolean;
  confusion: number[][];
}

export interface JudgesReport {
  shapes: { n: number; accuracy: Record<string, number>; targets: Record<string, number>; meets_targets: boolean; shape_confusion: number[][]; color_confusion: number[][] };
  /** null (with the reason in `missing`) when the judge has no committed weights. */
  mnist: DigitJudgeReport | null;
  fashion: DigitJudgeReport | null;
  missing: Record<string, string>;
}

export async function judgesReport(opts: { shapesCount?: number } = {}): Promise<JudgesReport> {
  const n = opts.shapesCount ?? 2000;
  const { model } = await loadJudge('shapes');
  const test = generateShapes({ split: 'test', count: n, seed: 0 });
  const { objects } = await judgeShapes(model, test);
  const truth = test.map((s) => s.attributes.objects);
  const acc = shapesJudgeAccuracy(truth, objects, 32);
  // Confusions over matched objects (nearest predicted center within 0.2 x side).
  const shapeConf = SHAPES.map(() => SHAPES.map(() => 0));
  const colorConf = COLORS.map(() => COLORS.map(() => 0));
  truth.forEach((objs, i) => {
    for (const t of objs) {
      let best = null as null | (typeof objects)[number][number];
      let bd = 0.2 * 32;
      for (const p of objects[i]) {
        const d = Math.hypot(p.cx - t.cx, p.cy - t.cy);
        if (d <= bd) { bd = d; best = p; }
      }
      if (!best) continue;
      shapeConf[SHAPES.indexOf(t.shape)][SHAPES.indexOf(best.shape)]++;
      colorConf[COLORS.indexOf(t.color)][COLORS.indexOf(best.color)]++;
    }
  });
  const { meanCenterError, scene, ...graded } = acc;
  const missing: Record<string, string> = {};
  const digits = async (name: 'mnist' | 'fashion'): Promise<DigitJudgeReport | null> => {
    if (!fs.existsSync(path.join(judgesDir(), `${name}.json`))) {
      missing[name] = `no weights in ${judgesDir()}; train with: npx crossflow eval train-judges --only ${name}`;
      return null;
    }
    const { model: m } = await loadJudge(name);
    const split = digitTestSplit(name);
    const { labels } = await judgeDigits(m, split);
    const c = confusionMatrix(split.map((s) => s.label), labels);
    return { n: split.length, accuracy: c.accuracy, target: DIGIT_TARGETS[name], meets_target: c.accuracy >= DIGIT_TARGETS[name], confusion: c.matrix };
  };
  return {
    shapes: {
      n,
      accuracy: { ...graded, scene, meanCenterErrorPx: meanCenterError },
      targets: SHAPES_TARGETS,
      meets_targets: Object.entries(SHAPES_TARGETS).every(([k, v]) => (graded as Record<string, number>)[k] >= v),
      shape_confusion: shapeConf,
      color_confusion: colorConf,
    },
    mnist: await digits('mnist'),
    fashion: await digits('fashion'),
    missing,
  };
}

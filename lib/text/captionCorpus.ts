// Text the `lm` and `clip` encoders train on: every reference caption of Shapes train samples
// (held-out pairs never appear) plus the MNIST / Fashion-MNIST class captions.
import { generateShapes, ShapesSample } from '../data/shapes/index';
import { classCaptions } from '../data/mnist';

export function captionCorpus(shapesSamples: number, seed: number, split: 'train' | 'val' | 'test' = 'train'): string[] {
  const captions: string[] = [];
  for (const s of generateShapes({ split, count: shapesSamples, seed })) captions.push(...s.captions);
  // Class captions are few; repeat them so they are about a tenth of the corpus.
  const classes: string[] = [];
  for (const d of ['mnist', 'fashion'] as const) for (let l = 0; l < 10; l++) classes.push(...classCaptions(d, l));
  const repeats = Math.max(1, Math.round(captions.length / 10 / classes.length));
  for (let r = 0; r < repeats; r++) captions.push(...classes);
  return captions;
}

export function shapesTrainSet(count: number, seed: number, split: 'train' | 'val' | 'test' = 'train'): ShapesSample[] {
  return generateShapes({ split, count, seed });
}

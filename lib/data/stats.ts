// Statistics of a Shapes split for tables and plots: scene kinds, objects, color-shape pairs,
// sizes, relations, caption lengths and word frequencies.
import { COLORS, SCENE_KINDS, SHAPES, SIZES, RELATIONS, ShapesSample, isHeldoutPair } from './shapes/index';
import { splitWords } from './words';

export interface ShapesStats {
  samples: number;
  kinds: Record<string, number>;
  objectsPerImage: Record<string, number>;
  /** pairCounts[color][shape]: objects of that color and shape. */
  pairCounts: Record<string, Record<string, number>>;
  sizes: Record<string, number>;
  /** Relation facts per relation (both directions are listed in the attributes). */
  relations: Record<string, number>;
  captionRelations: Record<string, number>;
  /** Caption length in words -> number of captions (all references). */
  captionLengths: Record<string, number>;
  distinctCanonicalCaptions: number;
  distinctReferenceCaptions: number;
  heldoutObjects: number;
  wordCounts: Record<string, number>;
}

export function shapesStats(samples: readonly ShapesSample[]): ShapesStats {
  const zero = (keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, 0])) as Record<string, number>;
  const s: ShapesStats = {
    samples: samples.length,
    kinds: zero(SCENE_KINDS),
    objectsPerImage: zero(['1', '2', '3']),
    pairCounts: Object.fromEntries(COLORS.map((c) => [c, zero(SHAPES)])),
    sizes: zero(SIZES),
    relations: zero(RELATIONS),
    captionRelations: zero(RELATIONS),
    captionLengths: {},
    distinctCanonicalCaptions: new Set(samples.map((x) => x.caption)).size,
    distinctReferenceCaptions: new Set(samples.flatMap((x) => x.captions)).size,
    heldoutObjects: 0,
    wordCounts: {},
  };
  for (const x of samples) {
    const a = x.attributes;
    s.kinds[a.kind]++;
    s.objectsPerImage[String(a.objects.length)]++;
    for (const o of a.objects) {
      s.pairCounts[o.color][o.shape]++;
      s.sizes[o.size]++;
      if (isHeldoutPair(o.color, o.shape)) s.heldoutObjects++;
    }
    for (const r of a.relations) s.relations[r.relation]++;
    if (a.captionRelation) s.captionRelations[a.captionRelation.relation]++;
    for (const c of x.captions) {
      const words = splitWords(c);
      s.captionLengths[words.length] = (s.captionLengths[words.length] ?? 0) + 1;
      for (const w of words) s.wordCounts[w] = (s.wordCounts[w] ?? 0) + 1;
    }
  }
  return s;
}

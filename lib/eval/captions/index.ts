// Caption metrics with the COCO caption evaluation's definitions: PTB-style tokenization, then
// BLEU-1..4 (corpus), METEOR (exact matching only, see meteor.ts), ROUGE-L and CIDEr-D.
import { cocoTokenize } from './tokenize';
import { corpusBleu } from './bleu';
import { corpusRougeL } from './rouge';
import { corpusCiderD } from './cider';
import { corpusMeteor, METEOR_1_5, METEOR_CLASSIC, MeteorParams } from './meteor';
import { invalidValue } from '../../errors';

export { cocoTokenize } from './tokenize';
export { corpusBleu } from './bleu';
export { corpusRougeL, rougeL, lcsLength } from './rouge';
export { corpusCiderD } from './cider';
export { corpusMeteor, METEOR_1_5, METEOR_CLASSIC } from './meteor';

export interface CaptionScores {
  bleu1: number;
  bleu2: number;
  bleu3: number;
  bleu4: number;
  /** METEOR with exact matching only (no stem/synonym/paraphrase modules). */
  meteor: number;
  rouge_l: number;
  cider: number;
  count: number;
}

export interface CaptionScoreOptions {
  /** 'meteor-1.5' (alpha 0.85, beta 0.2, gamma 0.6, delta 0.75; default) or 'classic' (0.9, 3, 0.5). */
  meteorParams?: 'meteor-1.5' | 'classic';
}

export function meteorParamsByName(name: string): MeteorParams {
  if (name === 'meteor-1.5') return METEOR_1_5;
  if (name === 'classic') return METEOR_CLASSIC;
  throw invalidValue('meteorParams', name, 'meteor-1.5, classic');
}

/** Scores generated captions (one per item) against reference captions (one or more per item). */
export function scoreCaptions(candidates: string[], references: string[][], options: CaptionScoreOptions = {}): CaptionScores {
  if (candidates.length !== references.length) {
    throw invalidValue('references', `${references.length} lists`, `one list per candidate (${candidates.length})`);
  }
  const cand = candidates.map(cocoTokenize);
  const refs = references.map((rs) => rs.map(cocoTokenize));
  const bleu = corpusBleu(cand, refs).bleu;
  return {
    bleu1: bleu[0],
    bleu2: bleu[1],
    bleu3: bleu[2],
    bleu4: bleu[3],
    meteor: corpusMeteor(cand, refs, meteorParamsByName(options.meteorParams ?? 'meteor-1.5')).score,
    rouge_l: corpusRougeL(cand, refs).score,
    cider: corpusCiderD(cand, refs).score,
    count: candidates.length,
  };
}

// Table 3d: the frozen text encoder whose tokens the Text VE reads. The paper compares CLIP, T5-XXL and
// Llama3; ours are four of increasing strength, all frozen (datasets/encoders/README.md): random
// embeddings, word2vec vectors, a masked language model on captions, and a small CLIP on Shapes pairs.
import { PAPER_BASE, Study } from '../study';

export const textEncoderStudy: Study = {
  name: 'text-encoder',
  block: '3d',
  title: 'Frozen text encoder: random, word2vec, language model, CLIP',
  paperFinding:
    'CLIP gives FID 24.33, T5-XXL 22.28, Llama3 21.20: CrossFlow works with any text encoder and improves with a stronger language model.',
  base: [...PAPER_BASE],
  cfg: 3,
  rows: [
    { name: 'random', label: 'random', sets: ['text.encoder=random'], paper: null },
    { name: 'word2vec', label: 'word2vec', sets: ['text.encoder=word2vec'], paper: null },
    { name: 'lm', label: 'LM', sets: ['text.encoder=lm'], paper: { fid: 22.28, clip: 0.27, as: 'T5-XXL' } },
    { name: 'clip', label: 'CLIP', sets: ['text.encoder=clip'], paper: { fid: 24.33, clip: 0.26, as: 'CLIP' } },
  ],
  // Each weaker encoder against CLIP (the base), and the paper's claim that a language model beats CLIP.
  compare: [['random', 'clip'], ['word2vec', 'clip'], ['clip', 'lm']],
};

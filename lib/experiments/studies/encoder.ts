// Table 3a: what turns the text into z0. A deterministic encoder, the same with fixed Gaussian noise,
// and the variational encoder, all with T-T reconstruction as L_enc (the paper's VE row there used it),
// evaluated without guidance (the paper's * block).
import { PAPER_BASE, Study } from '../study';

export const encoderStudy: Study = {
  name: 'encoder',
  block: '3a',
  title: 'Text Variational Encoder vs a plain encoder',
  paperFinding:
    'Without CFG, a plain encoder gives FID 66.65; adding fixed noise 59.91; the full VE 40.78. The VE (sampling z0 with a KL term) is what makes the text latent a usable flow source.',
  base: [...PAPER_BASE, 'enc.kind=tt-recon', 'guidance.mode=none'],
  cfg: 1,
  rows: [
    { name: 'encoder', label: 'Encoder', sets: ['ve.variant=plain'], paper: { fid: 66.65, clip: 0.2 } },
    { name: 'encoder-noise', label: 'Encoder + noise', sets: ['ve.variant=noise'], paper: { fid: 59.91, clip: 0.21 } },
    { name: 've', label: 'VE', sets: ['ve.variant=ve'], paper: { fid: 40.78, clip: 0.23 } },
  ],
  compare: [['encoder', 've'], ['encoder-noise', 've'], ['encoder', 'encoder-noise']],
};

// Table 3b: the encoder loss L_enc that shapes the VE's latent space, evaluated without guidance.
import { PAPER_BASE, Study } from '../study';

export const encLossStudy: Study = {
  name: 'enc-loss',
  block: '3b',
  title: 'Encoder loss: T-T reconstruction, T-T contrast, I-T contrast',
  paperFinding:
    'Without CFG, T-T reconstruction gives FID 40.78, T-T contrast 34.67, I-T contrast 33.41: a contrastive loss, and best one against the paired image, gives the flow a better-organised source.',
  base: [...PAPER_BASE, 'guidance.mode=none'],
  cfg: 1,
  rows: [
    { name: 'tt-recon', label: 'T-T recon', sets: ['enc.kind=tt-recon'], paper: { fid: 40.78, clip: 0.23 } },
    { name: 'tt-contrast', label: 'T-T contrast', sets: ['enc.kind=tt-contrast'], paper: { fid: 34.67, clip: 0.24 } },
    { name: 'it-contrast', label: 'I-T contrast', sets: ['enc.kind=it-contrast'], paper: { fid: 33.41, clip: 0.24 } },
  ],
  compare: [['tt-recon', 'tt-contrast'], ['tt-recon', 'it-contrast'], ['tt-contrast', 'it-contrast']],
};

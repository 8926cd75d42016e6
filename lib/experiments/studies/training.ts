// Table 3e: the training strategy. Two stages (the VE trained alone on L_enc + KL, frozen, then the
// flow), joint from scratch, and two stages followed by joint fine-tuning.
import { PAPER_BASE, Study } from '../study';

export const trainingStudy: Study = {
  name: 'training',
  block: '3e',
  title: 'Training strategy: 2-stage, joint, 2-stage + joint fine-tuning',
  paperFinding:
    '2-stage gives FID 32.55, joint 24.33, 2-stage with joint fine-tuning 23.79 (and converges about 35% faster): the flow loss must also shape the VE.',
  base: [...PAPER_BASE],
  cfg: 3,
  rows: [
    { name: 'two-stage', label: '2-stage', sets: ['strategy=two-stage'], paper: { fid: 32.55, clip: 0.24 } },
    { name: 'joint', label: 'Joint', sets: ['strategy=joint'], paper: { fid: 24.33, clip: 0.26 } },
    { name: 'two-stage-joint', label: '2-stage + joint finetune', sets: ['strategy=two-stage-joint'], paper: { fid: 23.79, clip: 0.26 } },
  ],
  compare: [['two-stage', 'joint'], ['joint', 'two-stage-joint'], ['two-stage', 'two-stage-joint']],
};

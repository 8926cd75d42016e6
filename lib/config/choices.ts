// The values each choice field of the training config can take. The components that implement a
// choice (flow/, guidance/, models/, optim/) import its list from here, so the config schema
// (schema.ts) depends on no component and every layer points down to this one.

export const FAMILIES = ['crossflow', 'baseline'] as const;
export type Family = (typeof FAMILIES)[number];

/** joint (the paper's final choice) | two-stage (VE first with L_enc + KL, frozen, then flow) | two-stage-joint. */
export const STRATEGIES = ['joint', 'two-stage', 'two-stage-joint'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export const TEXT_ENCODER_NAMES = ['random', 'word2vec', 'lm', 'clip'] as const;
export type TextEncoderName = (typeof TEXT_ENCODER_NAMES)[number];

/** 'token': one extra token (DiMR style); 'label': added to the time embedding (DiT style). */
export const INDICATOR_FORMS = ['token', 'label'] as const;
export type IndicatorForm = (typeof INDICATOR_FORMS)[number];

/** Learning-rate schedules after warm-up (optim/schedule.ts). */
export const LR_SCHEDULES = ['constant', 'cosine'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

/** Training-time samplers (flow/time.ts). */
export const TIME_SAMPLERS = ['logit-normal', 'uniform'] as const;
export type TimeSampler = (typeof TIME_SAMPLERS)[number];

/** What the flow network's output stands for (flow/parametrisation.ts). */
export const PREDICTIONS = ['velocity', 'data'] as const;
export type Prediction = (typeof PREDICTIONS)[number];

/** The global read-outs of z_t (models/flowTransformer.ts, FlowTransformerConfig.globalCond). */
export const GLOBAL_CONDS = ['none', 'linear', 'mlp'] as const;
export type GlobalCond = (typeof GLOBAL_CONDS)[number];

/** Text VE variants (models/textVE.ts). */
export const VE_VARIANTS = ['plain', 'noise', 've'] as const;
export type VeVariant = (typeof VE_VARIANTS)[number];

/** The two published forms of the VE's KL term (models/veLosses.ts). */
export const KL_FORMS = ['paper', 'code'] as const;
export type KlForm = (typeof KL_FORMS)[number];

/** The Text VE's auxiliary loss L_enc and the image encoder of I-T contrast (models/encoderLoss.ts). */
export const ENC_LOSSES = ['none', 'tt-recon', 'tt-contrast', 'it-contrast'] as const;
export type EncLossKind = (typeof ENC_LOSSES)[number];
export const IMAGE_ENCODERS = ['mlp', 'conv'] as const;
export type ImageEncoderKind = (typeof IMAGE_ENCODERS)[number];

/** Training-side guidance (guidance/combine.ts). */
export const GUIDANCE_MODES = ['none', 'indicator', 'autoguidance', 'cfg'] as const;
export type GuidanceMode = (typeof GUIDANCE_MODES)[number];

/** The contrastive losses' raw learnable logit scale starts at ln(1/0.07), as CLIP's (models/veLosses.ts). */
export const CONTRASTIVE_LOGIT_SCALE_INIT = Math.log(1 / 0.07);

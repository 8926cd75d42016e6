// Training times t in (0, 1). CrossFlow (following SD3) samples t from a logit-normal:
// t = sigmoid(m + s n), n ~ N(0, 1), which puts more training signal in the middle of the path.
import { invalidValue } from '../errors';
import { TIME_SAMPLERS, TimeSampler } from '../config/choices';


export interface TimeSamplerConfig {
  kind: TimeSampler;
  /** Logit-normal location m and scale s (paper: 0 and 1). */
  mean: number;
  std: number;
}

export const DEFAULT_TIME_SAMPLER: TimeSamplerConfig = { kind: 'logit-normal', mean: 0, std: 1 };

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * Times for a batch from standard normals `normals` (logit-normal) or uniforms `uniforms` in [0, 1)
 * (uniform); taking the random numbers as input keeps the draw owned by the caller's seeded stream.
 */
export function timesFrom(cfg: TimeSamplerConfig, normals: Float32Array, uniforms: Float32Array): Float32Array {
  const out = new Float32Array(normals.length);
  if (cfg.kind === 'logit-normal') for (let i = 0; i < out.length; i++) out[i] = sigmoid(cfg.mean + cfg.std * normals[i]);
  else if (cfg.kind === 'uniform') out.set(uniforms);
  else throw invalidValue('flow.time', cfg.kind, TIME_SAMPLERS.join(', '));
  return out;
}

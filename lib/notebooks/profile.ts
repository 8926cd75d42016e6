// Run profiles: how much work a notebook or experiment does. `smoke` proves it executes
// (CI, about a minute or two); `small` is the default on a 2-core CPU; `paper` is the full study.
import { CrossflowError, invalidValue } from '../errors';

export const PROFILES = ['smoke', 'small', 'paper'] as const;
export type Profile = (typeof PROFILES)[number];

export function parseProfile(value: string): Profile {
  if ((PROFILES as readonly string[]).includes(value)) return value as Profile;
  throw invalidValue('profile', value, PROFILES.join(', '));
}

/** The active profile: CROSSFLOW_PROFILE, else `small`. */
export function profile(): Profile {
  return parseProfile(process.env.CROSSFLOW_PROFILE ?? 'small');
}

/** Picks the value for the active profile: `byProfile({ smoke: 64, small: 2000, paper: 20000 })`. */
export function byProfile<T>(values: Record<Profile, T>): T {
  return values[profile()];
}

/** The environment variable that carries `crossflow notebooks --set` into the kernel: a JSON array of "key=value". */
export const CONFIG_SETS_ENV = 'CROSSFLOW_SET';

/**
 * Config overrides for notebooks that train (`crossflow notebooks --set key=value ...`), from CROSSFLOW_SET;
 * none when it is unset or empty. Each is applied with applyOverrides, which names a bad key or value.
 */
export function configSets(): string[] {
  const raw = process.env[CONFIG_SETS_ENV];
  if (raw === undefined || raw.trim() === '') return [];
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    v = null;
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw new CrossflowError(`${CONFIG_SETS_ENV} must be a JSON array of "key=value" strings (as crossflow notebooks --set writes it), got ${JSON.stringify(raw)}`);
  return v as string[];
}

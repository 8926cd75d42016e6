// Run profiles: how much work a notebook or experiment does. `smoke` proves it executes
// (CI, about a minute or two); `small` is the default on a 2-core CPU; `paper` is the full study.
// A notebook gets its profile from its parameters cell (`const profile: string = 'small';`, filled by
// `crossflow notebooks`) and passes it on explicitly; CROSSFLOW_PROFILE is only the default of code run
// outside notebooks (the CLI).
import { CrossflowError, invalidValue } from '../errors';

export const PROFILES = ['smoke', 'small', 'paper'] as const;
export type Profile = (typeof PROFILES)[number];

export function parseProfile(value: string): Profile {
  if ((PROFILES as readonly string[]).includes(value)) return value as Profile;
  throw invalidValue('profile', value, PROFILES.join(', '));
}

/** The environment variable that gives code run outside notebooks its default profile. */
export const PROFILE_ENV = 'CROSSFLOW_PROFILE';

/** The default profile of code run outside notebooks: CROSSFLOW_PROFILE, else `small`. Notebooks use their parameter. */
export function profile(): Profile {
  return parseProfile(process.env[PROFILE_ENV] ?? 'small');
}

/**
 * Picks the value for a profile: `byProfile({ smoke: 64, small: 2000, paper: 20000 }, profile)`, where a notebook
 * passes its `profile` parameter (a bad one is an error naming the allowed ones); without it, profile().
 */
export function byProfile<T>(values: Record<Profile, T>, p: string = profile()): T {
  return values[parseProfile(p)];
}

/**
 * An environment variable of config overrides, a JSON array of "key=value". `crossflow notebooks --set` no
 * longer uses it (it fills the quickstart's `sets` parameter); it is the fallback default of library code run
 * outside notebooks, and the runner removes it from a kernel's environment.
 */
export const CONFIG_SETS_ENV = 'CROSSFLOW_SET';

/**
 * Config overrides from CROSSFLOW_SET; none when it is unset or empty. Each is applied with applyOverrides,
 * which names a bad key or value. Notebooks pass their `sets` parameter instead.
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

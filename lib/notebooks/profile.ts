// Run profiles: how much work a notebook or experiment does. `smoke` proves it executes
// (CI, about a minute or two); `small` is the default on a 2-core CPU; `paper` is the full study.
import { invalidValue } from '../errors';

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

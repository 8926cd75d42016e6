// Locks on a run directory (one process trains or evaluates a run at a time) and on a study's results folder
// (one sweep of a study at a time): a `<dir>.lock` folder whose mtime its holder refreshes from a timer.
// A lock is stale, and taken over, when nobody has refreshed it for LOCK_STALE_MS. The refresh needs the
// holder's event loop: sampling yields to it between batches (generateYielding), but one batch of 64 images
// of a `base` model at 50 guided steps on one BLAS thread blocks it for about 15 s, so staleness is counted
// in a minute, not seconds (at 10 s a run's lock could go stale mid-evaluation and a second process take it
// over: the likely cause of one sampling stage run twice at once in the scaling sweep). A lock left by a
// killed process is free again within that minute.
import type { LockOptions } from 'proper-lockfile';

export const LOCK_STALE_MS = 60_000;
export const LOCK_UPDATE_MS = 10_000;

/** proper-lockfile's options for `dir`'s lock (`<dir>.lock`, beside it). */
export function lockOptions(dir: string): LockOptions & { lockfilePath: string; stale: number; update: number } {
  return { lockfilePath: `${dir}.lock`, stale: LOCK_STALE_MS, update: LOCK_UPDATE_MS };
}

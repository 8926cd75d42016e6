// The project's C addon of fused kernels (lib/backend/native/addon/kernels.c), built by the set-up with
// node-gyp. Where it is not built (or CROSSFLOW_FUSED=0) the native backend runs without it.
import * as fs from 'fs';
import * as path from 'path';

export interface FusedAddon {
  setThreads(n: number): number;
  /** OpenBLAS's thread count (the same library instance as nblas's). */
  blasThreads(): number;
  adalnForward(x: Float32Array, shift: Float32Array, scale: Float32Array, y: Float32Array, xhat: Float32Array, rstd: Float32Array, B: number, T: number, D: number, eps: number): void;
  adalnBackward(dy: Float32Array, xhat: Float32Array, rstd: Float32Array, scale: Float32Array, dx: Float32Array, dshift: Float32Array, dscale: Float32Array, B: number, T: number, D: number): void;
  gatedResidualForward(x: Float32Array, gate: Float32Array, h: Float32Array, y: Float32Array, B: number, T: number, D: number): void;
  gatedResidualBackward(dy: Float32Array, gate: Float32Array, h: Float32Array, dh: Float32Array, dgate: Float32Array, B: number, T: number, D: number): void;
  adamw(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, bc1: number, bc2: number): void;
  geluForward(x: Float32Array, y: Float32Array): void;
  geluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  attentionForward(qkv: Float32Array, mask: Float32Array | null, out: Float32Array, probs: Float32Array, B: number, T: number, H: number, dh: number): void;
  attentionBackward(qkv: Float32Array, probs: Float32Array, dout: Float32Array, dqkv: Float32Array, B: number, T: number, H: number, dh: number): void;
}

export const ADDON_FILE = path.join(__dirname, 'addon', 'build', 'Release', 'crossflow_kernels.node');

/** Every function this code calls: a build from older sources lacks some, and is not used (the set-up rebuilds it). */
export const ADDON_FUNCTIONS: ReadonlyArray<keyof FusedAddon> = [
  'setThreads', 'blasThreads', 'adalnForward', 'adalnBackward', 'gatedResidualForward', 'gatedResidualBackward', 'adamw',
  'geluForward', 'geluBackward', 'attentionForward', 'attentionBackward',
];

/** What native step times depend on from the addon: which build is used, or 'off' (for .cache/backend-timings.json). */
export function fusedAddonFingerprint(): string {
  if (process.env.CROSSFLOW_FUSED === '0' || !fs.existsSync(ADDON_FILE)) return 'fused-off';
  const stamp = path.join(path.dirname(ADDON_FILE), '..', '.crossflow-stamp');
  return `fused-${fs.existsSync(stamp) ? fs.readFileSync(stamp, 'utf8').trim() : fs.statSync(ADDON_FILE).mtimeMs}`;
}

export interface AddonStatus {
  addon: FusedAddon | null;
  /** Why it is not loaded, for `crossflow backend`. */
  reason: string | null;
}

let status: AddonStatus | null = null;

/** The functions of ADDON_FUNCTIONS that a loaded module lacks. */
export function missingAddonFunctions(addon: object): string[] {
  return ADDON_FUNCTIONS.filter((f) => typeof (addon as Record<string, unknown>)[f] !== 'function');
}

/** The addon if the native backend has loaded it, else null. */
export function loadedFusedAddon(): FusedAddon | null {
  return status?.addon ?? null;
}

export function loadFusedAddon(threads: number): AddonStatus {
  if (status) return status;
  if (process.env.CROSSFLOW_FUSED === '0') status = { addon: null, reason: 'CROSSFLOW_FUSED=0' };
  else if (!fs.existsSync(ADDON_FILE)) status = { addon: null, reason: `not built (${ADDON_FILE}); npm run setup builds it` };
  else {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const addon = require(ADDON_FILE) as FusedAddon;
      const missing = missingAddonFunctions(addon);
      if (missing.length) status = { addon: null, reason: `${ADDON_FILE} is an older build without ${missing.join(', ')}; npm run setup rebuilds it` };
      else {
        addon.setThreads(threads);
        status = { addon, reason: null };
      }
    } catch (e) {
      status = { addon: null, reason: `could not load ${ADDON_FILE}: ${(e as Error).message.split('\n')[0]}` };
    }
  }
  return status;
}

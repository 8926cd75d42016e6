// The `tfjs-node` and `tfjs-node-gpu` backends: TensorFlow's C library behind @tensorflow/tfjs-node.
// Where they come from, in this order:
//   1. scripts/setup-tensorflow.sh's build from TensorFlow's own wheel, in .cache/tensorflow/<cpu|gpu>/
//      (a folder of its own, so npm ci never removes it; only with its stamp, i.e. a finished build);
//   2. the real npm package in node_modules (a user's `npm install @tensorflow/tfjs-node`). The name also
//      exists there as an npm alias of plain @tensorflow/tfjs (for danfojs): that is not the package.
// Either must resolve @tensorflow/tfjs-core to the project's own copy: two tfjs-cores would mean two
// engines, and the project's tensors would never reach the TensorFlow backend.
import * as fs from 'fs';
import * as path from 'path';
import { repoPath } from '../paths';

export type TfjsNodePackage = '@tensorflow/tfjs-node' | '@tensorflow/tfjs-node-gpu';

export interface TfjsNodeInstall {
  pkg: TfjsNodePackage;
  /** The package folder (what is required). */
  dir: string;
  version: string;
  source: 'setup' | 'npm';
  /** The TensorFlow wheel it was built on (setup builds), e.g. 'tensorflow-cpu==2.21.0'. */
  wheel: string | null;
}

/** The setup build's folder for a variant. */
export function setupBuildDir(variant: 'cpu' | 'gpu'): string {
  return repoPath('.cache', 'tensorflow', variant);
}

function readJson(file: string): Record<string, unknown> | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/**
 * Where the package is installed, or null (cheap: reads two small files, loads nothing).
 * CROSSFLOW_NO_TENSORFLOW=1 hides every build (as if none were installed; set-up then builds none either).
 */
export function findTfjsNode(pkg: TfjsNodePackage): TfjsNodeInstall | null {
  if (process.env.CROSSFLOW_NO_TENSORFLOW) return null;
  const base = setupBuildDir(pkg.endsWith('-gpu') ? 'gpu' : 'cpu');
  const built = path.join(base, 'node_modules', pkg);
  if (fs.existsSync(path.join(base, 'stamp'))) {
    const pj = readJson(path.join(built, 'package.json'));
    const build = readJson(path.join(base, 'build.json'));
    if (pj && pj.name === pkg) return { pkg, dir: built, version: String(pj.version), source: 'setup', wheel: build ? String(build.wheel) : null };
  }
  try {
    const file = require.resolve(`${pkg}/package.json`, { paths: [repoPath()] });
    const pj = readJson(file);
    if (pj && pj.name === pkg) return { pkg, dir: path.dirname(file), version: String(pj.version), source: 'npm', wheel: null };
  } catch {
    // not installed
  }
  return null;
}

/**
 * Loads the package (it registers the `tensorflow` backend and makes it active). Throws with a
 * one-line reason when it is missing or would bring a second tfjs-core.
 */
export function loadTfjsNode(pkg: TfjsNodePackage): TfjsNodeInstall {
  const found = findTfjsNode(pkg);
  if (!found) throw new Error('not installed');
  const ours = require.resolve('@tensorflow/tfjs-core');
  const theirs = require.resolve('@tensorflow/tfjs-core', { paths: [found.dir] });
  if (ours !== theirs) throw new Error(`${found.dir} resolves @tensorflow/tfjs-core to ${theirs}, not the project's ${ours}`);
  // TensorFlow's C++ start-up banner (oneDNN, CPU features) is noise here; errors still print.
  if (process.env.TF_CPP_MIN_LOG_LEVEL === undefined) process.env.TF_CPP_MIN_LOG_LEVEL = '2';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(found.dir);
  return found;
}

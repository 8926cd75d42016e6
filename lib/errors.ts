// Errors that reach the user: the message says what is wrong and what is allowed,
// and the CLI prints it without a stack trace.
import * as fs from 'fs';
import * as path from 'path';

export class CrossflowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CrossflowError';
  }
}

/** A config or argument value outside its allowed set: names the field and the allowed values. */
export function invalidValue(field: string, value: unknown, allowed: string): CrossflowError {
  return new CrossflowError(`invalid ${field}: ${JSON.stringify(value)}; allowed: ${allowed}`);
}

/** fs.Stats of `p`, or null when nothing is there (including when a component of `p` is a file: ENOTDIR). */
function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}

/** The nearest existing ancestor of the absolute path `abs` when it is not a directory (so nothing can be made below it). */
function blockingAncestor(abs: string): string | null {
  for (let up = path.dirname(abs); ; up = path.dirname(up)) {
    const s = statOrNull(up);
    if (s) return s.isDirectory() ? null : up;
    if (path.dirname(up) === up) return null;
  }
}

/**
 * Checks that `dir` (the value of option `field`, e.g. '--out') can be an output directory: an existing directory,
 * or a new path whose nearest existing ancestor is a directory. Without this, a path naming a file fails deep
 * inside mkdirSync with a bare EEXIST or ENOTDIR, often after minutes of work. Returns the absolute path.
 */
export function checkOutputDir(field: string, dir: string): string {
  const abs = path.resolve(dir);
  const stat = statOrNull(abs);
  if (stat && !stat.isDirectory())
    throw new CrossflowError(`${field} ${dir} is an existing file, not a directory: ${field} must name a directory (an existing one or a new path)`);
  const blocker = stat ? null : blockingAncestor(abs);
  if (blocker) throw new CrossflowError(`${field} ${dir} cannot be made: ${blocker} is a file, not a directory; ${field} must name a directory (an existing one or a new path)`);
  return abs;
}

/** checkOutputDir, then creates the directory (with its parents). Returns the absolute path. */
export function ensureOutputDir(field: string, dir: string): string {
  const abs = checkOutputDir(field, dir);
  fs.mkdirSync(abs, { recursive: true });
  return abs;
}

/** Checks that `file` (the value of option `field`, e.g. '--save') can be written: not a directory, and no file where its folders go. */
export function checkOutputFile(field: string, file: string): string {
  const abs = path.resolve(file);
  if (statOrNull(abs)?.isDirectory()) throw new CrossflowError(`${field} ${file} is a directory: ${field} must name a file`);
  const blocker = blockingAncestor(abs);
  if (blocker) throw new CrossflowError(`${field} ${file} cannot be written: ${blocker} is a file, not a directory`);
  return abs;
}

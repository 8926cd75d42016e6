// The repository's folders, the same from the CLI, tests and notebooks. Notebooks reach lib/
// through the notebooks/lib symlink (tslab compiles only files under the kernel's working folder),
// so there __dirname is notebooks/lib/...: a path built as `path.resolve(__dirname, '..', '..',
// 'datasets')` would point into notebooks/. Resolving the real path first avoids that.
import * as fs from 'fs';
import * as path from 'path';

export const REPO_ROOT = path.resolve(fs.realpathSync(__dirname), '..');

/** An absolute path inside the repository: `repoPath('results', 'figures')`. */
export function repoPath(...parts: string[]): string {
  return path.join(REPO_ROOT, ...parts);
}

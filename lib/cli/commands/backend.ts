// `crossflow backend`: which TensorFlow.js backend this machine runs, with versions and BLAS threads.
import { Command } from 'commander';
import { initBackend } from '../../backend/select';
import { printReport } from '../report';

export function register(program: Command): void {
  program
    .command('backend')
    .description('initialise the TensorFlow.js backend (CROSSFLOW_BACKEND overrides) and report it')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      const r = await initBackend();
      printReport(!!opts.json, r, () =>
        [
          `backend: ${r.backend} (tfjs name '${r.tfjsBackend}')${r.requested ? ` requested by CROSSFLOW_BACKEND` : ''}`,
          ...Object.entries(r.versions).map(([k, v]) => `  ${k} ${v}`),
          r.blasLibrary ? `BLAS: ${r.blasLibrary}, ${r.blasThreads} thread(s)` : 'BLAS: not used',
          ...Object.entries(r.skipped).map(([k, v]) => `skipped ${k}: ${v}`),
        ].join('\n'),
      );
    });
}

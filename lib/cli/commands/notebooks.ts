// `crossflow notebooks [--profile smoke|small|paper] [names...] [--json] [--set key=value ...]`: executes notebooks on the
// tslab kernel and writes results/notebooks/<name>.ipynb and .html. Logic: lib/notebooks/runner.ts.
import { Command } from 'commander';
import { info, printReport } from '../report';
import { parseProfile, profile } from '../../notebooks/profile';
import { describeFailure, runNotebooks } from '../../notebooks/runner';
import { invalidValue } from '../../errors';
import { quickstartConfig } from '../../notebooks/quickstart';

export function register(program: Command): void {
  program
    .command('notebooks')
    .description('execute notebooks (default: all of notebooks/*.ipynb) and export them to results/notebooks/')
    .argument('[names...]', 'notebook names, with or without .ipynb')
    .option('--profile <profile>', 'run profile: smoke, small or paper (default: CROSSFLOW_PROFILE or small)')
    .option('--cell-timeout <seconds>', 'per-cell time limit (default by profile: smoke 600, small 7200, paper 172800)')
    .option('--json', 'print one JSON object on the last line of stdout')
    .option('--set <key=value...>', 'config overrides for the training notebooks (as crossflow train --set; put it after the names)')
    .action(async (names: string[], opts: { profile?: string; cellTimeout?: string; json?: boolean; set?: string[] }) => {
      const runProfile = opts.profile ? parseProfile(opts.profile) : profile();
      const cellTimeoutS = opts.cellTimeout === undefined ? undefined : Number(opts.cellTimeout);
      if (cellTimeoutS !== undefined && !(cellTimeoutS > 0)) throw invalidValue('--cell-timeout', opts.cellTimeout, 'a positive number of seconds');
      // Checked here, before any kernel starts: a bad key or value fails at once, naming the field.
      if (opts.set) quickstartConfig(runProfile, opts.set);
      const results = await runNotebooks({ profile: runProfile, names, cellTimeoutS, sets: opts.set, log: info });
      const ok = results.every((r) => r.ok);
      if (!ok) process.exitCode = 1;
      printReport(
        !!opts.json,
        {
          ok,
          profile: runProfile,
          sets: opts.set ?? [],
          notebooks: results.map((r) => ({
            name: r.name,
            ok: r.ok,
            seconds: Number(r.seconds.toFixed(2)),
            failing_cell: r.failing_cell,
            error: r.error,
            html: r.html,
            ipynb: r.ipynb,
          })),
        },
        () => results.map((r) => (r.ok ? `${r.name}: ok (${r.seconds.toFixed(1)} s) -> ${r.html}` : describeFailure(r))).join('\n'),
      );
    });
}

// `crossflow ablate`: the paper's ablations (Table 3) as sweeps. Logic: lib/experiments/.
//   crossflow ablate <study> [--profile P] [--seeds N] [--jobs J] [--rows a,b]   run what is not done, then report
//   crossflow ablate <study> --dry-run                                          list what would run and what is done
//   crossflow ablate <study> --rows R --seed K                                  one run, in this process (what a sweep's child runs)
//   crossflow ablate <study> --report | crossflow ablate --overview              regenerate reports from result files
//   crossflow ablate <study> --executor slurm [--partition P --time T --cpus C --mem M]   one Slurm job array of what is
//                                                                               neither done, running nor queued; returns with its id
//   crossflow ablate <study> --status [--json]                                  done, running, pending, failed (any executor)
//   crossflow ablate scaling [--sampling]                                       a study with a sampling step runs it after training
//                                                                               (--sampling: only it; with --rows R --seed K one run of it)
//   crossflow ablate scaling --speed                                            images per second of every row, alone on the machine
//                                                                               (a whole-study run measures it last when it is missing)
// <study> is one of the registered studies, `table3` for all five blocks, or several joined by commas; their runs go
// from one queue.
import { Command } from 'commander';
import * as path from 'path';
import { initBackend } from '../../backend/select';
import { checkOutputDir, CrossflowError, invalidValue } from '../../errors';
import { parseProfile, Profile } from '../../notebooks/profile';
import { defaultDirs, planStudy, SweepDirs } from '../../experiments/plan';
import { writeOverview, writeStudyReport } from '../../experiments/report';
import { runOne } from '../../experiments/runOne';
import { runSampling } from '../../experiments/sampling';
import { writeScalingReport } from '../../experiments/scaling/report';
import { measureScalingSpeed, readSpeed, speedFile } from '../../experiments/scaling/speed';
import { scaleOf } from '../../experiments/study';
import { slurmView, submitStudy, SubmitSummary } from '../../experiments/slurm';
import { formatStatus, studyStatus } from '../../experiments/status';
import { STUDIES, studyByName, TABLE3_STUDIES } from '../../experiments/studies/index';
import { sweep, sweepStudies, SweepSummary } from '../../experiments/sweep';
import type { Study } from '../../experiments/study';
import { REPO_ROOT } from '../../paths';
import { info, printReport } from '../report';
import { nonNegativeInt, positiveInt } from '../parse';

interface AblateOptions {
  profile: string;
  seeds?: number;
  seed?: number;
  jobs: number;
  rows?: string;
  dryRun?: boolean;
  report?: boolean;
  overview?: boolean;
  json?: boolean;
  resultsDir?: string;
  runsDir?: string;
  executor: string;
  partition?: string;
  time?: string;
  cpus?: number;
  mem?: string;
  status?: boolean;
  sampling?: boolean;
  speed?: boolean;
}

const EXECUTORS = ['local', 'slurm'];
const SLURM_ONLY = ['partition', 'time', 'cpus', 'mem'] as const;

/** A study's reports: Table 3's kind, or the scaling study's curves. */
function writeReport(study: Study, profile: Profile, dirs: SweepDirs): Promise<{ report: string }> {
  return study.report === 'scaling' ? writeScalingReport(study, profile, dirs) : writeStudyReport(study, profile, dirs);
}

/** `encoder`, `table3` (its five blocks) or a comma-separated list of either (`table3,guidance-recipe`): one queue for all. */
function studiesOf(name: string | undefined): Study[] {
  const allowed = [...Object.keys(STUDIES), 'table3'].join(', ');
  if (name === undefined) throw new CrossflowError(`name a study: ${allowed} (or pass --overview)`);
  const names = name.split(',').map((s) => s.trim()).filter(Boolean).flatMap((n) => (n === 'table3' ? [...TABLE3_STUDIES] : [n]));
  for (const n of names) if (!STUDIES[n]) throw invalidValue('study', n, `${allowed}, or several joined by commas`);
  if (names.length === 0) throw invalidValue('study', name, allowed);
  return [...new Set(names)].map(studyByName);
}

/** Prints one line per 5% of training: a child's progress as the sweep shows it. */
function progressLines(label: string): (p: { step: number; total: number; loss: number; etaS: number; stage: string }) => void {
  let lastTenth = -1;
  return (p) => {
    const k = Math.floor((20 * p.step) / p.total);
    if (k === lastTenth && p.step < p.total) return;
    lastTenth = k;
    info(`${label} ${p.stage === 'autoencoder' ? 'autoencoder ' : ''}step ${p.step}/${p.total} loss ${p.loss.toFixed(4)} ETA ${Math.round(p.etaS)} s`);
  };
}

export function register(program: Command): void {
  program
    .command('ablate')
    .description("run a study of the paper's ablations (Table 3): every row x seed not yet done, each in its own process, then its report")
    .argument('[study]', `${[...Object.keys(STUDIES), 'table3'].join(', ')}, or several joined by commas (one queue for all)`)
    .option('--profile <name>', 'smoke (tiny, CI), small (results/ablations), paper', 'small')
    .option('--seeds <n>', 'seeds 0..n-1 (default: the profile\'s)', positiveInt('--seeds'))
    .option('--seed <k>', 'run only seed k of one row (--rows), in this process', nonNegativeInt('--seed'))
    .option('--jobs <n>', 'runs at a time, each with one BLAS thread when > 1', positiveInt('--jobs'), 1)
    .option('--rows <a,b>', 'only these rows')
    .option('--dry-run', 'list what would run and what is already done')
    .option('--report', 'only regenerate REPORT.md, table.tex and figures from the result files')
    .option('--overview', 'only regenerate results/ablations/README.md')
    .option('--results-dir <dir>', 'results folder (default results/ablations; smoke: .cache/ablations-smoke/results)')
    .option('--runs-dir <dir>', 'run directories with checkpoints (default .cache/ablations)')
    .option('--executor <name>', 'local (here, --jobs at a time) or slurm (one Slurm job array; returns at once with its id)', 'local')
    .option('--partition <name>', 'slurm: the partition (default: the cluster\'s default)')
    .option('--time <limit>', 'slurm: time limit per task (30, 1:30:00, 1-00:00:00)')
    .option('--cpus <n>', 'slurm: CPUs per task, also its BLAS threads (default 1)', positiveInt('--cpus'))
    .option('--mem <size>', 'slurm: memory per task (4G, 4000 = MB)')
    .option('--status', 'which runs are done, running, pending or failed, whichever executor ran them (failed: log and last lines)')
    .option('--sampling', "only the study's sampling step (quality at each solver and number of evaluations) on its trained runs")
    .option('--speed', "only measure the study's sampling speed (images per second of every row; untrained models, so no run needed), then report")
    .option('--json', 'print one JSON object on the last line of stdout')
    .action(async (name: string | undefined, o: AblateOptions, cmd: Command) => {
      const profile: Profile = parseProfile(o.profile);
      if (!EXECUTORS.includes(o.executor)) throw invalidValue('--executor', o.executor, EXECUTORS.join(', '));
      if (o.executor !== 'slurm')
        for (const k of SLURM_ONLY) if (o[k] !== undefined) throw new CrossflowError(`--${k} is an option of --executor slurm (the local executor runs here, --jobs at a time)`);
      if (o.resultsDir) checkOutputDir('--results-dir', o.resultsDir);
      if (o.runsDir) checkOutputDir('--runs-dir', o.runsDir);
      const defaults = defaultDirs(profile);
      const dirs: SweepDirs = { results: o.resultsDir ? path.resolve(o.resultsDir) : defaults.results, runs: o.runsDir ? path.resolve(o.runsDir) : defaults.runs };
      const rows = o.rows ? o.rows.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
      if (o.overview && name === undefined) {
        const file = writeOverview(profile, dirs);
        printReport(!!o.json, { overview: file }, () => `wrote ${path.relative(REPO_ROOT, file)}`);
        return;
      }
      const studies = studiesOf(name);
      if (o.sampling) {
        const without = studies.filter((s) => !scaleOf(s, profile).sampling);
        if (without.length) throw new CrossflowError(`--sampling: ${without.map((s) => s.name).join(', ')} has no sampling step (studies with one: ${Object.values(STUDIES).filter((s) => scaleOf(s, profile).sampling).map((s) => s.name).join(', ')})`);
        if (o.executor === 'slurm' || o.status) throw new CrossflowError('--sampling runs with the local executor and has no --status (its result files are seed<k>-sampling.json)');
      }
      if (o.speed) {
        const without = studies.filter((s) => !scaleOf(s, profile).speed);
        if (without.length) throw new CrossflowError(`--speed: ${without.map((s) => s.name).join(', ')} has no speed measurement (studies with one: ${Object.values(STUDIES).filter((s) => scaleOf(s, profile).speed).map((s) => s.name).join(', ')})`);
        for (const flag of ['sampling', 'seed', 'rows', 'seeds', 'status', 'dryRun', 'report'] as const)
          if (o[flag] !== undefined) throw new CrossflowError(`--speed measures every row of the study at once, alone on the machine; it takes no --${flag.replace('dryRun', 'dry-run')}`);
        if (o.executor === 'slurm') throw new CrossflowError('--speed runs here, with the local executor');
        await initBackend();
        const written: Array<{ speed: string; report: string }> = [];
        for (const s of studies) {
          await measureScalingSpeed(s, profile, dirs, { log: info });
          written.push({ speed: speedFile(s, dirs), report: (await writeReport(s, profile, dirs)).report });
        }
        printReport(!!o.json, { profile, written }, () => written.map((w) => `wrote ${path.relative(REPO_ROOT, w.speed)}\nwrote ${path.relative(REPO_ROOT, w.report)}`).join('\n'));
        return;
      }
      const stage = o.sampling ? ('sampling' as const) : ('train' as const);
      if (o.status) {
        const view = slurmView(dirs);
        const statuses = studies.map((s) => studyStatus(s, profile, dirs, { rows, seeds: o.seeds }, view));
        printReport(!!o.json, { profile, studies: statuses }, () => statuses.map(formatStatus).join('\n'));
        return;
      }
      // Before --seed: `--seed K --dry-run` lists that one run, it does not train it.
      if (o.dryRun) {
        const plans = studies.map((s) => ({ study: s.name, runs: planStudy(s, profile, dirs, { rows, seeds: o.seeds, seed: o.seed, stage }).map((r) => ({ row: r.row, seed: r.seed, status: r.status, config_hash: r.configHash, run_dir: r.runDir, result: r.resultFile, command: r.command })) }));
        printReport(!!o.json, { profile, studies: plans }, () =>
          plans.map((p) => [`${p.study}:`, ...p.runs.map((r) => `  ${r.status.padEnd(7)} ${r.row}/seed${r.seed}  ${r.config_hash}  ${r.command}`)].join('\n')).join('\n'),
        );
        return;
      }
      if (o.seed !== undefined) {
        if (o.executor === 'slurm') throw new CrossflowError('--seed K runs one run in this process (what a Slurm task runs); to send runs to Slurm, give --rows and --seeds with --executor slurm');
        if (studies.length !== 1 || !rows || rows.length !== 1) throw new CrossflowError('--seed K runs one run: give one study and one row with --rows');
        const [run] = planStudy(studies[0], profile, dirs, { rows, seed: o.seed, stage });
        await initBackend();
        if (stage === 'sampling') {
          const result = await runSampling(run, { log: info, onProgress: progressLines(`${run.row}/seed${run.seed}`) });
          printReport(!!o.json, result, () =>
            [...result.points.map((p) => `${run.row}/seed${run.seed} ${p.solver} ${p.steps} steps (${p.nfe} evaluations): fid ${p.metrics.fid.toFixed(2)}, single_seen ${p.metrics.single_seen.toFixed(3)}`),
              `wrote ${path.relative(REPO_ROOT, run.resultFile)}`].join('\n'));
          return;
        }
        const result = await runOne(run, { log: info, onProgress: progressLines(`${run.row}/seed${run.seed}`) });
        printReport(!!o.json, result, () => `${run.study}/${run.row}/seed${run.seed}: ${Object.entries(result.metrics).map(([k, v]) => `${k} ${typeof v === 'number' ? v.toFixed(4) : v}`).join(', ')}\nwrote ${path.relative(REPO_ROOT, run.resultFile)}`);
        return;
      }
      if (o.executor === 'slurm' && !o.report) {
        const slurm = { partition: o.partition, time: o.time, cpus: o.cpus, mem: o.mem, throttle: cmd.getOptionValueSource('jobs') === 'cli' ? o.jobs : undefined };
        const submitted: SubmitSummary[] = [];
        for (const s of studies) submitted.push(await submitStudy(s, { profile, dirs, rows, seeds: o.seeds, slurm, log: info }));
        const watch = (study: string) =>
          `npx crossflow ablate ${study} --profile ${profile}${o.rows ? ` --rows ${o.rows}` : ''}${o.seeds ? ` --seeds ${o.seeds}` : ''}` +
          `${o.resultsDir ? ` --results-dir ${o.resultsDir}` : ''}${o.runsDir ? ` --runs-dir ${o.runsDir}` : ''} --status`;
        printReport(!!o.json, { profile, executor: 'slurm', submissions: submitted }, () =>
          submitted
            .map((s) =>
              [
                s.job
                  ? `${s.study}: submitted Slurm job ${s.job}, ${s.tasks.length} task(s) (${s.tasks.map((t) => `${t.row}/seed${t.seed}`).join(', ')}); ${s.done} done already, ${s.active} running or queued`
                  : `${s.study}: nothing to submit: ${s.done} done, ${s.active} running or queued`,
                ...(s.prepare_job ? [`  autoencoder first: job ${s.prepare_job}`] : []),
                ...(s.job ? [`  logs: ${path.dirname(s.tasks[0].log)}/${s.job}_<task>.log`] : []),
                ...(s.report_job ? [`  reports: job ${s.report_job}, once job ${s.job} has ended`] : []),
                ...s.notes.map((n) => `  ${n}`),
                `  watch: ${watch(s.study)}`,
              ].join('\n'),
            )
            .join('\n'),
        );
        return;
      }
      const summaries: SweepSummary[] = [];
      if (!o.report) {
        await initBackend();
        // Every study's runs from one queue (table3: a block's last run does not hold the next block back).
        const trained = stage === 'train' ? await sweepStudies(studies, { profile, dirs, jobs: o.jobs, rows, seeds: o.seeds, log: info }) : [];
        for (const [k, s] of studies.entries()) {
          if (stage === 'train') summaries.push(trained[k]);
          // A study's sampling step follows its training (only what is not done), or runs alone with --sampling.
          if (scaleOf(s, profile).sampling && (stage === 'sampling' || trained[k].failed.length === 0))
            summaries.push(await sweep(s, { profile, dirs, jobs: o.jobs, rows, seeds: o.seeds, stage: 'sampling', log: info }));
          // Then its speed, alone on the machine now that the pool is done: only when missing (--speed measures again).
          if (stage === 'train' && !rows && scaleOf(s, profile).speed && !summaries.some((x) => x.failed.length) && !readSpeed(s, profile, dirs).speed)
            await measureScalingSpeed(s, profile, dirs, { log: info });
        }
      }
      const reports: Array<{ report: string }> = [];
      for (const s of studies) reports.push(await writeReport(s, profile, dirs));
      const overview = writeOverview(profile, dirs);
      const failed = summaries.flatMap((s) => s.failed.map((f) => ({ study: s.study, ...f })));
      printReport(!!o.json, { profile, sweeps: summaries, reports: reports.map((r) => r.report), overview }, () =>
        [
          ...summaries.map((s) => `${s.study}${s.stage ? ` (${s.stage})` : ''}: ${s.ran} run, ${s.alreadyDone} already done, ${s.failed.length} failed, ${s.wallSeconds.toFixed(0)} s with --jobs ${s.jobs}`),
          ...reports.map((r) => `wrote ${path.relative(REPO_ROOT, r.report)}`),
        ].join('\n'),
      );
      if (failed.length)
        throw new CrossflowError(`${failed.length} run(s) failed: ${failed.map((f) => `${f.study}/${f.run} (log ${f.log}):\n${f.tail}`).join('\n')}\nRerun the same command: finished runs are kept, the rest resume.`);
    });
}

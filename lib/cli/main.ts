// The `crossflow` command line. Each file in ./commands registers one command (or a group)
// through `register(program)`, so features add commands without touching this file.
import { Command } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { explainKernelError } from '../backend/kernelErrors';

export interface CommandModule {
  register(program: Command): void;
}

export function buildProgram(): Command {
  const program = new Command('crossflow')
    .description('CrossFlow research environment: backends, benchmarks, data, training, sampling, evaluation, notebooks')
    .showHelpAfterError()
    .exitOverride();
  const dir = path.join(__dirname, 'commands');
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).sort()) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(dir, file)) as CommandModule;
    mod.register(program);
  }
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    // commander throws on --help/--version with exitCode 0; keep its exit code.
    const code = (err as { exitCode?: number }).exitCode;
    if (typeof code === 'number') {
      process.exitCode = code;
      return;
    }
    throw explainKernelError(err);
  }
}

#!/usr/bin/env node
// Entry of the `crossflow` command: compiles lib/ on the fly (tsx) and hands over to the CLI.
require('tsx/cjs/api').register();
require('../lib/cli/main.ts')
  .main(process.argv)
  .catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  });

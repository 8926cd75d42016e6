// Loaded into the tslab kernel by the notebook runner (NODE_OPTIONS=--require <this file>).
// Plain JavaScript: it runs before tslab starts, outside tsx.
//
// tslab 1.0.22 leaves a cell "ok" when its code starts a promise that rejects without being
// awaited, or throws inside a timer: its process handlers print
//   "UnhandledPromiseRejection: <reason>"  /  "UncaughtException: <error>"
// to stderr and nothing else. For a cell without top-level await the print comes after the cell
// is reported idle, so Jupyter drops it. And a cell that throws synchronously or does not
// compile prints to stderr and replies status "error", which nbconvert --allow-errors does not
// record in the notebook. This hook, per cell:
//   1. waits one timer turn after the code finished, so rejections it caused surface (and tslab
//      prints them) while the cell is still the current one;
//   2. writes one stderr line starting with FAIL_MARK when the cell failed in any of these ways,
//      and turns an "ok" reply into "error";
//   3. once a cell failed, skips the remaining cells (FAIL_MARK-free SKIP_MARK line), so a broken
//      notebook stops at its first failure yet nbconvert still writes the executed notebook.
'use strict';
const fs = require('fs');
const path = require('path');

const FAIL_MARK = '[crossflow] cell failed:';
const SKIP_MARK = '[crossflow] not run: an earlier cell failed';
const THREW = 'it threw or did not compile (its stderr above says why)';

function tslabJupyterModule() {
  // The kernel is started as the `tslab` command; find its package from the script's real path.
  const script = process.argv[1] ? fs.realpathSync(process.argv[1]) : '';
  if (!/[\\/]tslab[\\/]/.test(script)) return null;
  try {
    return require(require.resolve('tslab/dist/jupyter', { paths: [path.dirname(script)] }));
  } catch {
    return null;
  }
}

function describe(reason) {
  if (reason instanceof Error) return `${reason.name}: ${reason.message}`;
  try {
    return String(reason);
  } catch {
    return 'a non-printable value';
  }
}

const jupyter = tslabJupyterModule();
if (jupyter && jupyter.JupyterHandlerImpl) {
  /** Problems reported by the process handlers since the last cell looked. */
  const problems = [];
  process.on('unhandledRejection', (reason) => problems.push(`unawaited promise rejected: ${describe(reason)}`));
  process.on('uncaughtException', (err) => problems.push(`uncaught exception (e.g. in a timer or callback): ${describe(err)}`));

  let failed = false;
  const proto = jupyter.JupyterHandlerImpl.prototype;
  const handleExecute = proto.handleExecute;
  proto.handleExecute = async function (req, writeStream, writeDisplayData) {
    if (failed) {
      writeStream('stderr', `${SKIP_MARK}\n`);
      return { status: 'error', execution_count: undefined };
    }
    // Problems that surfaced between cells belong to an earlier cell; report them here.
    const earlier = problems.splice(0).map((p) => `${p} (after an earlier cell had finished)`);
    const reply = await handleExecute.call(this, req, writeStream, writeDisplayData);
    await new Promise((resolve) => setTimeout(resolve, 0));
    const found = earlier.concat(problems.splice(0));
    if (reply.status === 'error') {
      failed = true;
      writeStream('stderr', `${FAIL_MARK} ${THREW}\n`);
    } else if (found.length > 0) {
      failed = true;
      writeStream('stderr', `${FAIL_MARK} ${found.join('; ')}\n`);
      return { ...reply, status: 'error' };
    } else if (reply.status === 'abort') {
      failed = true;
    }
    return reply;
  };
}

module.exports = { FAIL_MARK, SKIP_MARK, THREW };

// Writes results/bench/gemm-floor.json and gemm-floor.md from the rounds scripts/bench-gemm-floor.sh
// collected (one JSON per line, prefixed `ours ` or `torch `).
//   node --import tsx scripts/gemm-floor-report.ts ROUNDS_FILE COMMAND
import * as fs from 'fs';
import { gemmFloorMarkdown, OursRound, summarizeGemmFloor, TorchRound } from '../lib/bench/gemmFloor';

const [roundsFile, command] = process.argv.slice(2);
if (!roundsFile || !command) throw new Error('usage: gemm-floor-report.ts ROUNDS_FILE COMMAND');
const ours: (OursRound & Record<string, unknown>)[] = [];
const torch: (TorchRound & Record<string, unknown>)[] = [];
for (const line of fs.readFileSync(roundsFile, 'utf8').trim().split('\n')) {
  const space = line.indexOf(' ');
  const who = line.slice(0, space);
  const r = JSON.parse(line.slice(space + 1));
  if (who === 'ours') ours.push(r);
  else if (who === 'torch') torch.push(r);
  else throw new Error(`${roundsFile}: line starts with '${who}'; allowed: ours, torch`);
}
const summary = summarizeGemmFloor(ours, torch);
const measuredAt = new Date().toISOString();
fs.mkdirSync('results/bench', { recursive: true });
fs.writeFileSync('results/bench/gemm-floor.json', JSON.stringify({ command, ...summary, measured_at: measuredAt, ours_rounds: ours, torch_rounds: torch }, null, 2) + '\n');
const md = gemmFloorMarkdown(summary, command, measuredAt);
fs.writeFileSync('results/bench/gemm-floor.md', md);
process.stdout.write(md);

// A throw-away single-node Slurm cluster for tests: Debian's slurmctld, slurmd and munged, configured in a
// temporary folder (its own munge key and socket, state and spool folders, free ports, the node at
// 127.0.0.1), started in a couple of seconds and stopped by the test. Jobs run as root, as on a real node.
//
// Slurm 22.05 has no setting for the address its daemons listen on (they bind 0.0.0.0), so the cluster
// lives in a network namespace of its own (`ip netns add`) whose only interface is its loopback: the
// daemons, and every client command that talks to them (sbatch, squeue, sinfo, scancel, and the crossflow
// CLI that runs them), are started in it (`nsenter --net=/run/netns/<ns> ...`) and reach each other at that
// namespace's 127.0.0.1; nothing of the cluster listens on any interface of the machine. Only the network
// namespace changes (not `ip netns exec`, which also remounts /sys and so hides /sys/fs/cgroup, without
// which slurmd does not start); the filesystem is shared, so munge's (unix, pathname) socket, the
// configuration and the result folders are the same inside and out. The loopback carries a second address,
// 127.0.0.2/8: Slurm resolves its listening address with getaddrinfo(AF_INET, AI_ADDRCONFIG), which finds no
// IPv4 address where 127.0.0.1 is the only one. Where a namespace cannot be made (no `ip`, no permission)
// the tests skip: never a cluster on the machine's 0.0.0.0.
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

const BINARIES = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'sinfo', 'scancel'];
const NETNS_TOOLS = ['ip', 'ss', 'nsenter'];

function onPath(bin: string): boolean {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']);
  return dirs.some((d) => d && fs.existsSync(path.join(d, bin)));
}

/** Why the Slurm tests cannot run here, or null when they can. */
export function slurmSkipReason(): string | null {
  if (process.platform !== 'linux') return `the test cluster needs Linux (this is ${process.platform}); Slurm's daemons are Linux programs`;
  if (process.getuid?.() !== 0) return 'the test cluster needs root: slurmd starts each job as its submitting user, which only root can do (npm test as root installs Slurm and runs these tests)';
  const missing = BINARIES.filter((b) => !onPath(b));
  if (missing.length) return `Slurm is not installed (missing ${missing.join(', ')}): as root, scripts/setup.sh installs Debian's slurmctld slurmd slurm-client munge`;
  const noTools = NETNS_TOOLS.filter((b) => !onPath(b));
  if (noTools.length) return `the test cluster runs in a network namespace of its own (loopback only), which needs iproute2 and util-linux (missing ${noTools.join(', ')}): as root, scripts/setup.sh installs Debian's iproute2`;
  // Make (and drop) a namespace the way startTestCluster does, to learn whether this machine lets us.
  const probe = namespaceName('probe');
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    return `the test cluster runs in a network namespace of its own (loopback only), and \`ip netns add\` failed here: ${errorLine(err)}`;
  }
  try {
    setUpLoopback(probe);
  } catch (err) {
    return `the test cluster runs in a network namespace of its own (loopback only), and entering one failed here: ${errorLine(err)}`;
  } finally {
    try {
      execFileSync('ip', ['netns', 'delete', probe], { stdio: 'ignore' });
    } catch {
      // nothing to undo
    }
  }
  return null;
}

function errorLine(err: unknown): string {
  const e = err as { stderr?: Buffer | string; message: string };
  return (e.stderr?.toString().trim() || e.message).split('\n')[0];
}

/** `cmd args` in network namespace `netns` (made by `ip netns add`), all else as in this process. */
function inNamespace(netns: string, cmd: string, args: string[]): [string, string[]] {
  const file = ['/run/netns', '/var/run/netns'].map((d) => path.join(d, netns)).find((f) => fs.existsSync(f)) ?? path.join('/run/netns', netns);
  return ['nsenter', [`--net=${file}`, '--', cmd, ...args]]; // nsenter execs cmd: the child is cmd itself
}

/** Brings up the namespace's loopback, with 127.0.0.2/8 besides 127.0.0.1 (see the top of this file). */
function setUpLoopback(netns: string): void {
  for (const args of [['link', 'set', 'lo', 'up'], ['addr', 'add', '127.0.0.2/8', 'dev', 'lo']]) {
    execFileSync(...inNamespace(netns, 'ip', args), { stdio: ['ignore', 'ignore', 'pipe'] });
  }
}

/** A network namespace name no other test process uses: crossflow-slurm-<what>-<pid>-<random>. */
function namespaceName(what: string): string {
  return `crossflow-slurm-${what}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface TestCluster {
  /** The environment Slurm's commands (and the crossflow CLI) need to reach this cluster: SLURM_CONF. */
  env: NodeJS.ProcessEnv;
  /** The network namespace the daemons live in (only a loopback interface); clients must run in it too. */
  netns: string;
  /** The TCP ports slurmctld and slurmd listen on, inside netns. */
  ports: { slurmctld: number; slurmd: number };
  /** A command line that runs `cmd args` inside the cluster's namespace: spawn(...cluster.inside(cmd, args)). */
  inside(cmd: string, args: string[]): [string, string[]];
  dir: string;
  node: string;
  partition: string;
  /** The partition's time limit, as sinfo prints it. */
  maxTime: string;
  cpus: number;
  /** Runs one of Slurm's client commands against this cluster (inside its namespace). */
  run(cmd: string, args: string[]): string;
  /** Resolves once no job of this cluster is pending or running (or rejects after timeoutMs). */
  waitIdle(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startTestCluster(): Promise<TestCluster> {
  const netns = namespaceName('test');
  const inside = (cmd: string, args: string[]) => inNamespace(netns, cmd, args);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-slurm-'));
  fs.chmodSync(dir, 0o711); // munged checks that its socket's folder is not writable by others
  for (const d of ['state', 'spool']) fs.mkdirSync(path.join(dir, d));
  const key = path.join(dir, 'munge.key');
  fs.writeFileSync(key, crypto.randomBytes(1024), { mode: 0o400 });
  const socket = path.join(dir, 'munge.socket');
  const node = os.hostname().split('.')[0];
  // This machine's sockets, cores and memory as slurmd sees them, so the node registers without complaint.
  const hw = execFileSync('slurmd', ['-C'], { encoding: 'utf8' }).split('\n')[0].trim().replace(/^NodeName=\S+\s*/, '');
  const cpus = Number(/CPUs=(\d+)/.exec(hw)?.[1] ?? os.cpus().length);
  // Free here (so the test can tell them apart from the machine's own ports); the namespace has none in use.
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const maxTime = '30:00';
  const conf = path.join(dir, 'slurm.conf');
  fs.writeFileSync(path.join(dir, 'plugstack.conf'), '');
  fs.writeFileSync(
    conf,
    [
      'ClusterName=crossflowtest',
      `SlurmctldHost=${node}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${socket}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      `StateSaveLocation=${path.join(dir, 'state')}`,
      `SlurmdSpoolDir=${path.join(dir, 'spool')}`,
      `SlurmctldPidFile=${path.join(dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${path.join(dir, 'slurmd.pid')}`,
      `SlurmctldLogFile=${path.join(dir, 'slurmctld.log')}`,
      `SlurmdLogFile=${path.join(dir, 'slurmd.log')}`,
      `PlugStackConfig=${path.join(dir, 'plugstack.conf')}`,
      'MailProg=/bin/true',
      // No cgroups in containers: track a job's processes by parentage, bind nothing.
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'SchedulerType=sched/backfill',
      'ReturnToService=2',
      'MpiDefault=none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'JobCompType=jobcomp/none',
      'SwitchType=switch/none',
      'KillWait=5',
      `NodeName=${node} NodeAddr=127.0.0.1 ${hw} State=UNKNOWN`,
      `PartitionName=debug Nodes=${node} Default=YES MaxTime=${maxTime} State=UP`,
      '',
    ].join('\n'),
  );
  const env = { ...process.env, SLURM_CONF: conf };
  const daemons: ChildProcess[] = [];
  const daemon = (cmd: string, args: string[]) => {
    const out = fs.openSync(path.join(dir, `${cmd}.out`), 'a');
    const p = spawn(...inside(cmd, args), { env, stdio: ['ignore', out, out] }); // p is the daemon (nsenter execs it)
    fs.closeSync(out);
    daemons.push(p);
    return p;
  };
  const run = (cmd: string, args: string[]) => execFileSync(...inside(cmd, args), { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const deleteNamespace = () => {
    try {
      execFileSync('ip', ['netns', 'delete', netns], { stdio: 'ignore' });
    } catch {
      // not there (any more)
    }
  };
  // Should this process end without stop() (an uncaught error, process.exit), still end the daemons and drop the namespace.
  const onExit = () => {
    for (const p of daemons) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    deleteNamespace();
  };
  process.once('exit', onExit);
  const stop = async () => {
    try {
      try {
        run('scancel', ['--full', '-u', os.userInfo().username]);
        await waitIdle(20_000);
      } catch {
        // stopping regardless
      }
      for (const p of daemons.slice().reverse()) {
        if (p.exitCode !== null || p.signalCode !== null) continue;
        const exited = new Promise((r) => p.once('exit', () => r(true)));
        p.kill('SIGTERM');
        const ended = await Promise.race([exited, sleep(5000).then(() => false)]);
        if (!ended) {
          p.kill('SIGKILL');
          await Promise.race([exited, sleep(2000)]);
        }
      }
    } finally {
      // After the daemons: the namespace goes once the last process in it has ended.
      deleteNamespace();
      process.removeListener('exit', onExit);
    }
  };
  const waitIdle = async (timeoutMs: number) => {
    const t0 = Date.now();
    while (run('squeue', ['-h', '-t', 'PD,R,CG,CF,S,RQ', '-o', '%i']).trim()) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`Slurm jobs still queued or running after ${timeoutMs / 1000} s:\n${run('squeue', [])}`);
      await sleep(250);
    }
  };
  const logs = () => ['munged.out', 'slurmctld.out', 'slurmd.out'].map((f) => `--- ${f}\n${fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), 'utf8').slice(-2000) : ''}`).join('\n');
  try {
    execFileSync('ip', ['netns', 'add', netns], { stdio: ['ignore', 'ignore', 'pipe'] });
    setUpLoopback(netns);
    daemon('munged', ['--foreground', '--force', `--key-file=${key}`, `--socket=${socket}`, `--pid-file=${path.join(dir, 'munged.pid')}`, `--seed-file=${path.join(dir, 'munged.seed')}`, `--log-file=${path.join(dir, 'munged.log')}`]);
    for (let i = 0; i < 50 && !fs.existsSync(socket); i++) await sleep(100);
    if (!fs.existsSync(socket)) throw new Error('munged did not create its socket');
    daemon('slurmctld', ['-D', '-c', '-i', '-f', conf]);
    daemon('slurmd', ['-D', '-f', conf, '-N', node]);
    const t0 = Date.now();
    for (;;) {
      let state = '';
      try {
        state = run('sinfo', ['-h', '-n', node, '-o', '%T']).trim();
      } catch {
        // slurmctld not listening yet
      }
      if (state === 'idle') break;
      if (Date.now() - t0 > 30_000) throw new Error(`the test node is '${state}', not idle, 30 s after start`);
      if (daemons.some((p) => p.exitCode !== null)) throw new Error('a Slurm daemon exited at start');
      await sleep(200);
    }
  } catch (err) {
    await stop();
    throw new Error(`the test Slurm cluster did not start: ${(err as Error).message}\n${logs()}`);
  }
  return { env, netns, ports: { slurmctld: ctldPort, slurmd: slurmdPort }, inside, dir, node, partition: 'debug', maxTime, cpus, run, waitIdle, stop };
}

// The machine as /proc shows it: the description in the reports, CPU idle, a process's RSS and CPU.
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { firstLine } from './shell.mjs';
import { sleep } from './util.mjs';

export function cpuSnapshot() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { idle: f[3] + f[4], total: f.reduce((a, b) => a + b, 0) };
}
/**
 * The whole machine's CPU per request between two snapshots (every core, µs), and the load
 * generator's own share (`ownUsage`: process.cpuUsage(before)): what is left is the server, the
 * database and the rest of the machine; the cost model (bench/README.md) subtracts the load generator.
 */
export function machineCost(m0, m1, ownUsage, r) {
  // /proc/stat's first line sums every core, in 1/100 s ticks.
  const busyS = (m1.total - m0.total - (m1.idle - m0.idle)) / 100;
  const requests = Math.max(1, r.rps * r.elapsedS);
  return {
    machineCpuUsPerReq: (busyS * 1e6) / requests,
    loadGenCpuUsPerReq: (ownUsage.user + ownUsage.system) / requests,
  };
}
export async function machineIdle(ms = 1000) {
  const a = cpuSnapshot();
  await sleep(ms);
  const b = cpuSnapshot();
  return (100 * (b.idle - a.idle)) / Math.max(1, b.total - a.total);
}
export const machine = {
  cores: availableParallelism(),
  nproc: firstLine('nproc', []),
  cpu: cpus()[0]?.model ?? '?',
  memGb: (totalmem() / 2 ** 30).toFixed(1),
  node: process.version,
  psql: firstLine('psql', ['--version']),
  pgbench: firstLine('pgbench', ['--version']),
  server: '',
};

export function readProc(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime + stime, and cutime + cstime: the CPU of its children that exited and were reaped
    return {
      rssMb: rssKb / 1024,
      cpuTicks: Number(f[11]) + Number(f[12]),
      childrenCpuTicks: Number(f[13]) + Number(f[14]),
    };
  } catch {
    return undefined;
  }
}

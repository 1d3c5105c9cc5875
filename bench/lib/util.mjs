// Small helpers shared by every module: clock, sleep, stderr log, number formatting.
import { performance } from 'node:perf_hooks';

export const now = () => performance.timeOrigin + performance.now(); // wall clock, sub-ms (same in fake-dnz)
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);
export const fmt = (v, d = 1) => (v === undefined || v === null || Number.isNaN(v) ? '–' : v.toFixed(d));

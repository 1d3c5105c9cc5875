import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { MetricsService } from '../src/metrics/metrics.service.js';
import { findPromtool } from './helpers/promtool.js';

const DIR = join(process.cwd(), 'deploy', 'prometheus');
const RULES = join(DIR, 'alerts.yml');

interface Rules {
  groups: { name: string; rules: { alert: string; expr: string }[] }[];
}

const promtool = findPromtool('promtool checks');

describe('deploy/prometheus alert rules', () => {
  const rules = parse(readFileSync(RULES, 'utf8')) as Rules;
  const exprs = rules.groups.flatMap((g) => g.rules.map((r) => [r.alert, r.expr] as const));

  it('only query metrics the service exposes (histogram series through their base name)', () => {
    const metrics = new MetricsService();
    const names = new Set(metrics.registry.getMetricsAsArray().map((m) => m.name));
    for (const [alert, expr] of exprs) {
      const used = [...expr.matchAll(/\b(otp_[a-z_]+)/g)].map((m) =>
        m[1].replace(/_(bucket|sum|count)$/, ''),
      );
      expect(used.length).toBeGreaterThan(0);
      for (const name of used) expect([alert, name, names.has(name)]).toEqual([alert, name, true]);
    }
  });

  it('never group or filter by purpose or phone (Decision 8)', () => {
    for (const [alert, expr] of exprs)
      expect([alert, /\b(purpose|phone)\b/.test(expr)]).toEqual([alert, false]);
  });

  (promtool ? it : it.skip)('pass promtool check rules and promtool test rules', () => {
    const check = spawnSync(promtool as string, ['check', 'rules', RULES], { encoding: 'utf8' });
    expect([check.status, check.stderr]).toEqual([0, '']);
    const test = spawnSync(promtool as string, ['test', 'rules', 'alerts.test.yml'], {
      cwd: DIR,
      encoding: 'utf8',
    });
    expect([test.status, `${test.stdout}${test.stderr}`]).toEqual([0, expect.stringContaining('SUCCESS')]);
  });
});

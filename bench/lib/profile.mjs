// --profile: the newest .cpuprofile the service wrote, summarised by bench/profile-summary.mjs.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OUT, ROOT } from './settings.mjs';
import { log } from './util.mjs';

/**
 * Prints the summary of the newest profile in `profDir`; writes it with the report `text` to
 * .out/profile-summary.txt. `phase` ({ window: [fromMs, toMs] since spawn, usPerReq }) limits it
 * to one phase's samples and shares that phase's CPU per request out over them.
 */
export function summariseProfile(profDir, text, phase) {
  const profiles = readdirSync(profDir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(profDir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!profiles[0]) throw new Error('no .cpuprofile written (did the service exit cleanly?)');
  log(`\nprofile: ${profiles[0]}`);
  const phaseArgs = phase
    ? [
        ...['--from-ms', String(Math.round(phase.window[0])), '--to-ms', String(Math.round(phase.window[1]))],
        ...['--us-per-req', String(Math.round(phase.usPerReq))],
      ]
    : [];
  const script = path.join(ROOT, 'bench', 'profile-summary.mjs');
  const r = spawnSync(process.execPath, [script, profiles[0], ...phaseArgs], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  process.stdout.write(r.stdout + r.stderr);
  writeFileSync(path.join(OUT, 'profile-summary.txt'), `${text}\n${r.stdout}`);
}

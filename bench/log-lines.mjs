// CPU per log line with the service's redaction (issue 18): pino's wildcard paths, as LoggingModule
// configured them before, against the exact paths plus one censoring pass (src/logging/redaction.ts).
// Needs the build (dist/): `npm run build && node bench/log-lines.mjs`. Prints µs per line.
import pino from 'pino';
import { CENSOR, censorSecrets, REDACT_PATHS, SECRET_KEYS } from '../dist/logging/redaction.js';

const N = 50_000;
const sink = pino.destination({ dest: '/dev/null', sync: true });
const wildcards = pino(
  { redact: { paths: [...REDACT_PATHS, ...SECRET_KEYS.map((k) => `*.${k}`)], censor: CENSOR } },
  sink,
);
const onePass = pino(
  { redact: { paths: REDACT_PATHS, censor: CENSOR }, formatters: { log: censorSecrets } },
  sink,
);
const lines = {
  'access line': {
    reqId: 'abc',
    method: 'POST',
    route: '/v1/otp/verify',
    statusCode: 400,
    responseTime: 3.2,
    client: 'bench',
  },
  '"code issued"': {
    codeId: 'abc',
    phoneMasked: '+233****12',
    purpose: 'login',
    client: 'bench',
    replaced: false,
  },
};
for (const round of [0, 1]) {
  for (const [name, logger] of [
    ['wildcard paths', wildcards],
    ['exact paths + one pass', onePass],
  ]) {
    for (const [kind, line] of Object.entries(lines)) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N; i++) logger.info(line, 'm');
      const us = Number(process.hrtime.bigint() - t0) / N / 1000;
      if (round === 1) console.log(`${name.padEnd(24)} ${kind.padEnd(14)} ${us.toFixed(1)} µs per line`);
    }
  }
}

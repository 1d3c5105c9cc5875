import { SystemClock } from '../common/index.js';
import type { DeliveryConfig, OtpConfig, ProviderName } from '../config/index.js';
import { MetricsService } from '../metrics/index.js';
import { OtpCrypto } from '../codes/index.js';
import { ProviderError } from '../providers/index.js';
import type { OtpMessage, SendResult, WhatsAppProvider } from '../providers/index.js';
import { DELIVER_OTP_TASK } from './queue/index.js';
import type { OneTimeCodesRepository } from '../codes/index.js';
import type { DeliveryAttemptsRepository, PreparedDelivery } from './delivery-attempts.repository.js';
import { DeliveryService } from './delivery.service.js';
import { FaultHook } from './fault-hook.js';
import type { JobQueueRepository } from './job-queue.repository.js';
import { ProviderRouter } from './provider-router.js';
import type { ProviderStatesRepository } from './provider-states.repository.js';

const CODE_ID = '0b6f3c1e-9a57-4d7e-8f43-2f1a6b9c0d11';
const CONFIG = {
  workerEnabled: true,
  concurrency: 1,
  retries: 0,
  retryBaseMs: 10,
  lockTimeoutSeconds: 15,
  circuitThreshold: 100,
  circuitOpenMs: 1000,
  rateLimitWaitMs: 10_000,
  testFaultHookUrl: undefined,
} as DeliveryConfig;
const OTP = {
  length: 6,
  hashSecrets: ['x'.repeat(16) + 'abcdefghijklmnopqrstuvwxyz'],
} as unknown as OtpConfig;

/** A provider that answers each send with the next scripted outcome (an error, or accepted). */
class ScriptedProvider implements WhatsAppProvider {
  readonly sent: OtpMessage[] = [];
  constructor(
    readonly name: ProviderName,
    private readonly script: (ProviderError | 'ok')[] = [],
  ) {}
  send(message: OtpMessage): Promise<SendResult> {
    this.sent.push(message);
    const next = this.script.shift() ?? 'ok';
    if (next instanceof ProviderError) return Promise.reject(next);
    return Promise.resolve({ providerMessageId: `${this.name}-${this.sent.length}` });
  }
}

/** The delivery's repositories (attempts, codes, provider states, queue), in memory: what a delivery asked for is recorded. */
function repositoryFor(prepared: PreparedDelivery) {
  const calls: [string, ...unknown[]][] = [];
  let attempts = 0;
  const repository = {
    prepare: () => Promise.resolve(prepared),
    startAttempt: () => Promise.resolve(`attempt-${++attempts}`),
    finishAttempt: (id: string, outcome: string) => {
      calls.push(['finishAttempt', id, outcome]);
      return Promise.resolve();
    },
    recordSent: (id: string, codeId: string, sent: { provider: string }) => {
      calls.push(['recordSent', id, sent.provider]);
      return Promise.resolve();
    },
    recordSkipped: (codeId: string, provider: string, reason: string) => {
      calls.push(['recordSkipped', provider, reason]);
      return Promise.resolve();
    },
    markFailed: (codeId: string, error: string) => {
      calls.push(['markFailed', error]);
      return Promise.resolve();
    },
    markSentInDoubt: (codeId: string, provider: string) => {
      calls.push(['markSentInDoubt', provider]);
      return Promise.resolve();
    },
    pause: (provider: string, until: Date) => {
      calls.push(['pauseProvider', provider, until]);
      return Promise.resolve();
    },
    reschedule: (task: string, payload: object, key: string, runAt: Date) => {
      calls.push(['reschedule', task, payload, key, runAt]);
      return Promise.resolve();
    },
    setState: (provider: string, state: string) => {
      calls.push(['setState', provider, state]);
      return Promise.resolve();
    },
    markDelivered: () => Promise.resolve(),
  };
  return {
    repositories: [
      repository as unknown as DeliveryAttemptsRepository,
      repository as unknown as OneTimeCodesRepository,
      repository as unknown as ProviderStatesRepository,
      repository as unknown as JobQueueRepository,
    ] as const,
    calls,
  };
}

function prepared(overrides: Partial<PreparedDelivery> = {}, lifeMs = 300_000): PreparedDelivery {
  const now = Date.now();
  return {
    target: {
      phone: '+233200000001',
      purpose: 'login',
      locale: null,
      status: 'pending',
      expiresAt: new Date(now + lifeMs),
      createdAt: new Date(now),
      lastInboundAt: null,
      optedOutAt: null,
      deliveryStatus: 'queued',
    },
    inDoubt: new Set(),
    tookIt: new Set(),
    unhealthy: new Map(),
    paused: new Map(),
    ...overrides,
  };
}

/** A DeliveryService over `state`; pass `shared` to keep one router (and its breakers) across deliveries. */
function sutFor(
  chain: WhatsAppProvider[],
  state: PreparedDelivery,
  shared?: { router: ProviderRouter; metrics: MetricsService },
) {
  const metrics = shared?.metrics ?? new MetricsService();
  const crypto = new OtpCrypto(OTP);
  const { repositories, calls } = repositoryFor(state);
  const router = shared?.router ?? new ProviderRouter(chain, CONFIG, metrics);
  const sut = new DeliveryService(
    ...repositories,
    router,
    crypto,
    new SystemClock(),
    metrics,
    new FaultHook(CONFIG),
    OTP,
    CONFIG,
  );
  const payload = { id: CODE_ID, c: crypto.cipher.encrypt('482913', CODE_ID) };
  return { sut, calls, payload };
}

const recipientLimit = (retryAfterMs?: number) =>
  new ProviderError('dnz', 'rate_limited', 'pair_rate_limit', 'limit', { retryAfterMs, scope: 'recipient' });

describe('DeliveryService', () => {
  it('an attempt in doubt after a crash: the same digits through the next provider first', async () => {
    const dnz = new ScriptedProvider('dnz');
    const enosend = new ScriptedProvider('enosend');
    const { sut, calls, payload } = sutFor([dnz, enosend], prepared({ inDoubt: new Set(['dnz']) }));
    await sut.deliver(payload);
    expect(dnz.sent).toHaveLength(0);
    expect(enosend.sent.map((m) => m.code)).toEqual(['482913']);
    expect(calls).toContainEqual(['recordSent', 'attempt-1', 'enosend']);
  });

  it('an attempt in doubt with one provider: the same digits through the same provider, never failed', async () => {
    const dnz = new ScriptedProvider('dnz');
    const { sut, calls, payload } = sutFor([dnz], prepared({ inDoubt: new Set(['dnz']) }));
    await sut.deliver(payload);
    expect(dnz.sent.map((m) => [m.code, m.attemptId])).toEqual([['482913', 'attempt-1']]);
    expect(calls.filter(([c]) => c === 'markFailed')).toEqual([]);
  });

  it('a fallback send (new digits after a reported failure) left in doubt is retried with its digits, only through the providers after the failed one', async () => {
    const sinch = new ScriptedProvider('sinch');
    const dnz = new ScriptedProvider('dnz');
    const { sut, payload } = sutFor([sinch, dnz], prepared({ inDoubt: new Set(['dnz']) }));
    await sut.deliver({ ...payload, after: 'sinch' });
    expect(sinch.sent).toHaveLength(0);
    expect(dnz.sent.map((m) => m.code)).toEqual(['482913']);
  });

  it('a code verified while its attempt was in doubt is sent, not failed', async () => {
    const dnz = new ScriptedProvider('dnz');
    const state = prepared({ inDoubt: new Set(['dnz']) });
    state.target.status = 'verified';
    const { sut, calls, payload } = sutFor([dnz], state);
    await sut.deliver(payload);
    expect(dnz.sent).toHaveLength(0);
    expect(calls).toEqual([['markSentInDoubt', 'dnz']]);
  });

  it('a per-recipient limit delays this code (the job is rescheduled with the same payload), without pausing the provider or falling back', async () => {
    const dnz = new ScriptedProvider('dnz', [recipientLimit(20_000)]);
    const enosend = new ScriptedProvider('enosend');
    const { sut, calls, payload } = sutFor([dnz, enosend], prepared());
    const before = Date.now();
    await sut.deliver(payload);
    expect(enosend.sent).toHaveLength(0);
    expect(calls.filter(([c]) => c === 'pauseProvider')).toEqual([]);
    const reschedule = calls.find(([c]) => c === 'reschedule');
    expect(reschedule?.slice(1, 4)).toEqual([DELIVER_OTP_TASK, payload, CODE_ID]);
    expect((reschedule?.[4] as Date).getTime()).toBeGreaterThanOrEqual(before + 20_000);
    expect(calls).toContainEqual(['finishAttempt', 'attempt-1', 'rate_limited_error']);
  });

  it('a per-recipient limit without Retry-After waits DELIVERY_RATE_LIMIT_WAIT_SECONDS', async () => {
    const dnz = new ScriptedProvider('dnz', [recipientLimit()]);
    const { sut, calls, payload } = sutFor([dnz], prepared());
    const before = Date.now();
    await sut.deliver(payload);
    const runAt = calls.find(([c]) => c === 'reschedule')?.[4] as Date;
    expect(runAt.getTime()).toBeGreaterThanOrEqual(before + CONFIG.rateLimitWaitMs);
  });

  it('a per-recipient limit longer than the code has to live falls back to the next provider instead', async () => {
    const dnz = new ScriptedProvider('dnz', [recipientLimit(120_000)]);
    const enosend = new ScriptedProvider('enosend');
    const { sut, calls, payload } = sutFor([dnz, enosend], prepared({}, 60_000));
    await sut.deliver(payload);
    expect(enosend.sent.map((m) => m.code)).toEqual(['482913']);
    expect(calls.filter(([c]) => c === 'reschedule')).toEqual([]);
  });

  it.each([
    ['permanent', 'permanent_error'],
    ['retryable', 'retryable_error'],
    ['configuration', 'configuration_error'],
  ] as const)('a %s error is recorded as %s and the next provider takes the code', async (kind, outcome) => {
    const dnz = new ScriptedProvider('dnz', [new ProviderError('dnz', kind, 'x_failed', 'no')]);
    const enosend = new ScriptedProvider('enosend');
    const { sut, calls, payload } = sutFor([dnz, enosend], prepared());
    await sut.deliver(payload);
    expect(calls.filter(([c]) => c === 'finishAttempt')).toEqual([['finishAttempt', 'attempt-1', outcome]]);
    expect(calls).toContainEqual(['recordSent', 'attempt-2', 'enosend']);
    // Only a configuration error marks the provider misconfigured (skipped by every code a while).
    expect(calls.filter(([c]) => c === 'setState')).toEqual(
      kind === 'configuration' ? [['setState', 'dnz', 'misconfigured']] : [],
    );
  });

  it('a provider-wide rate limit pauses the provider and retries the code when it lifts, after the others failed', async () => {
    const limit = new ProviderError('dnz', 'rate_limited', 'too_many', 'limit', { retryAfterMs: 20_000 });
    const dnz = new ScriptedProvider('dnz', [limit]);
    const enosend = new ScriptedProvider('enosend', [
      new ProviderError('enosend', 'permanent', 'nope', 'no'),
    ]);
    const { sut, calls, payload } = sutFor([dnz, enosend], prepared());
    await sut.deliver(payload);
    expect(calls.filter(([c]) => c === 'pauseProvider').map(([, p]) => p)).toEqual(['dnz']);
    expect(calls.filter(([c]) => c === 'reschedule')).toHaveLength(1);
    expect(calls.filter(([c]) => c === 'markFailed')).toEqual([]);
  });

  it('a permanent error for this recipient falls back at once and never counts against the circuit', async () => {
    const permanent = () => new ProviderError('dnz', 'permanent', 'not_on_whatsapp', 'no');
    const dnz = new ScriptedProvider('dnz', [permanent(), permanent(), permanent()]);
    const enosend = new ScriptedProvider('enosend');
    const metrics = new MetricsService();
    const router = new ProviderRouter([dnz, enosend], { ...CONFIG, circuitThreshold: 2 }, metrics);
    for (let i = 0; i < 3; i++) {
      const { sut, payload } = sutFor([dnz, enosend], prepared(), { router, metrics });
      await sut.deliver(payload);
    }
    // Three permanent errors with a breaker threshold of 2: DNZ was still asked every time.
    expect(dnz.sent).toHaveLength(3);
    expect(enosend.sent).toHaveLength(3);
  });
});

import { Inject, Injectable } from '@nestjs/common';
import {
  BrokenCircuitError,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  type IPolicy,
  retry,
  wrap,
} from 'cockatiel';
import { deliveryConfig, type DeliveryConfig } from '../config/index.js';
import { MetricsService } from '../metrics/index.js';
import { ProviderError, WHATSAPP_PROVIDERS, type WhatsAppProvider } from '../providers/index.js';

const CIRCUIT_GAUGE: Record<CircuitState, number> = {
  [CircuitState.Closed]: 0,
  [CircuitState.HalfOpen]: 1,
  [CircuitState.Open]: 2,
  [CircuitState.Isolated]: 2,
};

/**
 * The fallback chain of OTP_PROVIDERS, each provider behind its own resilience policy (cockatiel):
 * retryable errors are retried with exponential backoff and jitter, and a circuit breaker opens
 * after DELIVERY_CIRCUIT_THRESHOLD consecutive failures so a failing provider is skipped until
 * DELIVERY_CIRCUIT_OPEN_MS has passed (then one trial call). Breakers are per process.
 */
@Injectable()
export class ProviderRouter {
  private readonly policies = new Map<string, IPolicy>();

  constructor(
    @Inject(WHATSAPP_PROVIDERS) readonly chain: WhatsAppProvider[],
    @Inject(deliveryConfig.KEY) config: DeliveryConfig,
    metrics: MetricsService,
  ) {
    const retryable = handleWhen((e) => e instanceof ProviderError && e.kind === 'retryable');
    // A retryable error scoped to one recipient is retried but never opens the circuit: a number
    // that keeps hitting it must not switch the provider off for everyone. (Rate limits, such as
    // Meta's pair rate limit, are `rate_limited`: rescheduled through the queue, never counted.)
    const providerWide = handleWhen(
      (e) => e instanceof ProviderError && e.kind === 'retryable' && e.options.scope !== 'recipient',
    );
    for (const provider of chain) {
      const breaker = circuitBreaker(providerWide, {
        halfOpenAfter: config.circuitOpenMs,
        breaker: new ConsecutiveBreaker(config.circuitThreshold),
      });
      metrics.circuitState.set({ provider: provider.name }, 0);
      breaker.onStateChange((state) =>
        metrics.circuitState.set({ provider: provider.name }, CIRCUIT_GAUGE[state]),
      );
      const retrier = retry(retryable, {
        maxAttempts: config.retries,
        backoff: new ExponentialBackoff({
          initialDelay: config.retryBaseMs,
          maxDelay: 10 * config.retryBaseMs,
        }),
      });
      // Retries outside, breaker inside: every try counts towards opening the circuit, and an
      // open circuit stops the retries at once.
      this.policies.set(provider.name, wrap(retrier, breaker));
    }
  }

  /** Providers after `after` in the chain (all of them when `after` is undefined). */
  after(after?: string): WhatsAppProvider[] {
    if (!after) return this.chain;
    const index = this.chain.findIndex((p) => p.name === after);
    return index < 0 ? this.chain : this.chain.slice(index + 1);
  }

  /** Runs `fn` (one try against `provider`) under the provider's retry + circuit breaker policy. */
  execute<T>(provider: WhatsAppProvider, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const policy = this.policies.get(provider.name);
    if (!policy) return fn(new AbortController().signal);
    return policy.execute(({ signal }) => fn(signal));
  }

  static isOpenCircuit(error: unknown): boolean {
    return error instanceof BrokenCircuitError;
  }
}

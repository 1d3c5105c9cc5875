import { Injectable, Logger } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { countryOf, deliveryReason } from './labels.js';

/** What the delivery queue holds, read from the database at scrape time (JobQueueRepository). */
export interface QueueStats {
  /** Delivery jobs (first sends and fallbacks) waiting or running; never the cron task. */
  depth: number;
  /** Seconds since the oldest runnable delivery job became due; 0 with none due. */
  oldestAgeSeconds: number;
}

/** The scrape never waits longer than this for the queue's numbers (the gauges go absent instead). */
const QUEUE_STATS_TIMEOUT_MS = 2000;

/**
 * Every Prometheus metric of the service, in one registry. Modules inject this service and update
 * the metric they own; GET /metrics renders the registry. Label values are bounded sets (routes,
 * outcomes, providers, reasons): never a phone number, an id or a client-supplied string.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly logger = new Logger(MetricsService.name);
  private queueSource?: () => Promise<QueueStats>;
  private queueRead?: Promise<QueueStats | undefined>;

  readonly httpDuration = new Histogram({
    name: 'otp_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly codesIssued = new Counter({
    name: 'otp_codes_issued_total',
    // Not by purpose: purposes come from callers, and labels must stay a bounded set.
    help: 'Codes issued, by calling client',
    labelNames: ['client'] as const,
    registers: [this.registry],
  });

  readonly resendsRefused = new Counter({
    name: 'otp_resend_refused_total',
    help: 'Sends refused by the resend cooldown',
    registers: [this.registry],
  });

  readonly verifications = new Counter({
    name: 'otp_verifications_total',
    help: 'Verification outcomes: verified, invalid_code, expired, max_attempts_reached, not_found',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly deliveryAttempts = new Counter({
    name: 'otp_delivery_attempts_total',
    help: 'Delivery attempts by provider and outcome',
    labelNames: ['provider', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly deliveryLatency = new Histogram({
    name: 'otp_delivery_latency_seconds',
    help: 'Time from acceptance to a delivery stage (sent, delivered, read), by provider',
    labelNames: ['provider', 'stage'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });

  readonly webhookRejects = new Counter({
    name: 'otp_webhook_rejects_total',
    help: 'Webhook requests rejected, by provider and reason (unsigned, bad_signature, stale, replayed, bad_algorithm, too_large)',
    labelNames: ['provider', 'reason'] as const,
    registers: [this.registry],
  });

  readonly webhookEvents = new Counter({
    name: 'otp_webhook_events_total',
    help: 'Webhook events accepted, by provider and type',
    labelNames: ['provider', 'type'] as const,
    registers: [this.registry],
  });

  readonly throttled = new Counter({
    name: 'otp_throttled_total',
    help: 'Requests refused by a rate limit or anti-pumping rule, by throttler name',
    labelNames: ['throttler'] as const,
    registers: [this.registry],
  });

  readonly deliveries = new Counter({
    name: 'otp_deliveries_total',
    help: 'Codes whose delivery reached a status (sent: a provider accepted it; delivered; read), once per code and status, by provider',
    labelNames: ['provider', 'status'] as const,
    registers: [this.registry],
  });

  readonly deliveryFailures = new Counter({
    name: 'otp_delivery_failures_total',
    help: 'Codes whose delivery ended failed, once per code, by the last provider tried (none if no provider took it) and reason; includes late provider failure reports',
    labelNames: ['provider', 'reason'] as const,
    registers: [this.registry],
  });

  readonly conversionSent = new Counter({
    name: 'otp_conversion_sent_total',
    help: 'Codes a provider accepted, by provider and destination country (denominator of conversion)',
    labelNames: ['provider', 'country'] as const,
    registers: [this.registry],
  });

  readonly conversionVerified = new Counter({
    name: 'otp_conversion_verified_total',
    help: 'Codes verified, by the provider that carried them (none if none did) and destination country (numerator of conversion)',
    labelNames: ['provider', 'country'] as const,
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: 'otp_delivery_queue_depth',
    help: 'Delivery jobs waiting or running, read from the database at scrape time (any replica answers for the whole queue)',
    registers: [this.registry],
    collect: () => this.collectQueue(),
  });

  readonly queueOldestAge = new Gauge({
    name: 'otp_delivery_queue_oldest_age_seconds',
    help: 'Seconds since the oldest due delivery job became due (0 when none is due), read from the database at scrape time',
    registers: [this.registry],
    collect: () => this.collectQueue(),
  });

  readonly circuitState = new Gauge({
    name: 'otp_provider_circuit_state',
    help: 'Provider circuit breaker: 0 closed, 1 half-open, 2 open',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'otp_process_' });
    // Gauges that prom-client names *_total, which only counters may be (promtool check metrics
    // refuses them); the handle and request counts they give are not worth a non-standard name.
    for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total']) {
      this.registry.removeSingleMetric(`otp_process_nodejs_${name}`);
    }
  }

  /** Where the queue gauges read from (the delivery module registers it). */
  setQueueSource(source: () => Promise<QueueStats>): void {
    this.queueSource = source;
  }

  /** A code's delivery status moved to `status`: called where the UPDATE reported the row moved. */
  deliveryReached(
    status: 'sent' | 'delivered' | 'read',
    code: { provider: string; phone: string; createdAt: Date; at: Date },
  ): void {
    this.deliveries.inc({ provider: code.provider, status });
    this.deliveryLatency.observe(
      { provider: code.provider, stage: status },
      Math.max(0, (code.at.getTime() - code.createdAt.getTime()) / 1000),
    );
    if (status === 'sent')
      this.conversionSent.inc({ provider: code.provider, country: countryOf(code.phone) });
  }

  /** A code's delivery moved to failed, for good. */
  deliveryFailed(code: { provider: string | null; reason: string }): void {
    this.deliveryFailures.inc({ provider: code.provider ?? 'none', reason: deliveryReason(code.reason) });
  }

  /** A code verified: conversion's numerator, under the provider that carried it. */
  codeVerified(code: { provider: string | null; phone: string }): void {
    this.conversionVerified.inc({ provider: code.provider ?? 'none', country: countryOf(code.phone) });
  }

  /**
   * Both queue gauges from one read per scrape. A read that fails or is slow leaves both gauges
   * without a value (absent in the scrape, which an alert can see), never a stale number.
   */
  private async collectQueue(): Promise<void> {
    if (!this.queueSource) return;
    this.queueRead ??= this.readQueue().finally(() => {
      // Both gauges' collect() of one scrape share the read; the next scrape reads again.
      setImmediate(() => (this.queueRead = undefined));
    });
    const stats = await this.queueRead;
    if (stats) {
      this.queueDepth.set(stats.depth);
      this.queueOldestAge.set(stats.oldestAgeSeconds);
    } else {
      this.queueDepth.reset();
      this.queueOldestAge.reset();
    }
  }

  private async readQueue(): Promise<QueueStats | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        (this.queueSource as () => Promise<QueueStats>)(),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), QUEUE_STATS_TIMEOUT_MS);
          timer.unref();
        }),
      ]);
    } catch (error) {
      this.logger.warn({ err: { message: (error as Error)?.message } }, 'queue metrics unavailable');
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}

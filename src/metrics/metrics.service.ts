import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric of the service, in one registry. Modules inject this service and update
 * the metric they own; GET /metrics renders the registry. Label values are bounded sets (routes,
 * outcomes, providers, reasons): never a phone number, an id or a client-supplied string.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

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

  readonly queueDepth = new Gauge({
    name: 'otp_delivery_queue_depth',
    help: 'Delivery jobs waiting or running',
    registers: [this.registry],
  });

  readonly circuitState = new Gauge({
    name: 'otp_provider_circuit_state',
    help: 'Provider circuit breaker: 0 closed, 1 half-open, 2 open; -1 unhealthy (misconfigured or disconnected)',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'otp_process_' });
  }
}

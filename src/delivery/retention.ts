import { Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { OneTimeCodesRepository } from '../codes/index.js';
import { JobQueueRepository } from './job-queue.repository.js';

/** What a table's owner deletes at each retention run: rows deleted, by name (logged, returned). */
export interface RetentionSweep {
  sweep(now: Date): Promise<Record<string, number>>;
}

/**
 * Marks the owner of a table that has a retention sweep (a class implementing RetentionSweep).
 * The modules that depend on delivery (otp, webhooks) mark their owners so the scheduler finds them
 * without importing them; the owners delivery itself depends on are called directly.
 */
export const RetentionSweeper = DiscoveryService.createDecorator();

/**
 * Retention, run by the per-minute cron task: each table's owner deletes its own old rows, in turn.
 *  1. the queue (JobQueueRepository): jobs that failed for good, and their codes' delivery marked
 *     failed (OneTimeCodesRepository), so no undelivered send stays invisible;
 *  2. one_time_codes past OTP_RETENTION_HOURS that can no longer verify (their attempts cascade;
 *     their wrong codes are folded into the verify guards);
 *  3. every @RetentionSweeper() owner: idempotency keys, webhook receipts, per-phone limit rows
 *     (after 2: a verify guard is kept while a code whose failures it discounts is left).
 */
@Injectable()
export class RetentionScheduler {
  constructor(
    private readonly queue: JobQueueRepository,
    private readonly codes: OneTimeCodesRepository,
    private readonly discovery: DiscoveryService,
  ) {}

  async sweep(now: Date): Promise<Record<string, number>> {
    const deadJobs = await this.queue.sweepDeadJobs();
    for (const key of deadJobs) {
      if (key && /^[0-9a-f-]{36}$/.test(key)) await this.codes.markFailed(key, 'delivery_job_failed', now);
    }
    let swept: Record<string, number> = { ...(await this.codes.sweep(now)), deadJobs: deadJobs.length };
    for (const owner of this.owners()) swept = { ...swept, ...(await owner.sweep(now)) };
    return swept;
  }

  private owners(): RetentionSweep[] {
    return this.discovery
      .getProviders({ metadataKey: RetentionSweeper.KEY })
      .map((wrapper) => wrapper.instance as RetentionSweep)
      .filter((owner) => typeof owner?.sweep === 'function');
  }
}

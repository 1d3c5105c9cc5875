import { Injectable } from '@nestjs/common';
import type { QueueStats } from '../metrics/index.js';
import { PrismaService } from '../prisma/index.js';
import { DELIVER_OTP_TASK, FALLBACK_TASK } from './queue/index.js';

/** Delivery jobs only (first sends and fallbacks): never the cron task that may be running. */
const QUEUE_STATS = {
  name: 'delivery_queue_stats',
  text: `
    SELECT count(*)::int AS depth,
      coalesce(extract(epoch FROM now() - min(j.run_at) FILTER (WHERE j.locked_at IS NULL AND j.run_at <= now())), 0)::float8
        AS "oldestAgeSeconds"
    FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id
    WHERE t.identifier = ANY($1::text[]) AND j.attempts < j.max_attempts`,
};

/**
 * The owner of the job queue (graphile-worker's tables): rescheduling, job leases, the queue
 * gauges and the removal of jobs that failed for good. Jobs are also enqueued inside the atomic
 * statements of otp's ISSUE (the code and its job), webhooks' FAILED report (the fallback job) and
 * rekeyAndResend here, each with graphile_worker.add_job in the same statement as its row.
 */
@Injectable()
export class JobQueueRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Fallback after a provider reported failure: new digits for the still-pending code and the
   * job that sends them (their ciphertext), in ONE statement, so the stored hash and the digits
   * on their way never disagree. Nothing while an earlier fallback send of this code is queued or
   * running (a re-run of the fallback job must not change the digits under it).
   * Ownership exception: it writes one_time_codes' hash (OneTimeCodesRepository's table), as the
   * re-key and the job that carries the new digits must commit together.
   */
  async rekeyAndResend(
    codeId: string,
    rekey: { codeHash: string; hashKeyId: string },
    task: string,
    payload: object,
    jobKey: string,
    now: Date,
  ): Promise<boolean> {
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      WITH k AS (
        UPDATE one_time_codes SET code_hash = ${rekey.codeHash}, hash_key_id = ${rekey.hashKeyId}
        WHERE id = ${codeId}::uuid AND status = 'pending' AND expires_at > ${now}
          AND delivery_status IN ('queued', 'sent')
          AND NOT EXISTS (SELECT 1 FROM graphile_worker._private_jobs WHERE key = ${jobKey})
        RETURNING id
      )
      SELECT (graphile_worker.add_job(${task}::text, ${JSON.stringify(payload)}::json, job_key => ${jobKey}::text,
        max_attempts => 10)).id::text AS id FROM k`;
    return rows.length === 1;
  }

  /**
   * Runs this code's delivery job again at `runAt` (a provider asked us to wait), with the same
   * encrypted payload, so the same digits go out. The running job, which holds the key, gives it
   * up to the new one (graphile-worker's add_job on a locked job) and then completes.
   */
  async reschedule(task: string, payload: object, jobKey: string, runAt: Date): Promise<void> {
    await this.prisma.$executeRaw`
      SELECT graphile_worker.add_job(${task}::text, ${JSON.stringify(payload)}::json, job_key => ${jobKey}::text,
        run_at => ${runAt}::timestamptz, max_attempts => 10)`;
  }

  /**
   * Renews the locks of the jobs this process's workers hold (their heartbeat): a lock that is
   * not renewed for DELIVERY_LOCK_TIMEOUT_SECONDS belongs to a dead process and is released.
   */
  async renewLocks(workerIds: string[]): Promise<number> {
    if (workerIds.length === 0) return 0;
    return this.prisma.$executeRaw`
      UPDATE graphile_worker._private_jobs SET locked_at = now()
      WHERE locked_by = ANY(${workerIds}::text[]) AND locked_at IS NOT NULL`;
  }

  /**
   * The newest queue-schema revision graphile-worker marked breaking (0 if none): a newer version's
   * migration that this process's graphile-worker must not run on (DeliveryWorker).
   */
  async latestBreakingRevision(): Promise<number> {
    const [row] = await this.prisma.$queryRaw<{ id: number }[]>`
      SELECT coalesce(max(id), 0)::int AS id FROM graphile_worker.migrations WHERE breaking`;
    return row?.id ?? 0;
  }

  /** Unlocks jobs held by a worker that died (graphile-worker itself waits 4 hours). */
  async releaseStaleLocks(olderThanSeconds: number): Promise<number> {
    return this.prisma.$executeRaw`
      UPDATE graphile_worker._private_jobs SET locked_at = NULL, locked_by = NULL
      WHERE locked_at IS NOT NULL AND locked_at < now() - make_interval(secs => ${olderThanSeconds})`;
  }

  /** Read at scrape time by whichever replica is scraped (MetricsService's queue gauges). */
  async queueStats(): Promise<QueueStats> {
    return (await this.prisma.hot<QueueStats>(QUEUE_STATS, [[DELIVER_OTP_TASK, FALLBACK_TASK]]))[0];
  }

  /**
   * Retention: deletes the jobs that failed for good (not locked), and returns their keys (a
   * delivery job is keyed by its code id: the caller marks those codes' delivery failed).
   */
  async sweepDeadJobs(): Promise<(string | null)[]> {
    const deadJobs = await this.prisma.$queryRaw<{ key: string | null }[]>`
      DELETE FROM graphile_worker._private_jobs WHERE attempts >= max_attempts AND locked_at IS NULL RETURNING key`;
    return deadJobs.map(({ key }) => key);
  }
}

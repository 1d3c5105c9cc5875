import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { EventEmitter } from 'node:events';
import {
  Logger as GraphileLogger,
  run,
  type Runner,
  type TaskList,
  type WorkerEvents,
} from 'graphile-worker';
import { Clock, summarize } from '../common/index.js';
import { deliveryConfig, type DeliveryConfig } from '../config/index.js';
import { MetricsService } from '../metrics/index.js';
import { PrismaService } from '../prisma/index.js';
import {
  DELIVER_OTP_TASK,
  type DeliverOtpPayload,
  FALLBACK_TASK,
  type FallbackPayload,
  RETENTION_TASK,
} from './queue/queue.contract.js';
import { DeliveryService } from './delivery.service.js';
import { JobQueueRepository } from './job-queue.repository.js';
import { RetentionScheduler } from './retention.js';

/**
 * The job worker of this instance (graphile-worker: PostgreSQL-backed, picks jobs up through
 * LISTEN/NOTIFY within milliseconds, safe to run on every replica). Started after the HTTP server
 * is up; stopped before it closes, finishing the jobs it holds. If the database is unreachable at
 * boot it keeps retrying instead of failing the process.
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DeliveryWorker.name);
  private runner?: Runner;
  private stopping = false;
  private retryTimer?: NodeJS.Timeout;
  /** The start in progress, if any: shutdown waits for it, so no runner starts after the pools close. */
  private starting?: Promise<void>;
  /** Runners being stopped after a fault: shutdown waits for the jobs they still hold. */
  private readonly draining = new Set<Promise<void>>();
  /** graphile-worker ids of this process's live workers: the locks the heartbeat renews. */
  private readonly workerIds = new Set<string>();
  private leaseTimer?: NodeJS.Timeout;

  constructor(
    private readonly delivery: DeliveryService,
    private readonly queue: JobQueueRepository,
    private readonly retention: RetentionScheduler,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
    @Inject(deliveryConfig.KEY) private readonly config: DeliveryConfig,
    private readonly prisma: PrismaService,
  ) {}

  /** The newest breaking queue-schema revision when the current runner started (see startLease). */
  private breakingAtStart = 0;
  /** Restarts the current runner (set by start() for the runner it started). */
  private restartRunner?: (why: string) => void;
  private startFailures = 0;
  /** Runner restarts since a job fetch last succeeded: each waits twice as long, up to a minute. */
  private restartsInARow = 0;
  private lastStartWarning = 0;

  onApplicationBootstrap(): void {
    // Every replica answers a scrape for the whole queue, worker or not (read at scrape time).
    this.metrics.setQueueSource(() => this.queue.queueStats());
    if (!this.config.workerEnabled) return;
    this.starting = this.start();
    this.startLease();
  }

  /**
   * Job leases: every third of DELIVERY_LOCK_TIMEOUT_SECONDS this process renews the locks its
   * workers hold (a delivery of any length stays its own while the process lives) and releases
   * locks nobody renewed for that long (their process died: kill -9, OOM, a lost node), so another
   * worker delivers those jobs within DELIVERY_LOCK_TIMEOUT_SECONDS plus one period. graphile-worker
   * 0.16 itself only releases them after 4 hours.
   */
  private startLease(): void {
    const periodMs = Math.max(500, Math.floor((this.config.lockTimeoutSeconds * 1000) / 3));
    let busy = false;
    this.leaseTimer = setInterval(() => {
      if (busy) return;
      busy = true;
      void (async () => {
        try {
          await this.queue.renewLocks([...this.workerIds]);
          const released = await this.queue.releaseStaleLocks(this.config.lockTimeoutSeconds);
          if (released > 0) this.logger.warn({ released }, 'released jobs of a dead worker');
          // A newer version's breaking migration is announced by a notice (see start()), which is
          // lost if it comes while graphile-worker reconnects its listener: checked here as well.
          if (this.runner && (await this.queue.latestBreakingRevision()) > this.breakingAtStart)
            this.restartRunner?.(
              'the queue schema has a breaking revision newer than this worker started with',
            );
        } catch (error) {
          this.logger.debug({ err: summarize(error) }, 'job lease renewal failed; retrying');
        } finally {
          busy = false;
        }
      })();
    }, periodMs);
    this.leaseTimer.unref();
  }

  private async start(): Promise<void> {
    if (this.stopping) return;
    const exitCodeBefore = process.exitCode;
    try {
      // A job held by a worker that died (kill -9, OOM) is released before this one starts.
      await this.queue.releaseStaleLocks(this.config.lockTimeoutSeconds);
      // Our own emitter, so the workers created inside run() are seen (their ids: the lease).
      const events: WorkerEvents = new EventEmitter();
      events.on('worker:create', ({ worker }) => this.workerIds.add(worker.workerId));
      // A worker that stopped or died holds nothing we may renew (a dead one's job must be released).
      // Not on 'worker:release': graphile-worker emits it when a stop begins, while the worker
      // may still be running a job; its lease must outlive the drain, or another replica takes it.
      for (const gone of ['worker:stop', 'worker:fatalError'] as const)
        events.on(gone, ({ worker }) => this.workerIds.delete(worker.workerId));
      const runner = await run({
        events,
        // Its own pool (PrismaService.workerPool), shared with the delivery statements only.
        pgPool: this.prisma.workerPool,
        concurrency: this.config.concurrency,
        noHandleSignals: true,
        pollInterval: 2000,
        logger: this.graphileLogger(),
        taskList: this.tasks(),
        // Every minute: stale locks and retention. graphile-worker runs each
        // tick once across all replicas.
        crontab: `* * * * * ${RETENTION_TASK} ?max=1&id=${RETENTION_TASK}`,
      });
      this.runner = runner;
      // Read after run(), which may itself have applied a breaking migration of this version. Not
      // allowed to throw here: the runner is already up, and a failed start would start another.
      this.breakingAtStart = await this.queue.latestBreakingRevision().catch(() => this.breakingAtStart);
      this.logger.log({ concurrency: this.config.concurrency }, 'delivery worker started');
      this.startFailures = 0;
      const restart = (error: unknown, why: string) => {
        if (this.runner !== runner) return;
        this.runner = undefined;
        this.restartsInARow += 1;
        const restartInMs = Math.min(60_000, 2000 * 2 ** (this.restartsInARow - 1));
        const err = error === undefined ? {} : { err: summarize(error) };
        this.logger.error({ ...err, restartInMs }, `${why}; restarting`);
        const stopped: Promise<void> = Promise.allSettled([
          Promise.resolve().then(() => runner.stop()),
          // Settles once the pool has finished its jobs; stop() returns before that when the pool
          // began to stop by itself (a breaking-migration notice).
          runner.promise,
        ]).then(() => void this.draining.delete(stopped));
        this.draining.add(stopped);
        this.scheduleRestart(restartInMs);
      };
      this.restartRunner = (why) => restart(undefined, why);
      // A fetch that worked (a job, or none due): the next fault restarts after 2 s again.
      for (const worked of ['worker:getJob:empty', 'job:start'] as const)
        runner.events.on(worked, () => (this.restartsInARow = 0));
      // graphile-worker does not replace a worker that could not record a job's outcome (the
      // database went away mid-job: "committing seppuku"); once all have gone the runner stays up
      // with no worker and the queue stalls. A fresh runner (which releases stale locks) instead.
      runner.events.on('worker:fatalError', ({ error }) => restart(error, 'a delivery worker died'));
      // graphile-worker 0.16 reads the ids of its tasks once per runner, at the first job fetch,
      // and caches that read as a promise (taskIdentifiers.js): if the read failed (the database
      // went away at that instant), every later fetch rejects with that same error object, for the
      // life of the runner. A fault met anew is a new error; the same one twice is that cache.
      let lastFetchError: unknown;
      runner.events.on('worker:getJob:error', ({ error }) => {
        if (error !== undefined && error === lastFetchError)
          restart(error, 'the delivery worker cannot read its task ids since a database fault');
        lastFetchError = error;
      });
      runner.promise.then(
        () => {
          // graphile-worker stops by itself without an error in one case: a newer graphile-worker
          // (the next version of this service, in a rolling upgrade) announced a breaking migration
          // of the queue schema. A fresh runner meets graphile-worker's own schema check: it runs
          // if the schema allows, and otherwise start() says why, until this replica runs the new
          // version.
          keepExitCode(exitCodeBefore);
          if (this.stopping) return;
          restart(
            undefined,
            'the delivery worker stopped: a newer worker announced a breaking queue schema migration',
          );
        },
        (error: unknown) => restart(error, 'delivery worker stopped unexpectedly'),
      );
    } catch (error) {
      // graphile-worker's migrate sets the exit code too when it refuses a newer schema.
      keepExitCode(exitCodeBefore);
      // While the database is down this repeats every 2 s: one short line at the first failure,
      // then at most one a minute (a stack trace every 2 s said nothing new).
      this.startFailures += 1;
      if (this.startFailures === 1 || Date.now() - this.lastStartWarning >= 60_000) {
        this.lastStartWarning = Date.now();
        const fields = { attempts: this.startFailures, reason: lastLineOf(error) };
        // graphile-worker's migrate refuses a schema with a breaking revision newer than it knows.
        if (/breaking migration/.test(fields.reason))
          this.logger.error(
            fields,
            "this replica's delivery worker is older than the queue schema (a newer version migrated it): it delivers nothing until it runs that version; retrying every 2 s",
          );
        else
          this.logger.warn(
            fields,
            'delivery worker cannot start yet (is the database reachable?); retrying every 2 s',
          );
      }
      this.scheduleRestart();
    }
  }

  private scheduleRestart(delayMs = 2000): void {
    if (this.stopping) return;
    this.retryTimer = setTimeout(() => {
      this.starting = this.start();
    }, delayMs);
    this.retryTimer.unref();
  }

  /** Stop taking jobs; jobs in hand finish (their provider calls are bounded by timeouts). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retryTimer);
    // SIGTERM can land while a runner is starting (at boot, or after a fault): let it finish, then
    // stop it with the rest. A failure here is logged, never thrown: shutdown goes on.
    await this.starting;
    await Promise.all([
      this.runner
        ?.stop()
        .catch((error: unknown) =>
          this.logger.warn({ err: summarize(error) }, 'delivery worker did not stop cleanly'),
        ),
      // Settles once its pool has finished the jobs it holds, also when the pool began to stop by
      // itself (a breaking-migration notice), where stop() above returns without waiting for them.
      this.runner?.promise.catch(() => undefined),
      ...this.draining,
    ]);
    clearInterval(this.leaseTimer);
  }

  private tasks(): TaskList {
    return {
      [DELIVER_OTP_TASK]: (payload) => this.delivery.deliver(payload as DeliverOtpPayload),
      [FALLBACK_TASK]: (payload) => this.delivery.fallback(payload as FallbackPayload),
      [RETENTION_TASK]: async () => {
        const released = await this.queue.releaseStaleLocks(this.config.lockTimeoutSeconds);
        // Each table's owner deletes its own old rows (RetentionScheduler).
        const swept = await this.retention.sweep(this.clock.now());
        if (released > 0 || Object.values(swept).some((n) => n > 0))
          this.logger.log({ released, ...swept }, 'retention sweep');
      },
    };
  }

  private graphileLogger(): GraphileLogger {
    const logger = new Logger('GraphileWorker');
    return new GraphileLogger(() => (level, message, meta) => {
      const fields = { scope: meta?.scope ?? undefined };
      if (level === 'error') logger.error(fields, message);
      else if (level === 'warning') logger.warn(fields, message);
      else logger.debug?.(fields, message);
    });
  }
}

/**
 * graphile-worker sets process.exitCode = 57 when a newer worker migrated the queue schema with a
 * breaking change: its code for a process that is only a worker. This process also serves the API
 * and keeps trying to start its worker; how it exits is decided here, not there.
 */
function keepExitCode(before: typeof process.exitCode): void {
  if (process.exitCode === 57) process.exitCode = before;
}

/** The last non-empty line of an error's message (Prisma's put the cause last), at most 200 characters. */
function lastLineOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return (lines[lines.length - 1] ?? 'unknown error').slice(0, 200);
}

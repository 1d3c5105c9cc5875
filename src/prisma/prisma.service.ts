import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { databaseConfig, type DatabaseConfig } from '../config/index.js';
import { PrismaClient } from '../generated/prisma/client.js';

/** A statement of the hot path: its name (prepared once per connection) and its text ($1, $2, …). */
export interface HotStatement {
  name: string;
  text: string;
}

/**
 * Prisma 7 over the `pg` driver adapter (no query-engine binary), on a pool this service owns.
 * Connections are opened lazily, so the service starts and answers liveness while the database is
 * still unreachable. The pool closes in onApplicationShutdown, which Nest calls only after the HTTP
 * server has drained its requests.
 *
 * The few statements every send, verify and delivery runs go to the same pool directly as named
 * prepared statements (`hot`): measured here, a `$queryRaw` costs ~125 µs of CPU against ~27 µs
 * for the same query through `pg` (bench/PROFILE.md), and on two cores that decides the throughput.
 * Everything else, the schema, the migrations and Prisma Studio stay with Prisma.
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  private readonly logger = new Logger(PrismaService.name);
  /** The API's connections (and Prisma's). */
  readonly pool: pg.Pool;
  /**
   * The delivery worker's connections: graphile-worker's own queries and the delivery statements.
   * A bulkhead: however many deliveries are in flight, API requests never wait behind them.
   */
  readonly workerPool: pg.Pool;

  constructor(@Inject(databaseConfig.KEY) config: DatabaseConfig) {
    const pool = createPool(config, config.poolSize, 'whatsapp-otp-service');
    super({ adapter: new PrismaPg(pool) });
    this.pool = pool;
    this.workerPool = createPool(config, config.workerPoolSize, 'whatsapp-otp-service-worker', {
      synchronousCommit: config.workerSynchronousCommit,
    });
    // An idle connection that breaks (the database restarted) is dropped by the pool; without a
    // listener the 'error' event would crash the process.
    for (const p of [this.pool, this.workerPool]) {
      p.on('error', (error) => this.logger.warn({ err: error.message }, 'idle database connection lost'));
    }
  }

  /** Runs a hot-path statement as a named prepared statement, on the API's pool by default. */
  async hot<R extends pg.QueryResultRow>(
    statement: HotStatement,
    values: unknown[],
    pool: pg.Pool = this.pool,
  ): Promise<R[]> {
    const result = await pool.query<R>({ name: statement.name, text: statement.text, values });
    return result.rows;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
    await Promise.all([this.pool.end(), this.workerPool.end()]);
  }
}

function createPool(
  config: DatabaseConfig,
  max: number,
  applicationName: string,
  { synchronousCommit = true } = {},
): pg.Pool {
  return new pg.Pool({
    connectionString: config.url,
    max,
    connectionTimeoutMillis: config.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    // Server-side bound on any statement, and a client-side bound for when the server is gone.
    statement_timeout: config.statementTimeoutMs,
    query_timeout: config.statementTimeoutMs + 1000,
    keepAlive: true,
    application_name: applicationName,
    ...(synchronousCommit ? {} : { options: '-c synchronous_commit=off' }),
  });
}

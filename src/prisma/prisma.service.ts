import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { databaseConfig, type DatabaseConfig } from '../config/index.js';
import { PrismaClient } from '../generated/prisma/client.js';

/**
 * Prisma 7 over the `pg` driver adapter (no query-engine binary). Connections are opened lazily, so
 * the service starts and answers liveness while the database is still unreachable. The pool closes
 * in onApplicationShutdown, which Nest calls only after the HTTP server has drained its requests.
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  constructor(@Inject(databaseConfig.KEY) config: DatabaseConfig) {
    const adapter = new PrismaPg({
      connectionString: config.url,
      max: config.poolSize,
      connectionTimeoutMillis: config.connectTimeoutMs,
      idleTimeoutMillis: 30_000,
      // Server-side bound on any statement, and a client-side bound for when the server is gone.
      statement_timeout: config.statementTimeoutMs,
      query_timeout: config.statementTimeoutMs + 1000,
      keepAlive: true,
      application_name: 'whatsapp-otp-service',
    });
    super({ adapter });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
  }
}

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { PrismaService } from '../prisma/index.js';

/** Name of the newest migration shipped with this build, read once at start-up. */
function latestMigration(dir = join(process.cwd(), 'prisma', 'migrations')): string | undefined {
  if (!existsSync(dir)) return undefined;
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .at(-1);
}

/**
 * Readiness of the database: reachable within a timeout, and migrated at least up to the newest
 * migration this build ships (so a pod of a new version is not ready before its migration Job ran).
 */
@Injectable()
export class DatabaseHealthIndicator {
  private readonly expectedMigration = latestMigration();

  constructor(
    private readonly prisma: PrismaService,
    private readonly indicators: HealthIndicatorService,
  ) {}

  check(timeoutMs = 1500) {
    return this.indicators
      .check('database')
      .attempt(async () => {
        if (!this.expectedMigration) {
          await this.prisma.$queryRaw`SELECT 1`;
          return {};
        }
        const rows = await this.prisma.$queryRaw<{ applied: boolean }[]>`
          SELECT EXISTS (
            SELECT 1 FROM _prisma_migrations
            WHERE migration_name = ${this.expectedMigration} AND finished_at IS NOT NULL AND rolled_back_at IS NULL
          ) AS applied`;
        if (!rows[0]?.applied) throw new Error(`migration ${this.expectedMigration} is not applied`);
        return { migration: this.expectedMigration };
      })
      .withTimeout(timeoutMs);
  }
}

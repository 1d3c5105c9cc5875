import { setTimeout as sleep } from 'node:timers/promises';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { appConfig, type AppConfig } from '../config/index.js';

/**
 * SIGTERM drain. Readiness turns 503 at once; after SHUTDOWN_DELAY_MS (time for Kubernetes to take
 * the pod out of its Service) Nest closes the HTTP server, which lets in-flight requests finish
 * before the database pool closes (PrismaService.onApplicationShutdown).
 */
@Injectable()
export class ShutdownService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(ShutdownService.name);
  private draining = false;

  constructor(@Inject(appConfig.KEY) private readonly config: AppConfig) {}

  get isDraining(): boolean {
    return this.draining;
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.draining = true;
    this.logger.log({ signal, delayMs: this.config.shutdownDelayMs }, 'shutting down: draining');
    if (this.config.shutdownDelayMs > 0) await sleep(this.config.shutdownDelayMs);
  }
}

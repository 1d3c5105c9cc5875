import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { ShutdownService } from '../lifecycle/shutdown.service.js';
import { DatabaseHealthIndicator } from './database.health.js';

/** Kubernetes probes. Liveness never touches the database; readiness does, with a timeout. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly shutdown: ShutdownService,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => {
        const session = this.indicators.check('shutdown');
        return this.shutdown.isDraining ? session.down({ message: 'draining' }) : session.up();
      },
      () => this.database.check(),
    ]);
  }
}

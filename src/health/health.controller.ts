import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { ShutdownService } from '../lifecycle/index.js';
import { EnoSendHealthIndicator } from './enosend.health.js';
import { DatabaseHealthIndicator } from './database.health.js';

// Terminus body shapes (the probes read only the status code).
const check = (example: object) => ({
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'error', 'shutting_down'] },
    info: { type: 'object', additionalProperties: true },
    error: { type: 'object', additionalProperties: true },
    details: { type: 'object', additionalProperties: true },
  },
  example,
});
const UP = {
  status: 'ok',
  info: { shutdown: { status: 'up' }, database: { status: 'up' } },
  error: {},
  details: {},
};
const DOWN = {
  status: 'error',
  info: { shutdown: { status: 'up' } },
  error: { database: { status: 'down', message: 'database unreachable' } },
  details: { shutdown: { status: 'up' }, database: { status: 'down', message: 'database unreachable' } },
};

/** Kubernetes probes. Liveness never touches the database; readiness does, with a timeout. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly shutdown: ShutdownService,
    private readonly enosend: EnoSendHealthIndicator,
  ) {}

  @Get('live')
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOperation({ summary: 'Liveness: the process answers; never touches the database' })
  @ApiResponse({
    status: 200,
    description: 'Alive',
    schema: check({ status: 'ok', info: {}, error: {}, details: {} }),
  })
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOperation({ summary: 'Readiness: database reachable and migrated; 503 while draining after SIGTERM' })
  @ApiResponse({ status: 200, description: 'Ready for traffic', schema: check(UP) })
  @ApiResponse({ status: 503, description: 'Database unreachable, or draining', schema: check(DOWN) })
  ready() {
    return this.health.check([
      () => {
        const session = this.indicators.check('shutdown');
        return this.shutdown.isDraining ? session.down({ message: 'draining' }) : session.up();
      },
      () => this.database.check(),
      // EnoSend's instance state: degraded (still 200) while its phone is not connected.
      ...(this.enosend.enabled ? [() => this.enosend.check()] : []),
    ]);
  }
}

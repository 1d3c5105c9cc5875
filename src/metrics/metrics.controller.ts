import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { MetricsTokenGuard } from '../auth/index.js';
import { ApiErrors, METRICS_AUTH } from '../openapi/index.js';
import { MetricsService } from './metrics.service.js';

@ApiTags('metrics')
@Controller('metrics')
// Bearer METRICS_TOKEN when set (shared/docs API.md A4).
@UseGuards(MetricsTokenGuard)
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @ApiOperation({ summary: 'Prometheus text exposition of every otp_* metric' })
  // No token, or METRICS_TOKEN: both are valid ways to call it, depending on the configuration.
  @ApiSecurity({})
  @ApiSecurity(METRICS_AUTH)
  @ApiErrors(['unauthorized'])
  @ApiOkResponse({
    description: 'Prometheus text format 0.0.4',
    // Only the 200 is text; errors are the JSON ErrorResponse like everywhere else.
    content: {
      'text/plain': {
        schema: { type: 'string', example: 'otp_verifications_total{outcome="verified"} 42' },
      },
    },
  })
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  render(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}

import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DatabaseHealthIndicator } from './database.health.js';
import { HealthController } from './health.controller.js';
import { WebhooksModule } from '../webhooks/index.js';

@Module({
  // EnoSendHealthIndicator (and the ProviderStateRepository it reads) come from WebhooksModule.
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), WebhooksModule],
  controllers: [HealthController],
  providers: [DatabaseHealthIndicator],
})
export class HealthModule {}

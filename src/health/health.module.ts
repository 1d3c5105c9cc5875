import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DatabaseHealthIndicator } from './database.health.js';
import { EnoSendHealthIndicator } from './enosend.health.js';
import { HealthController } from './health.controller.js';
import { WebhooksModule } from '../webhooks/index.js';

@Module({
  // EnoSend's indicator reads provider_states through webhooks' ProviderStateRepository.
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), WebhooksModule],
  controllers: [HealthController],
  providers: [DatabaseHealthIndicator, EnoSendHealthIndicator],
})
export class HealthModule {}

import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DatabaseHealthIndicator } from './database.health.js';
import { HealthController } from './health.controller.js';
import { EnoSendHealthIndicator } from '../webhooks/enosend.health.js';
import { ProviderStateRepository } from '../webhooks/provider-state.repository.js';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' })],
  controllers: [HealthController],
  providers: [DatabaseHealthIndicator, EnoSendHealthIndicator, ProviderStateRepository],
})
export class HealthModule {}

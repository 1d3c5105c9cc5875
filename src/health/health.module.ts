import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DatabaseHealthIndicator } from './database.health.js';
import { HealthController } from './health.controller.js';
import { EnoSendHealthIndicator } from '../webhooks/enosend.health.js';
import { ProviderStatesRepository } from '../delivery/provider-states.repository.js';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' })],
  controllers: [HealthController],
  providers: [DatabaseHealthIndicator, EnoSendHealthIndicator, ProviderStatesRepository],
})
export class HealthModule {}

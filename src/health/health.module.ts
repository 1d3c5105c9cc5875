import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DatabaseHealthIndicator } from './database.health.js';
import { EnoSendHealthIndicator } from './enosend.health.js';
import { HealthController } from './health.controller.js';
import { DeliveryModule } from '../delivery/index.js';

@Module({
  // EnoSend's indicator reads provider_states through delivery's ProviderStatesRepository (their owner).
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), DeliveryModule],
  controllers: [HealthController],
  providers: [DatabaseHealthIndicator, EnoSendHealthIndicator],
})
export class HealthModule {}

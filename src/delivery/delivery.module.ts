import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { OtpModule } from '../otp/otp.module.js';
import { ProvidersModule } from '../providers/providers.module.js';
import { DeliveryAttemptsRepository } from './delivery-attempts.repository.js';
import { DeliveryService } from './delivery.service.js';
import { DeliveryWorker } from './delivery.worker.js';
import { FaultHook } from './fault-hook.js';
import { JobQueueRepository } from './job-queue.repository.js';
import { ProviderRouter } from './provider-router.js';
import { ProviderStatesRepository } from './provider-states.repository.js';
import { RetentionScheduler } from './retention.js';

@Module({
  imports: [ProvidersModule, OtpModule, DiscoveryModule],
  providers: [
    DeliveryAttemptsRepository,
    JobQueueRepository,
    ProviderStatesRepository,
    RetentionScheduler,
    DeliveryService,
    DeliveryWorker,
    FaultHook,
    ProviderRouter,
  ],
  exports: [ProviderStatesRepository],
})
export class DeliveryModule {}

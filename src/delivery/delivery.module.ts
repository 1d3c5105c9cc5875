import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CodesModule } from '../codes/index.js';
import { ProvidersModule } from '../providers/index.js';
import { DeliveryAttemptsRepository } from './delivery-attempts.repository.js';
import { DeliveryService } from './delivery.service.js';
import { DeliveryWorker } from './delivery.worker.js';
import { FaultHook } from './fault-hook.js';
import { JobQueueRepository } from './job-queue.repository.js';
import { ProviderRouter } from './provider-router.js';
import { ProviderStatesRepository } from './provider-states.repository.js';
import { RetentionScheduler } from './retention.js';

@Module({
  imports: [ProvidersModule, CodesModule, DiscoveryModule],
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
  exports: [ProviderStatesRepository, DeliveryAttemptsRepository, JobQueueRepository],
})
export class DeliveryModule {}

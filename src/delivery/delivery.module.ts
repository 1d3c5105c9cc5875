import { Module } from '@nestjs/common';
import { CodesModule } from '../codes/index.js';
import { ProvidersModule } from '../providers/index.js';
import { DeliveryRepository } from './delivery.repository.js';
import { DeliveryService } from './delivery.service.js';
import { DeliveryWorker } from './delivery.worker.js';
import { FaultHook } from './fault-hook.js';
import { ProviderRouter } from './provider-router.js';

@Module({
  imports: [ProvidersModule, CodesModule],
  providers: [DeliveryRepository, DeliveryService, DeliveryWorker, FaultHook, ProviderRouter],
  exports: [DeliveryRepository],
})
export class DeliveryModule {}

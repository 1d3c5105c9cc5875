import { Module } from '@nestjs/common';
import { OtpModule } from '../otp/otp.module.js';
import { ProvidersModule } from '../providers/providers.module.js';
import { DeliveryRepository } from './delivery.repository.js';
import { DeliveryService } from './delivery.service.js';
import { DeliveryWorker } from './delivery.worker.js';
import { FaultHook } from './fault-hook.js';
import { ProviderRouter } from './provider-router.js';

@Module({
  imports: [ProvidersModule, OtpModule],
  providers: [DeliveryRepository, DeliveryService, DeliveryWorker, FaultHook, ProviderRouter],
  exports: [DeliveryRepository],
})
export class DeliveryModule {}

import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import type { DestinationStream } from 'pino';
import { Clock, SystemClock } from './common/clock/clock.js';
import { configNamespaces } from './config/index.js';
import { DeliveryModule } from './delivery/delivery.module.js';
import { HealthModule } from './health/health.module.js';
import { OtpModule } from './otp/otp.module.js';
import { LifecycleModule } from './lifecycle/lifecycle.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { PrismaModule } from './prisma/prisma.module.js';
import { ThrottlingModule } from './throttling/throttling.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

export interface AppModuleOptions {
  /** Where logs go (stdout by default); tests pass a stream to scan what was logged. */
  logStream?: DestinationStream;
  /** Time source; tests pass a clock they can move. */
  clock?: Clock;
}

@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, load: configNamespaces, ignoreEnvFile: true, cache: true }),
        LoggingModule.forRoot(options.logStream),
        LifecycleModule,
        PrismaModule,
        MetricsModule,
        ThrottlingModule,
        HealthModule,
        OtpModule,
        DeliveryModule,
        WebhooksModule,
      ],
      providers: [
        options.clock
          ? { provide: Clock, useValue: options.clock }
          : { provide: Clock, useClass: SystemClock },
      ],
      exports: [Clock],
    };
  }
}

import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import type { DestinationStream } from 'pino';
import { Clock, SystemClock } from './common/index.js';
import { configNamespaces } from './config/index.js';
import { DeliveryModule } from './delivery/index.js';
import { HealthModule } from './health/index.js';
import { OtpModule } from './otp/index.js';
import { LifecycleModule } from './lifecycle/index.js';
import { LoggingModule } from './logging/index.js';
import { MetricsModule } from './metrics/index.js';
import { PrismaModule } from './prisma/index.js';
import { WebhooksModule } from './webhooks/index.js';

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

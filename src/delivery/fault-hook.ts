import { Inject, Injectable, Logger } from '@nestjs/common';
import { deliveryConfig, type DeliveryConfig } from '../config/index.js';

/** Points in a delivery where a process test can stop the worker. */
export type FaultPoint = 'attempt_recorded';

/**
 * Tests only (DELIVERY_TEST_FAULT_HOOK_URL, refused in production): at a fault point the worker
 * POSTs `{ point, codeId, provider }` to the URL and waits for the answer, so a process test can
 * kill it exactly there (an attempt recorded, its provider request not sent) instead of guessing
 * with a sleep. Without the variable this does nothing. Never carries a code or a phone number.
 */
@Injectable()
export class FaultHook {
  private readonly logger = new Logger(FaultHook.name);
  private readonly url?: string;

  constructor(@Inject(deliveryConfig.KEY) config: DeliveryConfig) {
    this.url = config.testFaultHookUrl;
    if (this.url) this.logger.warn({ point: 'attempt_recorded' }, 'test fault hook enabled');
  }

  async reached(point: FaultPoint, details: { codeId: string; provider: string }): Promise<void> {
    if (!this.url) return;
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ point, ...details }),
    });
    await res.arrayBuffer();
  }
}

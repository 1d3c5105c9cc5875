import type { INestApplicationContext } from '@nestjs/common';
import { DeliveryAttemptsRepository } from '../../src/delivery/delivery-attempts.repository.js';
import { ContactsRepository } from '../../src/webhooks/contacts.repository.js';

/**
 * Delivery state for a test, written the way its owners write it: attempts and the code's delivery
 * status through DeliveryAttemptsRepository (as the worker records a send), contacts through
 * ContactsRepository (as an inbound webhook does). No SQL into another module's tables.
 */
export async function recordSentAttempt(
  app: INestApplicationContext,
  codeId: string,
  provider: string,
  messageId: string,
  at = new Date(),
): Promise<string> {
  const repository = app.get(DeliveryAttemptsRepository, { strict: false });
  const attemptId = await repository.startAttempt(codeId, provider, at);
  if (!attemptId) throw new Error(`code ${codeId} is no longer pending: no attempt started`);
  await repository.recordSent(
    attemptId,
    codeId,
    { provider, providerMessageId: messageId, providerStatus: 'accepted', durationMs: 12 },
    at,
  );
  return attemptId;
}

/** An attempt started (in flight) and never finished: a provider call still going, or a dead worker's. */
export async function startAttempt(
  app: INestApplicationContext,
  codeId: string,
  provider: string,
  at = new Date(),
): Promise<string> {
  const attemptId = await app
    .get(DeliveryAttemptsRepository, { strict: false })
    .startAttempt(codeId, provider, at);
  if (!attemptId) throw new Error(`code ${codeId} is no longer pending: no attempt started`);
  return attemptId;
}

/**
 * An attempt left in doubt by a crash: started, then found in flight by the job's next run (which
 * is what marks it in doubt: DeliveryAttemptsRepository.prepare).
 */
export async function attemptInDoubt(
  app: INestApplicationContext,
  codeId: string,
  provider: string,
  at = new Date(),
): Promise<string> {
  const attemptId = await startAttempt(app, codeId, provider, at);
  await app.get(DeliveryAttemptsRepository, { strict: false }).prepare(codeId, at);
  return attemptId;
}

/** The number opted out by an inbound STOP message at `at`. */
export async function optOut(app: INestApplicationContext, phone: string, at = new Date()): Promise<void> {
  await app.get(ContactsRepository, { strict: false }).recordInbound(phone, at, 'out', at);
}

// delivery/'s public surface: the module (worker, DeliveryService, ProviderRouter) and the job
// queue's contract (delivery/queue/) that otp/ and webhooks/ enqueue through.
export * from './delivery.module.js';
export * from './queue/index.js';
export * from './delivery-attempts.repository.js';
export * from './job-queue.repository.js';
export * from './provider-states.repository.js';
export * from './retention.js';

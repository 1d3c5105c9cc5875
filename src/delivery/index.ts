// delivery/'s public surface: the module (worker, DeliveryService, ProviderRouter) and the job
// queue's contract (delivery/queue/) that otp/ and webhooks/ enqueue through.
export * from './delivery.module.js';
export * from './queue/index.js';

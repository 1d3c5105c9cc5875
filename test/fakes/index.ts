/**
 * Local HTTP servers speaking each provider's protocol (127.0.0.1, a free port), for unit specs,
 * e2e tests and benchmarks:
 *   const dnz = await startDnzFake();           // dnz.url, dnz.requests, dnz.behave('rate_limited'), dnz.close()
 *   const config = providersConfigFor({ dnz }); // a ProvidersConfig pointing at it
 *   Object.assign(process.env, providerEnvFor({ dnz }, { timeoutMs: 500 })); // or the env vars for the app
 */
export * from './fake-server.js';
export * from './dnz.fake.js';
export * from './enosend.fake.js';
export * from './sinch.fake.js';
export * from './meta.fake.js';
export * from './providers-config.js';
export * from './dnz-and-enosend.js';
export * from './spec-helpers.js';

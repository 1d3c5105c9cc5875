/**
 * The unit tier needs no database, but its Redis-backed specs skip with the same printed reason as
 * the e2e tier's when no Redis answers (and fail under REQUIRE_REDIS=1, as CI sets).
 */
export default async function unitSetup(): Promise<void> {
  // Jest loads global set-up files through require(), without the suite's moduleNameMapper: the
  // TypeScript source is named without its extension so Jest's require hook finds it.
  const source = './global-setup';
  const { checkRedis } = (await import(source)) as typeof import('./global-setup.js');
  await checkRedis();
}

import { type DnzFake, startDnzFake } from './dnz.fake.js';
import { type EnoSendFake, startEnoSendFake } from './enosend.fake.js';
import { type FakeConfigOptions, providerEnvFor } from './providers-config.js';

/** The DNZ and EnoSend fakes of the two-provider chain most delivery specs run, handled as one. */
export interface DnzAndEnoSend {
  dnz: DnzFake;
  enosend: EnoSendFake;
  /** The service's provider variables for both fakes (OTP_PROVIDERS, URLs, keys, timeouts). */
  env(options?: FakeConfigOptions): Record<string, string>;
  /** Both fakes forget what they received and go back to answering normally. */
  reset(): void;
  close(): Promise<void>;
}

export async function startDnzAndEnoSend(): Promise<DnzAndEnoSend> {
  const [dnz, enosend] = await Promise.all([startDnzFake(), startEnoSendFake()]);
  return {
    dnz,
    enosend,
    env: (options) => providerEnvFor({ dnz, enosend }, options),
    reset() {
      dnz.reset();
      enosend.reset();
    },
    close: async () => {
      await Promise.all([dnz.close(), enosend.close()]);
    },
  };
}

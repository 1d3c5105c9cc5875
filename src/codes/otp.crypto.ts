import { Inject, Injectable } from '@nestjs/common';
import { CodeHasher, deriveKeys, PayloadCipher } from '../common/index.js';
import { otpConfig, type OtpConfig } from '../config/index.js';

/** The keyed hasher and the payload cipher, both derived once from OTP_HASH_SECRET. */
@Injectable()
export class OtpCrypto {
  readonly hasher: CodeHasher;
  readonly cipher: PayloadCipher;

  constructor(@Inject(otpConfig.KEY) config: OtpConfig) {
    const keys = deriveKeys(config.hashSecrets);
    this.hasher = new CodeHasher(keys);
    this.cipher = new PayloadCipher(keys);
  }
}

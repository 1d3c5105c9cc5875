import { randomUUID } from 'node:crypto';
import { Injectable, Optional } from '@nestjs/common';
import { maskPhone } from '../../common/index.js';
import { renderOtpMessage } from '../message.js';
import type { OtpMessage, SendResult, WhatsAppProvider } from '../provider.interface.js';

export interface ConsoleOptions {
  /** Where the development output goes (default: process.stderr). */
  write?: (text: string) => void;
}

/**
 * DEVELOPMENT ONLY. Prints the message for a developer on this machine instead of sending it. It
 * writes to stderr directly, never through the logger (logs must not hold codes), and refuses to
 * exist when NODE_ENV is production.
 */
@Injectable()
export class ConsoleProvider implements WhatsAppProvider {
  readonly name = 'console' as const;
  private readonly write: (text: string) => void;

  constructor(@Optional() options?: ConsoleOptions) {
    if (process.env.NODE_ENV === 'production') {
      throw new Error('The console WhatsApp provider is for development only and cannot run in production');
    }
    this.write = options?.write ?? ((text) => void process.stderr.write(text));
  }

  send(message: OtpMessage): Promise<SendResult> {
    const id = `console-${randomUUID()}`;
    this.write(
      `\n[DEVELOPMENT ONLY: console WhatsApp provider, nothing was sent]\n` +
        `  to ${maskPhone(message.phone)} (${id})\n` +
        `  ${renderOtpMessage(message)}\n\n`,
    );
    return Promise.resolve({ providerMessageId: id, providerStatus: 'printed' });
  }
}

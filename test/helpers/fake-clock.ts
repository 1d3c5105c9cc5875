import { Clock } from '../../src/common/clock/clock.js';

/** A clock tests move by hand: real time plus an offset, so expiry is tested without sleeping. */
export class FakeClock extends Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

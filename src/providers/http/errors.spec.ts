import { ProviderError } from '../provider.error.js';
import { kindOfStatus, toProviderError } from './errors.js';

describe('toProviderError', () => {
  it.each([
    [{ code: 'ECONNABORTED', message: 'timeout of 300ms exceeded' }, 'retryable', 'timeout'],
    [{ code: 'ETIMEDOUT', message: 'x' }, 'retryable', 'timeout'],
    [{ code: 'ECONNRESET', message: 'read ECONNRESET' }, 'retryable', 'connection_reset'],
    [{ message: 'socket hang up' }, 'retryable', 'connection_reset'],
    [{ code: 'ECONNREFUSED', message: 'x' }, 'retryable', 'connection_refused'],
    [{ code: 'ERR_NETWORK', message: 'x', cause: { code: 'EAI_AGAIN' } }, 'retryable', 'dns_error'],
    [
      { code: 'ERR_BAD_RESPONSE', message: 'maxContentLength size of 262144 exceeded' },
      'retryable',
      'invalid_response',
    ],
    [{ code: 'HPE_INVALID_CONSTANT', message: 'Parse Error' }, 'retryable', 'invalid_response'],
    [{ code: 'ERR_INVALID_URL', message: 'Invalid URL' }, 'configuration', 'invalid_url'],
    [{ message: 'something else' }, 'retryable', 'network_error'],
  ])('maps %j to %s %s', (raw, kind, errorCode) => {
    const err = Object.assign(new Error(raw.message), raw);

    const sut = toProviderError('dnz', err);

    expect([sut.provider, sut.kind, sut.errorCode]).toEqual(['dnz', kind, errorCode]);
  });

  it('prefers what the client knows: its own deadline, then the caller abort', () => {
    const err = new Error('canceled');

    expect(toProviderError('sinch', err, { timedOut: true }).errorCode).toBe('timeout');
    expect(toProviderError('sinch', err, { aborted: true }).errorCode).toBe('aborted');
  });

  it('keeps a ProviderError as it is and never carries the original error', () => {
    const original = new ProviderError('enosend', 'permanent', 'x', 'x');
    const leaky = Object.assign(new Error('ECONNRESET'), { code: 'ECONNRESET', config: { data: 'secret' } });

    expect(toProviderError('enosend', original)).toBe(original);
    expect(JSON.stringify(toProviderError('enosend', leaky))).not.toContain('secret');
    expect(toProviderError('enosend', leaky)).not.toHaveProperty('cause');
  });
});

describe('kindOfStatus', () => {
  it.each([
    [301, 'configuration'],
    [400, 'permanent'],
    [401, 'configuration'],
    [403, 'configuration'],
    [404, 'permanent'],
    [408, 'retryable'],
    [429, 'rate_limited'],
    [500, 'retryable'],
    [503, 'retryable'],
  ])('reads status %i as %s by default', (status, kind) => {
    expect(kindOfStatus(status)).toBe(kind);
  });
});

import type { ProviderName } from '../../config/index.js';
import { ProviderError } from '../provider.error.js';

export function abortedError(provider: ProviderName): ProviderError {
  return new ProviderError(provider, 'retryable', 'aborted', `${provider} call aborted by the caller`);
}

/** Waits for `promise` unless `signal` aborts first (the promise itself goes on for other callers). */
export function abortable<T>(provider: ProviderName, promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortedError(provider));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortedError(provider));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

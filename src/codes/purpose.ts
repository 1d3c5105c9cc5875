/** `purpose` (API.md Decision 8): 1-32 characters of [a-z0-9_-], on send and verify alike. */
export const PURPOSE_PATTERN = /^[a-z0-9_-]{1,32}$/;

/** The purpose of a send or verify that names none. */
export const DEFAULT_PURPOSE = 'login';

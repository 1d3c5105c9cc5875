import { providersConfig, webhooksConfig } from '../../config/index.js';

const META = {
  OTP_PROVIDERS: 'meta,dnz',
  WHATSAPP_OTP_ENGINE_URL: 'http://127.0.0.1:9',
  WHATSAPP_OTP_API_KEY: 'dnz-key',
  META_GRAPH_API_VERSION: 'v23.0',
  META_PHONE_NUMBER_ID: '106540352242922',
  META_ACCESS_TOKEN: 'EAAGm0PX4ZCpsBA-system-user-token',
  META_TEMPLATE_NAME: 'otp_login',
};

function load<T>(read: () => T, env: Record<string, string>): T {
  const saved = process.env;
  process.env = { NODE_ENV: 'test', ...env };
  try {
    return read();
  } finally {
    process.env = saved;
  }
}

describe('META_* configuration', () => {
  it('reads the meta section with its documented defaults (Graph API base, en_US)', () => {
    expect(load(providersConfig, META).meta).toEqual({
      graphApiBase: 'https://graph.facebook.com',
      graphApiVersion: 'v23.0',
      phoneNumberId: '106540352242922',
      accessToken: 'EAAGm0PX4ZCpsBA-system-user-token',
      templateName: 'otp_login',
      templateLanguage: 'en_US',
    });
    expect(load(providersConfig, META).chain).toEqual(['meta', 'dnz']);
  });

  it('takes an overridden base (trailing slash dropped) and language', () => {
    const sut = load(providersConfig, {
      ...META,
      META_GRAPH_API_BASE: 'http://127.0.0.1:8080/',
      META_TEMPLATE_LANGUAGE: 'pt_BR',
    }).meta;
    expect(sut).toMatchObject({ graphApiBase: 'http://127.0.0.1:8080', templateLanguage: 'pt_BR' });
  });

  it.each([
    ['META_GRAPH_API_VERSION', undefined, 'META_GRAPH_API_VERSION must look like v23.0'],
    ['META_GRAPH_API_VERSION', 'version-23', 'META_GRAPH_API_VERSION must look like v23.0'],
    ['META_PHONE_NUMBER_ID', undefined, 'META_PHONE_NUMBER_ID must be the numeric phone number id'],
    ['META_PHONE_NUMBER_ID', '+15550783881', 'META_PHONE_NUMBER_ID must be the numeric phone number id'],
    ['META_ACCESS_TOKEN', undefined, 'META_ACCESS_TOKEN is required when OTP_PROVIDERS includes meta'],
    [
      'META_ACCESS_TOKEN',
      'Bearer EAAGm0PX4ZCpsBA',
      'META_ACCESS_TOKEN is required when OTP_PROVIDERS includes meta',
    ],
    ['META_TEMPLATE_NAME', undefined, 'META_TEMPLATE_NAME must be the approved AUTHENTICATION template name'],
    [
      'META_TEMPLATE_NAME',
      'OTP Login',
      'META_TEMPLATE_NAME must be the approved AUTHENTICATION template name',
    ],
    ['META_TEMPLATE_LANGUAGE', 'english', 'META_TEMPLATE_LANGUAGE must look like en or en_US'],
    ['META_GRAPH_API_BASE', 'graph.facebook.com', 'META_GRAPH_API_BASE must be an http(s) URL'],
  ])('stops start-up naming %s (%s), never its value', (name, value, message) => {
    const env: Record<string, string> = { ...META };
    if (value === undefined) delete env[name];
    else env[name] = value;
    let error: unknown;
    try {
      load(providersConfig, env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(`Invalid configuration: ${message}`);
    if (value) expect((error as Error).message).not.toContain(value);
  });

  it('requires nothing of Meta when meta is not in OTP_PROVIDERS', () => {
    expect(load(providersConfig, { OTP_PROVIDERS: 'console' }).meta).toMatchObject({
      accessToken: '',
      phoneNumberId: '',
    });
  });

  it('reads META_APP_SECRET and META_WEBHOOK_VERIFY_TOKEN as rotation lists', () => {
    const sut = load(webhooksConfig, {
      META_APP_SECRET: 'app-secret-new , app-secret-old',
      META_WEBHOOK_VERIFY_TOKEN: 'verify-token-1',
    });
    expect(sut).toMatchObject({
      metaAppSecrets: ['app-secret-new', 'app-secret-old'],
      metaVerifyTokens: ['verify-token-1'],
    });
    expect(load(webhooksConfig, {})).toMatchObject({ metaAppSecrets: [], metaVerifyTokens: [] });
  });
});

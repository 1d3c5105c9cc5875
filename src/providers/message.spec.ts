import { messageLocale, renderOtpMessage } from './message.js';

describe('renderOtpMessage', () => {
  it.each([
    [undefined, 'Your verification code is 123456. It expires in 5 minutes. Do not share it with anyone.'],
    ['en', 'Your verification code is 123456. It expires in 5 minutes. Do not share it with anyone.'],
    ['fr', 'Votre code de vérification est 123456. Il expire dans 5 minutes. Ne le partagez avec personne.'],
    ['pt-BR', 'O seu código de verificação é 123456. Expira em 5 minutos. Não o partilhe com ninguém.'],
    ['es_MX', 'Tu código de verificación es 123456. Caduca en 5 minutos. No lo compartas con nadie.'],
    ['de', 'Your verification code is 123456. It expires in 5 minutes. Do not share it with anyone.'],
  ])('writes locale %s', (locale, expected) => {
    expect(renderOtpMessage({ code: '123456', ttlMinutes: 5, locale })).toBe(expected);
  });

  it('uses the singular for one minute and never states less than one', () => {
    expect(renderOtpMessage({ code: '1', ttlMinutes: 1 })).toBe(
      'Your verification code is 1. It expires in 1 minute. Do not share it with anyone.',
    );
    expect(renderOtpMessage({ code: '1', ttlMinutes: 0.5, locale: 'es' })).toContain('Caduca en 1 minuto.');
  });

  it('maps locale spellings onto the table', () => {
    expect(['FR', 'fr_CA', ' pt ', 'es-419', '', 'xx', undefined].map(messageLocale)).toEqual([
      'fr',
      'fr',
      'pt',
      'es',
      'en',
      'en',
      'en',
    ]);
  });
});

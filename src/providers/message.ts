export const MESSAGE_LOCALES = ['en', 'fr', 'pt', 'es'] as const;
export type MessageLocale = (typeof MESSAGE_LOCALES)[number];

type Template = (code: string, minutes: number) => string;

const TEMPLATES: Record<MessageLocale, Template> = {
  en: (code, n) =>
    `Your verification code is ${code}. It expires in ${n} ${n === 1 ? 'minute' : 'minutes'}. Do not share it with anyone.`,
  fr: (code, n) =>
    `Votre code de vérification est ${code}. Il expire dans ${n} ${n === 1 ? 'minute' : 'minutes'}. Ne le partagez avec personne.`,
  pt: (code, n) =>
    `O seu código de verificação é ${code}. Expira em ${n} ${n === 1 ? 'minuto' : 'minutos'}. Não o partilhe com ninguém.`,
  es: (code, n) =>
    `Tu código de verificación es ${code}. Caduca en ${n} ${n === 1 ? 'minuto' : 'minutos'}. No lo compartas con nadie.`,
};

/** `fr-CA`, `pt_BR`, `ES` → the table's language; anything unknown → `en`. */
export function messageLocale(locale: string | undefined): MessageLocale {
  const language = (locale ?? '').trim().toLowerCase().split(/[-_]/)[0];
  return (MESSAGE_LOCALES as readonly string[]).includes(language) ? (language as MessageLocale) : 'en';
}

/**
 * The text a user receives: the code, its lifetime in whole minutes (at least 1) and a warning not
 * to share it. Nothing else (no number, no service secrets). The result holds the code: never log it.
 */
export function renderOtpMessage(input: { code: string; ttlMinutes: number; locale?: string }): string {
  const minutes = Math.max(1, Math.floor(input.ttlMinutes));
  return TEMPLATES[messageLocale(input.locale)](input.code, minutes);
}

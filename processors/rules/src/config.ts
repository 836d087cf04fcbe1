import { ConfigError } from '@telly/runtime';
import type { NotifierConfig } from './notifier.ts';

/** Sender of alert mail when `TELLY_MAIL_FROM` is not set. */
export const DEFAULT_MAIL_FROM = 'Telly <telly@localhost>';

export type RulesConfig = NotifierConfig;

/** `TELLY_SMTP_URL` (smtp:// or smtps://, optional: without it e-mail actions fail) and `TELLY_MAIL_FROM`. */
export function parseRulesConfig(env: NodeJS.ProcessEnv): RulesConfig {
  const smtpUrl = env.TELLY_SMTP_URL || undefined;
  if (smtpUrl) {
    let url: URL | undefined;
    try {
      url = new URL(smtpUrl);
    } catch {}
    if (!url || (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')) {
      throw new ConfigError(
        'TELLY_SMTP_URL',
        'must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail.example.com:587',
      );
    }
  }
  return { smtpUrl, mailFrom: env.TELLY_MAIL_FROM || DEFAULT_MAIL_FROM };
}

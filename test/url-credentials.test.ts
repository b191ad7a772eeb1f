// Credentials in a URL (auth/url-credentials.ts): publishable keys and tickets only; a secret is refused and never shown.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { urlCredentials } from '../src/auth/url-credentials.ts';

describe('urlCredentials', () => {
  it('takes a publishable key or a stream ticket', () => {
    expect(urlCredentials(new URLSearchParams('key=pk_abc'))).toEqual({ kind: 'publishable', key: 'pk_abc' });
    expect(urlCredentials(new URLSearchParams('ticket=st_abc'))).toEqual({
      kind: 'ticket',
      ticket: 'st_abc',
    });
    expect(urlCredentials(new URLSearchParams('query=x'))).toEqual({ kind: 'none' });
  });

  it('refuses a secret key, without echoing it', () => {
    const secret = randomUUID();
    for (const query of [`key=${secret}`, `ticket=${secret}`]) {
      const refused = urlCredentials(new URLSearchParams(query));
      expect(refused).toMatchObject({ kind: 'refused', code: 'SECRET_KEY_IN_URL' });
      expect(JSON.stringify(refused)).not.toContain(secret);
    }
    expect(urlCredentials(new URLSearchParams('key=pk_a&ticket=st_b'))).toMatchObject({
      code: 'AMBIGUOUS_CREDENTIALS',
    });
  });
});

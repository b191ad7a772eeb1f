// Credentials in a URL (auth/url-credentials.ts): publishable keys and tickets only; a secret is refused and never shown.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { urlCredentials } from '../src/auth/url-credentials.ts';

describe('urlCredentials', () => {
  it('takes a publishable key or a stream ticket', () => {
    expect(urlCredentials('key=pk_abc')).toEqual({ kind: 'publishable', key: 'pk_abc' });
    expect(urlCredentials('ticket=st_abc')).toEqual({
      kind: 'ticket',
      ticket: 'st_abc',
    });
    expect(urlCredentials('query=x')).toEqual({ kind: 'none' });
  });

  it('refuses a secret key, without echoing it', () => {
    const secret = randomUUID();
    for (const query of [`key=${secret}`, `ticket=${secret}`]) {
      const refused = urlCredentials(query);
      expect(refused).toMatchObject({ kind: 'refused', code: 'SECRET_KEY_IN_URL' });
      expect(JSON.stringify(refused)).not.toContain(secret);
    }
    expect(urlCredentials('key=pk_a&ticket=st_b')).toMatchObject({
      code: 'AMBIGUOUS_CREDENTIALS',
    });
  });

  it('reads the parameters as URLSearchParams does, escaped or not, and only those two', () => {
    const queries = [
      'key=pk_abc',
      'query=%7Bx%7D&key=pk_abc&variables=%7B%7D',
      'k%65y=pk_%61bc',
      'key=pk_a+b',
      'key=pk_%zz',
      'key',
      '&&key=pk_x&',
      'key=pk_1&key=pk_2',
      'ticket=st_%5F1',
      'tick%65t=st_1&x=%',
      'keys=pk_1&xkey=pk_2',
      '=pk_1',
      'x=1&key',
      'key&x=1',
      'x=%41&k%65y=secret',
      'query=%7Bkey%7D',
      'a&?%6bey=secret',
      'key=pk_a=b',
      'x=1=2&key=pk_1',
      '=&key=pk_1&=',
      '',
    ];
    for (const query of queries) {
      const params = new URLSearchParams(query);
      const keys = params.getAll('key');
      const tickets = params.getAll('ticket');
      const expected =
        keys.length + tickets.length === 0
          ? { kind: 'none' }
          : keys.length + tickets.length > 1
            ? { kind: 'refused', code: 'AMBIGUOUS_CREDENTIALS' }
            : keys.length === 1
              ? keys[0]!.startsWith('pk_')
                ? { kind: 'publishable', key: keys[0] }
                : { kind: 'refused', code: 'SECRET_KEY_IN_URL' }
              : { kind: 'ticket', ticket: tickets[0] };
      expect(urlCredentials(query), query).toMatchObject(expected);
    }
  });
});

// The edge's body step (edge/request-body.ts): the whole body under the limit, or why not, and
// always an answer: a request whose client went away, even before its body was asked for, settles.
import { once } from 'node:events';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { readBody } from '../src/edge/request-body.ts';

function request(contentLength?: number): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  if (contentLength !== undefined) req.headers['content-length'] = String(contentLength);
  return req;
}

describe('readBody', () => {
  it('reads the whole body, in one chunk or several', async () => {
    const one = request();
    const reading = readBody(one, 100);
    one.push(Buffer.from('{"a":1}'));
    one.push(null);
    expect(((await reading) as Buffer).toString()).toBe('{"a":1}');

    const several = request();
    const readingSeveral = readBody(several, 100);
    for (const part of ['{"a"', ':', '2}']) several.push(Buffer.from(part));
    several.push(null);
    expect(((await readingSeveral) as Buffer).toString()).toBe('{"a":2}');
  });

  it('refuses a body over the limit, declared or sent', async () => {
    expect(await readBody(request(101), 100)).toBe('declared-too-large');
    const sent = request();
    const reading = readBody(sent, 4);
    sent.push(Buffer.from('12345'));
    expect(await reading).toBe('too-large');
  });

  it('settles with null when the client goes away, before or while the body is read', async () => {
    // As for a request pipelined behind another, whose connection closed while it waited.
    const gone = request();
    gone.destroy();
    await once(gone, 'close');
    expect(await readBody(gone, 100)).toBeNull();

    const going = request();
    const reading = readBody(going, 100);
    going.push(Buffer.from('{"a"'));
    going.destroy();
    expect(await reading).toBeNull();
  });
});

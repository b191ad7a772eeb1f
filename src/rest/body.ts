// Reads a request body under a size limit, telling apart too large, unreadable and not JSON.
export type TextBody = { ok: true; text: string } | { ok: false; reason: 'too-large'; detail: string };

export type JsonBody =
  | { ok: true; value: unknown }
  | { ok: false; reason: 'too-large' | 'invalid-json' | 'empty'; detail: string };

export async function readBodyText(request: Request, limitBytes: number): Promise<TextBody> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > limitBytes)
    return {
      ok: false,
      reason: 'too-large',
      detail: `the body is ${declared} bytes; the limit is ${limitBytes}`,
    };
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limitBytes) {
        // Stop reading but do not cancel: cancelling resets the connection before the 413 is sent.
        // The answer closes the connection, which drops the rest of the body.
        reader.releaseLock();
        return {
          ok: false,
          reason: 'too-large',
          detail: `the body exceeds the limit of ${limitBytes} bytes`,
        };
      }
      chunks.push(value);
    }
  }
  return { ok: true, text: Buffer.concat(chunks).toString('utf8') };
}

export async function readJsonBody(request: Request, limitBytes: number): Promise<JsonBody> {
  const body = await readBodyText(request, limitBytes);
  if (!body.ok) return body;
  if (body.text.trim() === '')
    return {
      ok: false,
      reason: 'empty',
      detail: 'the body is empty; send the settings to change as a JSON object',
    };
  try {
    return { ok: true, value: JSON.parse(body.text) };
  } catch (error) {
    return {
      ok: false,
      reason: 'invalid-json',
      detail: `the body is not valid JSON: ${(error as Error).message}`,
    };
  }
}

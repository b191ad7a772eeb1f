// B0, the ceiling: a bare node:http server answering the configuration's legacy JSON from memory.
// With --widget-headers, B0H: the same, with the headers every snapshot answer carries besides
// (ETag, Cache-Control, Vary, the CORS allowance, a request id): what node:http alone spends on
// them, the floor of any server answering the widget so.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const body = Buffer.from(
  JSON.stringify(
    JSON.parse(readFileSync(new URL('../spec/org-config.example.json', import.meta.url), 'utf8')),
  ),
);

const widgetHeaders = process.argv.includes('--widget-headers');

const server = createServer((_request, response) => {
  response.writeHead(
    200,
    widgetHeaders
      ? {
          'content-type': 'application/json; charset=utf-8',
          etag: '"2YhzAPKxKu3aLhOD7vdJ8cTqGCnqFmgtRbO1U3aDqXw"',
          'cache-control': 'public, max-age=60, stale-while-revalidate=600',
          vary: 'Origin',
          'access-control-allow-origin': 'https://shop.example',
          'access-control-allow-credentials': 'true',
          'content-length': body.byteLength,
          'x-request-id': 'Qm9vdHN0cmFwcGVkSWQxMj',
        }
      : {
          'content-type': 'application/json; charset=utf-8',
          'content-length': body.byteLength,
        },
  );
  response.end(body);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

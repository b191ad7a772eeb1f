// B0, the ceiling: a bare node:http server answering the configuration's legacy JSON from memory.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const body = Buffer.from(
  JSON.stringify(
    JSON.parse(readFileSync(new URL('../spec/org-config.example.json', import.meta.url), 'utf8')),
  ),
);

const server = createServer((_request, response) => {
  response.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': body.byteLength,
  });
  response.end(body);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

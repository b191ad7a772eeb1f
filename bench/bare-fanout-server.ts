// S0, the ceiling of the fan-out: a bare node:http (and ws) server that holds subscribers and, when a
// change is PUT, writes one prebuilt event to each, in one loop (over SSE as one prebuilt chunk of
// each response's chunked body, straight to its socket: twice as fast as response.write here).
// It speaks just enough of the gateway's protocol for the benchmark's subscribers: SSE on POST
// /graphql, graphql-transport-ws, the ETag of GET /api/orgs/demo/config, and PUT to change.
import { createServer, type ServerResponse } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';

let version = 1;
const sseSubscribers = new Set<ServerResponse>();
const wsSubscribers = new Map<WebSocket, string>();

function broadcast(): void {
  version += 1;
  const payload = JSON.stringify({
    data: {
      orgConfigChanged: { version, config: { branding: { color: version % 2 ? '#000001' : '#000002' } } },
    },
  });
  const frame = Buffer.from(`event: next\nid: ${version}\ndata: ${payload}\n\n`);
  const chunk = Buffer.concat([
    Buffer.from(`${frame.byteLength.toString(16)}\r\n`),
    frame,
    Buffer.from('\r\n'),
  ]);
  for (const response of sseSubscribers) response.socket!.write(chunk);
  // graphql-ws sends each subscriber's own id in its message, so each message is its own string.
  for (const [socket, id] of wsSubscribers)
    socket.send(`{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`);
}

const server = createServer((request, response) => {
  if (request.method === 'POST' && request.url === '/graphql') {
    request.resume();
    response.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    response.write(':\n\n');
    sseSubscribers.add(response);
    response.on('close', () => sseSubscribers.delete(response));
    return;
  }
  if (request.url === '/api/orgs/demo/config') {
    request.resume();
    request.on('end', () => {
      if (request.method === 'PUT') broadcast();
      response.writeHead(200, { 'content-type': 'application/json', etag: `"v${version}"` });
      response.end('{}');
    });
    return;
  }
  response.writeHead(404).end();
});

const webSockets = new WebSocketServer({ server, path: '/graphql' });
webSockets.on('connection', (socket) => {
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { type: string; id?: string };
    if (message.type === 'connection_init') socket.send('{"type":"connection_ack"}');
    else if (message.type === 'ping') socket.send('{"type":"pong"}');
    else if (message.type === 'subscribe') wsSubscribers.set(socket, message.id!);
  });
  socket.on('close', () => wsSubscribers.delete(socket));
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
});
process.on('SIGTERM', () => {
  for (const response of sseSubscribers) response.end();
  for (const socket of wsSubscribers.keys()) socket.terminate();
  server.close(() => process.exit(0));
});

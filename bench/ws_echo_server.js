// ws_echo_server.js: WebSocket echo server on the `ws` package, the reference for the WebSocket series.
//
//   NODE_PATH=scripts/node/node_modules node bench/ws_echo_server.js [HOST] [PORT]
//
// Echoes every message back with the same opcode, on any path. Compression is
// off, as in our server, so both do the same work per message.
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');

const host = process.argv[2] || '127.0.0.1';
const port = Number(process.argv[3] || 8081);

// [snippet: node-ws-echo]
const server = http.createServer((req, res) => {
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found\n');
});
const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 1 << 20 });
wss.on('connection', (sock) => {
  sock.on('message', (data, isBinary) => sock.send(data, { binary: isBinary }));
  sock.on('error', () => sock.terminate());
});
// [end: node-ws-echo]

server.listen({ host, port, backlog: 1024 }, () => {
  console.log(`ws echo listening on ${host}:${port}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    for (const c of wss.clients) c.terminate();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}

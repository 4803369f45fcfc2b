// A small stand-in of gotify's API on loopback: what gotify-tray (the tray peer in bench.mjs) asks
// of a server while it sits idle in the tray (its applications, its messages, its health, and a
// WebSocket at /stream that stays open and quiet).
//
//   node tests/gui/gotify-standin.mjs [PORT]   (prints "listening PORT")
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const json = (v) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(v)); };
  if (url.pathname === '/application') return json([]);
  if (url.pathname === '/message') return json({ messages: [], paging: { size: 0, since: 0, limit: 100 } });
  if (url.pathname === '/health') return json({ health: 'green', database: 'green' });
  if (url.pathname === '/version') return json({ version: '2.4.0', commit: 'x', buildDate: 'x' });
  if (url.pathname === '/current/user') return json({ id: 1, name: 'agent', admin: false });
  res.writeHead(404); res.end();
});
server.on('upgrade', (req, socket) => {
  const accept = createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  socket.on('data', () => {});
  socket.on('error', () => {});
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => console.log(`listening ${server.address().port}`));

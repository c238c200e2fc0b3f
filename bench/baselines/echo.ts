/**
 * Baseline: a bare Express 5 endpoint that parses the partner's JSON body and
 * echoes it back. No Redis, no signature, no schema: what Express and JSON
 * alone cost on this machine. Reports `{type: 'listening', port}` over IPC.
 */
import express from 'express';
import type { AddressInfo } from 'node:net';

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.post('/partners/:partner/:operation', express.json({ limit: '256kb' }), (req, res) => {
  res.json(req.body);
});
const server = app.listen(Number(process.env['PORT'] ?? '0'), '127.0.0.1', () => {
  process.send?.({ type: 'listening', port: (server.address() as AddressInfo).port });
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});

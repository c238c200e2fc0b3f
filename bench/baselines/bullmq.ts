/**
 * Baseline: a bare Express 5 endpoint that parses the partner's JSON body and
 * adds it to a BullMQ queue on the bench's Redis, answering once the job is
 * stored — the least a durable gateway must do. Same job options as the
 * gateway's inbound jobs. Reports `{type: 'listening', port}` over IPC.
 */
import { Queue } from 'bullmq';
import express from 'express';
import { Redis } from 'ioredis';
import type { AddressInfo } from 'node:net';
import { INBOUND_JOB_OPTIONS } from '../../queues/catalog.ts';

const url = process.env['REDIS_URL'];
if (!url) throw new Error('REDIS_URL is required');
// as the gateway's partner-facing connections: fail fast rather than queue offline
const connection = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 2000, enableOfflineQueue: false });
const queue = new Queue('baseline', { connection, prefix: process.env['BASELINE_PREFIX'] ?? 'bench-baseline:{bull}' });

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.post('/partners/:partner/:operation', express.json({ limit: '256kb' }), async (req, res) => {
  try {
    const job = await queue.add('message', req.body as object, INBOUND_JOB_OPTIONS);
    res.json({ accepted: true, id: job.id });
  } catch {
    res.status(503).json({ accepted: false });
  }
});
await queue.waitUntilReady();
const server = app.listen(Number(process.env['PORT'] ?? '0'), '127.0.0.1', () => {
  process.send?.({ type: 'listening', port: (server.address() as AddressInfo).port });
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => {
    void queue.close().finally(() => {
      connection.disconnect();
      process.exit(0);
    });
  });
});

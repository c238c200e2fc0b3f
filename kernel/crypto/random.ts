import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(4096);
let offset = pool.length;

function take(length: number): number {
  if (offset + length > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const start = offset;
  offset += length;
  return start;
}

/**
 * The system CSPRNG read 4 KiB at a time. Each call into it costs more than a
 * small read is worth: ulid's default source calls crypto.getRandomValues once
 * per character, 16 times an id (27 µs an id against 0.5 µs), and
 * randomBytes(12) for an AES-GCM nonce was 3.4% of the api's busy time under
 * load (bench/README.md). Every byte is handed out once.
 */
export function randomFraction(): number {
  return (pool[take(1)] ?? 0) / 256;
}

/** `length` fresh random bytes (at most 4 KiB), copied out of the pool. */
export function randomBytesPooled(length: number): Buffer {
  if (length > pool.length) throw new RangeError(`at most ${pool.length} bytes at a time`);
  const start = take(length);
  return Buffer.from(pool.subarray(start, start + length));
}

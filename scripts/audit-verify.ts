/**
 * `npm run audit:verify [-- --anchor FILE]`: checks the SM3 chain of the audit
 * log from its anchor to its head and names the first record that was changed,
 * removed or inserted. With --anchor, FILE keeps the head (number and hash)
 * outside Redis: written the first time; later the chain must still hold that
 * entry unchanged, or retention must have purged it (old enough), and FILE then
 * moves to the new head. Exit 0 when intact, 1 when not, 2 when it could not check.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { redisConfig } from '../config/index.ts';
import { DAY_MS } from '../kernel/beijing-time.ts';
import { Keys } from '../kernel/redis/keys.ts';
import { createRedis, whenReady } from '../kernel/redis/client.ts';
import { AuditLog, GENESIS, type ChainMark } from '../stores/audit.ts';
import configSchema from '../schemas/config.schema.json' with { type: 'json' };

/**
 * Retention may never keep less than this (the schema's floor), whatever this
 * gateway's setting: an entry younger was not purged by retention.
 */
const SHORTEST_RETENTION_DAYS = configSchema.properties.periodic.properties.retentionDays.minimum;

async function readMark(file: string): Promise<ChainMark | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const mark = JSON.parse(text) as Partial<ChainMark>;
  if (!Number.isInteger(mark.seq) || typeof mark.hash !== 'string' || !/^[0-9a-f]{64}$/.test(mark.hash)) throw new Error(`${file} holds no anchor (seq and hash)`);
  return { seq: mark.seq as number, hash: mark.hash, ...(typeof mark.at === 'string' ? { at: mark.at } : {}) };
}

/** Written aside and renamed: an interrupted run leaves the previous anchor whole. */
async function writeMark(file: string, mark: ChainMark): Promise<void> {
  const aside = `${file}.${process.pid}.tmp`;
  await writeFile(aside, `${JSON.stringify({ ...mark, writtenAt: new Date().toISOString() }, null, 2)}\n`, { mode: 0o644 });
  await rename(aside, file);
}

const { values } = parseArgs({ options: { anchor: { type: 'string' } } });
const settings = redisConfig();
const redis = createRedis(settings, 'queue');
try {
  await whenReady(redis);
  const audit = new AuditLog(redis, new Keys(settings.namespace), Date.now);
  const result = await audit.verify();
  if (!result.ok) {
    console.error(`audit chain broken at entry ${result.index} (seq ${result.seq ?? '?'}, ${result.at ?? 'unreadable'}): ${result.problem}`);
    process.exitCode = 1;
  } else {
    console.log(`audit chain intact: ${result.entries} entries${result.head ? `, head seq ${result.head.seq}` : ''}`);
    const file = values.anchor;
    if (file !== undefined) {
      const kept = await readMark(file);
      const check = kept ? await audit.holds(kept, Date.now() - SHORTEST_RETENTION_DAYS * DAY_MS) : undefined;
      if (kept && check && !check.ok) {
        console.error(`audit chain does not hold the anchor of ${file} (entry ${kept.seq}): ${check.problem}`);
        process.exitCode = 1;
      } else {
        if (kept && check?.ok) console.log(`anchor entry ${kept.seq} ${check.state === 'present' ? 'is still in the chain, unchanged' : 'was purged by retention'}`);
        const head = result.head ?? { seq: 0, hash: GENESIS };
        await writeMark(file, head);
        console.log(`${file}: anchor ${kept ? 'moved to' : 'written at'} entry ${head.seq}`);
      }
    }
  }
} catch (error) {
  console.error(`audit:verify: ${(error as Error).message}`);
  process.exitCode = 2;
} finally {
  redis.disconnect();
}

// The chunk claims of the run ledger against a real Redis: claimed, followed, counted
// at once, taken over, and a claim that changes between the two steps of a claim.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '@influx-backup/testkit';
import { createRedis } from '../src/connection.js';
import { StoreKeys } from '../src/keys.js';
import { chunkJobId, fieldId } from '../src/names.js';
import { createStore, type FinishChunk, type Store } from '../src/store/index.js';

let server: RedisServer;
let redis: Redis;
let n = 0;

before(async () => {
  server = await startRedis();
  redis = createRedis({ url: server.url, prefix: 'unused' });
});

after(async () => {
  await redis?.quit();
  await server?.destroy();
});

function fresh(orphanGraceMs = 60_000): { store: Store; keys: StoreKeys } {
  const prefix = `claims-${++n}`;
  return { store: createStore(redis, prefix, { orphanGraceMs }), keys: new StoreKeys(prefix) };
}

const NONE_GONE = (): Promise<ReadonlySet<string>> => Promise.resolve(new Set());
const fid = fieldId('127.0.0.1:8086', 'db', 'm', 'f');

async function open(store: Store, run: string, chunks: number): Promise<void> {
  await store.runs.open(run, { runId: `id-${run}`, kind: 'copy', sourceDb: 'db', backupDb: 'db_backup' });
  await store.runs.addPlanned(run, chunks, true, new Map([['m', chunks]]));
}

function finish(run: string, seq: number, outcome: 'done' | 'failed', chunk: string): FinishChunk {
  return {
    run,
    seq,
    claim: { chunk, jobId: chunkJobId(run, seq) },
    outcome,
    values: outcome === 'done' ? 5 : 0,
    measurement: 'm',
    fieldIds: [fid],
    ...(outcome === 'failed' ? { failure: { reason: 'field type conflict' } } : {}),
  };
}

test('a chunk in flight is followed by a second run and counted once in both when it finishes, however often its job reports', async () => {
  const { store } = fresh();
  await open(store, 'ra0000001', 1);
  assert.deepEqual(await store.runs.claimChunks('ra0000001', [{ chunk: 'c1', jobId: chunkJobId('ra0000001', 0) }], NONE_GONE), [1]);
  await store.runs.open('rb0000001', { runId: 'id-rb', kind: 'copy', sourceDb: 'db', backupDb: 'db_backup' });
  assert.deepEqual(await store.runs.claimChunks('rb0000001', [{ chunk: 'c1', jobId: chunkJobId('rb0000001', 0) }], NONE_GONE), [0]);
  await store.runs.addPlanned('rb0000001', 1, true, new Map([['m', 1]]));

  assert.equal(await store.runs.finishChunk(finish('ra0000001', 0, 'done', 'c1')), true);
  assert.equal(await store.runs.finishChunk(finish('ra0000001', 0, 'done', 'c1')), false, 'a second report of the same job');
  for (const run of ['ra0000001', 'rb0000001']) {
    const c = await store.runs.counters(run);
    assert.deepEqual([c.done, c.failed, c.values], [1, 0, 5], run);
    assert.ok(c.finishedAt !== undefined, `${run} is stamped finished`);
    assert.deepEqual(await store.runs.measurementsLeft(run), { m: 0 });
  }
});

test('a chunk that finished already is counted at once, done or failed as it went, with the holder named', async () => {
  const { store } = fresh();
  await open(store, 'ra0000002', 2);
  await store.runs.claimChunks(
    'ra0000002',
    [
      { chunk: 'ok', jobId: chunkJobId('ra0000002', 0) },
      { chunk: 'bad', jobId: chunkJobId('ra0000002', 1) },
    ],
    NONE_GONE,
  );
  // The claims stay while a job of that version held them (as if finished by a worker that left them).
  await store.runs.finishChunk({ ...finish('ra0000002', 0, 'done', 'ok'), claim: { chunk: 'ok', jobId: 'someone-else' } });
  await store.runs.finishChunk({ ...finish('ra0000002', 1, 'failed', 'bad'), claim: { chunk: 'bad', jobId: 'someone-else' } });
  await store.runs.open('rb0000002', { runId: 'id-rb', kind: 'copy', sourceDb: 'db', backupDb: 'db_backup' });
  const verdicts = await store.runs.claimChunks(
    'rb0000002',
    [
      { chunk: 'ok', jobId: chunkJobId('rb0000002', 0) },
      { chunk: 'bad', jobId: chunkJobId('rb0000002', 1) },
    ],
    NONE_GONE,
  );
  assert.deepEqual(verdicts, [2, 2]);
  const c = await store.runs.counters('rb0000002');
  assert.deepEqual([c.done, c.failed], [1, 1]);
  assert.deepEqual(
    (await store.runs.failures('rb0000002')).map((f) => f.reason),
    [`failed for good as job ${chunkJobId('ra0000002', 1)}`],
  );
});

test('a claim whose job is gone is taken over only once it is older than the grace, and only as BullMQ says the job is gone', async () => {
  const { store, keys } = fresh(0);
  await open(store, 'ra0000003', 1);
  await store.runs.claimChunks('ra0000003', [{ chunk: 'c3', jobId: chunkJobId('ra0000003', 0) }], NONE_GONE);
  await store.runs.open('rb0000003', { runId: 'id-rb', kind: 'copy', sourceDb: 'db', backupDb: 'db_backup' });
  const asked: string[][] = [];
  const gone = (ids: readonly string[]): Promise<ReadonlySet<string>> => {
    asked.push([...ids]);
    return Promise.resolve(new Set(ids));
  };
  assert.deepEqual(await store.runs.claimChunks('rb0000003', [{ chunk: 'c3', jobId: chunkJobId('rb0000003', 0) }], gone), [1]);
  assert.deepEqual(asked, [[chunkJobId('ra0000003', 0)]]);
  assert.equal(await redis.get(keys.claim('c3')), chunkJobId('rb0000003', 0));

  // With the default grace (a minute), a fresh claim is followed without asking the queue.
  const { store: strict } = fresh();
  await open(strict, 'ra0000004', 1);
  await strict.runs.claimChunks('ra0000004', [{ chunk: 'c4', jobId: chunkJobId('ra0000004', 0) }], NONE_GONE);
  await strict.runs.open('rb0000004', { runId: 'id-rb', kind: 'copy', sourceDb: 'db', backupDb: 'db_backup' });
  asked.length = 0;
  assert.deepEqual(await strict.runs.claimChunks('rb0000004', [{ chunk: 'c4', jobId: chunkJobId('rb0000004', 0) }], gone), [0]);
  assert.deepEqual(asked, []);
});

test('a claim that changes between seeing its holder and settling is claimed again, not followed', async () => {
  const { store, keys } = fresh(0);
  await open(store, 'ra0000005', 1);
  await store.runs.claimChunks('ra0000005', [{ chunk: 'c5', jobId: chunkJobId('ra0000005', 0) }], NONE_GONE);
  await store.runs.open('rb0000005', { runId: 'id-rb', kind: 'copy', sourceDb: 'db', backupDb: 'db_backup' });
  // The holder finishes right between the two steps: its claim goes.
  const finishing = async (): Promise<ReadonlySet<string>> => {
    await store.runs.finishChunk(finish('ra0000005', 0, 'done', 'c5'));
    return new Set();
  };
  assert.deepEqual(await store.runs.claimChunks('rb0000005', [{ chunk: 'c5', jobId: chunkJobId('rb0000005', 0) }], finishing), [1]);
  assert.equal(await redis.get(keys.claim('c5')), chunkJobId('rb0000005', 0));
  assert.equal(await redis.hexists(keys.run('ra0000005').follow, '0'), 0, 'nobody follows the finished chunk');
});

test('a claim held by an id this version cannot follow is left to it and not counted', async () => {
  const { store, keys } = fresh();
  await redis.set(keys.claim('c6'), 'bull-job-42');
  await store.runs.open('rb0000006', { runId: 'id-rb', kind: 'copy', sourceDb: 'db', backupDb: 'db_backup' });
  assert.deepEqual(await store.runs.claimChunks('rb0000006', [{ chunk: 'c6', jobId: chunkJobId('rb0000006', 0) }], NONE_GONE), [-1]);
  assert.equal(await redis.get(keys.claim('c6')), 'bull-job-42');
});

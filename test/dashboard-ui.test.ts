// The dashboard as an operator sees it (issue 25): a job's progress at every batch and at the end, through Bull Board's
// own API, then every page rendered by a real headless Chromium: Bull Board's queue list, a job with readable names and
// dates, the fields page reached from Bull Board's menu, the status page, the favicon. Real InfluxDB, Redis, CLI and
// dashboard program; a proxy in front of the backup holds a chunk's second batch so its progress can be read mid-job.
// With UPDATE_SCREENSHOTS=1 the screenshots are written to docs/images/ (docs/dashboard.md shows them).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { pausingProxy, type PausingProxy } from './proxy.js';
import { ROOT, spawnCli, tempDir, writeConfig, y, type LongRunning } from './helpers.js';

const PASSWORD = 'ui-test-pw';
const AUTH = { Authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };
const MEASUREMENT = 'greenhouse_climate_north_wing';
const LONG = 'relative_humidity_percent';
const SHORT = 'soil_moisture_volumetric_water_content';
const T = 1_795_564_800_000_000_000n; // 2026-11-25T00:00:00Z
const MINUTE = 60_000_000_000n;
/** Bull Board's times as the dashboard configures them: date, time with seconds, zone. */
const DATE = /\b[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{2}:\d{2}:\d{2} UTC\b/;

let source: InfluxServer;
let backup: InfluxServer;
let redis: RedisServer;
let proxy: PausingProxy;
let browser: Browser;
let dashboard: LongRunning | undefined;
const shots = process.env.UPDATE_SCREENSHOTS ? join(ROOT, 'docs', 'images') : tempDir('screenshots');

before(async () => {
  [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
  proxy = await pausingProxy(backup.port);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});
after(async () => {
  dashboard?.child.kill('SIGTERM');
  await dashboard?.exited;
  await browser?.close();
  await proxy?.close();
  await Promise.allSettled([source?.destroy(), backup?.destroy(), redis?.destroy()]);
});

interface BoardJob {
  id: string;
  name: string;
  progress: unknown;
  returnValue: unknown;
  data: Record<string, unknown>;
}

async function boardJobs(url: string, status: string): Promise<BoardJob[]> {
  const res = await fetch(`${url}api/queues?activeQueue=copy&status=${status}&page=1&jobsPerPage=50`, { headers: AUTH });
  const body = (await res.json()) as { queues: { name: string; jobs: BoardJob[] }[] };
  return body.queues.find((q) => q.name === 'copy')?.jobs ?? [];
}

/** Waits for `text` on the page; on a timeout the page is kept as failed-NAME.png beside the screenshots, to see why. */
async function shown(page: Page, text: string, name: string, timeout = 30_000): Promise<void> {
  try {
    await page.getByText(text).first().waitFor({ timeout });
  } catch (err) {
    await shoot(page, `failed-${name}.png`).catch(() => undefined);
    throw new Error(`${(err as Error).message}\n(the page is in ${join(shots, `failed-${name}.png`)})`);
  }
}

async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, name), fullPage: false });
}

test("a three-batch job's progress is true at each batch and whole at the end; every page renders readable names and dates in Chromium", async () => {
  await source.query('CREATE DATABASE "ui"');
  // LONG: 12 values in one chunk, three batches of batch_size 5 (5, 5, 2); SHORT: one value, one batch.
  const lines = Array.from({ length: 12 }, (_, i) => `${MEASUREMENT},zone=north ${LONG}=${i + 1}i ${T + BigInt(i) * MINUTE}`);
  await source.write('ui', [...lines, `${MEASUREMENT},zone=north ${SHORT}=0.31 ${T}`].join('\n'));
  const dir = tempDir('ui');
  const file = writeConfig(
    dir,
    'ui.yaml',
    `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: "ui", retries: 0, timeout: 30 }
  backup: { host: "127.0.0.1", port: ${proxy.port}, database: "ui_backup", retries: 0, timeout: 30 }
processing: { max_workers: 2, batch_size: 5, batch_interval: 0 }
backup:
  measurements:
    - name: ${y(MEASUREMENT)}
      start_time: "2026-11-25T00:00:00Z"
      end_time: "2026-11-25T23:59:59Z"
  time_chunks: { size: "1h", overlap: "0s", max_values: 1 }
redis: { url: ${y(redis.url)}, prefix: "ui" }
logging: { level: "WARNING", handlers: { file: { enabled: false } } }
dashboard: { port: 0, password: ${y(PASSWORD)} }
`,
  );
  dashboard = spawnCli(['dashboard', '--config', file, '--log-level', 'INFO']);
  const url = await waitFor('the dashboard to listen', () => /dashboard at (http:\/\/\S+\/)/.exec(dashboard?.output() ?? '')?.[1], {
    timeoutMs: 30_000,
  });

  // The second batch's write is held at the backup: by then the first is acknowledged, and reported.
  const held = proxy.holdWhen((sent) => sent.includes(`${LONG}=6i `), 'connection');
  const run = spawnCli(['run', '--config', file]);
  await held;
  const active = await waitFor(
    'the active job to report its first batch',
    async () =>
      (await boardJobs(url, 'active')).find((j) => j.name.includes(LONG) && JSON.stringify(j.progress) === '{"values":5,"batches":1}'),
    { timeoutMs: 30_000 },
  );
  proxy.release();
  assert.equal(await run.exited, 0, run.output());

  const done = await boardJobs(url, 'completed');
  const long = done.find((j) => j.id === active.id);
  assert.deepEqual(long?.progress, { values: 12, batches: 3 }, 'the whole count at the end, not the first batches');
  assert.deepEqual(long?.returnValue, { values: 12, batches: 3, newest: '2026-11-25T00:11:00Z' });
  const short = done.find((j) => j.name.includes(SHORT));
  assert.deepEqual(short?.progress, { values: 1, batches: 1 }, 'a one-batch job shows its count too');
  assert.equal(long?.data.copies, `${MEASUREMENT}.${LONG}`);
  assert.ok(!('k' in (long?.data ?? {})) && !('s' in (long?.data ?? {})), `no short keys in the view: ${JSON.stringify(long?.data)}`);

  const context = await browser.newContext({
    extraHTTPHeaders: AUTH,
    viewport: { width: 1440, height: 860 },
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  const page = await context.newPage();
  try {
    // Bull Board's queue list: both queues; the schedule queue without a "No workers" alarm, as no schedule is configured.
    await page.goto(url);
    await shown(page, '2 Jobs', 'queues');
    await shoot(page, 'dashboard-queues.png');
    // Each queue's page shows its description whole: no "…" (the text fits its box).
    for (const [queue, description] of [
      ['copy', 'Chunk jobs (copy, backfill, restore), copied by influx-backup worker processes.'],
      ['schedule', 'Cron ticks of scheduler.jobs: none configured, so no planner is needed.'],
    ] as const) {
      await page.goto(`${url}queue/${queue}`);
      await shown(page, description, `queue-${queue}`);
      const cut = await page.evaluate<boolean | null>(
        `(() => { const el = [...document.querySelectorAll('*')].find((e) => e.childElementCount === 0 && e.textContent === ${JSON.stringify(description)}); return el ? el.scrollWidth > el.clientWidth + 1 : null; })()`,
      );
      assert.equal(cut, false, `${queue}'s description is cut`);
      await shoot(page, `dashboard-queue-${queue}.png`);
    }

    // A job: its long names, its payload by name, dates with their date.
    await page.goto(`${url}queue/copy/${encodeURIComponent(active.id)}`);
    await shown(page, `${MEASUREMENT}.${LONG}`, 'job');
    const job = await page.locator('body').innerText();
    assert.match(job, DATE, `a date with the time:\n${job}`);
    assert.match(job, /fieldNumber/);
    await shoot(page, 'dashboard-job.png');
    await page.getByRole('tab', { name: 'Progress' }).click();
    await page.getByText('"batches"').or(page.getByText('batches')).first().waitFor({ timeout: 10_000 });
    assert.match(await page.locator('body').innerText(), /12/);
    // "No errors recorded" on a job that did not fail is in the muted colour, not the error one.
    await page.getByRole('tab', { name: 'Error' }).click();
    const none = page.getByText('No errors recorded');
    await none.waitFor({ timeout: 10_000 });
    // Evaluated in the page as strings: the test's bundler adds no helper to them, and the tests have no DOM types.
    const colour = await page.evaluate<string>(
      `(() => { const el = [...document.querySelectorAll('.error')].find((e) => e.textContent === 'No errors recorded'); return el ? getComputedStyle(el).color : ''; })()`,
    );
    /** A design token's colour as the page resolves it. */
    const token = (name: string): Promise<string> =>
      page.evaluate<string>(
        `(() => { const p = document.createElement('span'); p.style.color = 'var(${name})'; document.body.append(p); const c = getComputedStyle(p).color; p.remove(); return c; })()`,
      );
    const muted = await token('--muted-foreground');
    const destructive = await token('--destructive');
    assert.equal(colour, muted);
    assert.notEqual(colour, destructive);

    // The fields page, reached through Bull Board's own menu.
    await page.goto(url);
    await shown(page, '2 Jobs', 'menu');
    await page.locator('header ul li').last().locator('button').click();
    await page.getByRole('menuitem', { name: 'Fields' }).click();
    await page.waitForURL(/\/fields$/, { timeout: 10_000 });
    const fields = await page.locator('body').innerText();
    for (const name of [MEASUREMENT, LONG, SHORT]) assert.ok(fields.includes(name), name);
    assert.match(fields, /up to date/, "the backup holds the source's newest value: not 'behind'");
    assert.match(fields, /2026-11-25 00:11:00Z/, 'the checkpoint with its date');
    await shoot(page, 'dashboard-fields.png');

    // The favicon every page names answers.
    const icon = await page.locator('link[rel="icon"]').getAttribute('href');
    const favicon = await fetch(new URL(icon ?? '', url), { headers: AUTH });
    assert.equal(favicon.status, 200);
    assert.match(favicon.headers.get('content-type') ?? '', /^image\/svg\+xml/);

    // The status page: the run's one rate, its checkpoints.
    await page.getByRole('link', { name: 'Status' }).click();
    await page.waitForURL(/\/status$/, { timeout: 10_000 });
    const status = await page.locator('body').innerText();
    assert.match(status, /13 \(\d[\d,]* values\/s over [\d.]+ s of copying\)/);
    assert.ok(status.includes(`${MEASUREMENT}.${LONG}`));
    await shoot(page, 'dashboard-status.png');
  } finally {
    await context.close();
  }
});

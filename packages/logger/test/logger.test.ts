import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createLogger, expandFilename } from '../src/index.js';

/** A console stream that keeps what is written, line by line. */
function capture(): { stream: Writable; lines: () => string[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, lines: () => text.split('\n').filter((l) => l !== '') };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'influx-backup-logger-'));
}

const ASCTIME = String.raw`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}`;

describe('format', () => {
  test("the seed's Python format, with metadata as key=value", () => {
    const out = capture();
    const log = createLogger(
      { level: 'INFO', format: '%(asctime)s - %(name)s - %(levelname)s - %(message)s' },
      { component: 'planner', console: out.stream },
    );
    log.info('planned', { jobs: 24, measurement_count: 2, note: 'two words', ok: true, big: 9007199254740993n });
    log.warn('slow');
    log.error('failed', { err: new Error('boom "x"') });
    const [first, second, third] = out.lines();
    assert.match(
      first ?? '',
      new RegExp(`^${ASCTIME} - planner - INFO - planned jobs=24 measurement_count=2 note="two words" ok=true big=9007199254740993$`),
    );
    assert.match(second ?? '', new RegExp(`^${ASCTIME} - planner - WARNING - slow$`));
    assert.match(third ?? '', / - planner - ERROR - failed err="boom \\"x\\""$/);
    assert.equal(out.lines().length, 3);
  });

  test('%(name)s is component[.measurement.field] of child loggers', () => {
    const out = capture();
    const root = createLogger({ format: '%(name)s|%(message)s' }, { console: out.stream });
    root.info('root');
    const worker = root.child({ component: 'worker' });
    worker.info('worker');
    const field = worker.child({ measurement: 'cpu', field: 'usage' });
    field.info('field', { chunk: 3 });
    worker.child({ component: 'copy', jobId: 'j1' }).info('nested');
    assert.deepEqual(out.lines(), ['influx-backup|root', 'worker|worker', 'worker.cpu.usage|field chunk=3', 'copy|nested jobId=j1']);
  });

  test('other Python attributes and widths', () => {
    const out = capture();
    const log = createLogger({ format: '[%(levelname)-8s] %(levelno)d %(process)d %(message)s %%' }, { console: out.stream });
    log.info('x');
    assert.deepEqual(out.lines(), [`[INFO    ] 20 ${process.pid} x %`]);
  });

  test('levels: the logger filters first, then each handler', () => {
    const out = capture();
    const dir = tempDir();
    const log = createLogger(
      {
        level: 'INFO',
        format: '%(levelname)s %(message)s',
        handlers: { console: { level: 'WARNING' }, file: { enabled: true, level: 'DEBUG', filename: join(dir, 'app.log') } },
      },
      { console: out.stream },
    );
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    assert.deepEqual(out.lines(), ['WARNING w', 'ERROR e']);
    assert.equal(readFileSync(join(dir, 'app.log'), 'utf8'), 'INFO i\nWARNING w\nERROR e\n');
  });

  test('levelOverride replaces every level; the seed names work', () => {
    const out = capture();
    const log = createLogger(
      { level: 'ERROR', handlers: { console: { level: 'CRITICAL' } }, format: '%(levelname)s %(message)s' },
      {
        console: out.stream,
        levelOverride: 'debug',
      },
    );
    log.debug('d');
    assert.deepEqual(out.lines(), ['DEBUG d']);
    assert.throws(() => createLogger({ level: 'loud' }), /unknown log level "loud"/);
  });
});

describe('secrets', () => {
  test('a secret never reaches a line, at debug, in the message, in metadata or in a URL', () => {
    const out = capture();
    const dir = tempDir();
    const secrets = ['hunter2-password', 'other-secret'];
    const log = createLogger(
      {
        level: 'DEBUG',
        handlers: { console: { level: 'DEBUG' }, file: { enabled: true, level: 'DEBUG', filename: join(dir, 'debug.log') } },
      },
      { console: out.stream, secrets },
    );
    const child = log.child({ component: 'influx', measurement: 'cpu' });
    child.debug('connecting with hunter2-password', {
      auth: 'admin:hunter2-password',
      nested: { password: 'other-secret' },
      url: 'redis://user:unlisted-pw@redis:6379/0',
    });
    const text = out.lines().join('\n') + readFileSync(join(dir, 'debug.log'), 'utf8');
    assert.ok(text.includes('connecting with ********'));
    for (const secret of [...secrets, 'unlisted-pw']) assert.ok(!text.includes(secret), `${secret} was logged`);
    assert.ok(text.includes('redis://user:********@redis:6379/0'));
  });
});

describe('masking by value', () => {
  test('with the password demo, the database iot_demo shows whole and the password never', () => {
    const out = capture();
    const dir = tempDir();
    const log = createLogger(
      { level: 'DEBUG', format: '%(message)s', handlers: { file: { enabled: true, filename: join(dir, 'backup.log') } } },
      { console: out.stream, secrets: ['demo'] },
    );
    log.info('copying iot_demo to iot_demo_backup', { database: 'iot_demo', password: 'demo' });
    log.warn('source http://admin:demo@127.0.0.1:8086 refused demo', { header: 'Authorization: Basic YWRtaW46ZGVtbw==' });
    const text = `${out.lines().join('\n')}\n${readFileSync(join(dir, 'backup.log'), 'utf8')}`;
    const expected = [
      'copying iot_demo to iot_demo_backup database=iot_demo password=********',
      'source http://admin:********@127.0.0.1:8086 refused ******** header="Authorization: Basic ********"',
    ];
    assert.equal(text, `${expected.join('\n')}\n${expected.join('\n')}\n`);
  });
});

describe('quietConsole', () => {
  test('sends debug and info lines to the file only, warnings and errors to both', () => {
    const out = capture();
    const dir = tempDir();
    const log = createLogger(
      { level: 'DEBUG', format: '%(levelname)s %(message)s', handlers: { file: { enabled: true, filename: join(dir, 'a.log') } } },
      { console: out.stream },
    );
    const quiet = log.quietConsole().child({ component: 'plan' });
    quiet.info('planned');
    quiet.debug('details');
    quiet.warn('no such field');
    log.info('loud');
    assert.deepEqual(out.lines(), ['WARNING no such field', 'INFO loud']);
    assert.equal(readFileSync(join(dir, 'a.log'), 'utf8'), 'INFO planned\nDEBUG details\nWARNING no such field\nINFO loud\n');
  });
});

describe('file handler', () => {
  test('{timestamp} in the file name becomes the start time', () => {
    assert.equal(expandFilename('logs/backup_{timestamp}.log', new Date(2026, 10, 26, 13, 45, 0)), 'logs/backup_20261126-134500.log');
    const dir = tempDir();
    const log = createLogger({
      handlers: { console: { enabled: false }, file: { enabled: true, filename: join(dir, 'sub', 'backup_{timestamp}.log') } },
    });
    log.info('hello');
    const [name] = readdirSync(join(dir, 'sub'));
    assert.match(name ?? '', /^backup_\d{8}-\d{6}\.log$/);
    assert.equal(log.filename, join(dir, 'sub', name ?? ''));
  });

  test("each process's own file: role and pid before the extension, unless the pattern places {pid} itself", () => {
    const at = new Date(2026, 11, 1, 23, 43, 41);
    const worker = { role: 'worker', pid: 4242 };
    assert.equal(expandFilename('logs/backup_{timestamp}.log', at, worker), 'logs/backup_20261201-234341.worker-4242.log');
    assert.equal(
      expandFilename('logs/backup_{timestamp}.log', at, { role: 'worker', pid: 4243 }),
      'logs/backup_20261201-234341.worker-4243.log',
    );
    assert.equal(expandFilename('logs.d/backup', at, { role: 'plan', pid: 7 }), 'logs.d/backup.plan-7');
    assert.equal(expandFilename('logs/{role}/b-{pid}.log', at, worker), 'logs/worker/b-4242.log');
    assert.equal(expandFilename('logs/{role}.log', at, worker), 'logs/worker.4242.log');
  });

  test('two loggers of two processes started in the same second write and rotate two files', async () => {
    const dir = tempDir();
    const settings = {
      format: '%(message)s',
      handlers: {
        console: { enabled: false },
        file: { enabled: true, filename: join(dir, 'backup_{timestamp}.log'), maxBytes: 100, backupCount: 2 },
      },
    };
    const a = createLogger(settings, { process: { role: 'worker', pid: 101 } });
    const b = createLogger(settings, { process: { role: 'worker', pid: 102 } });
    assert.notEqual(a.filename, b.filename);
    b.info('b line one');
    b.info('b line two');
    // a logs past max_bytes three times over: it rotates, b's file stays whole and unrotated.
    for (let i = 0; i < 12; i++) a.info(`a line ${String(i).padStart(2, '0')} ${'x'.repeat(15)}`);
    await a.close();
    await b.close();
    assert.equal(readFileSync(b.filename ?? '', 'utf8'), 'b line one\nb line two\n');
    assert.ok(existsSync(`${a.filename ?? ''}.1`), 'a rotated');
    assert.ok(!existsSync(`${b.filename ?? ''}.1`), 'b was rotated by a');
  });

  test('rotates by size and keeps backup_count files', async () => {
    const dir = tempDir();
    const file = join(dir, 'rot.log');
    const log = createLogger({
      format: '%(message)s',
      handlers: { console: { enabled: false }, file: { enabled: true, filename: file, maxBytes: 100, backupCount: 3 } },
    });
    // 20 lines of 25 bytes: four lines fill a file, so 5 files' worth; 3 backups are kept.
    for (let i = 0; i < 20; i++) log.info(`line ${String(i).padStart(2, '0')} ${'x'.repeat(15)}`);
    await log.close();
    assert.deepEqual(readdirSync(dir).sort(), ['rot.log', 'rot.log.1', 'rot.log.2', 'rot.log.3']);
    for (const name of readdirSync(dir)) assert.ok(statSync(join(dir, name)).size <= 100, `${name} is too big`);
    const lineNumbers = (name: string): number[] =>
      readFileSync(join(dir, name), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => Number(l.split(' ')[1]));
    assert.deepEqual(lineNumbers('rot.log'), [16, 17, 18, 19]);
    assert.deepEqual(lineNumbers('rot.log.1'), [12, 13, 14, 15]);
    assert.deepEqual(lineNumbers('rot.log.3'), [4, 5, 6, 7]);
  });

  test('the file is created by its first line: a process that logs nothing to it leaves none', async () => {
    const dir = tempDir();
    const file = join(dir, 'logs', 'app.log');
    const log = createLogger({
      format: '%(message)s',
      handlers: { console: { enabled: false }, file: { enabled: true, level: 'WARNING', filename: file } },
    });
    log.info('below the file handler level');
    assert.ok(!existsSync(file), 'no line, no file');
    log.warn('now');
    await log.close();
    assert.equal(readFileSync(file, 'utf8'), 'now\n');
  });

  test('appends to an existing file and rotates it when it is already full', async () => {
    const dir = tempDir();
    const file = join(dir, 'app.log');
    writeFileSync(file, 'x'.repeat(97) + '\n');
    const log = createLogger({
      format: '%(message)s',
      handlers: { console: { enabled: false }, file: { enabled: true, filename: file, maxBytes: 100, backupCount: 1 } },
    });
    log.info('new');
    await log.close();
    assert.equal(readFileSync(file, 'utf8'), 'new\n');
    assert.equal(readFileSync(`${file}.1`, 'utf8'), 'x'.repeat(97) + '\n');
  });

  test('lines logged just before process.exit() are in the file', () => {
    const dir = tempDir();
    const script = join(dir, 'exit.ts');
    const source = resolve(dirname(fileURLToPath(import.meta.url)), '../src/index.ts');
    writeFileSync(
      script,
      `import { createLogger } from ${JSON.stringify(source)};
const log = createLogger({ format: '%(message)s', handlers: { file: { enabled: true, filename: ${JSON.stringify(join(dir, 'exit.log'))} } } });
for (let i = 0; i < 100; i++) log.info('line ' + i);
process.exit(3);
`,
    );
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', cwd: dirname(source) });
    assert.equal(run.status, 3, run.stderr);
    // Console lines go to standard error; standard output stays for command results.
    assert.equal(run.stdout, '');
    assert.equal(run.stderr.split('\n').filter((l) => l.startsWith('line ')).length, 100);
    const lines = readFileSync(join(dir, 'exit.log'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 100);
    assert.equal(lines[99], 'line 99');
  });

  test('the file handler takes its name and rotation from the settings: none of its own defaults', () => {
    assert.throws(() => createLogger({ handlers: { file: { enabled: true } } }), /logging\.handlers\.file\.filename/);
    const dir = tempDir();
    const log = createLogger({
      format: '%(message)s',
      handlers: { console: { enabled: false }, file: { enabled: true, filename: join(dir, 'big.log') } },
    });
    for (let i = 0; i < 200; i++) log.info('x'.repeat(100));
    // Without max_bytes and backup_count nothing rotates.
    assert.deepEqual(readdirSync(dir), ['big.log']);
    assert.equal(statSync(join(dir, 'big.log')).size, 200 * 101);
  });

  test('no file is created when the handler is off', () => {
    const dir = tempDir();
    createLogger({ handlers: { console: { enabled: false }, file: { enabled: false, filename: join(dir, 'x.log') } } }).info('x');
    assert.ok(!existsSync(join(dir, 'x.log')));
    assert.equal(basename(dir).startsWith('influx-backup-logger-'), true);
  });
});

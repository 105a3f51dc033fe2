import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConfigError, loadConfig, printableConfig, type BackupConfig } from '../src/index.js';
import { examplesDir, MINIMAL, templateFile, workDir, writeConfig } from './helpers.js';

const PRODUCTION_ENV = {
  INFLUX_PASSWORD: 'prod-source-pw',
  INFLUX_BACKUP_HOST: 'backup-influx.internal',
  INFLUX_BACKUP_PORT: '8087',
  INFLUX_BACKUP_USER: 'writer',
  INFLUX_BACKUP_PASS: 'prod-backup-pw',
};

function load(text: string, env: NodeJS.ProcessEnv = {}, overrides?: { logLevel?: string }): BackupConfig {
  const { dir } = writeConfig(text);
  return loadConfig({ file: 'config.yaml', cwd: dir, env, ...(overrides ? { overrides } : {}) });
}

/** The ConfigError that loading `text` throws. */
function failure(text: string, env: NodeJS.ProcessEnv = {}, overrides?: { logLevel?: string }): ConfigError {
  try {
    load(text, env, overrides);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.doesNotMatch(err.message, /\n/, 'a ConfigError message is one line');
    return err;
  }
  assert.fail('the configuration was accepted');
}

describe('the seed examples', () => {
  test('full.yaml validates unchanged, with every value in typed form', () => {
    const c = loadConfig({ file: join(examplesDir, 'full.yaml'), cwd: workDir(), env: {} });
    assert.equal(c.file, join(examplesDir, 'full.yaml'));
    assert.equal(c.appName, 'InfluxDB Field Backup System');
    assert.equal(c.logging.level, 'info');
    assert.equal(c.logging.handlers.console.level, 'info');
    assert.equal(c.logging.handlers.file.level, 'debug');
    assert.equal(c.logging.handlers.file.maxBytes, 10_485_760);
    assert.equal(c.logging.handlers.file.backupCount, 5);
    assert.deepEqual(c.databases.source, {
      host: 'localhost',
      port: 8086,
      username: 'admin',
      password: 'password',
      database: 'iot_sensors',
      ssl: false,
      verifySsl: false,
      timeoutMs: 30_000,
      retries: 3,
    });
    assert.equal(c.databases.backup.port, 8087);
    assert.equal(c.databases.backup.database, 'iot_sensors_backup');
    assert.deepEqual(c.processing, {
      maxWorkers: 4,
      batchSize: 1000,
      batchIntervalMs: 100,
      workerMemoryLimitMb: 256,
      operationTimeoutMs: 300_000,
      fieldsPerJob: 1,
    });
    assert.deepEqual(c.backup.measurements, [
      { name: 'temperature_data', fields: ['value', 'quality'], startTime: '2023-01-01T00:00:00Z', endTime: '2023-12-31T23:59:59Z' },
      { name: 'pressure_data', fields: ['value', 'status'], startTime: '2023-06-01T00:00:00Z' },
    ]);
    assert.deepEqual(c.backup.timeChunks, { sizeMs: 3_600_000, overlapMs: 60_000, maxValues: 100_000 });
    assert.deepEqual(c.backup.retry, { maxAttempts: 3, backoffFactor: 2, maxBackoffMs: 60_000 });
    assert.equal(c.scheduler.enabled, true);
    assert.deepEqual(c.scheduler.jobs, [
      { id: 'daily_backup', trigger: 'cron', enabled: true, full: false, repair: false, hour: 2, minute: 0 },
      { id: 'weekly_full_backup', trigger: 'cron', enabled: false, full: true, repair: false, dayOfWeek: 'sun', hour: 1, minute: 0 },
    ]);
    assert.deepEqual(c.monitoring, {
      metrics: { enabled: true, intervalMs: 30_000 },
      alerts: {
        kind: 'thresholds',
        enabled: true,
        thresholds: { errorRate: 0.05, memoryUsage: 0.8, durationMs: 3_600_000 },
        repeatIntervalMs: 4 * 3_600_000,
      },
      notify: { email: { port: 587, secure: false, from: 'influx-backup@localhost' } },
    });
    assert.deepEqual(c.redis, { url: 'redis://127.0.0.1:6379/0', prefix: 'influx-backup' });
    assert.deepEqual(c.dashboard, { host: '127.0.0.1', port: 3000, username: 'admin' });
  });

  test('iot-basic.yaml validates, defaults filling what it leaves out', () => {
    const c = loadConfig({ file: join(examplesDir, 'iot-basic.yaml'), cwd: workDir(), env: {} });
    assert.equal(c.databases.source!.host, 'iot-influxdb.local');
    assert.equal(c.databases.source!.username, undefined);
    assert.equal(c.databases.source!.password, undefined);
    assert.equal(c.processing.maxWorkers, 2);
    assert.equal(c.processing.batchIntervalMs, 200);
    assert.equal(c.processing.workerMemoryLimitMb, 256);
    assert.equal(c.logging.handlers.file.enabled, false);
    assert.equal(c.scheduler.enabled, false);
    assert.deepEqual(c.scheduler.jobs, []);
  });

  test('production.yaml validates with its backup server and password from the environment', () => {
    const c = loadConfig({ file: join(examplesDir, 'production.yaml'), cwd: workDir(), env: PRODUCTION_ENV });
    assert.equal(c.databases.source!.password, 'prod-source-pw');
    assert.equal(c.databases.source!.ssl, true);
    assert.equal(c.databases.source!.timeoutMs, 60_000);
    assert.deepEqual(c.databases.backup, {
      host: 'backup-influx.internal',
      port: 8087,
      username: 'writer',
      password: 'prod-backup-pw',
      database: 'production_metrics_backup',
      ssl: false,
      verifySsl: true,
      timeoutMs: 30_000,
      retries: 3,
      retention: 'source',
    });
    assert.deepEqual(c.backup.timeChunks, { sizeMs: 6 * 3_600_000, overlapMs: 5 * 60_000, maxValues: 100_000 });
    assert.equal(c.backup.retry.maxBackoffMs, 300_000);
    // A job whose id says "full" is a full pass unless it says otherwise; one whose id says "check" is a repair pass, which wins.
    assert.deepEqual(
      c.scheduler.jobs.map((j) => [j.id, j.full, j.repair, j.enabled]),
      [
        ['hourly_incremental', false, false, true],
        ['daily_full_check', false, true, true],
      ],
    );
    assert.equal(c.logging.handlers.file.level, 'info', 'a handler without a level takes logging.level');
  });

  test('production.yaml without INFLUX_PASSWORD names the variable and the key', () => {
    const env: NodeJS.ProcessEnv = { ...PRODUCTION_ENV };
    delete env.INFLUX_PASSWORD;
    const err = (() => {
      try {
        loadConfig({ file: join(examplesDir, 'production.yaml'), cwd: workDir(), env });
      } catch (e) {
        return e as ConfigError;
      }
      assert.fail('accepted');
    })();
    assert.ok(err instanceof ConfigError);
    assert.equal(err.key, 'databases.source.password');
    assert.equal(err.line, 18);
    assert.match(err.message, /INFLUX_PASSWORD is not set/);
  });

  test('production.yaml without INFLUX_BACKUP_HOST says the backup host is required', () => {
    const env: NodeJS.ProcessEnv = { ...PRODUCTION_ENV };
    delete env.INFLUX_BACKUP_HOST;
    assert.throws(
      () => loadConfig({ file: join(examplesDir, 'production.yaml'), cwd: workDir(), env }),
      (err: unknown) =>
        err instanceof ConfigError && err.key === 'databases.backup.host' && /required.*INFLUX_BACKUP_HOST/.test(err.message),
    );
  });

  test('the template validates once its password variables are set', () => {
    const c = loadConfig({
      file: templateFile,
      cwd: workDir(),
      env: { INFLUX_SOURCE_PASS: 'a', INFLUX_BACKUP_PASS: 'b', DASHBOARD_PASSWORD: 'c' },
    });
    assert.equal(c.dashboard.password, 'c');
    assert.equal(c.backup.measurements[1]?.fields, undefined);
    assert.equal(c.scheduler.jobs[1]?.full, true);
  });

  test('scheduler.jobs[].repair: a repair pass, by default when the id says "check", winning over full; window limits it', () => {
    const jobs = (yaml: string): BackupConfig['scheduler']['jobs'] => load(`${MINIMAL}scheduler:\n  jobs:\n${yaml}`).scheduler.jobs;
    assert.deepEqual(
      jobs(
        [
          '    - { id: "daily_full_check", hour: 3 }',
          '    - { id: "nightly", hour: 2, repair: true, window: "7d" }',
          '    - { id: "weekly_full_backup", hour: 1, repair: true }',
          '    - { id: "check_full", hour: 4, repair: false }',
          '    - { id: "weekly_full_backup_2", hour: 5, full: true, repair: false }',
        ].join('\n') + '\n',
      ).map((j) => [j.id, j.full, j.repair, j.windowMs]),
      [
        ['daily_full_check', false, true, undefined],
        ['nightly', false, true, 7 * 24 * 3_600_000],
        ['weekly_full_backup', false, true, undefined],
        ['check_full', true, false, undefined],
        ['weekly_full_backup_2', true, false, undefined],
      ],
    );
    const window = failure(`${MINIMAL}scheduler:\n  jobs:\n    - { id: "hourly", minute: 0, window: "7d" }\n`);
    assert.equal(window.key, 'scheduler.jobs[0].window');
    assert.match(window.message, /repair: true/);
    assert.equal(
      failure(`${MINIMAL}scheduler:\n  jobs:\n    - { id: "a_check", minute: 0, window: "soon" }\n`).key,
      'scheduler.jobs[0].window',
    );
    assert.equal(
      failure(`${MINIMAL}scheduler:\n  jobs:\n    - { id: "a_check", minute: 0, repair: "maybe" }\n`).key,
      'scheduler.jobs[0].repair',
    );
  });

  test('the returned configuration is deeply frozen', () => {
    const c = load(MINIMAL);
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.databases.source));
    assert.ok(Object.isFrozen(c.backup.measurements));
    assert.ok(Object.isFrozen(c.backup.measurements[0]?.fields));
    assert.throws(() => {
      (c.processing as { maxWorkers: number }).maxWorkers = 99;
    }, TypeError);
  });
});

describe('defaults and values', () => {
  test('the backup database defaults to the source name + "_backup"', () => {
    const c = load(MINIMAL);
    assert.equal(c.databases.backup.database, 'metrics_backup');
    assert.equal(load(MINIMAL, { INFLUX_SOURCE_DB: 'other' }).databases.backup.database, 'other_backup');
  });

  test('processing.fields_per_job: 1 by default, any whole number from 1, or "all"', () => {
    assert.equal(load(MINIMAL).processing.fieldsPerJob, 1);
    assert.equal(load(`${MINIMAL}processing:\n  fields_per_job: 3\n`).processing.fieldsPerJob, 3);
    assert.equal(load(`${MINIMAL}processing:\n  fields_per_job: "all"\n`).processing.fieldsPerJob, 'all');
    for (const bad of ['0', '1.5', '"some"']) {
      const f = failure(`${MINIMAL}processing:\n  fields_per_job: ${bad}\n`);
      assert.equal(f.key, 'processing.fields_per_job', bad);
    }
  });

  test('retention policies: every one by default, or a list; the backup keeps the source durations or infinite', () => {
    const c = load(MINIMAL);
    assert.equal(c.databases.source!.retentionPolicies, undefined);
    assert.equal(c.databases.backup.retention, 'source');
    const chosen = load(
      MINIMAL.replace('database: "metrics"', 'database: "metrics"\n    retention_policies: ["raw", "one \\"year\\""]').replace(
        'host: "backup.example"',
        'host: "backup.example"\n    retention: "infinite"',
      ),
    );
    assert.deepEqual(chosen.databases.source!.retentionPolicies, ['raw', 'one "year"']);
    assert.equal(chosen.databases.backup.retention, 'infinite');

    const mode = failure(MINIMAL.replace('host: "backup.example"', 'host: "backup.example"\n    retention: "forever"'));
    assert.equal(mode.key, 'databases.backup.retention');
    assert.equal(mode.line, 8);
    assert.match(mode.message, /must be "source" or "infinite" .*"forever"/);
    const twice = failure(MINIMAL.replace('database: "metrics"', 'database: "metrics"\n    retention_policies: ["raw", "raw"]'));
    assert.equal(twice.key, 'databases.source.retention_policies[1]');
    const single = failure(MINIMAL.replace('database: "metrics"', 'database: "metrics"\n    retention_policies: 5'));
    assert.equal(single.key, 'databases.source.retention_policies');
    assert.match(single.message, /must be a list of strings/);
  });

  test('a measurement without fields means every field', () => {
    const c = load(MINIMAL);
    assert.deepEqual(c.backup.measurements[0]?.fields, ['usage', 'idle']);
    assert.equal(c.backup.measurements[1]?.fields, undefined);
    assert.ok(!('fields' in (c.backup.measurements[1] ?? {})));
  });

  test('times are normalised to UTC RFC 3339 and end_time is optional', () => {
    const c = load(
      MINIMAL.replace(
        '      start_time: "2023-01-01T00:00:00Z"\n    - name: "mem"',
        '      start_time: "2023-01-01T02:00:00.500+02:00"\n      end_time: "2023-01-02T00:00:00.000000001Z"\n    - name: "mem"',
      ),
    );
    assert.equal(c.backup.measurements[0]?.startTime, '2023-01-01T00:00:00.5Z');
    assert.equal(c.backup.measurements[0]?.endTime, '2023-01-02T00:00:00.000000001Z');
    assert.equal(c.backup.measurements[1]?.endTime, undefined);
  });

  test('log levels take the seed names and winston names', () => {
    const levels: Record<string, string> = {
      DEBUG: 'debug',
      INFO: 'info',
      WARNING: 'warn',
      ERROR: 'error',
      CRITICAL: 'error',
      warn: 'warn',
      debug: 'debug',
    };
    for (const [given, expected] of Object.entries(levels)) {
      assert.equal(load(`${MINIMAL}logging:\n  level: "${given}"\n`).logging.level, expected, given);
    }
  });

  test('--log-level overrides the file and the handlers; a bad one is named', () => {
    const text = `${MINIMAL}logging:\n  level: INFO\n  handlers:\n    console:\n      level: ERROR\n`;
    const c = load(text, {}, { logLevel: 'DEBUG' });
    assert.equal(c.logging.level, 'debug');
    assert.equal(c.logging.handlers.console.level, 'debug');
    assert.equal(c.logging.handlers.file.level, 'debug');
    const err = failure(text, {}, { logLevel: 'loud' });
    assert.match(err.message, /--log-level/);
    assert.match(err.message, /"loud"/);
  });

  test('numbers and booleans given through ${VAR} are read as such', () => {
    const c = load(MINIMAL.replace('host: "source.example"', 'host: "source.example"\n    port: "${PORT}"\n    ssl: "${SSL}"'), {
      PORT: '9999',
      SSL: 'true',
    });
    assert.equal(c.databases.source!.port, 9999);
    assert.equal(c.databases.source!.ssl, true);
  });

  test('$${ stands for a literal ${', () => {
    const c = load(MINIMAL.replace('"s3cr3t-source-pw"', () => '"pa$${x}"'));
    assert.equal(c.databases.source!.password, 'pa${x}');
  });

  test('the list form of monitoring.alerts', () => {
    const c = load(`${MINIMAL}monitoring:
  alerts:
    - name: "high_error_rate"
      condition: "error_rate > 0.05"
      action: "email"
      recipients: ["admin@company.com"]
    - name: "memory_pressure"
      condition: "memory_usage > 0.90"
      action: "reduce_workers"
`);
    assert.deepEqual(c.monitoring.alerts, {
      kind: 'rules',
      rules: [
        {
          name: 'high_error_rate',
          condition: 'error_rate > 0.05',
          metric: 'error_rate',
          operator: '>',
          value: 0.05,
          action: 'email',
          recipients: ['admin@company.com'],
        },
        {
          name: 'memory_pressure',
          condition: 'memory_usage > 0.90',
          metric: 'memory_usage',
          operator: '>',
          value: 0.9,
          action: 'reduce_workers',
        },
      ],
      repeatIntervalMs: 4 * 3_600_000,
    });
  });

  test('monitoring.alerts.repeat_interval: 4h by default, "0" for never, in both forms; a list with it is {repeat_interval, rules}', () => {
    const rule = `    - name: "errors"\n      condition: "error_rate > 0.05"\n      action: "log"\n`;
    const thresholds = load(`${MINIMAL}monitoring:\n  alerts:\n    enabled: true\n    repeat_interval: "30m"\n`).monitoring.alerts;
    assert.equal(thresholds.repeatIntervalMs, 1_800_000);
    const list = load(`${MINIMAL}monitoring:\n  alerts:\n    repeat_interval: "0"\n    rules:\n${rule.replace(/^ {4}/gm, '      ')}`)
      .monitoring.alerts;
    assert.equal(list.kind, 'rules');
    assert.equal(list.repeatIntervalMs, 0);
    assert.deepEqual(list.kind === 'rules' && list.rules.map((r) => r.name), ['errors']);
    // The printed configuration keeps the form it was written in.
    assert.match(
      printableConfig(
        load(`${MINIMAL}monitoring:\n  alerts:\n    repeat_interval: "2s"\n    rules:\n${rule.replace(/^ {4}/gm, '      ')}`),
      ),
      /repeat_interval: 2s/,
    );
    assert.equal(load(`${MINIMAL}monitoring:\n  alerts:\n${rule}`).monitoring.alerts.repeatIntervalMs, 4 * 3_600_000);
    const bad = failure(`${MINIMAL}monitoring:\n  alerts:\n    enabled: true\n    repeat_interval: "often"\n`);
    assert.equal(bad.key, 'monitoring.alerts.repeat_interval');
    assert.match(bad.message, /invalid duration "often"/);
    const badRule = failure(
      `${MINIMAL}monitoring:\n  alerts:\n    rules:\n      - name: "a"\n        condition: "errors > 1"\n        action: "log"\n`,
    );
    assert.equal(badRule.key, 'monitoring.alerts.rules[0].condition');
  });

  test('monitoring.notify: the webhook URL and the SMTP password are secrets, printed masked and never quoted in an error', () => {
    const notify = `${MINIMAL}monitoring:\n  notify:\n    webhook_url: "https://u:hookpw@hooks.example/T0KEN"\n    email: { host: "smtp.example", password: "\${SMTP_PASSWORD}", to: ["a@example.org"] }\n`;
    const c = load(notify, { SMTP_PASSWORD: 'smtp-pw' });
    assert.equal(c.monitoring.notify.webhookUrl, 'https://u:hookpw@hooks.example/T0KEN');
    assert.deepEqual(c.monitoring.notify.email, {
      host: 'smtp.example',
      port: 587,
      secure: false,
      password: 'smtp-pw',
      from: 'influx-backup@localhost',
      to: ['a@example.org'],
    });
    const printed = printableConfig(c);
    for (const secret of ['hookpw', 'T0KEN', 'smtp-pw']) assert.ok(!printed.includes(secret), `${secret} printed`);
    // The SMTP_PASSWORD variable alone sets it too.
    assert.equal(
      load(`${MINIMAL}monitoring:\n  notify:\n    email: { host: "smtp.example" }\n`, { SMTP_PASSWORD: 'from-env' }).monitoring.notify.email
        .password,
      'from-env',
    );
    const bad = failure(`${MINIMAL}monitoring:\n  notify:\n    webhook_url: "ftp://u:hookpw@hooks.example/T0KEN"\n`);
    assert.equal(bad.key, 'monitoring.notify.webhook_url');
    assert.ok(!bad.message.includes('hookpw') && !bad.message.includes('T0KEN'), bad.message);
    const action = failure(`${MINIMAL}monitoring:\n  alerts:\n    - name: "a"\n      condition: "error_rate > 1"\n      action: "page"\n`);
    assert.equal(action.key, 'monitoring.alerts[0].action');
    assert.match(action.message, /email, notification, reduce_workers, log/);
  });

  test('redis and dashboard sections', () => {
    const c = load(
      `${MINIMAL}redis:\n  url: "rediss://:r3dis-pw@redis.example:6380/2"\n  prefix: "ib"\ndashboard:\n  port: 8080\n  password: "\${DASHBOARD_PASSWORD}"\n`,
      {
        DASHBOARD_PASSWORD: 'dash-pw',
      },
    );
    assert.deepEqual(c.redis, { url: 'rediss://:r3dis-pw@redis.example:6380/2', prefix: 'ib' });
    assert.deepEqual(c.dashboard, { host: '127.0.0.1', port: 8080, username: 'admin', password: 'dash-pw' });
  });

  test('relative ca_file and log file names are resolved against the working directory', () => {
    const { dir } = writeConfig(MINIMAL.replace('host: "source.example"', 'host: "source.example"\n    ca_file: "ca.pem"'));
    writeFileSync(join(dir, 'ca.pem'), 'not really a certificate');
    const c = loadConfig({ file: 'config.yaml', cwd: dir, env: {} });
    assert.equal(c.databases.source!.caFile, join(dir, 'ca.pem'));
    assert.equal(c.logging.handlers.file.filename, join(dir, 'logs', 'backup_{timestamp}.log'));
  });
});

describe('environment', () => {
  test('the seed variables override the file', () => {
    const c = load(MINIMAL, {
      INFLUX_SOURCE_HOST: 'env-source',
      INFLUX_SOURCE_PORT: '18086',
      INFLUX_SOURCE_USER: 'env-user',
      INFLUX_SOURCE_PASS: 'env-pass',
      INFLUX_BACKUP_HOST: 'env-backup',
      INFLUX_BACKUP_PORT: '18087',
      INFLUX_BACKUP_USER: 'env-buser',
      INFLUX_BACKUP_PASS: 'env-bpass',
      INFLUX_BACKUP_DB: 'env_bdb',
      LOG_LEVEL: 'WARNING',
      MAX_WORKERS: '16',
      BATCH_SIZE: '5000',
      MEMORY_LIMIT: '512MB',
      OPERATION_TIMEOUT: '900',
      REDIS_URL: 'redis://redis.internal:6379/3',
    });
    assert.equal(c.databases.source!.host, 'env-source');
    assert.equal(c.databases.source!.port, 18086);
    assert.equal(c.databases.source!.username, 'env-user');
    assert.equal(c.databases.source!.password, 'env-pass');
    assert.equal(c.databases.backup.host, 'env-backup');
    assert.equal(c.databases.backup.port, 18087);
    assert.equal(c.databases.backup.username, 'env-buser');
    assert.equal(c.databases.backup.password, 'env-bpass');
    assert.equal(c.databases.backup.database, 'env_bdb');
    assert.equal(c.logging.level, 'warn');
    assert.equal(c.processing.maxWorkers, 16);
    assert.equal(c.processing.batchSize, 5000);
    assert.equal(c.processing.workerMemoryLimitMb, 512);
    assert.equal(c.processing.operationTimeoutMs, 900_000);
    assert.equal(c.redis.url, 'redis://redis.internal:6379/3');
  });

  test('MEMORY_LIMIT takes "256" and "256MB"', () => {
    assert.equal(load(MINIMAL, { MEMORY_LIMIT: '256' }).processing.workerMemoryLimitMb, 256);
    assert.equal(load(MINIMAL, { MEMORY_LIMIT: '300MB' }).processing.workerMemoryLimitMb, 300);
    assert.equal(load(MINIMAL, { MEMORY_LIMIT: '1GB' }).processing.workerMemoryLimitMb, 1024);
  });

  test('an empty override variable counts as unset', () => {
    assert.equal(load(MINIMAL, { MAX_WORKERS: '' }).processing.maxWorkers, 4);
  });

  test('a bad override names the key and the variable, without a line', () => {
    const err = failure(MINIMAL, { MAX_WORKERS: 'lots' });
    assert.equal(err.key, 'processing.max_workers');
    assert.equal(err.line, undefined);
    assert.match(err.message, /MAX_WORKERS/);
  });

  test('a .env file in the working directory is read; the real environment wins', () => {
    const { dir } = writeConfig(MINIMAL.replace('"s3cr3t-source-pw"', '"${FROM_DOTENV}"'));
    writeFileSync(join(dir, '.env'), 'FROM_DOTENV=dotenv-pw\nMAX_WORKERS=7\nBATCH_SIZE=70\n');
    const c = loadConfig({ file: 'config.yaml', cwd: dir, env: { BATCH_SIZE: '80' } });
    assert.equal(c.databases.source!.password, 'dotenv-pw');
    assert.equal(c.processing.maxWorkers, 7);
    assert.equal(c.processing.batchSize, 80);
  });
});

describe('errors', () => {
  test('a missing file is named', () => {
    const dir = workDir();
    assert.throws(
      () => loadConfig({ file: 'nope.yaml', cwd: dir, env: {} }),
      (err: unknown) => err instanceof ConfigError && err.file === join(dir, 'nope.yaml') && err.message.includes(join(dir, 'nope.yaml')),
    );
  });

  test('a YAML syntax error gives its line', () => {
    const err = failure(`${MINIMAL}processing:\n  max_workers: 4: 5\n  batch_size: 3\n`);
    assert.equal(err.line, 16);
    assert.equal(err.key, undefined);
    assert.match(err.message, /config\.yaml:16:16: YAML syntax error: /);
  });

  test('a YAML syntax error does not quote a password from the source line', () => {
    const err = failure('databases:\n  source:\n    password: "open-quote-secret\n');
    assert.doesNotMatch(err.message, /open-quote-secret/);
  });

  test('a duplicate key is a syntax error with its line', () => {
    const err = failure(`${MINIMAL}processing:\n  batch_size: 1\n  batch_size: 2\n`);
    assert.equal(err.line, 17);
  });

  test('a wrong type names the key and line', () => {
    const err = failure(`${MINIMAL}processing:\n  max_workers: "four"\n`);
    assert.equal(err.key, 'processing.max_workers');
    assert.equal(err.line, 16);
    assert.match(err.message, /config\.yaml:16: processing\.max_workers: must be a whole number, got "four"/);
  });

  test('a mapping where a value belongs is a wrong type', () => {
    const err = failure(MINIMAL.replace('host: "source.example"', 'host: "source.example"\n    port: {number: 1}'));
    assert.equal(err.key, 'databases.source.port');
  });

  test('negative numbers are named', () => {
    assert.equal(failure(`${MINIMAL}processing:\n  batch_interval: -1\n`).key, 'processing.batch_interval');
    assert.match(failure(`${MINIMAL}processing:\n  batch_interval: -1\n`).message, /must not be negative/);
    assert.equal(failure(`${MINIMAL}processing:\n  batch_size: -5\n`).key, 'processing.batch_size');
    assert.equal(
      failure(MINIMAL.replace('host: "backup.example"', 'host: "backup.example"\n    retries: -1')).key,
      'databases.backup.retries',
    );
  });

  test('an unknown top-level key is named, with a guess when misspelt', () => {
    const unknown = failure(`${MINIMAL}extras:\n  a: 1\n`);
    assert.equal(unknown.key, 'extras');
    assert.equal(unknown.line, 15);
    assert.match(unknown.message, /unknown key/);
    const misspelt = failure(`${MINIMAL}procesing:\n  max_workers: 2\n`);
    assert.equal(misspelt.key, 'procesing');
    assert.match(misspelt.message, /did you mean "processing"/);
  });

  test('an unknown or misspelt key inside a section is named with its full path', () => {
    const err = failure(MINIMAL.replace('host: "source.example"', 'host: "source.example"\n    pasword: "x"'));
    assert.equal(err.key, 'databases.source.pasword');
    assert.match(err.message, /did you mean "password"/);
  });

  test('an unknown or misspelt key inside measurements[1] is named with its index', () => {
    const err = failure(MINIMAL.replace('    - name: "mem"\n      start_time', '    - name: "mem"\n      start_tme'));
    assert.equal(err.key, 'backup.measurements[1].start_tme');
    assert.equal(err.line, 14);
    assert.match(err.message, /did you mean "start_time"/);
    const extra = failure(`${MINIMAL}      retention: "30d"\n`);
    assert.equal(extra.key, 'backup.measurements[1].retention');
  });

  test('a bad time is named with its path', () => {
    const err = failure(
      MINIMAL.replace(
        '    - name: "mem"\n      start_time: "2023-01-01T00:00:00Z"',
        '    - name: "mem"\n      start_time: "2023-02-30T00:00:00Z"',
      ),
    );
    assert.equal(err.key, 'backup.measurements[1].start_time');
    assert.equal(err.line, 14);
    for (const bad of [
      'yesterday',
      '2023-01-01',
      '2023-01-01 00:00:00Z',
      '2023-01-01T00:00:00',
      '2023-01-01T24:00:00Z',
      '2023-01-01T00:00:00.1234567890Z',
    ]) {
      const e = failure(
        MINIMAL.replace('    - name: "mem"\n      start_time: "2023-01-01T00:00:00Z"', `    - name: "mem"\n      start_time: "${bad}"`),
      );
      assert.equal(e.key, 'backup.measurements[1].start_time', bad);
    }
  });

  test('end_time before start_time is refused', () => {
    const err = failure(
      MINIMAL.replace(
        '      start_time: "2023-01-01T00:00:00Z"\n    - name: "mem"',
        '      start_time: "2023-01-01T00:00:00Z"\n      end_time: "2022-12-31T23:59:59Z"\n    - name: "mem"',
      ),
    );
    assert.equal(err.key, 'backup.measurements[0].end_time');
    assert.match(err.message, /before start_time/);
  });

  test('a bad duration is named', () => {
    for (const bad of ['1x', '1', '-1h', '1.5h', 'h', '']) {
      const err = failure(`${MINIMAL}  time_chunks:\n    size: "${bad}"\n`);
      assert.equal(err.key, 'backup.time_chunks.size', bad);
    }
    assert.equal(failure(`${MINIMAL}  time_chunks:\n    size: 3600\n`).key, 'backup.time_chunks.size');
  });

  test('time_chunks.max_values: default 100000, 1 allowed, 0 and fractions refused', () => {
    assert.equal(load(MINIMAL).backup.timeChunks.maxValues, 100_000);
    assert.equal(load(`${MINIMAL}  time_chunks:\n    max_values: 1\n`).backup.timeChunks.maxValues, 1);
    for (const bad of ['0', '-5', '1.5', '"many"']) {
      assert.equal(failure(`${MINIMAL}  time_chunks:\n    max_values: ${bad}\n`).key, 'backup.time_chunks.max_values', bad);
    }
  });

  test('overlap must be shorter than size', () => {
    const err = failure(`${MINIMAL}  time_chunks:\n    size: "1h"\n    overlap: "60m"\n`);
    assert.equal(err.key, 'backup.time_chunks.overlap');
  });

  test('an unset ${VAR} names the variable and the key', () => {
    const err = failure(MINIMAL.replace('"source.example"', '"${SOURCE_HOSTNAME}"'));
    assert.equal(err.key, 'databases.source.host');
    assert.equal(err.line, 3);
    assert.match(err.message, /environment variable SOURCE_HOSTNAME is not set/);
  });

  test('a required key left out is named', () => {
    const err = failure(MINIMAL.replace('    database: "metrics"\n', ''));
    assert.equal(err.key, 'databases.source.database');
  });

  test('measurements, jobs and alerts are checked element by element', () => {
    assert.equal(failure(`${MINIMAL}    - name: "cpu"\n      start_time: "2023-01-01T00:00:00Z"\n`).key, 'backup.measurements[2].name');
    assert.equal(failure(MINIMAL.replace('fields: ["usage", "idle"]', 'fields: []')).key, 'backup.measurements[0].fields');
    assert.equal(failure(MINIMAL.replace('fields: ["usage", "idle"]', 'fields: "usage"')).key, 'backup.measurements[0].fields');
    const job = (fields: string): ConfigError => failure(`${MINIMAL}scheduler:\n  jobs:\n    - id: "j"\n${fields}`);
    assert.equal(job('      hour: 24\n').key, 'scheduler.jobs[0].hour');
    assert.equal(job('      day_of_week: "someday"\n').key, 'scheduler.jobs[0].day_of_week');
    assert.equal(job('      trigger: "interval"\n      hours: 1\n').key, 'scheduler.jobs[0].hours');
    assert.equal(job('      trigger: "interval"\n').key, 'scheduler.jobs[0].trigger');
    assert.equal(job('      year: 2025\n').key, 'scheduler.jobs[0].year');
    const alert = failure(`${MINIMAL}monitoring:\n  alerts:\n    - name: "a"\n      condition: "errors > 1"\n      action: "log"\n`);
    assert.equal(alert.key, 'monitoring.alerts[0].condition');
    assert.equal(
      failure(`${MINIMAL}monitoring:\n  alerts:\n    enabled: true\n    thresholds:\n      error_rate: 2\n`).key,
      'monitoring.alerts.thresholds.error_rate',
    );
  });

  test('the backup may not be the source database', () => {
    const err = failure(MINIMAL.replace('host: "backup.example"', 'host: "source.example"\n    database: "metrics"'));
    assert.equal(err.key, 'databases.backup.database');
  });

  test('no message holds a password, whatever went wrong', () => {
    const secret = 's3cr3t-source-pw';
    const broken = [
      MINIMAL.replace(`"${secret}"`, '12345'),
      `${MINIMAL}redis:\n  url: "http://user:${secret}@host"\n`,
      `${MINIMAL}redis:\n  url: "redis://user:${secret}@host/notanumber"\n`,
      MINIMAL.replace('"backup.example"', `"${secret}"\n    username: 7`),
    ];
    for (const text of broken) {
      const err = failure(text);
      assert.doesNotMatch(err.message, new RegExp(secret));
    }
    const fromEnv = failure(MINIMAL, { INFLUX_SOURCE_PASS: 'env only secret', INFLUX_SOURCE_HOST: 'env only secret' });
    assert.equal(fromEnv.key, 'databases.source.host');
    assert.doesNotMatch(fromEnv.message, /env only secret/);
  });
});

test('printableConfig masks every secret and reloads to the same configuration', () => {
  const env = { INFLUX_BACKUP_PASS: 'backup-pw-123', DASHBOARD_PASSWORD: 'dash-pw-456', REDIS_URL: 'redis://user:redis-pw-789@r:6379/1' };
  const text = `${MINIMAL}dashboard:\n  password: "\${DASHBOARD_PASSWORD}"\n`;
  const c = load(text, env);
  const printed = printableConfig(c);
  for (const secret of ['s3cr3t-source-pw', 'backup-pw-123', 'dash-pw-456', 'redis-pw-789']) {
    assert.ok(!printed.includes(secret), `${secret} printed`);
  }
  assert.match(printed, /password: "\*{8}"/);
  assert.match(printed, /url: redis:\/\/user:\*{8}@r:6379\/1/);
  assert.match(printed, /size: 1h/);
  const { dir } = writeConfig(printed);
  const again = loadConfig({ file: 'config.yaml', cwd: dir, env: {} });
  const withoutSecrets = (x: BackupConfig): unknown => parse(printableConfig(x));
  assert.deepEqual(withoutSecrets(again), withoutSecrets(c));
});

test('an unset password prints as empty', () => {
  const c = load(MINIMAL);
  assert.match(printableConfig(c), /backup:\n    host: backup\.example\n    port: 8086\n    username: ""\n    password: ""/);
});

describe('several sources (databases.sources)', () => {
  const SOURCES = `databases:
  sources:
    - name: "plant_a"
      host: "a.example"
      database: "iot"
      password: "\${PLANT_A_PASSWORD}"
    - name: "plant_b"
      host: "b.example"
      database: "iot"
      backup_database: "plant_b_iot"
      measurements:
        - name: "power"
          start_time: "2024-01-01T00:00:00Z"
  backup:
    host: "backup.example"
backup:
  measurements:
    - name: "cpu"
      start_time: "2023-01-01T00:00:00Z"
`;
  const env = { PLANT_A_PASSWORD: 'plant-a-secret-pw' };

  test('the example validates; each source has its backup database and measurements, defaults filled in', () => {
    const example = loadConfig({
      file: join(examplesDir, 'several-sources.yaml'),
      cwd: workDir(),
      env: { PLANT_A_PASSWORD: 'x', INFLUX_BACKUP_PASS: 'y' },
    });
    assert.deepEqual(
      example.sources.map((s) => [s.name, s.backupDatabase, s.scheduleIds]),
      [
        ['plant_a', 'plant_a_iot', ['hourly']],
        ['plant_b', 'plant_b_iot', undefined],
      ],
    );
    const c = load(SOURCES, env);
    assert.equal(c.databases.source, undefined);
    assert.deepEqual(
      c.sources.map((s) => [s.name, s.host, s.port, s.database, s.backupDatabase, s.listed]),
      [
        ['plant_a', 'a.example', 8086, 'iot', 'iot_backup', true],
        ['plant_b', 'b.example', 8086, 'iot', 'plant_b_iot', true],
      ],
    );
    assert.deepEqual(
      c.sources[0]?.measurements.map((m) => m.name),
      ['cpu'],
    );
    assert.deepEqual(
      c.sources[1]?.measurements.map((m) => m.name),
      ['power'],
    );
    assert.equal(c.sources[0]?.password, 'plant-a-secret-pw');
  });

  test("a listed source's password is masked when printed and reloads", () => {
    const c = load(SOURCES, env);
    const printed = printableConfig(c);
    assert.doesNotMatch(printed, /plant-a-secret-pw/);
    const { dir } = writeConfig(printed);
    const again = loadConfig({ file: 'config.yaml', cwd: dir, env: {} });
    assert.deepEqual(
      again.sources.map((s) => s.name),
      ['plant_a', 'plant_b'],
    );
    assert.equal(again.sources[0]?.password, '********');
  });

  test('the single form is one source named after its database, with the backup database and measurements it always had', () => {
    const c = load(MINIMAL);
    assert.equal(c.sources.length, 1);
    const [s] = c.sources;
    assert.deepEqual(
      [s?.name, s?.host, s?.database, s?.backupDatabase, s?.listed],
      ['metrics', 'source.example', 'metrics', 'metrics_backup', false],
    );
    assert.deepEqual(
      s?.measurements.map((m) => m.name),
      ['cpu', 'mem'],
    );
    // The seed's variables still override the single form.
    const fromEnv = load(MINIMAL, { INFLUX_SOURCE_HOST: 'env-host', INFLUX_SOURCE_DB: 'envdb' });
    assert.deepEqual(
      [fromEnv.sources[0]?.host, fromEnv.sources[0]?.name, fromEnv.sources[0]?.backupDatabase],
      ['env-host', 'envdb', 'envdb_backup'],
    );
  });

  test('a duplicate name is an error naming both entries', () => {
    const err = failure(SOURCES.replace('name: "plant_b"', 'name: "plant_a"'), env);
    assert.equal(err.key, 'databases.sources[1].name');
    assert.match(err.message, /"plant_a" is already the name of databases\.sources\[0\]/);
  });

  test('two sources aimed at one backup database is an error naming both', () => {
    const err = failure(SOURCES.replace('backup_database: "plant_b_iot"', 'backup_database: "iot_backup"'), env);
    assert.equal(err.key, 'databases.sources[1].backup_database');
    assert.match(err.message, /"iot_backup" is also the backup database of databases\.sources\[0\] \("plant_a"\)/);
    assert.match(err.message, /databases\.sources\[1\] \("plant_b"\)/);
    assert.doesNotMatch(err.message, /plant-a-secret-pw/);
  });

  test('two sources reading one database of one server is an error naming both', () => {
    const err = failure(SOURCES.replace('host: "b.example"', 'host: "a.example"'), env);
    assert.equal(err.key, 'databases.sources[1].database');
    assert.match(err.message, /"plant_a"\) and databases\.sources\[1\] \("plant_b"\) both read "iot" on a\.example:8086/);
  });

  test('not both forms, nor databases.backup.database with the list, nor an unknown schedule id', () => {
    const both = failure(SOURCES.replace('databases:\n', 'databases:\n  source:\n    host: "s"\n    database: "d"\n'), env);
    assert.equal(both.key, 'databases.sources');
    assert.match(both.message, /databases\.source are both given/);
    const byVariable = failure(SOURCES, { ...env, INFLUX_SOURCE_HOST: 'legacy-host', INFLUX_SOURCE_DB: 'legacy' });
    assert.equal(byVariable.key, 'databases.sources');
    assert.match(byVariable.message, /INFLUX_SOURCE_HOST/);
    const backupDb = failure(SOURCES.replace('host: "backup.example"', 'host: "backup.example"\n    database: "one"'), env);
    assert.equal(backupDb.key, 'databases.backup.database');
    const schedule = failure(
      SOURCES.replace('      backup_database: "plant_b_iot"\n', '      backup_database: "plant_b_iot"\n      schedule_ids: ["hourly"]\n'),
      env,
    );
    assert.equal(schedule.key, 'databases.sources[1].schedule_ids');
    assert.equal(failure('databases:\n  backup:\n    host: "b"\n').key, 'databases.source.host');
    const bad = failure(SOURCES.replace('name: "plant_b"', 'name: "plant b"'), env);
    assert.equal(bad.key, 'databases.sources[1].name');
  });
});

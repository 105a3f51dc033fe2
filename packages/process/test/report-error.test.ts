import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { EXIT_FAILED, loadContext, reportError } from '../src/index.js';

function capture(): { stream: Writable; text: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  return { stream, text: () => out };
}

test("an error that reaches the top is masked with the loaded configuration's secrets, stack included", () => {
  const dir = mkdtempSync(join(tmpdir(), 'ib-report-'));
  const file = join(dir, 'c.yaml');
  writeFileSync(
    file,
    `databases:
  source: { host: "127.0.0.1", database: "iot_s3cr3t-pw", password: "s3cr3t-pw" }
  backup: { host: "127.0.0.2" }
backup:
  measurements: [{ name: "m", start_time: "2024-01-01T00:00:00Z" }]
logging: { handlers: { console: { enabled: false }, file: { enabled: false } } }
`,
  );
  loadContext({ config: file }, { component: 'test', logFile: false });
  const out = capture();
  const code = reportError(new Error('the server said: password s3cr3t-pw is wrong for db iot_s3cr3t-pw'), true, out.stream);
  assert.equal(code, EXIT_FAILED);
  const text = out.text();
  assert.ok(!/(?<![\w])s3cr3t-pw/.test(text.replace(/iot_s3cr3t-pw/g, '')), text);
  assert.match(text, /^error: the server said: password \*{8} is wrong for db iot_s3cr3t-pw$/m, 'the name holding it stays readable');
  assert.ok(text.split('\n').length > 2, 'the stack was printed too, under --verbose');
});

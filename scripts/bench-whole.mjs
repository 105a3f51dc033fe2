// The benchmark's whole-point baseline: the least code that copies a
// measurement with one query (every field of a row on one line) over HTTP.
// Query with epoch=ns (chunked JSON), write line protocol batches, one write in
// flight while the next batch is read. Like bench-minimal.mjs it is lossy (JSON
// numbers; INT_FIELDS says which fields are integers) and has no retries,
// checkpoints or queue: a floor for what the real tool costs.
const { SRC, DST, MEASUREMENT, INT_FIELDS = '', BATCH } = process.env;
const batch = Number(BATCH);
const ints = new Set(INT_FIELDS.split(',').filter(Boolean));
const esc = (s) => s.replace(/[,= ]/g, '\\$&');

const res = await fetch(`${SRC}/query?db=bench&epoch=ns&chunked=true&chunk_size=10000`, {
  method: 'POST',
  body: new URLSearchParams({ q: `SELECT * FROM "${MEASUREMENT}" GROUP BY *` }),
});
let lines = [];
let inflight = Promise.resolve();
const flush = async () => {
  await inflight;
  if (lines.length === 0) return;
  const body = lines.join('\n');
  lines = [];
  inflight = fetch(`${DST}/write?db=bench_backup&precision=ns`, { method: 'POST', body }).then(async (w) => {
    if (w.status !== 204) throw new Error(await w.text());
  });
};
const decoder = new TextDecoder();
let buf = '';
for await (const part of res.body) {
  buf += decoder.decode(part, { stream: true });
  let nl;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const msg = JSON.parse(buf.slice(0, nl));
    buf = buf.slice(nl + 1);
    for (const s of msg.results[0].series ?? []) {
      const head =
        esc(s.name) +
        Object.entries(s.tags ?? {})
          .filter(([, v]) => v)
          .map(([k, v]) => `,${esc(k)}=${esc(v)}`)
          .join('');
      const keys = s.columns.map((c) => `${esc(c)}=`);
      for (const row of s.values) {
        const parts = [];
        for (let c = 1; c < row.length; c++) {
          const v = row[c];
          if (v === null) continue;
          parts.push(keys[c] + (typeof v === 'string' ? JSON.stringify(v) : ints.has(s.columns[c]) ? `${v}i` : String(v)));
        }
        if (parts.length > 0) lines.push(`${head} ${parts.join(',')} ${row[0]}`);
        if (lines.length >= batch) await flush();
      }
    }
  }
}
await flush();
await inflight;

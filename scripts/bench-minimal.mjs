// The benchmark's baseline: the least code that copies a measurement field by
// field over HTTP. Query each field with epoch=ns (chunked JSON), write line
// protocol batches. It is lossy (JSON numbers) and has no retries, no
// checkpoints, no queue: a floor for what the real tool costs.
const { SRC, DST, MEASUREMENT, FIELDS, CONCURRENCY, BATCH } = process.env;
const batch = Number(BATCH);
const esc = (s) => s.replace(/[,= ]/g, '\\$&');

async function copyField(field) {
  const q = `SELECT "${field}" FROM "${MEASUREMENT}" GROUP BY *`;
  const res = await fetch(`${SRC}/query?db=bench&epoch=ns&chunked=true&chunk_size=10000`, {
    method: 'POST',
    body: new URLSearchParams({ q }),
  });
  let lines = [];
  const flush = async () => {
    if (lines.length === 0) return;
    const body = lines.join('\n');
    lines = [];
    const w = await fetch(`${DST}/write?db=bench_backup&precision=ns`, { method: 'POST', body });
    if (w.status !== 204) throw new Error(await w.text());
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
        for (const [t, v] of s.values) {
          const val = typeof v === 'string' ? JSON.stringify(v) : Number.isInteger(v) && field === 'counter' ? `${v}i` : String(v);
          lines.push(`${head} ${esc(field)}=${val} ${t}`);
          if (lines.length >= batch) await flush();
        }
      }
    }
  }
  await flush();
}

const fields = FIELDS.split(',');
const queue = [...fields];
await Promise.all(
  Array.from({ length: Number(CONCURRENCY) }, async () => {
    while (queue.length) await copyField(queue.shift());
  }),
);

// Synthetic IoT data for the demo and the benchmark: several measurements, tag
// sets, and every field type InfluxDB 1.x has (float, integer, string, boolean).

const escKey = (s) => s.replace(/[,= ]/g, '\\$&');
const escMeas = (s) => s.replace(/[, ]/g, '\\$&');

/**
 * Yields line-protocol bodies of about `linesPerBody` lines.
 * spec: { measurement, tags: {key: [values]}, fields: {name: type}, points, startNs, stepNs, sparse }
 */
export function* generate(spec, linesPerBody = 5000) {
  const tagKeys = Object.keys(spec.tags);
  const combos = tagKeys.reduce((acc, k) => acc.flatMap((c) => spec.tags[k].map((v) => ({ ...c, [k]: v }))), [{}]);
  const heads = combos.map((c) => escMeas(spec.measurement) + tagKeys.map((k) => `,${escKey(k)}=${escKey(c[k])}`).join(''));
  const fieldNames = Object.keys(spec.fields);
  let lines = [];
  let i = 0;
  for (let p = 0; p < spec.points; p++) {
    const t = spec.startNs + BigInt(p) * spec.stepNs;
    for (let h = 0; h < heads.length; h++) {
      i++;
      const parts = [];
      for (let f = 0; f < fieldNames.length; f++) {
        const name = fieldNames[f];
        // sparse fields are written on every third point only
        if (spec.sparse?.includes(name) && (p + h) % 3 !== 0) continue;
        parts.push(`${escKey(name)}=${value(spec.fields[name], i, f)}`);
      }
      lines.push(`${heads[h]} ${parts.join(',')} ${t}`);
      if (lines.length >= linesPerBody) {
        yield lines.join('\n');
        lines = [];
      }
    }
  }
  if (lines.length > 0) yield lines.join('\n');
}

function value(type, i, f) {
  switch (type) {
    case 'float':
      return String(Math.round((20 + Math.sin(i / 50 + f) * 15) * 1000) / 1000);
    case 'integer':
      return `${(i * 7919 + f) % 100000}i`;
    case 'string':
      return `"${['ok', 'warn', 'fault "x"', 'calibrating\\n'][i % 4]}"`;
    case 'boolean':
      return i % 5 === 0 ? 'false' : 'true';
    default:
      throw new Error(`unknown type ${type}`);
  }
}

export function countValues(spec) {
  const series = Object.values(spec.tags).reduce((n, v) => n * v.length, 1);
  let n = 0;
  for (const name of Object.keys(spec.fields)) {
    if (!spec.sparse?.includes(name)) {
      n += spec.points * series;
      continue;
    }
    for (let p = 0; p < spec.points; p++) for (let h = 0; h < series; h++) if ((p + h) % 3 === 0) n++;
  }
  return n;
}

export async function load(url, db, spec, auth = {}) {
  await fetch(`${url}/query`, { method: 'POST', body: new URLSearchParams({ q: `CREATE DATABASE "${db}"` }), headers: auth });
  for (const body of generate(spec)) {
    const res = await fetch(`${url}/write?db=${encodeURIComponent(db)}&precision=ns`, { method: 'POST', body, headers: auth });
    if (res.status !== 204) throw new Error(`write to ${url} failed: ${res.status} ${await res.text()}`);
  }
}

#!/usr/bin/env node
// Loads the demo IoT dataset into a source InfluxDB: two measurements, tags,
// every field type, one sparse field. Usage: node scripts/demo-load.mjs URL DB
import { countValues, load } from './lib/dataset.mjs';

const [url, db] = process.argv.slice(2);
const start = BigInt(Date.now() - 3 * 24 * 3600 * 1000) * 1_000_000n;
const specs = [
  {
    measurement: 'weather',
    tags: { station: ['madrid', 'lisbon', 'paris'], region: ['eu'] },
    fields: { temperature: 'float', humidity: 'float', pressure: 'integer', condition: 'string', raining: 'boolean' },
    sparse: ['condition'],
    points: 4320, // every minute for three days
    startNs: start,
    stepNs: 60n * 1_000_000_000n,
  },
  {
    measurement: 'power meters',
    tags: { site: ['plant A', 'plant B'], meter: ['m1', 'm2'] },
    fields: { kwh: 'float', pulses: 'integer', online: 'boolean' },
    points: 864, // every five minutes
    startNs: start,
    stepNs: 300n * 1_000_000_000n,
  },
];
let total = 0;
for (const spec of specs) {
  await load(url, db, spec);
  total += countValues(spec);
}
console.log(`loaded ${total} field values into ${db} at ${url}`);

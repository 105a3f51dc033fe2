#!/usr/bin/env node
// The worker as a program of its own: `node apps/worker/dist/main.js --config FILE`.
// `influx-backup worker` runs the same role; see @influx-backup/runtime's workerRole.
import { runRole } from '@influx-backup/process';
import { workerRole } from '@influx-backup/runtime';

const code = await runRole(workerRole, process.argv.slice(2));
// Open handles (keep-alive sockets, Redis) must not keep a stopped program alive.
process.exit(code);

#!/usr/bin/env node
// The planner as a program of its own: `node apps/planner/dist/main.js --config FILE`.
// `influx-backup planner` runs the same role; see @influx-backup/runtime's plannerRole.
import { runRole } from '@influx-backup/process';
import { plannerRole } from '@influx-backup/runtime';

const code = await runRole(plannerRole, process.argv.slice(2));
// Open handles (keep-alive sockets, Redis) must not keep a stopped program alive.
process.exit(code);

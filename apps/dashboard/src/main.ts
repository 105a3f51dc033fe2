#!/usr/bin/env node
// The dashboard as a program of its own: `node apps/dashboard/dist/main.js --config FILE`.
// `influx-backup dashboard` runs the same role; see @influx-backup/dashboard's dashboardRole.
import { runRole } from '@influx-backup/process';
import { dashboardRole } from '@influx-backup/dashboard';

const code = await runRole(dashboardRole, process.argv.slice(2));
// Open handles (keep-alive sockets, Redis) must not keep a stopped program alive.
process.exit(code);

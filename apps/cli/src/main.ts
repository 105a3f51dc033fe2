#!/usr/bin/env node
import { runCli } from './cli.js';

const code = await runCli(process.argv.slice(2));
// Open handles (keep-alive sockets, Redis) must not keep a finished command alive.
process.exit(code);

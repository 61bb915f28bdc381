#!/usr/bin/env node
// Entry point of the `smtp-relay` command; the code is compiled to dist/ by `npm run build`
// (run automatically by `npm install` / `npm ci` through the prepare script).
import { main } from '../dist/cli/main.js';
import { stopWhenNpmParentExits } from '../dist/cli/npm-parent.js';

stopWhenNpmParentExits();
process.exitCode = await main(process.argv.slice(2));

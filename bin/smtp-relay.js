#!/usr/bin/env node
// Entry point of the `smtp-relay` command; the code is compiled to dist/ by `npm run build`
// (run automatically by `npm install` / `npm ci` through the prepare script).
// The Node check runs first, and the code is imported only after it passed.
import '../scripts/require-node.js';

const { main } = await import('../dist/cli/main.js');
const { stopWhenNpmParentExits } = await import('../dist/cli/npm-parent.js');

stopWhenNpmParentExits();
process.exitCode = await main(process.argv.slice(2));

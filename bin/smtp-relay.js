#!/usr/bin/env node
// Entry point of the `smtp-relay` command; the code is compiled to dist/ by `npm run build`
// (run automatically by `npm install` / `npm ci` through the prepare script).
// The Node check runs first, and the code is imported only after it passed.
import '../scripts/require-node.js';

// `run` is the relay: it runs with the relay's V8 settings (src/host/v8-flags.ts), whatever started it,
// so this process becomes `node FLAGS smtp-relay.js run …` (same pid, so signals and service managers
// are unaffected). Windows has no execve: there the service's definition gives the flags.
if (process.argv[2] === 'run' && process.platform !== 'win32' && typeof process.execve === 'function') {
  const { relayArgv } = await import('../dist/host/v8-flags.js');
  const argv = relayArgv(process.execPath, process.execArgv, process.argv);
  if (argv) process.execve(process.execPath, argv, process.env);
}

const { main } = await import('../dist/cli/main.js');
const { stopWhenNpmParentExits } = await import('../dist/cli/npm-parent.js');

stopWhenNpmParentExits();
process.exitCode = await main(process.argv.slice(2));

// Entry of the app process: `node --import ./register.ts boot.ts <app entry> [app args…]`.
// Runs the app's entry as Electron would (argv[1] is the entry), then emits 'ready'.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { markReady } from './app.js';

const entry = process.argv[2];
if (!entry) throw new Error('usage: node --import register.ts boot.ts ENTRY [ARGS…]');
process.argv.splice(1, 1); // [node, entry, args…] like [electron, entry, args…]
await import(pathToFileURL(path.resolve(entry)).href);
markReady();

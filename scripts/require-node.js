#!/usr/bin/env node
// Stops at once, with a plain message, on a Node older than package.json's "engines" asks for:
// an old Node otherwise fails minutes later deep inside a dependency (Vitest on Node 20: "Map.groupBy
// is not a function"). Run by the `smtp-relay` command, `npm install` (prepare) and `npm test` (pretest).
// Plain JavaScript that any Node parses, so the message itself never fails.
import { readFileSync } from 'node:fs';
import { URL } from 'node:url';

const wanted = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines.node; // ">=22.12"
const [needMajor, needMinor] = wanted.replace(/^>=\s*/, '').split('.').map(Number);
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < needMajor || (major === needMajor && minor < (needMinor || 0))) {
  process.stderr.write(`SMTP Relay Tray needs Node.js ${needMajor}.${needMinor || 0} or later (24 LTS recommended); this is Node.js ${process.versions.node} (${process.execPath}).\n`);
  process.exit(1);
}

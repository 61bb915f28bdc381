// build/installer.nsh compiles: NSIS (Debian's makensis) builds an installer and uninstaller that
// insert its macros the way electron-builder's templates do (customInstall in the install section,
// customUnInstall in the uninstall section, with LogicLib, $installMode and ${isUpdated} defined),
// warnings treated as errors. It cannot run here; what it runs is `smtp-relay service`, tested elsewhere.
import { execFile } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';

const harness = (include: string, out: string) => `
Unicode true
Name "harness"
OutFile "${out}"
RequestExecutionLevel admin
!include LogicLib.nsh
; What electron-builder's templates define before they insert the custom macros.
!define PRODUCT_NAME "SMTP Relay Tray"
Var installMode
!macro _isUpdated _a _b _t _f
  StrCmp "$R9" "--updated" \`\${_t}\` \`\${_f}\`
!macroend
!define isUpdated \`"" isUpdated ""\`
!include "${include}"
Section "install"
  StrCpy $installMode "all"
  !insertmacro customInstall
  WriteUninstaller "$INSTDIR\\relay-remove.exe"
SectionEnd
Section "un.install"
  StrCpy $installMode "all"
  !insertmacro customUnInstall
SectionEnd
`;

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fsp.rm(d, { recursive: true, force: true });
});

function makensis(script: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('makensis', ['-V2', '-WX', script], (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('makensis is missing: apt-get install nsis (.ci/run installs it)');
      resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

async function compile(nsh: string): Promise<{ code: number; out: string; exe: string }> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'nsis-'));
  dirs.push(dir);
  await fsp.writeFile(path.join(dir, 'installer.nsh'), nsh);
  const exe = path.join(dir, 'relay-harness.exe');
  await fsp.writeFile(path.join(dir, 'harness.nsi'), harness(path.join(dir, 'installer.nsh'), exe));
  return { ...(await makensis(path.join(dir, 'harness.nsi'))), exe };
}

it('build/installer.nsh compiles into an installer and uninstaller with no warning', async () => {
  const nsh = await fsp.readFile('build/installer.nsh', 'utf8');
  const r = await compile(nsh);
  expect(r.out).not.toMatch(/warning/i);
  expect(r.code, r.out).toBe(0);
  expect((await fsp.stat(r.exe)).size).toBeGreaterThan(10_000);
  // The service's block is there and hooked into both macros electron-builder inserts.
  // One customInstall: the event source and the imported configuration before the service first starts.
  expect(nsh).toMatch(/!macro customInstall\s+!insertmacro smtpRelayRegisterEventSource\s+!insertmacro smtpRelayImportConfig\s+!insertmacro relayServiceInstall\s+!macroend/);
  expect(nsh).toMatch(/!macro customUnInstall[\s\S]*!insertmacro relayServiceUnInstall[\s\S]*?!macroend/);

  // The same harness rejects a broken block (so a pass means something).
  const broken = await compile(nsh.replace('  ${endIf}\n!macroend\n\n; One customInstall', '!macroend\n\n; One customInstall'));
  expect(broken.out).not.toBe(r.out);
  expect(broken.code).not.toBe(0);
}, 60_000);

// Type-checks electron/ with 'electron' resolved to the stand-in (types.ts), against Electron's own
// electron.d.ts. That file also declares the ambient module 'electron', which TypeScript would prefer
// to any path mapping, so a copy without those five `declare module 'electron…'` blocks (the global
// `Electron` namespace stays, unchanged) goes to node_modules/.cache with a tsconfig that maps the
// specifier to the stand-in.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const root = path.resolve(import.meta.dirname, '..', '..', '..');

/** `tsc` output; '' when electron/ type-checks against the stand-in. */
export async function typecheckElectronAgainstStandin(): Promise<string> {
  const dir = path.join(root, 'node_modules', '.cache', 'electron-standin');
  await fs.mkdir(dir, { recursive: true });
  const dts = await fs.readFile(path.join(root, 'node_modules', 'electron', 'electron.d.ts'), 'utf8');
  const blocks = /^declare module 'electron(?:\/\w+)?' \{\n {2}export = Electron\.\w+;\n\}\n/gm;
  const stripped = dts.replace(blocks, '');
  if (dts.length - stripped.length === 0 || /declare module 'electron/.test(stripped)) throw new Error('electron.d.ts no longer declares its modules as expected: update typecheck.ts');
  await fs.writeFile(path.join(dir, 'electron-namespace.d.ts'), stripped);
  const config = {
    extends: path.join(root, 'tsconfig.json'),
    compilerOptions: { noEmit: true, paths: { electron: [path.join(root, 'test/support/electron-standin/electron.ts')] } },
    files: [path.join(dir, 'electron-namespace.d.ts')],
    include: [path.join(root, 'electron')],
  };
  await fs.writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify(config, null, 2));
  try {
    await promisify(execFile)(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(dir, 'tsconfig.json')], { cwd: root });
    return '';
  } catch (e) {
    const { stdout, stderr, message } = e as { stdout?: string; stderr?: string; message: string };
    return `${stdout ?? ''}${stderr ?? ''}` || message;
  }
}

// Module resolution for a process that runs electron/'s built code under Node: the bare specifier
// 'electron' (and 'electron/main', 'electron/utility') becomes the stand-in, and the stand-in's own
// files import `./x.js` or `../browser.js` (what tsc checks) while the files on disk are `.ts`
// (Node strips their types).
import { existsSync } from 'node:fs';
import type { ResolveHook } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = new URL('./', import.meta.url).href;
const standin = new URL('./electron.ts', import.meta.url).href;

export const resolve: ResolveHook = (specifier, context, next) => {
  if (specifier === 'electron' || specifier === 'electron/main' || specifier === 'electron/utility') {
    return { url: standin, format: 'module-typescript', shortCircuit: true };
  }
  if (context.parentURL?.startsWith(here) && /^\.\.?\//.test(specifier) && specifier.endsWith('.js')) {
    const ts = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (existsSync(fileURLToPath(ts))) return { url: ts.href, format: 'module-typescript', shortCircuit: true };
  }
  return next(specifier, context);
};

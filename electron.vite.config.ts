// electron-vite builds the three parts of the tray app into out/: main (ESM, dependencies loaded from
// node_modules at run time; with the embedded relay's process entry), preload (one CommonJS file with everything bundled in, as sandboxed
// preloads require), renderer (the React page, served from app://relay/).
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';

const root = import.meta.dirname;

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      // relay: the embedded relay's utility process (electron/relay-host.ts forks out/main/relay.js).
      rolldownOptions: { input: { main: resolve(root, 'electron/main.ts'), relay: resolve(root, 'src/host/utility-process.ts') } },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      externalizeDeps: false,
      rolldownOptions: {
        input: { preload: resolve(root, 'electron/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'renderer'),
    plugins: [react()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      rolldownOptions: { input: resolve(root, 'renderer/index.html') },
    },
  },
});

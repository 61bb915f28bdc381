import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const noElectron = {
  paths: [{ name: 'electron', message: 'Only electron/ may import Electron; keep logic in src/ testable under Node.' }],
  patterns: [{ group: ['electron/*'], message: 'Only electron/ may import Electron.' }],
};

/** Shared folders: they import only each other. */
const LEAVES = ['./src/config', './src/secrets', './src/log', './src/api', './src/mail', './src/net', './src/advice'];
/** Where mail travels (receive -> spool -> deliver) and what works on it. */
const FEATURES = ['./src/receive', './src/deliver', './src/diagnose', './src/oauth', './src/rewrite', './src/inject', './src/admin', './src/status'];

export default tseslint.config(
  { ignores: ['dist/', 'out/', 'release/', 'node_modules/', '.ci/node/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Type-aware rules: a promise nobody awaits or catches loses its error (and, in the relay, can lose
    // the order of spool writes); a cast the types already guarantee hides where a real one is needed.
    files: ['src/**/*.ts', 'test/**/*.ts', 'electron/**/*.ts', 'renderer/**/*.ts', 'renderer/**/*.tsx'],
    languageOptions: {
      parserOptions: { project: ['./tsconfig.json', './tsconfig.renderer.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
    },
  },
  {
    // Modules that import each other, directly or round a loop, cannot be understood or tested apart.
    files: ['src/**/*.ts', 'electron/**/*.ts', 'renderer/**/*.ts', 'renderer/**/*.tsx'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.tsx', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: ['tsconfig.json', 'tsconfig.renderer.json'], noWarnOnMultipleProjects: true })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    // The intended folder graph (docs/architecture.md, "Layers"): shared folders below, features above,
    // relay.ts only under the composition roots. `npm test` runs lint, so a new upward import fails it.
    files: ['src/**/*.ts'],
    rules: {
      'import-x/no-restricted-paths': ['error', {
        zones: [
          { target: LEAVES, from: FEATURES, message: 'config, secrets, log, api, mail, net and advice use no feature folder' },
          // spool/fsync.ts holds the durability rules of every file in the data directory, config.json's too.
          { target: LEAVES, from: './src/spool', except: ['./fsync.ts'], message: 'config, secrets, log, api, mail, net and advice use nothing of the spool but its fsync rules' },
          { target: './src/spool', from: FEATURES, message: 'the spool uses no feature folder' },
          { target: './src/oauth', from: ['./src/deliver', './src/diagnose', './src/status', './src/admin'], message: 'deliver and diagnose use oauth, not the other way round' },
          { target: './src/deliver', from: ['./src/receive', './src/diagnose', './src/status', './src/admin'], message: 'deliver shares only the spool and the config with receive' },
          { target: './src/receive', from: ['./src/deliver', './src/diagnose', './src/oauth', './src/inject', './src/status', './src/admin'], message: 'receive shares only the spool and the config with deliver' },
          { target: ['./src/inject', './src/rewrite'], from: ['./src/receive', './src/deliver', './src/diagnose', './src/oauth', './src/status', './src/admin'], message: 'inject and rewrite sit below receive and deliver' },
          { target: ['./src/diagnose', './src/admin'], from: './src/status', message: 'status gathers from the others; they do not use it' },
          { target: ['./src/!(cli|host)/**'], from: './src/relay.ts', message: 'only the composition roots (cli/, host/, electron/) import relay.ts' },
        ],
      }],
    },
  },
  {
    // The core must run headless (CLI, service, tests): only electron/ may touch Electron.
    files: ['src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', noElectron] },
  },
  {
    // The settings page runs sandboxed: it has window.relay and nothing of Node or Electron.
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: noElectron.paths,
        patterns: [...noElectron.patterns, { group: ['node:*'], message: 'The settings page has no Node: use window.relay.' }],
      }],
    },
  },
  {
    // Raw IPC only where window.relay is built (GitHub Desktop's rule): every other file goes through it.
    files: ['electron/**/*.ts'],
    ignores: ['electron/ipc.ts', 'electron/preload.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', importNames: ['ipcMain', 'ipcRenderer'], message: 'IPC goes through electron/ipc.ts and electron/preload.ts only.' }],
      }],
    },
  },
);

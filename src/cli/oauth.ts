// `smtp-relay oauth …`: the OAuth2 set-up from the command line (the settings window does the same
// through RelayApi). Secrets go from a file or the browser sign-in straight to the keychain.
import { readFile } from 'node:fs/promises';
import { Argument, type Command, type Option } from 'commander';
import type { OAuthSecretKind, OAuthStatus } from '../api/contract.js';
import type { RemoteRelay } from '../control/client.js';
import { loadConfig } from '../config/store.js';
import { openSystemBrowser } from '../oauth/open-browser.js';
import { signInWithBrowser } from '../oauth/setup.js';
import { KeychainStore } from '../secrets/keychain.js';
import { explainKeychainFailure } from './keychain-hint.js';

type Api = Omit<RemoteRelay, 'close' | 'onStatus' | 'onTestStep' | 'onClose'>;

export interface CliContext {
  dataDirOption: () => Option;
  dataDirOf: (opts: { dataDir?: string }) => string;
  withRelay: <T>(dataDir: string, fn: (api: Api, running: boolean) => Promise<T>) => Promise<T>;
}

function printOAuthStatus(s: OAuthStatus): void {
  if (!s.method) return void process.stdout.write('smarthost.auth.method is not an OAuth2 method ("oauth2-microsoft" or "oauth2-google")\n');
  const lines = [`method:      ${s.method}, credential ${s.credential}`];
  for (const secret of s.secrets) {
    lines.push(`${`${secret.kind}:`.padEnd(16)} ${secret.stored ? 'stored' : 'NOT STORED'}${secret.detail ? ` (${secret.detail})` : ''}${secret.account ? `  [keychain account ${secret.account}]` : ''}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

export function addOAuthCommands(program: Command, ctx: CliContext): void {
  const oauth = program.command('oauth').description('OAuth2 for Microsoft 365 and Gmail: secrets in the keychain, browser sign-in, set-up steps');
  const sub = (name: string, description: string) => oauth.command(name).description(description).addOption(ctx.dataDirOption());

  sub('status', 'which OAuth2 secrets the configured credential needs, and whether they are stored').action(async (o) => {
    printOAuthStatus(await ctx.withRelay(ctx.dataDirOf(o), (api) => api.getOAuthStatus()));
  });

  sub('checklist', 'the steps to do at Microsoft or Google for the configured method').action(async (o) => {
    const s = await ctx.withRelay(ctx.dataDirOf(o), (api) => api.getOAuthStatus());
    if (!s.method) return printOAuthStatus(s);
    process.stdout.write(s.checklist.map((step, i) => `${i + 1}. ${step}`).join('\n') + '\n');
  });

  const importFile = (name: string, kind: OAuthSecretKind, what: string) =>
    sub(name, `store ${what} in the keychain (the file can be deleted afterwards)`).argument('<file>').action(async (file: string, o) => {
      const content = await readFile(file, 'utf8');
      printOAuthStatus(await explainKeychainFailure(ctx.withRelay(ctx.dataDirOf(o), (api) => api.setOAuthSecret(kind, content))));
    });
  importFile('import-certificate', 'certificate', 'a certificate with its private key (PEM) for oauth2-microsoft');
  importFile('import-key', 'service-account', 'a Google service account\'s JSON key for oauth2-google');

  sub('login', 'Google installed app: sign in once in the browser; the refresh token goes to the keychain')
    .option('--no-browser', 'only print the address to open').action(async (o: { dataDir?: string; browser: boolean }) => {
      const dataDir = ctx.dataDirOf(o);
      // The sign-in runs here, where the admin's browser is, even when the relay runs as a service.
      const token = await signInWithBrowser(await loadConfig(dataDir), new KeychainStore(), process.env, {
        openBrowser: o.browser ? openSystemBrowser : async () => {},
        onUrl: (url) => process.stdout.write(`Sign in at this address (${o.browser ? 'opening the browser' : 'open it in a browser on this computer'}):\n${url}\nwaiting for the sign-in…\n`),
      });
      printOAuthStatus(await explainKeychainFailure(ctx.withRelay(dataDir, (api) => api.setOAuthSecret('refresh-token', token))));
    });

  sub('delete', 'remove a stored OAuth2 secret').addArgument(new Argument('<kind>').choices(['certificate', 'service-account', 'refresh-token'])).action(async (kind: OAuthSecretKind, o) => {
    const deleted = await ctx.withRelay(ctx.dataDirOf(o), (api) => api.deleteOAuthSecret(kind));
    process.stdout.write(deleted ? `${kind} removed\n` : `no ${kind} was stored\n`);
  });
}

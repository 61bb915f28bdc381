// test-connection: walks the way to the smarthost one step at a time (DNS, TCP, TLS, banner, EHLO,
// STARTTLS with the certificate, AUTH) and reports each step's outcome, timing and the server's exact
// reply, so an admin sees where it breaks and why. It never sends mail (no MAIL FROM).
import dns from 'node:dns/promises';
import net from 'node:net';
import tls from 'node:tls';
import type { ConnectionStep, StepName, TestConnectionResult } from '../api/contract.js';
import type { Config } from '../config/schema.js';
import { readCaFile } from '../config/ca-file.js';
import { describeTls, dnsFamily, heloName } from '../config/outbound.js';
import { authExchange, preferredMechanism } from '../deliver/auth-exchange.js';
import { adviceFor, type AdviceContext } from '../advice/catalogue.js';
import { SmtpProbe, type Reply } from './smtp-probe.js';

export interface TestCredentials {
  user: string;
  /** A password (LOGIN, PLAIN, CRAM-MD5) … */
  pass?: string;
  /** … or an OAuth2 access token (XOAUTH2). */
  token?: string;
  /** Why neither could be read (the OS keychain failed): the auth step says this, not "none stored". */
  unreadable?: string;
}

export interface TestOptions {
  /** Per step; default 15 s. */
  timeoutMs?: number;
  /** Called as each step ends, for live display. */
  onStep?: (step: ConnectionStep) => void;
}

class StepFailed extends Error {}

export async function testConnection(config: Config, credentials: TestCredentials | null, opts: TestOptions = {}): Promise<TestConnectionResult> {
  const { host, port, security, verifyCertificate, caFile, auth } = config.smarthost;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const steps: ConnectionStep[] = [];
  const target = `${host}:${port} (${describeTls({ security, verifyCertificate, caFile })}${auth.method !== 'none' ? `, AUTH as ${auth.username}` : ''})`;
  // A holder, not a `let`: TypeScript does not see assignments made inside the step callbacks.
  const opened: { probe: SmtpProbe | null } = { probe: null };

  const warnings: string[] = [];
  /** Runs one step; a throw or a false `ok` ends the test there. */
  const step = async (name: StepName, run: () => Promise<StepResult>) => {
    const started = performance.now();
    let result: StepResult;
    try {
      result = await run();
    } catch (e) {
      result = { ok: false, detail: (e as Error).message };
    }
    const done: ConnectionStep = {
      step: name, ok: result.ok, ms: Math.round(performance.now() - started), detail: result.detail,
      ...(result.reply ? { reply: result.reply } : {}), ...(result.skipped ? { skipped: true } : {}),
    };
    steps.push(done);
    opts.onStep?.(done);
    if (!result.ok) throw new StepFailed(result.reply ?? result.detail);
  };

  try {
    if (!host) throw new StepFailed('no smarthost configured (smarthost.host is empty)');
    const ca = caFile ? [...tls.rootCertificates, readCaFile(caFile)] : undefined;
    // Certificate problems are reported by certificateCheck rather than refused by the handshake.
    const tlsOptions: tls.ConnectionOptions = { rejectUnauthorized: false, minVersion: 'TLSv1.2', ca, ...(net.isIP(host) ? {} : { servername: host }) };
    let address = host;
    await step('dns', async () => {
      if (net.isIP(host)) return { ok: true, detail: `${host} is an address` };
      const all = await dns.lookup(host, { family: dnsFamily(config), all: true });
      address = all[0]?.address ?? '';
      return { ok: all.length > 0, detail: `${host} -> ${all.map((a) => a.address).join(', ')}` };
    });
    await step('tcp', async () => {
      opened.probe = await SmtpProbe.connect(address, port, timeoutMs, security === 'tls' ? tlsOptions : undefined);
      return { ok: true, detail: `connected to ${address}:${port}` };
    });
    const p = opened.probe;
    if (!p) throw new StepFailed('no connection');
    if (security === 'tls') await step('tls', async () => certificateCheck(p.tlsSocket as tls.TLSSocket, host, verifyCertificate));
    await step('banner', async () => replyStep(await p.reply(), 220));
    const helo = heloName(config);
    let ehlo = await ehloStep(step, p, helo);
    const offersTls = /^\d{3}[- ]STARTTLS\b/im.test(ehlo.text);
    const signsIn = auth.method !== 'none';
    const secret = auth.method === 'password' ? 'password' : 'OAuth2 token';
    // What the relay does (smarthost.ts): STARTTLS whenever TLS is required, or offered, or a login
    // depends on it (sent even when not advertised, so a stripped EHLO reply changes nothing).
    let encrypted = security === 'tls';
    let noTlsReason = security === 'none' ? 'security is "none"' : '';
    if (security === 'starttls' || (security === 'opportunistic' && (offersTls || signsIn))) {
      await step('starttls', async () => {
        const r = await p.command('STARTTLS');
        if (r.code !== 220) {
          const what = offersTls ? `the server refused STARTTLS although it offered it` : 'the server does not offer STARTTLS on this port';
          if (security === 'starttls') {
            const answer = `it answered STARTTLS with "${r.text.replace(/\n/g, ' ')}"`;
            // Worded for the advice catalogue ("TLS is required, but was not offered") when it was not offered.
            return offersTls
              ? { ok: false, detail: `${what}: TLS is required (security "starttls"); nothing else was sent`, reply: r.text }
              : { ok: false, detail: `${what} (${answer}): TLS is required, but was not offered; nothing else was sent` };
          }
          noTlsReason = offersTls ? 'the server refused STARTTLS' : 'the server did not offer STARTTLS';
          return { ok: true, skipped: true, detail: `TLS not used: ${what}; the connection stays unencrypted (security "opportunistic")`, reply: r.text };
        }
        const checked = certificateCheck(await p.startTls(tlsOptions), host, verifyCertificate);
        encrypted = checked.ok;
        return checked;
      });
      if (encrypted) ehlo = await ehloStep(step, p, helo);
    } else if (security === 'opportunistic') {
      noTlsReason = 'the server did not offer STARTTLS';
      await step('starttls', async () => ({ ok: true, skipped: true, detail: 'TLS not used: the server does not offer STARTTLS; the connection stays unencrypted (security "opportunistic")' }));
    }
    if (signsIn) {
      await step('auth', async () => {
        if (credentials?.unreadable) return { ok: false, detail: credentials.unreadable };
        if (!encrypted && security !== 'none') {
          return {
            ok: false, skipped: true,
            detail: `AUTH not sent: ${noTlsReason}, so the ${secret} was not sent over an unencrypted connection. The relay delivers without signing in if the server takes mail that way, else the mail waits. ` +
              'Use a server or port that offers STARTTLS, or choose security "none" to send it unencrypted on purpose.',
          };
        }
        if (!credentials || (!credentials.pass && !credentials.token)) return { ok: false, detail: 'no password or token is stored for this account' };
        const result = await login(p, ehlo.text, auth.mechanism, credentials);
        if (!encrypted) {
          const warning = `the ${secret} crossed the network unencrypted (security "none"): anyone on the path can read it`;
          warnings.push(warning);
          result.detail += `; ${warning}`;
        }
        return result;
      });
    }
    return finish(target, steps, null, { method: auth.method, smarthost: { host, port } }, { encrypted, signedIn: signsIn, verified: verifyCertificate, warnings });
  } catch (e) {
    return finish(target, steps, e instanceof StepFailed ? e.message : (e as Error).message, { method: auth.method, smarthost: { host, port } }, { encrypted: false, signedIn: false, verified: false, warnings });
  } finally {
    opened.probe?.close();
  }
}

interface StepResult {
  ok: boolean;
  detail: string;
  reply?: string;
  skipped?: boolean;
}

/** The outcome in words that claim only what happened: no "TLS" without a handshake, no "accepted" without a login; the advice names the configured host and port. */
function finish(target: string, steps: ConnectionStep[], failure: string | null, context: AdviceContext, done: { encrypted: boolean; signedIn: boolean; verified: boolean; warnings: string[] }): TestConnectionResult {
  const failed = steps.find((s) => !s.ok) ?? null;
  const warnings = done.warnings.length ? { warnings: done.warnings } : {};
  if (failure === null) {
    const tls = done.encrypted ? `TLS in use (certificate ${done.verified ? 'verified' : 'NOT verified'})` : 'NO TLS: the connection is unencrypted';
    const login = done.signedIn ? '; signed in' : '; no sign-in configured';
    return { ok: true, target, steps, failedStep: null, advice: null, message: `connected; ${tls}${login} (no mail was sent)${done.warnings.map((w) => `; WARNING: ${w}`).join('')}`, ...warnings };
  }
  return { ok: false, target, steps, failedStep: failed?.step ?? null, advice: adviceFor(failure, context), message: `${failed ? `${failed.step}: ` : ''}${failure}`, ...warnings };
}

function replyStep(r: Reply, expected: number): { ok: boolean; detail: string; reply: string } {
  return { ok: r.code === expected, detail: r.code === expected ? r.text.split('\n')[0] as string : `expected ${expected}`, reply: r.text };
}

async function ehloStep(step: (n: StepName, run: () => Promise<StepResult>) => Promise<void>, p: SmtpProbe, helo: string): Promise<Reply> {
  let reply: Reply = { code: 0, text: '' };
  await step('ehlo', async () => {
    reply = await p.command(`EHLO ${helo}`);
    if (reply.code !== 250) return replyStep(reply, 250);
    const ext = reply.text.split('\n').slice(1).map((l) => l.slice(4));
    const mechs = ext.find((e) => /^AUTH[ =]/i.test(e))?.slice(5) ?? 'none offered';
    return { ok: true, detail: `extensions: ${ext.join(', ') || 'none'}; AUTH mechanisms: ${mechs}`, reply: reply.text };
  });
  return reply;
}

/** Protocol, cipher and the certificate: subject, issuer, expiry, and whether it is trusted for `host`. */
function certificateCheck(s: tls.TLSSocket, host: string, verify: boolean): { ok: boolean; detail: string } {
  const cert = s.getPeerCertificate();
  const nameError = tls.checkServerIdentity(host, cert);
  const trusted = s.authorized && !nameError;
  const problem = !s.authorized ? String(s.authorizationError) : nameError?.message;
  const detail = `${s.getProtocol()}, ${s.getCipher().name}; certificate ${cert.subject?.CN ?? '?'} issued by ${cert.issuer?.O ?? cert.issuer?.CN ?? '?'}, ` +
    `valid until ${cert.valid_to}; ${trusted ? `trusted for ${host}` : `NOT trusted: ${problem}`}`;
  return { ok: trusted || !verify, detail: trusted || !verify ? detail : `${problem} (${detail})` };
}

/** AUTH with the mechanism the relay would use: a forced one, or LOGIN before PLAIN (Microsoft 365). */
async function login(p: SmtpProbe, ehlo: string, mechanism: Config['smarthost']['auth']['mechanism'], c: TestCredentials): Promise<{ ok: boolean; detail: string; reply: string }> {
  const offered = (/^\d{3}[- ]AUTH[ =](.*)$/im.exec(ehlo)?.[1] ?? '').toUpperCase().split(/\s+/).filter(Boolean);
  const pick = c.token ? 'XOAUTH2' : mechanism !== 'auto' ? mechanism : preferredMechanism(offered);
  if (!pick) return { ok: false, detail: `the server offered no supported AUTH mechanisms: ${offered.join(' ') || 'none'}`, reply: ehlo };
  const r = await authExchange((line) => p.command(line), pick, c);
  return { ok: r.code === 235, detail: r.code === 235 ? `logged in as ${c.user} with ${pick}` : `AUTH ${pick} refused`, reply: r.text };
}

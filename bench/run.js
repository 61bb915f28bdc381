// `npm run bench`: our relay and a private Postfix side by side (issue 9). Not a test: it takes about
// ten minutes, needs Debian's postfix package and root (for Postfix), and installs nothing itself.
//
//   npm run bench                       every scenario, both relays; writes bench/results.json and docs/benchmarks.md
//   npm run bench -- --quick            a tenth of the load, for trying it out (writes bench/results.quick.json only;
//                                       any other partial run writes bench/results.partial.json)
//   npm run bench -- --only relay       our relay alone (no root or Postfix needed; no ratios)
//   npm run bench -- --scenarios throughput,latency     some scenarios only
//   npm run bench -- --backlog 100000   force the backlog size (by default it is scaled to fit the time)
//   npm run bench -- --note "text"      a line for docs/benchmarks.md (e.g. what else ran on the machine)
//   BENCH_RELAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench -- ...   profile our relay
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PrivatePostfix } from './lib/postfix.js';
import { freePort, run } from './lib/proc.js';
import { OurRelay } from './lib/relay.js';
import { rows, table, writeMarkdown, writeReadmeHeadline } from './lib/report.js';
import { SmtpSink } from './lib/sink.js';
import { INSTALL_HINT, checkTools, isRoot } from './lib/tools.js';
import { backlog } from './scenarios/backlog.js';
import { crashLoop } from './scenarios/crash.js';
import { latency } from './scenarios/latency.js';
import { perConnection } from './scenarios/per-connection.js';
import { throughput } from './scenarios/throughput.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUDGET_SECONDS = 630; // "about ten minutes"

const SCENARIOS = { throughput, latency, perConnection, crash: crashLoop, backlog };

function plan(quick) {
  const q = (n) => (quick ? Math.max(1, Math.round(n / 10)) : n);
  return {
    connections: 10,
    throughput: { messages: q(5000), sessions: 10, size: 5000, idleWaitMs: quick ? 2000 : 5000 },
    latency: { size: 5000, warmup: 50, runs: [{ sessions: 1, perSession: q(500) }, { sessions: 10, perSession: q(200) }] },
    perConnection: { messages: q(2000), size: 5000, sessionCounts: [1, 10], timeLimitMs: 30_000 },
    crash: { kills: quick ? 5 : 20, senders: 4, minUpMs: 300, maxUpMs: 1200, drainTimeoutMs: 120_000 },
    backlog: { messages: q(100_000), sessions: 20, size: 2000, settleMs: 3000, reason: '' },
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      scenarios: { type: 'string' },
      backlog: { type: 'string' },
      note: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    const head = (await fs.readFile(fileURLToPath(import.meta.url), 'utf8')).split('\n').filter((l) => l.startsWith('//')).join('\n');
    console.log(head.replace(/^\/\/ ?/gm, ''));
    return 0;
  }
  const systems = values.only ? values.only.split(',') : ['relay', 'postfix'];
  const wanted = values.scenarios ? values.scenarios.split(',') : Object.keys(SCENARIOS);
  for (const s of wanted) if (!SCENARIOS[s]) return usage(`unknown scenario "${s}" (${Object.keys(SCENARIOS).join(', ')})`);
  for (const s of systems) if (!['relay', 'postfix'].includes(s)) return usage(`--only takes relay and/or postfix, not "${s}"`);

  const { found, missing } = checkTools(systems.includes('postfix') ? undefined : ['smtp-source', 'smtp-sink']);
  if (missing.length) {
    console.error(`The bench needs ${missing.join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not installed.\n\n${INSTALL_HINT}`);
    return 1;
  }
  if (systems.includes('postfix') && !isRoot()) {
    console.error('Postfix must be started as root (its master runs as root, its daemons as "postfix"): run the bench with sudo,\nor measure our relay alone with: npm run bench -- --only relay');
    return 1;
  }
  try {
    await fs.access(path.join(ROOT, 'dist/cli/main.js'));
  } catch {
    console.error('dist/ is missing: run "npm run build" first (the bench runs the compiled relay).');
    return 1;
  }

  const p = plan(values.quick);
  const started = performance.now();
  const machine = await describeMachine();
  const log = (msg) => console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}`);
  const [relayPort, postfixPort, sinkPort] = [await freePort(), await freePort(), await freePort()];
  const impl = {
    relay: new OurRelay({ port: relayPort, sinkPort, connections: p.connections, nodeArgs: (process.env.BENCH_RELAY_NODE_ARGS ?? '').split(' ').filter(Boolean) }),
    postfix: new PrivatePostfix({ tools: found, port: postfixPort, sinkPort, connections: p.connections }),
  };
  const ctx = { plan: p, tools: found, sinkPort, log, newSink: () => new SmtpSink(found['smtp-sink'], sinkPort) };
  const results = Object.fromEntries(systems.map((s) => [s, {}]));
  const cleanup = async () => { for (const s of systems) await impl[s].cleanup().catch(() => {}); };
  // Never leave a Postfix instance or a relay running behind us, whatever happens.
  process.once('SIGINT', () => { void cleanup().then(() => process.exit(130)); });
  process.once('uncaughtException', (e) => {
    console.error(e);
    void cleanup().then(() => process.exit(1));
  });

  try {
    for (const name of wanted) {
      if (name === 'backlog') sizeBacklog(p, values.backlog, results, systems, (performance.now() - started) / 1000, wanted);
      for (const s of systems) {
        log(`${name}: ${impl[s].name}${name === 'backlog' ? ` (${p.backlog.messages.toLocaleString('en-US')} messages)` : ''}`);
        try {
          results[s][name] = await SCENARIOS[name](ctx, impl[s]);
          log(`  ${summary(name, results[s][name])}`);
        } catch (e) {
          log(`  FAILED: ${e.stack ?? e.message}`);
          results[s][name] = { error: e.message };
        }
      }
    }
  } finally {
    await cleanup();
  }

  const seconds = (performance.now() - started) / 1000;
  machine.loadAfter = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const runInfo = {
    date: new Date().toISOString(), seconds, machine, plan: p, options: process.argv.slice(2),
    versions: {
      relay: await impl.relay.version(), postfix: systems.includes('postfix') ? await impl.postfix.version() : 'not run',
      smtpServer: await pkgVersion('smtp-server'), nodemailer: await pkgVersion('nodemailer'),
    },
    results,
  };
  if (values.note) machine.sharedNote = [machine.sharedNote, values.note].filter(Boolean).join(' ');
  const list = rows({ relay: results.relay ?? {}, postfix: results.postfix ?? {} });
  console.log(`\n${table(list)}\n`);
  const failures = Object.entries(results).flatMap(([s, r]) => Object.entries(r).filter(([, v]) => v.error).map(([n, v]) => `${s} ${n}: ${v.error}`));
  if (failures.length) console.log(`Scenarios that failed:\n  ${failures.join('\n  ')}\n`);

  // Only a complete run replaces bench/results.json and the documents; a partial one keeps its own file.
  const complete = !values.quick && !values.only && !values.scenarios && failures.length === 0;
  const json = path.join(ROOT, 'bench', complete ? 'results.json' : values.quick ? 'results.quick.json' : 'results.partial.json');
  await fs.writeFile(json, JSON.stringify({ ...runInfo, rows: list }, null, 2) + '\n');
  console.log(`wrote ${path.relative(ROOT, json)}`);
  if (complete) {
    await writeMarkdown(path.join(ROOT, 'docs/benchmarks.md'), runInfo, list);
    console.log('wrote docs/benchmarks.md');
    if (await writeReadmeHeadline(path.join(ROOT, 'README.md'), runInfo, list)) console.log('updated the headline figures in README.md');
  } else {
    console.log('docs/benchmarks.md is written only by a complete run (both relays, every scenario, not --quick, no failure)');
  }
  console.log(`done in ${seconds.toFixed(0)} s`);
  return failures.length ? 1 : 0;
}

/**
 * The backlog is the longest scenario: inject N, then drain N, for each relay. Unless --backlog says
 * otherwise it is 100,000 when that fits the ten-minute budget, judged by the rates measured in (1),
 * and otherwise scaled down (to a multiple of 10,000), the reason recorded for the report.
 * Its 2 KB messages over 20 sessions move faster than the 5 KB ones of (1): measured, injecting and
 * draining one costs about BACKLOG_COST_FACTOR of (1 / accept rate + 1 / end-to-end rate) of (1).
 */
const BACKLOG_COST_FACTOR = 0.65;

function sizeBacklog(p, forced, results, systems, elapsed, wanted) {
  if (forced) {
    p.backlog.messages = Number(forced);
    p.backlog.reason = 'as asked (--backlog)';
    return;
  }
  const full = p.backlog.messages;
  const rates = systems.map((s) => results[s].throughput).filter((t) => t && !t.error);
  if (rates.length < systems.length || !wanted.includes('throughput')) return;
  const secondsPerMessage = BACKLOG_COST_FACTOR * rates.reduce((sum, t) => sum + 1 / t.acceptRate + 1 / t.endToEndRate, 0);
  const left = BUDGET_SECONDS - elapsed - 20 * systems.length; // start, settle, restart, flush per relay
  const fits = Math.floor(left / secondsPerMessage / 10_000) * 10_000;
  if (fits >= full) return;
  p.backlog.messages = Math.max(10_000, fits);
  p.backlog.reason = `because 100,000 would not fit the ten-minute budget at the rates measured in (1) (about ${Math.round(full * secondsPerMessage)} s to inject and drain for both relays, ${Math.max(0, Math.round(left))} s left); run \`npm run bench -- --backlog 100000\` for the full size`;
}

function summary(name, r) {
  const f = (v, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : '–');
  switch (name) {
    case 'throughput': return `accept ${f(r.acceptRate)} msg/s, end-to-end ${f(r.endToEndRate)} msg/s, peak ${f(r.memory.peakRss / 1048576, 1)} MB, idle ${f(r.memory.idleRss / 1048576, 1)} MB`;
    case 'latency': return Object.values(r).map((x) => `${x.sessions} session(s): p50 ${f(x.p50, 2)} ms, p99 ${f(x.p99, 2)} ms`).join('; ');
    case 'perConnection': return Object.values(r).map((x) => `${x.sessions} session(s): ${f(x.rate)} msg/s${x.timedOut ? ` (time cap: ${x.messages} sent)` : ''}`).join('; ');
    case 'crash': return `${r.acknowledged} acknowledged, ${r.lost} lost, ${r.duplicates} duplicates, ${r.wronglyDelivered} wrongly delivered, ${r.damaged} damaged`;
    case 'backlog': return `inject ${f(r.injectRate)} msg/s, rest ${f(r.restRss / 1048576, 1)} MB, restart ${f(r.restartReadySeconds, 2)} s, drain ${f(r.drainRate)} msg/s`;
    default: return '';
  }
}

async function describeMachine() {
  const cpus = os.cpus();
  const load = os.loadavg();
  const df = await run('df', ['-T', os.tmpdir()]);
  const fsLine = df.stdout.trim().split('\n')[1]?.split(/\s+/) ?? [];
  const machine = {
    cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memoryGB: os.totalmem() / 1024 ** 3,
    os: `${os.type()} ${os.release()}`, disk: fsLine.length ? `${fsLine[1]} on ${fsLine[0]}` : 'unknown',
    loadBefore: load.map((x) => x.toFixed(2)).join(' '), loadAfter: '', sharedNote: '',
  };
  if (load[0] > 0.25 * cpus.length) {
    machine.sharedNote = `the machine was not idle when the run started (1-minute load average ${load[0].toFixed(2)} on ${cpus.length} cores): other work shared the CPUs and the disk, which lowers and scatters the absolute figures for both relays alike.`;
  }
  return machine;
}

async function pkgVersion(name) {
  const pkg = JSON.parse(await fs.readFile(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8'));
  return pkg.version;
}

function usage(message) {
  console.error(`${message}\nnpm run bench -- --help for the options`);
  return 2;
}

process.exitCode = await main();

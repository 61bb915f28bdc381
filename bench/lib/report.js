// Turning the measurements into rows (ours, Postfix's, their ratio, the target), a console table,
// bench/results.json and docs/benchmarks.md. Nothing here is a number of its own: every figure comes
// from the results object the scenarios returned.
import fs from 'node:fs/promises';

const MB = 1024 * 1024;

/**
 * Each row: label, unit, ours, postfix, `better` ('higher' | 'lower'), an optional target on ours
 * ({ ours: (v) => bool, text }) or on the ratio ({ ratio: (r) => bool, text }).
 */
export function rows(r) {
  const out = [];
  const add = (section, label, unit, pick, better, target = null, digits = 0) => {
    const ours = safe(() => pick(r.relay));
    const postfix = safe(() => pick(r.postfix));
    const ratio = Number.isFinite(ours) && Number.isFinite(postfix) && postfix !== 0 ? ours / postfix : null;
    let met = null;
    if (target?.ours && Number.isFinite(ours)) met = target.ours(ours);
    if (target?.ratio && ratio !== null) met = target.ratio(ratio);
    out.push({ section, label, unit, ours, postfix, ratio, better, target: target?.text ?? '', met, digits });
  };
  const t = (s) => s.throughput;
  add('1 throughput', 'accept rate (5,000 × 5 KB, 10 sessions)', 'msg/s', (s) => t(s).acceptRate, 'higher');
  add('1 throughput', 'end-to-end rate (until the sink has all)', 'msg/s', (s) => t(s).endToEndRate, 'higher', { ratio: (x) => x >= 1.5, text: '≥ 1.5 × Postfix' });
  add('1 throughput', 'CPU time per message (relay processes, user + system)', 'ms', (s) => t(s).cpuMsPerMessage, 'lower', null, 2);
  const l = (s, n) => s.latency[n];
  add('2 latency', 'accept latency p50, 1 session', 'ms', (s) => l(s, 1).p50, 'lower', { ratio: (x) => x <= 1.5, text: '≤ 1.5 × Postfix' }, 2);
  add('2 latency', 'accept latency p99, 1 session', 'ms', (s) => l(s, 1).p99, 'lower', null, 2);
  add('2 latency', 'accept latency p50, 10 sessions', 'ms', (s) => l(s, 10).p50, 'lower', null, 2);
  add('2 latency', 'accept latency p99, 10 sessions', 'ms', (s) => l(s, 10).p99, 'lower', { ratio: (x) => x <= 1, text: '≤ 1 × Postfix' }, 2);
  add('3 memory', 'idle after start, before (1)', 'MB', (s) => t(s).memory.startRss / MB, 'lower', { ours: (v) => v <= 60, text: '≤ 60 MB' }, 1);
  add('3 memory', 'peak during (1)', 'MB', (s) => t(s).memory.peakRss / MB, 'lower', { ours: (v) => v <= 100, text: '≤ 100 MB' }, 1);
  add('3 memory', `idle after (1)`, 'MB', (s) => t(s).memory.idleRss / MB, 'lower', { ours: (v) => v <= 80, text: '≤ 80 MB' }, 1);
  add('3 memory', 'peak during (1); Postfix by PSS', 'MB', (s) => (s === r.relay ? t(s).memory.peakRss : t(s).memory.peakPss) / MB, 'lower', null, 1);
  add('3 memory', 'idle after (1); Postfix by PSS', 'MB', (s) => (s === r.relay ? t(s).memory.idleRss : t(s).memory.idlePss) / MB, 'lower', null, 1);
  const b = (s) => s.backlog;
  const n = r.relay?.backlog?.messages ?? r.postfix?.backlog?.messages ?? 0;
  const bl = `${n.toLocaleString('en-US')} queued`;
  add('4 backlog', `inject rate (${bl.replace(' queued', '')} × 2 KB, sink down)`, 'msg/s', (s) => b(s).injectRate, 'higher');
  add('4 backlog', `memory at rest, ${bl}`, 'MB', (s) => b(s).restRss / MB, 'lower', { ours: (v) => v <= 100, text: '≤ 100 MB' }, 1);
  add('4 backlog', `memory after restart, ${bl}`, 'MB', (s) => b(s).restartedRss / MB, 'lower', { ours: (v) => v <= 100, text: '≤ 100 MB' }, 1);
  add('4 backlog', `memory peak while draining`, 'MB', (s) => b(s).drainPeakRss / MB, 'lower', { ours: (v) => v <= 100, text: '≤ 100 MB' }, 1);
  const pss = (s, rss, pssKey) => (s === r.relay ? b(s)[rss] : b(s)[pssKey]) / MB;
  add('4 backlog', 'memory at rest; Postfix by PSS', 'MB', (s) => pss(s, 'restRss', 'restPss'), 'lower', null, 1);
  add('4 backlog', 'memory after restart; Postfix by PSS', 'MB', (s) => pss(s, 'restartedRss', 'restartedPss'), 'lower', null, 1);
  add('4 backlog', 'memory peak while draining; Postfix by PSS', 'MB', (s) => pss(s, 'drainPeakRss', 'drainPeakPss'), 'lower', null, 1);
  add('4 backlog', `restart to ready (first 220), ${bl}`, 's', (s) => b(s).restartReadySeconds, 'lower', { ours: (v) => v <= 2, text: '≤ 2 s' }, 2);
  add('4 backlog', `graceful stop, ${bl}`, 's', (s) => b(s).stopSeconds, 'lower', null, 2);
  add('4 backlog', 'drain rate once the sink is up', 'msg/s', (s) => b(s).drainRate, 'higher', { ours: (v) => v >= 1000, text: '≥ 1,000 msg/s' });
  const p = (s, k) => s.perConnection[k];
  add('5 one connection per message', 'rate, 1 session', 'msg/s', (s) => p(s, 1).rate, 'higher', { ratio: (x) => x >= 1, text: '≥ 1 × Postfix' });
  add('5 one connection per message', 'rate, 10 sessions', 'msg/s', (s) => p(s, 10).rate, 'higher', { ratio: (x) => x >= 1, text: '≥ 1 × Postfix' });
  const c = (s) => s.crash;
  add('6 crash loop', 'acknowledged (got 250)', 'msgs', (s) => c(s).acknowledged, 'info');
  add('6 crash loop', 'lost (acknowledged, never delivered)', 'msgs', (s) => c(s).lost, 'lower', { ours: (v) => v === 0, text: '0' });
  add('6 crash loop', 'delivered more than once', 'msgs', (s) => c(s).duplicates, 'lower');
  add('6 crash loop', 'reply lost in the crash (may go either way)', 'msgs', (s) => c(s).replyLost, 'info');
  add('6 crash loop', 'refused or cut off, yet delivered', 'msgs', (s) => c(s).wronglyDelivered, 'lower', { ours: (v) => v === 0, text: '0' });
  add('6 crash loop', 'delivered damaged', 'msgs', (s) => c(s).damaged, 'lower', { ours: (v) => v === 0, text: '0' });
  return out.filter((row) => Number.isFinite(row.ours) || Number.isFinite(row.postfix));
}

function safe(fn) {
  try {
    const v = fn();
    return typeof v === 'number' ? v : NaN;
  } catch {
    return NaN;
  }
}

export function fmt(v, digits = 0) {
  if (!Number.isFinite(v)) return '–';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtRatio(row) {
  if (row.ratio === null || row.better === 'info') return '';
  return `${row.ratio >= 10 ? fmt(row.ratio, 0) : fmt(row.ratio, 2)}×`;
}

function verdict(row) {
  if (row.met === null) return row.target ? 'n/a' : '';
  return row.met ? 'met' : 'MISSED';
}

/** The console table. */
export function table(list) {
  const head = ['scenario / figure', 'unit', 'ours', 'Postfix', 'ours÷Postfix', 'target', ''];
  const body = list.map((r) => [`${r.section}: ${r.label}`, r.unit, fmt(r.ours, r.digits), fmt(r.postfix, r.digits), fmtRatio(r), r.target, verdict(r)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** docs/benchmarks.md: generated from the results; a hand-written notes block between the markers is kept. */
export async function writeMarkdown(file, run, list) {
  const previous = await fs.readFile(file, 'utf8').catch(() => '');
  const notes = /<!-- notes:begin -->[\s\S]*?<!-- notes:end -->/.exec(previous)?.[0]
    ?? '<!-- notes:begin -->\n_No notes yet._\n<!-- notes:end -->';
  const m = run.machine;
  const tableRows = list.map((r) => `| ${r.section} | ${r.label} | ${r.unit} | ${fmt(r.ours, r.digits)} | ${fmt(r.postfix, r.digits)} | ${fmtRatio(r)} | ${r.target} | ${verdict(r)} |`);
  const scaled = run.plan.backlog.messages < 100_000
    ? `\n> **Backlog scaled down:** ${run.plan.backlog.messages.toLocaleString('en-US')} messages instead of 100,000, ${run.plan.backlog.reason}. Rates and restart time are per message or per queue of that size; memory at 100k is not measured in this run.\n`
    : '';
  const text = `# Benchmarks: SMTP Relay Tray side by side with Postfix

Generated by \`npm run bench\` (bench/run.js) on ${run.date.slice(0, 16).replace('T', ' ')} UTC; every figure below comes from that run
(also in \`bench/results.json\`). Do not edit the tables by hand: run the bench again.

## Machine and versions

| | |
|---|---|
| CPU | ${m.cpu} × ${m.cores} |
| memory | ${fmt(m.memoryGB, 1)} GB |
| OS | ${m.os} |
| disk (the temp folder the queues are in) | ${m.disk} |
| load average (1, 5, 15 min) before / after the run | ${m.loadBefore} / ${m.loadAfter} (threads waiting on fsync count too, so the bench raises it itself) |
| SMTP Relay Tray | ${run.versions.relay}; smtp-server ${run.versions.smtpServer}, nodemailer ${run.versions.nodemailer} |
| Postfix | ${run.versions.postfix} |
| run time | ${fmt(run.seconds, 0)} s${run.options.length ? ` (options: ${run.options.join(' ')})` : ''} |
${m.sharedNote ? `\n> **Shared machine:** ${m.sharedNote}\n` : ''}${scaled}
## Results

"ours÷Postfix" is our figure divided by Postfix's: above 1 means more for rates and counts, and for
memory, latency and times (where lower is better) above 1 means we need more. Targets are those of
issue 14; "met" / "MISSED" is computed from the figures.

| scenario | figure | unit | ours | Postfix | ours÷Postfix | target | |
|---|---|---|---:|---:|---:|---|---|
${tableRows.join('\n')}

## How the figures are made

Both relays run on this machine in the same run, one after the other, with the same clients and the
same upstream, configured as the same relay: listening on 127.0.0.1, accepting from 127.0.0.0/8,
forwarding everything to one smarthost (the sink) with **${run.plan.connections} connections** at most
(our \`smarthost.maxConnections\`; Postfix's \`smtp_destination_concurrency_limit\` and
\`initial_destination_concurrency\`), each with a fresh, empty queue per scenario.

- **Our relay** is the real \`smtp-relay run\` process (\`bin/smtp-relay.js\`, compiled \`dist/\`) with
  its full durability: before every 250 the message and its state are written, fsynced and committed by
  a rename, and the directories fsynced. It logs every message to its log file and to its console,
  whose output the bench sends to a file, as a service manager would.
- **Postfix** is a private instance (\`postfix -c DIR start\`, its own \`config_directory\` and
  \`queue_directory\` in a temp folder, \`relayhost = [127.0.0.1]:SINK\`, \`inet_interfaces = 127.0.0.1\`,
  \`mynetworks = 127.0.0.0/8\`, \`mydestination\` empty, smtpd on its own port in \`master.cf\`, no chroot,
  its log in a file through postlogd), otherwise with Postfix's defaults. Postfix fsyncs each queue file
  before its 250 but does not fsync directories.
- **The upstream** is Postfix's \`smtp-sink\` (it counts messages: \`-c\`), except in the crash loop, where a
  small Node sink records every Message-ID to count copies and check each message is whole.
- **Clients**: \`smtp-source\` for (1), (4) and (5); our own small client for (2) (smtp-source does not time
  single replies) and (6) (it must know which message got which reply).

Scenarios:

1. **Throughput**: ${run.plan.throughput.messages.toLocaleString('en-US')} messages of ${run.plan.throughput.size / 1000} KB over ${run.plan.throughput.sessions} sessions that each keep their connection (\`smtp-source -d\`).
   Accept rate = messages ÷ time until smtp-source got its last 250; end-to-end rate = messages ÷ time
   until the sink had them all.
2. **Accept latency**: the time from writing the final \`.\` of DATA to reading the 250, for ${run.plan.latency.runs.map((x) => `${x.sessions} session${x.sessions > 1 ? 's' : ''} × ${x.perSession}`).join(' and ')} messages of ${run.plan.latency.size / 1000} KB (after ${run.plan.latency.warmup} not counted), while the relay delivers to the sink.
3. **Memory**: resident memory (RSS) of the relay once it is ready (before (1)), during (1) and ${run.plan.throughput.idleWaitMs / 1000} s after the sink had everything.
   Ours is one process (its peak is the kernel's exact high-water mark, VmHWM). Postfix is many:
   the figure sums the RSS of the master and every process under it at the time (smtpd, cleanup, qmgr,
   smtp, trivial-rewrite, …; sampled every 100 ms). A sum of RSS counts each shared library page once per
   process, so it overstates what Postfix really uses; the rows "Postfix by PSS" give the sum of its
   proportional set sizes instead (shared pages split between the processes that map them), next to our
   RSS. CPU time per message is user + system time of the relay's processes (for Postfix, including the
   children its master reaped meanwhile) divided by the messages; the client and the sink are not counted.
4. **Backlog**: ${run.plan.backlog.messages.toLocaleString('en-US')} messages of ${run.plan.backlog.size / 1000} KB queued with the sink down (smtp-source, ${run.plan.backlog.sessions} sessions); memory at
   rest ${run.plan.backlog.settleMs / 1000} s later; a graceful stop and a start with that queue ("restart to ready" = from the start
   command to the first 220 greeting a client gets; for Postfix \`postfix start\`); memory again; then the
   sink comes up, the queue is flushed (\`smtp-relay queue retry --all\` / \`postqueue -f\`) and the drain
   rate is messages ÷ time from the flush to the sink having them all.
5. **One connection per message** (how JavaMail's \`Transport.send\`, and so IBM Jazz Team Server, sends):
   ${run.plan.perConnection.messages.toLocaleString('en-US')} messages of ${run.plan.perConnection.size / 1000} KB with \`smtp-source\` without \`-d\`, at ${run.plan.perConnection.sessionCounts.join(' and ')} sessions; a run is capped at ${run.plan.perConnection.timeLimitMs / 1000} s and then
   counts what it completed.
6. **Crash loop**: ${run.plan.crash.senders} clients send without pause while every process of the relay is killed with
   SIGKILL ${run.plan.crash.kills} times at random moments (${run.plan.crash.minUpMs / 1000}–${run.plan.crash.maxUpMs / 1000} s apart) and restarted; then its queue is flushed and
   it runs until every acknowledged message has arrived and the sink stays quiet for 2 s. Lost (acknowledged but never delivered), wrongly delivered (refused or cut off before
   the final dot, yet delivered) and damaged must all be 0; duplicates are allowed (delivery is
   at-least-once: a reply lost in a crash means the message is sent again) and are reported.

## How to read them

- The ratios matter more than the absolute figures: both relays ran on the same machine, disk and
  clients within minutes of each other. Absolute rates depend mostly on the disk's fsync latency
  (every accepted message is fsynced) and on the CPU.
- The machine has ${m.cores} cores shared by the client, the relay and the sink, so the client's and the sink's
  CPU use is part of every figure, equally for both relays.
- Accept latency is what a sending application waits for after its last byte; the end-to-end rate is
  what the relay sustains when the smarthost keeps up.

## Notes

${notes}
`;
  await fs.writeFile(file, text);
}

/** Rows shown in the README's Benchmarks section (by label prefix), in this order. */
const HEADLINE = [
  'end-to-end rate', 'accept rate', 'accept latency p99, 10 sessions', 'rate, 1 session', 'rate, 10 sessions',
  'peak during (1)', 'idle after (1)', 'memory at rest,', 'restart to ready', 'drain rate', 'lost',
];

/**
 * The README's headline table, between <!-- bench:headline:begin --> and <!-- bench:headline:end -->:
 * rewritten by a complete run (only that block; the rest of the README is left as it is).
 */
export async function writeReadmeHeadline(file, run, list) {
  const text = await fs.readFile(file, 'utf8');
  const re = /<!-- bench:headline:begin -->[\s\S]*?<!-- bench:headline:end -->/;
  if (!re.test(text)) return false;
  const picked = HEADLINE.map((h) => list.find((r) => r.label.startsWith(h))).filter(Boolean);
  const lines = picked.map((r) => `| ${r.section.replace(/^\d+ /, '')}: ${r.label} | ${fmt(r.ours, r.digits)} ${r.unit} | ${fmt(r.postfix, r.digits)} ${r.unit} | ${fmtRatio(r)} | ${r.target ? `${r.target}: ${verdict(r)}` : ''} |`);
  const block = [
    '<!-- bench:headline:begin -->',
    `Last complete run: ${run.date.slice(0, 10)}, ${run.machine.cores} × ${run.machine.cpu}, ${run.machine.disk}${run.machine.sharedNote ? ' (shared machine)' : ''}; all figures in [docs/benchmarks.md](docs/benchmarks.md).`,
    '',
    '| figure | ours | Postfix | ours÷Postfix | target |',
    '|---|---:|---:|---:|---|',
    ...lines,
    '<!-- bench:headline:end -->',
  ].join('\n');
  await fs.writeFile(file, text.replace(re, block));
  return true;
}

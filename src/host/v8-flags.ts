// The V8 settings of every relay process, however it is started: the tray app's utility process
// (execArgv), `smtp-relay run` (bin/smtp-relay.js runs itself again with them), and the service
// definitions (the systemd unit's ExecStart, WinSW's arguments). None depends on NODE_OPTIONS.

/**
 * V8 sizes the young generation from the machine's RAM (up to 2 × 64 MB here) and keeps it; the old
 * generation grows in large steps. 4 MB semi-spaces and --optimize-for-size (smaller heap growth
 * steps, GC sooner) bring `smtp-relay run` relaying 2,000 × 5 KB from ~200 MB to ~105 MB resident,
 * with rates within this machine's noise (docs/benchmarks.md, "Memory").
 */
export const RELAY_V8_FLAGS = ['--max-semi-space-size=4', '--optimize-for-size'];

/** The tray app's embedded relay: the utility process's execArgv. */
export const RELAY_EXEC_ARGV = RELAY_V8_FLAGS;

/**
 * The argv that runs this same script again with the relay's V8 flags, or null when every flag is
 * already among Node's own (`execArgv`). Flags given in NODE_OPTIONS are not in execArgv: they are
 * simply given twice, which V8 accepts.
 */
export function relayArgv(execPath: string, execArgv: readonly string[], argv: readonly string[]): string[] | null {
  const missing = RELAY_V8_FLAGS.filter((f) => !execArgv.includes(f));
  if (missing.length === 0) return null;
  return [execPath, ...missing, ...execArgv, ...argv.slice(1)];
}

/** The relay's stop gives deliveries 10 s; past this the process is ended. */
export const STOP_GRACE_MS = 15_000;

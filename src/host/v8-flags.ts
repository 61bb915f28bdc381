// How the tray app runs its embedded relay process.

/** V8 lets the young generation grow to 128 MB on a large server and keeps it; 4 MB semi-spaces cost
 *  nothing measurable in throughput and bring the relay's peak from ~265 to ~150 MB (docs/benchmarks.md). */
export const RELAY_EXEC_ARGV = ['--max-semi-space-size=4'];

/** The relay's own stop gives deliveries 10 s; past this the process is ended. */
export const STOP_GRACE_MS = 15_000;

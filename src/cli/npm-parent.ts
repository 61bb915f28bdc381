// `npx smtp-relay run` and npm scripts start the bin through `sh -c`, and npm forwards SIGTERM/SIGINT
// to that shell only: the shell dies and the relay, reparented, kept running (and holding port 25 and
// the spool). So when npm started us, losing the parent means someone asked npm to stop: stop as if
// the signal had reached us. Not otherwise: `nohup smtp-relay run &` must outlive its shell.
export function stopWhenNpmParentExits(env: NodeJS.ProcessEnv = process.env, everyMs = 250): void {
  if (!env.npm_lifecycle_event) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, everyMs);
  timer.unref();
}

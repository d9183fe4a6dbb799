/**
 * Launched through npm (`npm start`, `npx switchyard`), the hub is npm's grandchild (npm → sh →
 * node), and npm 11 exits on SIGTERM without passing the signal on: a process manager or `kill`
 * stopping npm would leave the hub running, orphaned, on its port. So a hub that npm started
 * (npm sets `npm_command` for the processes it runs) watches its parent and, once the parent is
 * gone (the process is handed to init or a subreaper, and its parent id changes), stops as it does
 * on SIGTERM. A hub started directly (`node …`, `nohup`, a service unit) is not affected.
 */
export function stopWithParent(
  stop: () => void,
  env: NodeJS.ProcessEnv = process.env,
  everyMs = 250,
): NodeJS.Timeout | undefined {
  if (!env.npm_command) return undefined;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    stop();
  }, everyMs);
  timer.unref();
  return timer;
}

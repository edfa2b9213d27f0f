import net from 'node:net';

/**
 * Whether a process inside the container accepts connections on host:port. Docker's userland proxy accepts
 * on the published address even while nothing listens inside: it closes the connection at once when the
 * container refuses, but while the container's network is still coming up its connection to the container
 * waits for ARP (about a second) and ours just stays open. So a port counts as ready when the peer sends data
 * (an SSH banner), or, for protocols where the client speaks first, keeps the connection open for `holdMs`,
 * which is longer than that wait.
 */
export function portAccepts(host: string, port: number, holdMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let settled = false;
    const finish = (ready: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ready);
    };
    const timer = setTimeout(() => finish(true), holdMs + 1000);
    socket.once('connect', () => {
      clearTimeout(timer);
      setTimeout(() => finish(true), holdMs).unref();
    });
    socket.once('data', () => finish(true));
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
  });
}

/** How one connection to a published port ended: through Docker's proxy and back, or refused before it. */
type PathAttempt = 'through' | 'refused' | 'timeout';

function attemptPath(host: string, port: number, timeoutMs: number): Promise<PathAttempt> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let accepted = false;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('timeout');
    }, timeoutMs);
    socket.once('connect', () => (accepted = true));
    socket.once('data', () => socket.destroy());
    socket.once('error', () => undefined); // 'close' follows
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(accepted ? 'through' : 'refused');
    });
  });
}

/**
 * Waits until one connection to host:port has gone through Docker's proxy into the task's network namespace and back
 * (refused there, or answered), retrying while the proxy does not listen yet. The proxy accepts on the published
 * address before the namespace can take its connection, and then holds the client until it resends (about a second);
 * once one connection got through, later ones are answered at once. So a task's address, shown from PENDING, refuses
 * a client promptly, as an ENI does on Fargate, instead of holding its first connection. Gives up after `timeoutMs`.
 */
export async function awaitProxyPath(host: string, port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const attempt = await attemptPath(host, port, deadline - Date.now());
    if (attempt !== 'refused') return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

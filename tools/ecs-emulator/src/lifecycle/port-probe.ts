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

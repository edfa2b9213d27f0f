import net from 'node:net';

/**
 * Whether a process inside the container accepts connections on host:port. Docker's userland proxy accepts
 * on the published address even while nothing listens inside, then closes the connection at once; so a
 * port counts as ready when the peer sends data (an SSH banner) or keeps the connection open for `holdMs`.
 */
export function portAccepts(host: string, port: number, holdMs = 100): Promise<boolean> {
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

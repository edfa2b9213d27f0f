/**
 * Hands out loopback addresses 127.<block>.y.z, one per task ENI (and one per public IP). Linux routes all of
 * 127/8 to `lo`, so publishing a container's ports on such an address needs no interface setup, and per-task
 * addresses let every task use port 22 without clashes. Addresses are handed out round-robin so a released
 * one is not reused at once (a late client must not reach the next task).
 */
export class LoopbackPool {
  private next = 1;
  private readonly inUse = new Set<string>();
  /** 254 × 254 usable host parts: y in 0–253 (offset by 1), z in 1–254. */
  private static readonly SIZE = 254 * 254;

  /** @param block second octet of the addresses, 1–254 (127.0.x.x is left to the host's own services). */
  constructor(readonly block: number) {
    if (!Number.isInteger(block) || block < 1 || block > 254) {
      throw new Error(`Loopback block must be an integer in 1–254 (addresses 127.<block>.y.z); got ${block}.`);
    }
  }

  allocate(): string {
    for (let tries = 0; tries < LoopbackPool.SIZE; tries++) {
      const index = this.next;
      this.next = (this.next % LoopbackPool.SIZE) + 1;
      const address = `127.${this.block}.${Math.floor((index - 1) / 254)}.${((index - 1) % 254) + 1}`;
      if (!this.inUse.has(address)) {
        this.inUse.add(address);
        return address;
      }
    }
    throw new Error(`All ${LoopbackPool.SIZE} loopback addresses of 127.${this.block}.0.0/16 are in use.`);
  }

  release(address: string | undefined): void {
    if (address) this.inUse.delete(address);
  }

  get size(): number {
    return this.inUse.size;
  }
}

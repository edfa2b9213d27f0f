/**
 * A promise settled from outside its executor: for a result that arrives through a callback or an event (a go
 * line, a stop, the first of several racing attempts). Node 20 has no `Promise.withResolvers`.
 */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  /** Settles the promise with `value`; later calls of either function do nothing. */
  resolve(value: T): void;
  /** Settles the promise with `reason`; later calls of either function do nothing. */
  reject(reason: unknown): void;
}

/** A new unsettled {@link Deferred}. */
export function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => {};
  let reject: (reason: unknown) => void = () => {};
  const promise = new Promise<T>((resolvePromise, rejectPromise) => {
    resolve = resolvePromise;
    reject = rejectPromise;
  });
  return { promise, resolve, reject };
}

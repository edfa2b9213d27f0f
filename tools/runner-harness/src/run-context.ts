/**
 * A stand-in for Go's `context.Context` as gitlab-runner's common/build.go uses it: the job has one context
 * bounded by its timeout; prepare, the user's script and after_script each get a child with its own bound
 * and cancel. Aborting a context aborts its children, and `cause` says why, like `context.Cause`.
 */

/** Why a context ended: a cancel (GitLab's "Cancel" button) or one of the job's deadlines. */
export type ContextCause =
  | { readonly kind: 'canceled' }
  | { readonly kind: 'timed_out'; readonly reason: string };

/** One bounded, cancellable scope of the job. */
export class RunContext {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly detach: () => void;

  /**
   * @param parent the context this one ends with
   * @param timeoutMs how long this one may last on its own
   * @param onTimeout the cause a timeout gives
   */
  constructor(parent?: RunContext, timeoutMs?: number, onTimeout?: ContextCause) {
    const fromParent = () => this.end(parent!.cause!);
    this.detach = () => parent?.signal.removeEventListener('abort', fromParent);
    if (parent?.signal.aborted) fromParent();
    else parent?.signal.addEventListener('abort', fromParent, { once: true });
    if (timeoutMs !== undefined && !this.signal.aborted) {
      this.timer = setTimeout(() => this.end(onTimeout ?? { kind: 'timed_out', reason: 'timeout' }), Math.max(0, timeoutMs));
    }
  }

  /** Aborted when the context ends; pass it to driver calls. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Why the context ended, or undefined while it runs. */
  get cause(): ContextCause | undefined {
    return this.signal.aborted ? (this.signal.reason as ContextCause) : undefined;
  }

  /** A child bounded by `timeoutMs` as well as by this context. */
  child(timeoutMs?: number, onTimeout?: ContextCause): RunContext {
    return new RunContext(this, timeoutMs, onTimeout);
  }

  /** Ends the context (and its children) with `cause`; later calls change nothing. */
  end(cause: ContextCause): void {
    if (this.signal.aborted) return;
    this.release();
    this.controller.abort(cause);
  }

  /** Drops the timer and the link to the parent once the scope is over, without ending it. */
  release(): void {
    clearTimeout(this.timer);
    this.detach();
  }
}

/** Outcome of a queued job: its value, or that it was cancelled (by Stop or by a newer job of its key). */
export type JobOutcome<T> = { status: 'done'; value: T } | { status: 'cancelled' };

export interface JobInfo {
  key: string;
  label: string;
}

interface Job extends JobInfo {
  controller: AbortController;
}

export function isAbortError(error: unknown): boolean {
  return (error as { name?: string } | null)?.name === 'AbortError';
}

/**
 * Runs GPU jobs one at a time, in order. Run, live tile edits and Autotune all go through one
 * queue, so timings never overlap (two jobs sharing the GPU would time each other) and a fixture
 * or device is never used by two jobs at once. Each job gets an AbortSignal; Stop aborts them all.
 */
export class WorkQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly jobs: Job[] = [];
  private active: Job | undefined;

  constructor(private readonly onChange: () => void = () => {}) {}

  get running(): JobInfo | undefined {
    return this.active && { key: this.active.key, label: this.active.label };
  }

  /** Jobs waiting behind the running one. */
  get waiting(): JobInfo[] {
    return this.jobs.filter((j) => j !== this.active).map(({ key, label }) => ({ key, label }));
  }

  get busy(): boolean {
    return this.jobs.length > 0;
  }

  /**
   * Queues `fn`. With `supersede`, jobs of the same key that are waiting or running are cancelled
   * first: a newer tile edit makes an older re-run of the same kernel pointless.
   */
  run<T>(key: string, label: string, fn: (signal: AbortSignal) => Promise<T>, options: { supersede?: boolean } = {}): Promise<JobOutcome<T>> {
    if (options.supersede) this.cancel(key);
    const job: Job = { key, label, controller: new AbortController() };
    this.jobs.push(job);
    this.onChange();
    const result = this.tail.then(async (): Promise<JobOutcome<T>> => {
      const { signal } = job.controller;
      try {
        if (signal.aborted) return { status: 'cancelled' };
        this.active = job;
        this.onChange();
        return { status: 'done', value: await fn(signal) };
      } catch (error) {
        if (signal.aborted || isAbortError(error)) return { status: 'cancelled' };
        throw error;
      } finally {
        // Also for a job cancelled while it waited: it must not keep the queue looking busy.
        if (this.active === job) this.active = undefined;
        this.jobs.splice(this.jobs.indexOf(job), 1);
        this.onChange();
      }
    });
    // The chain only orders jobs: one job's failure is its caller's to report, not the next job's.
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Cancels the jobs of `key`, or every job when no key is given. */
  cancel(key?: string): void {
    for (const job of this.jobs) if (key === undefined || job.key === key) job.controller.abort();
  }
}

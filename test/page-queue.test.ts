import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../src/page/engine/queue.js';

const tick = () => new Promise((r) => setTimeout(r, 0));

/** A job that runs until released or aborted, recording what happened. */
function controllable(log: string[], name: string) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const fn = async (signal: AbortSignal) => {
    log.push(`start ${name}`);
    await Promise.race([released, new Promise((_, reject) => signal.addEventListener('abort', () => reject(new DOMException('stop', 'AbortError'))))]);
    log.push(`end ${name}`);
    return name;
  };
  return { fn, release };
}

describe('work queue', () => {
  it('runs one job at a time, in order', async () => {
    const log: string[] = [];
    const q = new WorkQueue();
    const a = controllable(log, 'a');
    const b = controllable(log, 'b');
    const pa = q.run('run', 'A', a.fn);
    const pb = q.run('run', 'B', b.fn);
    await tick();
    expect(log).toEqual(['start a']);
    expect(q.running?.label).toBe('A');
    expect(q.waiting.map((j) => j.label)).toEqual(['B']);
    a.release();
    expect(await pa).toEqual({ status: 'done', value: 'a' });
    await tick();
    expect(log).toEqual(['start a', 'end a', 'start b']);
    b.release();
    expect(await pb).toEqual({ status: 'done', value: 'b' });
    expect(q.busy).toBe(false);
  });

  it('supersedes a running and a waiting job of the same key, and leaves other keys alone', async () => {
    const log: string[] = [];
    const q = new WorkQueue();
    const first = controllable(log, 'live1');
    const other = controllable(log, 'run');
    const second = controllable(log, 'live2');
    const p1 = q.run('live:flash', 'L1', first.fn);
    const pOther = q.run('run', 'R', other.fn);
    await tick();
    const p2 = q.run('live:flash', 'L2', second.fn, { supersede: true });
    expect(await p1).toEqual({ status: 'cancelled' });
    await tick();
    expect(log).toEqual(['start live1', 'start run']);
    other.release();
    expect(await pOther).toEqual({ status: 'done', value: 'run' });
    await tick();
    second.release();
    expect(await p2).toEqual({ status: 'done', value: 'live2' });
  });

  it('cancels everything on Stop, and a waiting job never starts', async () => {
    const log: string[] = [];
    const q = new WorkQueue();
    const a = controllable(log, 'a');
    const b = controllable(log, 'b');
    const pa = q.run('run', 'A', a.fn);
    const pb = q.run('autotune', 'B', b.fn);
    await tick();
    q.cancel();
    expect(await pa).toEqual({ status: 'cancelled' });
    expect(await pb).toEqual({ status: 'cancelled' });
    expect(log).toEqual(['start a']);
    expect(q.busy).toBe(false);
  });

  it('passes a job’s failure to its caller and goes on with the next job', async () => {
    const q = new WorkQueue();
    const failing = q.run('run', 'A', async () => {
      throw new Error('boom');
    });
    const next = q.run('run', 'B', async () => 42);
    await expect(failing).rejects.toThrow('boom');
    expect(await next).toEqual({ status: 'done', value: 42 });
  });
});

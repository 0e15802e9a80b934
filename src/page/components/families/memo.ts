/**
 * Remembers the last result of a pure function by a key: the family views recompute their models
 * (seeded inputs, float64 selections) only when the configuration they read changes, not on every
 * render of the page.
 */
export class Memo<T> {
  private key: string | undefined;
  private value: T | undefined;

  get(key: string, compute: () => T): T {
    if (key !== this.key) {
      this.value = compute();
      this.key = key;
    }
    return this.value!;
  }
}

import { type AttentionDevice, createDevice } from '../../src/index.js';

let shared: Promise<AttentionDevice> | undefined;

/**
 * One device per test file. There is no skipping: without an adapter (a GPU, or Debian's
 * chromium for SwiftShader) this throws and every GPU test fails, loudly.
 */
export function sharedDevice(): Promise<AttentionDevice> {
  shared ??= createDevice();
  return shared;
}

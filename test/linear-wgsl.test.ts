// The chunked kernel's recurrence without prefetching (prefetch = 0) must stay the shader that was
// measured on the H200 before the pipelined variant was added: the fixture holds the SHA-256 of
// both passes' WGSL, byte for byte, for shapes and tiles that reach every branch of the generator.
// A deliberate change to that shader must be timed on the GPU before the fixture is regenerated
// (LINEAR_WGSL_FIXTURE=write npx vitest run test/linear-wgsl.test.ts). GVA came after that run and
// was not timed: its lines (QK_GROUP, q and k rows through qk0 = (bh / QK_GROUP)·seq + t0) are taken
// out again before hashing, so the hash still proves that nothing else in the measured text moved.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chunkedShaders } from '../src/attention/linear/chunked/kernel.js';
import { linearProblem } from '../src/attention/linear/problem.js';

const FIXTURE = new URL('./fixtures/linear-chunked-wgsl.json', import.meta.url);

/** The shader as it was before GVA, for QK_GROUP = 1 (every line GVA added is matched exactly). */
function withoutGva(code: string): string {
  const lines = [
    /^\/\/ Value heads per query\/key head \(GVA[^\n]*\n/gm,
    /^const QK_GROUP: u32 = 1u;\n/gm,
    /^ *\/\/ Row 0 of the chunk in q and k, which have a head for every QK_GROUP value heads\.\n/gm,
    /^ *let qk0 = \(bh \/ QK_GROUP\) \* seq \+ t0;\n/gm,
  ];
  let out = code;
  for (const line of lines) out = out.replace(line, '');
  return out.replaceAll('(qk0 + ', '(row0 + ');
}

function cases(): { key: string; code: () => string }[] {
  const out: { key: string; code: () => string }[] = [];
  const dims: [number, number][] = [
    [32, 32],
    [64, 64],
    [128, 128],
    [24, 20],
    [256, 64],
  ];
  const tiles: [number, number, number][] = [
    [32, 8, 256],
    [64, 8, 256],
    [16, 16, 256],
    [32, 4, 128],
    [8, 32, 64],
    [4, 4, 64],
    [64, 64, 512],
  ];
  for (const storage of ['f32', 'f16'])
    for (const rule of ['delta', 'gla'])
      for (const [dk, dv] of dims)
        for (const [chunk, dvt, wg] of tiles) {
          const s = linearProblem.resolve({ rule, dk, dv, storage, seqK: 100 } as never);
          const key = `${storage} ${rule} dk${dk} dv${dv} C${chunk} dvt${dvt} wg${wg}`;
          out.push({
            key,
            code: () => {
              const code = chunkedShaders(s, { chunk, dvt, wg, slab: 8, prefetch: 0 });
              expect(code.prepare).toContain('const QK_GROUP: u32 = 1u;');
              return withoutGva(`${code.prepare}\n@@@\n${code.recur}`);
            },
          });
        }
  return out;
}

describe('linear-chunked WGSL', () => {
  it('without prefetching, both passes are the measured shaders byte for byte, GVA lines aside', () => {
    const hashes = Object.fromEntries(cases().map((c) => [c.key, createHash('sha256').update(c.code()).digest('hex')]));
    if (process.env.LINEAR_WGSL_FIXTURE === 'write') writeFileSync(FIXTURE, `${JSON.stringify(hashes, null, 2)}\n`);
    const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, string>;
    expect(Object.keys(hashes).sort()).toEqual(Object.keys(fixture).sort());
    for (const [key, hash] of Object.entries(hashes)) expect(hash, key).toBe(fixture[key]);
  });
});

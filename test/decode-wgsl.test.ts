// decode-split's WGSL must stay the shaders that were measured on the H200 (bench/results/
// h200-decode-*.json): the fixture holds the SHA-256 of the split pass for the configurations that
// reach every branch of the generator. The MLA variant (V narrower than K, read from the K row) came
// after those runs and renamed the V-side sizes (V_VECTORS, VD4, PV_KEYS, equal to ROW_VECTORS, D4
// and LANE_VECTORS for decode); they are renamed back before hashing, so the hash still proves that
// nothing else moved. A deliberate change must be timed on the GPU before the fixture is regenerated
// (DECODE_WGSL_FIXTURE=write npx vitest run test/decode-wgsl.test.ts).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { splitShaderCode } from '../src/attention/decode/split/kernel.js';
import { decodeProblem } from '../src/attention/decode/problem.js';

const FIXTURE = new URL('./fixtures/decode-split-wgsl.json', import.meta.url);

/** The shader as it was before the MLA variant's V-side names (each matched exactly). */
function withoutSplitV(code: string): string {
  return (
    code
      .replace(/^\/\/ V: 16-byte vectors[^\n]*\n(\/\/[^\n]*\n)*const V_VECTORS: u32 = \d+u;\n/m, '')
      .replace(/^const VD4: u32 = V_VECTORS \* HALVES;\n/m, '')
      .replace(/^const PV_KEYS: u32 = TILE \/ SLICES;\n/m, '')
      // The unroller asserts each bound it unrolled by; PV_KEYS is a bound of its own now.
      .replace(/^const_assert PV_KEYS == \d+u;\n/m, '')
      .replaceAll('V_VECTORS', 'ROW_VECTORS')
      .replaceAll('VD4', 'D4')
      .replaceAll('PV_KEYS', 'LANE_VECTORS')
  );
}

function cases(): { key: string; code: () => string }[] {
  const out: { key: string; code: () => string }[] = [];
  for (const kvType of ['f16', 'f32'] as const)
    for (const layout of ['contiguous', 'paged'] as const)
      for (const [lanes, rows, seqQ] of [
        [1, 4, 1],
        [2, 4, 1],
        [4, 8, 16],
        [8, 4, 1],
      ] as const)
        for (const [unroll, subgroups, prefetch, qregs] of [
          [0, 0, 0, 0],
          [1, 1, 0, 0],
          [1, 1, 1, 0],
          [1, 1, 2, 0],
          [1, 1, 1, 1],
          [1, 0, 2, 1],
        ] as const) {
          const s = decodeProblem.resolve({ batch: 1, heads: 32, kvHeads: 8, headDim: 128, seqQ, seqK: 4096, kvType, layout, blockSize: 16 } as never);
          const t = { chunk: 1024, wg: 128, lanes, rows, subgroups, unroll, stagger: 1, prefetch, qregs };
          out.push({
            key: `${kvType} ${layout} lanes${lanes} rows${rows} nq${seqQ} u${unroll} s${subgroups} p${prefetch} q${qregs}`,
            code: () => splitShaderCode(s, t),
          });
        }
  return out;
}

describe('decode-split WGSL', () => {
  it('is the measured shader byte for byte, the MLA variant’s V-side names aside', () => {
    const hashes = Object.fromEntries(cases().map((c) => [c.key, createHash('sha256').update(withoutSplitV(c.code())).digest('hex')]));
    if (process.env.DECODE_WGSL_FIXTURE === 'write') writeFileSync(FIXTURE, `${JSON.stringify(hashes, null, 2)}\n`);
    const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, string>;
    expect(Object.keys(hashes).sort()).toEqual(Object.keys(fixture).sort());
    for (const [key, hash] of Object.entries(hashes)) expect(hash, key).toBe(fixture[key]);
  });
});

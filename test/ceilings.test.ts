// Device ceilings on the test adapter (SwiftShader here: numbers of a CPU, but the probes run,
// their kernels compute what they claim, and the cache and feature gating hold).
import { describe, expect, it } from 'vitest';
import { CeilingsSchema, measureCeilings, SOFTWARE_PROBES } from '../src/index.js';
import { MMA_ACCUMULATORS, copyPipeline, grid, mmaProbeCode, mmaSetup } from '../src/harness/ceilings.js';
import { defaultCaps } from '../src/gpu/caps.js';
import { sharedDevice } from './helpers/gpu.js';

describe('ceiling probes', () => {
  it('splits workgroups over two dimensions past the per-dimension limit', () => {
    expect(grid(64, 65535)).toEqual([64, 1]);
    expect(grid(65536, 65535)).toEqual([32768, 2]);
    const [x, y] = grid(1 << 20, 65535);
    expect(x).toBeLessThanOrEqual(65535);
    expect(x * y).toBeGreaterThanOrEqual(1 << 20);
  });

  it('keeps every matrix accumulator live, so the compiler cannot drop the products it counts', () => {
    // SwiftShader has no matrix units: the probe's code is checked, not run. Each accumulator must
    // reach its own store, and none may be overwritten by another's product (the bug that read
    // 2325 TFLOP/s on an H200).
    const code = mmaProbeCode({ M: 16, N: 16, K: 16, subgroupSize: 32 }, 8);
    expect(code.match(/subgroupMatrixStore<row_major>\(&result, j \* SG_M \* SG_N, acc\[j\]/g)).toHaveLength(MMA_ACCUMULATORS);
    const products = [...code.matchAll(/acc\[(\w+)\] = subgroupMatrixMultiplyAccumulate\(a, b, acc\[(\w+)\]\)/g)];
    expect(products.length).toBe(MMA_ACCUMULATORS);
    for (const m of products) expect(m[1]).toBe(m[2]);
  });

  it('measures the matrix units only with an f16→f32 configuration and one subgroup size', () => {
    const config = { componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 };
    const feature = ['chromium-experimental-subgroup-matrix'];
    expect(mmaSetup({ caps: defaultCaps({ features: feature, subgroupMinSize: 32, subgroupMaxSize: 32, subgroupMatrixConfigs: [config] }) })).toEqual({
      M: 16,
      N: 16,
      K: 16,
      subgroupSize: 32,
    });
    expect(mmaSetup({ caps: defaultCaps({ features: feature, subgroupMinSize: 16, subgroupMaxSize: 32, subgroupMatrixConfigs: [config] }) })).toBeUndefined();
    expect(
      mmaSetup({
        caps: defaultCaps({ features: feature, subgroupMinSize: 32, subgroupMaxSize: 32, subgroupMatrixConfigs: [{ ...config, resultComponentType: 'f16' }] }),
      }),
    ).toBeUndefined();
    expect(mmaSetup({ caps: defaultCaps({ subgroupMinSize: 32, subgroupMaxSize: 32, subgroupMatrixConfigs: [config] }) })).toBeUndefined();
  });

  it('copies every vector, the tail and a two-dimensional grid included', async () => {
    const gpu = await sharedDevice();
    const { device } = gpu;
    // 9 workgroup spans and 7 vectors: a partial last workgroup; at most 4 workgroups per dimension: a 3×3 grid.
    const vectors = 9 * 1024 + 7;
    const bytes = vectors * 16;
    const copy = await copyPipeline(device, bytes, 4);
    expect([copy.x, copy.y]).toEqual([4, 3]);
    const data = new Float32Array(vectors * 4).map((_, i) => i + 0.5);
    const src = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    const dst = device.createBuffer({ size: bytes + 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    const read = device.createBuffer({ size: bytes + 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(src, 0, data);
    device.queue.writeBuffer(dst, bytes, new Float32Array([-7, -7, -7, -7]));
    const bind = device.createBindGroup({
      layout: copy.layout,
      entries: [
        { binding: 0, resource: { buffer: src } },
        { binding: 1, resource: { buffer: dst, size: bytes } },
      ],
    });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(copy.pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(copy.x, copy.y);
    pass.end();
    encoder.copyBufferToBuffer(dst, 0, read, 0, bytes + 16);
    device.queue.submit([encoder.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(read.getMappedRange().slice(0));
    read.unmap();
    expect(out.subarray(0, vectors * 4)).toEqual(data);
    // Nothing past the end was written.
    expect([...out.subarray(vectors * 4)]).toEqual([-7, -7, -7, -7]);
    for (const b of [src, dst, read]) b.destroy();
  });

  it('measures bandwidth and f32 rate once per device; f16 and the matrix units only where the device has them', async () => {
    const gpu = await sharedDevice();
    const first = measureCeilings(gpu);
    expect(measureCeilings(gpu)).toBe(first);
    const c = await first;
    expect(CeilingsSchema.parse(c)).toEqual(c);
    expect(c.copyGBps).toBeGreaterThan(0);
    expect(c.f32Tflops).toBeGreaterThan(0);
    expect(c.probes.copy.map((p) => p.bytes)).toEqual(SOFTWARE_PROBES.copySizes);
    expect(c.copyGBps).toBe(Math.max(...c.probes.copy.map((p) => p.gbps)));
    expect('f16Tflops' in c).toBe(gpu.caps.features.includes('shader-f16'));
    expect('mmaTflops' in c).toBe(mmaSetup(gpu) !== undefined);
  });

  it('caps copy buffers at the binding limit and refuses bad options in one line', async () => {
    const gpu = await sharedDevice();
    const limit = Math.min(gpu.caps.limits.maxStorageBufferBindingSize, gpu.caps.limits.maxBufferSize);
    const c = await measureCeilings(gpu, { copySizes: [8192, limit * 4], computeWorkgroups: 1, iterations: 8, samples: 1 });
    // The capped size is measured, or listed as unallocatable (SwiftShader grants 1 GiB bindings it cannot back twice).
    expect([...c.probes.copy.map((p) => p.bytes), ...(c.probes.copyUnallocated ?? [])]).toEqual([8192, Math.min(limit, 1 << 30)]);
    expect(() => measureCeilings(gpu, { copySizes: [100] })).toThrow(/^measureCeilings: copySizes must be multiples of 16 bytes, at least 4096, got 100$/);
    expect(() => measureCeilings(gpu, { samples: 0 })).toThrow(/samples must be a whole number from 1 to 1000, got 0/);
  });
});

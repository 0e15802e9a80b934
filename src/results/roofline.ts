import { z } from 'zod';

/**
 * The roofline model: a kernel of arithmetic intensity I (FLOPs per byte of global-memory traffic)
 * can reach at most min(compute roof, I × bandwidth). Intensity here is the kernel's own traffic
 * model (record.bytes), so naive attention, which writes and reads S and P, sits far left of flash
 * on the same shape, and the bound says which wall each run is against.
 */

const positive = z.number().positive().refine(Number.isFinite, 'must be finite');

/** Device ceilings as measured by src/harness/ceilings.ts, with the probes' sizes. */
export const CeilingsSchema = z.object({
  /** Best device-to-device copy rate, bytes read + written per second / 1e9. */
  copyGBps: positive,
  /** f32 multiply-add rate (2 FLOPs per FMA), TFLOP/s. */
  f32Tflops: positive,
  /** f16 multiply-add rate, with shader-f16. */
  f16Tflops: positive.optional(),
  /** Subgroup-matrix (f16 operands, f32 result) rate, with chromium-experimental-subgroup-matrix. */
  mmaTflops: positive.optional(),
  probes: z.object({
    /** Each copy size tried (bytes of one buffer) and its rate. */
    copy: z.array(z.object({ bytes: z.number().int().positive(), gbps: positive })),
    /** Copy sizes the device could not allocate twice over (left out). */
    copyUnallocated: z.array(z.number().int().positive()).optional(),
    compute: z.object({ invocations: z.number().int().positive(), chains: z.number().int().positive(), iterations: z.number().int().positive() }),
    mma: z.object({ M: z.number().int(), N: z.number().int(), K: z.number().int(), subgroupSize: z.number().int() }).optional(),
    method: z.enum(['timestamp', 'wall']),
  }),
  /**
   * Why this file's matrix-unit rate was struck out after the run (its probe was found wrong): f16
   * kernels then have no known compute roof, and no roofline fraction, rather than one against the
   * FMA roof that a kernel on the matrix units would pass.
   */
  mmaRejected: z.string().min(1).optional(),
});

export type Ceilings = z.infer<typeof CeilingsSchema>;

/** FLOPs per modelled byte, or null when the model moves no bytes. */
export function intensityOf(record: { flops: number; bytes: number; intensity?: number | null | undefined }): number | null {
  if (typeof record.intensity === 'number') return record.intensity;
  return record.bytes > 0 ? record.flops / record.bytes : null;
}

/**
 * The compute roof of a precision: f32 kernels against the f32 FMA rate; f16 kernels against the
 * fastest f16 path the device has (the matrix units when measured), since that is what an f16
 * kernel could use. A kernel that does its f16 math in f32 is thus held to a higher roof: a lower
 * fraction, never a flattering one.
 */
export function computeRoof(ceilings: Ceilings, precision: 'f32' | 'f16'): number | null {
  if (precision === 'f16') {
    if (ceilings.mmaRejected) return null;
    return Math.max(ceilings.f32Tflops, ceilings.f16Tflops ?? 0, ceilings.mmaTflops ?? 0);
  }
  return ceilings.f32Tflops;
}

/** The roofline's bound on TFLOP/s at an intensity; null when the precision's compute roof is unknown. */
export function rooflineBound(ceilings: Ceilings, precision: 'f32' | 'f16', intensity: number): number | null {
  const roof = computeRoof(ceilings, precision);
  return roof === null ? null : Math.min(roof, (intensity * ceilings.copyGBps) / 1e3);
}

/** Achieved ÷ bound, or null when the record was not timed or moves no bytes. */
export function rooflineFraction(
  record: { flops: number; bytes: number; tflops: number | null; precision: 'f32' | 'f16'; intensity?: number | null | undefined },
  ceilings: Ceilings,
): number | null {
  const intensity = intensityOf(record);
  if (intensity === null || record.tflops === null || intensity <= 0) return null;
  const bound = rooflineBound(ceilings, record.precision, intensity);
  return bound === null ? null : record.tflops / bound;
}

/** The records with their roofline fraction filled in (records that cannot have one are left as they are). */
export function withRoofline<
  R extends { flops: number; bytes: number; tflops: number | null; precision: 'f32' | 'f16'; intensity?: number | null | undefined },
>(records: readonly R[], ceilings: Ceilings | undefined): (R & { rooflineFraction?: number })[] {
  if (!ceilings) return [...records];
  return records.map((r) => {
    const fraction = rooflineFraction(r, ceilings);
    return fraction === null ? r : { ...r, rooflineFraction: fraction };
  });
}

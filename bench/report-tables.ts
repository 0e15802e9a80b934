// Markdown tables of a results file from the GPU suite (with --compare): ours against PyTorch,
// the f16 kernels against f32 and PyTorch's f16 backends, flash against naive, causal against not. `npm run report -- FILE.json`.
import { type ResolvedShape, type ResultRecord, getKernel, recordShapeLabel, resolveShape } from '../src/index.js';

/** A dense record with its shape typed (the tables below are the dense family's). */
type DenseRecord = ResultRecord & { shape: ResolvedShape };

const ms = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x >= 100 ? x.toFixed(1) : x.toFixed(3));
const tf = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x.toFixed(1));
const ratio = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${x.toFixed(2)}×`);

function find(rows: DenseRecord[], kernel: string, d: number, n: number, causal: boolean) {
  return rows.find((r) => r.kernel === kernel && r.shape.headDim === d && r.shape.seqK === n && r.shape.seqQ === n && r.shape.causal === causal);
}

function torch(r: ResultRecord | undefined, backend: string) {
  return r?.comparisons?.find((c) => c.backend === backend);
}

/** TFLOP/s of a PyTorch time under our FLOP count (unmasked pairs), so throughputs compare. */
const torchTflops = (r: ResultRecord | undefined, torchMs: number | undefined) => (r && torchMs ? r.flops / (torchMs * 1e-3) / 1e12 : null);

/** A short reason for a naive row that did not run, from its own models and the device limit. */
function naiveCannotRun(naive: DenseRecord, limits: Record<string, number> | undefined): string {
  const perBuffer = getKernel('naive').scratch(resolveShape(naive.shape), naive.tiles)[0]!.bytes;
  const limit = limits?.maxStorageBufferBindingSize;
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  return limit
    ? `cannot run: S and P need ${gib(perBuffer)} each, over maxStorageBufferBindingSize (${gib(limit)})`
    : `cannot run: ${naive.reason ?? naive.status}`;
}

export function report(results: ResultRecord[], limits?: Record<string, number>): string {
  const rows = results.filter((r): r is DenseRecord => !r.tag && r.family === 'dense');
  const dims = [...new Set(rows.map((r) => r.shape.headDim))].sort((a, b) => a - b);
  const lengths = [...new Set(rows.map((r) => r.shape.seqK))].sort((a, b) => a - b);
  const out: string[] = [];

  out.push('| d | N | causal | flash f32 ms | TFLOP/s | PyTorch mem-eff f32 ms | TFLOP/s | ours vs PyTorch |');
  out.push('|---|---|---|---|---|---|---|---|');
  for (const d of dims)
    for (const causal of [false, true])
      for (const n of lengths) {
        const f32 = find(rows, 'flash', d, n, causal);
        const eff = torch(f32, 'EFFICIENT_ATTENTION');
        if (!f32) continue;
        out.push(
          `| ${d} | ${n} | ${causal ? 'yes' : 'no'} | ${ms(f32.medianMs)} | ${tf(f32.tflops)} | ${ms(eff?.ms)} | ${tf(torchTflops(f32, eff?.ms))} | ${ratio(eff?.relative)} |`,
        );
      }

  // The f16 kernels against flash f32 (throughput) and against PyTorch's f16 backends (time).
  out.push(
    '',
    '| d | N | causal | flash-f16 ms | TFLOP/s | vs f32 | flash-mma ms | TFLOP/s | vs f32 | PyTorch flash f16 ms | TFLOP/s | flash-mma vs PyTorch flash | PyTorch mem-eff f16 ms | flash-mma vs mem-eff |',
  );
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const vsF32 = (r: ResultRecord | undefined, f32: ResultRecord | undefined) => ratio(r?.tflops && f32?.tflops ? r.tflops / f32.tflops : null);
  for (const d of dims)
    for (const causal of [false, true])
      for (const n of lengths) {
        const f32 = find(rows, 'flash', d, n, causal);
        const f16 = find(rows, 'flash-f16', d, n, causal);
        const mma = find(rows, 'flash-mma', d, n, causal);
        if (!f16 && !mma) continue;
        const withTorch = mma ?? f16;
        const fl16 = torch(withTorch, 'FLASH_ATTENTION');
        const eff16 = torch(withTorch, 'EFFICIENT_ATTENTION');
        out.push(
          `| ${d} | ${n} | ${causal ? 'yes' : 'no'} | ${ms(f16?.medianMs)} | ${tf(f16?.tflops)} | ${vsF32(f16, f32)} | ${ms(mma?.medianMs)} | ${tf(mma?.tflops)} | ${vsF32(mma, f32)} | ` +
            `${ms(fl16?.ms)} | ${tf(torchTflops(withTorch, fl16?.ms))} | ${mma ? ratio(torch(mma, 'FLASH_ATTENTION')?.relative) : '–'} | ${ms(eff16?.ms)} | ${mma ? ratio(torch(mma, 'EFFICIENT_ATTENTION')?.relative) : '–'} |`,
        );
      }

  out.push('', '| d | N | causal | naive ms | flash ms | flash vs naive | naive S+P memory |');
  out.push('|---|---|---|---|---|---|---|');
  for (const d of dims)
    for (const causal of [false, true])
      for (const n of lengths) {
        const naive = find(rows, 'naive', d, n, causal);
        const flash = find(rows, 'flash', d, n, causal);
        if (!naive || !flash) continue;
        // S and P from the kernel's model, also for rows that were skipped before allocating them.
        const scratch = getKernel('naive').scratch(resolveShape(naive.shape), naive.tiles);
        const gib = (scratch.reduce((sum, b) => sum + b.bytes, 0) / 2 ** 30).toFixed(2);
        const speed = naive.medianMs && flash.medianMs ? ratio(naive.medianMs / flash.medianMs) : naiveCannotRun(naive, limits);
        out.push(`| ${d} | ${n} | ${causal ? 'yes' : 'no'} | ${ms(naive.medianMs)} | ${ms(flash.medianMs)} | ${speed} | ${gib} GiB |`);
      }

  out.push('', '| kernel | d | N | causal ms / non-causal ms |');
  out.push('|---|---|---|---|');
  // Every kernel that skips masked tiles: all but naive, which computes every score and masks it.
  for (const kernel of [...new Set(rows.map((r) => r.kernel))].filter((k) => k !== 'naive'))
    for (const d of dims) {
      const n = lengths[lengths.length - 1]!;
      const a = find(rows, kernel, d, n, true);
      const b = find(rows, kernel, d, n, false);
      if (a?.medianMs && b?.medianMs) out.push(`| ${kernel} | ${d} | ${n} | ${(a.medianMs / b.medianMs).toFixed(3)} |`);
    }

  const failed = rows.filter((r) => r.status === 'failed' || r.status === 'error');
  if (failed.length > 0) out.push('', `Not passing: ${failed.map((r) => `${r.kernel} ${recordShapeLabel(r)} (${r.status})`).join('; ')}`);
  return out.join('\n');
}

"""Reference timings for the window family: PyTorch FlexAttention with a sliding-window + sinks
block mask, beside dense causal SDPA on the same shapes (the ratio the window kernels must beat).

Prints one JSON object per line, like torch_sdpa.py: a header naming the device, then one timing
row per (shape, dtype, backend) with source, backend, family, shape, dtype and ms. `bench
--compare` (bench/compare.ts, comparisonsFor) matches a row to our records by `family` and by every
key of `shape` equalling the record's shape field of that key, and by dtype to the record's
precision: FlexAttention rows are family 'window' with the window family's field keys (batch,
heads, kvHeads, seqQ, seqK, headDim, window, sinks); the dense causal SDPA rows are family 'dense'
with the dense keys (batch, heads, kvHeads, seqQ, seqK, headDim, causal). TF32 is off, so float32
runs on the CUDA cores, as WebGPU does. Query i (position i + Nk − Nq) sees key j when j ≤ pos
and (j > pos − window or j < sinks), as src/attention/window/shape.ts defines it.

  python3 torch_window.py --heads 16 --dim 128 --window 4096 --sinks 4 --seq 16384 32768 65536 131072
"""
import argparse, json, sys
import torch
from cuda_timing import median_ms
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--batch', type=int, default=1)
p.add_argument('--heads', type=int, default=16)
p.add_argument('--kv-heads', type=int, default=None)
p.add_argument('--dim', type=int, default=128)
p.add_argument('--seq', type=int, nargs='+', default=[16384, 32768, 65536, 131072])
p.add_argument('--seq-q', type=int, default=None, help='query rows (default: the key length; 1 for decode)')
p.add_argument('--window', type=int, default=4096)
p.add_argument('--sinks', type=int, default=4)
p.add_argument('--dtype', nargs='+', default=['float32', 'float16'])
p.add_argument('--dense', choices=['yes', 'no'], default='yes', help='also time dense causal SDPA (flash / efficient backends)')
p.add_argument('--iters', type=int, default=10)
a = p.parse_args()
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
import warnings; warnings.filterwarnings('ignore')
from torch.nn.attention import sdpa_kernel, SDPBackend
from torch.nn.attention.flex_attention import create_block_mask, flex_attention

flex = torch.compile(flex_attention, dynamic=False)



def visible_pairs(nq, nk, window, sinks):
    """Visible (query, key) pairs of one head, as visiblePairsPerHead in shape.ts."""
    total = 0
    for i in range(nq):
        pos = i + nk - nq
        if pos < 0: continue
        sink_end = min(sinks, pos + 1)
        total += sink_end + max(0, pos + 1 - max(sink_end, pos - window + 1))
    return total


print(json.dumps({'device': torch.cuda.get_device_name(), 'torch': torch.__version__}))
kvh = a.kv_heads or a.heads
for nk in a.seq:
    nq = a.seq_q or nk
    offset, window, sinks = nk - nq, a.window, a.sinks

    def mask_mod(b, h, q_idx, kv_idx):
        pos = q_idx + offset
        return (kv_idx <= pos) & ((kv_idx > pos - window) | (kv_idx < sinks))

    block_mask = create_block_mask(mask_mod, B=None, H=None, Q_LEN=nq, KV_LEN=nk, device='cuda')
    flops = 4 * a.batch * a.heads * a.dim * visible_pairs(nq, nk, window, sinks)
    for dt in a.dtype:
        dtype = getattr(torch, dt)
        q = torch.randn(a.batch, a.heads, nq, a.dim, device='cuda', dtype=dtype)
        k = torch.randn(a.batch, kvh, nk, a.dim, device='cuda', dtype=dtype)
        v = torch.randn_like(k)
        # The dense shape keys (field keys of src/attention/dense/problem.ts); the window family's
        # drop causal (always on) and add window and sinks (src/attention/window/problem.ts).
        dims = dict(batch=a.batch, heads=a.heads, kvHeads=kvh, seqQ=nq, seqK=nk, headDim=a.dim)
        window_shape = dict(dims, window=window, sinks=sinks)
        row = dict(source='torch-flex', backend='FLEX_ATTENTION', family='window', shape=window_shape, dtype=dt)
        try:
            ms = median_ms(lambda: flex(q, k, v, block_mask=block_mask, enable_gqa=kvh != a.heads), a.iters)
            row.update(ms=round(ms, 4), tflops=round(flops / ms / 1e9, 2))
        except Exception as e:
            row.update(error=str(e).splitlines()[0][:160])
        print(json.dumps(row)); sys.stdout.flush()
        if a.dense == 'yes' and nq == nk:
            for be in ['FLASH_ATTENTION', 'EFFICIENT_ATTENTION']:
                row = dict(source='torch-sdpa', backend=be, family='dense', shape=dict(dims, causal=True), dtype=dt)
                try:
                    with sdpa_kernel([getattr(SDPBackend, be)]):
                        ms = median_ms(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=kvh != a.heads), max(1, a.iters // 2))
                    row.update(ms=round(ms, 4), tflops=round(4 * a.batch * a.heads * a.dim * nk * (nk + 1) / 2 / ms / 1e9, 2))
                except Exception as e:
                    row.update(error=str(e).splitlines()[0][:160])
                print(json.dumps(row)); sys.stdout.flush()
        del q, k, v
        torch.cuda.empty_cache()

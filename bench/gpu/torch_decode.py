"""Reference timings for the decode family: PyTorch SDPA on decode shapes, per backend, plus the
device's copy bandwidth (the ceiling of a bandwidth-bound decode).

Prints one JSON object per line: first the device, then a copy line (torch clone of a 1 GiB tensor:
bytes read + written per second), then one line per (backend, dtype, Nk, batch, Nq). Nq > 1 uses a
bottom-right causal mask (query i of Nq sees keys < Nk − Nq + i + 1), as the decode problem does.

  python3 torch_decode.py --seq 8192 32768 131072 --batch 1 8 --seq-q 1 16 --dtype float16 float32
"""
import argparse, json, sys
import torch
from cuda_timing import median_ms
from torch.nn.attention import sdpa_kernel, SDPBackend

p = argparse.ArgumentParser()
p.add_argument('--batch', type=int, nargs='+', default=[1, 8])
p.add_argument('--heads', type=int, default=32)
p.add_argument('--kv-heads', type=int, default=8)
p.add_argument('--dim', type=int, default=128)
p.add_argument('--seq', type=int, nargs='+', default=[8192, 32768, 131072])
p.add_argument('--seq-q', type=int, nargs='+', default=[1, 16])
p.add_argument('--dtype', nargs='+', default=['float16', 'float32'])
p.add_argument('--backend', nargs='+', default=['FLASH_ATTENTION', 'EFFICIENT_ATTENTION', 'CUDNN_ATTENTION', 'MATH'])
p.add_argument('--iters', type=int, default=50)
p.add_argument('--copy-gib', type=float, default=1.0)
a = p.parse_args()
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
import warnings; warnings.filterwarnings('ignore')



def lower_right_mask(nq, nk):
    """Bottom-right causal mask for SDPA: the bias helper where torch has it, else a boolean mask."""
    try:
        from torch.nn.attention.bias import causal_lower_right
        return causal_lower_right(nq, nk)
    except ImportError:
        i = torch.arange(nq, device='cuda')[:, None]
        j = torch.arange(nk, device='cuda')[None, :]
        return j < nk - nq + i + 1


print(json.dumps({'device': torch.cuda.get_device_name(), 'torch': torch.__version__}))

x = torch.empty(int(a.copy_gib * 2**30), dtype=torch.uint8, device='cuda')
copy_ms = median_ms(lambda: x.clone(), a.iters)
print(json.dumps(dict(source='torch-copy', bytes=x.numel(), ms=round(copy_ms, 4),
                      gbps=round(2 * x.numel() / copy_ms / 1e6, 1))))
del x
torch.cuda.empty_cache()

for n in a.seq:
    for dt in a.dtype:
        dtype = getattr(torch, dt)
        elem = torch.tensor([], dtype=dtype).element_size()
        for b in a.batch:
            try:
                k = torch.randn(b, a.kv_heads, n, a.dim, device='cuda', dtype=dtype)
                v = torch.randn_like(k)
            except torch.cuda.OutOfMemoryError as e:
                print(json.dumps(dict(source='torch-decode', dtype=dt, seq=n, batch=b, error=str(e).splitlines()[0][:120])))
                continue
            for nq in a.seq_q:
                q = torch.randn(b, a.heads, nq, a.dim, device='cuda', dtype=dtype)
                mask = lower_right_mask(nq, n) if nq > 1 else None
                # Keys each query row sees: Nk − Nq + i + 1.
                pairs = b * a.heads * (nq * n - nq * (nq - 1) // 2)
                kv_bytes = 2 * b * a.kv_heads * n * a.dim * elem
                for be in a.backend:
                    # family/shape/anyPrecision: how `bench --compare` matches the row to decode records
                    # (every field listed must be equal; the KV type decides, whatever the kernel's precision).
                    row = dict(source='torch-decode', backend=be, dtype=dt, batch=b, heads=a.heads, kvHeads=a.kv_heads,
                               seq=n, seqQ=nq, dim=a.dim, causal=nq > 1, family='decode', anyPrecision=True,
                               shape=dict(batch=b, heads=a.heads, kvHeads=a.kv_heads, seqK=n, seqQ=nq, headDim=a.dim,
                                          lengths='equal', kvType='f16' if dt == 'float16' else 'f32'))
                    try:
                        with sdpa_kernel([getattr(SDPBackend, be)]):
                            ms = median_ms(lambda: torch.nn.functional.scaled_dot_product_attention(
                                q, k, v, attn_mask=mask, enable_gqa=a.kv_heads != a.heads), a.iters)
                        row.update(ms=round(ms, 4), tflops=round(4 * a.dim * pairs / ms / 1e9, 2),
                                   kv_gbps=round(kv_bytes / ms / 1e6, 1))
                    except Exception as e:  # a backend that does not support this shape, dtype or mask
                        row.update(error=str(e).splitlines()[0][:120])
                    print(json.dumps(row)); sys.stdout.flush()
                del q
            del k, v
            torch.cuda.empty_cache()

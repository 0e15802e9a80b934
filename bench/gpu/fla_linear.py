#!/usr/bin/env python3
"""Anchor timings for the linear family: flash-linear-attention's Triton kernels on CUDA.

Times fla-core 0.5.2's chunk_gated_delta_rule (gated DeltaNet, L2-normalized q and k in kernel)
and chunk_simple_gla (scalar-decay gated linear attention, Mamba2's SSD) in bf16, and PyTorch
SDPA causal attention (flash backend) in f16 at the same shapes, B=1, H=16, d=128 by default.
Prints one JSON line per (op, T): the median of CUDA-event times after a warm-up.

fla-core needs einops; install beside PyTorch with
    pip install --no-deps --target DIR /path/to/fla_core-0.5.2-py3-none-any.whl einops
and run with PYTHONPATH=DIR.
"""
import argparse
import json
import statistics

import torch
import torch.nn.functional as F


def cuda_median_ms(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times), times


def inputs(B, T, H, dk, dv, dtype, device, seed):
    gen = torch.Generator(device=device).manual_seed(seed)
    q = torch.randn(B, T, H, dk, device=device, dtype=dtype, generator=gen)
    k = torch.randn(B, T, H, dk, device=device, dtype=dtype, generator=gen)
    v = torch.randn(B, T, H, dv, device=device, dtype=dtype, generator=gen)
    # Realistic gates: g = −softplus(·) (log-decay, f32 as fla keeps it), β = sigmoid(·).
    g = -F.softplus(torch.randn(B, T, H, device=device, dtype=torch.float32, generator=gen))
    beta = torch.sigmoid(torch.randn(B, T, H, device=device, dtype=dtype, generator=gen))
    s0 = torch.zeros(B, H, dk, dv, device=device, dtype=torch.float32)
    return q, k, v, g, beta, s0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seq", default="4096,16384,65536", help="comma-separated sequence lengths T")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--heads", type=int, default=16)
    parser.add_argument("--dim", type=int, default=128, help="d_k = d_v (and the SDPA head dim)")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--iters", type=int, default=50)
    parser.add_argument("--ops", default="gated_delta,simple_gla,sdpa")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from fla.ops.gated_delta_rule import chunk_gated_delta_rule
    from fla.ops.simple_gla import chunk_simple_gla

    device = torch.device("cuda")
    name = torch.cuda.get_device_name(device)
    B, H, d = args.batch, args.heads, args.dim
    ops = args.ops.split(",")
    for T in (int(x) for x in args.seq.split(",")):
        q, k, v, g, beta, s0 = inputs(B, T, H, d, d, torch.bfloat16, device, args.seed)
        runs = {}
        if "gated_delta" in ops:
            runs["chunk_gated_delta_rule"] = (
                lambda: chunk_gated_delta_rule(
                    q, k, v, g, beta, initial_state=s0, output_final_state=True, use_qk_l2norm_in_kernel=True
                ),
                "bfloat16",
                ("linear", {"rule": "delta"}),
            )
        if "simple_gla" in ops:
            runs["chunk_simple_gla"] = (
                lambda: chunk_simple_gla(q, k, v, g=g, initial_state=s0, output_final_state=True),
                "bfloat16",
                ("linear", {"rule": "gla"}),
            )
        if "sdpa" in ops:
            # SDPA wants [B, H, T, d].
            qh, kh, vh = (x.transpose(1, 2).contiguous().to(torch.float16) for x in (q, k, v))
            runs["sdpa_causal_flash"] = (
                lambda: F.scaled_dot_product_attention(qh, kh, vh, is_causal=True),
                "float16",
                ("dense", {"kvHeads": H, "seqQ": T, "headDim": d, "causal": True}),
            )
        for op, (fn, dtype, (family, fields)) in runs.items():
            with torch.no_grad():
                if op == "sdpa_causal_flash":
                    with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.FLASH_ATTENTION):
                        median, times = cuda_median_ms(fn, args.warmup, args.iters)
                else:
                    median, times = cuda_median_ms(fn, args.warmup, args.iters)
            print(
                json.dumps(
                    {
                        # source/backend/family/shape/ms: how `bench --compare` matches the row to our
                        # records (every shape field listed must be equal); fla's bf16 is compared
                        # with our f32 and f16 kernels alike.
                        "source": "fla" if family == "linear" else "torch-sdpa",
                        "backend": op,
                        "family": family,
                        "shape": {"batch": B, "heads": H, "seqK": T, **({"dk": d, "dv": d} if family == "linear" else {}), **fields},
                        "anyPrecision": family == "linear",
                        "ms": round(median, 4),
                        "tool": "fla_linear.py",
                        "op": op,
                        "dtype": dtype,
                        "batch": B,
                        "heads": H,
                        "seq": T,
                        "dk": d,
                        "dv": d,
                        "median_ms": round(median, 4),
                        "min_ms": round(min(times), 4),
                        "iters": args.iters,
                        "device": name,
                        "torch": torch.__version__,
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()

"""The anchor scripts' timer: CUDA events around each call, median of `iters` after 3 warm-up calls.

Imported by torch_sdpa.py, torch_decode.py and torch_window.py (run as `python3 bench/gpu/X.py`,
so this folder is on the path).
"""
import torch


def median_ms(fn, iters):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(iters):
        start.record(); fn(); end.record(); torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    times.sort()
    return times[len(times) // 2]

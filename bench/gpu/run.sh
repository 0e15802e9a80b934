#!/usr/bin/env bash
# Runs on the GPU machine (README, "GPU results"): PyTorch's attention and this project's runner in
# one command, on the same GPU, so that the results compare as ratios. Writes into $OUT (default
# ./out). Prepare here first:  npm ci && ../shared/gpu-kit/pack.sh && node bench/build.mjs
# then carry .gpu-kit and .build, and run:  bash bench/gpu/run.sh suite
#                                      or:  bash bench/gpu/run.sh autotune flash 64
set -uo pipefail
cd "$(dirname "$0")/../.."
. .gpu-kit/enter.sh
export PYTHONUNBUFFERED=1
out=${OUT:-out}
mkdir -p "$out"
# shader-f16 on NVIDIA's Vulkan driver is behind a Dawn toggle (off in Chrome today), and
# chromium-experimental-subgroup-matrix (flash-mma) behind allow_unsafe_apis.
DAWN=enable-dawn-features=allow_unsafe_apis,vulkan_enable_f16_on_nvidia
bench="node .build/bench.mjs --dawn $DAWN"

case "${1:-suite}" in
  suite)
    python3 bench/gpu/torch_sdpa.py --heads 16 --dim 64 --seq 512 1024 2048 4096 8192 16384 --iters 20 > "$out/torch-sdpa.jsonl"
    python3 bench/gpu/torch_sdpa.py --heads 16 --dim 128 --seq 512 1024 2048 4096 8192 16384 --iters 20 | grep -v '"device"' >> "$out/torch-sdpa.jsonl"
    $bench --suite gpu --samples 10 --compare "$out/torch-sdpa.jsonl" --json "$out/suite.json" --csv "$out/suite.csv" 2>&1 | tee "$out/suite.txt"
    ;;
  autotune)
    # The autotuner against an exhaustive sweep of the same search space, on one suite shape
    # (H=16, N=4096): kernel and head dim from the arguments.
    kernel=${2:-flash}
    dim=${3:-64}
    $bench --kernels "$kernel" --heads 16 --dim "$dim" --seq 4096 --autotune --samples 10 --json "$out/autotune-$kernel-$dim.json" 2>&1 | tail -2
    $bench --kernels "$kernel" --heads 16 --dim "$dim" --seq 4096 --autotune --exhaustive --samples 10 --warmup-ms 100 --quiet --json "$out/exhaustive-$kernel-$dim.json" 2>&1 | tail -2
    ;;
  *) echo "usage: bench/gpu/run.sh suite | autotune KERNEL DIM" >&2; exit 2 ;;
esac

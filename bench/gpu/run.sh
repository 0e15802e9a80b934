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
  parity)
    # The family core (issue 9) must not move the dense kernels' speed: the runner built from the
    # commit before it (.build-before/bench.mjs, built there with bench/build.mjs) and this one, on
    # the flash kernels of the GPU suite, in one command; the second compares itself with the first.
    before=${2:-.build-before/bench.mjs}
    node "$before" --dawn $DAWN --suite gpu --kernels flash,flash-f16,flash-mma --samples 10 --json "$out/parity-before.json" 2>&1 | tail -3
    $bench --suite gpu --kernels flash,flash-f16,flash-mma --samples 10 --compare "$out/parity-before.json" --json "$out/parity-after.json" 2>&1 | tee "$out/parity.txt" | tail -60
    ;;
  conformance)
    # Every kernel's correctness matrix on this GPU (the f16 and subgroup-matrix kernels included).
    $bench --conformance 2>&1 | tee "$out/conformance.txt"
    ;;
  timing)
    # Issue 14's timing-integrity case: the first case after its pipelines compiled.
    $bench --kernels flash,flash-f16,flash-mma --heads 16 --dim 64,128 --seq 1024,4096,16384 --causal both --json "$out/timing.json" 2>&1 | tee "$out/timing.txt" | tail -40
    ;;
  decode)
    # Decode over a KV cache against PyTorch SDPA in the same command (B=1 and 8, H=32/8, d=128).
    python3 bench/gpu/torch_decode.py --seq 8192 32768 131072 --batch 1 8 --seq-q 1 16 > "$out/torch-decode.jsonl"
    grep torch-copy "$out/torch-decode.jsonl"
    $bench --family decode --heads 32 --kv-heads 8 --dim 128 --seq 8192,32768,131072 --seq-q 1,16 --kv-type f16,f32 --layout contiguous,paged --block 16 \
      --compare "$out/torch-decode.jsonl" --json "$out/decode.json" 2>&1 | tee "$out/decode.txt" | tail -40
    $bench --family decode --batch 8 --lengths equal,mixed --heads 32 --kv-heads 8 --dim 128 --seq 8192,32768,131072 --kv-type f16 --layout contiguous,paged \
      --compare "$out/torch-decode.jsonl" --json "$out/decode-b8.json" 2>&1 | tail -16
    # The prefill kernels on the same decode shape (what decode cost before the family existed).
    $bench --kernels flash,flash-mma --heads 32 --kv-heads 8 --dim 128 --seq-q 1 --seq 8192,131072 --causal yes --json "$out/decode-prefill-kernels.json" 2>&1 | tail -8
    ;;
  *) echo "usage: bench/gpu/run.sh suite | autotune KERNEL DIM | parity [BEFORE.mjs] | conformance | timing | decode" >&2; exit 2 ;;
esac

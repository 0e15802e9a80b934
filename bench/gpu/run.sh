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
# Inputs of the long shapes are gigabytes of typed arrays plus their references: lift Node's heap cap.
export NODE_OPTIONS=--max-old-space-size=65536
out=${OUT:-out}
mkdir -p "$out"
# shader-f16 on NVIDIA's Vulkan driver is behind a Dawn toggle (off in Chrome today), and
# chromium-experimental-subgroup-matrix (flash-mma) behind allow_unsafe_apis.
DAWN=enable-dawn-features=allow_unsafe_apis,vulkan_enable_f16_on_nvidia
bench="node .build/bench.mjs --dawn $DAWN"

# Some machine loans ran the decode kernel 3-4x slow for their whole length while PyTorch and the
# copy ceiling read normal (README, timing). Fifteen seconds tell such a loan apart before a long run
# is spent on it: decode f16 at Nk=131072 with the defaults took 0.243 ms on normal loans
# (bench/results/h200-decode-prefetch-f16.json) and 0.80-0.97 ms on the slow one. Rounds stay on: the
# first case of a process on a normal loan has read 1.37 ms in its first round.
check_loan() {
  $bench --kernels decode-split --heads 32 --kv-heads 8 --dim 128 --seq 131072 --kv-type f16 --no-check --samples 5 --quiet \
    --json "$out/loan-check.json" > /dev/null 2>&1
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results[0];
    const ms = r && r.medianMs;
    if (!ms) console.log("loan check: no timing (" + (r ? r.status : "no record") + ")");
    else if (ms > 0.35) console.log("loan check: decode took " + ms.toFixed(3) + " ms (0.243 on a normal loan): THIS LOAN IS SLOW for bandwidth-bound kernels; compare only within it, or ask for another");
    else console.log("loan check: decode " + ms.toFixed(3) + " ms, normal");
  ' "$out/loan-check.json"
}

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
    # The earlier build warms up for a fixed 150 ms only: a few seconds of work first, so that its
    # first case is not timed at idle clocks.
    before=${2:-.build-before/bench.mjs}
    kernels=${KERNELS:-flash,flash-f16,flash-mma}
    $bench --kernels "$kernels" --heads 16 --dim 64,128 --seq 4096 --quiet > /dev/null 2>&1
    node "$before" --dawn $DAWN --suite gpu --kernels "$kernels" --samples 10 --json "$out/parity-before.json" 2>&1 | tail -3
    $bench --suite gpu --kernels "$kernels" --samples 10 --compare "$out/parity-before.json" --json "$out/parity-after.json" 2>&1 | tee "$out/parity.txt" | tail -60
    ;;
  conformance)
    # Every kernel's correctness matrix on this GPU (the f16 and subgroup-matrix kernels included),
    # or only those in KERNELS (comma-separated).
    $bench --conformance ${KERNELS:+--kernels "$KERNELS"} 2>&1 | tee "$out/conformance.txt" | tail -30
    ;;
  timing)
    # Issue 14's timing-integrity case: the first case after its pipelines compiled.
    $bench --kernels flash,flash-f16,flash-mma --heads 16 --dim 64,128 --seq 1024,4096,16384 --causal both --json "$out/timing.json" 2>&1 | tee "$out/timing.txt" | tail -40
    ;;
  decode)
    # Decode over a KV cache against PyTorch SDPA in the same command (B=1 and 8, H=32/8, d=128).
    check_loan
    python3 bench/gpu/torch_decode.py --seq 8192 32768 131072 --batch 1 8 --seq-q 1 16 --backend FLASH_ATTENTION EFFICIENT_ATTENTION CUDNN_ATTENTION > "$out/torch-decode.jsonl"
    grep torch-copy "$out/torch-decode.jsonl"
    $bench --family decode --heads 32 --kv-heads 8 --dim 128 --seq 8192,32768,131072 --seq-q 1,16 --kv-type f16 --layout contiguous,paged --block 16 \
      --compare "$out/torch-decode.jsonl" --json "$out/decode.json" 2>&1 | tee "$out/decode.txt" | tail -24
    $bench --family decode --heads 32 --kv-heads 8 --dim 128 --seq 8192,32768,131072 --kv-type f32 \
      --compare "$out/torch-decode.jsonl" --json "$out/decode-f32.json" 2>&1 | tail -8
    # B=8 unchecked: its references over eight long sequences cost minutes of CPU, and conformance
    # covers mixed lengths.
    $bench --family decode --batch 8 --lengths equal,mixed --heads 32 --kv-heads 8 --dim 128 --seq 8192,32768 --kv-type f16 --no-check \
      --compare "$out/torch-decode.jsonl" --json "$out/decode-b8.json" 2>&1 | tail -10
    # MLA absorbed decode (DeepSeek-V2/V3): 16 and 128 heads over one shared 576-wide latent cache row per token.
    $bench --family mla --heads 16,128 --seq 8192,32768,131072 --kv-type f16 --json "$out/mla.json" 2>&1 | tail -10
    # The headline case again in a process of its own: some machine loans ran this kernel 3-4x slow
    # for their whole length while PyTorch and the copy ceiling were normal (README, timing); two
    # processes that agree are worth more than one.
    $bench --family decode --heads 32 --kv-heads 8 --dim 128 --seq 131072 --kv-type f16 --layout contiguous,paged \
      --compare "$out/torch-decode.jsonl" --json "$out/decode-again.json" 2>&1 | tail -4
    ;;
  decode-sweep)
    # What the next decode changes are measured against: tiles around the defaults at Nk=131072 f16
    # (rows per workgroup, chunk, prefetch, query in registers with workgroups of 512).
    check_loan
    python3 bench/gpu/torch_decode.py --seq 131072 --batch 1 --seq-q 1 --dtype float16 --backend FLASH_ATTENTION CUDNN_ATTENTION > "$out/torch-decode.jsonl"
    $bench --kernels decode-split --heads 32 --kv-heads 8 --dim 128 --seq 131072 --kv-type f16 --quiet \
      --tiles "decode-split:rows=1/2/4,chunk=1024/2048/4096,prefetch=0/1" --compare "$out/torch-decode.jsonl" --json "$out/decode-sweep.json" 2>&1 | tail -20
    $bench --kernels decode-split --heads 32 --kv-heads 8 --dim 128 --seq 131072 --kv-type f16 --quiet \
      --tiles "decode-split:lanes=8,wg=256/512,qregs=0/1,chunk=2048/4096" --json "$out/decode-sweep-qregs.json" 2>&1 | tail -10
    # MLA at 16 heads is far from its roof (5.1 ms at Nk=131072): its tiles, before any rewrite.
    $bench --kernels mla-split --heads 16 --seq 131072 --kv-type f16 --quiet --no-check \
      --tiles "mla-split:tile=8/16/32,rows=4/8/16,wg=128/256" --json "$out/mla-sweep.json" 2>&1 | tail -20
    # MLA on decode-split (mla-rows, untimed when it was written): its row tiles and workgroups.
    $bench --kernels mla-rows --heads 16,128 --seq 131072 --kv-type f16 --quiet --no-check \
      --tiles "mla-rows:rows=2/4/8,wg=256/512,lanes=8,prefetch=0/1" --json "$out/mla-rows-sweep.json" 2>&1 | tail -26
    ;;
  window)
    # Sliding window + sinks (f32, f16, subgroup matrices) from N = 16384 to 131072 (the slope), and
    # causal dense flash of each precision at both ends (the speedup) (H=16, d=128).
    # FlexAttention beside it (compiles for a minute or more): WINDOW_ANCHOR=1.
    cmp=()
    if [[ ${WINDOW_ANCHOR:-0} == 1 ]]; then
      python3 bench/gpu/torch_window.py --seq 16384 32768 65536 131072 > "$out/torch-window.jsonl" 2>"$out/torch-window.err"
      cmp=(--compare "$out/torch-window.jsonl")
    fi
    $bench --kernels window-flash,window-flash-f16,window-flash-mma --heads 16 --dim 128 --seq 16384,32768,65536,131072 --window 4096 --sinks 4 \
      "${cmp[@]}" --json "$out/window.json" 2>&1 | tail -16
    $bench --kernels flash,flash-f16,flash-mma --heads 16 --dim 128 --seq 16384,131072 --causal yes --samples 5 \
      "${cmp[@]}" --json "$out/window-dense.json" 2>&1 | tail -10
    ;;
  topk)
    # DeepSeek sparse attention, the whole pipeline with each stage timed alone inside it, against
    # causal dense flash-mma. DSA runs on MLA: one shared KV head (MQA), so kvHeads = 1 — one gather
    # of each selected K/V row serves all 16 query heads.
    $bench --kernels topk-pipeline --heads 16 --kv-heads 1 --dim 128 --topk 2048 --seq 4096,16384,32768,65536 --json "$out/topk.json" 2>&1 | tail -12
    $bench --kernels flash-mma --heads 16 --dim 128 --seq 4096,16384,32768,65536 --causal yes --json "$out/topk-dense.json" 2>&1 | tail -6
    # Selection throughput: the last 512 queries of N = 131072 (512 × 131072 scores, 256 MiB).
    $bench --kernels topk-select --topk 2048 --seq 131072 --query-rows 512 --json "$out/topk-select.json" 2>&1 | tail -4
    ;;
  linear)
    # Chunked linear attention against flash-linear-attention (Triton, bf16) and causal dense flash.
    check_loan
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
    # fla's Triton kernels autotune per length (tens of seconds each); SDPA's causal flash at 131072
    # alone is 13 s of iterations, so the anchor stops at 65536.
    python3 bench/gpu/fla_linear.py --seq 4096,16384,65536 --warmup 5 --iters 20 > "$out/fla.jsonl" 2>"$out/fla.err"
    # The float64 reference of a 65536-token recurrence costs minutes of CPU: the long lengths run
    # unchecked (conformance covers the kernels; the short lengths below are checked).
    $bench --kernels linear-chunked --heads 16 --dim-k 128 --dim-v 128 --seq 4096,16384 --rule delta,gla \
      --compare "$out/fla.jsonl" --json "$out/linear.json" 2>&1 | tail -8
    $bench --kernels linear-chunked --heads 16 --dim-k 128 --dim-v 128 --seq 65536,131072 --rule delta,gla --no-check \
      --compare "$out/fla.jsonl" --json "$out/linear-long.json" 2>&1 | tail -8
    # f16 storage, on FMAs and on subgroup matrices (each pass timed alone too).
    $bench --kernels linear-chunked-f16,linear-chunked-mma --storage f16 --heads 16 --dim-k 128 --dim-v 128 --seq 16384,65536 --rule delta,gla --no-check \
      --compare "$out/fla.jsonl" --json "$out/linear-f16.json" 2>&1 | tail -12
    # The readable definition, one token at a time, at one length.
    $bench --kernels linear-recurrent --heads 16 --dim-k 128 --dim-v 128 --seq 4096 --rule delta --json "$out/linear-recurrent.json" 2>&1 | tail -3
    $bench --kernels flash,flash-mma --heads 16 --dim 128 --seq 4096,16384,65536 --causal yes --samples 5 --compare "$out/fla.jsonl" --json "$out/linear-dense.json" 2>&1 | tail -8
    # The decode step: one token for 64 sequences of 32 heads, the state read and written once.
    $bench --kernels linear-recurrent --batch 64 --heads 32 --dim-k 128 --dim-v 128 --seq 1 --rule gla,delta --json "$out/linear-step.json" 2>&1 | tail -4
    ;;
  roofline)
    # The device's ceilings and the dense kernels placed under them (the page's roofline and the README's screenshot).
    $bench --suite gpu --seq 1024,4096,16384 --causal no --json "$out/roofline.json" 2>&1 | tail -30
    ;;
  loan-check)
    check_loan
    ;;
  kvcache)
    # Compaction of a 131072-token cache after evicting half the tokens at random, by window, and by
    # key norm (scored and selected on the GPU).
    $bench --family kvcache --seq 131072 --kv-heads 8 --dim 128 --dtype f16 --block 16 --policy random,window,score --evict 50 --window 4096 --json "$out/kvcache.json" 2>&1 | tail -8
    ;;
  *) echo "usage: bench/gpu/run.sh suite | autotune KERNEL DIM | parity [BEFORE.mjs] | conformance | timing | loan-check | decode | decode-sweep | window | topk | linear | kvcache | roofline" >&2; exit 2 ;;
esac

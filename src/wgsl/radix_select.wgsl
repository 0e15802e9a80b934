// Radix select of the k-th largest f32 score of one row by one workgroup: the part that the top-k
// selection (attention/topk/select/select.wgsl) and the KV-cache score policy's keep mask
// (attention/kvcache/compact/select_keep.wgsl) share. Each then walks the row once more in index
// order with the threshold found here, writing sorted index lists or a mask.
//
// Scores are mapped to u32 keys whose unsigned order is float order (−0 folded onto +0). Three
// passes of 11, 11 and 10 bits each histogram the row's keys that match the digits chosen so far
// (2048 bins of workgroup atomics, 8 KiB), then a parallel scan of the bins from the top finds the
// digit where the count of larger keys reaches k. When that digit's bin is taken whole (the k-th
// key is the last of its bin) the remaining passes are skipped: with distinct scores the bins after
// 22 bits hold a key or two, so the third pass (a read of the row) is often saved.
//
// The composing shader declares:
//   const WG: u32 = 256u;  invocations per workgroup (each owns BINS_PER_INVOCATION bins)
//   scores: array<f32>     the storage buffer the rows are read from
//   fn workgroup_inclusive_scan(lid: u32, value: u32) -> u32, the inclusive prefix sum of value over
//                          the workgroup, called by every invocation

const ITEMS: u32 = 4u;
const BINS: u32 = 2048u;
const BINS_PER_INVOCATION: u32 = 8u;
const_assert WG * BINS_PER_INVOCATION == BINS;

var<workgroup> hist: array<atomic<u32>, BINS>;
// The digit found by a pass and how many keys equal to the prefix are still to take.
var<workgroup> found_digit: u32;
var<workgroup> found_remaining: u32;
// 1 when the digit's bin is taken whole (remaining = its count): lower digits need not be resolved.
var<workgroup> found_whole: u32;

// Unsigned order of the result = numeric order of x (−0 and +0 equal). kvcache/policy.ts scoreKeys
// is the same map on the CPU.
fn order_key(x: f32) -> u32 {
  var bits = bitcast<u32>(x);
  if (bits == 0x80000000u) {
    bits = 0u;
  }
  return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u);
}

// The k-th largest key T of the row, resolved on the bits of `mask` (all 32 unless a bin was taken
// whole): the row holds fewer than k keys > T there and at least k keys ≥ T, and the first
// `need_eq` keys equal to T (in whichever order the caller walks) complete the k.
struct RadixThreshold {
  key: u32,
  mask: u32,
  need_eq: u32,
}

// Keys scores[row .. row + n − 1], 0 < k < n; every invocation calls it (it has barriers).
fn radix_threshold(lid: u32, row: u32, n: u32, k: u32) -> RadixThreshold {
  var prefix = 0u;
  var prefix_mask = 0u;
  var remaining = k;
  for (var round = 0u; round < 3u; round++) {
    let shift = select(21u - 11u * round, 0u, round == 2u);
    let digit_mask = select(0x7ffu, 0x3ffu, round == 2u);
    for (var t = lid; t < BINS; t += WG) {
      atomicStore(&hist[t], 0u);
    }
    workgroupBarrier();
    // ITEMS independent loads per invocation before any atomic: four reads in flight instead of
    // one load → atomic → load chain (a workgroup per row is latency-bound when rows are few).
    for (var j0 = lid; j0 < n; j0 += WG * ITEMS) {
      var keys: array<u32, ITEMS>;
      for (var e = 0u; e < ITEMS; e++) {
        let j = j0 + e * WG;
        keys[e] = order_key(scores[row + min(j, n - 1u)]);
      }
      for (var e = 0u; e < ITEMS; e++) {
        if (j0 + e * WG < n && (keys[e] & prefix_mask) == prefix) {
          atomicAdd(&hist[(keys[e] >> shift) & digit_mask], 1u);
        }
      }
    }
    workgroupBarrier();
    // Invocation lid owns bins BINS−1−8·lid down to BINS−8−8·lid: scanning in that order counts
    // keys from the largest down.
    var counts: array<u32, BINS_PER_INVOCATION>;
    var own = 0u;
    for (var e = 0u; e < BINS_PER_INVOCATION; e++) {
      counts[e] = atomicLoad(&hist[BINS - 1u - lid * BINS_PER_INVOCATION - e]);
      own += counts[e];
    }
    let inclusive = workgroup_inclusive_scan(lid, own);
    var above = inclusive - own;
    if (above < remaining && inclusive >= remaining) {
      for (var e = 0u; e < BINS_PER_INVOCATION; e++) {
        if (above + counts[e] >= remaining) {
          found_digit = BINS - 1u - lid * BINS_PER_INVOCATION - e;
          found_remaining = remaining - above;
          found_whole = select(0u, 1u, remaining - above == counts[e]);
          break;
        }
        above += counts[e];
      }
    }
    workgroupBarrier();
    prefix |= found_digit << shift;
    prefix_mask |= digit_mask << shift;
    remaining = found_remaining;
    // Every key under this prefix is selected: the threshold is the prefix itself and the next
    // rounds (a read of the row each) are skipped. Also the barrier before the next round's reset.
    if (workgroupUniformLoad(&found_whole) != 0u) {
      break;
    }
  }
  return RadixThreshold(prefix, prefix_mask, remaining);
}

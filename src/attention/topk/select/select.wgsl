// Top-k selection: for query i = query_start + r, the top_k largest of scores[b, r, 0..i], ties to
// the lower key index, written as key indices sorted ascending (−1 in unused slots when i < top_k).
//
// One workgroup per query row. A radix select over the f32 score bits (mapped to u32 so that
// unsigned order is float order, −0 folded onto +0) finds the k-th largest key T in three passes of
// 11, 11 and 10 bits: each pass histograms the row's keys that match the digits chosen so far
// (2048 bins of workgroup atomics, 8 KiB), then a parallel scan of the bins from the top finds the
// digit where the count of larger keys reaches k. When that digit's bin is taken whole (the k-th
// key is the last of its bin) the remaining passes are skipped: with distinct scores the bins after
// 22 bits hold a key or two, so the third pass (a read of the row) is often saved. Then one compaction pass walks the row in key
// order, ITEMS consecutive keys per invocation, and keeps every key > T and the first `need_eq`
// keys == T; a workgroup scan of (greater, equal) counts gives each invocation its output slot, so
// the output is sorted by construction and the tie rule holds. The row is read 4 times (once per
// pass), from L2 when the scores of a query block fit there; nothing of size N is kept on chip.
// Workgroups are (row, batch) flattened over a 2-D grid: more than 65535 rows fit.

const WG: u32 = 256u;
const ITEMS: u32 = 4u;
const BINS: u32 = 2048u;
const BINS_PER_INVOCATION: u32 = 8u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> scores: array<f32>;
@group(0) @binding(2) var<storage, read_write> indices: array<i32>;

var<workgroup> hist: array<atomic<u32>, BINS>;
var<workgroup> scan: array<u32, WG>;
// The digit found by a pass and how many keys equal to the prefix are still to take.
var<workgroup> found_digit: u32;
var<workgroup> found_remaining: u32;
// 1 when the digit's bin is taken whole (remaining = its count): lower digits need not be resolved.
var<workgroup> found_whole: u32;

// Unsigned order of the result = numeric order of x (−0 and +0 equal).
fn order_key(x: f32) -> u32 {
  var bits = bitcast<u32>(x);
  if (bits == 0x80000000u) {
    bits = 0u;
  }
  return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u);
}

// Inclusive prefix sum of `value` over the workgroup (Hillis–Steele); every invocation must call it.
fn workgroup_inclusive_scan(lid: u32, value: u32) -> u32 {
  scan[lid] = value;
  workgroupBarrier();
  var sum = value;
  for (var offset = 1u; offset < WG; offset <<= 1u) {
    if (lid >= offset) {
      sum += scan[lid - offset];
    }
    workgroupBarrier();
    scan[lid] = sum;
    workgroupBarrier();
  }
  return sum;
}

// Grid: (query row, batch) flattened, x fastest then y: a 2-D grid holds more rows than
// maxComputeWorkgroupsPerDimension (65535), e.g. every query at N = 65536.
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let linear = wid.x + wid.y * groups.x;
  if (linear >= p.rows * p.batch) {
    return;
  }
  let r = linear % p.rows;
  let b = linear / p.rows;
  let i = p.query_start + r;
  let n = i + 1u;
  let row = (b * p.rows + r) * p.seq;
  let out = (b * p.out_rows + p.out_row_start + r) * p.top_k;

  if (n <= p.top_k) {
    for (var s = lid; s < p.top_k; s += WG) {
      indices[out + s] = select(-1, i32(s), s < n);
    }
    return;
  }

  var prefix = 0u;
  var prefix_mask = 0u;
  var remaining = p.top_k;
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
  // prefix is now the k-th largest key T on the resolved bits (prefix_mask; all 32 unless a bin was
  // taken whole); `remaining` keys equal to T there are taken, lowest index first.
  let threshold = prefix;
  let need_eq = remaining;
  var greater_before = 0u;
  var equal_before = 0u;
  for (var c0 = 0u; c0 < n; c0 += WG * ITEMS) {
    let first = c0 + lid * ITEMS;
    var keys: array<u32, ITEMS>;
    var greater = 0u;
    var equal = 0u;
    for (var e = 0u; e < ITEMS; e++) {
      let j = first + e;
      // Keys past the candidates sort below everything (0 is below every order_key of a finite value).
      keys[e] = select(0u, order_key(scores[row + min(j, n - 1u)]) & prefix_mask, j < n);
      greater += select(0u, 1u, keys[e] > threshold);
      equal += select(0u, 1u, keys[e] == threshold && j < n);
    }
    // Greater counts in the low half, equal counts in the high half: at most WG·ITEMS each.
    let packed = workgroup_inclusive_scan(lid, greater | (equal << 16u)) - (greater | (equal << 16u));
    var g = greater_before + (packed & 0xffffu);
    var q = equal_before + (packed >> 16u);
    for (var e = 0u; e < ITEMS; e++) {
      let j = first + e;
      if (keys[e] > threshold) {
        indices[out + g + min(q, need_eq)] = i32(j);
        g++;
      } else if (keys[e] == threshold && j < n) {
        if (q < need_eq) {
          indices[out + g + q] = i32(j);
        }
        q++;
      }
    }
    let total = scan[WG - 1u];
    greater_before += total & 0xffffu;
    equal_before += total >> 16u;
    workgroupBarrier();
  }
}

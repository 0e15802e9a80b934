// Score policy, pass B: the keep mask. Sequence b keeps its kept = len − round(len·evict/100)
// highest-scoring tokens (policy.ts keepMask), ties to the earlier token, so the mask is a function
// of the scores alone. One workgroup per sequence: a radix select over the score bits (mapped to
// u32 so unsigned order is float order) finds the kept-th largest key T in up to three histogram
// passes of 11, 11 and 10 bits (2048 workgroup-atomic bins); a pass whose bin is taken whole ends
// the search early. Then one pass in token order keeps every key > T and the first need_eq keys
// == T, a workgroup scan of packed (greater, equal) counts giving each token its rank among the
// equal keys. The algorithm of topk/select/select.wgsl, which writes sorted index lists for a
// fixed k per query row rather than a mask with a per-sequence k, so it is not imported as is.
const ITEMS: u32 = 4u;
const BINS: u32 = 2048u;
const BINS_PER_INVOCATION: u32 = 8u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> context_lens: array<u32>;
@group(0) @binding(2) var<storage, read> scores: array<f32>;
@group(0) @binding(3) var<storage, read_write> keep: array<u32>;

var<workgroup> hist: array<atomic<u32>, BINS>;
var<workgroup> found_digit: u32;
var<workgroup> found_remaining: u32;
var<workgroup> found_whole: u32;

// Unsigned order of the result = numeric order of x (−0 folded onto +0). policy.ts scoreKey is the same map.
fn order_key(x: f32) -> u32 {
  var bits = bitcast<u32>(x);
  if (bits == 0x80000000u) {
    bits = 0u;
  }
  return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u);
}

@compute @workgroup_size(SCAN_WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.x + wid.y * groups.x;
  if (b >= p.batch) {
    return;
  }
  let len = context_lens[b];
  let row = b * p.max_len;
  // Math.round(len·evict/100) in integers (len·evict ≤ 2²²·100 fits a u32; halves round up, as in JS).
  let kept = len - (len * p.evict + 50u) / 100u;
  for (var t = len + lid; t < p.max_len; t += SCAN_WG) {
    keep[row + t] = 0u;
  }
  if (kept == len || kept == 0u) {
    for (var t = lid; t < len; t += SCAN_WG) {
      keep[row + t] = select(0u, 1u, kept == len);
    }
    return;
  }

  var prefix = 0u;
  var prefix_mask = 0u;
  var remaining = kept;
  for (var round = 0u; round < 3u; round++) {
    let shift = select(21u - 11u * round, 0u, round == 2u);
    let digit_mask = select(0x7ffu, 0x3ffu, round == 2u);
    for (var i = lid; i < BINS; i += SCAN_WG) {
      atomicStore(&hist[i], 0u);
    }
    workgroupBarrier();
    for (var t0 = lid; t0 < len; t0 += SCAN_WG * ITEMS) {
      var keys: array<u32, ITEMS>;
      for (var e = 0u; e < ITEMS; e++) {
        keys[e] = order_key(scores[row + min(t0 + e * SCAN_WG, len - 1u)]);
      }
      for (var e = 0u; e < ITEMS; e++) {
        if (t0 + e * SCAN_WG < len && (keys[e] & prefix_mask) == prefix) {
          atomicAdd(&hist[(keys[e] >> shift) & digit_mask], 1u);
        }
      }
    }
    workgroupBarrier();
    // Invocation lid owns bins BINS−1−8·lid down to BINS−8−8·lid: the scan counts from the largest key down.
    var counts: array<u32, BINS_PER_INVOCATION>;
    var own = 0u;
    for (var e = 0u; e < BINS_PER_INVOCATION; e++) {
      counts[e] = atomicLoad(&hist[BINS - 1u - lid * BINS_PER_INVOCATION - e]);
      own += counts[e];
    }
    var above = scan_exclusive(lid, own).x;
    if (above < remaining && above + own >= remaining) {
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
    if (workgroupUniformLoad(&found_whole) != 0u) {
      break;
    }
  }
  // T = prefix on the resolved bits; `remaining` keys equal to T there are kept, earliest first.
  let threshold = prefix;
  let need_eq = remaining;
  var equal_before = 0u;
  for (var c0 = 0u; c0 < len; c0 += SCAN_WG * ITEMS) {
    let first = c0 + lid * ITEMS;
    var keys: array<u32, ITEMS>;
    var equal = 0u;
    for (var e = 0u; e < ITEMS; e++) {
      let t = first + e;
      keys[e] = order_key(scores[row + min(t, len - 1u)]) & prefix_mask;
      equal += select(0u, 1u, keys[e] == threshold && t < len);
    }
    let sums = scan_exclusive(lid, equal);
    var q = equal_before + sums.x;
    for (var e = 0u; e < ITEMS; e++) {
      let t = first + e;
      if (t < len) {
        var flag = 0u;
        if (keys[e] > threshold) {
          flag = 1u;
        } else if (keys[e] == threshold) {
          flag = select(0u, 1u, q < need_eq);
          q++;
        }
        keep[row + t] = flag;
      }
    }
    equal_before += sums.y;
  }
}

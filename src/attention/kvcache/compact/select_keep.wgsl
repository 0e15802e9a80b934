// Score policy, pass B: the keep mask. Sequence b keeps its kept = len − round(len·evict/100)
// highest-scoring tokens (policy.ts keepMask), ties to the earlier token, so the mask is a function
// of the scores alone. One workgroup per sequence: the radix select of wgsl/radix_select.wgsl (the
// top-k selection's) finds the kept-th largest key T over the score bits. Then one pass in token
// order keeps every key > T and the first need_eq keys == T, a workgroup scan of the equal counts
// giving each token its rank among the equal keys.

// radix_select.wgsl's workgroup size and scan, on scan.wgsl's.
const WG: u32 = SCAN_WG;

fn workgroup_inclusive_scan(lid: u32, value: u32) -> u32 {
  return scan_exclusive(lid, value).x + value;
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> context_lens: array<u32>;
@group(0) @binding(2) var<storage, read> scores: array<f32>;
@group(0) @binding(3) var<storage, read_write> keep: array<u32>;

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

  // T on the resolved bits (prefix_mask); `need_eq` keys equal to T there are kept, earliest first.
  let found = radix_threshold(lid, row, len, kept);
  let threshold = found.key;
  let prefix_mask = found.mask;
  let need_eq = found.need_eq;
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

// Top-k selection: for query i = query_start + r, the top_k largest of scores[b, r, 0..i], ties to
// the lower key index, written as key indices sorted ascending (−1 in unused slots when i < top_k).
//
// One workgroup per query row. A radix select over the f32 score bits (wgsl/radix_select.wgsl,
// shared with the KV-cache score policy) finds the k-th largest key T in up to three histogram
// passes of 11, 11 and 10 bits. Then one compaction pass walks the row in key
// order, ITEMS consecutive keys per invocation, and keeps every key > T and the first `need_eq`
// keys == T; a workgroup scan of (greater, equal) counts gives each invocation its output slot, so
// the output is sorted by construction and the tie rule holds. The row is read 4 times (once per
// pass), from L2 when the scores of a query block fit there; nothing of size N is kept on chip.
// Workgroups are (row, batch) flattened over a 2-D grid: more than 65535 rows fit.

const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> scores: array<f32>;
@group(0) @binding(2) var<storage, read_write> indices: array<i32>;

var<workgroup> scan: array<u32, WG>;

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

  let found = radix_threshold(lid, row, n, p.top_k);
  // T on the resolved bits (prefix_mask); `need_eq` keys equal to T there are taken, lowest index first.
  let threshold = found.key;
  let prefix_mask = found.mask;
  let need_eq = found.need_eq;
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

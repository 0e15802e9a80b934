// Attention over selected keys: o(h, i) = softmax(scale · q(h, i) · K[sel(i)]ᵀ) · V[sel(i)].
//
// One workgroup per (query, HPW query heads of one key/value head, batch). The selection is shared
// by every head of a query (DSA on MLA is MQA: one KV head for all 16 query heads), so each
// gathered K and V row is read from memory once and used by HPW heads out of workgroup memory.
// Keys go in chunks of TK, software-pipelined through registers so that global loads overlap
// arithmetic:
//   1. store the chunk's K rows (loaded during the previous chunk's P·V) to workgroup memory and
//      issue the chunk's V loads into registers;
//   2. scores: invocation lid owns head lid % HPW and SPT keys, q row read once per vec4 for SPT
//      FMAs; each writes the max of its scores;
//   3. every invocation of a head reduces that head's PARTS partial maxima (the running max lives
//      in registers, identical in all of them), writes exp2(x − max) for its keys; V rows go into
//      the buffer K used; the next chunk's K loads are issued;
//   4. O += P·V: invocation owns OPT (head, column vec4) slots, all in one column when D4 divides
//      WG, so each V vec4 read from workgroup memory feeds OPT heads and each P load four keys;
//      the row sum l is kept beside each accumulator (no serial softmax step, no idle invocations).
// Four barriers per chunk. Row strides in workgroup memory are KS = D4 | 1 vec4 (odd), so the 16
// heads (or keys) a warp reads at one column fall in different banks.

const WG: u32 = 128u;
const D4: u32 = 16u;
const KS: u32 = 17u;
const HPW: u32 = 4u;
const TK: u32 = 16u;
// Scores per invocation: ceil(HPW·TK / WG); gathered vec4 per invocation: ceil(TK·D4 / WG);
// output slots per invocation: ceil(HPW·D4 / WG); partial maxima per head: min(WG / HPW, TK).
const SPT: u32 = 1u;
const GPT: u32 = 1u;
const OPT: u32 = 1u;
const PARTS: u32 = 16u;
const MASKED: f32 = -3.0e38f;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> indices: array<i32>;
@group(0) @binding(5) var<storage, read_write> o: array<vec4<f32>>;

var<workgroup> q_rows: array<vec4<f32>, HPW * KS>;
var<workgroup> kv_rows: array<vec4<f32>, TK * KS>;
// P as [head][key / 4]: P·V reads four keys' probabilities in one load.
var<workgroup> probs: array<vec4<f32>, HPW * TK / 4u>;
var<workgroup> part_max: array<f32, WG>;
var<workgroup> alpha: array<f32, HPW>;
var<workgroup> slot_ok: array<u32, TK>;

// The chunk's selected key of gather element t (slot t / D4), −1 when unused or past top_k.
fn slot_key(index_row: u32, t0: u32, t: u32) -> i32 {
  let slot = t0 + t / D4;
  if (t >= TK * D4 || slot >= p.top_k) {
    return -1;
  }
  return indices[index_row + slot];
}

fn gather_k(kv_base: u32, index_row: u32, t0: u32, lid: u32) -> array<vec4<f32>, GPT> {
  var rows: array<vec4<f32>, GPT>;
  // @unroll
  for (var g = 0u; g < GPT; g++) {
    let t = lid + g * WG;
    let j = slot_key(index_row, t0, t);
    rows[g] = vec4<f32>(0.0f);
    if (j >= 0) {
      rows[g] = k[(kv_base + u32(j)) * D4 + t % D4];
    }
  }
  return rows;
}

fn gather_v(kv_base: u32, index_row: u32, t0: u32, lid: u32) -> array<vec4<f32>, GPT> {
  var rows: array<vec4<f32>, GPT>;
  // @unroll
  for (var g = 0u; g < GPT; g++) {
    let t = lid + g * WG;
    let j = slot_key(index_row, t0, t);
    rows[g] = vec4<f32>(0.0f);
    if (j >= 0) {
      rows[g] = v[(kv_base + u32(j)) * D4 + t % D4];
    }
  }
  return rows;
}

fn store_rows(rows: array<vec4<f32>, GPT>, lid: u32) {
  // @unroll
  for (var g = 0u; g < GPT; g++) {
    let t = lid + g * WG;
    if (t < TK * D4) {
      kv_rows[(t / D4) * KS + t % D4] = rows[g];
    }
  }
}

// Grid: (head group, query, batch) flattened, x fastest then y (x is capped per dimension):
// consecutive workgroups are the head groups of one query, then the next query.
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let head_groups = p.heads / HPW;
  let linear = wid.x + wid.y * groups.x;
  if (linear >= head_groups * p.seq * p.batch) {
    return;
  }
  let h0 = (linear % head_groups) * HPW;
  let i = (linear / head_groups) % p.seq;
  let b = linear / (head_groups * p.seq);
  let kv_base = (b * p.kv_heads + h0 / p.group_size) * p.seq;
  let index_row = (b * p.seq + i) * p.top_k;

  for (var t = lid; t < HPW * D4; t += WG) {
    q_rows[(t / D4) * KS + t % D4] = q[((b * p.heads + h0 + t / D4) * p.seq + i) * D4 + t % D4] * p.scale_log2;
  }

  // Scores role: head lid % HPW, keys (lid + m·WG) / HPW.
  let qk_head = lid % HPW;
  var m_run = -1.0e30f;
  // P·V role: slots u = lid + e·WG, head u / D4, column u % D4.
  var acc: array<vec4<f32>, OPT>;
  var l_run: array<f32, OPT>;
  // @unroll
  for (var e = 0u; e < OPT; e++) {
    acc[e] = vec4<f32>(0.0f);
    l_run[e] = 0.0f;
  }

  var k_next = gather_k(kv_base, index_row, 0u, lid);
  for (var t0 = 0u; t0 < p.top_k; t0 += TK) {
    store_rows(k_next, lid);
    if (lid < TK) {
      slot_ok[lid] = select(0u, 1u, slot_key(index_row, t0, lid * D4) >= 0);
    }
    // In flight during the scores.
    let v_rows = gather_v(kv_base, index_row, t0, lid);
    workgroupBarrier();

    var qk: array<vec4<f32>, SPT>;
    // @unroll
    for (var m = 0u; m < SPT; m++) {
      qk[m] = vec4<f32>(0.0f);
    }
    for (var c = 0u; c < D4; c++) {
      let qv = q_rows[qk_head * KS + c];
      // @unroll
      for (var m = 0u; m < SPT; m++) {
        // Invocations past HPW·TK scores compute a clamped duplicate and discard it.
        let s = min((lid + m * WG) / HPW, TK - 1u);
        qk[m] = fma(qv, kv_rows[s * KS + c], qk[m]);
      }
    }
    var x: array<f32, SPT>;
    var local_max = MASKED;
    // @unroll
    for (var m = 0u; m < SPT; m++) {
      let u = lid + m * WG;
      let ok = u < HPW * TK && slot_ok[min(u / HPW, TK - 1u)] != 0u;
      x[m] = select(MASKED, qk[m].x + qk[m].y + qk[m].z + qk[m].w, ok);
      local_max = max(local_max, x[m]);
    }
    part_max[lid] = local_max;
    workgroupBarrier();

    // Masked slots: exp2(MASKED − new_max) is 0 since new_max ≥ −1e30.
    var new_max = m_run;
    for (var g = 0u; g < PARTS; g++) {
      new_max = max(new_max, part_max[g * HPW + qk_head]);
    }
    // @unroll
    for (var m = 0u; m < SPT; m++) {
      let u = lid + m * WG;
      if (u < HPW * TK) {
        let slot = qk_head * TK + u / HPW;
        probs[slot / 4u][slot % 4u] = exp2(x[m] - new_max);
      }
    }
    if (lid < HPW) {
      alpha[lid] = exp2(m_run - new_max);
    }
    m_run = new_max;
    store_rows(v_rows, lid);
    // In flight during P·V.
    if (t0 + TK < p.top_k) {
      k_next = gather_k(kv_base, index_row, t0 + TK, lid);
    }
    workgroupBarrier();

    // @unroll
    for (var e = 0u; e < OPT; e++) {
      let a = alpha[min((lid + e * WG) / D4, HPW - 1u)];
      acc[e] *= a;
      l_run[e] *= a;
    }
    for (var s4 = 0u; s4 < TK / 4u; s4++) {
      var pv: array<vec4<f32>, OPT>;
      // @unroll
      for (var e = 0u; e < OPT; e++) {
        pv[e] = probs[min((lid + e * WG) / D4, HPW - 1u) * (TK / 4u) + s4];
        l_run[e] += dot(pv[e], vec4<f32>(1.0f));
      }
      // @unroll
      for (var f = 0u; f < 4u; f++) {
        let s = s4 * 4u + f;
        // When D4 divides WG every slot of an invocation has the same column: one V load serves
        // its OPT heads (register reuse; the const condition folds away).
        let v_own = kv_rows[s * KS + lid % D4];
        // @unroll
        for (var e = 0u; e < OPT; e++) {
          var vv = v_own;
          if (WG % D4 != 0u) {
            vv = kv_rows[s * KS + (lid + e * WG) % D4];
          }
          acc[e] = fma(vec4<f32>(pv[e][f]), vv, acc[e]);
        }
      }
    }
    workgroupBarrier();
  }

  // @unroll
  for (var e = 0u; e < OPT; e++) {
    let u = lid + e * WG;
    if (u < HPW * D4) {
      let l = l_run[e];
      let inv = select(0.0f, 1.0f / l, l > 0.0f);
      o[((b * p.heads + h0 + u / D4) * p.seq + i) * D4 + u % D4] = acc[e] * inv;
    }
  }
}

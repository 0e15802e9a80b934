// Compute probe: CHAINS independent vec4 multiply-add chains per invocation, ITERATIONS steps each.
// Independent chains hide the FMA latency (a GPU needs several in flight per lane to issue one per
// cycle); x = x·b + c with b just below 1 converges to c / (1 − b) and never overflows or goes
// subnormal. The result is stored only when it equals an impossible value, so the chains stay live
// without memory traffic. The f16 probe swaps the SCALAR alias and enables f16.
alias SCALAR = f32;

const WORKGROUP_SIZE: u32 = 256u;
const CHAINS: u32 = 8u;
const ITERATIONS: u32 = 256u;

@group(0) @binding(0) var<storage, read_write> sink: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let seed = SCALAR(gid.x & 255u) * SCALAR(0.001);
  let b = vec4<SCALAR>(SCALAR(0.999)) - vec4<SCALAR>(seed * SCALAR(0.001));
  let c = vec4<SCALAR>(SCALAR(0.001));
  var x: array<vec4<SCALAR>, CHAINS>;
  // @unroll
  for (var k = 0u; k < CHAINS; k++) {
    x[k] = vec4<SCALAR>(seed + SCALAR(k) * SCALAR(0.01), seed, seed * SCALAR(0.5), SCALAR(0.25));
  }
  for (var i = 0u; i < ITERATIONS; i++) {
    // @unroll
    for (var k = 0u; k < CHAINS; k++) {
      x[k] = fma(x[k], b, c);
    }
  }
  var total = vec4<SCALAR>(SCALAR(0.0));
  // @unroll
  for (var k = 0u; k < CHAINS; k++) {
    total += x[k];
  }
  let s = f32(total.x + total.y + total.z + total.w);
  if (s == -1234.5) {
    sink[0] = s;
  }
}

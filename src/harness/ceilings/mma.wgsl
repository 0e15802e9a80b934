// Matrix-unit probe (chromium_experimental_subgroup_matrix, tensor cores on NVIDIA): each subgroup
// multiplies an f16 SG_M×SG_K left matrix by an f16 SG_K×SG_N right matrix into ACCUMULATORS
// independent f32 results, ITERATIONS times. Operands come from workgroup memory once; the loop
// touches nothing but the matrix units. Every accumulator is stored, to its own place, so that no
// chain is dead: an earlier version folded them into one with acc[0] = a·b + acc[j], which left
// three of four chains unused, and the compiler dropped them (2325 "TFLOP/s" on an H200, whose f16
// tensor peak is 989).
diagnostic(off, chromium.subgroup_matrix_uniformity);
diagnostic(off, subgroup_uniformity);
enable f16;
enable subgroups;
enable chromium_experimental_subgroup_matrix;

const SG_M: u32 = 16u;
const SG_N: u32 = 16u;
const SG_K: u32 = 16u;
const WORKGROUP_SIZE: u32 = 128u;
const ACCUMULATORS: u32 = 4u;
const ITERATIONS: u32 = 256u;
// Room for the larger operand (rows × columns), shared by the left and the right one.
const OPERAND: u32 = 256u;

@group(0) @binding(0) var<storage, read_write> sink: array<f32>;

var<workgroup> operand: array<f16, OPERAND>;
var<workgroup> result: array<f32, ACCUMULATORS * SG_M * SG_N>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  for (var i = lid; i < OPERAND; i += WORKGROUP_SIZE) {
    operand[i] = f16(i & 7u) * 0.001h + f16(wid.x & 3u) * 0.0001h;
  }
  workgroupBarrier();
  let a = subgroupMatrixLoad<subgroup_matrix_left<f16, SG_K, SG_M>, row_major>(&operand, 0u, SG_K);
  let b = subgroupMatrixLoad<subgroup_matrix_right<f16, SG_N, SG_K>, row_major>(&operand, 0u, SG_N);
  var acc: array<subgroup_matrix_result<f32, SG_N, SG_M>, ACCUMULATORS>;
  // @unroll
  for (var j = 0u; j < ACCUMULATORS; j++) {
    acc[j] = subgroup_matrix_result<f32, SG_N, SG_M>();
  }
  for (var i = 0u; i < ITERATIONS; i++) {
    // @unroll
    for (var j = 0u; j < ACCUMULATORS; j++) {
      acc[j] = subgroupMatrixMultiplyAccumulate(a, b, acc[j]);
    }
  }
  // @unroll
  for (var j = 0u; j < ACCUMULATORS; j++) {
    subgroupMatrixStore<row_major>(&result, j * SG_M * SG_N, acc[j], SG_N);
  }
  workgroupBarrier();
  if (result[lid % (ACCUMULATORS * SG_M * SG_N)] == -1234.5) {
    sink[0] = result[0];
  }
}
